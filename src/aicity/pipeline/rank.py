"""Ranks: 1 is best; scores equal within a relative tolerance share the lowest (best) rank."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

REL_TOL = 1e-9
# NumPy's sort and searchsorted release the GIL, so blocks of rows rank in parallel threads.
_THREADS = max(1, min(8, os.cpu_count() or 1))
_PARALLEL_MIN_CELLS = 200_000


def _rank_rows(neg: np.ndarray, thresholds: np.ndarray, out: np.ndarray) -> None:
    """Sort each row once and count, with a binary search, the units ahead of each unit by
    more than the tolerance: faster here than argsort-and-scatter."""
    srt = np.sort(np.where(np.isnan(neg), np.inf, neg), axis=-1)
    for k in range(neg.shape[0]):
        out[k] = np.searchsorted(srt[k], thresholds[k], side="left") + 1.0


def rank_desc(scores: np.ndarray, rel_tol: float = REL_TOL) -> np.ndarray:
    """Rank along the units axis (-2) of (..., units, codes); NaN scores get NaN ranks.

    A unit's rank is 1 + the number of units scoring more than it by over `rel_tol` (relative):
    ties share the best rank ("min", competition ranking 1, 2, 2, 4), as COINr and most
    published indices do. The tolerance matters because the order of additions changes the
    last bits of scores that are equal in exact arithmetic.
    """
    scores = np.asarray(scores, dtype=float)
    moved = np.ascontiguousarray(np.moveaxis(scores, -2, -1))  # (..., codes, units)
    flat = moved.reshape(-1, moved.shape[-1]) if moved.size else moved.reshape(0, 0)
    out = np.empty_like(flat)
    neg = -flat
    thresholds = neg - rel_tol * np.abs(flat)
    n_blocks = min(_THREADS, flat.shape[0]) if flat.size >= _PARALLEL_MIN_CELLS else 1
    if n_blocks > 1:
        edges = np.linspace(0, flat.shape[0], n_blocks + 1).astype(int)
        blocks = [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
        with ThreadPoolExecutor(n_blocks) as pool:
            list(pool.map(lambda b: _rank_rows(neg[b], thresholds[b], out[b]), blocks))
    else:
        _rank_rows(neg, thresholds, out)
    out[np.isnan(flat)] = np.nan
    return np.moveaxis(out.reshape(moved.shape), -1, -2)


def rank_within_groups(scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Ranks computed separately inside each unit group (units with no group get NaN)."""
    out = np.full(scores.shape, np.nan)
    labels = np.asarray(groups, dtype=object)
    for label in dict.fromkeys(labels):
        if label is None or (isinstance(label, float) and np.isnan(label)):
            continue
        mask = labels == label
        out[..., mask, :] = rank_desc(scores[..., mask, :])
    return out


def rank_with_order(values: np.ndarray, rel_tol: float = REL_TOL) -> tuple[np.ndarray, np.ndarray]:
    """Ranks of one score vector (as `rank_desc`) and the positions best first (ties in
    input order, missing last). One argsort serves both, and the thresholds, being sorted
    too, make the binary searches cheap: the web API's hot path."""
    values = np.asarray(values, dtype=float)
    key = np.where(np.isnan(values), np.inf, -values)
    order = np.argsort(key, kind="stable")
    neg_sorted = key[order]
    thresholds = neg_sorted - rel_tol * np.abs(neg_sorted)
    ranks = np.empty(len(values))
    ranks[order] = np.searchsorted(neg_sorted, thresholds, side="left") + 1.0
    ranks[np.isnan(values)] = np.nan
    return ranks, order
