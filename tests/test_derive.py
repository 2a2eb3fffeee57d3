"""`aicity derive`: counting record files by city, against hand-computed fixtures.

The fixture world (tests/fixtures/derive): unit A is a 50 km circle at (0, 0), B a 50 km circle
at (0, 1) and C a 30 km circle at (0, 0.5); one degree of longitude on the equator is 111.2 km.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from aicity.cli import app
from aicity.derive import (
    bundled_derived_dir,
    bundled_recipes,
    derive_dir,
    derive_recipes,
    write_derived,
)
from aicity.derive.match import Matcher, check_crosswalk, normalize
from aicity.derive.metros import haversine_km
from aicity.derive.recipe import Indicator
from aicity.errors import InputError

FIX = Path(__file__).parent / "fixtures" / "derive"
SHARED_RECORDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "records"
KW = dict(metros=FIX / "metros.csv", gazetteer=FIX / "places.csv", countries=FIX / "countries.csv")


def run(recipe: str, **kw):
    return derive_recipes([FIX / recipe], **{**KW, **kw})


def values(result, indicator: str) -> dict:
    v = result.values[result.values["indicator"] == indicator]
    return {(u, y): (float(x) if x != "" else None) for u, y, x in zip(v["unit"], v["year"], v["value"], strict=True)}


# --- counting rules -------------------------------------------------------------------------------

def test_fractional_counting_per_year():
    # paper 1 (2020): Alpha University (A) ; Beta Lab (B)            -> A 1/2, B 1/2
    # paper 2 (2020): Unknown ; BigCo+Beta Lab ; (empty)             -> A 1/6 (BigCo HQ), B 1/6
    # paper 3 (2021): Dept X [alpha.edu -> Alpha University] ; Gamma -> A 1/2, Gamma outside
    # paper 4: venue V2, filtered out; paper 5 (2021): Alpha University -> A 1
    r = run("papers.yaml")
    frac = values(r, "papers_frac")
    assert frac[("A", 2020)] == pytest.approx(1 / 2 + 1 / 6, abs=1e-6)
    assert frac[("A", 2021)] == pytest.approx(1.5)
    assert frac[("B", 2020)] == pytest.approx(1 / 2 + 1 / 6, abs=1e-6)
    assert frac[("B", 2021)] == 0 and frac[("C", 2020)] == 0
    rows = values(r, "papers_rows")  # papers with at least one author placed in the unit
    assert rows == {("A", 2020): 2, ("A", 2021): 2, ("B", 2020): 2, ("B", 2021): 0, ("C", 2020): 0, ("C", 2021): 0}


def test_coverage_and_unplaced_are_reported():
    r = run("papers.yaml")
    cov = r.coverage.set_index("indicator").loc["papers_frac"]
    assert cov["records"] == 4
    assert cov["placed"] == pytest.approx(4 - 2 / 3, abs=1e-6)  # the unknown 1/3 and the empty 1/3
    assert cov["unplaced"] == pytest.approx(2 / 3, abs=1e-6)
    assert cov["in_units"] == pytest.approx(4 - 2 / 3 - 1 / 2, abs=1e-6)  # Gamma is outside every unit
    assert cov["hq_share"] == pytest.approx((1 / 6) / (4 - 2 / 3), abs=1e-6)
    un = r.unplaced[r.unplaced["indicator"] == "papers_frac"].set_index("place")
    assert un.loc["Gamma Institute", "reason"] == "outside every unit"
    assert un.loc["Unknown Place", "reason"] == "no match"
    assert un.loc["Unknown Place", "weight"] == pytest.approx(1 / 3, abs=1e-6)
    assert (un["reason"] == "empty").sum() == 1


def test_per_capita_and_provenance():
    r = run("papers.yaml")
    pc = values(r, "papers_pc")
    # all years: A = 2/3 + 3/2 = 13/6 fractional papers; population 2,000,000
    assert pc[("A", 2021)] == pytest.approx(13 / 6 / 2, abs=1e-6)
    assert pc[("B", 2021)] is None  # no population: missing, not invented
    assert any("B has no population" in w for w in r.warnings)
    row = r.values[(r.values["indicator"] == "papers_pc") & (r.values["unit"] == "A")].iloc[0]
    assert row["quote"] == "2.17 fractional authorships of 4 papers (2020-2021) placed in Alphaville"
    assert row["url"] == "https://github.com/example/papers/blob/0123456789abcdef0123456789abcdef01234567/papers.csv"
    assert row["geo"] == "metro" and "50 km of Alpha centre" in row["geo_name"]
    assert "Per 1,000,000 inhabitants of Alpha metro" in row["note"]
    assert "headquarters" in row["note"]  # BigCo's 1/6 was placed at its HQ: flagged


def test_rows_sum_distinct_country_and_empty_field():
    r = run("companies.yaml")
    # X1, X2 in A; X3, X4 (Cambridge in Betaland) and X7 (blank city -> Betaland -> B) in B;
    # X5 Cambridge in Alphaland is outside every unit; X6 matches nothing.
    assert values(r, "firms") == {("A", 2022): 2, ("B", 2022): 3, ("C", 2022): 0}
    assert values(r, "firm_value") == {("A", 2022): 15, ("B", 2022): 14, ("C", 2022): 0}
    assert values(r, "industries") == {("A", 2022): 2, ("B", 2022): 1, ("C", 2022): 0}
    assert values(r, "firms_pc")[("A", 2022)] == pytest.approx(1.0)
    un = r.unplaced[r.unplaced["indicator"] == "firms"].set_index("place")
    assert un.loc["Cambridge", "reason"] == "outside every unit" and un.loc["Cambridge", "country"] == "Alphaland"


def test_radius_placement_nearest_centre():
    r = run("points.yaml")
    # p1 (0, 0.3): 33 km from A (radius 50), 22 km from C (radius 30): both hold it, C is nearer
    # p2 (0, 0.2): 22 km from A, 33 km from C (outside C's 30 km): A
    assert values(r, "sites") == {("A", 2025): 1, ("B", 2025): 1, ("C", 2025): 1}
    un = r.unplaced.set_index("place")
    assert un.loc["p4", "reason"] == "outside every unit"
    assert un.loc["p5", "reason"] == "no coordinates"
    assert haversine_km(0, 0, 0, 1) == pytest.approx(111.195, abs=0.01)


# --- matching --------------------------------------------------------------------------------------

def _cw(rows: list[dict], name: str = "cw"):
    df = pd.DataFrame(rows)
    return check_crosswalk(df, name, units=["U"], name=name)


def test_matching_rule():
    assert normalize("Univ. of Zürich,  CH") == "univ of zurich ch"
    places = _cw([
        {"key": "New York", "match": "contains", "place": "New York", "country": "US", "lat": "40.7", "lon": "-74", "source": "t"},
        {"key": "Abu Dhabi", "match": "contains", "place": "Abu Dhabi", "country": "AE", "lat": "24.4", "lon": "54.4", "source": "t"},
        {"key": "York", "match": "contains", "place": "York", "country": "GB", "lat": "53.9", "lon": "-1.1", "source": "t"},
    ], "places")
    doms = _cw([{"key": "ox.ac.uk", "match": "domain", "alias": "New York", "source": "t"}], "doms")
    countries = pd.DataFrame({"code": ["US", "GB"], "alias": ["USA", "United Kingdom"]})
    m = Matcher([places], countries)
    assert m.match("New York University Abu Dhabi").key == "Abu Dhabi"  # same length: the later one
    assert m.match("Dept. of CS, New York, USA").key == "New York"  # the longer key beats "York"
    assert m.match("University of York, United Kingdom").key == "York"
    assert m.match("Newyork") is None  # whole words only
    d = Matcher([doms], countries, alias_matcher=m)
    hit = d.match("robots.ox.ac.uk", domain=True)
    assert hit.key == "ox.ac.uk" and hit.via.key == "New York"
    assert d.match("box.ac.uk", domain=True) is None  # a sub-domain, not a suffix of letters


# --- errors ------------------------------------------------------------------------------------------

def _write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def _recipe(tmp: Path, text: str) -> Path:
    for f in ("papers.csv", "institutions.csv", "domains.csv", "companies.csv", "capitals.csv"):
        shutil.copy(FIX / f, tmp / f)
    return _write(tmp, "r.yaml", text)


BASE = (FIX / "companies.yaml").read_text(encoding="utf-8")


def test_unknown_key_names_line_and_nearest(tmp_path):
    p = _recipe(tmp_path, BASE.replace("counted: companies", "counted: companies\nfilterz: []"))
    with pytest.raises(InputError) as e:
        derive_recipes([p], **KW)
    assert "unknown key 'filterz'" in str(e.value) and "did you mean 'filters'" in str(e.value)
    assert "(line 4)" in str(e.value)
    p = _recipe(tmp_path, BASE.replace("count: rows, year: 2022}", "count: rows, yaer: 2022}", 1))
    with pytest.raises(InputError, match="did you mean 'year'"):
        derive_recipes([p], **KW)


def test_unknown_field_and_bad_filter(tmp_path):
    p = _recipe(tmp_path, BASE.replace("field: city,", "field: ctiy,"))
    with pytest.raises(InputError, match=r"place.field: unknown field 'ctiy'.*did you mean 'city'"):
        derive_recipes([p], **KW)
    p = _recipe(tmp_path, BASE.replace("counted: companies", "counted: companies\nfilters: [{field: name, range: [1, 2]}]"))
    with pytest.raises(InputError, match=r"filters\[0\]: field 'name' .* holds values that are not a number: 'X1' \(1 records\)"):
        derive_recipes([p], **KW)
    p = _recipe(tmp_path, BASE.replace("counted: companies", "counted: companies\nfilters: [{field: name, equals: X1, in: [X2]}]"))
    with pytest.raises(InputError, match="exactly one of equals, in, in_file, range"):
        derive_recipes([p], **KW)


def test_crosswalk_with_unknown_unit(tmp_path):
    p = _recipe(tmp_path, BASE)
    _write(tmp_path, "capitals.csv", "key,match,kind,unit,source\nBetaland,exact,capital,ZZ,test\n")
    with pytest.raises(InputError, match=r"capitals.csv, row 2, column 'unit': unknown unit 'ZZ'"):
        derive_recipes([p], **KW)


def test_unparseable_records_and_no_partial_output(tmp_path):
    p = _recipe(tmp_path, BASE.replace("files: companies.csv", "files: broken.json"))
    _write(tmp_path, "broken.json", '[{"name": "X1", "city": "Alpha"}, {"name": ')
    out = tmp_path / "out"
    out.mkdir()
    (out / "values.csv").write_text("earlier run\n")
    runner = CliRunner()
    res = runner.invoke(app, ["derive", str(p), "--out", str(out), "--metros", str(FIX / "metros.csv")])
    assert res.exit_code == 2
    assert "broken.json" in res.output and "could not be read" in res.output
    assert "Traceback" not in res.output
    assert (out / "values.csv").read_text() == "earlier run\n"  # untouched
    assert sorted(x.name for x in tmp_path.iterdir() if x.name.startswith(".out")) == []  # no leftovers


def test_write_is_all_or_nothing(tmp_path):
    r = run("points.yaml")
    out = tmp_path / "derived"
    write_derived(r, out)
    assert sorted(p.name for p in out.iterdir()) == ["coverage.csv", "distinct_values.csv", "indicators.csv", "unplaced.csv",
                                                     "values.csv"]
    write_derived(r, out)  # replaces a previous output as a whole
    assert pd.read_csv(out / "values.csv")["value"].tolist() == [1, 1, 1]


# --- scale: Dask gives identical results ---------------------------------------------------------

def test_dask_local_cluster_identical(tmp_path):
    pytest.importorskip("dask.distributed")
    papers = pd.read_csv(FIX / "papers.csv", dtype=str, keep_default_na=False)
    big = pd.concat([papers.assign(id=papers["id"] + f"-{i}") for i in range(40)], ignore_index=True)
    pq.write_table(pa.Table.from_pandas(big, preserve_index=False), tmp_path / "papers.parquet", row_group_size=20)
    for f in ("institutions.csv", "domains.csv"):
        shutil.copy(FIX / f, tmp_path / f)
    recipe = (FIX / "papers.yaml").read_text().replace("files: papers.csv", "files: papers.parquet")
    p = _write(tmp_path, "p.yaml", recipe)
    local = derive_recipes([p], **KW)
    dask = derive_recipes([p], dask="local:2", **KW)
    pd.testing.assert_frame_equal(local.values, dask.values)
    pd.testing.assert_frame_equal(local.coverage, dask.coverage)
    assert values(local, "papers_frac")[("A", 2021)] == pytest.approx(1.5 * 40)


# --- the bundled derived indicators ---------------------------------------------------------------

@pytest.mark.skipif(not SHARED_RECORDS.is_dir(), reason="../shared/data/records is absent: the bundled derived values are not re-derived")
def test_bundled_recipes_reproduce_bundled_values(tmp_path):
    out = tmp_path / "derived"
    res = CliRunner().invoke(app, ["derive", "--bundled", "--records", str(SHARED_RECORDS), "--out", str(out)])
    assert res.exit_code == 0, res.output
    for name in ("values.csv", "coverage.csv", "unplaced.csv", "distinct_values.csv"):
        got = (out / name).read_text(encoding="utf-8")
        want = (bundled_derived_dir() / name).read_text(encoding="utf-8")
        assert got == want, f"{name} differs from the bundled derived file"


def test_bundled_derived_values_are_sourced():
    v = pd.read_csv(bundled_derived_dir() / "values.csv", dtype=str, keep_default_na=False)
    assert len(bundled_recipes()) >= 6
    assert not v.empty
    for col in ("publisher", "source", "url", "quote", "geo", "year"):
        assert (v[col] != "").all(), col
    assert v["url"].str.startswith("https://github.com/").all()
    cov = pd.read_csv(bundled_derived_dir() / "coverage.csv")
    papers = cov[cov["indicator"].str.startswith("ai_conf_papers")]
    assert not papers.empty and (papers["placed_share"] >= 0.70).all()


def test_cli_help_lists_derive():
    res = CliRunner().invoke(app, ["derive", "--help"])
    assert res.exit_code == 0 and "--bundled" in res.output and "--records" in res.output


@pytest.mark.parametrize("text, unit, hq", [
    ("California Institute of Technology", "LAX", False),  # Pasadena, California, not Texas
    ("KAIST", "DJN", False),  # Daejeon, not Seoul
    ("Seoul National University", "SEL", False),
    ("Department of Mechano-Informatics, The University of Tokyo, Tokyo, Japan", "TYO", False),
    ("Google Research, Tokyo", "TYO", False),  # the site named in the text wins
    ("Google Research", "SFBA", True),  # else the headquarters, flagged
    ("Robotics Institute, Carnegie Mellon University, Pittsburgh, PA, USA", "", False),
    ("Huawei Noah's Ark Lab", "SZX", True),
    ("New York University Shanghai", "SHA", False),  # the campus, not New York
    ("Osaka University, Osaka, Japan", "OSA", False),
])
def test_bundled_crosswalks_place_known_affiliations(text, unit, hq):
    from aicity.derive import make_context
    from aicity.derive.engine import _gazetteer, load_crosswalks, resolve_text

    ctx = make_context(FIX, FIX)
    cws = load_crosswalks(["institutions", "places", "companies"], ctx, Matcher([], ctx.countries), "test", {})
    keys = pd.DataFrame({"__t": [text], "__u": [None], "__c": [None]})
    got = resolve_text(keys, Matcher(cws, ctx.countries), None, _gazetteer(ctx), ctx.metros).iloc[0]
    assert (got["unit"], bool(got["hq"])) == (unit, hq), got.to_dict()


def test_docs_worked_example_through_the_cli(tmp_path):
    """docs/derive.md's worked example, run as the page writes it."""
    out = tmp_path / "d"
    res = CliRunner().invoke(app, [
        "derive", str(FIX / "companies.yaml"), "--metros", str(FIX / "metros.csv"),
        "--gazetteer", str(FIX / "places.csv"), "--countries", str(FIX / "countries.csv"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    v = pd.read_csv(out / "values.csv", dtype=str, keep_default_na=False)
    got = {(u, i): x for u, i, x in zip(v["unit"], v["indicator"], v["value"], strict=True)}
    assert got[("A", "firms")] == "2" and got[("B", "firms")] == "3" and got[("B", "firm_value")] == "14"
    assert got[("A", "industries")] == "2" and got[("A", "firms_pc")] == "1" and got[("B", "firms_pc")] == ""
    cov = pd.read_csv(out / "coverage.csv").iloc[0]
    assert (cov["records"], cov["placed"], cov["in_units"]) == (7, 6.0, 5.0)
    # B's population is unknown: said, not invented (the line names the file, so the terminal
    # may wrap it anywhere in a long checkout path)
    assert "value is missing" in " ".join(res.output.split())


def test_filters_compare_numbers_as_numbers(tmp_path):
    # a year read as 2020.0 (a float column) still equals 2020; `not` negates a whole range
    _write(tmp_path, "r.csv", "city,year\nAlpha,2020.0\nAlpha,2021.5\nBeta,2019\n")
    p = _write(tmp_path, "r.yaml", """records: {files: r.csv}
source: {publisher: T, title: T, url: "https://example.org"}
filters: [{field: year, in: [2020, 2019]}, {field: year, range: [2019.5, 2019.9], not: true}]
place: {field: city, crosswalks: [places]}
indicators: [{code: n, unit_of_measure: things, count: rows, year: 2020}]
""")
    r = derive_recipes([p], **KW)
    assert values(r, "n") == {("A", 2020): 1, ("B", 2020): 1, ("C", 2020): 0}


def test_no_record_passes_the_filters_is_said(tmp_path):
    _write(tmp_path, "r.csv", "city,year\nAlpha,2020\n")
    p = _write(tmp_path, "r.yaml", """records: {files: r.csv}
source: {publisher: T, title: T, url: "https://example.org"}
filters: [{field: year, equals: 1999}]
place: {field: city, crosswalks: [places]}
indicators: [{code: n, unit_of_measure: things, count: rows, year: 2020}]
""")
    r = derive_recipes([p], **KW)
    assert any("no record passes the filters" in w for w in r.warnings)


def test_sum_refuses_values_it_cannot_sum_exactly(tmp_path):
    _write(tmp_path, "r.csv", "city,v\nAlpha,1e30\nAlpha,2\n")
    p = _write(tmp_path, "r.yaml", """records: {files: r.csv}
source: {publisher: T, title: T, url: "https://example.org"}
place: {field: city, crosswalks: [places]}
indicators: [{code: s, unit_of_measure: x, count: sum, field: v, year: 2020}]
""")
    with pytest.raises(InputError, match=r"indicators\[0\].field: field 'v' .* not a number of at most 29 digits"):
        derive_recipes([p], **KW)


def test_a_row_whose_place_is_unknown_gives_way_to_the_next_crosswalk(tmp_path):
    # "Alpha Tech" names a city the gazetteer lacks ("Alpha City" is tried as "Alpha" too);
    # "Zeta Institute, Beta" names Zeta (unknown) and then Beta: the places crosswalk places it
    _write(tmp_path, "inst.csv", "key,match,kind,place,country,source\n"
           "Alpha Tech,contains,institution,Alpha City,XA,t\nZeta Institute,contains,institution,Zeta,XA,t\n")
    _write(tmp_path, "r.csv", "aff\nAlpha Tech\n\"Zeta Institute, Beta\"\nZeta Institute\n")
    p = _write(tmp_path, "r.yaml", """records: {files: r.csv}
source: {publisher: T, title: T, url: "https://example.org"}
place: {field: aff, crosswalks: [inst.csv, places]}
indicators: [{code: n, unit_of_measure: things, count: rows, year: 2020}]
""")
    r = derive_recipes([p], **KW)
    assert values(r, "n") == {("A", 2020): 1, ("B", 2020): 1, ("C", 2020): 0}
    un = r.unplaced.set_index("place")
    assert un.loc["Zeta Institute", "reason"] == "place not in gazetteer"


def test_unplaced_lists_failures_before_placed_outside(tmp_path):
    r = run("papers.yaml")
    reasons = r.unplaced.loc[r.unplaced["indicator"] == "papers_frac", "reason"].tolist()
    assert reasons[-1] == "outside every unit" and "outside every unit" not in reasons[:-1]
    out = tmp_path / "d"
    write_derived(r, out, unplaced_top=1)  # one of each kind per indicator
    kept = pd.read_csv(out / "unplaced.csv", keep_default_na=False)
    assert kept[kept["indicator"] == "papers_frac"]["reason"].tolist() == ["empty", "outside every unit"]


def test_out_never_deletes_other_files(tmp_path):
    r = run("points.yaml")
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="holds other files"):
        write_derived(r, out)
    assert (out / "notes.txt").read_text() == "keep me"
    res = CliRunner().invoke(app, ["derive", str(FIX / "points.yaml"), "--metros", str(FIX / "metros.csv"),
                                   "--out", "/proc/no/such/place"])
    assert res.exit_code == 2 and "cannot write the output here" in res.output and "Traceback" not in res.output


def test_city_selection_rule_and_metros():
    """The written rule's list: at least 40 cities, the current 22 among them, each ranked twice
    unless it was already in or is its region's only ranked city (the regional clause: Cape Town
    for Africa); every region has a city; every selected city has a metro circle."""
    from aicity.derive import bundled_metros_path, derive_dir, read_metros

    sel = pd.read_csv(derive_dir() / "city_selection.csv", keep_default_na=False)
    assert len(sel) >= 40
    assert sel["in_current_index"].astype(str).eq("True").sum() == 22
    new = sel[sel["in_current_index"].astype(str) != "True"]
    regional = new["selected_by"].str.startswith("regional clause")
    assert (new.loc[~regional, "n_rankings"] >= 2).all()
    assert new.loc[regional, "city"].tolist() == ["Cape Town"]
    assert set(sel["region"]) == {"East Asia", "South Asia", "Southeast Asia", "Middle East", "Europe",
                                  "North America", "Latin America", "Oceania", "Africa"}
    metros = read_metros(bundled_metros_path()).table
    names = set(metros["name"]) if "name" in metros.columns else set()
    missing = sorted(set(sel["city"]) - names)
    assert not missing, f"selected cities without a metro circle: {missing}"


# --- constants, sums with empty values, items selected by kind --------------------------------------

SRC = 'source: {publisher: T, title: T, url: "https://example.org"}\n'


def test_constants_name_each_group_and_count_distinct(tmp_path):
    # two lists with their own column order, read together; each group's constant says which
    # list a record came from. A: a1, a2 (P1) and g1 (P2); B: a3 (P1); g2 lies outside every unit
    _write(tmp_path, "p1.csv", "name,lat,lon\na1,0,0.1\na2,0,0.05\na3,0,1\n")
    _write(tmp_path, "p2.csv", "lon,lat,name\n0.1,0,g1\n10,10,g2\n")
    p = _write(tmp_path, "r.yaml", "records:\n  - {files: p1.csv, constants: {provider: P1}}\n"
               "  - {files: p2.csv, constants: {provider: P2}}\n" + SRC +
               "place: {lat: lat, lon: lon, label: name}\n"
               "indicators:\n  - {code: regions, unit_of_measure: regions, count: rows, year: 2025}\n"
               "  - {code: providers, unit_of_measure: providers, count: distinct, field: provider, year: 2025}\n")
    r = derive_recipes([p], **KW)
    assert values(r, "regions") == {("A", 2025): 3, ("B", 2025): 1, ("C", 2025): 0}
    assert values(r, "providers") == {("A", 2025): 2, ("B", 2025): 1, ("C", 2025): 0}
    # a constant may not shadow a field of the records
    bad = _write(tmp_path, "bad.yaml", p.read_text().replace("{provider: P2}", "{name: P2}"))
    with pytest.raises(InputError, match="records.constants: 'name' is already a field"):
        derive_recipes([bad], **KW)


def test_constants_reach_parquet_partitions(tmp_path):
    # the Dask route reads Parquet row groups itself: the constant is added there too
    from aicity.derive.engine import pass_one, plan
    from aicity.derive.recipe import load_recipe

    pq.write_table(pa.table({"name": ["a1", "a2"], "lat": [0.0, 0.0], "lon": [0.1, 1.0]}), tmp_path / "p.parquet")
    p = _write(tmp_path, "r.yaml", "records: {files: p.parquet, constants: {provider: P1}}\n" + SRC +
               "filters: [{field: provider, equals: P1}]\nplace: {lat: lat, lon: lon}\n"
               "indicators: [{code: n, unit_of_measure: x, count: distinct, field: provider, year: 2025}]\n")
    recipe = load_recipe(p)
    parts = plan(recipe, tmp_path, "r", split_files=True)
    assert parts[0].parquet is not None and parts[0].constants == (("provider", "P1"),)
    table, records, _, _ = pass_one(parts[0], recipe, "r")
    assert records == 2 and table.num_rows == 2


def _universities_recipe(tmp_path: Path, indicators: str) -> Path:
    """A recipe over u.csv (universities by city; 'Cee College' placed by a crosswalk point in C)
    with the given indicator lines."""
    _write(tmp_path, "cee.csv", "key,match,kind,lat,lon,source\nCee College,exact,institution,0,0.5,t\n")
    return _write(tmp_path, "r.yaml", "records: {files: u.csv}\n" + SRC + "counted: universities\n"
                  "place: {field: city, country_field: country, crosswalks: [cee.csv, places]}\n"
                  "indicators:\n" + indicators)


def test_sum_leaves_out_empty_values_and_says_so(tmp_path):
    # U1 (3730) and U2 (empty) in A; U3 (empty) and U4 (120; Cambridge in Betaland) in B;
    # U5 (empty) in C: nothing to sum there, so C is missing, not 0
    _write(tmp_path, "u.csv", "name,city,country,students\nU1,Alpha,Alphaland,3730\nU2,Alpha,Alphaland,\n"
           "U3,Beta,Betaland,\nU4,Cambridge,Betaland,120\nU5,Cee College,Alphaland, \n")
    p = _universities_recipe(tmp_path,
                             "  - {code: students, unit_of_measure: students, count: sum, field: students, year: 2022}\n"
                             "  - {code: students_pc, unit_of_measure: per million, count: sum, field: students, year: 2022,"
                             " per_capita: {column: population}}\n")
    r = derive_recipes([p], **KW)
    assert values(r, "students") == {("A", 2022): 3730, ("B", 2022): 120, ("C", 2022): None}
    assert values(r, "students_pc") == {("A", 2022): pytest.approx(1865), ("B", 2022): None, ("C", 2022): None}
    v = r.values.set_index(["indicator", "unit"])
    assert "1 of the 2 universities placed here have no 'students': left out of the sum, not counted as 0" \
        in v.loc[("students", "A"), "note"]
    assert "Missing: no universities placed here has a 'students'" in v.loc[("students", "C"), "note"]
    cov = r.coverage.set_index("indicator")
    assert cov.loc["students", "missing_values"] == 3
    # a number written with a thousands separator is not read as a number: an error, never a guess
    _write(tmp_path, "u.csv", "name,city,country,students\nU1,Alpha,Alphaland,\"3,730\"\n")
    with pytest.raises(InputError, match=r"field 'students' .* not a number of at most 29 digits.*'3,730'"):
        derive_recipes([p], **KW)


def test_mean_averages_the_values_placed_in_each_unit_by_hand(tmp_path):
    # A: U1 80 and U2 60 in 2021, U1 90 in 2022 -> 70 and 90; B: U3 empty and U4 40 in 2021 ->
    # 40 (the empty one left out, not read as 0), nothing in 2022 -> missing; C: U5 empty -> missing
    _write(tmp_path, "u.csv", "name,city,country,score,year\nU1,Alpha,Alphaland,80,2021\nU2,Alpha,Alphaland,60,2021\n"
           "U1,Alpha,Alphaland,90,2022\nU3,Beta,Betaland,,2021\nU4,Cambridge,Betaland,40,2021\nU5,Cee College,Alphaland,,2021\n")
    p = _universities_recipe(tmp_path, "  - {code: m, unit_of_measure: average score, count: mean, field: score, per_year: year,"
                                       " quote: '{value} over {records} universities'}\n")
    r = derive_recipes([p], **KW)
    assert values(r, "m") == {("A", 2021): 70, ("A", 2022): 90, ("B", 2021): 40, ("B", 2022): None,
                              ("C", 2021): None, ("C", 2022): None}
    v = r.values.set_index(["indicator", "unit", "year"])
    assert "left out of the mean, not counted as 0" in v.loc[("m", "B", 2021), "note"]
    assert "no universities with a 'score' placed here, so no average" in v.loc[("m", "C", 2021), "note"]
    assert "left out of the mean" not in v.loc[("m", "C", 2021), "note"]  # said once, not three times
    assert v.loc[("m", "A", 2021), "quote"] == "70 over 2 universities"
    assert r.coverage.set_index("indicator").loc["m", "missing_values"] == 2
    split = _write(tmp_path, "s.yaml", "records: {files: u.csv}\n" + SRC +
                   "place: {field: city, split: ';', country_field: country, crosswalks: [places]}\n"
                   "indicators: [{code: m, unit_of_measure: x, count: mean, field: score, year: 2022}]\n")
    with pytest.raises(InputError, match="averages whole records"):
        derive_recipes([split], **KW)
    with pytest.raises(ValidationError, match="takes no per_capita"):
        Indicator(code="m", unit_of_measure="x", count="mean", field="score", year=2022, per_capita={"column": "population"})


def _industry(tmp_path, indicators: str) -> Path:
    # 1 (2020): "BigCo Research, Beta" (company, site Beta -> B) ; Alpha University (A)
    # 2 (2020): "BigCo" (company, placed only at its HQ in A)
    # 3 (2021): "Alpha Lab" (placed by the place name in A; a company by its domain bigco.com) ; Beta (B, no kind)
    # 4 (2021): "Gadget Corp Alpha Office" (company, site Alpha -> A)
    # 5 (2021): "Gadget Corp" (company, its own site in C, not an HQ row)
    # 6 (2021): "BigCo University" (an institution: the institution row comes first)
    _write(tmp_path, "pp.csv", 'id,year,aff,dom\n1,2020,"BigCo Research, Beta;Alpha University",\n'
           "2,2020,BigCo,\n3,2021,Alpha Lab;Beta,bigco.com;\n4,2021,Gadget Corp Alpha Office,\n"
           "5,2021,Gadget Corp,\n6,2021,BigCo University,\n")
    _write(tmp_path, "inst.csv", "key,match,kind,place,country,lat,lon,source\n"
           "Alpha University,contains,institution,Alpha,XA,,,t\nBigCo University,contains,institution,,,0,0.1,t\n")
    _write(tmp_path, "cos.csv", "key,match,kind,lat,lon,flag,source\nBigCo,contains,company,0,0.02,hq,t\n"
           "Gadget Corp,contains,company,0,0.5,,t\n")
    _write(tmp_path, "doms.csv", "key,match,kind,lat,lon,flag,source\nbigco.com,domain,company,0,0.02,hq,t\n")
    return _write(tmp_path, "r.yaml", "records: {files: pp.csv}\n" + SRC + "counted: papers\n"
                  "place: {field: aff, split: ';', domain_field: dom, crosswalks: [inst.csv, places, cos.csv],"
                  " domain_crosswalks: [doms.csv]}\nindicators:\n" + indicators)


def test_kind_selects_company_authorships_at_named_sites(tmp_path):
    p = _industry(tmp_path, "  - {code: all, unit_of_measure: x, count: fractional, per_year: year}\n"
                            "  - {code: firms, unit_of_measure: x, count: fractional, per_year: year, kind: company, hq: false}\n"
                            "  - {code: firms_hq, unit_of_measure: x, count: fractional, per_year: year, kind: company}\n")
    r = derive_recipes([p], **KW)
    assert values(r, "firms") == {("A", 2020): 0, ("A", 2021): 1.5, ("B", 2020): 0.5, ("B", 2021): 0,
                                  ("C", 2020): 0, ("C", 2021): 1}
    assert values(r, "firms_hq")[("A", 2020)] == 1  # the HQ-placed "BigCo" counts only where hq is not refused
    assert values(r, "all")[("A", 2020)] == 1.5 and values(r, "all")[("A", 2021)] == 2.5
    cov = r.coverage.set_index("indicator")
    assert cov.loc["firms", "in_units"] == pytest.approx(3.0)  # 0.5 + 1.5 + 1
    assert cov.loc["firms", "hq_share"] == pytest.approx(1 / 4)  # 1 of the 4 company authorships located
    assert "kind company (4 located), headquarters left out (1 located only at a headquarters)" == cov.loc["firms", "selection"]
    assert cov.loc["all", "selection"] == "" and cov.loc["all", "in_units"] == pytest.approx(6.0)
    note = r.values[(r.values["indicator"] == "firms") & (r.values["unit"] == "A") & (r.values["year"] == 2020)]["note"].iat[0]
    assert "1 placed here only at a company's headquarters (the place text names no site; flagged hq) of kind company left out" in note


def test_kind_and_hq_go_with_fractional_counts(tmp_path):
    p = _industry(tmp_path, "  - {code: firms, unit_of_measure: x, count: rows, per_year: year, kind: company}\n")
    with pytest.raises(InputError, match="go with count: fractional"):
        derive_recipes([p], **KW)


@pytest.mark.parametrize("owner, country, unit", [
    ("Gangnam-gu", "South Korea", "SEL"),  # one of Seoul's 25 districts (city_names.csv)
    ("Jung-gu", "South Korea", "SEL"),
    ("Seoul Metropolitan Government", "South Korea", "SEL"),
    ("Gangnam-gu", "Japan", ""),  # a district of Seoul only in Korea
    ("El Segundo", "United States", "LAX"),  # a unicorn list's suburb (city_names.csv, GeoNames cities500)
    ("Surry Hills", "Australia", "SYD"),
    ("Washington", "United States", "WAS"),  # the list's City column: Washington, D.C.
    ("Camden city", "United Kingdom", "LON"),  # other metros' boroughs and municipalities, alike
    ("Ville de Bondoufle", "France", "PAR"),
    ("Kanagawa Prefectural Government", "Japan", "TYO"),  # a regional government at its seat
    ("Gyeonggi Province", "South Korea", "SEL"),
    ("City of Benicia", "United States", ""),  # 55.3 km from the Bay Area's centre: outside
    ("City of Malmö", "Sweden", ""),  # 28 km from Copenhagen's centre, across the border
    ("Kota Batam", "Indonesia", ""),  # 25 km from Singapore's, in Indonesia
    ("Tijuana", "Mexico", ""),  # 28 km from San Diego's, in Mexico
    ("Hollywood, Florida", "United States", "MIA"),  # not the Los Angeles district (city_names.csv)
    ("City Of West Hollywood", "United States", "LAX"),  # not the Florida namesake
    ("City of San Marcos", "United States", "AUS"),  # San Marcos, Texas, not California
    ("Ayuntamiento de Salamanca", "Spain", ""),  # the city in Castile and León, not Madrid's district
    # a US state's name after a town picks that state's namesake (places.csv: "<name> <state name>")
    ("Disney Research, Glendale, California", None, "LAX"),  # not Glendale, Arizona (Phoenix)
    ("Draper Laboratory, Cambridge, Massachusetts", None, "BOS"),  # not Cambridge, UK
    ("Kansas State University, Manhattan, Kansas", None, ""),  # not New York's borough
    ("City of Arlington, Virginia", "United States", "WAS"),  # not Arlington, Texas
])
def test_districts_and_suburbs_are_placed_in_their_metro(owner, country, unit):
    from aicity.derive import make_context
    from aicity.derive.engine import _gazetteer, load_crosswalks, resolve_text

    ctx = make_context(FIX, FIX)
    cws = load_crosswalks(["city_names", "places"], ctx, Matcher([], ctx.countries), "test", {})
    keys = pd.DataFrame({"__t": [owner], "__u": [None], "__c": [country]})
    got = resolve_text(keys, Matcher(cws, ctx.countries), None, _gazetteer(ctx), ctx.metros).iloc[0]
    assert got["unit"] == unit, got.to_dict()


def test_a_unit_holds_only_points_of_its_own_country(tmp_path):
    """A unit with a country holds no point known to lie in another. Units A (AA, 50 km at
    (0, 0)), B (BB, 50 km at (0, 1)), C (AA, 30 km at (0, 0.5)). (0, 0.6) is 66.7 km from A,
    11.1 from C, 44.5 from B: C is nearest, but a point of BB goes to B; (0, 0.1) is 11.1 km
    from A and outside B and C: a point of BB is in no unit. A point of unknown country, or a
    unit without one (C below), is not checked."""
    from aicity.derive import read_metros

    text = (FIX / "metros.csv").read_text(encoding="utf-8")
    text = text.replace("unit,name,", "unit,name,country,").replace("A,Alphaville,", "A,Alphaville,AA,")
    text = text.replace("B,Betaburg,", "B,Betaburg,BB,").replace("C,Cetown,", "C,Cetown,AA,")
    metros = read_metros(_write(tmp_path, "m.csv", text))
    lat, lon = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.6, 0.6, 0.6, 0.1, 0.1, 0.1]
    got = metros.assign(lat, lon, ["BB", "AA", "", "BB", "AA", ""]).tolist()
    assert got == ["B", "C", "C", "", "A", "A"]
    assert metros.assign(lat, lon).tolist() == ["C", "C", "C", "A", "A", "A"]  # no countries given
    # None and NaN are unknown, codes compare in capitals
    assert metros.assign(lat[:3], lon[:3], [None, float("nan"), "bb"]).tolist() == ["C", "C", "B"]
    open_c = read_metros(_write(tmp_path, "m2.csv", text.replace("C,Cetown,AA,", "C,Cetown,,")))
    assert open_c.assign([0.0], [0.6], ["BB"]).tolist() == ["C"]
    with pytest.raises(InputError, match=r"m3.csv.*row 2.*country.*'Korea' is not a two-letter ISO"):
        read_metros(_write(tmp_path, "m3.csv", text.replace("A,Alphaville,AA,", "A,Alphaville,Korea,")))
    # a code the country list lacks (UK: the list's code is GB) would hold no point placed by name
    from aicity.derive import make_context

    bundled = (derive_dir() / "metros.csv").read_text(encoding="utf-8").replace("LON,London,GB,", "LON,London,UK,")
    with pytest.raises(InputError, match=r"row \d+, column 'country': country 'UK' is not in the country list"):
        make_context(FIX, FIX, metros_path=_write(tmp_path, "m4.csv", bundled))


@pytest.mark.skipif(not SHARED_RECORDS.is_dir(), reason="../shared/data/records is absent: the registry is not checked")
def test_the_registry_names_only_seouls_districts_so():
    """The crosswalk places "Jung-gu" and the other district names in Seoul; other Korean cities
    have districts of the same names. At the registry's commit the recipe cites, every owner so
    named is in Seoul (subregion KR-11): were another city's added, this fails."""
    cw = pd.read_csv(derive_dir() / "crosswalks" / "city_names.csv", dtype=str, keep_default_na=False)
    districts = set(cw.loc[cw["place"].eq("Seoul") & cw["key"].str.endswith("-gu"), "key"])
    assert len(districts) == 25
    owners = pd.json_normalize(pq.read_table(SHARED_RECORDS / "data-portals" / "full.parquet", columns=["owner"])
                               .column("owner").to_pylist())
    named = owners[owners["name"].isin(districts)]
    assert set(named["name"]) == districts
    assert set(named["location.subregion.id"]) == {"KR-11"}


def test_a_crosswalk_corrects_the_points_of_labelled_records(tmp_path):
    """With coordinates, a crosswalk row keyed by a record's label moves that record to the
    row's point: p4 (10, 10, outside every unit) is corrected to (0, 0.2), which A holds (as p2);
    p5 (no coordinates) to (0, 1.0), which B holds (as p3). Other records keep their points."""
    for f in ("points.csv",):
        shutil.copy(FIX / f, tmp_path / f)
    header = "key,match,kind,place,country,lat,lon,unit,alias,flag,source,url,note\n"
    _write(tmp_path, "fixes.csv", header
           + "p4,exact,place,Somewhere,AL,0,0.2,,,,Test,https://example.org/p4,the list's point is wrong\n"
           + "p5,exact,place,Elsewhere,AL,0,1.0,,,,Test,https://example.org/p5,the list gives none\n")
    text = (FIX / "points.yaml").read_text(encoding="utf-8").replace(
        "place: {lat: lat, lon: lon, label: name}", "place: {lat: lat, lon: lon, label: name, crosswalks: [fixes.csv]}")
    r = derive_recipes([_write(tmp_path, "r.yaml", text)], **KW)
    assert values(r, "sites") == {("A", 2025): 2, ("B", 2025): 2, ("C", 2025): 1}
    assert r.unplaced.empty


def test_point_crosswalks_need_a_label(tmp_path):
    with pytest.raises(ValidationError, match="give 'label'"):
        from aicity.derive.recipe import Place

        Place(lat="lat", lon="lon", crosswalks=["fixes.csv"])


def test_a_point_correction_without_a_point_is_refused_and_an_unused_one_said(tmp_path):
    shutil.copy(FIX / "points.csv", tmp_path / "points.csv")
    header = "key,match,kind,place,country,lat,lon,unit,alias,flag,source,url,note\n"
    text = (FIX / "points.yaml").read_text(encoding="utf-8").replace(
        "place: {lat: lat, lon: lon, label: name}", "place: {lat: lat, lon: lon, label: name, crosswalks: [fixes.csv]}")
    recipe = _write(tmp_path, "r.yaml", text)
    _write(tmp_path, "fixes.csv", header + "p4,exact,place,,AL,,,A,,,Test,https://example.org/p4,a unit and no point\n")
    with pytest.raises(InputError) as err:
        derive_recipes([recipe], **KW)
    assert err.value.problems[0].file == "fixes.csv" and err.value.problems[0].row == 2
    assert "match 'exact' and a lat and lon" in err.value.problems[0].reason
    _write(tmp_path, "fixes.csv", header + "p9,exact,place,X,AL,0,0.2,,,,Test,https://example.org/p9,no such record\n")
    r = derive_recipes([recipe], **KW)
    assert any("1 point correction(s) match no record's label: p9" in w for w in r.warnings)


@pytest.mark.skipif(not SHARED_RECORDS.is_dir(), reason="../shared/data/records is absent: the unicorn list is not checked")
def test_the_unicorn_list_has_one_company_in_each_town_placed_by_company():
    """city_names.csv places 'Hanover' (US) in Maryland, 'Wilmington' and 'Walpole' in
    Massachusetts, 'San Carlos' in California and 'Englewood' in Colorado because the unicorn
    list's only company there (Dragos, Locus Robotics, Thrasio, Farmers Business Network, Boom
    Supersonic) is there, each row citing a report: were another added, this fails."""
    u = pd.read_csv(SHARED_RECORDS / "unicorns" / "Unicorn_Companies.csv")
    us = u[u["Country"] == "United States"]
    towns = {"Hanover": "Dragos", "Wilmington": "Locus Robotics", "Walpole": "Thrasio",
             "San Carlos": "Farmers Business Network", "Englewood": "Boom Supersonic"}
    placed = us[us["City"].isin(list(towns))]
    assert dict(zip(placed["City"], placed["Company"], strict=True)) == towns and len(placed) == len(towns)


# --- same_as: one thing under two names, counted once ---------------------------------------------

def _same_as_recipe(tmp_path: Path, rows: str, ref: str = "industries_same.csv") -> Path:
    for name in ("companies.csv", "capitals.csv"):
        shutil.copy(FIX / name, tmp_path / name)
    text = (FIX / "companies.yaml").read_text().replace(
        "field: industry, year: 2022}", f"field: industry, year: 2022, same_as: {ref}}}")
    (tmp_path / "companies.yaml").write_text(text)
    (tmp_path / "industries_same.csv").write_text("value,same_as,source,note\n" + rows)
    return tmp_path / "companies.yaml"


def test_same_as_counts_a_value_named_in_the_file_as_the_value_it_names(tmp_path):
    # A holds X1 (AI) and X2 (Fintech): 2 industries; with Fintech the same as AI, 1. B holds
    # only AI: 1 either way. "Robotics" is counted nowhere: a warning names it.
    recipe = _same_as_recipe(tmp_path, "Fintech,AI,Test,a test merge\nRobotics,AI,Test,never counted\n")
    r = derive_recipes([recipe], **KW)
    assert values(r, "industries") == {("A", 2022): 1, ("B", 2022): 1, ("C", 2022): 0}
    assert values(r, "firms") == {("A", 2022): 2, ("B", 2022): 3, ("C", 2022): 0}  # rows are not merged
    notes = r.values[r.values["indicator"] == "industries"].set_index("unit")["note"]
    assert "1 name counted once with the industry it names the same as (industries_same.csv)." in notes["A"]
    assert "counted once" not in notes["B"]
    assert any("1 row(s) of industries_same.csv match no value counted in a unit: Robotics" in w for w in r.warnings)
    # what was counted, value by value: A's AI with Fintech counted as it; B's AI
    listed = r.distinct.sort_values(["unit", "value"]).reset_index(drop=True)
    assert listed[["indicator", "unit", "year", "value", "same_as_names"]].values.tolist() == [
        ["industries", "A", 2022, "AI", "Fintech"], ["industries", "B", 2022, "AI", ""]]


@pytest.mark.parametrize(("rows", "message"), [
    ("Fintech,Fintech,Test,\n", "row 2, column 'same_as': 'Fintech' is given as the same as itself"),
    ("Fintech,AI,Test,\nFintech,AI,Test,\n", "row 3, column 'value': 'Fintech' is given already on row 2"),
    ("Fintech,AI,Test,\nAI,Robotics,Test,\n", "row 3, column 'value': 'AI' is itself the same_as of another row"),
    ("Fintech,AI,,\n", "row 2, column 'source': 'source' is empty"),
])
def test_same_as_file_problems_name_the_row(tmp_path, rows, message):
    with pytest.raises(InputError) as exc:
        derive_recipes([_same_as_recipe(tmp_path, rows)], **KW)
    assert message in str(exc.value)


def test_same_as_file_missing_or_malformed(tmp_path):
    with pytest.raises(InputError, match="same_as: no file 'nope.csv'"):
        derive_recipes([_same_as_recipe(tmp_path, "", ref="nope.csv")], **KW)
    recipe = _same_as_recipe(tmp_path, "")
    (tmp_path / "industries_same.csv").write_text("value,same,source,note\n")
    with pytest.raises(InputError, match="missing same_as"):
        derive_recipes([recipe], **KW)
    with pytest.raises(ValidationError, match="goes with count: distinct"):
        Indicator(code="x", unit_of_measure="u", count="rows", year=2020, same_as="f.csv")


@pytest.mark.skipif(not SHARED_RECORDS.is_dir(), reason="../shared/data/records is absent: the registry is not checked")
def test_open_data_owners_count_a_government_under_two_names_once():
    """Seoul's 28: 25 districts (Dongjak-gu also listed as "Dongjak District Office"), the
    Seoul Metropolitan Government, Incheon and Gyeonggi; Tokyo's 12 lists Saitama Prefecture
    twice. Without the same_as file both would count one more; without the list of owners that
    are not one general-purpose government, Tokyo would count the registry's placeholder
    sentence and Paris RATP and its intercommunal bodies."""
    recipe = derive_dir() / "recipes" / "open_data_portals.yaml"
    r = derive_recipes([recipe], records=SHARED_RECORDS)
    owners = r.values[r.values["indicator"] == "open_data_portal_owners"].set_index("unit")
    assert float(owners.loc["SEL", "value"]) == 28 and float(owners.loc["TYO", "value"]) == 12
    assert float(owners.loc["PAR", "value"]) == 30
    assert "1 name counted once" in owners.loc["SEL", "note"] and "(open_data_same_owners.csv)" in owners.loc["SEL", "note"]
    assert not any("open_data_same_owners.csv match no value" in w for w in r.warnings)
    assert not any("open_data_not_local_governments match no record" in w for w in r.warnings)


def test_distinct_values_are_compared_without_surrounding_spaces(tmp_path):
    for name in ("companies.yaml", "capitals.csv"):
        shutil.copy(FIX / name, tmp_path / name)
    text = (FIX / "companies.csv").read_text().replace("X3,Beta,Betaland,AI,7", "X3,Beta,Betaland, AI ,7")
    (tmp_path / "companies.csv").write_text(text)
    r = derive_recipes([tmp_path / "companies.yaml"], **KW)
    assert values(r, "industries") == {("A", 2022): 2, ("B", 2022): 1, ("C", 2022): 0}  # " AI " is AI


# --- in_file: a listed set of values, each with its reason ------------------------------------------

def _listed_recipe(tmp_path: Path, rows: str, filt: str = "{field: name, in_file: left_out.csv, not: true}",
                   header: str = "value,reason,source,note\n") -> Path:
    for name in ("companies.csv", "capitals.csv"):
        shutil.copy(FIX / name, tmp_path / name)
    text = (FIX / "companies.yaml").read_text().replace("counted: companies\n", f"counted: companies\nfilters:\n  - {filt}\n")
    (tmp_path / "companies.yaml").write_text(text)
    (tmp_path / "left_out.csv").write_text(header + rows)
    return tmp_path / "companies.yaml"


def test_in_file_leaves_out_the_listed_values_and_names_unused_rows(tmp_path):
    # Without the list: firms A 2 (X1, X2), B 3 (X3, X4, X7). Leaving out X2 and X4 (" X4 " in the
    # file, compared without spaces): A 1, B 2; firm_value A 10, B 7 + 4 = 11. "X9" is no record's name.
    rows = "X2,not a firm,Test,\n X4 ,a duplicate listing,Test,\nX9,never listed,Test,\n"
    said: list[str] = []
    r = derive_recipes([_listed_recipe(tmp_path, rows)], progress=said.append, **KW)
    assert any("left_out.csv: 3 listed value(s) of name, held by 2 record(s) (before the other filters), left out" in m
               for m in said)
    assert values(r, "firms") == {("A", 2022): 1, ("B", 2022): 2, ("C", 2022): 0}
    assert values(r, "firm_value") == {("A", 2022): 10, ("B", 2022): 11, ("C", 2022): 0}
    assert any("1 value(s) of left_out.csv match no record's name: X9" in w for w in r.warnings)
    # without `not`, only the listed records are kept: X2 in A, X4 in B
    kept = derive_recipes([_listed_recipe(tmp_path, rows, "{field: name, in_file: left_out.csv}")], **KW)
    assert values(kept, "firms") == {("A", 2022): 1, ("B", 2022): 1, ("C", 2022): 0}


@pytest.mark.parametrize(("rows", "header", "message"), [
    ("X2,,Test,\n", "value,reason,source,note\n", "row 2, column 'reason': 'reason' is empty"),
    ("X2,why,,\n", "value,reason,source,note\n", "row 2, column 'source': 'source' is empty"),
    ("X2,why,Test,\nX2,again,Test,\n", "value,reason,source,note\n", "row 3, column 'value': 'X2' is given already on row 2"),
    ("X2,why,Test\n", "value,reason,source\n", "missing note"),
    ("X2,why,Test,,x\n", "value,reason,source,note,extra\n", "unknown column(s) extra"),
    # a comma left unquoted on every row: pandas alone would shift every column silently
    ("X2,why,Test, with a comma,\nX4,why,Test, with a comma,\n", "value,reason,source,note\n",
     "line 2 has 5 fields, the header 4 (a value holding a comma needs double quotes)"),
])
def test_in_file_problems_name_the_file_and_row(tmp_path, rows, header, message):
    with pytest.raises(InputError) as exc:
        derive_recipes([_listed_recipe(tmp_path, rows, header=header)], **KW)
    assert message in str(exc.value) and "left_out.csv" in str(exc.value)


def test_in_file_missing_or_empty(tmp_path):
    with pytest.raises(InputError, match="filters\\[0\\]: in_file: no file 'nope.csv'"):
        derive_recipes([_listed_recipe(tmp_path, "", "{field: name, in_file: nope.csv, not: true}")], **KW)
    with pytest.raises(InputError, match="'in_file' is empty"):
        derive_recipes([_listed_recipe(tmp_path, "", "{field: name, in_file: '', not: true}")], **KW)
    with pytest.raises(InputError, match="exactly one of equals, in, in_file"):
        derive_recipes([_listed_recipe(tmp_path, "", "{field: name, in_file: a.csv, equals: X1}")], **KW)
    # a list with no rows leaves nothing out (with not) and keeps nothing (without)
    r = derive_recipes([_listed_recipe(tmp_path, "")], **KW)
    assert values(r, "firms") == {("A", 2022): 2, ("B", 2022): 3, ("C", 2022): 0}
    none = derive_recipes([_listed_recipe(tmp_path, "", "{field: name, in_file: left_out.csv}")], **KW)
    assert values(none, "firms") == {("A", 2022): 0, ("B", 2022): 0, ("C", 2022): 0}


def test_in_file_reads_a_spreadsheets_byte_order_mark_and_strips_tabs(tmp_path):
    # a file saved with a BOM by a spreadsheet; a record whose name ends in a tab: X4 is still listed
    recipe = _listed_recipe(tmp_path, "X2,not a firm,Test,\nX4,a duplicate listing,Test,\n")
    (tmp_path / "left_out.csv").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "left_out.csv").read_bytes())
    (tmp_path / "companies.csv").write_text((tmp_path / "companies.csv").read_text().replace("X4,", '"X4\t",'))
    r = derive_recipes([recipe], **KW)
    assert values(r, "firms") == {("A", 2022): 1, ("B", 2022): 2, ("C", 2022): 0}
    assert not any("left_out.csv" in w for w in r.warnings)


