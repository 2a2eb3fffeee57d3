"""Outlier treatment, as COINr's default: winsorise while the distribution is too skewed and
heavy-tailed, else fall back to a log transform of the original values."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def skewness(x: np.ndarray) -> float:
    """Sample skewness G1 (bias-corrected, as COINr, Excel's SKEW, scipy's bias=False)."""
    return float(_skew_kurt(np.asarray(x, dtype=float).reshape(-1, 1))[1][0])


def kurtosis(x: np.ndarray) -> float:
    """Sample excess kurtosis G2 (bias-corrected, as COINr, Excel's KURT, scipy's bias=False)."""
    return float(_skew_kurt(np.asarray(x, dtype=float).reshape(-1, 1))[2][0])


def passes(x: np.ndarray, skew_max: float, kurt_max: float) -> bool:
    """COINr's check_SkewKurt: passes if |skew| < skew_max OR kurtosis < kurt_max."""
    return abs(skewness(x)) < skew_max or kurtosis(x) < kurt_max


def log_ct(x: np.ndarray) -> np.ndarray:
    """COINr's log_CT: log(x - min + 0.01 (max - min)), defined whatever the sign of x; the
    minimum maps to log(1 % of the range) rather than to log(0). A 2-D array is taken column
    by column."""
    mn, mx = np.fmin.reduce(x, axis=0), np.fmax.reduce(x, axis=0)  # skip missing values
    with np.errstate(divide="ignore"):
        return np.log(x - mn + 0.01 * (mx - mn))


@dataclass
class TreatmentReport:
    """What happened to one indicator."""

    status: str  # "passed" | "winsorised" | "log" | "log_failed" | "excluded"
    skew_before: float
    kurt_before: float
    skew_after: float
    kurt_after: float
    winsorised_high: list[int] = field(default_factory=list)  # unit positions
    winsorised_low: list[int] = field(default_factory=list)

    @property
    def n_winsorised(self) -> int:
        return len(self.winsorised_high) + len(self.winsorised_low)


def winsorise_log_column(x: np.ndarray, winmax: int = 5, skew: float = 2.0, kurt: float = 3.5) -> tuple[np.ndarray, TreatmentReport]:
    """Treat one indicator exactly as COINr 1.1.14's Treat() with its defaults.

    While the check fails and fewer than `winmax` points are winsorised, the value(s) at the
    end the skew points to (skew >= 0: the top) are replaced by the next value inside. All
    points tied at that end move together, and points already moved stay tied there, so the
    count is of points now sitting at the clipped value. If the check still fails, the
    ORIGINAL values are log-transformed instead (log_CT), and that result is kept even if it
    fails too (reported as "log_failed"). A column whose values all reach the clipped end
    (possible only with thresholds that even a constant fails) also falls back to the log,
    where COINr would stop with an error.
    """
    s0, k0 = skewness(x), kurtosis(x)
    if passes(x, skew, kurt):
        return x.copy(), TreatmentReport("passed", s0, k0, s0, k0)
    out = x.copy()
    high = np.array([], dtype=int)
    low = np.array([], dtype=int)
    ok = False
    while not ok and len(high) + len(low) < winmax and np.sum(~np.isnan(out)) >= 3:
        top = skewness(out) >= 0
        at_end = np.flatnonzero(out == (np.nanmax(out) if top else np.nanmin(out)))
        rest = np.delete(out, at_end)
        if np.isnan(rest).all():
            break  # every value already at that end: nothing to winsorise to; log instead
        if top:
            high = at_end
            out[high] = np.nanmax(rest)
        else:
            low = at_end
            out[low] = np.nanmin(rest)
        ok = passes(out, skew, kurt)
    if ok:
        return out, TreatmentReport(
            "winsorised", s0, k0, skewness(out), kurtosis(out), [int(i) for i in high], [int(i) for i in low]
        )
    logged = log_ct(x)
    status = "log" if passes(logged, skew, kurt) else "log_failed"
    return logged, TreatmentReport(status, s0, k0, skewness(logged), kurtosis(logged))


