"""Which cities the Global AI City Index should cover: the written rule, applied.

    python scripts/select_cities.py ../shared/data/facts-city/city-facts.csv

Rule: a city (metro) is in if it is ranked in at least TWO of these published city-level
rankings (any edition): IMD Smart City Index, Startup Genome GSER, StartupBlink, PitchBook's
startup-city ranking, WIPO Global Innovation Index S&T clusters, Nature Index Science Cities,
Mori Memorial Foundation GPCI, UN DESA Local Online Service Index. The 22 cities of the
current index stay in whatever their count.

Regional clause: a world region (East Asia, South Asia, Southeast Asia, Middle East, Europe,
North America, Latin America, Oceania, Africa) with no city passing the rule takes its city
ranked in the most of these rankings (ties: the larger metro population, from metros.csv; a tie
that the populations cannot break stops the script rather than pick silently). In the facts file
only Cape Town (UN DESA LOSI 2018) is ranked in Africa, so Cape Town joins by this clause.

Counts that the project derives itself (unicorns, universities, cloud regions, portals) and
marketing studies do not count: a city must be ranked by others first. Every ranked city needs
a region in REGION (an unknown one stops the script). Writes
src/aicity/data/derive/city_selection.csv (city, region, rankings, n_rankings, in_current_index,
selected_by, counted_from), sorted by n_rankings. Needs pandas; reads the facts file and metros.csv.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "aicity" / "data" / "derive" / "city_selection.csv"
METROS = ROOT / "src" / "aicity" / "data" / "derive" / "metros.csv"

RANKINGS = {  # indicator prefix in city-facts.csv -> the ranking it belongs to
    "imd_sci": "IMD Smart City Index",
    "gser": "Startup Genome GSER",
    "startupblink": "StartupBlink",
    "startups_count_startupblink": "StartupBlink",
    "pitchbook": "PitchBook startup cities",
    "gii_": "WIPO GII S&T clusters",
    "nature_index": "Nature Index Science Cities",
    "gpci": "GPCI (Mori Memorial Foundation)",
    "losi": "UN DESA LOSI",
}
SAME_METRO = {  # names in the facts file -> one metro
    "San Francisco": "San Francisco Bay Area", "Mountain View": "San Francisco Bay Area",
    "Washington DC": "Washington", "Shenzhen/Hong Kong/Guangzhou": None,  # a cluster of three: not one city
}
REGIONS = ("East Asia", "South Asia", "Southeast Asia", "Middle East", "Europe", "North America",
           "Latin America", "Oceania", "Africa")
_BY_REGION = {  # every metro ranked in the facts file, by world region (Istanbul: Middle East, as Tehran and Doha)
    "East Asia": ["Beijing", "Busan", "Changsha", "Chengdu", "Chongqing", "Daegu", "Daejeon", "Fukuoka", "Guangzhou",
                  "Hangzhou", "Hefei", "Hong Kong", "Kyoto", "Nagoya", "Nanjing", "Osaka", "Seoul", "Shanghai",
                  "Shenzhen", "Suzhou", "Taipei", "Tianjin", "Tokyo", "Wuhan", "Wuxi", "Xi'an", "Zhuhai"],
    "South Asia": ["Bengaluru", "Delhi", "Gurugram", "Hyderabad", "Mumbai", "New Delhi"],
    "Southeast Asia": ["Bangkok", "Hanoi", "Ho Chi Minh City", "Jakarta", "Kuala Lumpur", "Makassar", "Manila",
                        "Singapore"],
    "Middle East": ["Abu Dhabi", "Doha", "Dubai", "Istanbul", "Tehran", "Tel Aviv"],
    "Europe": ["Amsterdam", "Barcelona", "Berlin", "Copenhagen", "Dublin", "Geneva", "Hamburg", "Helsinki", "Lausanne",
               "Ljubljana", "London", "Madrid", "Moscow", "Munich", "Oslo", "Paris", "Prague", "Rome", "Stockholm",
               "Tallinn", "Warsaw", "Zurich"],
    "North America": ["Atlanta", "Austin", "Baltimore-Washington", "Boston", "Chicago", "Dallas", "Denver", "Houston",
                      "Los Angeles", "Miami", "Minneapolis", "Montreal", "New York", "Philadelphia", "Phoenix",
                      "Portland", "Raleigh", "Salt Lake City", "San Diego", "San Francisco Bay Area", "Seattle",
                      "Toronto", "Vancouver", "Washington"],
    "Latin America": ["Mexico City", "Sao Paulo"],
    "Oceania": ["Canberra", "Sydney"],
    "Africa": ["Cape Town"],
}
REGION = {city: region for region, cities in _BY_REGION.items() for city in cities}
CURRENT = ["Seoul", "Tokyo", "Osaka", "Singapore", "Beijing", "Shanghai", "Shenzhen", "Hong Kong",
           "San Francisco Bay Area", "New York", "Boston", "Los Angeles", "London", "Paris", "Berlin",
           "Amsterdam", "Stockholm", "Toronto", "Bengaluru", "Tel Aviv", "Dubai", "Sydney"]


def ranking_of(indicator: str) -> str | None:
    for prefix, name in RANKINGS.items():
        if indicator.startswith(prefix):
            return name
    return None


def metro_populations() -> dict[str, float]:
    """Metro populations by city name, from metros.csv (for the regional clause's ties)."""
    if not METROS.is_file():
        return {}
    m = pd.read_csv(METROS)
    return dict(zip(m["name"], pd.to_numeric(m["population"], errors="coerce"), strict=True))


def main(path: str) -> None:
    facts = pd.read_csv(path)
    facts["ranking"] = facts["indicator"].map(ranking_of)
    facts["metro"] = facts["city"].map(lambda c: SAME_METRO.get(c, c))
    ranked = facts.dropna(subset=["ranking", "metro"])
    per = ranked.groupby("metro")["ranking"].agg(lambda r: sorted(set(r)))
    table = pd.DataFrame({"city": per.index, "rankings": per.map("; ".join), "n_rankings": per.map(len)})
    table["in_current_index"] = table["city"].isin(CURRENT)
    for c in CURRENT:
        if c not in set(table["city"]):
            table.loc[len(table)] = [c, "", 0, True]
    unknown = sorted(set(table["city"]) - set(REGION))
    if unknown:
        raise SystemExit(f"no region for {unknown}: add them to REGION in {Path(__file__).name}")
    table["region"] = table["city"].map(REGION)
    table["selected_by"] = ""
    table.loc[table["in_current_index"], "selected_by"] = "current index"
    table.loc[table["n_rankings"] >= 2, "selected_by"] = "two or more rankings"
    population = metro_populations()
    for region in REGIONS:
        here = table[table["region"] == region]
        if here.empty or (here["selected_by"] != "").any():
            continue
        top = here[here["n_rankings"] == here["n_rankings"].max()]
        if len(top) > 1:  # ties: the larger metro population, where every tied city has one
            pops = top["city"].map(population)
            if pops.isna().any() or (pops == pops.max()).sum() > 1:
                raise SystemExit(f"{region}: {sorted(top['city'])} tie on {int(top['n_rankings'].iat[0])} rankings and "
                                 "metros.csv cannot break the tie by population; decide and write it down")
            top = top[pops == pops.max()]
        table.loc[top.index, "selected_by"] = f"regional clause (the only or most-ranked city of {region})"
    keep = table[table["selected_by"] != ""]
    keep = keep.sort_values(["n_rankings", "city"], ascending=[False, True])
    keep = keep[["city", "region", "rankings", "n_rankings", "in_current_index", "selected_by"]]
    # how the count was made, on every row: the facts read and the rule applied
    keep["counted_from"] = ("distinct rankings among the city's facts in shared/data/facts-city/city-facts.csv "
                            "(each with its URL and quote), by scripts/select_cities.py")
    keep.to_csv(OUT, index=False, lineterminator="\n")
    print(f"{OUT.name}: {len(keep)} cities ({int(keep['in_current_index'].sum())} of the current index, "
          f"{int((~keep['in_current_index']).sum())} new; "
          f"{int(keep['selected_by'].str.startswith('regional').sum())} by the regional clause)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT.parent / "shared" / "data" / "facts-city" / "city-facts.csv"))
