"""What-if: change a city's data and see every score and rank move; and what it would take.

A what-if is a rebuild with the changed data and the same spec, so it equals running the
whole pipeline again (normalisation bounds move if the new value is a new minimum or maximum).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aicity.compare import code_columns, effective_weights
from aicity.data import Dataset
from aicity.errors import InputError, Problem
from aicity.pipeline.rank import at_precision
from aicity.result import IndexResult


def _with_values(dataset: Dataset, unit: str, changes: dict[str, float]) -> Dataset:
    values = dataset.values.copy()
    for code, value in changes.items():
        if code not in values.columns:
            values[code] = np.nan
        values.at[unit, code] = float(value)
    changed = copy.copy(dataset)
    changed.values = values
    return changed


def whatif(result: IndexResult, unit: str, changes: dict[str, float]) -> IndexResult:
    """Rebuild with `changes` ({indicator: raw value}) applied to one unit's data."""
    fw = result.framework
    code = result.ranked_unit(unit)
    problems = [Problem("what-if", f"unknown indicator '{c}'") for c in changes if c not in fw.indicators]
    problems += [Problem("what-if", f"{c}={v} is not a finite number") for c, v in changes.items() if not np.isfinite(v)]
    if problems:
        raise InputError(problems)
    return result.rebuild(dataset=_with_values(result.dataset, code, changes))


def changes_table(before: IndexResult, after: IndexResult, unit: str, lang: str = "en") -> pd.DataFrame:
    b, a = before.units.index(unit), after.units.index(unit)
    table = pd.DataFrame(
        {
            **code_columns(before, lang),
            "score_before": before.scores_array[b],
            "score_after": after.scores_array[a],
            "rank_before": before.ranks_array[b],
            "rank_after": after.ranks_array[a],
        }
    )
    return table.sort_values(["level", "code"], ascending=[False, True], kind="stable").reset_index(drop=True)


@dataclass
class Requirement:
    indicator: str
    current: float
    needed: float | None  # None: not possible within the observed range
    message: str


def _target_met(result: IndexResult, unit: str, rank: int | None, beat: str | None) -> bool:
    fw = result.framework
    col = result.codes.index(fw.index_code)
    i = result.units.index(unit)
    if beat is not None:
        a, b = at_precision(result.scores_array[[i, result.units.index(beat)], col], result.rank_digits)
        return bool(a > b)
    return result.ranks_array[i, col] <= rank


def check_target(result: IndexResult, unit: str, rank: int | None, beat: str | None) -> tuple[str, str | None]:
    """The one rule for a what-it-takes target: exactly one of a rank (1 to the number of
    ranked units) or another ranked unit to pass. Returns the unit's and `beat`'s codes."""
    if (rank is None) == (beat is None):
        raise InputError([Problem("what-if", "give exactly one target: a rank or a unit to pass")])
    unit = result.ranked_unit(unit)
    if beat is not None:
        beat = result.ranked_unit(beat)
        if beat == unit:
            raise InputError([Problem("what-if", f"'{unit}' cannot pass itself")])
    if rank is not None:
        col = result.codes.index(result.framework.index_code)
        ranked = int((~np.isnan(result.ranks_array[:, col])).sum())
        if isinstance(rank, bool) or not isinstance(rank, int | np.integer) or not 1 <= rank <= ranked:
            raise InputError([Problem("what-if", f"rank must be a whole number between 1 and {ranked} (the ranked units), not {rank!r}")])
    return unit, beat


def what_it_takes(result: IndexResult, unit: str, indicator: str, *, rank: int | None = None, beat: str | None = None, iterations: int = 40) -> Requirement:
    """The smallest change of one indicator (raw value, within the range observed across all
    units) for `unit` to reach `rank` or pass `beat`, found by bisection on full rebuilds."""
    unit, beat = check_target(result, unit, rank, beat)
    fw = result.framework
    if indicator not in fw.indicators:
        raise InputError([Problem("what-if", f"unknown indicator '{indicator}'")])
    raw = result.dataset.values[indicator].to_numpy(dtype=float) if indicator in result.dataset.values else np.array([np.nan])
    current = float(result.dataset.values.at[unit, indicator]) if indicator in result.dataset.values else np.nan
    observed = raw[~np.isnan(raw)]
    if observed.size == 0:
        return Requirement(indicator, current, None, "no unit has data on this indicator")
    best = observed.max() if fw.node(indicator).direction > 0 else observed.min()
    if _target_met(result, unit, rank, beat):
        return Requirement(indicator, current, current, "already reached")
    if not _target_met(whatif(result, unit, {indicator: best}), unit, rank, beat):
        return Requirement(indicator, current, None, f"not possible within the indicator's observed range (best observed: {best:g})")
    # Bisection between the current value (or, if missing, the worst observed) and the best.
    worst = observed.min() if fw.node(indicator).direction > 0 else observed.max()
    lo, hi = (current if np.isfinite(current) else worst), best
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if _target_met(whatif(result, unit, {indicator: mid}), unit, rank, beat):
            hi = mid
        else:
            lo = mid
        if abs(hi - lo) <= 1e-9 * max(1.0, abs(hi)):
            break
    return Requirement(indicator, current, float(hi), "reached")


def cheapest_set(result: IndexResult, unit: str, *, rank: int | None = None, beat: str | None = None) -> pd.DataFrame:
    """The set of indicator changes, in normalised units, with the smallest total change that
    lifts `unit`'s index past the target, holding the normalisation fixed (arithmetic
    aggregation): raise first the indicators that carry the most effective weight, each up to
    the best normalised score observed. Greedy is optimal here: the index is linear in the
    normalised scores, so this is a fractional knapsack."""
    from aicity.compare import group_methods

    others = {c: m for c, m in group_methods(result).items() if m != "arithmetic"}
    if others or result.aggregation[1]["rescale"] is not None:
        what = ", ".join(f"{c}: {m}" for c, m in others.items()) or "rescaled aggregates"
        raise InputError([Problem("what-if", f"the cheapest set needs arithmetic aggregation in every group ({what})")])
    fw = result.framework
    unit, beat = check_target(result, unit, rank, beat)
    i = result.units.index(unit)
    col = result.codes.index(fw.index_code)
    scores = result.scores_array[:, col]
    others = np.delete(scores, i)
    if beat is not None:
        target = scores[result.units.index(beat)]
    else:
        ordered = np.sort(others[~np.isnan(others)])[::-1]
        target = ordered[rank - 1] if rank <= len(ordered) else -np.inf  # type: ignore[operator]
    need = target - scores[i] + 1e-9 * max(1.0, abs(target))
    n = len(fw.indicators)
    x = result.scores_array[i, :n]
    ceiling = np.nanmax(result.scores_array[:, :n], axis=0)
    ew = effective_weights(result)[i, :n]
    rows = []
    for j in np.argsort(-ew, kind="stable"):
        if need <= 0:
            break
        if ew[j] <= 0 or np.isnan(x[j]):
            continue
        room = ceiling[j] - x[j]
        if room <= 0:
            continue
        step = min(room, need / ew[j])
        rows.append({"indicator": fw.indicators[j], "effective_weight": ew[j], "score_now": x[j], "score_needed": x[j] + step, "change": step})
        need -= step * ew[j]
    table = pd.DataFrame(rows)
    table.attrs["possible"] = bool(need <= 0)
    return table
