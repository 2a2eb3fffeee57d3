"""Metro definitions: one rule for every unit, as data.

A unit is a circle: every point within `radius_km` (great-circle distance, mean Earth radius
6,371.0088 km) of the unit's centre belongs to it; where circles overlap, the nearest centre
wins. A unit with a `country` (ISO 3166-1 alpha-2) holds only points of that country when the
point's country is known: a circle drawn round a metro reaches across a border (Tijuana lies
28 km from San Diego's centre, Batam 25 km from Singapore's, Malmö 28 km from Copenhagen's),
but the official area it approximates does not. Each row says which official area the circle approximates
(`definition`, with its source) and carries that area's population, with its own source, for
per-capita values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aicity.derive.tables import conform, read_table
from aicity.errors import InputError, Problem

EARTH_RADIUS_KM = 6371.0088
METRO_COLUMNS = (
    "unit", "name", "country", "centre_name", "centre_lat", "centre_lon", "radius_km", "definition", "definition_source",
    "definition_url", "population", "population_year", "population_area", "population_source",
    "population_url", "population_quote", "note",
)
_NUMBERS = ("centre_lat", "centre_lon", "radius_km", "population", "population_year")


@dataclass(frozen=True)
class Metros:
    path: str
    table: pd.DataFrame  # one row per unit, numbers as floats

    @property
    def units(self) -> list[str]:
        return list(self.table["unit"])

    def label(self, unit: str) -> str:
        """How the unit is drawn, for quotes: "65 km of Seoul City Hall"."""
        labels = self.__dict__.get("_labels")
        if labels is None:
            labels = {u: f"{r:g} km of {c}" for u, r, c in
                      zip(self.table["unit"], self.table["radius_km"], self.table["centre_name"], strict=True)}
            object.__setattr__(self, "_labels", labels)
        return labels[unit]

    def assign(self, lat: np.ndarray, lon: np.ndarray, country: np.ndarray | None = None) -> np.ndarray:
        """The unit each point falls in (nearest centre among the circles holding it), or ''.
        `country` (ISO codes, '' where unknown) keeps a point out of the units of another
        country; a unit without a country, or a point without one, is not checked."""
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        out = np.full(lat.shape, "", dtype=object)
        if lat.size == 0:
            return out
        d = haversine_km(lat[:, None], lon[:, None], self.table["centre_lat"].to_numpy()[None, :],
                         self.table["centre_lon"].to_numpy()[None, :])
        inside = d <= self.table["radius_km"].to_numpy()[None, :]
        if country is not None:  # None, NaN and '' are unknown; codes compare in capitals
            point = pd.Series(list(country), dtype=object).fillna("").astype(str).str.strip().str.upper()
            point = point.to_numpy(dtype=object)[:, None]
            unit = self.table["country"].fillna("").astype(str).str.upper().to_numpy(dtype=object)[None, :]
            inside &= (point == "") | (unit == "") | (point == unit)
        d = np.where(inside, d, np.inf)
        nearest = np.argmin(d, axis=1)
        held = np.isfinite(d[np.arange(len(lat)), nearest])
        codes = self.table["unit"].to_numpy(dtype=object)
        out[held] = codes[nearest[held]]
        return out


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def read_metros(path: str | Path, units: list[str] | None = None) -> Metros:
    """Read and check a metro table; `units`, when given, must each have exactly one row."""
    path = Path(path)
    shown = str(path)
    df = read_table(path, "metro table")
    df = conform(df, shown, ("unit", "centre_name", "centre_lat", "centre_lon", "radius_km", "definition",
                             "definition_source"), METRO_COLUMNS)
    problems: list[Problem] = []
    numbers = {}
    for col in _NUMBERS:
        numbers[col] = pd.to_numeric(df[col].replace("", None), errors="coerce")
        for i, raw in enumerate(df[col]):
            if raw != "" and pd.isna(numbers[col].iat[i]):
                problems.append(Problem(shown, f"'{raw}' is not a number", row=i + 2, column=col))
    for i, r in df.iterrows():
        row = int(i) + 2
        for col in ("centre_lat", "centre_lon", "radius_km"):
            if r[col] == "":
                problems.append(Problem(shown, "required", row=row, column=col))
        lat, lon, rad = numbers["centre_lat"].iat[i], numbers["centre_lon"].iat[i], numbers["radius_km"].iat[i]
        if pd.notna(lat) and not -90 <= lat <= 90:
            problems.append(Problem(shown, f"{lat} is not a latitude", row=row, column="centre_lat"))
        if pd.notna(lon) and not -180 <= lon <= 180:
            problems.append(Problem(shown, f"{lon} is not a longitude", row=row, column="centre_lon"))
        if pd.notna(rad) and not 0 < rad <= 500:
            problems.append(Problem(shown, f"radius {rad} km is not in (0, 500]", row=row, column="radius_km"))
        if r["country"] != "" and not re.fullmatch(r"[A-Z]{2}", r["country"]):
            problems.append(Problem(shown, f"'{r['country']}' is not a two-letter ISO country code (such as KR)",
                                    row=row, column="country"))
        if r["population"] != "" and not r["population_source"]:
            problems.append(Problem(shown, "a population needs its source", row=row, column="population_source"))
        if not r["unit"].strip():
            problems.append(Problem(shown, "required", row=row, column="unit"))
        pop, year = numbers["population"].iat[i], numbers["population_year"].iat[i]
        if pd.notna(pop) and not (0 < pop < 1e10):  # 1e400 reads as inf
            problems.append(Problem(shown, f"population {r['population']} is not a number of people (above 0)", row=row, column="population"))
        if pd.notna(year) and not (1800 <= year <= 2100 and float(year).is_integer()):
            problems.append(Problem(shown, f"population_year {r['population_year']} is not a year", row=row, column="population_year"))
    dup = df["unit"][df["unit"].duplicated()]
    for i, u in dup.items():
        problems.append(Problem(shown, f"unit '{u}' has more than one row", row=int(i) + 2, column="unit"))
    if units is not None:
        for u in units:
            if u not in set(df["unit"]):
                problems.append(Problem(shown, f"unit '{u}' has no metro definition", column="unit"))
        for i, u in df["unit"].items():
            if u not in set(units):
                problems.append(Problem(shown, f"unknown unit '{u}'", row=int(i) + 2, column="unit"))
    if problems:
        raise InputError(problems)
    for col, series in numbers.items():
        df[col] = series.astype(float)
    return Metros(shown, df.reset_index(drop=True))