def test_a_domain_is_placed_only_in_the_country_its_text_names(tmp_path):
    """alpha.edu is Alpha University's domain, in Alphaland (A). "Dept X" at alpha.edu is placed
    there; "Dept X, Betaland" at alpha.edu names another country, so the domain does not place
    it (it is not at Alpha University's campus; where in Betaland, nothing says): no match.
    A record's own country rules the same way."""
    from aicity.derive import make_context
    from aicity.derive.engine import _gazetteer, _matchers, resolve_text
    from aicity.derive.recipe import load_recipe

    recipe = load_recipe(FIX / "papers.yaml")
    ctx = make_context(FIX, FIX, metros_path=FIX / "metros.csv", gazetteer_path=FIX / "places.csv",
                       countries_path=FIX / "countries.csv")
    text, domain = _matchers(recipe, ctx, "test")
    keys = pd.DataFrame({"__t": ["Dept X", "Dept X, Betaland", "Dept X", "Dept X, Betaland and Alphaland"],
                         "__u": ["alpha.edu"] * 4, "__c": [None, None, "Betaland", None]})
    got = resolve_text(keys, text, domain, _gazetteer(ctx), ctx.metros)
    assert got["unit"].tolist() == ["A", "", "", "A"]  # two countries named: neither rules
    assert got["reason"].tolist() == ["", "no match", "no match", ""]


