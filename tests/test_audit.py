"""The statistical audit against hand-worked values and COINr 1.1.14's ASEM outputs."""

from __future__ import annotations

import math
import time

import numpy as np
import openpyxl
import pandas as pd
import pytest

import aicity
from aicity.audit import (
    Audit,
    audit,
    cronbach_alpha,
    indicator_stats,
    nelder_mead,
    pairwise_cov,
    pairwise_pearson,
    pairwise_spearman,
    pca,
)
from tests.conftest import COINR_OUT, need_shared

# -- a 3-unit index worked by hand --------------------------------------------------------------
#
#         a1  a2  b1 |  A = (a1 + a2) / 2   B = b1   I = (A + B) / 2   rank
#   u1    10   0   2 |  5                   2        3.5               3
#   u2     0   8   5 |  4                   5        4.5               2
#   u3     4   2   7 |  3                   7        5.0               1

SMALL_FW = {
    "index": {"code": "I", "names": {"en": "I"}},
    "groups": [{"code": "A", "parent": "I", "weight": 1}, {"code": "B", "parent": "I", "weight": 1}],
    "indicators": [
        {"code": "a1", "parent": "A", "weight": 1, "direction": 1},
        {"code": "a2", "parent": "A", "weight": 1, "direction": 1},
        {"code": "b1", "parent": "B", "weight": 1, "direction": 1},
    ],
}
SMALL_DATA = {"unit": ["u1", "u2", "u3"], "a1": [10, 0, 4], "a2": [0, 8, 2], "b1": [2, 5, 7]}
SMALL_PIPELINE = {"denominate": False, "normalize": {"method": "none"}, "aggregate": {"method": "arithmetic"}}


def build_small(tmp_path, pipeline=None):
    path = tmp_path / "small.csv"
    pd.DataFrame(SMALL_DATA).to_csv(path, index=False)
    return aicity.build(SMALL_FW, path, {**SMALL_PIPELINE, **(pipeline or {})})


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return build_small(tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="module")
def small_audit(small):
    return audit(small)


@pytest.fixture(scope="module")
def asem_audit(asem_result):
    return audit(asem_result)


def signif(x, digits: int = 3) -> np.ndarray:
    """R's signif()."""
    x = np.asarray(x, dtype=float)
    safe = np.where(x == 0, 1.0, np.abs(x))
    scale = 10.0 ** (digits - 1 - np.floor(np.log10(safe)))
    return np.round(x * scale) / scale


# -- stats --------------------------------------------------------------------------------------


COINR_STATS = {
    "Min": "min", "Max": "max", "Mean": "mean", "Median": "median", "Std": "sd", "Skew": "skewness",
    "Kurt": "kurtosis", "N.Avail": "n_available", "N.NonZero": "n_nonzero", "N.Unique": "n_unique",
    "N.Same": "n_same", "Frc.Avail": "availability", "Frc.NonZero": "frac_nonzero",
    "Frc.Unique": "frac_unique", "Frc.Same": "frac_same", "Flag.Avail": "flag_availability",
    "Flag.NonZero": "flag_nonzero", "Flag.Unique": "flag_unique", "Flag.SkewKurt": "flag_skew_kurt",
}  # fmt: skip


def test_stats_match_coinr_stats_raw(asem_audit):
    ref = pd.read_csv(need_shared(COINR_OUT / "ASEM_stats_Raw.csv")).set_index("iCode")
    ours = asem_audit.stats.set_index("indicator")
    assert list(ours.index) == list(ref.index)
    for theirs, mine in COINR_STATS.items():
        if theirs.startswith("Flag"):
            assert (ours[mine] == ref[theirs]).all(), theirs
        else:
            np.testing.assert_allclose(signif(ours[mine]), ref[theirs], rtol=1e-12, atol=0, err_msg=theirs)
    # the flags are not all "ok": the comparison can fail
    assert (ref["Flag.SkewKurt"] == "OUT").sum() == 18 and (ref["Flag.Unique"] == "LOW").sum() == 5


