"""Monte Carlo uncertainty and Sobol sensitivity."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import aicity
from aicity.build import resolve_spec
from aicity.errors import InputError, PipelineError
from aicity.uncertainty import (
    evaluate_all,
    parse_uncertainty,
    per_sample_build,
    run_uncertainty,
    to_options,
)
from tests.conftest import ASEM, ASEM_PIPELINE, COINR_OUT, need_shared

COINR_INPUTS = {
    "winmax": {"values": [1, 2, 3, 4, 5]},
    "normalize": {"values": [{"method": "minmax", "range": [1, 100]}, {"method": "zscore", "mean": 10, "sd": 2}]},
    "weights": {"noise": 0.25, "levels": [2, 3]},
    "aggregate": {"values": ["arithmetic", "geometric"]},
}

SMALL_FW = {
    "index": {"code": "I"},
    "groups": [{"code": "P", "parent": "I"}, {"code": "Q", "parent": "I"}],
    "indicators": [
        {"code": "a", "parent": "P"}, {"code": "b", "parent": "P", "direction": -1},
        {"code": "c", "parent": "Q"}, {"code": "d", "parent": "Q"},
    ],
}


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.lognormal(2, 0.8, size=(12, 4)), columns=list("abcd"))
    frame.iloc[3, 1] = np.nan
    frame.insert(0, "unit", [f"U{i}" for i in range(12)])
    frame["region"] = ["x", "y"] * 6
    path = tmp_path_factory.mktemp("ua") / "d.csv"
    frame.to_csv(path, index=False)
    return path


ALL_INPUTS = {
    "impute": {"values": ["median", "mean", {"method": "group_mean", "group": "region"}]},
    "winmax": {"values": [0, 1, 3]},
    "normalize": {"values": [{"method": "minmax", "range": [1, 100]}, {"method": "zscore", "mean": 10, "sd": 2}, "rank"]},
    "weights": {"noise": 0.3, "levels": [1, 2]},
    "aggregate": {"values": ["arithmetic", "geometric", {"method": "generalised_mean", "p": 2}]},
    "exclude_indicator": {"values": ["none", "each"]},
}


def test_vectorised_samples_equal_a_per_sample_loop(small_data):
    pipeline = {"impute": "median", "treat": {"method": "winsorise_log"}, "normalize": {"method": "minmax", "range": [1, 100]}}
    result = run_uncertainty(SMALL_FW, small_data, pipeline, samples=60, seed=3, uncertainty={"inputs": ALL_INPUTS})
    fw = aicity.load_framework(SMALL_FW)
    ds = aicity.load_data(small_data, fw)
    steps = resolve_spec(fw, pipeline)
    # Every input took several values across the samples.
    assert all(len(np.unique(result.design[:, j])) > 1 for j in range(result.design.shape[1]))
    for i, row in enumerate(result.design):
        looped = per_sample_build(fw, ds, steps, result.engine, row)
        np.testing.assert_allclose(result.scores[i], looped, rtol=1e-10, atol=1e-12)


def test_same_seed_same_result_other_seed_differs(small_data):
    inputs = {"uncertainty": {"inputs": {"weights": {"noise": 0.25}}}}
    a = run_uncertainty(SMALL_FW, small_data, None, samples=200, seed=5, uncertainty=inputs["uncertainty"])
    b = run_uncertainty(SMALL_FW, small_data, None, samples=200, seed=5, uncertainty=inputs["uncertainty"])
    c = run_uncertainty(SMALL_FW, small_data, None, samples=200, seed=6, uncertainty=inputs["uncertainty"])
    np.testing.assert_array_equal(a.scores, b.scores)
    assert not np.array_equal(a.scores, c.scores)


def test_chunking_does_not_change_results(small_data, monkeypatch):
    import aicity.uncertainty as ua

    spec = {"inputs": {"weights": {"noise": 0.25}, "aggregate": {"values": ["arithmetic", "geometric"]}}}
    whole = run_uncertainty(SMALL_FW, small_data, {"normalize": {"method": "minmax", "range": [1, 100]}}, samples=300, uncertainty=spec)
    monkeypatch.setattr(ua, "chunk_size", lambda engine: 7)
    chunked = run_uncertainty(SMALL_FW, small_data, {"normalize": {"method": "minmax", "range": [1, 100]}}, samples=300, uncertainty=spec)
    np.testing.assert_allclose(whole.scores, chunked.scores, rtol=1e-12)


def test_rank_intervals_by_hand(small_data):
    result = run_uncertainty(SMALL_FW, small_data, None, samples=50, uncertainty={"inputs": {"weights": {"noise": 0.5}}})
    table = result.rank_intervals().set_index("unit")
    col = result.engine.units.index("U0")
    ranks = result.ranks[:, col]
    assert table.at["U0", "mean_rank"] == pytest.approx(ranks.mean())
    assert table.at["U0", "median_rank"] == pytest.approx(np.median(ranks))
    assert table.at["U0", "p05"] == pytest.approx(np.quantile(ranks, 0.05))
    assert list(table.columns[:5]) == ["unit_name", "nominal_rank", "mean_rank", "median_rank", "p05"]


def test_option_mapping_gives_equal_shares():
    u = (np.arange(1000) + 0.5) / 1000
    idx = to_options(u[:, None], [4])[:, 0]
    assert np.bincount(idx).tolist() == [250, 250, 250, 250]
    assert to_options(np.array([[1.0]]), [3])[0, 0] == 2


def test_bad_uncertainty_spec_is_reported():
    fw = aicity.load_framework(SMALL_FW)
    with pytest.raises(InputError) as info:
        parse_uncertainty({"inputs": {"winmax": {"values": [-1]}, "bogus": {}, "weights": {"noise": 2, "nois": 1}}, "target": "a", "sampels": 5}, fw)
    text = str(info.value)
    assert "winmax" in text and "unknown input 'bogus' in the uncertain inputs" in text and "noise" in text and "target 'a'" in text
    assert "unknown key 'nois' in uncertain input 'weights'; did you mean 'noise'?" in text
    assert "unknown key 'sampels' in the uncertainty section; did you mean 'samples'?" in text


def test_asem_rank_intervals_agree_with_coinr():
    need_shared(ASEM)
    result = run_uncertainty(ASEM / "ASEM_iMeta.csv", ASEM / "ASEM_iData.csv", ASEM_PIPELINE, samples=2000, seed=11, uncertainty={"inputs": COINR_INPUTS})
    ours = result.rank_intervals().set_index("unit")
    ref = pd.read_csv(COINR_OUT / "UA_results_RankStats.csv").set_index("uCode")
    assert (ours.loc[ref.index, "nominal_rank"] == ref.Nominal).all()
    # COINr ran N = 100: its mean rank has a standard error of sd / 10; ours (N = 2000) is
    # far tighter. Allow four standard errors, plus half a rank for rank discreteness.
    sd = pd.Series(result.ranks.std(axis=0, ddof=1), index=result.engine.units).loc[ref.index]
    gap = (ours.loc[ref.index, "mean_rank"] - ref.Mean).abs()
    assert (gap <= 4 * sd / np.sqrt(100) + 0.5).all(), gap[gap > 4 * sd / 10 + 0.5]
    assert np.corrcoef(ours.loc[ref.index, "mean_rank"], ref.Mean)[0, 1] > 0.999


def test_asem_sobol_indices_agree_with_coinr():
    need_shared(ASEM)
    result = run_uncertainty(ASEM / "ASEM_iMeta.csv", ASEM / "ASEM_iData.csv", ASEM_PIPELINE, samples=10, sobol=True, sobol_samples=1024, seed=2, uncertainty={"inputs": COINR_INPUTS})
    ours = result.sensitivity.set_index("input")
    ref = pd.read_csv(COINR_OUT / "SA_results_Sensitivity.csv").set_index("Variable")
    names = {"Winmax": "winmax", "Normalisation": "normalize", "Weights": "weights", "Aggregation": "aggregate"}
    for theirs, mine in names.items():
        # Our interval and COINr's 5-95 % bootstrap interval (N = 100) must overlap.
        assert ours.at[mine, "S1_low"] <= ref.at[theirs, "Si_q95"] and ref.at[theirs, "Si_q5"] <= ours.at[mine, "S1_high"], mine
        assert ours.at[mine, "ST_low"] <= ref.at[theirs, "STi_q95"] and ref.at[theirs, "STi_q5"] <= ours.at[mine, "ST_high"], mine
    assert result.sobol_runs == 1024 * (4 + 2)
    # The ordering COINr's run found: aggregation matters most, winsorisation least.
    assert ours.ST.idxmax() == "aggregate" and ours.ST.idxmin() == "winmax"


def test_salib_estimators_recover_ishigami():
    """The SALib calls we make (scrambled Sobol' design, no second order, Saltelli/Jansen)
    recover the Ishigami function's analytic indices."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample
    from SALib.test_functions import Ishigami

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x = sample.sample(problem, 4096, calc_second_order=False, scramble=True, seed=1)
    res = analyze.analyze(problem, Ishigami.evaluate(x), calc_second_order=False, seed=1)
    np.testing.assert_allclose(res["S1"], [0.3139, 0.4424, 0.0], atol=0.03)
    np.testing.assert_allclose(res["ST"], [0.5576, 0.4424, 0.2437], atol=0.03)


def test_dask_local_cluster_gives_identical_results(small_data):
    pytest.importorskip("dask.distributed")
    spec = {"inputs": {"weights": {"noise": 0.25}, "aggregate": {"values": ["arithmetic", "geometric"]}}}
    pipeline = {"normalize": {"method": "minmax", "range": [1, 100]}}
    local = run_uncertainty(SMALL_FW, small_data, pipeline, samples=500, seed=4, uncertainty=spec)
    import aicity.uncertainty as ua

    design = local.design
    remote_scores, remote_ranks = evaluate_all(local.engine, design, dask="local:2")
    np.testing.assert_array_equal(local.scores, remote_scores)
    np.testing.assert_array_equal(local.ranks, remote_ranks)
    assert ua.chunk_size(local.engine) >= 16


def test_cli_uncertainty_writes_intervals_and_sensitivity(tmp_path, small_data):
    from typer.testing import CliRunner

    from aicity.cli import app

    fw = tmp_path / "fw.yaml"
    import yaml

    fw.write_text(yaml.safe_dump(SMALL_FW))
    spec = tmp_path / "p.yaml"
    spec.write_text(
        "pipeline:\n  normalize: {method: minmax, range: [1, 100]}\n"
        "uncertainty:\n  samples: 300\n  seed: 2\n  inputs:\n    weights: {noise: 0.25}\n"
        "    aggregate: {values: [arithmetic, geometric]}\n"
    )
    res = CliRunner().invoke(app, ["uncertainty", "-f", str(fw), "-d", str(small_data), "-p", str(spec), "--sobol", "--sobol-samples", "64", "-o", str(tmp_path / "o"), "--save-samples"])
    assert res.exit_code == 0, res.output
    ri = pd.read_csv(tmp_path / "o" / "rank_intervals.csv")
    assert list(ri.columns[:7]) == ["unit", "unit_name", "nominal_rank", "mean_rank", "median_rank", "p05", "p95"]
    sens = pd.read_csv(tmp_path / "o" / "sensitivity.csv")
    assert list(sens.columns) == ["input", "S1", "ST", "S1_low", "S1_high", "ST_low", "ST_high"]
    samples = pd.read_parquet(tmp_path / "o" / "samples.parquet")
    assert len(samples) == 300 * 12 and {"weights", "aggregate", "score", "rank"} <= set(samples.columns)
    bad = CliRunner().invoke(app, ["uncertainty", "-f", str(fw), "-d", str(small_data), "-p", str(spec), "--sobol", "--sobol-samples", "100"])
    assert bad.exit_code == 2 and "power of 2" in bad.output


def test_default_inputs_work_for_any_pipeline_and_depth():
    """No `uncertainty:` section: the default inputs run on a two-level framework and on data
    whose normalised values could go negative under a z-score (light treatment)."""
    fw = {"index": {"code": "I"}, "indicators": [{"code": c, "parent": "I"} for c in "abc"],
          "pipeline": {"treat": {"method": "winsorise_log", "winmax": 1}}}
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"uCode": [f"U{i}" for i in range(30)], **{c: rng.lognormal(0, 2, 30) for c in "abc"}})
    r = aicity.run_uncertainty(fw, data, samples=300)
    assert r.defaulted and r.inputs_raw["weights"]["levels"] == [1]
    assert r.rank_intervals()["p95"].notna().all()


