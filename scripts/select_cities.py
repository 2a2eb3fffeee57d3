"""Which cities the Global AI City Index should cover: the written rule, applied.

    python scripts/select_cities.py ../shared/data/facts-city/city-facts.csv

Rule: a city (metro) is in if it is ranked in at least TWO of these published city-level
rankings (any edition): IMD Smart City Index, Startup Genome GSER, StartupBlink, PitchBook's
startup-city ranking, WIPO Global Innovation Index S&T clusters, Nature Index Science Cities,
Mori Memorial Foundation GPCI, UN DESA Local Online Service Index. The 22 cities of the
current index stay in whatever their count. Counts that the project derives itself (unicorns,
universities, cloud regions, portals) and marketing studies do not count: a city must be
ranked by others first. Writes src/aicity/data/derive/city_selection.csv (city, rankings,
n_rankings, in_current_index, counted_from), sorted by n_rankings. Needs pandas; reads the facts file only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "aicity" / "data" / "derive" / "city_selection.csv"

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
CURRENT = ["Seoul", "Tokyo", "Osaka", "Singapore", "Beijing", "Shanghai", "Shenzhen", "Hong Kong",
           "San Francisco Bay Area", "New York", "Boston", "Los Angeles", "London", "Paris", "Berlin",
           "Amsterdam", "Stockholm", "Toronto", "Bengaluru", "Tel Aviv", "Dubai", "Sydney"]


def ranking_of(indicator: str) -> str | None:
    for prefix, name in RANKINGS.items():
        if indicator.startswith(prefix):
            return name
    return None


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
    keep = table[(table["n_rankings"] >= 2) | table["in_current_index"]]
    keep = keep.sort_values(["n_rankings", "city"], ascending=[False, True])
    # how the count was made, on every row: the facts read and the rule applied
    keep["counted_from"] = ("distinct rankings among the city's facts in shared/data/facts-city/city-facts.csv "
                            "(each with its URL and quote), by scripts/select_cities.py")
    keep.to_csv(OUT, index=False, lineterminator="\n")
    print(f"{OUT.name}: {len(keep)} cities ({int(keep['in_current_index'].sum())} of the current index, "
          f"{int((~keep['in_current_index']).sum())} new)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT.parent / "shared" / "data" / "facts-city" / "city-facts.csv"))
