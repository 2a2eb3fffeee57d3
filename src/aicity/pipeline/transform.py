"""Per-indicator transforms, applied before normalisation to the values and to the indicator's
goalposts and target, which stay written in the indicator's own units (the UNDP HDI's income
goalposts are `[100, 75000]` with `transform: log`).

An indicator's `direction` is always about its values as written. Every transform is strictly
monotone on its domain, so it never changes an indicator's own ranking, only distances (and so
min-max scores and aggregates): the increasing ones keep the direction; `inverse` (1/x, on
positive numbers) is decreasing, so the engine flips the direction of the transformed value
(and swaps the transformed goalposts) and "higher is better" still means what it meant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Transform:
    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    valid: Callable[[np.ndarray], np.ndarray]  # where the transform is defined
    domain: str  # said in errors and in the docs
    doc: str
    sign: int = 1  # -1: decreasing, the direction of the transformed value flips


def _inverse(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return 1.0 / x


TRANSFORMS: dict[str, Transform] = {
    t.name: t
    for t in (
        Transform("none", lambda x: x, lambda x: np.ones(np.shape(x), dtype=bool), "any number", "the values as they are"),
        Transform("log", np.log, lambda x: x > 0, "positive numbers", "natural logarithm ln(x)"),
        Transform("log10", np.log10, lambda x: x > 0, "positive numbers", "base-10 logarithm"),
        Transform("log1p", np.log1p, lambda x: x > -1, "numbers above -1", "ln(1 + x), for counts with zeros"),
        Transform("sqrt", np.sqrt, lambda x: x >= 0, "numbers >= 0", "square root"),
        Transform("cbrt", np.cbrt, lambda x: np.ones(np.shape(x), dtype=bool), "any number", "cube root (keeps the sign)"),
        Transform("inverse", _inverse, lambda x: x > 0, "positive numbers", "1 / x (decreasing: the direction is kept)", -1),
    )
}


def invalid(x: np.ndarray, name: str) -> np.ndarray:
    """Where `x` has a value outside the transform's domain (missing values are not invalid)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(x) & ~TRANSFORMS[name].valid(x)


def apply(x: np.ndarray, name: str) -> np.ndarray:
    """The transformed values (missing stays missing). Check `invalid` first: out-of-domain
    values are the caller's error to report, never silently NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return TRANSFORMS[name].fn(np.asarray(x, dtype=float))


def transform_columns(x: np.ndarray, names: list[str]) -> np.ndarray:
    """Each column of (units, indicators) by its own transform; untransformed columns are the
    same numbers (a copy is made only when one column changes)."""
    if all(n == "none" for n in names):
        return x
    out = np.array(x, dtype=float, copy=True)
    for j, name in enumerate(names):
        if name != "none":
            out[..., j] = apply(x[..., j], name)
    return out
