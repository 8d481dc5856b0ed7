"""Reading tiers for ``migrate`` and ``budget``: a tier CSV of ``clvkit tier``, or values with a policy.

Two ways to give the tiers of one period:

- a **tier file** (``clvkit tier --output``): a ``tier`` column (and ``tier_code``, which fixes the order, lowest
  tier 0) with ``customer_id``; ``--tiers`` names every tier from the lowest to the highest when the file has no
  ``tier_code`` or a tier holds nobody;
- a **value file** (``clvkit score`` output, or any CSV with a value per customer) and ``--policy`` (with
  ``--config``): the policy assigns the tiers, as ``clvkit tier`` does.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInputError
from ._console import one_line
from ._output import json_option
from .tier import read_columns_csv

__all__ = ["TEXT_COLUMNS", "TierInput", "add_tier_options", "config_file", "labels_of_files", "read_tiers",
           "tier_labels"]

#: Columns read as text even when every cell looks like a number (ids, and tier names such as 1, 2, 3).
TEXT_COLUMNS = ("customer_id", "tier")
#: Value columns looked for, in order, when ``--value-column`` is not given.
VALUE_COLUMNS = ("value", "clv")


@dataclass(frozen=True)
class TierInput:
    """The tiers of one file, and the customers' values when the file has them."""

    assignment: Any  # TierAssignment (imported lazily, with the tiering package)
    values: npt.NDArray[np.float64] | None
    path: Path


def add_tier_options(parser: argparse.ArgumentParser) -> None:
    """The options that say how to read tiers: ``--policy``/``--config``, ``--value-column``, ``--tiers``,
    ``--unordered``."""
    from ..tiering import POLICIES

    g = parser.add_argument_group("tiers")
    g.add_argument("--policy", choices=sorted(POLICIES),
                   help="assign tiers with this policy from a value column (input: e.g. clvkit score's scores.csv; a "
                        "quantile cut ranks each file on its own, thresholds in --config compare with fixed values); "
                        "without it the input is a tier file of 'clvkit tier --output' (columns tier, tier_code)")
    g.add_argument("--config", metavar="JSON", help="policy configuration: JSON text or a JSON file")
    g.add_argument("--value-column", metavar="COL",
                   help="column with the customers' values (default 'value', else 'clv')")
    g.add_argument("--tiers", metavar="NAMES",
                   help="every tier name from the lowest to the highest, comma-separated (e.g. A5,A4,A3,A2,A1); "
                        "needed when a tier file has no tier_code column or a tier holds nobody")
    g.add_argument("--unordered", action="store_true",
                   help="the tiers are segments without a rank (no 'moved up' or 'moved down')")


def config_file(args: argparse.Namespace) -> list[Path]:
    """The ``--config`` file, if one was named (an input the outputs must not overwrite)."""
    if args.config is None or args.config.lstrip().startswith(("{", "[")):
        return []
    return [Path(args.config)]


def tier_labels(args: argparse.Namespace) -> tuple[str, ...] | None:
    """``--tiers`` as a tuple of names, or ``None``."""
    if args.tiers is None:
        return None
    names = tuple(t.strip() for t in args.tiers.split(","))
    if not all(names) or len(set(names)) != len(names) or len(names) > 127:
        raise InvalidInputError(f"--tiers must name 1 to 127 different, non-empty tiers separated by commas; got "
                                f"{args.tiers!r}.")
    return names


def _value_column(args: argparse.Namespace, columns: dict[str, npt.NDArray[Any]], path: Path,
                  required: bool) -> str | None:
    if args.value_column is not None:
        if args.value_column not in columns:
            raise InvalidInputError(f"{path} has no column {args.value_column!r} (--value-column); columns are "
                                    f"{sorted(columns)}.")
        return str(args.value_column)
    found = next((c for c in VALUE_COLUMNS if c in columns), None)
    if found is None and required:
        raise InvalidInputError(f"{path} has no 'value' or 'clv' column for --policy to rank; name the value column "
                                f"with --value-column (columns are {sorted(columns)}).")
    return found


def _numbers(columns: dict[str, npt.NDArray[Any]], name: str, path: Path) -> npt.NDArray[np.float64]:
    col = columns[name]
    if col.dtype.kind not in "fiu" or not np.isfinite(col.astype(np.float64)).all():
        raise InvalidInputError(f"{path}: the column {name!r} must hold a finite number in every row.")
    return col.astype(np.float64)


