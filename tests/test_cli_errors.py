"""Bad input on the command line or in a file: a non-zero exit and a message naming what is
wrong, never a traceback (issue #14's regression cases)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import aicity
from aicity.cli import app
from aicity.errors import InputError, PipelineError
from aicity.framework import framework_from_dict
from aicity.spec import parse_pipeline

OK_FRAMEWORK = "index: {code: IDX}\nindicators:\n  - {code: a, parent: IDX}\n  - {code: b, parent: IDX}\n"
FILES = {
    "ok.yaml": OK_FRAMEWORK,
    "ok.csv": "unit,a,b\nX,1,2\nY,2,3\n",
    "empty.csv": "unit,a,b\n",
    "gappy.csv": "unit,a,b\nX,1,\nY,,3\n",
    "weird.csv": "unit,a,b\nX,1_000,2\nY,\uff12,3\n",
    "screen_all.yaml": OK_FRAMEWORK + "pipeline: {screen: {min_coverage: 1.0}}\n",
    "index_str.yaml": "index: IDX\nindicators: []\n",
    "context_str.yaml": OK_FRAMEWORK + "context: [pop, gdp]\n",
    "personas_list.yaml": OK_FRAMEWORK + "personas: [x, y]\n",
    "weight_sets_bad.yaml": OK_FRAMEWORK + "weight_sets: {a: 3}\n",
    "inf_weight.yaml": "index: {code: IDX}\nindicators:\n  - {code: a, parent: IDX, weight: .inf}\n  - {code: b, parent: IDX}\n",
    "typo.yaml": OK_FRAMEWORK.replace("{code: b, parent: IDX}", "{code: b, parent: IDX, directon: -1}"),
    "dup_unit.csv": "unit,a,b\nX,1,2\nY,2,3\nX,9,9\n",
    "units.csv": "code,name_en\nX,Ex\nY,Why\n",
    "long_no_value.csv": "unit,indicator,val\nX,a,1\nX,b,2\n",
    "long_typo.csv": "unit,indicator,value,publsher\nX,a,1,P\nX,b,2,P\n",
    "nul.csv": "unit,name,a,b\nX,Ex\x00,1,2\nY,Why,2,3\n",
    "ctrl_long.csv": "unit,indicator,value,publisher\nX,a,1,P\x01\nX,b,2,P\n",
    "fake.parquet": "not parquet",
    "fake.xlsx": "not a workbook",
    "seed.yaml": "uncertainty: {seed: -1, inputs: {weights: {noise: 0.2}}}\n",
    "seed_text.yaml": "uncertainty: {seed: abc, inputs: {weights: {noise: 0.2}}}\n",
    "levels.yaml": "uncertainty: {inputs: {weights: {noise: 0.2, levels: [x]}}}\n",
    "levels_int.yaml": "uncertainty: {inputs: {weights: {noise: 0.2, levels: 1}}}\n",
    "knn_values.yaml": "uncertainty: {inputs: {impute: {values: [{method: knn, k: -1}]}}}\n",
    "iterative.yaml": "pipeline: {impute: {method: iterative, max_iter: -1}}\n",
    "knn_frac.yaml": "pipeline: {impute: {method: knn, k: 2.5}}\n",
    "ri_cols.csv": "unit,p05\nX,1\n",
    "ri_order.csv": "unit,p05,p95\nX,2,1\n",
    "hex.csv": "unit,a,b\nX,0x10,2\nY,2,3\n",
    "unc_typo.yaml": "pipeline: {normalize: minmax}\nuncertainty: {sampels: 10, inputs: {weights: {noise: 0.2}}}\n",
    "unc_no_inputs.yaml": "uncertainty: {samples: 10, inputs: []}\n",
    "unc_exclude.yaml": "uncertainty: {inputs: {exclude_indicator: {values: [none, zz]}}}\n",
    "names_kr.yaml": OK_FRAMEWORK.replace("{code: b, parent: IDX}", "{code: b, parent: IDX, names: {en: B, kr: 비}}"),
    "cycle.yaml": "index: {code: IDX}\ngroups:\n  - {code: G1, parent: G2}\n  - {code: G2, parent: G1}\n"
                  "indicators:\n  - {code: a, parent: G1}\n  - {code: b, parent: G2}\n",
    "code_null.yaml": "index: {code: IDX}\nindicators:\n  - {code: a, parent: IDX}\n  - {code: null, parent: IDX}\n",
    "units_latlon.csv": "code,name_en,lat,lon\nX,Ex,95,10\nY,Why,10,500\n",
    "denominate.yaml": "pipeline: {denominate: maybe}\n",
    "weights_unknown.yaml": "pipeline: {weights: {G3: 1}}\n",
    "claims_note.yaml": "claims:\n  - {id: c, theme: policy, text: {en: X}, note: hello, subject: SEL, other: TYO, expected: higher}\n",
    "claims_theme.yaml": "claims:\n  - {id: c, theme: sport, text: {en: X}, subject: SEL, other: TYO, expected: higher}\n",
    "claims_twice.yaml": "claims:\n  - {id: c, theme: policy, text: {en: X}, subject: SEL, other: TYO, expected: higher}\n"
                         "  - {id: c, theme: policy, text: {en: Y}, subject: SEL, other: TYO, expected: higher}\n",
    "claims_codes.yaml": "claims:\n  - {id: c, theme: policy, text: {en: X}, subject: SEL, other: TYO, indicators: INFRA, expected: higher}\n",
    "ragged_units.csv": "code,name_en,region\nX,Ex,R1\nY,Why\n",
}
CASES = [
    (["build", "-f", "{ok.yaml}", "-d", "{empty.csv}"], "no units to rank"),
    (["build", "-f", "{screen_all.yaml}", "-d", "{gappy.csv}"], "leaves no unit to rank"),
    (["build", "-f", "{ok.yaml}", "-d", "{weird.csv}"], "text '1_000' in a number column"),
    (["build", "-f", "{index_str.yaml}", "-d", "{ok.csv}"], "'index' must be a mapping"),
    (["build", "-f", "{context_str.yaml}", "-d", "{ok.csv}"], "context[0] must be a mapping"),
    (["build", "-f", "{personas_list.yaml}", "-d", "{ok.csv}"], "'personas' must be a mapping"),
    (["build", "-f", "{weight_sets_bad.yaml}", "-d", "{ok.csv}"], "weight set 'a' must map codes"),
    (["build", "-f", "{inf_weight.yaml}", "-d", "{ok.csv}"], "a weight must be a finite number from 0 to 1,000,000"),
    (["validate", "-f", "{typo.yaml}", "-d", "{ok.csv}"], "did you mean 'direction'"),
    (["validate", "-f", "{ok.yaml}", "-d", "{weird.csv}"], "number column"),
    (["build", "-f", "{dir}", "-d", "{ok.csv}"], "Is a directory"),
    (["build", "--top", "-5"], "--top"),
    (["build", "--lang", "xx"], "choose en, ko or ja"),
    (["rank", "--weights", "infrastructure=inf"], "finite number"),
    (["rank", "--weights", "infrastructure=1_0"], "is not a number"),
    (["report", "--formats", "docx"], "docx"),
    (["trends", "--cities", "Atlantis"], "no unit 'Atlantis'"),
    (["serve", "--port", "99999"], "65535"),
    (["whatif", "Seoul", "fiveg_share=inf"], "not a finite number"),
    (["uncertainty", "--samples", "0"], "samples"),
    # a duplicate unit with a unit table was a pandas traceback (cannot reindex)
    (["validate", "-f", "{ok.yaml}", "-d", "{dup_unit.csv}", "--units", "{units.csv}"], "row 4, column 'unit': duplicate unit 'X'"),
    (["validate", "-f", "{ok.yaml}", "-d", "{long_no_value.csv}"], "needs a 'value' column; the header has unit, indicator, val"),
    (["validate", "-f", "{ok.yaml}", "-d", "{long_typo.csv}"], "column 'publsher': unknown column 'publsher'"),
    (["build", "-f", "{ok.yaml}", "-d", "{nul.csv}"], "row 2, column 'name': a text cell with a control character"),
    (["build", "-f", "{ok.yaml}", "-d", "{ctrl_long.csv}"], "row 2, column 'publisher': a text cell with a control character"),
    (["build", "-f", "{ok.yaml}", "-d", "{fake.parquet}"], "not a readable Parquet file"),
    (["build", "-f", "{ok.yaml}", "-d", "{fake.xlsx}"], "not a readable Excel workbook"),
    (["uncertainty", "-f", "{ok.yaml}", "-d", "{ok.csv}", "-p", "{seed.yaml}"], "seed must be a whole number from 0"),
    (["uncertainty", "-f", "{ok.yaml}", "-d", "{ok.csv}", "-p", "{seed_text.yaml}"], "not 'abc'"),
    (["validate", "-f", "{ok.yaml}", "-d", "{ok.csv}", "-p", "{seed_text.yaml}"], "not 'abc'"),
    (["uncertainty", "-f", "{ok.yaml}", "-d", "{ok.csv}", "-p", "{levels.yaml}"], "levels ['x'] are not levels below"),
    (["uncertainty", "-f", "{ok.yaml}", "-d", "{ok.csv}", "-p", "{levels_int.yaml}"], "'levels' must be a list"),
    (["uncertainty", "-f", "{ok.yaml}", "-d", "{ok.csv}", "-p", "{knn_values.yaml}"], "k must be a whole number from 1 up, got -1"),
    (["build", "-f", "{ok.yaml}", "-d", "{ok.csv}", "-p", "{iterative.yaml}"], "max_iter must be a whole number from 1 up"),
    (["build", "-f", "{ok.yaml}", "-d", "{ok.csv}", "-p", "{knn_frac.yaml}"], "k must be a whole number from 1 up, got 2.5"),
    (["uncertainty", "--seed", "-1"], "seed must be a whole number from 0"),
    (["uncertainty", "--sobol", "--sobol-samples", "0"], "sobol_samples must be a power of 2"),
    (["uncertainty", "--dask", "foo"], "'foo' is not local:N or a scheduler address"),
    (["uncertainty", "--dask", "local:abc"], "local:N needs a whole number of workers"),
    (["uncertainty", "--dask", "local:0"], "local:N needs a whole number of workers"),
    (["build", "--xlsx", "sometimes"], "'sometimes': choose auto, always or never"),  # was accepted, no workbook
    # build read past a typo in the pipeline file's uncertainty section
    (["build", "-f", "{ok.yaml}", "-d", "{ok.csv}", "-p", "{unc_typo.yaml}"], "unknown key 'sampels' in the uncertainty section"),
    (["validate", "-f", "{ok.yaml}", "-d", "{ok.csv}", "-p", "{unc_no_inputs.yaml}"], "the uncertainty section needs 'inputs'"),
    (["validate", "-f", "{ok.yaml}", "-d", "{ok.csv}", "-p", "{unc_exclude.yaml}"], "exclude_indicator: 'zz' must be"),
    (["validate", "-f", "{names_kr.yaml}", "-d", "{ok.csv}"], "'b': names: unknown language 'kr' (known: en, ko, ja)"),
    (["validate", "-f", "{cycle.yaml}", "-d", "{ok.csv}"], "cycle in the hierarchy: G1 -> G2 -> G1"),
    (["validate", "-f", "{code_null.yaml}", "-d", "{ok.csv}"], "indicators[1] needs a 'code'"),
    (["validate", "-f", "{ok.yaml}", "-d", "{ok.csv}", "--units", "{units_latlon.csv}"], "row 2, column 'lat': lat 95 is outside -90 to 90"),
    (["validate", "-f", "{ok.yaml}", "-d", "{ok.csv}", "--units", "{units_latlon.csv}"], "row 3, column 'lon': lon 500 is outside"),
    (["rank", "--weights", "infrastructure=2,infrastructure=5"], "'infrastructure' is given twice"),
    (["serve", "--workers", "100000"], "less than or equal to 32"),  # started 366 processes and ran out of memory
    # computed everything, then said only "File exists"
    (["trends", "-o", "{ok.csv}"], "is a file"),
    (["report", "--compare", "Seoul", "Tokyo", "-o", "{ok.csv}/x"], "is below the file"),
    (["report", "--compare", "Seoul", "Tokyo", "--samples", "-5"], "greater than or equal to 0"),
    (["serve", "--workers", "0"], "greater than or equal to 1"),
    (["report", "--compare", "Seoul", "Seoul"], "the same unit (SEL)"),  # was a pandas traceback
    (["report", "--compare", "Seoul", "Tokyo", "--claims", "{claims_note.yaml}"], "claim 'c': text and note map languages"),
    (["report", "--compare", "Seoul", "Tokyo", "--claims", "{claims_theme.yaml}"], "theme 'sport' is not a section"),
    (["report", "--compare", "Seoul", "Tokyo", "--claims", "{claims_twice.yaml}"], "claim 'c' is given twice"),
    (["report", "--compare", "Seoul", "Tokyo", "--claims", "{claims_codes.yaml}"], "'indicators' a list of codes"),
    (["validate", "-f", "{ok.yaml}", "-d", "{ok.csv}", "--units", "{ragged_units.csv}"], "line 3 has 2 fields, the header 3"),
    (["validate", "-f", "{ok.yaml}", "-d", "{ok.csv}", "-p", "{denominate.yaml}"], "denominate is true or false"),
    # was "weights: unknown code(s) ['G3']", without the file
    (["validate", "-f", "{ok.yaml}", "-d", "{ok.csv}", "-p", "{weights_unknown.yaml}"], "weights_unknown.yaml: step 'weights': unknown code(s) G3"),
    (["sources", "--indicator", "cloud_regins"], "no code or alias 'cloud_regins'"),  # printed "0 values", exit 0
    (["audit", "--corr-threshold", "nan"], "corr_threshold must be a number from 0 to 1"),
    (["audit", "--corr-threshold", "5"], "corr_threshold must be a number from 0 to 1"),
    (["rank", "--persona", "citizen", "--weights", "infrastructure=2"], "give a persona or --weights, not both"),
    (["whatif", "Tokyo"], "give INDICATOR=VALUE changes, --reach-rank or --beat"),  # printed nothing, exit 0
    (["whatif", "Tokyo", "--reach-rank", "0"], "rank must be a whole number between 1 and"),
    (["whatif", "Tokyo", "--reach-rank", "500"], "rank must be a whole number between 1 and"),
    (["whatif", "Tokyo", "--beat", "Tokyo"], "cannot pass itself"),
    (["whatif", "Tokyo", "fiveg_share=1", "fiveg_share=2"], "'fiveg_share' is changed twice"),
    (["profile", "Seoul", "--intervals", "{ri_cols.csv}"], "no column(s) p95"),
    # Arrow's inference read 0x10 as 16
    (["build", "-f", "{ok.yaml}", "-d", "{hex.csv}"], "row 2, column 'a': text '0x10' in a number column"),
    (["profile", "Seoul", "--intervals", "{ri_order.csv}"], "row 2, column 'p95': p05 (2) is above p95 (1)"),
    (["profile", "Seoul", "--intervals", "{dir}/none.csv"], "file not found"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    for name, text in FILES.items():
        (d / name).write_text(text, encoding="utf-8")
    return {**{name: str(d / name) for name in FILES}, "dir": str(d)}


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(a[:2]) + f" {i}" for i, (a, _) in enumerate(CASES)])
def test_bad_input_is_a_message_and_a_nonzero_exit(files, tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("AICITY_STORE", str(tmp_path / "store.duckdb"))
    import re

    argv = [re.sub(r"\{([^{}]+)\}", lambda m: files[m.group(1)], a) if re.fullmatch(r"\{[^{}]+\}.*", a) else a for a in args]
    if argv[0] in ("build", "report", "trends", "uncertainty") and "-o" not in argv:
        argv += ["--out", str(tmp_path / "out")]
    res = CliRunner().invoke(app, argv)
    output = res.output + (res.stderr if res.stderr_bytes is not None else "")
    assert res.exit_code != 0, output
    assert "Traceback" not in output and not isinstance(res.exception, (ValueError, TypeError, KeyError, AttributeError))
    assert message in " ".join(output.split()), output


def test_markup_in_user_text_is_printed_as_written(files, tmp_path):
    fw = tmp_path / "markup.yaml"
    fw.write_text(OK_FRAMEWORK.replace("{code: IDX}", "{code: IDX, names: {en: 'Index [/x] [see note]'}}"), encoding="utf-8")
    res = CliRunner().invoke(app, ["build", "-f", str(fw), "-d", files["ok.csv"], "--no-store", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "Index [/x] [see note]" in res.output


# -- the framework and pipeline readers never raise anything but the project's errors ----

leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=6),
                 st.sampled_from(["IDX", "a", "b", "P", "geometric", "log", "minmax", "-1", ".inf"]))
tree = st.recursive(leaf, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
    st.sampled_from(["code", "parent", "weight", "direction", "names", "aggregate", "transform", "goalposts",
                     "target", "meta", "method", "range", "p", "levels", "digits", "x"]), kids, max_size=4), max_leaves=12)
framework_like = st.fixed_dictionaries(
    {}, optional={"index": tree, "groups": tree, "indicators": tree, "context": tree, "personas": tree,
                  "weight_sets": tree, "denominators": tree, "unit_groups": tree, "pipeline": tree})
pipeline_like = st.dictionaries(st.sampled_from(["impute", "screen", "treat", "normalize", "weights", "aggregate",
                                                 "rank", "normalise", "meta", "bogus"]), tree, max_size=4)


@settings(max_examples=300, deadline=None)
@given(framework_like)
def test_the_framework_reader_only_raises_input_errors(raw):
    try:
        framework_from_dict(raw)
    except InputError:
        pass


@settings(max_examples=300, deadline=None)
@given(pipeline_like)
def test_the_pipeline_reader_only_raises_input_errors(raw):
    try:
        parse_pipeline(raw)
    except InputError:
        pass


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(pipeline_like)
def test_a_build_with_any_pipeline_is_a_result_or_a_project_error(raw):
    try:
        aicity.build(OK_DICT, DATA, raw)
    except (InputError, PipelineError):
        pass


OK_DICT = {"index": {"code": "IDX"}, "indicators": [{"code": "a", "parent": "IDX", "goalposts": [0, 10], "target": 5},
                                                    {"code": "b", "parent": "IDX", "goalposts": [0, 10], "target": 5}]}
DATA = __import__("pandas").DataFrame({"unit": ["X", "Y", "Z"], "a": [1.0, 2.0, 4.0], "b": [3.0, 1.0, 2.0]})


indicator_like = st.fixed_dictionaries(
    {"code": st.sampled_from(["a", "b"]), "parent": st.sampled_from(["IDX", "P", "a"])},
    optional={k: tree for k in ("weight", "direction", "goalposts", "target", "transform", "treat", "names", "aliases",
                                "meta", "denominator", "unit", "description")})
group_like = st.fixed_dictionaries({"code": st.just("P"), "parent": st.just("IDX")},
                                   optional={"aggregate": tree, "weight": tree, "names": tree})


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(indicator_like, min_size=1, max_size=3), st.lists(group_like, max_size=1), st.one_of(st.none(), tree))
def test_a_build_with_any_framework_entries_is_a_result_or_a_project_error(indicators, groups, index_aggregate):
    raw = {"index": {"code": "IDX", **({"aggregate": index_aggregate} if index_aggregate is not None else {})},
           "groups": groups, "indicators": indicators}
    try:
        aicity.build(raw, DATA)
    except (InputError, PipelineError):
        pass


def test_validate_refuses_what_build_refuses(tmp_path):
    fw = tmp_path / "f.yaml"
    fw.write_text(OK_FRAMEWORK + "pipeline: {normalize: goalposts}\n", encoding="utf-8")  # no goalposts given
    data = tmp_path / "d.csv"
    data.write_text("unit,a,b\nX,1,2\nY,2,3\n", encoding="utf-8")
    for cmd in ("validate", "build"):
        res = CliRunner().invoke(app, [cmd, "-f", str(fw), "-d", str(data), "--no-store", "--out", str(tmp_path / "o")][: 5 if cmd == "validate" else 9])
        assert res.exit_code == 2 and "without goalposts" in " ".join(res.output.split()), (cmd, res.output)


@pytest.mark.parametrize(("pipeline", "message"), [
    ({"treat": {"method": "winsorise_log", "winmax": float("inf")}}, "'winmax' must be a finite number"),
    ({"normalize": {"method": "minmax", "range": [0, float("inf")]}}, "'range' must hold finite numbers"),
    ({"normalize": {"method": "zscore", "sd": float("nan")}}, "'sd' must be a finite number"),
    ({"aggregate": {"method": "generalised_mean", "p": float("inf")}}, "'p' must be a finite number"),
    ({"weights": {"INFRA": float("inf")}}, "a weight must be a finite number"),
    ({"rank": {"digits": 2.5}}, "digits must be a whole number"),
    ({"weights": {"INFRA": 1e308}}, "a weight must be a finite number from 0 to 1,000,000"),
    # every pillar at 0 left every index score missing, with exit 0
    ({"weights": {"INFRA": 0, "INDUSTRY": 0, "POLICY": 0, "TRUST": 0, "NATIONAL": 0}}, "all children of 'AICI' have weight 0"),
])
def test_non_finite_or_out_of_range_parameters_are_refused(pipeline, message):
    with pytest.raises(InputError, match=message):
        aicity.build(pipeline=pipeline)


def test_validate_reads_the_uncertainty_section_as_uncertainty_does(tmp_path):
    """A pipeline file without `uncertainty:` leaves the framework's section in force: validate
    checks that one, as `aicity uncertainty` would read it."""
    fw = tmp_path / "f.yaml"
    fw.write_text(OK_FRAMEWORK + "uncertainty: {sampels: 5}\n", encoding="utf-8")
    pipe = tmp_path / "p.yaml"
    pipe.write_text("normalize: minmax\n", encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text("unit,a,b\nX,1,2\nY,2,3\n", encoding="utf-8")
    with pytest.raises(InputError, match="did you mean 'samples'"):
        aicity.check(fw, data, pipe)


def test_validate_judges_transformed_values_after_screening_as_build_does(tmp_path):
    raw = {"index": {"code": "IDX"}, "indicators": [{"code": "a", "parent": "IDX", "transform": "log"},
                                                   {"code": "b", "parent": "IDX"}],
           "pipeline": {"screen": {"min_coverage": 1.0}}}
    import pandas as pd

    data = pd.DataFrame({"unit": ["X", "Y", "Z"], "a": [1.0, 2.0, 0.0], "b": [1.0, 2.0, None]})  # Z screened out
    assert aicity.build(raw, data).units == ["X", "Y"]
    assert aicity.check(raw, data).spec.steps


def test_a_coinr_imeta_csv_with_a_row_wider_than_its_header_is_a_clear_error(tmp_path):
    bad = tmp_path / "iMeta.csv"
    bad.write_text("iCode,Parent\nx,y,z\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["validate", "--framework", str(bad), "--data", str(bad)])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "iMeta.csv" in res.output and "line 2 has 3 fields, the header 2" in " ".join(res.output.split())


def test_an_unknown_versus_unit_stops_the_build_before_anything_is_written(files, tmp_path):
    """--versus was checked after the outputs were written and the run recorded."""
    out, store = tmp_path / "out", tmp_path / "store.duckdb"
    res = CliRunner().invoke(app, ["build", "-f", files["ok.yaml"], "-d", files["ok.csv"], "--versus", "X,ZZ",
                                   "--out", str(out), "--store", str(store)])
    assert res.exit_code == 2 and "no unit 'ZZ'" in " ".join(res.output.split()), res.output
    assert not (out / "results.csv").exists()
    from aicity.store import Store

    with Store(store) as st:
        assert len(st.runs()) == 0


def test_an_indicator_without_any_value_is_a_warning():
    result = aicity.build(framework_from_dict({"index": {"code": "IDX"}, "indicators": [
        {"code": "a", "parent": "IDX"}, {"code": "b", "parent": "IDX"}]}), __import__("pandas").DataFrame(
        {"unit": ["X", "Y"], "a": [1.0, 2.0], "b": [float("nan")] * 2}))
    assert any("no unit has a value for b" in w for w in result.warnings)


def test_a_huge_value_is_treated_without_overflow():
    """whatif with 1e308 printed numpy's overflow warning: the moments overflowed."""
    import warnings

    import numpy as np

    from aicity.pipeline.treat import _skew_kurt_block

    col = np.array([[1.0], [2.0], [3.0], [40.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        n, skew, kurt = _skew_kurt_block(col * 1e300)
    assert np.allclose(skew, _skew_kurt_block(col)[1]) and np.allclose(kurt, _skew_kurt_block(col)[2])



IMETA = ("iCode,iName,Level,Direction,Weight,Type,Parent\n"
         "a,A,1,1,1,Indicator,IDX\nb,B,1,1,1,Indicator,IDX\nIDX,Index,2,,,Aggregate,\n")


@pytest.mark.parametrize(("table", "message"), [
    (IMETA.replace("Parent", "Parnt"), "unknown column 'Parnt'; did you mean 'Parent'?"),  # 8 errors, none naming it
    (IMETA.replace("Parent", "Parnt"), "missing column(s) ['Parent'] of COINr's iMeta"),
    (IMETA.replace("a,A,1,", "a,A,x,"), "row 2, column 'Level': Level 'x' of 'a' is not its level"),  # was ignored
    (IMETA.replace("IDX,Index,2,", "IDX,Index,3,"), "row 4, column 'Level': Level '3' of 'IDX'"),
    (IMETA.replace("a,A,1,1,1,", "a,A,1,1,heavy,"), "row 2, column 'Weight': weight 'heavy' is not a number"),
])
def test_a_coinr_imeta_with_a_wrong_column_or_level_is_an_error_naming_it(tmp_path, table, message):
    meta = tmp_path / "iMeta.csv"
    meta.write_text(table, encoding="utf-8")
    with pytest.raises(InputError) as info:
        aicity.load_framework(meta)
    assert message in " ".join(str(p) for p in info.value.problems)
    assert aicity.load_framework(_write_ok(tmp_path)).n_levels == 2  # the well-formed table reads


def _write_ok(tmp_path):
    ok = tmp_path / "ok_iMeta.csv"
    ok.write_text(IMETA, encoding="utf-8")
    return ok


def test_a_narrow_console_never_cuts_a_score(monkeypatch):
    """At 80 columns the ranking cut 100.00 to "100.…"; the names fold instead."""
    monkeypatch.setenv("COLUMNS", "80")
    res = CliRunner().invoke(app, ["rank", "--persona", "citizen", "--lang", "ko"], terminal_width=80)
    assert res.exit_code == 0, res.output
    table = res.output.split("top 10 of")[1]
    assert "…" not in table and "100.00" in table


@pytest.mark.parametrize(("edit", "message"), [
    (lambda rows: rows[5].__setitem__(0, "Tokyo"), "row 6, column 'unit': unknown unit 'Tokyo'"),  # was a 55th unit
    (lambda rows: rows[5].__setitem__(3, ""), "row 6, column 'year': trends need a year on every row"),  # was dropped
    (lambda rows: rows[5].__setitem__(3, "1e10"), "row 6, column 'year': year 1e+10 is not a year from 1800 to 2100"),
])
def test_a_panel_row_the_trends_would_misread_is_an_error(tmp_path, edit, message):
    import csv

    from aicity.bundled import panel_path

    rows = list(csv.reader(panel_path().open(encoding="utf-8")))
    edit(rows)
    panel = tmp_path / "panel.csv"
    with panel.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    res = CliRunner().invoke(app, ["trends", "-d", str(panel), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and message in " ".join(res.output.split()), res.output