def test_a_small_csv_is_read_as_text_under_its_header(tmp_path):
    from aicity.csvtext import read_csv_text

    frame = read_csv_text(_write(tmp_path, "ok.csv", "a,b,c\n1,,3\n4,5,\n"))
    assert frame.columns.tolist() == ["a", "b", "c"] and frame.values.tolist() == [["1", "", "3"], ["4", "5", ""]]
    # a row narrower than the header passed for one with empty cells (a metro's population lost)
    with pytest.raises(pd.errors.ParserError, match="line 3 has 2 fields, the header 3"):
        read_csv_text(_write(tmp_path, "narrow.csv", "a,b,c\n1,,3\n4,5\n"))
    with pytest.raises(pd.errors.ParserError, match="line 3 has 4 fields, the header 3"):
        read_csv_text(_write(tmp_path, "wide.csv", "a,b,c\n1,2,3\n4,5,6,7\n"))
    with pytest.raises(pd.errors.ParserError, match="line 2 has 4 fields, the header 3"):
        read_csv_text(_write(tmp_path, "wider.csv", "a,b,c\n1,2,3,9\n4,5,6,7\n"))  # every row: no silent index
    with pytest.raises(pd.errors.ParserError, match="names column\\(s\\) 'a' more than once"):
        read_csv_text(_write(tmp_path, "twice.csv", "a,b,a\n1,2,3\n"))
    # a crosswalk so written is an error naming the file, not a table shifted by one column
    bad = _write(tmp_path, "cw.csv", "key,match,kind,place,country,lat,lon,unit,alias,flag,source,url,note\n"
                 "Alpha, the town,exact,place,Alpha,XA,0,0,,,,test,,\n")
    from aicity.derive.match import read_crosswalk

    with pytest.raises(InputError, match="cw.csv.*line 2 has 14 fields, the header 13"):
        read_crosswalk(bad, ["A", "B", "C"])


