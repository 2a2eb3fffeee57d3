"""Aggregations beyond the means (product, TOPSIS, benefit of the doubt), non-positive children,
per-group and per-level methods, directions for every normalisation and ranks at a precision;
each against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import aicity
from aicity.errors import InputError, PipelineError
from aicity.pipeline.aggregate import aggregate_level
from aicity.pipeline.normalize import DIRECTIONS, METHODS, normalize
from aicity.pipeline.rank import at_precision, rank_desc

ONE = np.ones((2, 1))
X = np.array([[1.0], [2.0], [3.0], [5.0]])
DOWN = np.array([-1.0])


# -- product (WASPAS's weighted product model) ------------------------------------------

def test_product_uses_the_weights_as_given():
    x = np.array([[2.0, 3.0], [1.0, 4.0], [np.nan, 2.0], [0.0, 5.0]])
    out = aggregate_level(x, ONE, np.array([1.0, 2.0]), "product")[:, 0]
    # 2 * 3^2 = 18; 1 * 4^2 = 16; a missing weighted child: missing; a zero child: 0
    np.testing.assert_allclose(out[:2], [18.0, 16.0])
    assert np.isnan(out[2]) and out[3] == 0


# -- TOPSIS ------------------------------------------------------------------------------

def test_topsis_by_hand():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    w = np.array([1.0, 1.0])
    out = aggregate_level(x, ONE, w, "topsis")[:, 0]
    # ideal (1, 1), anti-ideal (0, 0): every unit is 1 from one and 1 from the other, but C is
    # sqrt(0.5) from both
    np.testing.assert_allclose(out, [0.5, 0.5, 0.5])
    w2 = np.array([3.0, 1.0])
    out = aggregate_level(x, ONE, w2, "topsis")[:, 0]
    # weighted: A (3, 0), B (0, 1), C (1.5, 0.5); ideal (3, 1), anti (0, 0)
    d_plus = np.array([1.0, 3.0, math.hypot(1.5, 0.5)])
    d_minus = np.array([3.0, 1.0, math.hypot(1.5, 0.5)])
    np.testing.assert_allclose(out, d_minus / (d_plus + d_minus))


# -- benefit of the doubt ----------------------------------------------------------------

Y = np.array([[1.0, 0.5], [0.5, 1.0], [0.6, 0.6]])


def test_bod_by_hand_with_reported_weights():
    notes: list = []
    out = aggregate_level(Y, ONE, np.ones(2), "bod", group_codes=["G"], child_codes=["y1", "y2"], notes=notes)[:, 0]
    # A and B are on the frontier; C's best weights are (2/3, 2/3): 0.6 * 4/3 = 0.8
    np.testing.assert_allclose(out, [1.0, 1.0, 0.8], atol=1e-9)
    c = next(n for n in notes if n["unit"] == 2)
    np.testing.assert_allclose([c["weights"]["y1"], c["weights"]["y2"]], [2 / 3, 2 / 3], atol=1e-9)
    np.testing.assert_allclose(sum(c["shares"].values()), 1.0)


def test_bod_weight_ratio_and_bounds():
    # w1 <= 1.0 w2 and w2 <= 1.0 w1: equal weights, so A scores 1.5 w with 1.5 w <= 1
    out = aggregate_level(Y, ONE, np.ones(2), "bod", max_weight_ratio=1.0)[:, 0]
    np.testing.assert_allclose(out, [1.0, 1.0, 0.8], atol=1e-9)
    # w <= 0.5: A = 0.5 + 0.25
    out = aggregate_level(Y, ONE, np.ones(2), "bod", bounds=[0, 0.5])[:, 0]
    np.testing.assert_allclose(out, [0.75, 0.75, 0.6], atol=1e-9)


def test_bod_in_a_build_reports_each_units_weights():
    fw = {"index": {"code": "IDX", "aggregate": "bod"},
          "indicators": [{"code": "y1", "parent": "IDX"}, {"code": "y2", "parent": "IDX"}]}
    data = pd.DataFrame({"unit": ["A", "B", "C"], "y1": [10, 5, 6], "y2": [5, 10, 6]})
    r = aicity.build(fw, data, {"normalize": "fracmax"})
    np.testing.assert_allclose(r.scores["IDX"], [1.0, 1.0, 0.8], atol=1e-9)
    assert set(r.bod_weights.columns) == {"unit", "group", "child", "weight", "share"}
    assert len(r.bod_weights) == 6 and set(r.bod_weights.unit) == {"A", "B", "C"}


@settings(max_examples=40, deadline=None)
@given(arrays(float, (6, 3), elements=st.floats(0.0, 100.0)))
def test_bod_scores_are_in_0_1_and_at_least_the_equal_weight_share_of_the_best(y):
    out = aggregate_level(y, np.ones((3, 1)), np.ones(3), "bod")[:, 0]
    assert np.all(out >= -1e-9) and np.all(out <= 1)
    if (y > 1e-6).any():  # the best unit on some weights is on the frontier: someone scores 1
        assert out.max() == pytest.approx(1.0, abs=1e-6)
    mean = y.mean(axis=1)
    if mean.max() > 0:
        assert np.all(out >= mean / mean.max() - 1e-7)


# -- zeros and negatives -----------------------------------------------------------------

NEG = np.array([[4.0, -1.0], [1.0, 4.0], [4.0, 4.0]])


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("zero", [0.0, 2.0, 4.0]),  # -1 counts as 0
        ("missing", [4.0, 2.0, 4.0]),  # A's -1 left out: the mean of 4 alone
        # the second child moves up by 1 - (-1) = 2: A (4, 1), B (1, 6), C (4, 6)
        ("shift", [2.0, math.sqrt(6.0), math.sqrt(24.0)]),
    ],
)
def test_on_nonpositive_options_by_hand(option, expected):
    notes: list = []
    out = aggregate_level(NEG, ONE, np.ones(2), "geometric", on_nonpositive=option, child_codes=["a", "b"], notes=notes)[:, 0]
    np.testing.assert_allclose(out, expected)
    assert notes and notes[0]["child"] == "b" and notes[0]["units"] == [0]


def test_a_negative_child_is_an_error_by_default_but_only_one_unit_is_named():
    with pytest.raises(PipelineError, match="b is negative for A"):
        aggregate_level(NEG, ONE, np.ones(2), "geometric", child_codes=["a", "b"], unit_codes=["A", "B", "C"])


# -- per-group and per-level aggregation -------------------------------------------------

TREE = {
    "index": {"code": "IDX"},
    "groups": [{"code": "P", "parent": "IDX"}, {"code": "Q", "parent": "IDX"}],
    "indicators": [{"code": "a", "parent": "P"}, {"code": "b", "parent": "P"},
                   {"code": "c", "parent": "Q"}, {"code": "d", "parent": "Q", "weight": 2}],
}
DATA = pd.DataFrame({"unit": list("VWXYZ"), "a": [1, 2, 3, 4, 5], "b": [5, 3, 4, 1, 2],
                     "c": [2, 2, 5, 1, 3], "d": [9, 1, 4, 4, 6]})
PIPE = {"normalize": {"method": "minmax", "range": [1, 100]}}


def with_group_method(method: str) -> dict:
    fw = {**TREE, "groups": [{"code": "P", "parent": "IDX", "aggregate": method}, {"code": "Q", "parent": "IDX"}]}
    return fw


def test_a_group_override_equals_two_separate_builds():
    mixed = aicity.build(with_group_method("geometric"), DATA, PIPE)
    geo = aicity.build(TREE, DATA, {**PIPE, "aggregate": "geometric"})
    ari = aicity.build(TREE, DATA, PIPE)
    np.testing.assert_allclose(mixed.scores["P"], geo.scores["P"])
    np.testing.assert_allclose(mixed.scores["Q"], ari.scores["Q"])
    np.testing.assert_allclose(mixed.scores["IDX"], (mixed.scores["P"] + mixed.scores["Q"]) / 2)


def test_the_per_level_form_and_who_wins():
    by_level = aicity.build(TREE, DATA, {**PIPE, "aggregate": {"method": "arithmetic", "levels": {3: "geometric"}}})
    np.testing.assert_allclose(by_level.scores["IDX"], np.sqrt(by_level.scores["P"] * by_level.scores["Q"]))
    # a group's own wins over its level's
    both = aicity.build(with_group_method("harmonic"), DATA, {**PIPE, "aggregate": {"levels": {2: "geometric"}}})
    geo = aicity.build(TREE, DATA, {**PIPE, "aggregate": "geometric"})
    harm = aicity.build(TREE, DATA, {**PIPE, "aggregate": "harmonic"})
    np.testing.assert_allclose(both.scores["P"], harm.scores["P"])
    np.testing.assert_allclose(both.scores["Q"], geo.scores["Q"])
    with pytest.raises(InputError, match="level 1 has nothing to aggregate"):
        aicity.build(TREE, DATA, {"aggregate": {"levels": {1: "geometric"}}})


def test_reweighting_and_rebuilds_follow_each_groups_method():
    from aicity.personas import reweight

    r = aicity.build(with_group_method("geometric"), DATA, PIPE)
    fast = reweight(r, {"c": 3.0, "P": 2.0})
    full = aicity.build({**with_group_method("geometric"), "indicators": [
        *TREE["indicators"][:2], {"code": "c", "parent": "Q", "weight": 3}, TREE["indicators"][3]],
        "groups": [{"code": "P", "parent": "IDX", "aggregate": "geometric", "weight": 2}, {"code": "Q", "parent": "IDX"}]}, DATA, PIPE)
    np.testing.assert_allclose(fast.scores.to_numpy(), full.scores.to_numpy())
    np.testing.assert_allclose(r.rebuild().scores.to_numpy(), r.scores.to_numpy())


# -- directions, for every normalisation -------------------------------------------------

@pytest.mark.parametrize(
    ("method", "params", "expected"),
    [
        ("minmax", {}, [100, 75, 50, 0]),
        ("zscore", {}, [1.75 / math.sqrt(8.75 / 3), 0.75 / math.sqrt(8.75 / 3), -0.25 / math.sqrt(8.75 / 3), -2.25 / math.sqrt(8.75 / 3)]),
        ("rank", {}, [4, 3, 2, 1]),
        ("percentile", {}, [1, 2 / 3, 1 / 3, 0]),
        ("borda", {}, [3, 2, 1, 0]),
        ("fracmax", {}, [1, 1 / 2, 1 / 3, 1 / 5]),  # min(x) / x
        ("fracmax", {"direction_rule": "coinr"}, [1, 2, 3, 5]),  # COINr's -x / max(-x)
        ("dist2max", {}, [1, 0.75, 0.5, 0]),
        ("vector", {}, [-1 / math.sqrt(39), -2 / math.sqrt(39), -3 / math.sqrt(39), -5 / math.sqrt(39)]),
        ("none", {}, [-1, -2, -3, -5]),
    ],
)
def test_lower_is_better_means_what_the_literature_means(method, params, expected):
    np.testing.assert_allclose(normalize(X, method, DOWN, **params)[:, 0], expected, atol=1e-12)


def test_targets_and_goalposts_for_lower_is_better_by_hand():
    # target 2: 1 - (x - 2) / (max - 2), capped at 1
    np.testing.assert_allclose(normalize(X, "dist2target", DOWN, targets=np.array([2.0]))[:, 0], [1, 1, 2 / 3, 0])
    # goalposts [0, 5]: (5 - x) / 5 scaled to [0, 100]
    np.testing.assert_allclose(normalize(X, "goalposts", DOWN, goalposts_lo=np.array([0.0]), goalposts_hi=np.array([5.0]))[:, 0],
                               [80, 60, 40, 0])


def test_the_directions_table_covers_every_method():
    assert set(DIRECTIONS) == set(METHODS)


# -- ranks at a stated precision ---------------------------------------------------------

def test_ranks_of_rounded_scores_share_the_best_rank():
    s = np.array([[0.9664], [0.9659], [0.9294], [0.9651]])
    np.testing.assert_array_equal(rank_desc(s)[:, 0], [1, 2, 4, 3])
    # 0.966, 0.966, 0.929, 0.965
    np.testing.assert_array_equal(rank_desc(at_precision(s, 3))[:, 0], [1, 1, 4, 3])


def test_rank_digits_in_a_build_and_its_reweighting():
    from aicity.personas import reweighted_ranking

    fw = {"index": {"code": "IDX"}, "indicators": [{"code": "a", "parent": "IDX"}]}
    data = pd.DataFrame({"unit": ["A", "B", "C"], "a": [0.9664, 0.9659, 0.5]})
    r = aicity.build(fw, data, {"normalize": "none", "rank": {"digits": 3}})
    assert r.ranks["IDX"].tolist() == [1, 1, 3] and r.ranks["a"].tolist() == [1, 1, 3]
    assert r.scores.at["A", "IDX"] == 0.9664  # scores keep full precision; only ranking rounds
    _, ranks, _ = reweighted_ranking(r, {"a": 2.0})
    assert ranks.tolist() == [1, 1, 3]
    with pytest.raises(InputError, match="digits must be a whole number from 0 to 12"):
        aicity.build(fw, data, {"rank": {"digits": 2.5}})


def test_contributions_follow_each_groups_method_and_add_up():
    from aicity.compare import contributions

    r = aicity.build(with_group_method("geometric"), DATA, PIPE)
    c = contributions(r, "X", "V")
    assert c.contribution.sum() == pytest.approx(c.attrs["gap"])
    # P (geometric) splits its part by the logarithmic-mean Divisia rule, Q (arithmetic) linearly
    s = r.scores
    p_part = (s.at["X", "P"] - s.at["V", "P"]) / 2
    la = np.log(s.loc["X", ["a", "b"]].to_numpy()) / 2
    lb = np.log(s.loc["V", ["a", "b"]].to_numpy()) / 2
    expected_ab = p_part * (la - lb) / (la - lb).sum()
    np.testing.assert_allclose(c.set_index("code").loc[["a", "b"], "contribution"], expected_ab)
    q_gap = s.at["X", "Q"] - s.at["V", "Q"]
    d = np.array([(s.at["X", "c"] - s.at["V", "c"]) / 3, 2 * (s.at["X", "d"] - s.at["V", "d"]) / 3])
    np.testing.assert_allclose(c.set_index("code").loc[["c", "d"], "contribution"], q_gap / 2 * d / d.sum())
    topsis = aicity.build(with_group_method("topsis"), DATA, PIPE)
    with pytest.raises(InputError, match=r"P \(topsis\)"):
        contributions(topsis, "X", "V")


def test_bod_weights_are_written_with_the_results(tmp_path):
    from aicity.export import write_outputs

    fw = {"index": {"code": "IDX", "aggregate": "bod"},
          "indicators": [{"code": "y1", "parent": "IDX"}, {"code": "y2", "parent": "IDX"}]}
    data = pd.DataFrame({"unit": ["A", "B", "C"], "y1": [10, 5, 6], "y2": [5, 10, 6]})
    written = write_outputs(aicity.build(fw, data, {"normalize": "fracmax"}), tmp_path)
    table = pd.read_csv(written["bod_weights"])
    c = table[table.unit == "C"].set_index("child")
    np.testing.assert_allclose(c.weight, [2 / 3, 2 / 3], atol=1e-9)
    assert "BoD weights" in pd.ExcelFile(written["xlsx"]).sheet_names


@settings(max_examples=30, deadline=None)
@given(arrays(float, (5, 4), elements=st.floats(1.0, 1000.0)), st.sampled_from(["geometric", "harmonic", "product", "topsis"]))
def test_any_group_override_equals_two_separate_builds(values, method):
    data = pd.DataFrame(values, columns=list("abcd")).assign(unit=list("VWXYZ"))
    pipe = {"normalize": {"method": "minmax", "range": [1, 100]}}
    mixed = aicity.build(with_group_method(method), data, pipe)
    own = aicity.build(TREE, data, {**pipe, "aggregate": method})
    ari = aicity.build(TREE, data, pipe)
    np.testing.assert_allclose(mixed.scores["P"], own.scores["P"], equal_nan=True)
    np.testing.assert_allclose(mixed.scores["Q"], ari.scores["Q"], equal_nan=True)


def test_a_power_mean_with_positive_p_is_not_zeroed_by_a_zero_child():
    out = aggregate_level(np.array([[0.0, 1.0]]), ONE, np.ones(2), "generalised_mean", p=0.5)[0, 0]
    assert out == pytest.approx(((0.0 ** 0.5 + 1.0 ** 0.5) / 2) ** 2)  # 0.25, not 0


@pytest.mark.parametrize("framework", [
    {**TREE, "groups": [{"code": "P", "parent": "IDX", "aggregate": "geometric"}, {"code": "Q", "parent": "IDX"}]},
    {**TREE, "index": {"code": "IDX", "aggregate": "topsis"}},
])
def test_uncertainty_with_varying_weights_under_a_groups_own_method(framework):
    """Per-sample weights meet shared 2-D data at a level whose groups differ in method (and in
    TOPSIS): each sample equals a build with that sample's weights."""
    from aicity.pipeline.aggregate import aggregate

    r = aicity.build(framework, DATA, PIPE)
    rng = np.random.default_rng(2)
    weights = np.tile(r.weights, (4, 1)) * rng.uniform(0.5, 1.5, (4, len(r.weights)))
    method, params = r.aggregation
    batched = aggregate(r.scores_array[:, :4], r.plan, method, weights=weights, aggregates_only=True, **params)
    for k in range(4):
        one = aggregate(r.scores_array[:, :4], r.plan, method, weights=weights[k], aggregates_only=True, **params)
        np.testing.assert_allclose(batched[k], one)
    from aicity.uncertainty import run_uncertainty

    ua = run_uncertainty(framework, DATA, PIPE, samples=50, uncertainty={"inputs": {"weights": {"noise": 0.2, "levels": [1]}}})
    assert len(ua.rank_intervals()) == 5