# A 4-level tree (indicators -> sub-pillars -> pillars -> index) where one pillar has its own
# aggregation: the fast path (lower levels once, the collapsed product above) must equal the
# plain per-sample aggregation of the whole plan.
TREE_FW = {
    "index": {"code": "I"},
    "groups": [
        {"code": "P", "parent": "I", "weight": 2}, {"code": "Q", "parent": "I"},
        {"code": "S1", "parent": "P"}, {"code": "S2", "parent": "P", "weight": 0.5},
        {"code": "S3", "parent": "Q"}, {"code": "S4", "parent": "Q"},
    ],
    "indicators": [{"code": f"x{i}", "parent": f"S{i % 4 + 1}", "weight": 1 + i % 3} for i in range(12)],
}


def _tree_data(tmp_path, missing: bool):
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(rng.lognormal(1, 0.6, size=(25, 12)), columns=[f"x{i}" for i in range(12)])
    if missing:
        frame.iloc[2, 0] = np.nan
        frame.iloc[5, 7] = np.nan
    frame.insert(0, "unit", [f"U{i}" for i in range(25)])
    path = tmp_path / f"tree{int(missing)}.csv"
    frame.to_csv(path, index=False)
    return path


def _fast_equals_plain(fw, data, pipeline, inputs, samples=150, seed=8):
    from aicity.uncertainty import reference_scores

    result = run_uncertainty(fw, data, pipeline, samples=samples, seed=seed, uncertainty={"inputs": inputs})
    engine = result.engine
    design = to_options(np.random.default_rng(seed).random((samples, len(engine.input_names))), engine.n_options)
    fast, ranks = engine.evaluate(design)
    collapsed = [f.collapsed is not None for k, f in engine._cache.items() if k != "upper"]
    engine._cache.clear()  # cached lower levels play no part in the answer
    plain = reference_scores(engine, design)
    np.testing.assert_allclose(fast, plain, rtol=1e-12, atol=1e-12)
    from aicity.pipeline.rank import rank_desc

    np.testing.assert_array_equal(ranks, rank_desc(plain[:, :, None])[:, :, 0])
    return collapsed