def test_stats_by_hand():
    #            sorted present values 0, 0, 1, 2, 3, 100 (7 units, one missing)
    raw = pd.DataFrame({"x": [3, 0, np.nan, 1, 100, 0, 2], "few": [1, np.nan, np.nan, np.nan, np.nan, 2, np.nan]})
    row = indicator_stats(raw).set_index("indicator").loc["x"]
    v = np.array([0, 0, 1, 2, 3, 100.0])
    mean = 106 / 6
    assert row["availability"] == pytest.approx(6 / 7)
    assert row["n_available"] == 6 and row["min"] == 0 and row["max"] == 100
    assert row["mean"] == pytest.approx(mean) and row["median"] == 1.5
    assert row["sd"] == pytest.approx(math.sqrt(((v - mean) ** 2).sum() / 5))
    assert row["n_zero"] == 2 and row["n_nonzero"] == 4 and row["n_unique"] == 5
    assert row["n_same"] == 2 and row["frac_same"] == pytest.approx(2 / 6)
    # quartiles (type 7): 0 + 0.25 * (1 - 0) = 0.25 and 2 + 0.75 * (3 - 2) = 2.75; IQR 2.5;
    # fences -3.5 and 6.5: only 100 lies outside
    assert row["n_outliers_iqr"] == 1
    # m2, m3, m4 of v, then G1 and G2 written out
    d = v - mean
    m2, m3, m4 = (d**2).mean(), (d**3).mean(), (d**4).mean()
    g1 = math.sqrt(6 * 5) / 4 * m3 / m2**1.5
    g2 = 5 / (4 * 3) * (7 * m4 / m2**2 - 3 * 5)
    assert row["skewness"] == pytest.approx(g1) and row["kurtosis"] == pytest.approx(g2)
    assert g1 > 2 and g2 > 3.5 and row["flag_skew_kurt"] == "OUT"
    assert row["flag_availability"] == "ok"
    assert indicator_stats(raw).set_index("indicator").loc["few", "flag_availability"] == "LOW"  # 2 / 7


# -- correlations -------------------------------------------------------------------------------


def test_pairwise_correlations_by_hand():
    # x, y complete on the first four rows only: x = 1 2 3 4, y = 2 4 5 4
    x = np.array([[1, 2], [2, 4], [3, 5], [4, 4], [np.nan, 3]], dtype=float)
    # Pearson: sum dxdy = 3.5, sxx = 5, syy = 4.75
    assert pairwise_pearson(x)[0, 1] == pytest.approx(3.5 / math.sqrt(5 * 4.75), abs=1e-14)
    # Spearman ranks y on those four rows (1, 2.5, 4, 2.5), not on all five (which would give
    # 4.5 / sqrt(5 * 8.25) = 0.70): sum dxdy = 3, sxx = 5, syy = 4.5
    assert pairwise_spearman(x)[0, 1] == pytest.approx(3 / math.sqrt(5 * 4.5), abs=1e-14)
    assert pairwise_spearman(x)[1, 0] == pytest.approx(3 / math.sqrt(5 * 4.5), abs=1e-14)
    # three columns missing on different rows: each pair ranked on its own rows, as pandas does
    z = np.array([[1, 2, 9], [2, np.nan, 7], [3, 5, 8], [4, 4, 1], [np.nan, 3, 2], [6, 1, 3]], dtype=float)
    ref = pd.DataFrame(z).corr(method="spearman").to_numpy()
    np.testing.assert_allclose(pairwise_spearman(z), ref, atol=1e-14)
    np.testing.assert_allclose(pairwise_pearson(z), pd.DataFrame(z).corr().to_numpy(), atol=1e-14)
    # covariance: 3.5 / 3 pairwise; y's variance on all five values
    c = pairwise_cov(x)
    assert c[0, 1] == pytest.approx(3.5 / 3) and c[1, 1] == pytest.approx(np.var([2, 4, 5, 4, 3], ddof=1))