# -- review fixes ------------------------------------------------------------------------

def test_group_ranks_and_the_audit_rank_at_the_specs_precision():
    fw = {"index": {"code": "IDX"}, "indicators": [{"code": "a", "parent": "IDX"}]}
    data = pd.DataFrame({"unit": ["A", "B", "C"], "a": [0.9664, 0.9659, 0.5], "g": ["x", "x", "x"]})
    r = aicity.build(fw, data, {"normalize": "none", "rank": {"digits": 3}})
    assert r.group_ranks("g")["IDX"].tolist() == [1, 1, 3]


def test_re_weighting_checks_the_weights_the_build_used():
    from aicity.personas import reweight

    fw = {**TREE, "weight_sets": {"no_a": {"a": 0}}}
    r = aicity.build(fw, DATA, {**PIPE, "weights": "no_a"})
    with pytest.raises(InputError, match="all children of 'P' have weight 0"):
        reweight(r, {"b": 0})


def test_contributions_refuse_handled_non_positive_values():
    from aicity.compare import contributions

    r = aicity.build(with_group_method("geometric"), DATA, {**PIPE, "aggregate": {"method": "geometric", "on_nonpositive": "zero"}})
    with pytest.raises(InputError, match="on_nonpositive"):
        contributions(r, "X", "V")