@pytest.mark.parametrize(("names", "message"), [
    ("{en: N, fr: n}", "unknown language(s) ['fr'] (known: en, ko, ja)"),  # was accepted and never shown
    ("{ko: 엔}", "names need 'en'"),
])
def test_indicator_names_are_in_the_products_languages(tmp_path, names, message):
    from aicity.derive.recipe import load_recipe

    p = _write(tmp_path, "r.yaml", "records: {files: p.csv}\n" + SRC + "place: {lat: lat, lon: lon}\n"
               f"indicators: [{{code: n, unit_of_measure: x, count: rows, year: 2025, names: {names}}}]\n")
    with pytest.raises(InputError, match=re.escape(message)):
        load_recipe(p)


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.replace("A,Alphaville", ",Alphaville"), "row 2, column 'unit': required"),  # values for unit ""
    (lambda t: t.replace("2000000,2020", "1e400,2020"), "population 1e400 is not a number of people"),  # OverflowError
    (lambda t: t.replace("2000000,2020", "-5,2020"), "population -5 is not a number of people"),
    (lambda t: t.replace("2000000,2020", "2000000,2020.7"), "population_year 2020.7 is not a year"),
])
def test_a_bad_metro_row_is_an_error_naming_it(tmp_path, change, message):
    from aicity.derive.metros import read_metros

    path = tmp_path / "metros.csv"
    path.write_text(change((FIX / "metros.csv").read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_metros(path)
    assert message in " ".join(str(p) for p in info.value.problems)


@pytest.mark.parametrize(("indicator", "message"), [
    ("{code: n, unit_of_measure: x, count: rows, year: true}", "year"),  # became year 1
    ("{code: n, unit_of_measure: x, count: rows, year: -5}", "greater than or equal to 1800"),
    ('{code: "n\\n", unit_of_measure: x, count: rows, year: 2025}', "is not a code"),  # "abc\n" passed the $ regex
    ("{code: n, unit_of_measure: x, count: rows, year: 2025, per_capita: {per: .inf}}", "finite number"),
    ("{code: n, unit_of_measure: x, count: rows, year: 2025, quote: '{count.__class__}'}", "'{count.__class__}' is not one of the fields"),
    ("{code: n, unit_of_measure: x, count: rows, year: 2025, quote: '{count:>10}'}", "'{count:>10}' is not one of the fields"),
    ("{code: n, unit_of_measure: x, count: rows, year: 2025, quote: '{count'}", "quote is not a template"),
])
def test_a_recipe_value_the_engine_would_misread_is_an_error(tmp_path, indicator, message):
    from aicity.derive.recipe import load_recipe

    p = _write(tmp_path, "r.yaml", "records: {files: p.csv}\n" + SRC + "place: {lat: lat, lon: lon}\n"
               f"indicators: [{indicator}]\n")
    with pytest.raises(InputError, match=re.escape(message)):
        load_recipe(p)


CW_HEAD = "key,match,kind,place,country,lat,lon,unit,alias,flag,source,url,note\n"


@pytest.mark.parametrize(("rows", "message"), [
    ("Alpha Inc,contains,company,,XA,0,0,A,,,test,,\n", "row 2, column 'unit': a row gives a unit or a point"),
    ("Alpha Inc,contains,company,,Betaland,0,0,,,,test,,\n", "'Betaland' is not a two-letter ISO country code"),
    ("Alpha Inc,contains,company,,XA,0,0,,,,test,,\nAlpha Inc,contains,company,,XA,0,1,,,,test,,\n",
     "row 3, column 'key': key 'Alpha Inc' (contains, XA) already names another place at row 2"),  # the first won unsaid
])
def test_a_crosswalk_row_that_would_be_misread_is_an_error(tmp_path, rows, message):
    from aicity.derive.match import read_crosswalk

    path = _write(tmp_path, "cw.csv", CW_HEAD + rows)
    with pytest.raises(InputError) as info:
        read_crosswalk(path, ["A", "B"])
    assert message in " ".join(str(p) for p in info.value.problems)


@pytest.mark.parametrize(("rows", "message"), [
    ("XA,Alphaland\nXB,Alphaland\n", "row 3, column 'alias': alias 'Alphaland' already names XA (row 2)"),  # moved records
    ("xb1,Betaland\n", "'xb1' is not a two-letter ISO country code"),  # lost B's records
    ("XA,\n", "row 2, column 'alias': empty alias"),
])
def test_a_country_list_row_that_would_move_records_is_an_error(tmp_path, rows, message):
    from aicity.derive import make_context

    path = _write(tmp_path, "countries.csv", "code,alias\n" + rows)
    with pytest.raises(InputError) as info:
        make_context(tmp_path, tmp_path, countries_path=path)
    assert message in " ".join(str(p) for p in info.value.problems)
    with pytest.raises(InputError, match="unknown column 'foo'"):
        make_context(tmp_path, tmp_path, countries_path=_write(tmp_path, "c2.csv", "code,alias,foo\nXA,Alphaland,x\n"))


def test_coordinates_off_the_earth_are_unplaced_not_outside_every_unit():
    """lat 95 / lon 400 was counted as placed ("outside every unit")."""
    from aicity.derive.engine import resolve_points
    from aicity.derive.metros import read_metros

    keys = pd.DataFrame({"__lat": [95.0, 0.0, float("nan"), 0.0], "__lon": [0.0, 400.0, 0.0, 0.0], "__t": ["a", "b", "c", "d"]})
    out = resolve_points(keys, read_metros(FIX / "metros.csv"))
    assert out.reason.tolist() == ["coordinates out of range", "coordinates out of range", "no coordinates", ""]
    assert out.unit.tolist()[3] == "A"


def test_a_nan_coordinate_in_parquet_is_unplaced_and_counted(tmp_path):
    """A Parquet float NaN became a null through Arrow and the record fell out of coverage
    (records 2, placed 1, unplaced 0)."""
    pq.write_table(pa.table({"name": ["ok", "nan", "inf"], "lat": [0.0, float("nan"), float("inf")],
                             "lon": [0.1, 0.1, 0.1]}), tmp_path / "p.parquet")
    recipe = _write(tmp_path, "r.yaml", "records: {files: p.parquet}\n" + SRC + "place: {lat: lat, lon: lon, label: name}\n"
                    "indicators: [{code: sites, unit_of_measure: sites, count: rows, year: 2025}]\n")
    r = derive_recipes([recipe], **KW)
    assert values(r, "sites") == {("A", 2025): 1, ("B", 2025): 0, ("C", 2025): 0}
    cov = r.coverage.set_index("indicator").loc["sites"]
    assert int(cov["records"]) == 3
    un = r.unplaced.set_index("place")
    assert un.loc["nan", "reason"] == "no coordinates" and un.loc["inf", "reason"] == "no coordinates"


def test_a_records_csv_naming_a_column_twice_is_an_error(tmp_path):
    _write(tmp_path, "p.csv", "name,lat,lat,lon\na,0,9,0.1\n")
    recipe = _write(tmp_path, "r.yaml", "records: {files: p.csv}\n" + SRC + "place: {lat: lat, lon: lon, label: name}\n"
                    "indicators: [{code: sites, unit_of_measure: sites, count: rows, year: 2025}]\n")
    with pytest.raises(InputError, match="records file p.csv: the header names 'lat' more than once"):
        derive_recipes([recipe], **KW)
    from aicity.derive.recipe import load_recipe

    blank = _write(tmp_path, "b.yaml", "records: {files: p.csv, delimiter: ''}\n" + SRC + "place: {lat: lat, lon: lon}\n"
                   "indicators: [{code: sites, unit_of_measure: sites, count: rows, year: 2025}]\n")
    with pytest.raises(InputError, match="delimiter"):
        load_recipe(blank)
