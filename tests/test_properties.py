"""Property tests of the pipeline's guarantees."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from aicity.pipeline.aggregate import aggregate, make_plan
from aicity.pipeline.normalize import normalize
from aicity.pipeline.rank import rank_desc
from aicity.pipeline.treat import treat, winsorise_log_column

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(arrays(float, st.tuples(st.integers(2, 30), st.integers(1, 5)), elements=finite),
       st.floats(-100, 100), st.floats(0.5, 200))
def test_minmax_stays_in_range(x, lo, width):
    out = normalize(x, "minmax", np.ones(x.shape[1]), range=[lo, lo + width])
    ok = ~np.isnan(out)
    assert np.all(out[ok] >= lo - 1e-9 * (1 + abs(lo))) and np.all(out[ok] <= lo + width + 1e-9 * (1 + abs(lo + width)))


@given(arrays(float, st.integers(1, 50), elements=finite, unique=True))
def test_ranks_of_distinct_scores_are_a_permutation(x):
    x = x[np.argsort(x)]  # distinct beyond tolerance: space them apart
    x = x + np.arange(len(x)) * (1.0 + np.abs(x).max())
    r = rank_desc(x[:, None])[:, 0]
    assert sorted(r.tolist()) == list(range(1, len(x) + 1))


@given(arrays(float, st.integers(1, 50), elements=finite))
def test_ranks_are_between_1_and_n_and_best_is_1(x):
    r = rank_desc(x[:, None])[:, 0]
    assert r.min() == 1 and r.max() <= len(x)
    assert np.all(r[x == x.max()] == 1)


def _ranks_by_definition(x: np.ndarray) -> np.ndarray:
    """1 + the number of units scoring more than the unit by over 1e-9 (relative)."""
    out = np.full(len(x), np.nan)
    for i, v in enumerate(x):
        if not np.isnan(v):
            out[i] = 1 + np.sum(x[~np.isnan(x)] > v + 1e-9 * abs(v))
    return out


# Scores drawn from a few values, nudged by less or more than the tolerance, with gaps:
# ties, near-ties on both sides of the tolerance, and missing scores in one column.
nudged = st.tuples(st.sampled_from([-3.0, 0.0, 1.0, 2.5, 1e6]), st.sampled_from([0.0, 1e-12, 5e-10, 2e-9, 1e-6]))


@settings(max_examples=300)
@given(st.lists(st.one_of(nudged, st.none()), min_size=1, max_size=40), st.integers(1, 4))
def test_ranks_follow_the_definition_with_ties_near_ties_and_missing(cells, n_cols):
    x = np.array([np.nan if c is None else c[0] * (1 + c[1]) + c[1] for c in cells])
    columns = np.stack([np.roll(x, k) for k in range(n_cols)], axis=1)
    ranks = rank_desc(columns)
    for k in range(n_cols):
        np.testing.assert_array_equal(ranks[:, k], _ranks_by_definition(columns[:, k]))


def test_ranks_of_a_large_block_follow_the_definition():
    """Large enough to be ranked in parallel blocks of rows."""
    rng = np.random.default_rng(3)
    x = np.round(rng.normal(size=(300, 700)), 2)  # many exact ties
    x[rng.random(x.shape) < 0.05] = np.nan
    ranks = rank_desc(x)
    for k in (0, 1, 350, 699):
        np.testing.assert_array_equal(ranks[:, k], _ranks_by_definition(x[:, k]))


def _plan():
    codes = ["a", "b", "c", "P1", "P2", "I"]
    parents = {"a": "P1", "b": "P1", "c": "P2", "P1": "I", "P2": "I", "I": None}
    levels = {"a": 1, "b": 1, "c": 1, "P1": 2, "P2": 2, "I": 3}
    return make_plan(codes, parents, levels, {c: 1.0 for c in codes}, 3)


@settings(max_examples=200)
@given(arrays(float, st.tuples(st.integers(2, 15), st.just(3)), elements=st.floats(0, 1000)),
       st.integers(0, 14), st.integers(0, 2), st.floats(0.001, 500))
def test_raising_a_positive_indicator_never_lowers_the_units_score(x, unit, ind, bump):
    unit = unit % x.shape[0]
    plan, d = _plan(), np.ones(3)
    before = aggregate(normalize(x, "minmax", d), plan)
    y = x.copy()
    y[unit, ind] += bump
    # A column with no spread cannot be min-max normalised (it is reported and left missing).
    assume(np.all(np.ptp(x, axis=0) > 0) and np.all(np.ptp(y, axis=0) > 0))
    after = aggregate(normalize(y, "minmax", d), plan)
    b, a = before[unit, -1], after[unit, -1]
    if not np.isnan(b):
        assert a >= b - 1e-9


@given(st.lists(st.tuples(st.sampled_from([-2.0, 0.5, 1.0, 3e5]), st.integers(-3, 3)), min_size=2, max_size=60))
def test_ranks_of_scores_a_few_ulps_apart_follow_the_definition(cells):
    """Scores a few units in the last place apart, in any order: the ranking's sort keys
    cannot tell them apart, and the exact fallback must."""
    x = np.array([v + k * np.spacing(v) for v, k in cells])
    np.testing.assert_array_equal(rank_desc(x[:, None])[:, 0], _ranks_by_definition(x))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 60), st.integers(1, 6), st.integers(0, 6))
def test_treating_all_columns_at_once_equals_the_per_column_reference(seed, n_units, n_cols, winmax):
    """`treat` (vectorised) against `winsorise_log_column` (COINr's algorithm, one column at a
    time): the same status, the same points moved, the same values."""
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0, rng.uniform(0.1, 2.5, n_cols), size=(n_units, n_cols))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 0] = np.round(x[:, 0], 1)  # ties at the ends
    if n_cols > 1:
        x[rng.random(n_units) < 0.5, 1] = 3.0  # heavy ties
    out, reports = treat(x, winmax=winmax)
    for j in range(n_cols):
        ref, rep = winsorise_log_column(x[:, j], winmax)
        assert reports[j].status == rep.status
        assert (reports[j].winsorised_high, reports[j].winsorised_low) == (rep.winsorised_high, rep.winsorised_low)
        np.testing.assert_allclose(out[:, j], ref, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(reports[j].skew_after, rep.skew_after, rtol=1e-9, atol=1e-9)
