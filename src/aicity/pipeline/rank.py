"""Ranks: 1 is best; scores equal within a relative tolerance share the lowest (best) rank."""

from __future__ import annotations

import numpy as np

REL_TOL = 1e-9


def rank_desc(scores: np.ndarray, rel_tol: float = REL_TOL) -> np.ndarray:
    """Rank along the units axis (-2) of (..., units, codes); NaN scores get NaN ranks.

    Ties use "min" (competition ranking: 1, 2, 2, 4): the rule COINr and most published indices
    use. Tolerance matters because aggregation order changes the last bits of equal scores.
    """
    scores = np.asarray(scores, dtype=float)
    moved = np.moveaxis(scores, -2, -1)  # (..., codes, units)
    key = np.where(np.isnan(moved), np.inf, -moved)
    order = np.argsort(key, axis=-1, kind="stable")
    sorted_vals = np.take_along_axis(moved, order, axis=-1)
    n = sorted_vals.shape[-1]
    if n == 0:
        return scores.copy()
    prev, cur = sorted_vals[..., :-1], sorted_vals[..., 1:]
    scale = np.maximum(np.abs(prev), np.abs(cur))
    with np.errstate(invalid="ignore"):
        new_block = ~(np.abs(prev - cur) <= rel_tol * scale)
    starts = np.concatenate([np.ones(sorted_vals.shape[:-1] + (1,), dtype=bool), new_block], axis=-1)
    positions = np.broadcast_to(np.arange(1, n + 1, dtype=float), sorted_vals.shape)
    block_rank = np.maximum.accumulate(np.where(starts, positions, 0.0), axis=-1)
    block_rank = np.where(np.isnan(sorted_vals), np.nan, block_rank)
    ranks = np.empty_like(block_rank)
    np.put_along_axis(ranks, order, block_rank, axis=-1)
    return np.moveaxis(ranks, -1, -2)


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
