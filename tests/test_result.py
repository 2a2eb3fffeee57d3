"""IndexResult: rebuilt from its recorded parts (COINr's Regen test), and built from in-memory tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import aicity
from aicity.errors import InputError


@pytest.fixture(scope="module")
def bundled() -> aicity.IndexResult:
    return aicity.build()


def _same(a: aicity.IndexResult, b: aicity.IndexResult) -> None:
    assert a.units == b.units and a.codes == b.codes
    np.testing.assert_array_equal(a.scores_array, b.scores_array)
    np.testing.assert_array_equal(a.ranks_array, b.ranks_array)
    assert a.spec == b.spec


def test_regen_equals_the_build(bundled):
    _same(bundled.rebuild(), bundled)


def test_regen_on_asem(asem_result):
    _same(asem_result.rebuild(), asem_result)


def test_rebuild_with_another_spec_equals_building_with_it(bundled):
    spec = [(s, {**p, "method": "zscore", "mean": 0.0, "sd": 1.0} if s == "normalize" else p) for s, p in bundled.spec]
    direct = aicity.build(overrides={"normalize": {"method": "zscore", "mean": 0.0, "sd": 1.0}})
    _same(bundled.rebuild(spec=spec), direct)


def test_build_accepts_dataframes_long_and_wide(tmp_path):
    fw = {"index": {"code": "I"}, "indicators": [{"code": "a", "parent": "I"}, {"code": "b", "parent": "I", "direction": -1}]}
    wide = pd.DataFrame({"uCode": ["X", "Y", "Z"], "a": [1.0, 2.0, 4.0], "b": [3.0, 1.0, 2.0]})
    long = wide.melt(id_vars="uCode", var_name="indicator", value_name="value").rename(columns={"uCode": "unit"})
    path = tmp_path / "d.csv"
    wide.to_csv(path, index=False)
    from_file = aicity.build(fw, path)
    for frame in (wide, long):
        r = aicity.build(fw, frame)
        np.testing.assert_allclose(r.scores.loc[from_file.units].to_numpy(), from_file.scores.to_numpy())
    # hand check: a -> (0, 33.3, 100); b reversed -> (0, 100, 50); the index is their mean
    np.testing.assert_allclose(r.scores.loc[["X", "Y", "Z"], "I"].to_numpy(), [0.0, (100 / 3 + 100) / 2, 75.0])


def test_a_bad_dataframe_is_reported_like_a_file():
    fw = {"index": {"code": "I"}, "indicators": [{"code": "a", "parent": "I"}]}
    with pytest.raises(InputError, match="<DataFrame>"):
        aicity.build(fw, pd.DataFrame({"uCode": ["X", "X"], "a": [1.0, "text"]}))


def test_one_ranked_unit_rule_for_every_door(tmp_path):
    """A screened-out unit: the same clear error from the API, the CLI (exit 2) and the web (404)."""
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from aicity.cli import app
    from aicity.errors import UnitNotFound, UnitNotRanked

    fw = {"index": {"code": "I"}, "indicators": [{"code": "a", "parent": "I"}, {"code": "b", "parent": "I"}],
          "pipeline": {"screen": {"min_coverage": 1.0}}}
    data = pd.DataFrame({"uCode": ["X", "Y", "Z"], "a": [1.0, 2.0, 3.0], "b": [1.0, None, 2.0]})
    r = aicity.build(fw, data)
    assert r.ranked_unit("X") == "X"
    with pytest.raises(UnitNotRanked, match="Y was screened out"):
        r.ranked_unit("Y")
    with pytest.raises(UnitNotFound, match="no unit 'Atlantis'"):
        r.ranked_unit("Atlantis")
    from aicity.whatif import whatif

    with pytest.raises(UnitNotRanked):
        whatif(r, "Y", {"a": 5.0})
    import yaml

    (tmp_path / "fw.yaml").write_text(yaml.safe_dump(fw), encoding="utf-8")
    data.to_csv(tmp_path / "d.csv", index=False)
    res = CliRunner().invoke(app, ["whatif", "Y", "a=5", "-f", str(tmp_path / "fw.yaml"), "-d", str(tmp_path / "d.csv")])
    assert res.exit_code == 2 and "screened out" in res.output and "Traceback" not in res.output
    from aicity.web import create_app

    client = TestClient(create_app())
    assert client.get("/api/profile/Atlantis").status_code == 404


def test_typed_spec_reads_and_replaces_steps(bundled):
    spec = bundled.spec
    assert spec["aggregate"]["method"] == "arithmetic" and spec.steps[0] == "denominate"
    with pytest.raises(KeyError, match="no step 'nope'"):
        spec["nope"]
    z = spec.replace("normalize", method="zscore", mean=0.0, sd=1.0)
    assert z["normalize"]["method"] == "zscore" and spec["normalize"]["method"] == "minmax"  # a new spec
    _same(bundled.rebuild(spec=z), aicity.build(overrides={"normalize": {"method": "zscore", "mean": 0.0, "sd": 1.0}}))
    with pytest.raises(InputError):
        spec.replace("normalize", method="nonsense")


def test_rebuild_checks_the_spec_it_is_given(bundled):
    with pytest.raises(InputError, match="unknown step"):
        bundled.rebuild(spec={"normalise_all": {}})
    with pytest.raises(InputError):
        bundled.rebuild(spec={"normalize": {"method": "zz"}})
    partial = bundled.rebuild(spec={"normalize": {"method": "minmax", "range": [0, 100]}})  # the rest takes the defaults
    assert partial.spec["screen"]["min_coverage"] == 0.0
    assert bundled.spec["normalise"]["method"] == "minmax"  # the YAML alias reads too
    with pytest.raises(InputError, match="no step 'foo'"):
        bundled.spec.replace("foo", x=1)
    from aicity.personas import reweight

    assert reweight(bundled, {"INFRA": 2.0}).spec["weights"]["set"] == "custom"


def test_dataframes_are_checked_like_files(tmp_path):
    fw = {"index": {"code": "I"}, "indicators": [{"code": "a", "parent": "I"}]}
    with pytest.raises(InputError, match="empty unit code"):
        aicity.build(fw, pd.DataFrame({"uCode": ["X", None], "a": [1.0, 2.0]}))
    indexed = pd.DataFrame({"uCode": ["X", "Y"], "a": [1.0, 2.0]}).set_index("uCode")
    r = aicity.build(fw, indexed)
    assert sorted(r.units) == ["X", "Y"]
    units = pd.DataFrame({"code": ["X", "Y"], "name_en": ["Ex", "Why"]})
    r = aicity.build(fw, indexed, units=units)
    assert r.dataset.unit_name("Y") == "Why"
