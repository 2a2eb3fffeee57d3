"""Placing free-text places (affiliations, city names, e-mail domains) through crosswalk tables.

A crosswalk is data: one row per institution, company, place name or e-mail domain, with the
place it stands for (a point, or an index unit directly) and the source that gives it. This
module is the pure matching rule; `engine` applies it once per distinct text, never per record.

The rule, in order:

1. Text is normalised: Unicode compatibility form, accents dropped, case folded, every run of
   characters that is neither a letter nor a digit becomes one space ("Univ. of Tokyo," ->
   "univ of tokyo").
2. The crosswalks are tried in the order the recipe lists them; the first that matches wins.
3. Inside one crosswalk: an `exact` row (the whole text equals the key) beats a `domain` row
   (read only for a field declared as e-mail domains: the text is the key or a sub-domain of it,
   `robots.ox.ac.uk` matches `ox.ac.uk`, the longest key wins), which beats a `contains` row (the key's words appear as consecutive whole words in
   the text). Among `contains` rows the key with the most words wins, then the one that ends
   latest in the text: addresses name the site last ("New York University Abu Dhabi").
4. Countries: where a record carries a country (a country field), or the text names one
   ("..., Cambridge, MA, USA"), a row whose country is another one is not a match. Where one
   key has rows in several countries and no country is known, the first row in the file wins
   (crosswalk builders order such rows by population).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from aicity.derive.tables import conform, read_table
from aicity.errors import InputError, Problem

MATCH_KINDS = ("exact", "contains", "domain")
CROSSWALK_COLUMNS = (
    "key", "match", "kind", "place", "country", "lat", "lon", "unit", "alias", "flag", "source", "url", "note",
)
REQUIRED_COLUMNS = ("key", "match", "source")

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize(text: object) -> str:
    """Compatibility form, no accents, case-folded, punctuation runs as single spaces."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = str(text)
    if not s.isascii():  # plain ASCII has no accents or compatibility forms to fold
        s = unicodedata.normalize("NFKD", s)
        s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", s.casefold()).strip()


def normalize_domain(text: object) -> str:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = str(text).strip().casefold().lstrip("@").rstrip(".")
    if "@" in s:
        s = s.rsplit("@", 1)[1]
    return s[4:] if s.startswith("www.") else s


@dataclass(frozen=True)
class Crosswalk:
    """One crosswalk table, checked. `rows` has every column of CROSSWALK_COLUMNS."""

    name: str
    path: str
    rows: pd.DataFrame

    def __len__(self) -> int:
        return len(self.rows)


def read_crosswalk(path: str | Path, units: Iterable[str], name: str | None = None) -> Crosswalk:
    """Read and check a crosswalk CSV; every problem at once, with its row and column. Read
    once per process while the file is unchanged (the gazetteer serves every recipe)."""
    path = Path(path)
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = (0, 0)
    return _read_crosswalk(str(path), stamp, tuple(sorted(units)), name or path.stem)


@functools.lru_cache(maxsize=32)
def _read_crosswalk(path_str: str, _stamp: tuple[int, int], units: tuple[str, ...], name: str) -> Crosswalk:
    table = read_table(Path(path_str), "crosswalk file")
    crosswalk = check_crosswalk(table, path_str, units, name)
    clashes = _clashes(crosswalk.rows, path_str)
    if clashes:
        raise InputError(clashes)
    return crosswalk


def _clashes(rows: pd.DataFrame, shown: str) -> list[Problem]:
    """In a crosswalk file, one key, match and country naming two places: the first row would
    win unsaid. Place rows are exempt (the gazetteer's first, most populous, is its rule), as
    are crosswalks built from record files at run time (a record list repeats its rows)."""
    def text(col: str) -> pd.Series:
        return rows[col].astype(str).where(rows[col].notna(), "")

    target = text("unit") + "|" + text("lat") + "|" + text("lon") + "|" + text("place") + "|" + text("alias")
    named = pd.DataFrame({"key": rows["key"].map(normalize), "match": rows["match"], "country": rows["country"], "target": target})
    named = named[rows["kind"] != "place"]
    out = []
    seen: dict[tuple[str, str, str], tuple[int, str]] = {}
    for i, r in named.iterrows():
        k = (r.key, r.match, r.country)
        if k in seen and seen[k][1] != r.target:
            out.append(Problem(shown, f"key '{rows['key'].iat[int(i)]}' ({r.match}, {r.country or 'no country'}) already names "
                                      f"another place at row {seen[k][0]}", row=int(i) + 2, column="key"))
        seen.setdefault(k, (int(i) + 2, r.target))
    return out