def _skew_kurt(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of (units, columns): non-missing count, sample skewness G1 and excess
    kurtosis G2, the same estimators as `skewness` and `kurtosis` (0 where undefined).
    Computed a few columns at a time, so the passes over each block stay in cache; each
    column's sums are the same either way."""
    step = max(1, (1 << 16) // max(1, x.shape[0]))
    if x.shape[1] <= step:
        return _skew_kurt_block(x)
    parts = [_skew_kurt_block(x[:, i : i + step]) for i in range(0, x.shape[1], step)]
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]


# Above this magnitude a column's fourth powers could overflow: it is scaled first (skewness and
# kurtosis do not change with scale; ordinary data is left exactly as it is).
_HUGE = 1e50


def _skew_kurt_block(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    present = ~np.isnan(x)
    n = present.sum(axis=0)
    with np.errstate(invalid="ignore"):
        top = np.nanmax(np.abs(np.where(present, x, 0.0)), axis=0) if x.size else np.zeros(x.shape[1])
    if (top > _HUGE).any():
        x = np.where(top > _HUGE, x / np.where(top > 0, top, 1.0), x)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(present, x, 0.0).sum(axis=0) / n
        dev = np.where(present, x - mean, 0.0)
        dev2 = dev * dev
        m2, m3, m4 = dev2.sum(axis=0) / n, (dev2 * dev).sum(axis=0) / n, (dev2 * dev2).sum(axis=0) / n
        skew = np.sqrt(n * (n - 1.0)) / (n - 2.0) * m3 / m2**1.5
        kurt = (n - 1.0) / ((n - 2.0) * (n - 3.0)) * ((n + 1.0) * m4 / m2**2 - 3.0 * (n - 1.0))
    skew = np.where((n >= 3) & (m2 > 0), skew, 0.0)
    kurt = np.where((n >= 4) & (m2 > 0), kurt, 0.0)
    return n, skew, kurt


def treat(
    x: np.ndarray,
    method: str = "winsorise_log",
    winmax: int = 5,
    skew: float = 2.0,
    kurtosis_max: float = 3.5,
    exclude: np.ndarray | None = None,
) -> tuple[np.ndarray, list[TreatmentReport]]:
    """Treat each indicator column of (units, indicators) as `winsorise_log_column` does, a
    block of columns at once: every round winsorises the block's columns still failing the
    check side by side, so the cost is a few passes over the data rather than a Python loop
    per indicator. Columns where `exclude` is True are left as they are ("excluded")."""
    if method == "none":
        return x.copy(), []
    if method != "winsorise_log":
        raise ValueError(f"unknown treatment '{method}'; choose from none, winsorise_log")
    x = np.asarray(x, dtype=float)
    excluded = np.zeros(x.shape[1], dtype=bool) if exclude is None else np.asarray(exclude, dtype=bool)
    # A few columns at a time: every pass of every round then runs in cache.
    step = max(1, (1 << 16) // max(1, x.shape[0]))
    out = np.empty_like(x)
    reports: list[TreatmentReport] = []
    for i in range(0, x.shape[1], step):
        out[:, i : i + step], part = _treat_block(x[:, i : i + step], winmax, skew, kurtosis_max, excluded[i : i + step])
        reports += part
    return out, reports


def _treat_block(
    x: np.ndarray, winmax: int, skew: float, kurtosis_max: float, excluded: np.ndarray
) -> tuple[np.ndarray, list[TreatmentReport]]:
    n_cols = x.shape[1]
    out = x.copy(order="K")
    count, s0, k0 = _skew_kurt(x)
    ok = (np.abs(s0) < skew) | (k0 < kurtosis_max)
    high = np.zeros(x.shape, dtype=bool)  # the points now at the clipped top, per column
    low = np.zeros(x.shape, dtype=bool)
    n_moved = np.zeros(n_cols, dtype=int)
    going = ~ok & ~excluded & (count >= 3)
    s_now, k_now = s0.copy(), k0.copy()  # each round's check is the next round's side
    while True:
        cols = np.flatnonzero(going & (n_moved < winmax))
        if len(cols) == 0:
            break
        block = out[:, cols]
        up = s_now[cols] >= 0
        for side, at_end, moved in ((up, np.fmax, high), (~up, np.fmin, low)):
            if not side.any():
                continue
            sub = block[:, side]
            at = sub == at_end.reduce(sub, axis=0)
            inside = at_end.reduce(np.where(at, np.nan, sub), axis=0)
            # Every value already at that end (a column gone constant): nothing left to
            # winsorise to, so the column stops here and falls back to the log transform.
            stuck = np.isnan(inside)
            going[cols[side][stuck]] = False
            at &= ~stuck
            block[:, side] = np.where(at, inside, sub)
            moved[:, cols[side][~stuck]] = at[:, ~stuck]
        out[:, cols] = block
        n_moved[cols] = high[:, cols].sum(axis=0) + low[:, cols].sum(axis=0)
        _, s_now[cols], k_now[cols] = _skew_kurt(block)
        passed_now = (np.abs(s_now[cols]) < skew) | (k_now[cols] < kurtosis_max)
        ok[cols] = passed_now
        going[cols[passed_now]] = False
    winsorised = ok & ~excluded & (n_moved > 0)
    failed = ~ok & ~excluded
    s_after, k_after = s_now, k_now
    if failed.any():
        logged = log_ct(x[:, failed])
        out[:, failed] = logged
        _, s_after[failed], k_after[failed] = _skew_kurt(logged)
    reports = []
    for j in range(n_cols):
        if excluded[j]:
            rep = TreatmentReport("excluded", float(s0[j]), float(k0[j]), float(s0[j]), float(k0[j]))
        elif failed[j]:
            passes_log = abs(s_after[j]) < skew or k_after[j] < kurtosis_max
            rep = TreatmentReport("log" if passes_log else "log_failed", float(s0[j]), float(k0[j]), float(s_after[j]), float(k_after[j]))
        elif winsorised[j]:
            rep = TreatmentReport(
                "winsorised", float(s0[j]), float(k0[j]), float(s_after[j]), float(k_after[j]),
                np.flatnonzero(high[:, j]).tolist(), np.flatnonzero(low[:, j]).tolist(),
            )
        else:
            rep = TreatmentReport("passed", float(s0[j]), float(k0[j]), float(s0[j]), float(k0[j]))
        reports.append(rep)
    return out, reports
