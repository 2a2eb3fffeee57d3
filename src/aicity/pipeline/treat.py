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
    """COINr's check_SkewKurt: passes if |skew| < skew_max OR kurtosis < kurt_max."""
    return abs(skewness(x)) < skew_max or kurtosis(x) < kurt_max


def log_ct(x: np.ndarray) -> np.ndarray:
    """COINr's log_CT: log(x - min + 0.01 (max - min)), defined whatever the sign of x; the
    minimum maps to log(1 % of the range) rather than to log(0)."""
    mn, mx = np.nanmin(x), np.nanmax(x)
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
    fails too (reported as "log_failed").
    """
    s0, k0 = skewness(x), kurtosis(x)
    if passes(x, skew, kurt):
        return x.copy(), TreatmentReport("passed", s0, k0, s0, k0)
    out = x.copy()
    high = np.array([], dtype=int)
    low = np.array([], dtype=int)
    ok = False
    while not ok and len(high) + len(low) < winmax and np.sum(~np.isnan(out)) >= 3:
        if skewness(out) >= 0:
            high = np.flatnonzero(out == np.nanmax(out))
            out[high] = np.nanmax(np.delete(out, high))
        else:
            low = np.flatnonzero(out == np.nanmin(out))
            out[low] = np.nanmin(np.delete(out, low))
        ok = passes(out, skew, kurt)
    if ok:
        return out, TreatmentReport(
            "winsorised", s0, k0, skewness(out), kurtosis(out), [int(i) for i in high], [int(i) for i in low]
        )
    logged = log_ct(x)
    status = "log" if passes(logged, skew, kurt) else "log_failed"
    return logged, TreatmentReport(status, s0, k0, skewness(logged), kurtosis(logged))


def treat(
    x: np.ndarray,
    method: str = "winsorise_log",
    winmax: int = 5,
    skew: float = 2.0,
    kurtosis_max: float = 3.5,
    exclude: np.ndarray | None = None,
) -> tuple[np.ndarray, list[TreatmentReport]]:
    """Treat each indicator column of (units, indicators); columns where `exclude` is True
    are left as they are and reported as "excluded"."""
    if method == "none":
        return x.copy(), []
    if method != "winsorise_log":
        raise ValueError(f"unknown treatment '{method}'; choose from none, winsorise_log")
    out = np.empty_like(x, dtype=float)
    reports = []
    for j in range(x.shape[1]):
        if exclude is not None and exclude[j]:
            s0, k0 = skewness(x[:, j]), kurtosis(x[:, j])
            out[:, j], rep = x[:, j], TreatmentReport("excluded", s0, k0, s0, k0)
        else:
            out[:, j], rep = winsorise_log_column(x[:, j], winmax, skew, kurtosis_max)
        reports.append(rep)
    return out, reports
