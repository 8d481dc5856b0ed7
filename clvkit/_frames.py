"""Reading columns out of the frame types users hold, without importing any of them eagerly.

pandas, polars and pyarrow are optional (the ``frames`` extra). A frame is recognised by the module its
type comes from, so none of the three is imported unless the caller already passed one of its objects.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import InvalidInputError, MissingDependencyError, Problem

__all__ = ["BACKENDS", "check_backend", "frame_kind", "make_frame", "require", "to_columns"]

_EXTRA_OF = {"pandas": "frames", "polars": "frames", "pyarrow": "frames", "matplotlib": "plot",
             "fastapi": "service", "uvicorn": "service", "starlette": "service", "prometheus_client": "metrics",
             "dask": "dask", "distributed": "dask", "lifetimes": "test"}


def require(module: str) -> Any:
    """Import an optional dependency or raise :class:`MissingDependencyError` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = _EXTRA_OF.get(module.split(".")[0], "frames")
        raise MissingDependencyError(
            f"This needs the optional dependency '{module}'. Install it with: pip install 'clvkit[{extra}]'"
        ) from None


def frame_kind(obj: Any) -> str:
    """``"pandas"``, ``"polars"``, ``"pyarrow"`` or ``"mapping"`` for the supported inputs, else ``""``."""
    root = type(obj).__module__.split(".")[0]
    if root in ("pandas", "polars", "pyarrow"):
        return root
    if isinstance(obj, Mapping):
        return "mapping"
    return ""


def to_columns(frame: Any, names: Sequence[str], *, context: str) -> dict[str, npt.NDArray[Any]]:
    """Extract ``names`` from ``frame`` as numpy arrays, or raise one error listing every missing column.

    Datetime columns come back as ``datetime64`` arrays (time-zone-aware pandas/polars/pyarrow columns
    are converted to UTC and the zone is kept on the error path by :func:`clvkit.summarize`).
    """
    kind = frame_kind(frame)
    if not kind:
        raise InvalidInputError(
            f"{context} needs a pandas or polars DataFrame, a pyarrow Table or a mapping of column name to "
            f"array. Got {type(frame).__name__} instead."
        )
    available: list[str]
    if kind == "pandas":
        available = [str(c) for c in frame.columns]
    elif kind == "polars":
        available = list(frame.columns)
    elif kind == "pyarrow":
        available = list(frame.column_names)
    else:
        available = [str(k) for k in frame.keys()]
    missing = [n for n in names if n not in available]
    if missing:
        raise InvalidInputError(
            [Problem(n, "is not a column of the input", fix=f"Available columns: {available}.") for n in missing],
            context=context,
        )
    out: dict[str, npt.NDArray[Any]] = {}
    for n in names:
        if kind == "pandas":
            out[n] = _from_pandas(frame[n])
        elif kind == "polars":
            out[n] = _from_polars(frame.get_column(n))
        elif kind == "pyarrow":
            # dates as datetime64, not one datetime.date object per row (the slow path of the time reader)
            out[n] = _from_pandas(frame.column(n).to_pandas(date_as_object=False))
        else:
            out[n] = _from_sequence(frame[n])
    return out


def _from_sequence(values: Any) -> npt.NDArray[Any]:
    """A mapping's column as an array; cells of different shapes (a list in one cell) become one object each."""
    try:
        return np.asarray(values)
    except (ValueError, TypeError):  # numpy refuses ragged nesting: keep one object per row for the row checks
        items = list(values)
        arr = np.empty(len(items), dtype=object)
        for i, v in enumerate(items):
            arr[i] = v
        return arr


def _from_pandas(series: Any) -> npt.NDArray[Any]:
    dtype = series.dtype
    tz = getattr(dtype, "tz", None)
    if tz is not None:
        return np.asarray(series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy())
    if str(dtype) in ("string", "str") or str(dtype).startswith("string"):
        return np.asarray(series.to_numpy(dtype=object, na_value=None))
    try:
        if series.hasnans and getattr(dtype, "kind", "O") in "iub":
            return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan))
    except (TypeError, AttributeError):
        pass
    return np.asarray(series.to_numpy())


def _from_polars(series: Any) -> npt.NDArray[Any]:
    dtype = series.dtype
    tz = getattr(dtype, "time_zone", None)
    if tz is not None:
        series = series.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    arr = series.to_numpy()
    return np.asarray(arr)


#: The DataFrame libraries ``to_frame()`` and ``summary()`` can return.
BACKENDS = ("pandas", "polars")


def check_backend(backend: Any, where: str) -> str:
    """``backend`` if it is one of :data:`BACKENDS`, else :class:`InvalidInputError` naming the choices."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise InvalidInputError(f"The 'backend' parameter of {where} must be one of {list(BACKENDS)}. "
                                f"Got {backend!r} instead.")
    return backend


def make_frame(columns: Mapping[str, npt.NDArray[Any]], *, key: npt.NDArray[Any] | None, backend: Any,
               where: str, key_name: str = "customer_id", fallback_key: str = "row") -> Any:
    """A pandas or polars DataFrame of one-dimensional ``columns`` (copied), keyed by ``key``.

    pandas: ``key`` is the index, named ``key_name``; polars (no index): ``key`` is the first column,
    ``key_name``. Without a key the rows are keyed by position, named ``fallback_key``.

    Raises
    ------
    InvalidInputError
        If ``backend`` is not ``"pandas"`` or ``"polars"``.
    MissingDependencyError
        If that library is not installed (the ``frames`` extra).
    """
    kind = check_backend(backend, where)
    n = len(next(iter(columns.values()))) if columns else (0 if key is None else len(key))
    name = key_name if key is not None else fallback_key
    keys = key if key is not None else np.arange(n, dtype=np.int64)
    if kind == "pandas":
        pd = require("pandas")
        return pd.DataFrame({c: np.array(v) for c, v in columns.items()},
                            index=pd.Index(np.array(keys), name=name))
    pl = require("polars")
    data = {name: keys, **columns}
    return pl.DataFrame({c: (v.tolist() if v.dtype == object else np.array(v)) for c, v in data.items()})
