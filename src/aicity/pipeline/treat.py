"""Outlier treatment, as COINr's default: winsorise while the distribution is too skewed and
heavy-tailed, else fall back to a log transform of the original values."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _moments(x: np.ndarray) -> tuple[int, float, float, float]:
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return 0, 0.0, 0.0, 0.0
    dev = x - x.mean()
    dev2 = dev * dev
    return n, float(dev2.mean()), float((dev2 * dev).mean()), float((dev2 * dev2).mean())


def skewness(x: np.ndarray) -> float:
    """Sample skewness G1 (bias-corrected, as COINr, Excel's SKEW, scipy's bias=False)."""
    n, m2, m3, _ = _moments(x)
    if n < 3 or m2 <= 0:
        return 0.0
    return float(np.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5)


def kurtosis(x: np.ndarray) -> float:
    """Sample excess kurtosis G2 (bias-corrected, as COINr, Excel's KURT, scipy's bias=False)."""
    n, m2, _, m4 = _moments(x)
    if n < 4 or m2 <= 0:
        return 0.0
    return float((n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * m4 / m2**2 - 3 * (n - 1)))


def passes(x: np.ndarray, skew_max: float, kurt_max: float) -> bool:
    """COINr's check_SkewKurt: an indicator fails only if |skew| > skew_max AND kurt > kurt_max."""
    return not (abs(skewness(x)) > skew_max and kurtosis(x) > kurt_max)


def log_ct(x: np.ndarray) -> np.ndarray:
    """COINr's log_CT: log(x) when all values are positive, else log(x - min + 1)."""
    mn = np.nanmin(x)
    return np.log(x) if mn > 0 else np.log(x - mn + 1.0)


@dataclass
class TreatmentReport:
    """What happened to one indicator."""

    status: str  # "passed" | "winsorised" | "log" | "log_failed" | "skipped"
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
    """Treat one indicator.

    Each round replaces the most extreme value(s) on the side the skew points to by the next
    value inside (all tied extremes at once, as COINr). Rounds stop when the check passes or
    after `winmax` points; if it still fails, the ORIGINAL values are log-transformed instead.
    """
    s0, k0 = skewness(x), kurtosis(x)
    if passes(x, skew, kurt):
        return x.copy(), TreatmentReport("passed", s0, k0, s0, k0)
    out = x.copy()
    high: list[int] = []
    low: list[int] = []
    for _ in range(winmax):
        if passes(out, skew, kurt) or np.sum(~np.isnan(out)) < 3:
            break
        if skewness(out) >= 0:
            idx = np.flatnonzero(out == np.nanmax(out))
            rest = np.delete(out, idx)
            out[idx] = np.nanmax(rest)
            high.extend(int(i) for i in idx)
        else:
            idx = np.flatnonzero(out == np.nanmin(out))
            rest = np.delete(out, idx)
            out[idx] = np.nanmin(rest)
            low.extend(int(i) for i in idx)
    if passes(out, skew, kurt):
        return out, TreatmentReport("winsorised", s0, k0, skewness(out), kurtosis(out), high, low)
    logged = log_ct(x)
    status = "log" if passes(logged, skew, kurt) else "log_failed"
    return logged, TreatmentReport(status, s0, k0, skewness(logged), kurtosis(logged))


def treat(x: np.ndarray, method: str = "winsorise_log", winmax: int = 5, skew: float = 2.0, kurtosis_max: float = 3.5) -> tuple[np.ndarray, list[TreatmentReport]]:
    """Treat each indicator column of (units, indicators)."""
    if method == "none":
        return x.copy(), []
    if method != "winsorise_log":
        raise ValueError(f"unknown treatment '{method}'; choose from none, winsorise_log")
    out = np.empty_like(x, dtype=float)
    reports = []
    for j in range(x.shape[1]):
        out[:, j], rep = winsorise_log_column(x[:, j], winmax, skew, kurtosis_max)
        reports.append(rep)
    return out, reports
