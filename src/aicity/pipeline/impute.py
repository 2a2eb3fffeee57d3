"""Imputation of missing values. Every imputed cell is returned as a mask so outputs can flag it."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from aicity.errors import PipelineError


@dataclass(frozen=True)
class ImputeMethod:
    name: str
    params: tuple[str, ...]
    doc: str


METHODS: dict[str, ImputeMethod] = {
    m.name: m
    for m in (
        ImputeMethod("none", (), "leave missing values missing"),
        ImputeMethod("mean", (), "indicator mean over all units"),
        ImputeMethod("median", (), "indicator median over all units"),
        ImputeMethod("group_mean", ("group",), "indicator mean within the unit's group (a unit column)"),
        ImputeMethod("group_median", ("group",), "indicator median within the unit's group"),
        ImputeMethod("knn", ("k",), "mean of the k nearest units on standardised indicators (k = 5)"),
        ImputeMethod("iterative", ("max_iter", "seed"), "chained regressions (scikit-learn IterativeImputer)"),
    )
}


def _column_stat(x: np.ndarray, stat: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns stay missing
        return np.nanmean(x, axis=0) if stat == "mean" else np.nanmedian(x, axis=0)


def _fill(x: np.ndarray, fill: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(x), fill, x)


def impute(x: np.ndarray, method: str, groups: np.ndarray | None = None, **params) -> np.ndarray:
    """Fill missing values of (units, indicators). Values that were present never change.

    Where a method has nothing to impute from (an indicator missing for the whole group, say),
    the cell stays missing and shows as missing.
    """
    if method not in METHODS:
        raise PipelineError(f"unknown imputation '{method}'; choose from {', '.join(METHODS)}")
    unknown = set(params) - set(METHODS[method].params) - {"group"}
    if unknown:
        raise PipelineError(f"imputation '{method}' takes no parameter(s) {sorted(unknown)}")
    x = np.asarray(x, dtype=float)
    if method == "none" or not np.isnan(x).any():
        return x.copy()
    if method in ("mean", "median"):
        return _fill(x, _column_stat(x, method)[None, :])
    if method in ("group_mean", "group_median"):
        if groups is None:
            raise PipelineError(f"imputation '{method}' needs a unit group column ('group')")
        out = x.copy()
        labels = np.asarray(groups, dtype=object)
        for label in dict.fromkeys(labels):
            mask = labels == label
            sub = x[mask]
            out[mask] = _fill(sub, _column_stat(sub, method.removeprefix("group_"))[None, :])
        return out
    if method == "knn":
        return _knn(x, int(params.get("k", 5)))
    return _iterative(x, int(params.get("max_iter", 10)), int(params.get("seed", 0)))


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Distances on raw units would let the largest-scale indicator decide who is "near".
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mu = np.nanmean(x, axis=0)
        sd = np.nanstd(x, axis=0)
    sd = np.where((sd > 0) & np.isfinite(sd), sd, 1.0)
    mu = np.where(np.isfinite(mu), mu, 0.0)
    return (x - mu) / sd, mu, sd


def _knn(x: np.ndarray, k: int) -> np.ndarray:
    from sklearn.impute import KNNImputer

    z, mu, sd = _standardise(x)
    keep = ~np.all(np.isnan(x), axis=0)  # sklearn drops all-missing columns; keep them missing
    out = x.copy()
    if keep.any():
        filled = KNNImputer(n_neighbors=k, keep_empty_features=True).fit_transform(z[:, keep])
        out[:, keep] = _fill(x[:, keep], filled * sd[keep] + mu[keep])
    return out


def _iterative(x: np.ndarray, max_iter: int, seed: int) -> np.ndarray:
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    z, mu, sd = _standardise(x)
    keep = ~np.all(np.isnan(x), axis=0)
    out = x.copy()
    if keep.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence notices; the result is still defined
            filled = IterativeImputer(max_iter=max_iter, random_state=seed, keep_empty_features=True).fit_transform(z[:, keep])
        out[:, keep] = _fill(x[:, keep], filled * sd[keep] + mu[keep])
    return out