def check_crosswalk(df: pd.DataFrame, shown: str, units: Iterable[str], name: str) -> Crosswalk:
    """Check a crosswalk table (from a file, or built from a record file by a recipe)."""
    df = df.astype(str)
    problems: list[Problem] = []
    df = conform(df, shown, REQUIRED_COLUMNS, CROSSWALK_COLUMNS)
    known_units = set(units)
    lat = pd.to_numeric(df["lat"].replace("", None), errors="coerce")
    lon = pd.to_numeric(df["lon"].replace("", None), errors="coerce")
    def flag(mask: pd.Series, column: str, reason) -> None:
        for i in np.flatnonzero(mask.to_numpy()):
            problems.append(Problem(shown, reason(i) if callable(reason) else reason, row=int(i) + 2, column=column))

    flag(df["key"].str.strip() == "", "key", "empty key")
    flag(~df["match"].isin(MATCH_KINDS), "match",
         lambda i: f"match '{df['match'].iat[i]}' is not one of {', '.join(MATCH_KINDS)}")
    flag(df["source"].str.strip() == "", "source", "every row needs the source that gives its place")
    for col, series, lo, hi in (("lat", lat, -90, 90), ("lon", lon, -180, 180)):
        flag((df[col] != "") & ~series.between(lo, hi), col, lambda i, col=col, lo=lo, hi=hi: f"'{df[col].iat[i]}' is not a {col} in [{lo}, {hi}]")
    has_unit = df["unit"] != ""
    flag(has_unit & ~df["unit"].isin(known_units), "unit", lambda i: f"unknown unit '{df['unit'].iat[i]}'")
    half = ~has_unit & ((df["lat"] == "") != (df["lon"] == ""))
    flag(half, "lat", "lat and lon go together")
    flag(~has_unit & ~half & (df["lat"] == "") & (df["place"].str.strip() == "") & (df["alias"].str.strip() == ""), "unit",
         "a row needs a unit, lat and lon, a place (looked up in the gazetteer) or an alias")
    flag(~df["flag"].isin(["", "hq"]), "flag", lambda i: f"flag '{df['flag'].iat[i]}' is not empty or 'hq' (placed at a headquarters)")
    flag(has_unit & (df["lat"] != ""), "unit", "a row gives a unit or a point (lat, lon), not both")
    country = df["country"].str.strip()
    flag((country != "") & ~country.str.upper().str.fullmatch(r"[A-Z]{2}"), "country",
         lambda i: f"'{df['country'].iat[i]}' is not a two-letter ISO country code (such as KR)")
    problems.sort(key=lambda p: (p.row or 0))
    if problems:
        raise InputError(problems)
    df["lat"] = lat.astype(float)
    df["lon"] = lon.astype(float)
    df["country"] = df["country"].str.strip().str.upper()
    return Crosswalk(name, shown, df.reset_index(drop=True))


class Gazetteer:
    """Place names to points: the first row (most populous) per name, and per name and country.
    A name ending in a municipal suffix (" City", "-shi", "-si", "-gun", "-ku") is also tried without it."""

    def __init__(self, crosswalk: Crosswalk):
        self.crosswalk = crosswalk
        self._by_name: dict[str, int] | None = None
        self._by_country: dict[tuple[str, str], int] = {}

    def find(self, place: str, country: str | None) -> int | None:
        if self._by_name is None:
            self._by_name = {}
            for i, (k, c) in enumerate(zip(self.crosswalk.rows["key"], self.crosswalk.rows["country"], strict=True)):
                n = normalize(k)
                self._by_name.setdefault(n, i)
                self._by_country.setdefault((n, c), i)
        n = normalize(place)
        found = self._by_country.get((n, country)) if country else self._by_name.get(n)
        if found is None:  # "Osaka City", "Chiba-shi", "Suwon-si": the municipality's own suffix
            for suffix in (" city", " shi", " si", " gun", " ku"):
                if n.endswith(suffix):
                    return self.find(n[: -len(suffix)], country)
        return found


