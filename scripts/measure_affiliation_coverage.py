"""Measure how much of the AI-paper authorship the derive crosswalks place in a city.

Run (from the repository root):

    .venv/bin/python scripts/measure_affiliation_coverage.py [--records DIR] [--top N] [--located N]

Records: DIR/ai-papers/ai-papers.parquet (default /work/shared/data/records). Venue set:
ijcai, icra, iros, aistats, wacv, uai, years 2020-2023. Each paper has weight 1: its `aff`
is split on ';' into n author entries (weight 1/n each), an entry on '+' into k affiliations
(weight 1/(n k) each); `aff_domain` is split the same way and aligned by position. An
affiliation is located when the text matcher places its text, else when the domain matcher
places its e-mail domain. Coverage = located weight / number of papers (empty affiliations
count as not located).

Text matcher: [institutions.csv, QS-derived, places.csv, companies.csv].
Domain matcher: [company_domains.csv, Hipo-derived, institutions.csv, QS-derived, places.csv].
QS-derived and Hipo-derived crosswalks are built here, in memory, from the record files (QS
terms forbid redistributing the table; they are never bundled).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

import pandas as pd

from aicity.derive.match import (
    CROSSWALK_COLUMNS,
    Matcher,
    check_crosswalk,
    normalize,
    read_crosswalk,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "aicity" / "data" / "derive"
VENUES = ("ijcai", "icra", "iros", "aistats", "wacv", "uai")
YEARS = (2020, 2023)
BRACKET_DROP = {"uc", "up", "people s", "national research university", "deemed to be university", "volga region",
                "former buaa", "formerly university of dammam", "utc", "uv", "um", "ipn", "insa", "nit", "barcelona"}


def qs_crosswalk(records: Path, countries: pd.DataFrame, places: pd.DataFrame):
    path = records / "qs-rankings" / "qs-world-university-rankings-2017-to-2022-V2.csv"
    qs = pd.read_csv(path, dtype=str, keep_default_na=False)
    qs["year"] = pd.to_numeric(qs["year"])
    qs = qs.sort_values("year").groupby("university", as_index=False).last()
    code = {normalize(a): c for c, a in zip(countries["code"], countries["alias"], strict=True)}
    coords = {}
    for r in places.itertuples(index=False):
        coords.setdefault((normalize(r.place), r.country), (r.lat, r.lon))
    # bracket texts that are not an abbreviation of one university: a country ("China", "USA",
    # "Korea", "Taiwan"), a text shared by several universities ("NTU", "SDU"), or a phrase
    bracket_count: dict[str, int] = defaultdict(int)
    for name in qs["university"]:
        for m in re.findall(r"\(([^)]*)\)", name):
            bracket_count[normalize(m)] += 1
    country_words = set(code)
    rows, no_coords, no_city = [], 0, 0
    for r in qs.itertuples(index=False):
        city = r.city.strip()
        if not city:
            no_city += 1
            continue
        cc = code.get(normalize(r.country), "")
        lat, lon = coords.get((normalize(city), cc), ("", ""))
        if lat == "":
            no_coords += 1
        name = r.university.strip()
        keys = [re.sub(r"\s*\([^)]*\)", "", name).strip()]
        for m in re.findall(r"\(([^)]*)\)", name):
            b = normalize(m)
            if b and b not in country_words and bracket_count[b] == 1 and b not in BRACKET_DROP:
                keys.append(m.strip())
        for k in keys:
            rows.append({"key": k, "match": "contains", "kind": "institution", "place": city, "country": cc,
                         "lat": lat, "lon": lon, "source": "QS World University Rankings (record file)",
                         "url": r.link})
    df = pd.DataFrame(rows, columns=list(CROSSWALK_COLUMNS), dtype=object).fillna("")
    return check_crosswalk(df, str(path), [], "qs"), no_coords, no_city


def hipo_crosswalk(records: Path):
    path = records / "university-domains" / "world_universities_and_domains.json"
    unis = json.loads(path.read_text(encoding="utf-8"))
    rows, seen = [], set()
    for u in unis:
        for d in u.get("domains") or []:
            if (d, u["name"]) in seen:
                continue
            seen.add((d, u["name"]))
            rows.append({"key": d, "match": "domain", "kind": "institution", "country": u.get("alpha_two_code") or "",
                         "alias": u["name"], "source": "Hipo university-domains-list"})
    df = pd.DataFrame(rows, columns=list(CROSSWALK_COLUMNS), dtype=object).fillna("")
    return check_crosswalk(df, str(path), [], "hipo")


def split(s: str) -> list[str]:
    return [x.strip() for x in (s or "").split(";")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", default="/work/shared/data/records")
    ap.add_argument("--top", type=int, default=60, help="list the N heaviest unlocated texts")
    ap.add_argument("--located", type=int, default=0, help="list the N heaviest located texts with their place")
    args = ap.parse_args()
    records = Path(args.records)

    countries = pd.read_csv(DATA / "countries.csv", dtype=str, keep_default_na=False)
    places = read_crosswalk(DATA / "places.csv", [])
    inst = read_crosswalk(DATA / "crosswalks" / "institutions.csv", [])
    comp = read_crosswalk(DATA / "crosswalks" / "companies.csv", [])
    cdom = read_crosswalk(DATA / "crosswalks" / "company_domains.csv", [])
    qs, qs_no_coords, qs_no_city = qs_crosswalk(records, countries, places.rows)
    hipo = hipo_crosswalk(records)
    text_m = Matcher([inst, qs, places, comp], countries)
    dom_m = Matcher([cdom, hipo, inst, qs, places], countries)

    papers = pd.read_parquet(records / "ai-papers" / "ai-papers.parquet")
    papers = papers[papers["venue"].isin(VENUES) & papers["year"].between(*YEARS)]

    text_cache: dict[str, object] = {}
    dom_cache: dict[str, object] = {}
    total = defaultdict(float)
    located = defaultdict(float)
    hq = 0.0
    by_crosswalk = defaultdict(float)
    unlocated_w = defaultdict(float)
    located_w = defaultdict(float)
    located_at: dict[str, str] = {}

    def place_of(m) -> str:
        while m.via is not None:
            m = m.via
        cw = {c.name: c for c in (inst, qs, places, comp, cdom, hipo)}[m.crosswalk]
        r = cw.rows.iloc[m.row]
        return f"{r['place']}, {r['country']} [{m.crosswalk}:{m.key}{' hq' if r['flag'] == 'hq' else ''}]"

    def is_hq(m) -> bool:
        while m.via is not None:
            m = m.via
        cw = {c.name: c for c in (inst, qs, places, comp, cdom, hipo)}[m.crosswalk]
        return cw.rows["flag"].iat[m.row] == "hq"

    for venue, aff, dom in zip(papers["venue"], papers["aff"], papers["aff_domain"], strict=True):
        total[venue] += 1
        entries = split(aff)
        doms = split(dom)
        n = len(entries)
        for i, e in enumerate(entries):
            parts = [p.strip() for p in e.split("+")]
            dparts = [p.strip() for p in doms[i].split("+")] if i < len(doms) else []
            k = len(parts)
            for j, p in enumerate(parts):
                w = 1.0 / (n * k)
                m = None
                if p:
                    if p not in text_cache:
                        text_cache[p] = text_m.match(p)
                    m = text_cache[p]
                if m is None:
                    d = dparts[j] if j < len(dparts) else ""
                    if d:
                        if d not in dom_cache:
                            dom_cache[d] = dom_m.match(d, domain=True)
                        m = dom_cache[d]
                    if m is not None:
                        by_crosswalk["domain:" + m.crosswalk] += w
                else:
                    by_crosswalk["text:" + m.crosswalk] += w
                if m is None:
                    unlocated_w[p] += w
                    continue
                located[venue] += w
                if is_hq(m):
                    hq += w
                if p:
                    located_w[p] += w
                    located_at.setdefault(p, place_of(m))

    t, loc = sum(total.values()), sum(located.values())
    print(f"papers {t:.0f}; located weight {loc:.1f}; coverage {loc / t:.1%}")
    for v in VENUES:
        print(f"  {v:8s} {total[v]:6.0f} papers  {located[v] / total[v]:.1%}")
    print(f"share of located weight placed at a company HQ (flag=hq): {hq / loc:.1%}")
    print("located weight by matcher:", {k: round(v / loc, 3) for k, v in sorted(by_crosswalk.items())})
    print(f"QS-derived: {len(qs)} rows; universities with empty city dropped: {qs_no_city}; "
          f"rows whose city is not in places.csv (no coordinates): {qs_no_coords}")
    print(f"empty affiliation weight: {unlocated_w.get('', 0) / t:.1%}")
    print("\nheaviest unlocated affiliation texts:")
    for p, w in sorted(unlocated_w.items(), key=lambda kv: -kv[1])[: args.top]:
        if p:
            print(f"  {w:7.2f}  {p}")
    if args.located:
        print("\nheaviest located affiliation texts:")
        for p, w in sorted(located_w.items(), key=lambda kv: -kv[1])[: args.located]:
            print(f"  {w:7.2f}  {p[:70]:70s} -> {located_at[p]}")


if __name__ == "__main__":
    main()