def test_levels_beyond_the_tree_are_an_error():
    with pytest.raises(InputError, match=r"level\(s\) \[9\]"):
        aicity.build(TREE, DATA, {"aggregate": {"levels": {9: "geometric"}}})


def test_fracmax_of_a_cost_indicator_needs_positive_values():
    with pytest.raises(PipelineError, match="needs positive values"):
        normalize(np.array([[0.0], [2.0], [4.0]]), "fracmax", DOWN, codes=["cost"])


def test_a_transformed_indicator_is_not_outlier_treated():
    fw = {"index": {"code": "IDX"}, "indicators": [{"code": "a", "parent": "IDX", "transform": "log"},
                                                    {"code": "b", "parent": "IDX"}]}
    values = [1.0, 2.0, 3.0, 2.0, 1.5, 2.5, 1.0, 2.0, 3.0, 1e5]
    data = pd.DataFrame({"unit": [f"u{i}" for i in range(10)], "a": values, "b": values})
    r = aicity.build(fw, data, {"treat": {"method": "winsorise_log"}})
    status = r.treatment.set_index("indicator")["status"]
    assert status["a"] == "excluded" and status["b"] != "excluded"
    assert r.stages["transformed"].at["u9", "a"] == pytest.approx(math.log(1e5))  # logged once