def read_tiers(path: str | Path, args: argparse.Namespace, *, labels: tuple[str, ...] | None = None,
               columns: dict[str, npt.NDArray[Any]] | None = None) -> TierInput:
    """The tiers of one input file, as ``args`` say (see the module docstring).

    ``labels`` (lowest first) fixes the tier names, e.g. those of both periods of a migration; ``columns`` are
    the file's columns when already read.
    """
    from ..tiering import TierAssignment, make_policy

    p = Path(path)
    if columns is None:
        columns = read_columns_csv(p, text_columns=TEXT_COLUMNS)
    ids = columns.get("customer_id")
    if args.policy is not None:
        config = None
        where = "The --config JSON"
        if args.config is not None:
            config, cfile = json_option(args.config, "--config")
            where = "The --config JSON" if cfile is None else f"The --config file {cfile}"
        try:
            policy = make_policy(args.policy, config)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{where}: {one_line(exc)}") from None
        name = _value_column(args, columns, p, required=True)
        assert name is not None
        columns.setdefault("value", columns[name])
        try:
            assignment = policy.assign(columns)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{p}: {one_line(exc)}") from None
        return TierInput(assignment, _numbers(columns, name, p), p)
    if args.config is not None:
        raise InvalidInputError("--config configures a --policy; give --policy too, or drop --config.")
    if "tier" not in columns:
        raise InvalidInputError(f"{p} has no 'tier' column. Give a tier file written by 'clvkit tier --output', or "
                                f"a value file (e.g. scores.csv) with --policy.")
    tiers = np.array([str(t).strip() for t in columns["tier"].tolist()], dtype=object)
    if any(not t for t in tiers.tolist()):
        first = next(i for i, t in enumerate(tiers.tolist()) if not t) + 2
        raise InvalidInputError(f"{p}: the 'tier' column is empty at line {first}; every customer needs a tier.")
    names = labels if labels is not None else tier_labels(args)
    if names is None:
        names = _labels_from_codes(p, columns, tiers)
    lookup = {t: k for k, t in enumerate(names)}
    unknown = sorted({t for t in tiers.tolist() if t not in lookup})
    if unknown:
        raise InvalidInputError(f"{p} has tiers {unknown[:5]} that are not among {list(names)}; fix --tiers (lowest "
                                f"first) or the file.")
    codes = np.array([lookup[t] for t in tiers.tolist()], dtype=np.int8)
    name = _value_column(args, columns, p, required=False)
    values = None if name is None else _numbers(columns, name, p)
    customer_id = None if ids is None else np.array([str(v) for v in ids.tolist()], dtype=object)
    assignment = TierAssignment(codes=codes, labels=tuple(names), reasons=np.zeros_like(codes),
                                rules=(f"tier read from {p.name}",), policy=f"tiers of {p.name}",
                                ordered=not args.unordered, customer_id=customer_id)
    return TierInput(assignment, values, p)


def labels_of_files(files: list[tuple[Path, dict[str, npt.NDArray[Any]]]]) -> tuple[str, ...]:
    """The tier names, lowest first, from the ``tier_code`` and ``tier`` columns of tier files taken together."""
    for p, columns in files:
        for name in ("tier", "tier_code"):
            if name not in columns:
                _labels_from_codes(p, columns, columns.get("tier", np.array([], dtype=object)))
    where = files[0][0] if len(files) == 1 else Path(" and ".join(str(p) for p, _ in files))
    merged = {"tier_code": np.concatenate([c["tier_code"] for _, c in files]) if all(
        c["tier_code"].dtype.kind in "fiu" for _, c in files) else np.concatenate(
        [c["tier_code"].astype(object) for _, c in files])}
    tiers = np.array([str(t).strip() for _, c in files for t in c["tier"].tolist()], dtype=object)
    merged["tier"] = tiers
    return _labels_from_codes(where, merged, tiers)


def _labels_from_codes(p: Path, columns: dict[str, npt.NDArray[Any]], tiers: npt.NDArray[Any]) -> tuple[str, ...]:
    if "tier" not in columns:
        raise InvalidInputError(f"{p} has no 'tier' column. Give a tier file written by 'clvkit tier --output', or "
                                f"a value file (e.g. scores.csv) with --policy.")
    if "tier_code" not in columns:
        raise InvalidInputError(f"{p} has no 'tier_code' column to order its tiers; name them from the lowest to the "
                                f"highest with --tiers (e.g. --tiers A5,A4,A3,A2,A1).")
    codes = columns["tier_code"]
    if codes.dtype.kind not in "fiu" or not np.isfinite(codes.astype(np.float64)).all() \
            or (codes < 0).any() or (codes != np.floor(codes)).any() or (codes > 126).any():
        raise InvalidInputError(f"{p}: 'tier_code' must hold whole numbers from 0 (the lowest tier) to 126.")
    by_code: dict[int, str] = {}
    for code, tier in zip(codes.astype(np.int64).tolist(), tiers.tolist(), strict=True):
        if by_code.setdefault(code, tier) != tier:
            raise InvalidInputError(f"{p}: tier_code {code} names two tiers, {by_code[code]!r} and {tier!r}.")
    if len(set(by_code.values())) != len(by_code):
        raise InvalidInputError(f"{p}: one tier has two tier_codes; each tier needs one code.")
    if not by_code:
        raise InvalidInputError(f"{p} holds no customers, so its tiers are unknown; name them from the lowest to the "
                                f"highest with --tiers, or give a file with customers.")
    missing = [k for k in range(max(by_code) + 1) if k not in by_code]
    if missing:
        raise InvalidInputError(f"{p} has no customer in tier_code {missing}, so the name of that tier is unknown; "
                                f"name every tier from the lowest to the highest with --tiers.")
    return tuple(by_code[k] for k in range(len(by_code)))
