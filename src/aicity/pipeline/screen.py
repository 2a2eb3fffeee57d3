"""Screening: keep only units with enough data. Dropped units are reported, never silent."""

from __future__ import annotations

import numpy as np


def coverage(x: np.ndarray) -> np.ndarray:
    """Share of indicators present for each unit of (units, indicators)."""
    if x.shape[1] == 0:
        return np.ones(x.shape[0])
    return (x.shape[1] - np.isnan(x).sum(axis=1)) / x.shape[1]


def screen(x: np.ndarray, min_coverage: float, cov: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of units kept: coverage >= min_coverage (COINr's dat_thresh rule).
    `cov`, when the caller has it already, is `coverage(x)`."""
    if not 0.0 <= min_coverage <= 1.0:
        raise ValueError(f"min_coverage must be in [0, 1], got {min_coverage}")
    # A small tolerance so 9/10 passes a 0.9 threshold despite binary fractions.
    return (coverage(x) if cov is None else cov) >= min_coverage - 1e-12