@pytest.mark.parametrize("own", [None, "geometric", {"method": "generalised_mean", "p": 2}])
@pytest.mark.parametrize("levels", [[1], [2], [3], [2, 3], [1, 2, 3]])
@pytest.mark.parametrize("missing", [False, True])
def test_fast_path_equals_plain_aggregation(tmp_path, own, levels, missing):
    fw = copy.deepcopy(TREE_FW)
    if own is not None:
        fw["groups"][0]["aggregate"] = own
    pipeline = {"normalize": {"method": "minmax", "range": [1, 100]}}
    inputs = {
        "normalize": {"values": [{"method": "minmax", "range": [1, 100]}, {"method": "minmax", "range": [2, 50]}]},
        "weights": {"noise": 0.4, "levels": levels},
        "aggregate": {"values": ["arithmetic", "geometric"]},
        "exclude_indicator": {"values": ["none", "each"]},
    }
    collapsed = _fast_equals_plain(fw, _tree_data(tmp_path, missing), pipeline, inputs)
    if own is None and not missing:
        assert collapsed and all(collapsed)  # the collapsed product was the path taken


def test_fast_path_equals_plain_for_every_input(small_data):
    pipeline = {"impute": "median", "treat": {"method": "winsorise_log"}, "normalize": {"method": "minmax", "range": [1, 100]}}
    _fast_equals_plain(SMALL_FW, small_data, pipeline, ALL_INPUTS, samples=300)


