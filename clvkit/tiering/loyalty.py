"""Loyalty-card membership levels (e.g. silver, gold) that evolve over time with hysteresis.

Real programmes qualify members over a period and do not flip a member up and down every week. Here the
periods of a value history (shape ``(n_customers, n_periods)``, e.g. monthly spend) are grouped into
consecutive, non-overlapping qualification windows of ``window`` periods, counted from the first period;
the level is reviewed once, at the end of each complete window, from the value earned in that window
(trailing periods that do not fill a window are not reviewed yet):

* a member *qualifies* for level ``k`` when the window value is ``>= upgrade[k-1]``;
* a member *keeps* level ``k`` while the window value is ``>= downgrade[k-1]`` (``downgrade <= upgrade``:
  keeping a level is easier than reaching it);
* new level = ``max(qualified, min(current, kept))``: up to the highest level qualified for, otherwise
  stay, unless the window value falls below the keep threshold of the current level, then down to the
  highest level still kept.

Because reviews happen only at window ends, a level changes at most once per window; and because the rule
is non-decreasing in both the current level and the window value, a member whose every period value is at
least another's (from the same starting level) never holds a lower level.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from ..errors import InvalidInputError, Problem
from ._assignment import CODE_DTYPE, IntArray, TierAssignment, readonly
from ._config import Finite, FrozenConfig, check_increasing, check_labels
from ._inputs import Column, label_codes, read_columns
from ._kernels import count_passed

__all__ = ["LoyaltyProgram"]

FloatArray = npt.NDArray[np.float64]

_KEPT, _UP, _DOWN = 0, 1, 2


class LoyaltyProgram(FrozenConfig):
    """Membership levels from a history of period values, reviewed once per qualification window.

    Reads ``history`` (array of shape (n_customers, n_periods): value earned in each period, oldest
    first), optionally ``initial_level`` (level before the first period, as labels or codes; default the
    lowest level) and ``customer_id``. The assignment holds the level after the last review; the feature
    ``window_value`` is the value of the last reviewed window.

    Parameters
    ----------
    levels:
        Level names, lowest first (at least two). Default ``("member", "silver", "gold")``.
    upgrade:
        Window value needed to reach each level above the lowest, strictly increasing. The defaults
        ``(1000, 5000)`` (currency per window) are illustrative: set your programme's numbers.
    downgrade:
        Window value needed to keep each level above the lowest, strictly increasing, each ``<=`` the
        matching ``upgrade`` (hysteresis). Default ``(500, 2500)``.
    window:
        Periods per qualification window (default 12: a year of months).

    Examples
    --------
    >>> prog = LoyaltyProgram(upgrade=(100, 300), downgrade=(50, 200), window=2)
    >>> history = [[60, 50, 200, 150, 150, 100, 10, 10]]  # window values 110, 350, 250, 20
    >>> prog.level_history(history=history).tolist()  # 250 < 300 but >= 200: gold is kept
    [[0, 1, 1, 2, 2, 2, 2, 0]]
    >>> a = prog.assign(history=history)
    >>> a.explain(0)
    'customer 0: tier member because window value 20 < keep threshold 50 for silver'
    """

    levels: tuple[str, ...] = ("member", "silver", "gold")
    upgrade: tuple[Finite, ...] = (1000.0, 5000.0)
    downgrade: tuple[Finite, ...] = (500.0, 2500.0)
    window: int = Field(default=12, ge=1)

    @model_validator(mode="after")
    def _check(self) -> LoyaltyProgram:
        k = len(self.levels) - 1
        problems = [p for p in [check_labels(self.levels, len(self.levels), "levels")] if p]
        if k < 1:
            problems.append(Problem("levels", f"must name at least two levels; got {list(self.levels)}"))
        for name, values in (("upgrade", self.upgrade), ("downgrade", self.downgrade)):
            if len(values) != k:
                problems.append(Problem(name, f"must hold one threshold per level above the lowest ({k}); "
                                              f"got {len(values)}"))
            else:
                problems += [p for p in [check_increasing(values, name)] if p]
        if len(self.upgrade) == len(self.downgrade):
            over = [i for i, (u, d) in enumerate(zip(self.upgrade, self.downgrade, strict=True)) if d > u]
            if over:
                problems.append(Problem("downgrade", f"must not exceed 'upgrade' (keeping a level is easier than "
                                                     f"reaching it); fails at positions {over}"))
        if problems:
            raise InvalidInputError(problems)
        return self

    def _read(self, data: Any, columns: dict[str, Any], where: str
              ) -> tuple[FloatArray, IntArray, npt.NDArray[Any] | None]:
        context = f"LoyaltyProgram.{where}()"
        specs = [Column("history", "matrix"), Column("initial_level", "label", False),
                 Column("customer_id", "label", False)]
        cols = read_columns(data, columns, specs, context)
        history = cols["history"]
        if "initial_level" in cols:
            level = label_codes(cols["initial_level"], self.levels, "initial_level", context)
        else:
            level = np.zeros(history.shape[0], dtype=CODE_DTYPE)
        return history, level, cols.get("customer_id")

    def _review(self, level: IntArray, q: FloatArray) -> tuple[IntArray, IntArray]:
        """New level and outcome (kept, up, down) of one review with window values ``q``."""
        qualified = count_passed(q, self.upgrade)
        kept = count_passed(q, self.downgrade)
        new = np.minimum(level, kept)
        np.maximum(new, qualified, out=new)
        outcome = (new > level).view(CODE_DTYPE) * np.int8(_UP)
        outcome += (new < level).view(CODE_DTYPE) * np.int8(_DOWN)
        return new, outcome

    def _window_values(self, history: FloatArray, w: int) -> FloatArray:
        # einsum sums each row's slice in one fixed order whatever the row's position (checked by the
        # row-order property test) and is ~3x faster than .sum(axis=1), whose per-row overhead dominates
        # for rows of a few periods.
        block: FloatArray = np.einsum("ij->i", history[:, w * self.window:(w + 1) * self.window])
        return block

    def level_history(self, data: Any = None, /, **columns: Any) -> IntArray:
        """Level held at the end of every period, int8 array of shape (n_customers, n_periods).

        Takes the same inputs as :meth:`assign`. Levels change only at the last period of a window.
        """
        history, level, _ = self._read(data, columns, "level_history")
        path = np.empty(history.shape, dtype=CODE_DTYPE)
        path[:] = level[:, None]
        for w in range(history.shape[1] // self.window):
            level, _ = self._review(level, self._window_values(history, w))
            path[:, (w + 1) * self.window - 1:] = level[:, None]
        return path

    def _rules(self) -> tuple[str, ...]:
        lv, up, down = self.levels, self.upgrade, self.downgrade
        rules: list[str] = []
        for k in range(len(lv)):
            kept = (f"window value {{window_value:.6g}} < upgrade threshold {up[0]:g} for {lv[1]}" if k == 0 else
                    f"window value {{window_value:.6g}} >= keep threshold {down[k - 1]:g} for {lv[k]}")
            if 0 < k < len(lv) - 1:
                kept += f" and < upgrade threshold {up[k]:g} for {lv[k + 1]}"
            upgraded = (f"window value {{window_value:.6g}} >= upgrade threshold {up[k - 1]:g} for {lv[k]}"
                        if k > 0 else "not reachable by an upgrade")
            downgraded = (f"window value {{window_value:.6g}} < keep threshold {down[k]:g} for {lv[k + 1]}"
                          if k < len(lv) - 1 else "not reachable by a downgrade")
            rules += [kept, upgraded, downgraded]
        rules.append(f"no complete qualification window of {self.window} periods yet: initial level kept")
        return tuple(rules)

    def assign(self, data: Any = None, /, **columns: Any) -> TierAssignment:
        """The level of every customer after the last complete qualification window.

        Raises
        ------
        InvalidInputError
            When a column is missing or has the wrong shape, or rows hold NaN, infinite or out-of-range
            values (the first offending rows are named).
        """
        history, level, ids = self._read(data, columns, "assign")
        n_windows = history.shape[1] // self.window
        outcome = np.zeros(history.shape[0], dtype=CODE_DTYPE)
        q = np.zeros(history.shape[0])
        for w in range(n_windows):
            q = self._window_values(history, w)
            level, outcome = self._review(level, q)
        if n_windows:
            reasons = level * np.int8(3)
            reasons += outcome
        else:
            reasons = np.full(history.shape[0], 3 * len(self.levels), dtype=CODE_DTYPE)
        return TierAssignment(codes=readonly(level), labels=self.levels, reasons=readonly(reasons),
                              rules=self._rules(), policy="LoyaltyProgram", features={"window_value": readonly(q)},
                              customer_id=ids)
