"""Bad input gets clear errors naming file, row, column and reason, all at once."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import aicity
from aicity.errors import InputError
from aicity.framework import framework_from_dict
from aicity.spec import parse_pipeline

FW = {
    "index": {"code": "IDX", "names": {"en": "Index", "ko": "지수", "ja": "指数"}},
    "groups": [{"code": "P", "parent": "IDX", "weight": 1}],
    "indicators": [
        {"code": "a", "parent": "P", "weight": 1, "direction": 1},
        {"code": "b", "parent": "P", "weight": 1, "direction": -1},
    ],
}


def messages(exc: InputError) -> list[str]:
    return [str(p) for p in exc.problems]


def test_long_csv_reports_every_problem_with_row_and_column(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(
        "unit,indicator,value,year,source,url\n"
        "X,a,1.5,2023,S,http://s\n"
        "X,zzz,2,2023,S,http://s\n"  # row 3: unknown indicator
        "Y,a,\"1,234\",2023,S,http://s\n"  # row 4: text in a number column
        "X,a,3,2023,S,http://s\n"  # row 5: duplicate of row 2
        "Y,b,inf,2023,S,http://s\n"  # row 6: infinite
    )
    with pytest.raises(InputError) as info:
        aicity.load_data(path, aicity.load_framework(FW))
    found = messages(info.value)
    assert any("row 3" in m and "'indicator'" in m and "unknown indicator code 'zzz'" in m for m in found)
    assert any("row 4" in m and "'value'" in m and "text '1,234'" in m for m in found)
    assert any("row 5" in m and "duplicate X + a + 2023 (first at row 2)" in m for m in found)
    assert any("row 6" in m and "infinite" in m for m in found)
    assert all(str(path) in m for m in found)
    assert len(found) == 4


def test_long_data_keeps_provenance_and_uses_the_latest_year(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(
        "unit,indicator,value,year,source,url,geo\n"
        "X,a,1,2020,Old,http://old,city\nX,a,2,2023,New,http://new,country\nNA,a,5,2023,S,http://s,city\n"
    )
    ds = aicity.load_data(path, aicity.load_framework(FW))
    assert ds.values.at["X", "a"] == 2
    assert "NA" in ds.values.index  # Namibia's code is not a missing value
    used = ds.observations[ds.observations.used]
    assert used.set_index("unit").at["X", "source"] == "New"
    assert len(ds.observations) == 3


def test_wide_csv_text_and_duplicate_units(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("unit,a,b\nX,1,2\nY,abc,3\nX,4,5\nZ,NA,\n")
    with pytest.raises(InputError) as info:
        aicity.load_data(path, aicity.load_framework(FW))
    found = messages(info.value)
    assert any("row 3" in m and "'a'" in m and "text 'abc'" in m for m in found)
    assert any("row 4" in m and "duplicate unit 'X' (first at row 2)" in m for m in found)


def test_wide_missing_indicator_column(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("unit,a\nX,1\n")
    with pytest.raises(InputError, match="indicator 'b' of the framework has no column"):
        aicity.load_data(path, aicity.load_framework(FW))


def test_wide_xlsx_and_parquet_read_the_same(tmp_path):
    frame = pd.DataFrame({"unit": ["X", "Y", "Z"], "a": [1.0, 2.0, 4.0], "b": [3.0, None, 1.0], "region": ["r1", "r2", "r1"]})
    frame.to_excel(tmp_path / "d.xlsx", index=False)
    frame.to_parquet(tmp_path / "d.parquet", index=False)
    frame.to_csv(tmp_path / "d.csv", index=False)
    results = [aicity.build(FW, tmp_path / f"d.{ext}").scores for ext in ("csv", "xlsx", "parquet")]
    pd.testing.assert_frame_equal(results[0], results[1])
    pd.testing.assert_frame_equal(results[0], results[2])


def test_unknown_unit_against_the_unit_table(tmp_path):
    (tmp_path / "units.csv").write_text("code,name_en,name_ko\nX,Ex,엑스\n")
    (tmp_path / "long.csv").write_text("unit,indicator,value\nX,a,1\nQ,a,2\n")
    with pytest.raises(InputError, match=r"row 3, column 'unit': unknown unit 'Q'"):
        aicity.load_data(tmp_path / "long.csv", aicity.load_framework(FW), tmp_path / "units.csv")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f["indicators"].append({"code": "c", "parent": "NOPE"}), "unknown parent 'NOPE'"),
        (lambda f: f["indicators"].append({"code": "a", "parent": "P"}), "duplicate code 'a'"),
        (lambda f: f["groups"].append({"code": "Q", "parent": "IDX"}), "group 'Q' has no children"),
        (lambda f: f["indicators"][0].update(direction=2), "direction 2"),
        (lambda f: f["indicators"][0].update(weight=-1), "a weight must be a finite number from 0 to 1,000,000"),
        # 1e308 made every score inf and every unit first, with exit 0
        (lambda f: f["indicators"][0].update(weight=1e308), "'a' has weight 1e[+]308: a weight must be a finite number"),
        (lambda f: f["indicators"][0].update(weight=True), "'a' has weight True is not a number"),
        (lambda f: f["indicators"][0].update(weight="2"), "'a' has weight '2' is not a number"),
        (lambda f: f["indicators"][0].update(weight=1e-9), "at least 0.000001"),
        (lambda f: f.update(weight_sets={"s": {"a": 2e6}}), "weight set 's': weight of 'a' is 2000000.0: a weight must be"),
        (lambda f: f.update(personas={"p": {"weights": {"a": float("nan")}}}), "persona 'p': weight of 'a' is nan: a weight"),
        (lambda f: [i.update(weight=0) for i in f["indicators"]], "all children of 'P' have weight 0"),
        (lambda f: f.update(weight_sets={"s": {"zz": 1}}), "weight set 's': unknown code 'zz'"),
        (lambda f: f["groups"].extend([{"code": "C1", "parent": "C2"}, {"code": "C2", "parent": "C1"}]), "cycle"),
        (lambda f: f["indicators"][0].update(treat="no"), "'a': treat must be true or false"),
        (lambda f: f["indicators"][0].update(counter="곳"), "'a': counter must map languages"),
        (lambda f: f["indicators"][0].update(counter={"kr": "곳"}), "'a': counter: unknown language 'kr'"),
        (lambda f: f["indicators"][0].update(counter={"ko": " "}), "'a': counter: ko: needs a word"),
        (lambda f: f["groups"][0].update(counter={"ko": "곳"}), "unknown key 'counter' in group 'P'"),
    ],
)
def test_framework_errors(change, message):
    import copy

    spec = copy.deepcopy(FW)
    change(spec)
    with pytest.raises(InputError, match=message):
        framework_from_dict(spec)


def test_a_counter_word_follows_a_count_in_korean_and_japanese_prose():
    import copy

    from aicity.report import _value_with_unit

    spec = copy.deepcopy(FW)
    spec["indicators"][0]["counter"] = {"ko": "곳", "ja": "団体"}
    counter = framework_from_dict(spec).node("a").counter
    assert counter == {"ko": "곳", "ja": "団体"} and framework_from_dict(FW).node("a").counter == {}
    assert _value_with_unit(28, "local governments", "ko", counter=counter) == "28곳"
    assert _value_with_unit(12, "local governments", "ja", counter=counter) == "12団体"
    assert _value_with_unit(28, "local governments", "en", counter=counter) == "28"  # no English word given
    assert _value_with_unit(3, "rank", "ko", counter=counter) == "3위"  # a rank stays a rank
    assert _value_with_unit(float("nan"), "local governments", "ko", counter=counter) == "자료 없음"  # no 곳 after it


def test_framework_tree_and_levels():
    fw = framework_from_dict(FW)
    assert fw.codes == ["a", "b", "P", "IDX"]
    assert fw.levels == {"a": 1, "b": 1, "P": 2, "IDX": 3}
    assert fw.node("IDX").name("ko") == "지수"


def test_pipeline_errors_name_the_step_and_parameter():
    with pytest.raises(InputError) as info:
        parse_pipeline({"normalise": {"method": "minmax", "rnge": [0, 1]}, "impute": "magic", "bogus": 1})
    text = str(info.value)
    assert "unknown key 'rnge' in step 'normalize'; did you mean 'range'?" in text
    assert "unknown method 'magic'" in text and "unknown step 'bogus' in the pipeline" in text


def test_pipeline_steps_run_in_the_order_written():
    steps = parse_pipeline({"impute": "mean", "screen": {"min_coverage": 0.5}, "aggregate": "geometric"})
    assert [s for s, _ in steps] == ["impute", "screen", "aggregate"]


def test_a_zero_child_makes_that_units_geometric_mean_zero_and_is_reported(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("unit,a,b\nX,1,2\nY,2,3\nZ,3,1\n")
    # min-max to [0, 100]: a = 0, 50, 100 and b (lower is better) = 50, 0, 100: X and Y have a zero child
    r = aicity.build(FW, path, {"aggregate": "geometric"})
    assert r.scores.at["X", "P"] == 0 and r.scores.at["Y", "P"] == 0
    assert r.scores.at["Z", "P"] == pytest.approx(math.sqrt(100 * 100))
    assert "P: a zero child makes the geometric aggregate 0 for X, Y" in r.warnings
    ok = aicity.build(FW, path, {"normalize": {"method": "minmax", "range": [1, 100]}, "aggregate": "geometric"})
    assert ok.index_scores.notna().all() and not any("zero child" in w for w in ok.warnings)


def test_imputed_cells_are_flagged_in_outputs(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("unit,a,b\nX,1,2\nY,,3\nZ,3,1\n")
    result = aicity.build(FW, path, {"impute": "mean"})
    assert result.imputed.at["Y", "a"] and result.imputed.values.sum() == 1
    tidy = result.to_frame().set_index(["unit", "code"])
    assert tidy.at[("Y", "a"), "imputed"] and tidy.at[("Y", "IDX"), "n_imputed"] == 1
    assert not tidy.at[("X", "IDX"), "imputed"]
    assert result.stages["raw"].isna().at["Y", "a"]  # the input is never overwritten


WEIGHTED = {
    "index": {"code": "IDX"},
    "groups": [{"code": "P", "parent": "IDX", "weight": 1}, {"code": "Q", "parent": "IDX", "weight": 3}],
    "indicators": [
        {"code": "a", "parent": "P", "weight": 1},
        {"code": "b", "parent": "Q", "weight": 1},
    ],
    "weight_sets": {"p_heavy": {"P": 3, "Q": 1}},
}


def _two_units(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("unit,a,b\nX,0,10\nY,10,0\n")  # min-max: X = (0, 100), Y = (100, 0)
    return path


@pytest.mark.parametrize(
    ("weights", "x_score"),
    [("framework", 75.0), ("equal", 50.0), ("p_heavy", 25.0), ({"P": 1, "Q": 4}, 80.0)],
)
def test_weight_choices_by_hand(tmp_path, weights, x_score):
    result = aicity.build(WEIGHTED, _two_units(tmp_path), {"weights": weights})
    assert result.index_scores["X"] == pytest.approx(x_score)
    assert result.index_scores["Y"] == pytest.approx(100 - x_score)


def test_unknown_weight_set_is_an_error(tmp_path):
    with pytest.raises(InputError, match="unknown weight set 'nope'"):
        aicity.build(WEIGHTED, _two_units(tmp_path), {"weights": "nope"})


def test_goalposts_and_targets_from_yaml(tmp_path):
    spec = tmp_path / "fw.yaml"
    spec.write_text(
        "index: {code: I}\nindicators:\n"
        "  - {code: a, parent: I, goalposts: [0, 20], target: 15}\n"
        "  - {code: b, parent: I, direction: -1, goalposts: [0, 10], target: 2}\n"
    )
    data = tmp_path / "d.csv"
    data.write_text("unit,a,b\nX,5,4\nY,30,12\n")
    r = aicity.build(spec, data, {"normalize": {"method": "goalposts", "range": [0, 100]}})
    assert r.scores.at["X", "a"] == pytest.approx(25) and r.scores.at["Y", "a"] == 100
    assert r.scores.at["X", "b"] == pytest.approx(60) and r.scores.at["Y", "b"] == 0
    t = aicity.build(spec, data, {"normalize": {"method": "dist2target"}})
    # a: 1 - (15 - x) / (15 - 5); b (lower is better, target 2): 1 - (x - 2) / (12 - 2), capped at 1
    assert t.scores.at["X", "a"] == pytest.approx(0.0) and t.scores.at["Y", "a"] == 1.0
    assert t.scores.at["X", "b"] == pytest.approx(0.8) and t.scores.at["Y", "b"] == pytest.approx(0.0)


def test_duplicate_column_names_are_reported(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("unit,a,b,a\nX,1,2,3\n")
    with pytest.raises(InputError, match=r"row 1, column 'a': duplicate column name"):
        aicity.load_data(path, aicity.load_framework(FW))


def test_a_data_file_rewritten_while_read_is_refused_not_hashed(tmp_path):
    """The run records the hash of the file it parsed; a file changed in between would give
    the hash of data the run never saw."""
    from aicity.data import _unchanged_file_hash

    path = tmp_path / "data.csv"
    path.write_text("unit,a\nX,1\n")
    before = path.stat()
    path.write_text("unit,a\nX,1\nY,2\n")
    with pytest.raises(InputError, match="changed while it was being read"):
        _unchanged_file_hash(path, before)


def test_wide_csv_without_a_unit_column_is_a_clear_error(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("city,a,b\nX,1,2\nY,3,4\n")
    with pytest.raises(InputError, match="no unit code column"):
        aicity.load_data(path, aicity.load_framework(FW))


def test_hashes_keep_the_data_file_first_and_a_dataset_pickles(tmp_path):
    import pickle

    (tmp_path / "units.csv").write_text("code,name_en\nX,Ex\nY,Why\n")
    (tmp_path / "long.csv").write_text("unit,indicator,value\nX,a,1\nY,a,2\nX,b,3\nY,b,4\n")
    ds = aicity.load_data(tmp_path / "long.csv", aicity.load_framework(FW), tmp_path / "units.csv")
    copy = pickle.loads(pickle.dumps(ds))
    assert list(copy.hashes) == [str(tmp_path / "long.csv"), str(tmp_path / "units.csv")]
    assert copy.hashes == ds.hashes


def test_a_build_settles_its_hashes_so_the_inputs_may_go(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("unit,a,b\nX,1,2\nY,3,5\nZ,4,1\n")
    result = aicity.build(FW, path)
    path.unlink()
    assert len(result.dataset.hashes[str(path)]) == 64


def test_stage_tables_are_independent_when_written_to(tmp_path):
    """Steps that change nothing share one array with the stage before; writing into one
    stage's table must not show up in another's, nor in the data set."""
    path = tmp_path / "wide.csv"
    path.write_text("unit,a,b\nX,1,2\nY,3,5\nZ,4,1\n")
    result = aicity.build(FW, path)
    before = {name: frame.copy() for name, frame in result.stages.items()}
    result.stages["raw"].iloc[0, 0] = -999.0
    assert result.stages["raw"].iloc[0, 0] == -999.0
    for name in ("denominated", "imputed", "screened", "treated"):
        if name in result.stages:
            pd.testing.assert_frame_equal(result.stages[name], before[name])
    assert result.dataset.values.iloc[0, 0] == 1.0


def test_a_framework_without_data_is_a_clear_error(tmp_path):
    """The bundled values belong to the bundled framework: never read them against another."""
    from typer.testing import CliRunner

    from aicity.cli import app

    fw = tmp_path / "fw.yaml"
    fw.write_text("index: {code: I}\nindicators:\n  - {code: a, parent: I}\n", encoding="utf-8")
    with pytest.raises(InputError, match="a framework needs its data"):
        aicity.build(fw)
    res = CliRunner().invoke(app, ["build", "-f", str(fw), "--no-store", "-o", str(tmp_path / "out")])
    assert res.exit_code == 2 and "a framework needs its data" in " ".join(res.output.split())
    assert not (tmp_path / "out").exists()