@dataclass(frozen=True)
class Match:
    """Where one text was placed, and by which crosswalk row."""

    crosswalk: str
    row: int  # index into that crosswalk's rows
    key: str
    via: Match | None = None  # where the row's alias was placed, for an alias row
    ok: bool = True  # False: the row matched but leads nowhere (its place is not in the gazetteer)


@dataclass
class _Index:
    exact: dict[str, list[int]] = field(default_factory=dict)
    domain: dict[str, list[int]] = field(default_factory=dict)
    contains: dict[tuple[str, ...], list[int]] = field(default_factory=dict)
    max_words: int = 0
    keys: list[str] = field(default_factory=list)  # the crosswalk's columns as lists: no pandas per match
    countries: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)


class _Allowed:
    """The countries a text may be placed in: the record's, else those the text names
    (worked out only when a key has matched)."""

    def __init__(self, country: str | None, words: list[str], matcher: Matcher):
        self._country, self._words, self._matcher = country, words, matcher
        self._codes: set[str] | None = None

    def codes(self) -> set[str]:
        if self._codes is None:
            if self._country:
                self._codes = {self._country}
            else:
                self._codes = self._matcher.countries_in(self._words) if self._words else set()
        return self._codes


class Matcher:
    """Matches texts against crosswalks in order (see the module's rule)."""

    def __init__(self, crosswalks: Sequence[Crosswalk], countries: pd.DataFrame | None = None,
                 alias_matcher: Matcher | None = None):
        self.crosswalks = list(crosswalks)
        self.alias_matcher = alias_matcher
        self._built: list[_Index] | None = None
        self._countries: dict[tuple[str, ...], str] = {}
        self._country_words = 0
        if countries is not None:
            for code, alias in zip(countries["code"], countries["alias"], strict=True):
                words = tuple(normalize(alias).split())
                if words:
                    self._countries[words] = str(code).upper()
                    self._country_words = max(self._country_words, len(words))

    def prepare(self) -> None:
        """Build the indexes now (they are otherwise built on the first match)."""
        _ = self._indexes

    @property
    def _indexes(self) -> list[_Index]:
        if self._built is None:  # built on first use: a gazetteer that is never asked costs nothing
            self._built = [self._index(cw) for cw in self.crosswalks]
        return self._built

    @staticmethod
    def _index(cw: Crosswalk) -> _Index:
        idx = _Index(keys=cw.rows["key"].astype(str).tolist(), countries=cw.rows["country"].tolist(),
                     aliases=cw.rows["alias"].tolist())
        for i, (key, how) in enumerate(zip(cw.rows["key"], cw.rows["match"], strict=True)):
            if how == "exact":
                idx.exact.setdefault(normalize(key), []).append(i)
            elif how == "domain":
                idx.domain.setdefault(normalize_domain(key), []).append(i)
            else:
                words = tuple(normalize(key).split())
                idx.contains.setdefault(words, []).append(i)
                idx.max_words = max(idx.max_words, len(words))
        return idx

    def country_code(self, name: object) -> str | None:
        """ISO code of a country name or alias ("United States", "Korea, Rep.", "KR")."""
        words = tuple(normalize(name).split())
        if not words:
            return None
        if words in self._countries:
            return self._countries[words]
        if len(words) == 1 and len(words[0]) == 2:
            return words[0].upper()
        return None

    def names_country(self, text: object) -> bool:
        """Whether the whole text is a country's name or alias."""
        return tuple(normalize(text).split()) in self._countries

    def countries_in(self, words: Sequence[str]) -> set[str]:
        found: set[str] = set()
        n = len(words)
        for i in range(n):
            for k in range(1, min(self._country_words, n - i) + 1):
                code = self._countries.get(tuple(words[i : i + k]))
                if code:
                    found.add(code)
        return found

    def match(self, text: object, country: str | None = None, domain: bool = False,
              accept: Callable[[Crosswalk, int], bool] | None = None,
              _skip: frozenset[int] = frozenset()) -> Match | None:
        """Place one text. `country`: the record's ISO country code, if it has one.
        `domain=True` reads the text as an e-mail domain. A row with an `alias` (e.g. an
        e-mail domain standing for a university's name) is placed by matching the alias
        through `alias_matcher` (the recipe's text crosswalks), else through this matcher's
        other crosswalks; an alias that places nowhere is no match. `accept(crosswalk, row)`
        says whether a matched row leads to a place (e.g. its city is in the gazetteer); a row
        that does not is passed over for the next crosswalk, and returned with `ok=False` only
        if nothing else matches, so the reason can be reported."""
        if domain:
            norm = normalize_domain(text)
            words: list[str] = []
        else:
            norm = normalize(text)
            words = norm.split()
        if not norm:
            return None
        allowed = _Allowed(country, words, self)
        passed_over: Match | None = None
        for pos, (cw, idx) in enumerate(zip(self.crosswalks, self._indexes, strict=True)):
            if pos in _skip:
                continue
            found = self._match_one(idx, norm, words, allowed, domain)
            if found is None:
                continue
            alias = idx.aliases[found]
            if alias:
                row_country = idx.countries[found] or country
                if self.alias_matcher is not None:
                    via = self.alias_matcher.match(alias, row_country, accept=accept)
                else:
                    via = self.match(alias, row_country, False, accept, _skip | {pos})
                if via is None:
                    continue
                hit = Match(cw.name, found, idx.keys[found], via, via.ok)
            else:
                hit = Match(cw.name, found, idx.keys[found], ok=accept is None or accept(cw, found))
            if hit.ok:
                return hit
            passed_over = passed_over or hit
        return passed_over

    def first_row(self, text: object, country: str | None = None, domain: bool = False) -> tuple[Crosswalk, int] | None:
        """The row the text matches in the first crosswalk (in order) that it matches at all, by the
        same rule as `match`, aliases not followed and every row accepted: what the text names
        (its `kind`), not where it is."""
        norm = normalize_domain(text) if domain else normalize(text)
        if not norm:
            return None
        words = [] if domain else norm.split()
        allowed = _Allowed(country, words, self)
        for cw, idx in zip(self.crosswalks, self._indexes, strict=True):
            found = self._match_one(idx, norm, words, allowed, domain)
            if found is not None:
                return cw, found
        return None

    @staticmethod
    def _pick(idx: _Index, rows: list[int], allowed: _Allowed) -> int | None:
        for r in rows:
            c = idx.countries[r]
            if not c:  # a row for any country: no need to know the text's
                return r
            codes = allowed.codes()
            if not codes or c in codes:
                return r
        return None

    def _match_one(self, idx: _Index, norm: str, words: list[str],
                   allowed: _Allowed, domain: bool) -> int | None:
        if norm in idx.exact:
            hit = self._pick(idx, idx.exact[norm], allowed)
            if hit is not None:
                return hit
        if domain and idx.domain:
            labels = norm.split(".")
            for i in range(len(labels)):
                rows = idx.domain.get(".".join(labels[i:]))
                if rows:
                    hit = self._pick(idx, rows, allowed)
                    if hit is not None:
                        return hit
        if domain or not idx.contains:
            return None
        best: tuple[int, int, int] | None = None  # (words, end position, row)
        n = len(words)
        for i in range(n):
            for k in range(min(idx.max_words, n - i), 0, -1):
                rows = idx.contains.get(tuple(words[i : i + k]))
                if rows is None:
                    continue
                hit = self._pick(idx, rows, allowed)
                if hit is None:
                    continue
                cand = (k, i + k, hit)
                if best is None or cand[:2] > best[:2]:
                    best = cand
                break  # the longest key starting at i; shorter ones there cannot win
        return None if best is None else best[2]
