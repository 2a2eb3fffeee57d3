"""The bundled Global AI City Index: every value sourced, coverage, determinism."""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import aicity
from aicity.bundled import alternatives_path, data_path, units_path
from aicity.cli import app
from aicity.data import load_units

REQUIRED_CITIES = {"Seoul", "Tokyo", "Singapore", "Beijing", "Shanghai", "Shenzhen", "San Francisco Bay Area",
                   "New York", "London", "Paris", "Berlin", "Toronto", "Bengaluru", "Tel Aviv", "Dubai", "Hong Kong"}
SOURCE_FIELDS = ["value", "year", "geo", "geo_name", "unit_of_measure", "publisher", "source", "url", "quote"]


@pytest.fixture(scope="module")
def values() -> pd.DataFrame:
    return pd.read_csv(data_path(), dtype={"unit": str}, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def framework():
    return aicity.load_framework(None)


def test_every_value_carries_its_source_and_geographic_unit(values):
    for col in SOURCE_FIELDS:
        empty = values[values[col].isna() | (values[col].astype(str).str.strip() == "")]
        assert empty.empty, f"{col} missing in rows {list(empty.index + 2)}"
    assert set(values.geo) <= {"city", "metro", "country"}
    assert values.url.str.match(r"https?://").all()
    assert (values.year.astype(int) == values.year).all()


def test_no_unknown_codes_and_no_duplicates(values, framework):
    units = load_units(units_path())
    assert set(values.unit) <= set(units.index)
    known = set(framework.indicators) | {c.code for c in framework.context}
    assert set(values.indicator) <= known
    assert not values.duplicated(["unit", "indicator"]).any()


def test_alternatives_keep_the_values_not_chosen(values):
    alt = pd.read_csv(alternatives_path())
    assert list(alt.columns) == list(values.columns) + ["reason_not_chosen"]
    assert alt.reason_not_chosen.notna().all()


def test_size_and_required_cities(framework):
    units = load_units(units_path())
    assert len(units) >= 20
    assert REQUIRED_CITIES <= set(units.name_en)
    assert len(framework.indicators) >= 25
    assert framework.pillars() == ["INFRA", "INDUSTRY", "POLICY", "TRUST"]
    for code in framework.codes:
        names = framework.node(code).names
        assert names.get("en") and names.get("ko") and names.get("ja"), code
    assert units[["name_en", "name_ko", "name_ja", "country", "region", "lat", "lon"]].notna().all().all()


def test_seoul_and_tokyo_have_most_indicators(framework):
    ds = aicity.load_data(None, framework)
    present = ~np.isnan(ds.matrix(framework.indicators))
    coverage = dict(zip(ds.unit_codes, present.mean(axis=1), strict=True))
    assert coverage["SEL"] >= 0.8 and coverage["TYO"] >= 0.8


def test_bundled_build_is_deterministic_and_lists_screened_cities():
    a, b = aicity.build(), aicity.build()
    pd.testing.assert_frame_equal(a.scores, b.scores)
    pd.testing.assert_frame_equal(a.ranks, b.ranks)
    assert {"SEL", "TYO"} <= set(a.units)
    assert set(a.units).isdisjoint(set(a.screened_out.unit))
    assert len(a.units) + len(a.screened_out) == len(a.dataset.unit_codes)


def test_sources_command_prints_every_value_with_its_source(values):
    res = CliRunner().invoke(app, ["sources", "--format", "csv"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(io.StringIO(res.output))
    assert {"unit", "unit_name", "indicator", "value", "year", "geo", "source", "url"} <= set(table.columns)
    assert len(table) == len(values)
    seoul = CliRunner().invoke(app, ["sources", "--format", "csv", "--unit", "서울"])
    assert set(pd.read_csv(io.StringIO(seoul.output)).unit) == {"SEL"}


def test_docs_data_page_matches_the_data_files():
    """The framework tree, indicator sections and coverage table of docs/data.md are
    generated; regenerate with `python -m aicity.datadoc` after changing the data."""
    from pathlib import Path

    from aicity.datadoc import render_blocks, update

    page = Path(__file__).resolve().parents[1] / "docs" / "data.md"
    text = page.read_text(encoding="utf-8")
    assert update(text, render_blocks()) == text, "docs/data.md is stale: run python -m aicity.datadoc"


def test_docs_generator_refuses_a_page_without_its_blocks():
    from aicity.datadoc import update

    with pytest.raises(ValueError, match="generated blocks"):
        update("# no blocks here\n", {"framework": "x"})


def test_docs_generator_replaces_only_inside_the_markers():
    from aicity.datadoc import update

    page = "intro\n<!-- BEGIN GENERATED: a -->\nold\n<!-- END GENERATED: a -->\noutro\n"
    assert update(page, {"a": "new\n"}) == "intro\n<!-- BEGIN GENERATED: a -->\nnew\n<!-- END GENERATED: a -->\noutro\n"


def test_city_level_staging_files_follow_the_rules():
    """src/aicity/data/citylevel/: published city rankings gathered for the city-level rebuild.
    One edition per indicator, every value sourced and quoted, known units only, each rank with
    the size of its list."""
    import re

    from aicity.derive import bundled_metros_path, read_metros

    folder = Path(str(resources.files("aicity") / "data" / "citylevel"))
    files = sorted(folder.glob("*.csv"))
    assert files, "no city-level files"
    units = set(read_metros(bundled_metros_path()).units)
    columns = ["unit", "indicator", "value", "year", "geo", "geo_name", "unit_of_measure", "publisher",
               "source", "url", "quote", "note"]
    for f in files:
        d = pd.read_csv(f, dtype=str, keep_default_na=False)
        assert list(d.columns) == columns, f.name
        assert set(d["unit"]) <= units, (f.name, sorted(set(d["unit"]) - units))
        assert not d.duplicated(["unit", "indicator"]).any(), f.name
        for col in ("value", "year", "geo", "publisher", "source", "url", "quote"):
            assert (d[col].str.strip() != "").all(), (f.name, col)
        assert d["url"].str.match(r"https?://").all(), f.name
        assert d["geo"].isin(["city", "metro", "cluster"]).all(), f.name
        pd.to_numeric(d["value"], errors="raise")
        for code, g in d.groupby("indicator"):
            assert g["year"].nunique() == 1, f"{f.name}: {code} mixes editions {sorted(g['year'].unique())}"
            if code.endswith("_rank"):
                sizes = {re.fullmatch(r"rank \(of (\d+)\)", u).group(1) if re.fullmatch(r"rank \(of (\d+)\)", u) else None
                         for u in g["unit_of_measure"]}
                assert None not in sizes and len(sizes) == 1, f"{f.name}: {code} needs one 'rank (of N)'"
                assert (pd.to_numeric(g["value"]) <= int(sizes.pop())).all(), f"{f.name}: {code} rank above N"
