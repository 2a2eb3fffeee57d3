"""Divide indicators by a denominator (population, GDP, area...) to make units comparable."""

from __future__ import annotations

import numpy as np


def denominate(values: np.ndarray, denominators: np.ndarray) -> np.ndarray:
    """`values` (units, indicators) divided element-wise by `denominators` of the same shape.

    Columns without a denominator are passed as ones. A missing denominator leaves the value
    missing rather than undivided, and a zero denominator gives missing, not infinity: the
    build reports both (see `denominator_problems`).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        out = values / denominators
    return np.where(np.isinf(out), np.nan, out)


def denominator_problems(values: np.ndarray, denominators: np.ndarray) -> np.ndarray:
    """Mask of cells whose value exists but could not be divided (denominator missing or 0)."""
    return ~np.isnan(values) & (np.isnan(denominators) | (denominators == 0))
