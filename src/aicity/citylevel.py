"""The rules that turn published city rankings into index values, in one place.

A publisher that gives only ranks gives them out of its own number of ranked entities N, and
editions differ in N: rank 20 of 40 is not rank 20 of 1,000. So a rank enters the index as its
percentile of that edition, `100 × (N + 1 − rank) / N` (1st = 100, last = 100/N), with N kept in
the row's unit of measure and note.

A city absent from a complete top-N list is not unknown: it ranks below the last entry. It is
scored as rank N + 1, which the rule above maps to exactly 0, and its note says so. This needs
the whole list (every rank 1..N read); a partial list only gives ranks, and absence from it
stays missing.

`scripts/assemble_city_data.py` applies these rules to the staged files in
`src/aicity/data/citylevel/` and writes the bundled `values.csv`; tests check them on the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from aicity.errors import InputError, Problem

PERCENTILE_RULE = "100 × (N + 1 − rank) / N"
ABSENT_SCORE = 0.0  # rank N + 1 under PERCENTILE_RULE
ROW_COLUMNS = ("unit", "indicator", "value", "year", "geo", "geo_name", "unit_of_measure",
               "publisher", "source", "url", "quote", "note")


def rank_percentile(rank: float, n: int) -> float:
    """A rank's percentile of the N ranked entities of its edition (1st = 100, N-th = 100/N);
    rank N + 1 (below the last) is 0."""
    if n < 1 or not 1 <= rank <= n + 1:
        raise ValueError(f"rank {rank} is outside 1..{n + 1} for {n} ranked entities")
    return 100.0 * (n + 1 - rank) / n


@dataclass(frozen=True)
class RankedList:
    """One edition of a published ranking: `entries` has columns rank, name, unit (our unit
    code(s), space-separated, or empty), publisher, source, url, quote, note. `complete` says
    every rank 1..n was read, which is what lets absence count as below the last rank."""

    indicator: str
    year: int
    n: int
    geo: str
    entries: pd.DataFrame
    complete: bool
    what: str  # "ecosystems", "clusters", "cities"

    def problems(self, source: str) -> list[Problem]:
        """A rank outside 1..N, or a list marked complete that does not hold N entries (tied
        ranks skip numbers, so entries are counted, not numbers)."""
        ranks = pd.to_numeric(self.entries["rank"], errors="coerce")
        where = f"{self.indicator} {self.year}"
        if ranks.isna().any():
            return [Problem(source, f"{where}: a rank is not a number")]
        out = []
        if ((ranks < 1) | (ranks > self.n)).any():
            out.append(Problem(source, f"{where}: ranks must lie in 1..{self.n}"))
        if self.complete and len(self.entries) != self.n:
            out.append(Problem(source, f"{where}: marked complete but holds {len(self.entries)} of {self.n} entries"))
        return out


def best_entries(entries: pd.DataFrame) -> dict[str, pd.Series]:
    """Each unit's entry in a ranking list (its `unit` cell names our codes, space-separated):
    a unit matched by several entries takes the best-ranked one, ranks read as numbers ("10"
    after "9", not before)."""
    by_unit: dict[str, pd.Series] = {}
    ordered = entries.assign(_rank=pd.to_numeric(entries["rank"])).sort_values("_rank", kind="stable")
    for _, entry in ordered.iterrows():
        for code in str(entry.get("unit") or "").split():
            by_unit.setdefault(code, entry)
    return by_unit


def ranked_rows(ranked: RankedList, units: pd.DataFrame) -> pd.DataFrame:
    """One row per unit of `units` (index: code; column name_en): the percentile of its rank,
    0 for a unit absent from a complete list (flagged in the note), and no row for a unit
    absent from an incomplete one. A unit matched by several entries takes the best rank."""
    problems = ranked.problems(ranked.indicator)
    if problems:
        raise InputError(problems)
    by_unit = best_entries(ranked.entries)
    unknown = [(code, e["name"]) for code, e in by_unit.items() if code not in units.index]
    if unknown:
        raise InputError([Problem(ranked.indicator, f"{ranked.year}: unit '{code}' (entry '{name}') is not a unit")
                          for code, name in unknown])
    measure = f"percentile of the {ranked.n} ranked {ranked.what} (1st = 100; not ranked = 0)"
    rows = []
    first = ranked.entries.iloc[0] if len(ranked.entries) else None
    for code in units.index:
        entry = by_unit.get(code)
        if entry is not None:
            rank = float(entry["rank"])
            note = (f"Rank {rank:g} of {ranked.n} as published; index value = {PERCENTILE_RULE} = "
                    f"{rank_percentile(rank, ranked.n):.4g}. Entry '{entry['name']}'.")
            if str(entry.get("note") or "").strip():
                note += " " + str(entry["note"]).strip()
            rows.append({"unit": code, "indicator": ranked.indicator, "value": round(rank_percentile(rank, ranked.n), 6),
                         "year": ranked.year, "geo": ranked.geo, "geo_name": str(entry["name"]),
                         "unit_of_measure": measure, "publisher": entry["publisher"], "source": entry["source"],
                         "url": entry["url"], "quote": entry["quote"], "note": note})
        elif ranked.complete and first is not None:
            name = units.at[code, "name_en"]
            rows.append({"unit": code, "indicator": ranked.indicator, "value": ABSENT_SCORE, "year": ranked.year,
                         "geo": ranked.geo, "geo_name": name, "unit_of_measure": measure,
                         "publisher": first["publisher"], "source": first["source"], "url": first["url"],
                         "quote": f"{name} is not among the {ranked.n} {ranked.what} of the {ranked.year} list (all {ranked.n} read).",
                         "note": (f"Absent from the complete top {ranked.n}: scored as rank {ranked.n + 1}, below the last "
                                  f"rank, which {PERCENTILE_RULE} maps to 0 (docs/data.md, 'Absence from a top-N list').")})
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS))


# -- the bundled city data set ---------------------------------------------------------------

@dataclass(frozen=True)
class ListSource:
    """A staged ranking list (`citylevel/lists/<file>`) and how it enters the index."""

    file: str
    indicator: str
    year: int
    n: int
    geo: str
    what: str
    complete: bool = True


# Publisher ranks that enter as percentiles. A list read only down to some rank (the rest of
# the published top 100 could not be read) enters as the top-N list it completely is.
LISTS = (
    ListSource("pitchbook_startup_cities_2024.csv", "pitchbook_startup_pctl", 2024, 50, "city", "startup cities"),
    ListSource("wipo_clusters_2023_top35.csv", "wipo_cluster_pctl", 2023, 35, "cluster",
               "science and technology clusters (ranks 1-35 of WIPO's top 100, the part read completely)"),
    ListSource("nature_index_science_cities_2025_top29.csv", "nature_index_city_pctl", 2025, 29, "metro",
               "science cities (ranks 1-29 of the Nature Index top 100, the part read completely)"),
)
# Oxford Economics Global Cities Index 2024 ranks all 1,000 cities it covers: every unit has a
# rank, so no absence rule is needed. Governance is one rank per country (not staged).
OXFORD = {
    "oxford_gci_economics_rank": "oxford_economics_pctl",
    "oxford_gci_human_capital_rank": "oxford_human_capital_pctl",
    "oxford_gci_quality_of_life_rank": "oxford_quality_of_life_pctl",
    "oxford_gci_environment_rank": "oxford_environment_pctl",
}
OXFORD_N = 1000
# National measures (one value per country, `citylevel/national.csv`), copied to each city of
# that country with geo=country: they are scored only in the national pillar.
# Staged but not scored: the UN Telecommunication Infrastructure Index (one third of the EGDI,
# correlated with it at 0.95 across the 53 cities with both: merged into egdi_score) and GPAI membership
# (a yes/no on the 29-member list that the 44-member integrated GPAI of 2024 superseded; as a
# sixth shared national value it made cities of one country more alike than the index allows).
NATIONAL = ("gairi_score", "egdi_score", "epart_index", "girai_score")


# The bundled data set: derived counts scored (their latest edition), derived series kept
# whole for the trends, and the growth rate computed from the paper counts.
BUNDLED_DERIVED = ("cloud_regions", "unicorn_hq_per_million", "ai_unicorn_hq",
                   "ai_conf_papers_industry_per_million", "ai_ml_papers_per_million", "ai_robotics_papers_per_million",
                   "qs_top500_per_million", "qs_top200_per_million", "qs_mean_score", "open_data_portal_owners")
BUNDLED_PANEL = ("ai_ml_papers_per_million", "ai_robotics_papers_per_million", "ai_conf_papers_industry_per_million",
                 "qs_top500_per_million", "qs_top200_per_million", "qs_mean_score")
# Panel editions left out, with the reason: QS gives no overall score for its ranks 401-500 in
# 2017 and 2018, so an average over those editions would cover only the stronger universities.
PANEL_FROM = {"qs_mean_score": 2019}
GROWTH = {"code": "ai_conf_papers_growth", "of": "ai_conf_papers", "early": (2020, 2021), "late": (2022, 2023), "min_base": 5.0}


def growth_rows(derived: pd.DataFrame, code: str, of: str, early: tuple[int, ...], late: tuple[int, ...],
                min_base: float) -> pd.DataFrame:
    """Growth of a derived count: its sum over the `late` years over its sum over the `early`
    years, one row per unit; no row where the early sum is below `min_base` (a rate on a
    handful of papers says nothing), and that rule is in every row's note."""
    rows = derived[derived.indicator == of].copy()
    rows["year"] = rows["year"].astype(int)
    rows["v"] = rows["value"].astype(float)
    missing = sorted(set(early + late) - set(rows["year"]))
    if missing:
        raise InputError([Problem(of, f"growth needs the years {missing}, which the derived values lack")])
    out = []
    for unit, g in rows.groupby("unit", sort=False):
        base = g.loc[g["year"].isin(early), "v"].sum()
        now = g.loc[g["year"].isin(late), "v"].sum()
        if base < min_base:
            continue
        first = g.iloc[0]
        out.append({"unit": unit, "indicator": code, "value": round(now / base, 6), "year": max(late), "geo": first["geo"],
                    "geo_name": first["geo_name"], "unit_of_measure": f"ratio ({_span(late)} over {_span(early)})",
                    "publisher": first["publisher"], "source": first["source"], "url": first["url"],
                    "quote": f"{now:.2f} fractional authorships in {_span(late)} against {base:.2f} in {_span(early)} "
                             f"(derived values of '{of}', one row per year)",
                    "note": (f"Computed by aicity.citylevel.growth_rows from the derived yearly counts of '{of}': "
                             f"sum {_span(late)} / sum {_span(early)}; a unit with fewer than {min_base:g} in "
                             f"{_span(early)} has no value (too few papers for a rate).")})
    return pd.DataFrame(out, columns=list(ROW_COLUMNS))