def test_report_scores_take_the_index_scale():
    r = aicity.build({**TREE, "index": {"code": "IDX", "aggregate": "topsis"}}, DATA, PIPE)
    assert r.score_digits == 3  # closeness in [0, 1] over indicators on [1, 100]


@pytest.mark.parametrize("p", [2, 3, 0.5])
def test_a_power_mean_of_a_negative_child_is_refused_not_turned_positive(p):
    # (-3, -3) has no power mean for p = 2 (the squares' root, 3, would lose the sign) nor for
    # p = 3 (the cube root of a negative mean is NaN in floating point)
    x = np.array([[-3.0, -3.0], [1.0, 2.0]])
    with pytest.raises(PipelineError, match=r"generalised mean \(p = .*\) aggregation needs values >= 0"):
        aggregate_level(x, ONE, np.ones(2), "generalised_mean", p=p, child_codes=["a", "b"], unit_codes=["U", "V"])


def test_a_power_mean_with_shifted_or_missing_negatives_by_hand():
    x = np.array([[-1.0, 0.0], [1.0, 3.0]])
    # shift: each child with a negative moves up by 1 - its minimum (a: +2), b untouched
    shifted = aggregate_level(x, ONE, np.ones(2), "generalised_mean", p=2, on_nonpositive="shift")[:, 0]
    np.testing.assert_allclose(shifted, [math.sqrt((1.0 + 0.0) / 2), math.sqrt((9.0 + 9.0) / 2)])
    # missing: the negative child is left out, the zero stays a value (p > 0)
    missing = aggregate_level(x, ONE, np.ones(2), "generalised_mean", p=2, on_nonpositive="missing")[:, 0]
    np.testing.assert_allclose(missing, [0.0, math.sqrt((1.0 + 9.0) / 2)])
    # p = 1 is the arithmetic mean, signs and all
    assert aggregate_level(x, ONE, np.ones(2), "generalised_mean", p=1)[0, 0] == pytest.approx(-0.5)