def test_correlations_and_flags_by_hand(small_audit):
    c = small_audit.correlations.set_index(["method", "x", "y"])
    p = c.loc["pearson"]
    # deviations: a1 (16, -14, -2)/3, a2 (-10, 14, -4)/3, A (1, 0, -1), B (-8, 1, 7)/3,
    # I (-5, 1, 4)/6
    assert p.loc[("a1", "a2"), "r"] == pytest.approx(-348 / math.sqrt(456 * 312))
    assert p.loc[("A", "B"), "r"] == pytest.approx(-15 / math.sqrt(2 * 114))
    assert p.loc[("a2", "A"), "r"] == pytest.approx(-6 / math.sqrt(312 * 2))
    assert p.loc[("A", "I"), "r"] == pytest.approx(-1.5 / math.sqrt(2 * 7 / 6))
    assert p.loc[("a1", "b1"), "relation"] == "level" and p.loc[("a1", "I"), "relation"] == "ancestor"
    flags = {k: v for k, v in p["flag"].items() if v}
    assert flags == {
        ("a1", "a2"): "negative_in_group;collinear",
        ("A", "B"): "negative_in_group;collinear",
        ("a2", "A"): "weak_with_parent",
        ("A", "I"): "weak_with_parent",
    }
    s = c.loc["spearman"]
    assert s.loc[("a1", "b1"), "r"] == pytest.approx(-0.5)  # ranks (3, 1, 2) and (1, 2, 3)
    assert s.loc[("A", "I"), "r"] == pytest.approx(-1.0)
    # 3 pairs in level 1, 1 in level 2, and code-ancestor pairs: a1, a2, b1 with their group
    # and I, A and B with I: 3 + 1 + 8 per method
    assert len(small_audit.correlations) == 2 * (3 + 1 + 8)


def test_collinear_flags_match_coinr_example(asem_result):
    # COINr: get_corr_flags(coin, dset = "Normalised", cor_thresh = 0.75, thresh_type = "high",
    # grouplev = 2) lists CPI-FreePress 0.761 and CPI-NGOs 0.768
    need_shared(COINR_OUT)
    c = audit(asem_result, corr_threshold=0.75).correlations
    hits = c[(c.method == "pearson") & (c.level_x == 1) & c.flag.str.contains("collinear") & (c.r > 0)]
    assert {frozenset(p) for p in zip(hits.x, hits.y, strict=True)} == {
        frozenset({"CPI", "FreePress"}),
        frozenset({"CPI", "NGOs"}),
    }
    assert sorted(np.round(hits.r, 3)) == [0.761, 0.768]
    # |r|: a strongly negative pair is collinear too (COINr's "high" would not list it)
    assert ((c.x == "TBTs") & (c.y == "RTAs") & (c.method == "pearson") & c.flag.str.contains("collinear")).any()


def test_correlations_agree_with_pandas_on_asem(asem_result, asem_audit):
    c = asem_audit.correlations.set_index(["method", "x", "y"])["r"]
    for method in ("pearson", "spearman"):
        ref = asem_result.scores.corr(method=method)
        for x, y in [("LPI", "Flights"), ("NGOs", "CPI"), ("Physical", "P2P"), ("Goods", "Conn"), ("Conn", "Index")]:
            assert c[(method, x, y)] == pytest.approx(ref.loc[x, y], abs=1e-12)


# -- Cronbach -----------------------------------------------------------------------------------


def test_cronbach_by_hand(small_audit):
    # group A: var(a1) = 228/9, var(a2) = 156/9, cov = -174/9: sum C = 36/9, trace = 384/9
    alpha = small_audit.cronbach.set_index("group")
    assert alpha.loc["A", "alpha"] == pytest.approx(2 * (1 - 384 / 36))
    assert alpha.loc["A", "n_indicators"] == 2 and math.isnan(alpha.loc["B", "alpha"])
    assert alpha.loc["I", "n_indicators"] == 3
    # two identical columns: every entry of C is the variance v; alpha = 2 (1 - 2v / 4v) = 1
    assert cronbach_alpha(np.array([[1.0, 1], [2, 2], [4, 4]])) == pytest.approx(1.0)


