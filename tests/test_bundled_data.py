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

# the 22 cities of the index before it was rebuilt at city level: they stay (issue 11)
EARLIER_CITIES = {"SEL", "TYO", "OSA", "SIN", "BJS", "SHA", "SZX", "HKG", "SFBA", "NYC", "BOS", "LAX", "LON", "PAR",
                  "BER", "AMS", "STO", "YTO", "BLR", "TLV", "DXB", "SYD"}
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
    assert set(values.geo) <= {"city", "metro", "cluster", "country"}
    assert values.url.str.match(r"https?://").all()
    assert (values.year.astype(int) == values.year).all()


def test_one_edition_per_indicator(values):
    """Every unit's value of an indicator comes from the same edition: one year per indicator."""
    editions = values.groupby("indicator")["year"].nunique()
    assert (editions == 1).all(), editions[editions > 1].to_dict()


def test_the_index_measures_cities(values, framework):
    """Issue 11's rules on the bundled data: >= 40 ranked cities; >= 18 scored city, metro or
    cluster indicators, each present for >= 70 % of the ranked cities; >= 75 % of the scored
    values measured below the country; national values only in the national pillar, which
    weighs at most a fifth of the index."""
    result = aicity.build()
    ranked = list(result.units)
    assert len(ranked) >= 40
    scored = values[values.indicator.isin(framework.indicators) & values.unit.isin(ranked)]
    city_codes = [c for c in framework.indicators if not framework.is_national(c)]
    for code in framework.indicators:
        node = framework.node(code)
        assert node.geo, f"{code} declares no geo"
        geos = set(scored.loc[scored.indicator == code, "geo"])
        assert geos <= {node.geo}, (code, geos)
        if not framework.is_national(code):
            assert node.geo in ("city", "metro", "cluster"), code
            share = scored.loc[scored.indicator == code, "unit"].nunique() / len(ranked)
            assert share >= 0.7, f"{code} covers {share:.0%} of the ranked cities"
    # distinct measures: a count and its per-capita form count once (only one is scored)
    assert not [c for c in city_codes if c.endswith("_per_million") and c.removesuffix("_per_million") in city_codes]
    assert len({c.removesuffix("_per_million") for c in city_codes}) >= 18
    assert (scored.geo != "country").mean() >= 0.75
    national = [g for g in framework.codes if framework.node(g).national]
    assert national == ["NATIONAL"]
    assert set(scored.loc[scored.geo == "country", "indicator"]) <= set(framework.leaves_under("NATIONAL"))
    assert framework.nominal_share("NATIONAL") <= 0.2 + 1e-12


def test_no_two_cities_of_one_country_share_a_quarter_of_their_values(values, framework):
    """National copies are what this catches: the same value read from the same row of a
    source (value and quote equal). Two cities that each count 2 cloud regions, or that are
    both absent from a top-N list, were measured one by one and are not copies."""
    units = load_units(units_path())
    scored = values[values.indicator.isin(framework.indicators)]
    value = scored.pivot(index="unit", columns="indicator", values="value")
    quote = scored.pivot(index="unit", columns="indicator", values="quote")
    for country, members in units.groupby("country").groups.items():
        members = [m for m in members if m in value.index]
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                both = value.loc[a].notna() & value.loc[b].notna()
                copied = ((value.loc[a] == value.loc[b]) & (quote.loc[a] == quote.loc[b]) & both).sum()
                assert copied <= 0.25 * both.sum(), f"{a} and {b} ({country}) share {copied} of {both.sum()} values"


