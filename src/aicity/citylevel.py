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


def ranked_rows(ranked: RankedList, units: pd.DataFrame, unit_of_measure: str | None = None) -> pd.DataFrame:
    """One row per unit of `units` (index: code; column name_en): the percentile of its rank,
    0 for a unit absent from a complete list (flagged in the note), and no row for a unit
    absent from an incomplete one. A unit matched by several entries takes the best rank."""
    problems = ranked.problems(ranked.indicator)
    if problems:
        raise InputError(problems)
    by_unit: dict[str, pd.Series] = {}
    for _, entry in ranked.entries.sort_values("rank", kind="stable").iterrows():
        for code in str(entry.get("unit") or "").split():
            if code not in units.index:
                raise InputError([Problem(ranked.indicator, f"{ranked.year}: unit '{code}' (entry '{entry['name']}') is not a unit")])
            by_unit.setdefault(code, entry)
    measure = unit_of_measure or f"percentile of the {ranked.n} ranked {ranked.what} (1st = 100; not ranked = 0)"
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