def test_reweighting_a_bod_index_reports_the_new_weights_not_the_old():
    from aicity.personas import reweight

    fw = {"index": {"code": "IDX", "aggregate": "bod"},
          "indicators": [{"code": c, "parent": "IDX"} for c in ("y1", "y2", "y3")]}
    data = pd.DataFrame({"unit": ["A", "B", "C"], "y1": [10, 5, 6], "y2": [5, 10, 6], "y3": [1, 2, 9]})
    r = aicity.build(fw, data, {"normalize": "fracmax"})
    assert "y3" in set(r.bod_weights.child)
    fast = reweight(r, {"y3": 0})
    full = aicity.build({**fw, "indicators": [*fw["indicators"][:2], {"code": "y3", "parent": "IDX", "weight": 0}]},
                        data, {"normalize": "fracmax"})
    assert "y3" not in set(fast.bod_weights.child)
    pd.testing.assert_frame_equal(fast.bod_weights, full.bod_weights)
    np.testing.assert_allclose(fast.scores.to_numpy(), full.scores.to_numpy())
    np.testing.assert_allclose(fast.scores["IDX"], [1.0, 1.0, 0.8], atol=1e-9)  # C: 0.8 of the best, as without y3


def test_topsis_closeness_without_spread_is_missing_and_said():
    # c1 has one value for every unit; B has only c1, so B is at the ideal and the anti-ideal
    x = np.array([[5.0, 1.0], [5.0, np.nan], [5.0, 3.0]])
    notes: list[dict] = []
    out = aggregate_level(x, ONE, np.ones(2), "topsis", group_codes=["G"], child_codes=["c1", "c2"], notes=notes)[:, 0]
    # A: D+ = |1 - 3| = 2, D- = 0 -> 0; C: D+ = 0, D- = 2 -> 1
    np.testing.assert_allclose(out[[0, 2]], [0.0, 1.0])
    assert np.isnan(out[1])
    assert notes == [{"kind": "topsis_undefined", "method": "topsis", "group": "G", "units": [1]}]
    fw = {"index": {"code": "IDX", "aggregate": "topsis"},
          "indicators": [{"code": "c1", "parent": "IDX"}, {"code": "c2", "parent": "IDX"}]}
    data = pd.DataFrame({"unit": ["A", "B", "C"], "c1": [5.0, 5.0, 5.0], "c2": [1.0, None, 3.0]})
    r = aicity.build(fw, data, {"normalize": "none"})
    assert any("IDX: the TOPSIS closeness of B is undefined" in w for w in r.warnings), r.warnings
    assert np.isnan(r.scores.at["B", "IDX"]) and r.scores.at["C", "IDX"] == pytest.approx(1.0)


def test_a_power_mean_says_it_left_out_negatives_only():
    fw = {"index": {"code": "IDX", "aggregate": {"method": "generalised_mean", "p": 2, "on_nonpositive": "missing"}},
          "indicators": [{"code": "a", "parent": "IDX"}, {"code": "b", "parent": "IDX"}]}
    data = pd.DataFrame({"unit": ["A", "B"], "a": [-1.0, 2.0], "b": [0.0, 3.0]})
    r = aicity.build(fw, data, {"normalize": "none"})
    assert "a: negative values in the generalised mean (p = 2) aggregation left out of the aggregate (negative), for A" in r.warnings
    assert r.scores.at["A", "IDX"] == 0.0  # b's zero stays a value