def test_values_and_panel_are_assembled_from_their_sources(values):
    """values.csv and panel.csv are written by scripts/assemble_city_data.py from the staged
    files and the derived counts; rerun it after changing any of them."""
    from aicity.bundled import panel_path
    from aicity.citylevel import assemble

    rebuilt, panel = assemble(Path(str(resources.files("aicity") / "data")))
    on_disk = pd.read_csv(data_path(), dtype=str, keep_default_na=False)
    assert rebuilt.astype(str).reset_index(drop=True).equals(on_disk.astype(str)), "values.csv is stale: run scripts/assemble_city_data.py"
    panel_on_disk = pd.read_csv(panel_path(), dtype=str, keep_default_na=False)
    assert panel.astype(str).reset_index(drop=True).equals(panel_on_disk.astype(str)), "panel.csv is stale"


def test_every_percentile_matches_the_rank_in_its_note(values):
    """A rank enters as 100 x (N + 1 - rank) / N, with the rank and N in the row's note;
    absent from a complete list is 0."""
    import re

    pct = values[values.indicator.str.endswith("_pctl")]
    assert len(pct) > 200
    for row in pct.itertuples():
        m = re.search(r"Rank (\d+(?:\.\d+)?) of (\d+)", row.note)
        if m is None:
            assert row.value == 0 and "Absent from the complete top" in row.note, row
            continue
        rank, n = float(m.group(1)), int(m.group(2))
        assert row.value == pytest.approx(100 * (n + 1 - rank) / n, abs=1e-6), row


def test_trends_have_enough_editions_and_cities():
    """At least 5 city-level indicators with at least 3 editions, each edition covering at
    least 30 cities (a count and its per-capita form counted once)."""
    from aicity.bundled import panel_path

    panel = pd.read_csv(panel_path())
    per_year = panel.groupby(["indicator", "year"])["unit"].nunique()
    good = {code for code, g in per_year.groupby(level=0) if (g >= 30).sum() >= 3}
    distinct = {c.removesuffix("_per_million") for c in good}
    assert len(distinct) >= 5, sorted(good)
    assert set(panel.geo) <= {"city", "metro", "cluster"}
    assert panel["value"].notna().all()  # a missing value has no row
    from aicity.trends import build_trends

    trends = build_trends()
    assert trends.thin_years() == []  # at least 30 cities measured in every year shown
    assert all(per_year[(c, y)] >= 30 for c in trends.framework.indicators for y in trends.years if (c, y) in per_year)


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
    assert len(units) >= 40
    assert EARLIER_CITIES <= set(units.index)
    assert {"East Asia", "Southeast Asia", "South Asia", "Middle East", "Europe", "North America", "Latin America",
            "Oceania", "Africa"} <= set(units.region)
    assert framework.pillars() == ["INFRA", "INDUSTRY", "POLICY", "TRUST", "NATIONAL"]
    for code in framework.codes:
        names = framework.node(code).names
        assert names.get("en") and names.get("ko") and names.get("ja"), code
    assert units[["name_en", "name_ko", "name_ja", "country", "region", "lat", "lon", "population"]].notna().all().all()


def test_the_city_rule_selects_the_units():
    """units.csv holds exactly the cities of derive/city_selection.csv (the written rule,
    scripts/select_cities.py), and every one has a metro definition."""
    from aicity.derive import bundled_metros_path, read_metros

    folder = Path(str(resources.files("aicity") / "data"))
    selected = pd.read_csv(folder / "derive" / "city_selection.csv")
    units = load_units(units_path())
    metros = pd.read_csv(bundled_metros_path()).set_index("name")
    assert len(selected) == len(units)
    assert set(read_metros(bundled_metros_path()).units) == set(units.index)
    for row in selected.itertuples():
        assert row.n_rankings >= 2 or row.in_current_index or row.selected_by.startswith("regional clause"), row.city
        code = metros.at[row.city, "unit"]  # every selected city is a unit, in the region the rule gave it
        assert units.at[code, "region"] == row.region, (row.city, row.region)
    assert selected.selected_by.str.startswith("regional clause").sum() == 1


