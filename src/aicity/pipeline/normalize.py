"""Normalisation: bring indicators onto a common scale, with directions applied.

For a lower-is-better indicator (direction -1) each method means what the literature means;
`DIRECTIONS` says it per method and docs/methods.md shows that table. For all but one it is
what COINr computes by multiplying the indicator by -1 first. The exception is `fracmax`:
the MCDA literature scores a cost criterion as min(x) / x, while COINr's flip gives x / min(x),
which rewards the worse unit; COINr's variant stays available as `direction_rule: coinr`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from aicity.errors import PipelineError

AXIS = -2  # units


def _nanmin(x: np.ndarray) -> np.ndarray:
    """Column minimum over units, skipping NaN (all-missing gives NaN): fmin skips NaN
    without the temporary copy np.nanmin makes."""
    return np.fmin.reduce(x, axis=AXIS, keepdims=True)


def _nanmax(x: np.ndarray) -> np.ndarray:
    return np.fmax.reduce(x, axis=AXIS, keepdims=True)


def minmax(x: np.ndarray, lo: float = 0.0, hi: float = 100.0) -> np.ndarray:
    """(x - min) / (max - min) scaled to [lo, hi]. A constant indicator gives NaN, as in COINr:
    it carries no information to rank on, and the build reports it."""
    mn, mx = _nanmin(x), _nanmax(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = x - mn  # in place from here: one pass per operation, no temporaries
        out /= mx - mn
        out *= hi - lo
        out += lo
        return out


def zscore(x: np.ndarray, mean: float = 0.0, sd: float = 1.0) -> np.ndarray:
    """(x - mean) / sd with the sample standard deviation (n - 1), then shifted and scaled."""
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing indicator stays missing
        mu = np.nanmean(x, axis=AXIS, keepdims=True)
        s = np.nanstd(x, axis=AXIS, ddof=1, keepdims=True)
        return (x - mu) / s * sd + mean


def _rank_min(x: np.ndarray) -> np.ndarray:
    """Ascending ranks, ties get the minimum, NaN stays NaN (R's rank(ties = "min"))."""
    if not np.isnan(x).any():
        from scipy import stats  # here, not at import: SciPy costs half a second to load

        return stats.rankdata(x, method="min", axis=AXIS).astype(float)
    from scipy import stats

    return stats.rankdata(x, method="min", axis=AXIS, nan_policy="omit").astype(float)


def rank(x: np.ndarray) -> np.ndarray:
    """Ascending rank: the worst unit gets 1, the best gets n (COINr's n_rank)."""
    return _rank_min(x)


def borda(x: np.ndarray) -> np.ndarray:
    """Borda count: the number of units each unit beats (rank - 1)."""
    return _rank_min(x) - 1.0


def percentile(x: np.ndarray) -> np.ndarray:
    """Percentile rank in [0, 1]: (rank - 1) / (n - 1), ties at the minimum (COINr's n_prank,
    dplyr's percent_rank), n counting the units with data."""
    n = np.sum(~np.isnan(x), axis=AXIS, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (_rank_min(x) - 1.0) / (n - 1.0)


def fracmax(x: np.ndarray) -> np.ndarray:
    """x / max(x): a fraction of the best value (meaningful for positive data)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return x / _nanmax(x)


def fracmin(x: np.ndarray) -> np.ndarray:
    """min(x) / x: a lower-is-better indicator as a fraction of the best (lowest) value."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _nanmin(x) / x


def vector(x: np.ndarray) -> np.ndarray:
    """x / sqrt(sum x^2) over the units with data: TOPSIS's vector normalisation."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return x / np.sqrt(np.nansum(x * x, axis=AXIS, keepdims=True))


def dist2max(x: np.ndarray) -> np.ndarray:
    """1 - (max - x) / (max - min): the distance to the best unit, in [0, 1]."""
    mn, mx = _nanmin(x), _nanmax(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - (mx - x) / (mx - mn)


def dist2target(x: np.ndarray, targets: np.ndarray, cap: bool = True) -> np.ndarray:
    """1 - (target - x) / (target - min): 1 at the target, 0 at the worst unit (COINr's
    n_dist2targ, on direction-adjusted data so targets are flipped too); `cap` holds units past
    the target at 1."""
    mn = _nanmin(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 1.0 - (targets - x) / (targets - mn)
    return np.minimum(out, 1.0) if cap else out


def goalposts(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, out_lo: float = 0.0, out_hi: float = 100.0) -> np.ndarray:
    """(x - lo) / (hi - lo) capped to [0, 1] and scaled to [out_lo, out_hi]; lo and hi are the
    direction-adjusted goalposts (for a negative direction, -hi and -lo)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return frac * (out_hi - out_lo) + out_lo


@dataclass(frozen=True)
class NormalizeMethod:
    name: str
    params: tuple[str, ...]
    doc: str


METHODS: dict[str, NormalizeMethod] = {
    m.name: m
    for m in (
        NormalizeMethod("minmax", ("range",), "min-max to `range` (default [0, 100])"),
        NormalizeMethod("zscore", ("mean", "sd"), "z-score (sample sd), then x sd + mean (default 0, 1)"),
        NormalizeMethod("rank", (), "ascending rank, worst = 1"),
        NormalizeMethod("percentile", (), "percentile rank in [0, 1]"),
        NormalizeMethod("borda", (), "Borda count (units beaten)"),
        NormalizeMethod("fracmax", ("direction_rule",), "fraction of the maximum (lower is better: min(x) / x)"),
        NormalizeMethod("dist2max", (), "1 - distance to the maximum, in [0, 1]"),
        NormalizeMethod("dist2target", ("cap",), "distance to each indicator's `target`"),
        NormalizeMethod("goalposts", ("range",), "capped to each indicator's goalposts, scaled to `range`"),
        NormalizeMethod("vector", (), "x / sqrt(sum of x^2) (TOPSIS's vector normalisation)"),
        NormalizeMethod("none", (), "no normalisation (directions still applied)"),
    )
}
# What each method gives a lower-is-better indicator (direction -1): one table, shown in the docs.
DIRECTIONS: dict[str, str] = {
    "minmax": "(max - x) / (max - min), scaled to `range`",
    "zscore": "-(x - mean) / sd, then x sd + mean",
    "rank": "rank of -x: the highest value ranks 1 (worst)",
    "percentile": "percentile rank of -x",
    "borda": "units with a higher value it beats",
    "fracmax": "min(x) / x (literature); `direction_rule: coinr` gives COINr's -x / max(-x) = x / min(x)",
    "dist2max": "1 - (x - min) / (max - min)",
    "dist2target": "1 - (x - target) / (max - target), capped at 1 with `cap`",
    "goalposts": "(hi - x) / (hi - lo), capped to [0, 1], scaled to `range`",
    "vector": "-x / sqrt(sum x^2): in TOPSIS the same distances as taking the cost criterion's minimum as ideal",
    "none": "-x",
}
DIRECTION_RULES = ("literature", "coinr")


def normalize(
    x: np.ndarray,
    method: str,
    directions: np.ndarray,
    *,
    targets: np.ndarray | None = None,
    goalposts_lo: np.ndarray | None = None,
    goalposts_hi: np.ndarray | None = None,
    codes: list[str] | None = None,
    **params: Any,
) -> np.ndarray:
    """Normalise (..., units, indicators) with `directions` (1 / -1 per indicator)."""
    if method not in METHODS:
        raise PipelineError(f"unknown normalisation '{method}'; choose from {', '.join(METHODS)}")
    unknown = set(params) - set(METHODS[method].params)
    if unknown:
        raise PipelineError(f"normalisation '{method}' takes no parameter(s) {sorted(unknown)}")
    d = np.asarray(directions, dtype=float)
    xd = x * d
    names = codes or [str(i) for i in range(x.shape[-1])]
    rule = params.get("direction_rule", "literature")
    if rule not in DIRECTION_RULES:
        raise PipelineError(f"direction_rule must be one of {', '.join(DIRECTION_RULES)}, got '{rule}'")
    table: dict[str, Callable[[], np.ndarray]] = {
        "minmax": lambda: minmax(xd, *_range(params)),
        "zscore": lambda: zscore(xd, float(params.get("mean", 0.0)), float(params.get("sd", 1.0))),
        "rank": lambda: rank(xd),
        "percentile": lambda: percentile(xd),
        "borda": lambda: borda(xd),
        "fracmax": lambda: fracmax(xd) if rule == "coinr" else _fracmax(x, d, names),
        "vector": lambda: vector(xd),
        "dist2max": lambda: dist2max(xd),
        "dist2target": lambda: dist2target(xd, _need(targets, "a target", names) * d, bool(params.get("cap", True))),
        "goalposts": lambda: _goalposts(xd, d, goalposts_lo, goalposts_hi, names, params),
        "none": lambda: xd,
    }
    return table[method]()


def _fracmax(x: np.ndarray, d: np.ndarray, codes: list[str]) -> np.ndarray:
    """x / max(x) for higher-is-better indicators, min(x) / x for lower-is-better ones (which
    needs positive values: min(x) / x of a zero or negative value means nothing)."""
    if (d > 0).all():
        return fracmax(x)
    with np.errstate(invalid="ignore"):
        bad = [c for j, c in enumerate(codes) if d[j] < 0 and (x[..., j] <= 0).any()]
    if bad:
        raise PipelineError(f"fracmax of a lower-is-better indicator is min(x) / x, which needs positive values: "
                            f"{', '.join(bad)} has zero or negative values (use minmax, or direction_rule: coinr)")
    return np.where(d > 0, fracmax(x), fracmin(x))


def _range(params: dict[str, Any]) -> tuple[float, float]:
    lo, hi = params.get("range", (0.0, 100.0))
    lo, hi = float(lo), float(hi)
    if not lo < hi:
        raise PipelineError(f"normalisation range must be [lo, hi] with lo < hi, got [{lo}, {hi}]")
    return lo, hi


def _need(values: np.ndarray | None, what: str, codes: list[str]) -> np.ndarray:
    if values is None or np.isnan(values).any():
        missing = codes if values is None else [c for c, v in zip(codes, values, strict=True) if np.isnan(v)]
        raise PipelineError(f"indicator(s) without {what}: {', '.join(missing)}")
    return values


def _goalposts(xd, d, lo, hi, codes, params) -> np.ndarray:
    lo, hi = _need(lo, "goalposts", codes), _need(hi, "goalposts", codes)
    # For a negative direction the data were flipped, so the goalposts flip (and swap) too.
    adj_lo = np.where(d > 0, lo, -hi)
    adj_hi = np.where(d > 0, hi, -lo)
    return goalposts(xd, adj_lo, adj_hi, *_range(params))