def test_cronbach_matches_the_formula_on_asem(asem_result, asem_audit):
    fw = asem_result.framework
    norm = asem_result.stages["normalised"]
    for group in ("Physical", "Social", "Index"):
        cov = norm[fw.leaves_under(group)].cov().to_numpy()
        k = cov.shape[0]
        expected = k / (k - 1) * (1 - np.trace(cov) / cov.sum())
        assert asem_audit.cronbach.set_index("group").loc[group, "alpha"] == pytest.approx(expected, abs=1e-12)


# -- PCA ----------------------------------------------------------------------------------------


def test_pca_by_hand(small_audit):
    # three perfectly correlated columns (the last reversed): one component, loadings +-1/sqrt(3),
    # oriented so that they sum positive
    res = pca(np.array([[1.0, 2, 3], [2, 4, 2], [3, 6, 1], [np.nan, 1, 1]]))
    assert res.n_units == 3
    np.testing.assert_allclose(res.explained, [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(res.pc1, np.array([1, 1, -1]) / math.sqrt(3), atol=1e-12)
    # two columns correlating r: PC1 explains (1 + |r|) / 2, loadings +-1/sqrt(2)
    t = small_audit.pca
    a = t[(t.group == "A") & (t.basis == "children")]
    r = -348 / math.sqrt(456 * 312)
    assert a.var_pc1.iloc[0] == pytest.approx((1 + abs(r)) / 2) and a.var_pc2.iloc[0] == pytest.approx((1 - abs(r)) / 2)
    np.testing.assert_allclose(a.loading, [1 / math.sqrt(2), -1 / math.sqrt(2)], atol=1e-12)  # tie: first positive
    np.testing.assert_allclose(a.pca_weight, [0.5, 0.5])
    b = t[t.group == "B"]
    assert b.var_pc1.iloc[0] == 1 and b.loading.iloc[0] == 1 and math.isnan(b.var_pc2.iloc[0])
    assert list(t[t.basis == "indicators"].code) == ["a1", "a2", "b1"]


def test_pca_matches_prcomp_svd_on_asem(asem_result, asem_audit):
    """prcomp computes by SVD of the centred, scaled data; we use eigh of the correlation
    matrix. The two must agree."""
    fw = asem_result.framework
    t = asem_audit.pca
    for group in ("Physical", "Sust", "Index"):
        kids = fw.children[group]
        x = asem_result.scores[kids].dropna().to_numpy()
        z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
        _, s, vt = np.linalg.svd(z, full_matrices=False)
        share = s**2 / (s**2).sum()
        pc1 = vt[0] * np.sign(vt[0].sum())
        rows = t[(t.group == group) & (t.basis == "children")]
        assert rows.var_pc1.iloc[0] == pytest.approx(share[0], abs=1e-10)
        assert rows.var_pc2.iloc[0] == pytest.approx(share[1], abs=1e-10)
        np.testing.assert_allclose(rows.loading, pc1, atol=1e-10)
        np.testing.assert_allclose(rows.pca_weight, np.abs(pc1) / np.abs(pc1).sum(), atol=1e-10)
    assert len(t[t.basis == "indicators"]) == len(fw.indicators)


# -- weights ------------------------------------------------------------------------------------


def test_effective_weights_by_hand(tmp_path):
    res = build_small(tmp_path, {"weights": {"a2": 3, "B": 3}})
    ew = audit(res).effective_weights.set_index("code")
    assert list(ew.nominal_weight) == [1, 3, 1, 1, 3, 1]
    # A: 1/4, B: 3/4; a1: 1/4 * 1/4, a2: 3/4 * 1/4, b1: 1 * 3/4
    np.testing.assert_allclose(ew.effective_weight, [1 / 16, 3 / 16, 3 / 4, 1 / 4, 3 / 4, 1])
    assert ew.loc["a1", "parent"] == "A" and ew.loc["A", "level"] == 2


def test_effective_weights_and_index_correlations_on_asem(asem_audit):
    ew = asem_audit.effective_weights.set_index("code")
    # all weights 1: LPI is 1 of 8 in Physical, 1 of 5 pillars of Conn, 1 of 2 sub-indices
    assert ew.loc["LPI", "effective_weight"] == pytest.approx(1 / 80)
    assert ew.loc["Embs", "effective_weight"] == pytest.approx(1 / 30)
    assert ew.loc["Renew", "effective_weight"] == pytest.approx(1 / 30)
    assert ew.loc["Conn", "effective_weight"] == 0.5
    assert ew[ew.level == 1].effective_weight.sum() == pytest.approx(1)
    agg = pd.read_csv(need_shared(COINR_OUT / "ASEM_dset_Aggregated.csv"))
    for code in ("Conn", "Sust", "Physical", "LPI"):
        assert ew.loc[code, "corr_with_index"] == pytest.approx(np.corrcoef(agg[code], agg["Index"])[0, 1], abs=1e-9)


def test_optimised_weights_match_coinr(asem_audit):
    # COINr's documented example: get_opt_weights(coin, itarg = "equal", dset = "Aggregated",
    # Level = 3, optype = "balance") -> Conn 0.3902439, Sust 0.6097561
    ew = asem_audit.effective_weights.set_index("code")
    assert ew.loc["Conn", "optimised_weight"] == pytest.approx(0.3902439, abs=1e-6)
    assert ew.loc["Sust", "optimised_weight"] == pytest.approx(0.6097561, abs=1e-6)
    assert ew.optimised_weight.notna().sum() == 2


def test_a_tighter_tolerance_balances_the_correlations_further(asem_result, asem_audit):
    s = asem_result.scores

    def spread(w_conn: float, w_sust: float) -> float:
        index = (w_conn * s["Conn"] + w_sust * s["Sust"]) / (w_conn + w_sust)
        return abs(np.corrcoef(index, s["Conn"])[0, 1] - np.corrcoef(index, s["Sust"])[0, 1])

    coarse = asem_audit.effective_weights.set_index("code").optimised_weight
    fine = audit(asem_result, opt_reltol=1e-10).effective_weights.set_index("code").optimised_weight
    assert spread(fine["Conn"], fine["Sust"]) < 1e-4 < spread(coarse["Conn"], coarse["Sust"]) < spread(1, 1)
    assert fine["Conn"] + fine["Sust"] == pytest.approx(1)


def test_nelder_mead_reproduces_r_optim():
    # R's ?optim example: optim(c(-1.2, 1), fr) -> par 1.000260 1.000506, value 8.825241e-08,
    # counts 195
    def rosenbrock(x):
        return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2

    par, value, count, fail = nelder_mead(rosenbrock, np.array([-1.2, 1.0]), reltol=1.490116e-08)
    np.testing.assert_allclose(par, [1.000260, 1.000506], atol=5e-7)
    assert value == pytest.approx(8.825241e-08, rel=1e-6)
    assert count == 195 and fail == 0


# -- leave one out ------------------------------------------------------------------------------


def test_leave_one_out_by_hand(small_audit):
    # without a1: A = a2 = (0, 8, 2), I = (1, 6.5, 4.5), ranks (3, 1, 2): shifts 0, 1, 1
    # without a2: A = a1 = (10, 0, 4), I = (6, 2.5, 5.5), ranks (1, 3, 2): shifts 2, 1, 1
    # without b1 (B then has no weighted child) or B: I = A = (5, 4, 3): ranks (1, 2, 3): 2, 0, 2
    # without A: I = B = (2, 5, 7): ranks (3, 2, 1): no shift
    loo = small_audit.leave_one_out.set_index("code")
    np.testing.assert_allclose(loo.mean_abs_rank_shift, [2 / 3, 4 / 3, 4 / 3, 0, 4 / 3])
    np.testing.assert_allclose(loo.max_abs_rank_shift, [1, 2, 2, 0, 2])
    assert list(loo.index) == ["a1", "a2", "b1", "A", "B"] and list(loo.level) == [1, 1, 1, 2, 2]


def test_leave_one_out_copeland_loops_like_the_batch(tmp_path):
    # Copeland takes no batch axis; its per-variant loop must give what a rebuild gives
    res = build_small(tmp_path, {"aggregate": {"method": "copeland"}})
    loo = audit(res).leave_one_out.set_index("code")
    # without a1: A = a2 (0, 8, 2) -> Copeland (-2, 2, 0); B = b1 -> (-2, 0, 2);
    # I's Copeland on (A, B): u1 loses to both; u2 vs u3 tie 1-1 -> (-2, 1, 1): ranks (3, 1, 1)
    # nominal: A = Copeland of (a1, a2): all pairs tie 1-1 -> (0, 0, 0); I on (A, B) = B's order
    # -> (-2, 0, 2): ranks (3, 2, 1); shifts 0, 1, 0
    assert loo.loc["a1", "mean_abs_rank_shift"] == pytest.approx(1 / 3)
    assert loo.loc["a1", "max_abs_rank_shift"] == 1


def test_leave_one_out_on_asem_drops_a_sub_index(asem_result, asem_audit):
    loo = asem_audit.leave_one_out.set_index("code")
    # without Sust the index is Conn: compare with COINr's own ranks of Conn and of the Index
    ranks = pd.read_csv(need_shared(COINR_OUT / "ASEM_results_Aggs_ranks.csv"))
    conn = ranks["Conn"].to_numpy(dtype=float)  # ties none: a plain rank of Conn's scores
    shift = np.abs(conn - ranks["Index"].to_numpy(dtype=float))
    assert loo.loc["Sust", "mean_abs_rank_shift"] == pytest.approx(shift.mean())
    assert loo.loc["Sust", "max_abs_rank_shift"] == shift.max()
    assert len(loo) == len(asem_result.codes) - 1


# -- output -------------------------------------------------------------------------------------


def test_write_csv_and_xlsx(small_audit: Audit, tmp_path):
    written = small_audit.write(tmp_path / "audit")
    names = ["stats", "correlations", "cronbach", "pca", "effective_weights", "leave_one_out"]
    for name in names:
        back = pd.read_csv(tmp_path / "audit" / f"{name}.csv", keep_default_na=False, na_values=[""])
        mine = getattr(small_audit, name)
        assert list(back.columns) == list(mine.columns) and len(back) == len(mine)
    back = pd.read_csv(written["correlations"], keep_default_na=False)
    np.testing.assert_array_equal(back["r"].to_numpy(), small_audit.correlations["r"].to_numpy())  # full precision
    assert openpyxl.load_workbook(written["xlsx"], read_only=True).sheetnames == names
    assert sorted(p.name for p in (tmp_path / "audit").iterdir()) == sorted([f"{n}.csv" for n in names] + ["audit.xlsx"])


def test_asem_audit_is_fast(asem_result):
    audit(asem_result)
    t0 = time.perf_counter()
    audit(asem_result)
    assert time.perf_counter() - t0 < 1.0


def test_indicators_of_different_groups_that_measure_the_same_thing_are_flagged(tmp_path):
    """b1 = 2 * a1 + 1 in another group: r = 1, flagged "redundant" (across groups); a2 is
    unrelated (r(a2, b1) = 0 by construction: deviations (-1, 0, 1) against (1, -2, 1))."""
    data = {"unit": ["u1", "u2", "u3"], "a1": [1, 2, 3], "a2": [1, 2, 1], "b1": [3, 5, 7]}
    path = tmp_path / "d.csv"
    pd.DataFrame(data).to_csv(path, index=False)
    result = aicity.build(SMALL_FW, path, SMALL_PIPELINE)
    p = audit(result).correlations.set_index(["method", "x", "y"]).loc["pearson"]
    assert p.loc[("a1", "b1"), "r"] == pytest.approx(1.0)
    assert p.loc[("a1", "b1"), "flag"] == "redundant"
    assert p.loc[("a2", "b1"), "r"] == pytest.approx(0.0, abs=1e-12) and p.loc[("a2", "b1"), "flag"] == ""