def test_a_target_below_the_index_and_weights_above_it(tmp_path):
    """Noisy weights only above the target leave every sample of a combination alike."""
    from aicity.uncertainty import reference_scores

    data = _tree_data(tmp_path, False)
    inputs = {"weights": {"noise": 0.3, "levels": [3]}, "aggregate": {"values": ["arithmetic", "geometric"]}}
    for target, spread in (("P", False), ("I", True)):
        result = run_uncertainty(TREE_FW, data, None, samples=50, uncertainty={"target": target, "inputs": inputs})
        np.testing.assert_allclose(result.scores, reference_scores(result.engine, result.design), rtol=1e-12)
        same = all(np.ptp(result.scores[result.design[:, 1] == a], axis=0).max() == 0 for a in (0, 1))
        assert same != spread


@pytest.mark.parametrize("method", ["copeland", "bod"])
def test_unbatched_group_methods_below_the_varying_weights_work_above_them_are_refused(tmp_path, method):
    fw = copy.deepcopy(TREE_FW)
    fw["groups"][2]["aggregate"] = method  # S1, a sub-pillar (level 2)
    data = _tree_data(tmp_path, False)
    # Weights vary above S1 only: S1 is aggregated once per combination, as a build does.
    below = run_uncertainty(fw, data, None, samples=40, uncertainty={"inputs": {"weights": {"noise": 0.3, "levels": [3]}}})
    from aicity.uncertainty import per_sample_build

    fwo, ds = aicity.load_framework(fw), aicity.load_data(data, aicity.load_framework(fw))
    steps = resolve_spec(fwo, None)
    for i in (0, 7):
        np.testing.assert_allclose(below.scores[i], per_sample_build(fwo, ds, steps, below.engine, below.design[i]), rtol=1e-10)
    # Weights varying under S1 (its children's): the method takes no batch of weights.
    with pytest.raises(PipelineError, match="does not take batched inputs"):
        run_uncertainty(fw, data, None, samples=40, uncertainty={"inputs": {"weights": {"noise": 0.3, "levels": [1]}}})


