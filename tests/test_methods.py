"""Every pipeline method against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import aicity
from aicity.errors import PipelineError
from aicity.pipeline.aggregate import aggregate_level, rescale_minmax
from aicity.pipeline.denominate import denominate
from aicity.pipeline.impute import impute
from aicity.pipeline.normalize import normalize
from aicity.pipeline.rank import rank_desc, rank_within_groups
from aicity.pipeline.screen import coverage, screen
from aicity.pipeline.treat import kurtosis, log_ct, skewness, treat, winsorise_log_column

X = np.array([[1.0], [2.0], [3.0], [5.0]])
UP, DOWN = np.array([1.0]), np.array([-1.0])


def col(a):
    return np.asarray(a, dtype=float)[:, 0]


@pytest.mark.parametrize(
    ("method", "directions", "params", "expected"),
    [
        ("minmax", UP, {}, [0, 25, 50, 100]),
        ("minmax", UP, {"range": [1, 100]}, [1, 25.75, 50.5, 100]),
        ("minmax", DOWN, {}, [100, 75, 50, 0]),
        ("zscore", UP, {}, [-1.75 / math.sqrt(8.75 / 3), -0.75 / math.sqrt(8.75 / 3), 0.25 / math.sqrt(8.75 / 3), 2.25 / math.sqrt(8.75 / 3)]),
        ("zscore", UP, {"mean": 10, "sd": 2}, [10 - 3.5 / math.sqrt(8.75 / 3), 10 - 1.5 / math.sqrt(8.75 / 3), 10 + 0.5 / math.sqrt(8.75 / 3), 10 + 4.5 / math.sqrt(8.75 / 3)]),
        ("rank", UP, {}, [1, 2, 3, 4]),
        ("rank", DOWN, {}, [4, 3, 2, 1]),
        ("percentile", UP, {}, [0, 1 / 3, 2 / 3, 1]),
        ("borda", UP, {}, [0, 1, 2, 3]),
        ("fracmax", UP, {}, [0.2, 0.4, 0.6, 1.0]),
        ("dist2max", UP, {}, [0, 0.25, 0.5, 1]),
        ("none", DOWN, {}, [-1, -2, -3, -5]),
    ],
)
def test_normalisation_by_hand(method, directions, params, expected):
    np.testing.assert_allclose(col(normalize(X, method, directions, **params)), expected, atol=1e-12)


def test_rank_normalisations_share_the_lowest_rank_on_ties():
    x = np.array([[1.0], [2.0], [2.0], [5.0], [np.nan]])
    np.testing.assert_array_equal(col(normalize(x, "rank", UP)), [1, 2, 2, 4, np.nan])
    np.testing.assert_array_equal(col(normalize(x, "borda", UP)), [0, 1, 1, 3, np.nan])
    np.testing.assert_allclose(col(normalize(x, "percentile", UP)), [0, 1 / 3, 1 / 3, 1, np.nan])


def test_dist2target_and_goalposts_by_hand():
    targets = np.array([4.0])
    np.testing.assert_allclose(col(normalize(X, "dist2target", UP, targets=targets)), [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(col(normalize(X, "dist2target", UP, targets=targets, cap=False)), [0, 1 / 3, 2 / 3, 4 / 3])
    # Lower is better, target 2: 1 - (x - 2) / (max - 2) = 1 - (x - 2) / 3
    np.testing.assert_allclose(col(normalize(X, "dist2target", DOWN, targets=np.array([2.0]))), [1, 1, 2 / 3, 0])
    lo, hi = np.array([0.0]), np.array([4.0])
    np.testing.assert_allclose(col(normalize(X, "goalposts", UP, goalposts_lo=lo, goalposts_hi=hi)), [25, 50, 75, 100])
    np.testing.assert_allclose(col(normalize(X, "goalposts", DOWN, goalposts_lo=lo, goalposts_hi=hi)), [75, 50, 25, 0])
    with pytest.raises(PipelineError, match="without goalposts"):
        normalize(X, "goalposts", UP)


def test_normalisation_keeps_missing_missing_and_flags_constant():
    x = np.array([[1.0, 7.0], [np.nan, 7.0], [3.0, 7.0]])
    out = normalize(x, "minmax", np.array([1.0, 1.0]))
    np.testing.assert_allclose(out[:, 0], [0, np.nan, 100])
    assert np.isnan(out[:, 1]).all()  # no spread: missing, not an invented 0 or 50


MISSING = np.array([[1.0, np.nan], [3.0, 4.0], [np.nan, 8.0], [5.0, 6.0]])
GROUPS = np.array(["a", "a", "b", "b"], dtype=object)


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("none", [[1, np.nan], [3, 4], [np.nan, 8], [5, 6]]),
        ("mean", [[1, 6], [3, 4], [3, 8], [5, 6]]),
        ("median", [[1, 6], [3, 4], [3, 8], [5, 6]]),
        ("group_mean", [[1, 4], [3, 4], [5, 8], [5, 6]]),
        ("group_median", [[1, 4], [3, 4], [5, 8], [5, 6]]),
    ],
)
def test_imputation_by_hand(method, expected):
    np.testing.assert_allclose(impute(MISSING, method, GROUPS), expected)


def test_group_median_and_mean_differ_by_hand():
    x = np.array([[1.0], [2.0], [10.0], [np.nan]])
    groups = np.array(["g"] * 4, dtype=object)
    assert impute(x, "group_mean", groups)[3, 0] == pytest.approx(13 / 3)
    assert impute(x, "group_median", groups)[3, 0] == 2.0


def test_group_with_no_data_stays_missing():
    x = np.array([[1.0], [np.nan], [np.nan]])
    out = impute(x, "group_mean", np.array(["a", "b", "b"], dtype=object))
    assert np.isnan(out[1:, 0]).all() and out[0, 0] == 1.0


def test_knn_takes_the_nearest_units():
    x = np.array([[0.0, 0.0, 10.0], [0.1, 0.1, 20.0], [5.0, 5.0, 30.0], [0.02, 0.02, np.nan]])
    assert impute(x, "knn", k=1)[3, 2] == pytest.approx(10.0)
    assert impute(x, "knn", k=2)[3, 2] == pytest.approx(15.0)
    np.testing.assert_array_equal(impute(x, "knn", k=2)[:3], x[:3])


def test_iterative_recovers_a_linear_relation():
    x = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [5.0, 10.0], [4.0, np.nan]])
    assert impute(x, "iterative")[4, 1] == pytest.approx(8.0, abs=0.05)


CHILDREN = np.array([[10.0, 20.0, 40.0]])
W = np.array([1.0, 1.0, 2.0])
ONE_GROUP = np.ones((3, 1))


@pytest.mark.parametrize(
    ("method", "params", "expected"),
    [
        ("arithmetic", {}, 27.5),
        ("geometric", {}, 320000 ** 0.25),
        ("harmonic", {}, 20.0),
        ("generalised_mean", {"p": 2}, math.sqrt(925)),
        ("generalised_mean", {"p": 0}, 320000 ** 0.25),
        ("generalised_mean", {"p": -1}, 20.0),
        ("sum", {}, 110.0),
    ],
)
def test_aggregation_by_hand(method, params, expected):
    assert aggregate_level(CHILDREN, ONE_GROUP, W, method, **params)[0, 0] == pytest.approx(expected)


def test_aggregation_skips_missing_children_and_respects_min_share():
    x = np.array([[10.0, np.nan, 40.0]])
    assert aggregate_level(x, ONE_GROUP, W, "arithmetic")[0, 0] == pytest.approx(30.0)
    assert np.isnan(aggregate_level(x, ONE_GROUP, W, "arithmetic", min_share=0.7)[0, 0])
    assert aggregate_level(x, ONE_GROUP, W, "arithmetic", min_share=0.6)[0, 0] == pytest.approx(30.0)
    assert np.isnan(aggregate_level(np.full((1, 3), np.nan), ONE_GROUP, W, "arithmetic")[0, 0])


def test_a_zero_child_gives_zero_and_a_negative_one_names_units_and_indicators():
    x = np.array([[0.0, 1.0, 2.0], [1.0, 2.0, 4.0]])
    notes: list = []
    out = aggregate_level(x, ONE_GROUP, W, "geometric", child_codes=["gdp", "b", "c"], group_codes=["G"], notes=notes)
    assert out[0, 0] == 0 and out[1, 0] > 0
    assert notes == [{"kind": "zero", "method": "geometric", "group": "G", "units": [0]}]
    assert aggregate_level(x, ONE_GROUP, W, "harmonic")[0, 0] == 0
    with pytest.raises(PipelineError, match=r"b is negative for U2"):
        aggregate_level(np.array([[1.0, 1.0, 2.0], [1.0, -1.0, 2.0]]), ONE_GROUP, W, "harmonic",
                        child_codes=["a", "b", "c"], unit_codes=["U1", "U2"])


def test_copeland_by_hand():
    x = np.array([[3.0, 1.0], [2.0, 2.0], [1.0, 3.0]])
    # Weighted 2:1, A beats B and C on the heavier child, B beats C: 2, 0, -2.
    out = aggregate_level(x, np.ones((2, 1)), np.array([2.0, 1.0]), "copeland")
    np.testing.assert_array_equal(out[:, 0], [2, 0, -2])
    even = aggregate_level(x, np.ones((2, 1)), np.array([1.0, 1.0]), "copeland")
    np.testing.assert_array_equal(even[:, 0], [0, 0, 0])


def test_per_sample_weights_batch():
    x = np.broadcast_to(CHILDREN, (2, 1, 3))
    w = np.array([[1.0, 1.0, 2.0], [1.0, 0.0, 0.0]])
    out = aggregate_level(x, ONE_GROUP, w, "arithmetic")
    np.testing.assert_allclose(out[:, 0, 0], [27.5, 10.0])


def test_rescale_minmax():
    np.testing.assert_allclose(rescale_minmax(np.array([[2.0], [4.0], [6.0]]), 0, 100)[:, 0], [0, 50, 100])


def test_ranks_best_first_with_tolerance_and_missing():
    s = np.array([[10.0], [10.0 + 1e-12], [9.0], [np.nan], [11.0]])
    np.testing.assert_array_equal(rank_desc(s)[:, 0], [2, 2, 4, np.nan, 1])
    groups = np.array(["x", "y", "x", "x", "y"], dtype=object)
    np.testing.assert_array_equal(rank_within_groups(s, groups)[:, 0], [1, 2, 2, np.nan, 1])


def test_sample_skewness_and_kurtosis_by_hand():
    x = np.array([1.0, 2.0, 3.0, 10.0])
    n, m = 4, 4.0
    d = x - m
    m2, m3, m4 = (d**2).mean(), (d**3).mean(), (d**4).mean()
    assert skewness(x) == pytest.approx(math.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5)
    assert kurtosis(x) == pytest.approx((n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * m4 / m2**2 - 3 * (n - 1)))


def test_winsorising_one_outlier():
    x = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 100.0])
    out, rep = winsorise_log_column(x)
    assert rep.status == "winsorised" and rep.winsorised_high == [9]
    np.testing.assert_array_equal(out, [1, 2, 3, 4, 5, 6, 7, 8, 9, 9])


def test_an_excluded_indicator_is_left_as_it_is_and_reported():
    x = np.array([[1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6], [7, 7], [8, 8], [9, 9], [100.0, 100.0]])
    out, reports = treat(x, exclude=np.array([False, True]))
    np.testing.assert_array_equal(out[:, 0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 9])  # winsorised
    np.testing.assert_array_equal(out[:, 1], x[:, 1])  # as it was
    assert [r.status for r in reports] == ["winsorised", "excluded"]
    assert reports[1].skew_after == reports[1].skew_before == skewness(x[:, 1])


def test_treat_false_in_the_framework_reaches_the_build(tmp_path):
    spec = {
        "index": {"code": "I", "names": {"en": "I"}},
        "groups": [{"code": "P", "parent": "I"}],
        "indicators": [{"code": "a", "parent": "P"}, {"code": "b", "parent": "P", "treat": False}],
    }
    rows = "".join(f"U{i},{v},{v}\n" for i, v in enumerate([1, 2, 3, 4, 5, 6, 7, 8, 9, 100]))
    (tmp_path / "d.csv").write_text("unit,a,b\n" + rows)
    result = aicity.build(spec, tmp_path / "d.csv", {"treat": {"method": "winsorise_log"}})
    assert result.stages["treated"]["a"].max() == 9 and result.stages["treated"]["b"].max() == 100
    assert result.treatment.set_index("indicator").status.to_dict() == {"a": "winsorised", "b": "excluded"}


def test_log_fallback_when_winsorising_is_not_allowed():
    x = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 100.0])
    out, rep = winsorise_log_column(x, winmax=0)
    np.testing.assert_allclose(out, np.log(x - 1 + 0.99))
    np.testing.assert_allclose(log_ct(x), out)
    assert rep.status in ("log", "log_failed")


def test_screen_and_coverage():
    x = np.array([[1.0, 2.0, 3.0], [1.0, np.nan, np.nan], [np.nan, 1.0, 2.0]])
    np.testing.assert_allclose(coverage(x), [1, 1 / 3, 2 / 3])
    np.testing.assert_array_equal(screen(x, 2 / 3), [True, False, True])


def test_denominate_by_hand():
    out = denominate(np.array([[10.0, 3.0], [20.0, 4.0]]), np.array([[2.0, 1.0], [0.0, 1.0]]))
    np.testing.assert_array_equal(out, [[5.0, 3.0], [np.nan, 4.0]])


def test_generalised_mean_with_negative_p_skips_missing_children():
    x = np.array([[10.0, np.nan, 40.0]])
    # p = -1 is the weighted harmonic mean of the present children: 3 / (1/10 + 2/40)
    assert aggregate_level(x, ONE_GROUP, W, "generalised_mean", p=-1)[0, 0] == pytest.approx(20.0)


def test_shared_data_with_per_sample_weights_equals_one_product_per_sample():
    from aicity.pipeline.aggregate import aggregate, make_plan

    rng = np.random.default_rng(3)
    codes = ["a", "b", "c", "d", "P", "Q", "I"]
    parents = {"a": "P", "b": "P", "c": "Q", "d": "I", "P": "I", "Q": "I", "I": None}
    levels = {"a": 1, "b": 1, "c": 1, "d": 1, "P": 2, "Q": 2, "I": 3}
    plan = make_plan(codes, parents, levels, {c: 1.0 for c in codes}, 4)
    x = rng.uniform(1, 100, size=(6, 4))
    x[2, 1] = np.nan
    w = rng.uniform(0.5, 2, size=(5, len(codes)))
    for method in ("arithmetic", "geometric", "harmonic"):
        batched = aggregate(x, plan, method, weights=w)
        for s in range(5):
            np.testing.assert_allclose(batched[s], aggregate(x, plan, method, weights=w[s]), rtol=1e-12)


def test_rank_with_order_equals_rank_desc():
    from aicity.pipeline.rank import rank_with_order

    rng = np.random.default_rng(5)
    for _ in range(20):
        x = np.round(rng.normal(size=300), 1)  # many ties
        x[rng.random(300) < 0.05] = np.nan
        ranks, order = rank_with_order(x)
        np.testing.assert_array_equal(ranks, rank_desc(x[:, None])[:, 0])
        ok = order[: int(np.sum(~np.isnan(x)))]
        assert (np.diff(x[ok]) <= 0).all() and np.isnan(x[order[len(ok):]]).all()


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([np.inf, np.inf, 1.0, np.nan, -np.inf, -np.inf], [1, 1, 3, np.nan, 4, 4]),
        ([np.inf, 1.0, 1.0 + 1e-15, 1.0 + 2e-15, 0.5], [1, 2, 2, 2, 5]),  # the exact-sort fallback
        ([np.nan, -np.inf, 1.0], [np.nan, 2, 1]),
    ],
)
def test_ranks_with_infinite_scores(scores, expected):
    """A generalised mean with a large p can overflow: +inf is best, -inf worst, ties share."""
    from aicity.pipeline.rank import rank_with_order

    x = np.array(scores)
    np.testing.assert_array_equal(rank_desc(x[:, None])[:, 0], expected)
    np.testing.assert_array_equal(rank_with_order(x)[0], expected)


def test_treatment_of_a_column_that_goes_constant_stops_and_logs():
    """With thresholds not even a constant passes (the functions take them; a pipeline spec
    refuses them), winsorising runs out of values: it stops (it used to loop for ever) and
    falls back to the log, in both implementations."""
    x = np.array([[1.0], [1.0], [1.0], [2.0]])
    out, reports = treat(x, "winsorise_log", 5, 0.0, 0.0)
    ref, rep = winsorise_log_column(x[:, 0], 5, 0.0, 0.0)
    assert reports[0].status == rep.status == "log_failed"
    np.testing.assert_allclose(out[:, 0], ref)
    np.testing.assert_allclose(ref, log_ct(x[:, 0]))


@pytest.mark.parametrize(("params", "message"), [({"skew": 0}, "skew must be a positive number"),
                                                 ({"kurtosis": float("nan")}, "'kurtosis' must be a finite number")])
def test_treatment_thresholds_are_checked(params, message):
    from aicity.errors import InputError
    from aicity.spec import parse_pipeline

    with pytest.raises(InputError, match=message):
        parse_pipeline({"treat": {"method": "winsorise_log", **params}})
