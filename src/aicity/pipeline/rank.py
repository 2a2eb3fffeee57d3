"""Ranks: 1 is best; scores equal within a relative tolerance share the lowest (best) rank."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

REL_TOL = 1e-9
# NumPy's sorts release the GIL, so blocks of rows rank in parallel threads.
_THREADS = max(1, min(8, os.cpu_count() or 1))
_PARALLEL_MIN_CELLS = 200_000


_CHUNK_CELLS = 1 << 16


def _rank_rows(flat: np.ndarray, out: np.ndarray, rel_tol: float) -> None:
    """Rank each row of `flat` into `out`, a few rows at a time: the temporaries stay small
    enough to be reused from cache instead of being fresh memory on every call."""
    step = max(1, _CHUNK_CELLS // max(1, flat.shape[-1]))
    for start in range(0, flat.shape[0], step):
        _rank_chunk(flat[start : start + step], out[start : start + step], rel_tol)


def _rank_chunk(flat: np.ndarray, out: np.ndarray, rel_tol: float) -> None:
    """Rank each row of `flat` (codes x units) into `out`.

    The units are put best first by sorting one 64-bit key per unit: the order-preserving
    bits of its negated score with the lowest bits replaced by its position, so the sorted
    keys carry the order itself (an integer sort is faster than an argsort). Scores closer
    than those few bits (about 1e-12 relative) may come out of order; such a row is found and
    sorted exactly. A unit whose predecessor scores more than it by over the tolerance has
    exactly as many units ahead of it as its position; only units in a near-tie need a
    binary search for the first unit they are tied with.
    """
    n = flat.shape[-1]
    bits = max(1, (n - 1).bit_length())
    neg = np.negative(flat)
    neg += 0.0  # -0.0 becomes 0.0, so equal scores have equal bits
    missing = np.isnan(neg)
    raw = neg.view(np.uint64)
    # Flip every bit of a negative float and the sign bit of the rest: unsigned order = float
    # order, -inf first and +inf (a score of -inf) last among numbers; missing after all.
    key = np.where(raw >> np.uint64(63), ~raw, raw | np.uint64(1 << 63))
    key[missing] = np.iinfo(np.uint64).max
    low = np.uint64((1 << bits) - 1)
    key &= ~low
    key |= np.arange(n, dtype=np.uint64)
    key.sort(axis=-1)
    order = (key & low).astype(np.intp)
    ordered = np.take_along_axis(neg, order, axis=-1)  # missing (NaN) last, as np.sort puts it
    with np.errstate(invalid="ignore"):
        thresholds = ordered - rel_tol * np.abs(ordered)
    thresholds[ordered == np.inf] = np.inf  # inf - inf: a score of -inf ties only with -inf
    out_of_order = (ordered[:, 1:] < ordered[:, :-1]).any(axis=-1)
    near_tie = np.zeros(flat.shape, dtype=bool)
    near_tie[:, 1:] = ordered[:, :-1] >= thresholds[:, 1:]
    near_tie &= ~np.isnan(ordered)  # missing scores get no rank anyway
    np.put_along_axis(out, order, np.arange(1.0, n + 1.0)[None, :], axis=-1)
    for k in np.flatnonzero(near_tie.any(axis=-1) | out_of_order):
        if out_of_order[k]:
            exact, idx = np.sort(ordered[k]), np.arange(n)
        else:
            exact, idx = ordered[k], np.flatnonzero(near_tie[k])
        out[k, order[k, idx]] = np.searchsorted(exact, thresholds[k, idx], side="left") + 1.0


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
    n_blocks = min(_THREADS, flat.shape[0]) if flat.size >= _PARALLEL_MIN_CELLS else 1
    if n_blocks > 1:
        edges = np.linspace(0, flat.shape[0], n_blocks + 1).astype(int)
        blocks = [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
        with ThreadPoolExecutor(n_blocks) as pool:
            list(pool.map(lambda b: _rank_rows(flat[b], out[b], rel_tol), blocks))
    else:
        _rank_rows(flat, out, rel_tol)
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
    key = -values
    order = np.argsort(key, kind="stable")  # missing (NaN) last
    neg_sorted = key[order]
    with np.errstate(invalid="ignore"):
        thresholds = neg_sorted - rel_tol * np.abs(neg_sorted)
    thresholds[neg_sorted == np.inf] = np.inf  # inf - inf: a score of -inf ties only with -inf
    ranks = np.empty(len(values))
    ranks[order] = np.searchsorted(neg_sorted, thresholds, side="left") + 1.0
    ranks[np.isnan(values)] = np.nan
    return ranks, order


def at_precision(scores: np.ndarray, digits: int | None) -> np.ndarray:
    """The scores as they are ranked: rounded half to even to `digits` decimals when given
    (the pipeline's `rank: {digits: 3}`, as UNDP publishes HDI ranks from 3-decimal values;
    equal rounded scores then share the best rank), else the scores themselves."""
    return scores if digits is None else np.round(scores, int(digits))