def _span(years: tuple[int, ...]) -> str:
    return f"{years[0]}-{years[-1]}"


def _read(path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, dtype=str)


def assemble(data_dir, derived_codes: tuple[str, ...] = BUNDLED_DERIVED,
             panel_codes: tuple[str, ...] = BUNDLED_PANEL) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bundled `values.csv` (one edition per indicator) and `panel.csv` (every edition of
    the indicators with several) from the staged files under `data_dir` (the package's data
    folder): ranking lists, Oxford ranks, national values, the derived counts and the
    population of each unit. Pure: nothing is written."""
    from pathlib import Path

    data = Path(data_dir)
    stage = data / "citylevel"
    units = _read(data / "units.csv").set_index("code")
    parts: list[pd.DataFrame] = []
    for src in LISTS:
        entries = _read(stage / "lists" / src.file)
        parts.append(ranked_rows(RankedList(src.indicator, src.year, src.n, src.geo, entries, src.complete, src.what), units))
    oxford = _read(stage / "oxford_gci.csv")
    for rank_code, code in OXFORD.items():
        rows = oxford[oxford.indicator == rank_code]
        entries = pd.DataFrame({"rank": rows["value"].astype(float), "name": rows["geo_name"], "unit": rows["unit"],
                                "publisher": rows["publisher"], "source": rows["source"], "url": rows["url"],
                                "quote": rows["quote"], "note": ""})
        years = set(rows["year"])
        if len(years) != 1:
            raise InputError([Problem(str(stage / "oxford_gci.csv"), f"{rank_code}: one edition expected, found {sorted(years)}")])
        parts.append(ranked_rows(RankedList(code, int(years.pop()), OXFORD_N, "metro", entries, False, "cities"), units))
    national = _read(stage / "national.csv")
    for code in NATIONAL:
        rows = national[national.indicator == code].set_index("country")
        for unit, country in units["country"].items():
            if country in rows.index:
                row = rows.loc[country].to_dict()
                parts.append(pd.DataFrame([{**row, "unit": unit, "indicator": code}], columns=list(ROW_COLUMNS)))
    derived = _read(data / "derived" / "values.csv")
    for code in derived_codes:
        rows = derived[derived.indicator == code]
        if rows.empty:
            raise InputError([Problem(str(data / "derived" / "values.csv"), f"no derived values for '{code}'")])
        latest = rows["year"].astype(int).max()
        rows = rows[(rows["year"].astype(int) == latest) & (rows["value"].str.strip() != "")]  # missing: no row
        parts.append(rows[list(ROW_COLUMNS)])
    if GROWTH["code"] not in derived_codes:
        parts.append(growth_rows(derived, GROWTH["code"], GROWTH["of"], GROWTH["early"], GROWTH["late"], GROWTH["min_base"]))
    population = _read(stage / "population.csv")
    parts.append(pd.DataFrame({
        "unit": population["unit"], "indicator": "population", "value": population["population"],
        "year": population["population_year"], "geo": "metro", "geo_name": population["name_in_source"],
        "unit_of_measure": "inhabitants", "publisher": population["publisher"], "source": population["source"],
        "url": population["url"], "quote": population["quote"],
        "note": "Built-up urban area, one definition for every unit. " + population["note"]}))
    values = pd.concat(parts, ignore_index=True)[list(ROW_COLUMNS)]
    values = values[values["unit"].isin(units.index)]
    order = {u: i for i, u in enumerate(units.index)}
    values = values.sort_values(["indicator", "unit"], key=lambda s: s.map(order) if s.name == "unit" else s, kind="stable")
    panel = derived[derived.indicator.isin(panel_codes) & (derived["value"].str.strip() != "")]
    first = panel["indicator"].map(PANEL_FROM).fillna(0)
    panel = panel[panel["year"].astype(int) >= first][list(ROW_COLUMNS)]
    return values.reset_index(drop=True), panel.reset_index(drop=True)