def test_seoul_and_tokyo_have_most_indicators(framework):
    ds = aicity.load_data(None, framework)
    present = ~np.isnan(ds.matrix(framework.indicators))
    coverage = dict(zip(ds.unit_codes, present.mean(axis=1), strict=True))
    assert coverage["SEL"] >= 0.9 and coverage["TYO"] >= 0.9


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
    """src/aicity/data/citylevel/: the published city rankings (one row per unit), the national
    values (one row per country), the full ranking lists (lists/) and the population of each
    unit. One edition per indicator, every value sourced and quoted, known units only, each
    rank with the size of its list."""
    import re

    from aicity.citylevel import LISTS
    from aicity.derive import bundled_metros_path, read_metros

    folder = Path(str(resources.files("aicity") / "data" / "citylevel"))
    units = set(read_metros(bundled_metros_path()).units)
    columns = ["unit", "indicator", "value", "year", "geo", "geo_name", "unit_of_measure", "publisher",
               "source", "url", "quote", "note"]
    by_unit = [f for f in sorted(folder.glob("*.csv")) if f.read_text(encoding="utf-8").startswith("unit,indicator,")]
    assert len(by_unit) >= 5
    for f in by_unit:
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
    national = pd.read_csv(folder / "national.csv", dtype=str, keep_default_na=False)
    assert not national.duplicated(["country", "indicator"]).any()
    assert (national["geo"] == "country").all() and national["url"].str.match(r"https?://").all()
    assert (national.groupby("indicator")["year"].nunique() == 1).all()
    for src in LISTS:
        entries = pd.read_csv(folder / "lists" / src.file, dtype=str, keep_default_na=False)
        assert len(entries) == src.n, src.file
        assert set(" ".join(entries["unit"]).split()) <= units, src.file
        assert (entries["quote"].str.strip() != "").all() and entries["url"].str.match(r"https?://").all(), src.file
    population = pd.read_csv(folder / "population.csv", dtype=str, keep_default_na=False)
    assert set(population["unit"]) == units and (population["quote"].str.strip() != "").all()
    assert population["source"].nunique() == 1, "one population definition for every unit"


def test_results_mark_the_scores_that_rest_on_national_figures():
    from aicity.export import results_table

    result = aicity.build()
    table = results_table(result).to_pandas()
    marked = set(table.loc[table["national"], "code"].astype(str))
    assert marked == {"NATIONAL", *result.framework.leaves_under("NATIONAL")}
    meta = result.framework.to_frame().set_index("code")
    assert meta.at["gairi_score", "geo"] == "country" and bool(meta.at["NATIONAL", "national"])


def test_profile_marks_national_figures():
    res = CliRunner().invoke(app, ["profile", "Tokyo"], env={"COLUMNS": "240"})
    assert res.exit_code == 0, res.output
    assert "country (national figure)" in res.output


def test_every_flagged_pair_is_justified_in_the_docs():
    """A pair of scored indicators the audit flags (|r| > 0.9) is merged or justified in
    docs/data.md's "Correlated pairs" section, by name."""
    from aicity.audit import correlation_table

    result = aicity.build()
    c = correlation_table(result)
    hits = c[(c.level_x == 1) & (c.level_y == 1) & c.flag.str.contains("collinear|redundant")]
    page = (Path(__file__).resolve().parents[1] / "docs" / "data.md").read_text(encoding="utf-8")
    section = page[page.index("## Correlated pairs"):page.index("## Coverage by city")]
    prose = section[section.index("<!-- END GENERATED: correlations -->"):]
    if hits.empty:
        assert "No pair is above the threshold" in prose
    for row in hits.itertuples():
        assert f"`{row.x}`" in prose and f"`{row.y}`" in prose, (row.x, row.y)
    # the closest pair below the threshold is discussed by name too
    near = correlation_table(result, corr_threshold=0.8)
    near = near[(near.level_x == 1) & (near.level_y == 1) & near.flag.str.contains("collinear|redundant")]
    for row in near.itertuples():
        assert f"`{row.x}`" in page and f"`{row.y}`" in page, (row.x, row.y)