@pytest.mark.parametrize(("inputs", "base"), [(4, 256), (2, 64), (6, 128)])
def test_sobol_estimates_equal_salib(inputs, base):
    """Our one-product bootstrap gives SALib's indices to the bit and its intervals to rounding."""
    from SALib.analyze import sobol as analyze

    from aicity.uncertainty import sobol_estimates

    rng = np.random.default_rng(inputs)
    x = rng.random((base * (inputs + 2), inputs))
    y = np.sin(3 * x[:, 0]) + x[:, 1] ** 2 + x[:, 0] * x[:, -1] + 0.1 * rng.random(len(x))
    problem = {"num_vars": inputs, "names": [f"v{i}" for i in range(inputs)], "bounds": [[0.0, 1.0]] * inputs}
    ref = analyze.analyze(problem, y, calc_second_order=False, num_resamples=300, conf_level=0.9, seed=9)
    ours = sobol_estimates(y, inputs, 300, 0.9, 9)
    np.testing.assert_array_equal(ours["S1"], ref["S1"])
    np.testing.assert_array_equal(ours["ST"], ref["ST"])
    np.testing.assert_allclose(ours["S1_conf"], ref["S1_conf"], rtol=1e-10)
    np.testing.assert_allclose(ours["ST_conf"], ref["ST_conf"], rtol=1e-10)


def test_data_variants_equal_whole_builds(small_data):
    """Variants sharing their first steps compute them once; each equals its own build."""
    from aicity.build import run_pipeline
    from aicity.uncertainty import DATA_INPUTS, _variant_steps

    pipeline = {"impute": "median", "screen": {"min_coverage": 0.5}, "treat": {"method": "winsorise_log"},
                "normalize": {"method": "minmax", "range": [1, 100]}}
    result = run_uncertainty(SMALL_FW, small_data, pipeline, samples=5, uncertainty={"inputs": ALL_INPUTS})
    fw = aicity.load_framework(SMALL_FW)
    ds = aicity.load_data(small_data, fw)
    steps = resolve_spec(fw, pipeline)
    engine = result.engine
    assert len(engine.variants) == 27 and len(DATA_INPUTS) == 3
    for (i, j, k), normalised in engine.variants.items():
        opts = [o[n] for o, n in zip(engine.data_options, (i, j, k), strict=True)]
        whole = run_pipeline(fw, ds, _variant_steps(steps, *opts))
        np.testing.assert_array_equal(normalised, whole.stages["normalised"].to_numpy())


def test_huge_sample_counts_are_refused_before_anything_is_allocated(small_data, tmp_path):
    from typer.testing import CliRunner

    from aicity.cli import app

    fw = aicity.load_framework(SMALL_FW)
    inputs = {"weights": {"noise": 0.25}, "aggregate": {"values": ["arithmetic", "geometric"]}}
    with pytest.raises(InputError, match="too many"):
        parse_uncertainty({"sobol_samples": 2**30, "inputs": inputs}, fw)
    with pytest.raises(InputError, match="power of 2"):
        parse_uncertainty({"sobol_samples": "lots", "samples": "many", "inputs": inputs}, fw)
    with pytest.raises(InputError, match=r"at most 1,000,000 runs, so at most 131,072 with 2 inputs"):
        run_uncertainty(SMALL_FW, small_data, None, samples=10, sobol=True, sobol_samples=2**30, uncertainty={"inputs": inputs})
    with pytest.raises(InputError, match="samples"):
        run_uncertainty(SMALL_FW, small_data, None, samples=10**12, uncertainty={"inputs": inputs})
    import yaml

    path = tmp_path / "fw.yaml"
    path.write_text(yaml.safe_dump(SMALL_FW))
    res = CliRunner().invoke(app, ["uncertainty", "-f", str(path), "-d", str(small_data), "--sobol", "--sobol-samples", str(2**30), "--no-store"])
    assert res.exit_code == 2 and "too many" in res.output and "Traceback" not in res.output
