"""Customer ids as dense integer codes (``0 .. n_codes - 1``) in ascending id order, for the numpy kernels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ._aggregate import factorize
from ._validation import is_null, row_problem
from .errors import Problem

__all__ = ["Codes", "code_ids", "read_object_ids"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Codes:
    """Dense integer codes of customer ids; ``decode`` maps codes back to ids in ascending id order."""

    codes: IntArray
    n_codes: int
    uniques: npt.NDArray[Any] | None = None
    offset: int = 0
    dtype: Any = None

    def decode(self, codes: IntArray) -> npt.NDArray[Any]:
        out: npt.NDArray[Any]
        if self.uniques is not None:
            out = self.uniques[codes]
        elif np.dtype(self.dtype) == np.uint64:
            out = codes.astype(np.uint64) + np.uint64(self.offset)
        else:
            out = (codes + self.offset).astype(self.dtype)
        return out

    def take(self, keep: BoolArray) -> Codes:
        return Codes(self.codes[keep], self.n_codes, self.uniques, self.offset, self.dtype)


def code_ids(ids: npt.NDArray[Any]) -> Codes:
    n = ids.shape[0]
    if ids.dtype.kind in "iu" and n:
        lo, hi = int(ids.min()), int(ids.max())
        if hi - lo < 2 * n + 1024:
            # Dense enough: the id minus the smallest id is the code (no sort needed); ids that are
            # already small non-negative int64 are their own codes (no copy).
            if ids.dtype == np.int64 and 0 <= lo and hi < 2 * n + 1024:
                return Codes(ids, hi + 1, offset=0, dtype=ids.dtype)
            if ids.dtype == np.uint64:
                codes = (ids - np.uint64(lo)).astype(np.int64)
            else:
                codes = ids.astype(np.int64, copy=False) - lo
            return Codes(codes, hi - lo + 1, offset=lo, dtype=ids.dtype)
    uniques, codes = factorize(ids)
    return Codes(codes, int(uniques.shape[0]), uniques=uniques)


def read_object_ids(ids: npt.NDArray[Any], column: str, problems: list[Problem | None]) -> Codes | None:
    """Code an object column of ids with a hash table; ``None`` (reported) when they cannot be ordered.

    Sorting Python objects compares them one by one in the interpreter; hashing each row once and
    sorting only the distinct ids is much faster.
    """
    values = ids.tolist()
    distinct = list(dict.fromkeys(values))
    nulls = [v for v in distinct if is_null(v)]
    if nulls:
        bad = np.fromiter(map(is_null, values), dtype=bool, count=len(values))
        problems.append(row_problem(bad, column, "is missing (null customer id)",
                                    "Drop the rows or fill in the customer."))
        distinct = [v for v in distinct if not is_null(v)]
    try:
        distinct.sort()
    except TypeError:
        kinds = sorted({type(v).__name__ for v in distinct})
        problems.append(Problem(column, f"mixes id types that cannot be ordered ({', '.join(kinds)})",
                                fix="Make every customer id the same type, e.g. all strings."))
        return None
    if nulls:
        return None
    code_of = {v: i for i, v in enumerate(distinct)}
    codes = np.fromiter(map(code_of.__getitem__, values), dtype=np.int64, count=len(values))
    id_types = {type(v) for v in distinct}
    if id_types <= {str}:
        uniques: npt.NDArray[Any] = np.array(distinct, dtype=str)
    elif id_types <= {int} and -(2**63) <= distinct[0] and distinct[-1] < 2**63:
        uniques = np.array(distinct, dtype=np.int64)
    else:
        uniques = np.empty(len(distinct), dtype=object)
        uniques[:] = distinct
    return Codes(codes, len(distinct), uniques=uniques)
