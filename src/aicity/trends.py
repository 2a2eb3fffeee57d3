"""Trends: an index per year from several years of data, normalised across years.

Every unit-year is one row of a single build, so min-max bounds (or z-score moments) are
taken over all years together: a score of 60 means the same in 2021 and in 2024 (COINr's
panel "global" normalisation). Ranks are then taken within each year. Years a unit lacks a
value for can be carried from other years by a named method, and every carried value is
flagged.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from aicity.build import resolve_spec, run_pipeline
from aicity.data import Dataset, find_unit
from aicity.errors import InputError, Problem, UnitNotFound
from aicity.framework import Framework
from aicity.inputs import resolve_inputs
from aicity.pipeline.rank import at_precision, rank_desc

CARRY_METHODS = ("none", "latest", "linear")
SEP = "@"


def panel_values(dataset: Dataset, codes: list[str], years: list[int], carry: str = "latest") -> tuple[np.ndarray, np.ndarray]:
    """(years, units, indicators) values and a mask of carried ones.

    `latest`: a missing year takes the most recent earlier value (never a later one);
    `linear`: interpolated between the nearest earlier and later years, else the latest
    earlier value; `none`: missing stays missing.
    """
    if carry not in CARRY_METHODS:
        raise InputError([Problem("trends", f"unknown carry method '{carry}'; choose from {', '.join(CARRY_METHODS)}")])
    obs = dataset.observations
    if "year" not in obs.columns or obs["year"].isna().all():
        raise InputError([Problem(dataset.source, "trends need a 'year' column (long data)")])
    units = dataset.unit_codes
    upos = {u: i for i, u in enumerate(units)}
    cpos = {c: j for j, c in enumerate(codes)}
    all_years = sorted(int(y) for y in obs["year"].dropna().unique())
    grid_years = sorted(set(all_years) | set(years))
    ypos = {y: k for k, y in enumerate(grid_years)}
    full = np.full((len(grid_years), len(units), len(codes)), np.nan)
    rows = obs[obs.indicator.isin(cpos) & obs["value"].notna() & obs["year"].notna()]
    full[
        rows["year"].astype(int).map(ypos).to_numpy(),
        rows["unit"].map(upos).to_numpy(),
        rows["indicator"].map(cpos).to_numpy(),
    ] = rows["value"].to_numpy(dtype=float)
    measured = ~np.isnan(full)
    filled = full.copy()
    if carry != "none":
        grid = np.array(grid_years, dtype=float)
        for i in range(len(units)):
            for j in range(len(codes)):
                known = np.flatnonzero(measured[:, i, j])
                if known.size == 0:
                    continue
                for k in np.flatnonzero(~measured[:, i, j]):
                    before, after = known[known < k], known[known > k]
                    if before.size == 0:
                        continue  # never carried backwards: a value from the future is not known then
                    b = before[-1]
                    if carry == "linear" and after.size:
                        a = after[0]
                        t = (grid[k] - grid[b]) / (grid[a] - grid[b])
                        filled[k, i, j] = full[b, i, j] + t * (full[a, i, j] - full[b, i, j])
                    else:
                        filled[k, i, j] = full[b, i, j]
    pick = [ypos[y] for y in years]
    return filled[pick], (~measured & ~np.isnan(filled))[pick]


# A trend needs an indicator measured at least twice; it is "thin" (and said to be) below
# THIN_EDITIONS editions or THIN_UNITS units in an edition.
MIN_EDITIONS = 2
THIN_EDITIONS = 3
THIN_UNITS = 30


def trend_support(dataset: Dataset, codes: list[str], min_editions: int = MIN_EDITIONS, min_units: int = THIN_UNITS) -> pd.DataFrame:
    """Per indicator: its editions (years with a value for at least `min_units` units, or for
    every unit of a smaller panel), whether it has enough of them for a trend, and whether
    that trend is thin (fewer than THIN_EDITIONS editions or THIN_UNITS units)."""
    obs = dataset.observations
    need = min(min_units, len(dataset.unit_codes))
    rows = obs[obs["indicator"].isin(codes) & obs["value"].notna() & obs["year"].notna()]
    counts = rows.groupby(["indicator", "year"])["unit"].nunique()
    out = []
    for code in codes:
        per_year = counts.get(code, pd.Series(dtype=int))
        editions = sorted(int(y) for y, n in per_year.items() if n >= need)
        fewest = int(per_year[per_year >= need].min()) if editions else 0
        out.append({"indicator": code, "editions": editions, "n_editions": len(editions), "min_units": fewest,
                    "enough": len(editions) >= min_editions,
                    # thin: too few editions, or an edition with fewer than THIN_UNITS units
                    "thin": len(editions) < THIN_EDITIONS or fewest < THIN_UNITS})
    return pd.DataFrame(out).set_index("indicator")


@dataclass
class TrendResult:
    framework: Framework
    years: list[int]
    units: list[str]
    unit_names: dict[str, str]
    scores: np.ndarray  # (years, units, codes)
    ranks: np.ndarray  # ranks within each year
    carried: np.ndarray  # (years, units, indicators)
    carry: str
    dataset: Dataset | None = None  # the panel: finds units by code or name
    support: pd.DataFrame | None = None  # trend_support of every indicator of the full framework
    left_out: list[str] = field(default_factory=list)  # indicators with too few editions for a trend

    def thin_years(self) -> list[tuple[int, int]]:
        """(year, units with a value measured that year) for the years where fewer than
        THIN_UNITS units (or fewer than all of a smaller panel) have one."""
        n_ind = len(self.framework.indicators)
        measured = (~np.isnan(self.scores[:, :, :n_ind]) & ~self.carried).any(axis=2).sum(axis=1)
        need = min(THIN_UNITS, len(self.units))
        return [(y, int(n)) for y, n in zip(self.years, measured, strict=True) if n < need]

    def caveats(self) -> list[str]:
        """What the trend rests on, where that is less than the whole framework or thin data:
        the sentences the CLI and the report print instead of drawing thin trajectories
        without a word."""
        out = []
        kept = list(self.framework.indicators)
        if self.left_out:
            out.append(f"Trends use the {len(kept)} indicators measured in at least {MIN_EDITIONS} editions "
                       f"({', '.join(kept)}); the other {len(self.left_out)} have fewer editions and are left out, so "
                       f"this is a trend of those {len(kept)} measures, not of the whole index.")
        thin_years = self.thin_years()
        if thin_years:
            listed = ", ".join(f"{y} ({n})" for y, n in thin_years)
            out.append(f"Thin years: {listed} have fewer than {min(THIN_UNITS, len(self.units))} units with a value "
                       "measured that year (the rest are carried from earlier years); read those years as indications only.")
        if self.support is not None:
            thin = [c for c in kept if bool(self.support.at[c, "thin"])]
            if thin:
                out.append(f"Thin data: {', '.join(thin)} have fewer than {THIN_EDITIONS} editions or fewer than "
                           f"{THIN_UNITS} units in an edition; read their trajectories as indications only.")
        return out

    def unit(self, query: str) -> str:
        """A unit of the panel by code or name (en/ko/ja); `UnitNotFound` otherwise."""
        if self.dataset is not None:
            return find_unit(self.dataset, query)
        q = query.strip().casefold()
        for u in self.units:
            if u.casefold() == q or self.unit_names.get(u, "").casefold() == q:
                return u
        raise UnitNotFound([Problem("trends", f"no unit '{query}' (by code or by name)")])

    @property
    def codes(self) -> list[str]:
        return self.framework.codes

    def trajectories(self, code: str | None = None, what: str = "rank") -> pd.DataFrame:
        """Units x years: the rank (or score) of `code` (default the index) each year."""
        j = self.codes.index(code or self.framework.index_code)
        data = self.ranks if what == "rank" else self.scores
        return pd.DataFrame(data[:, :, j].T, index=pd.Index(self.units, name="unit"), columns=self.years)

    def momentum(self) -> pd.DataFrame:
        """Per unit and pillar: the least-squares slope of its normalised score per year
        (points a year); `mean` averages the pillars. Needs at least two years with scores."""
        fw = self.framework
        t = np.array(self.years, dtype=float)
        out = {}
        for code in fw.pillars():
            y = self.scores[:, :, self.codes.index(code)]  # (years, units)
            out[code] = [_slope(t, y[:, i]) for i in range(len(self.units))]
        frame = pd.DataFrame(out, index=pd.Index(self.units, name="unit"))
        frame["mean"] = frame.mean(axis=1)
        return frame

    def stability(self) -> pd.DataFrame:
        """Per unit: volatility of the index (standard deviation of its year-on-year score and
        rank changes; lower is steadier) and its change between its first and last scored
        years."""
        j = self.codes.index(self.framework.index_code)
        s, r = self.scores[:, :, j], self.ranks[:, :, j]
        rows = []
        for i in range(len(self.units)):
            ok = np.flatnonzero(~np.isnan(s[:, i]))
            ds, dr = np.diff(s[ok, i]), np.diff(r[ok, i])
            first, last = (ok[0], ok[-1]) if ok.size else (None, None)
            rows.append({
                "score_volatility": float(np.std(ds, ddof=1)) if ds.size > 1 else np.nan,
                "rank_volatility": float(np.std(dr, ddof=1)) if dr.size > 1 else np.nan,
                "first_year": self.years[first] if first is not None else np.nan,
                "last_year": self.years[last] if last is not None else np.nan,
                "score_change": s[last, i] - s[first, i] if ok.size else np.nan,
                "rank_change": r[first, i] - r[last, i] if ok.size else np.nan,
            })
        return pd.DataFrame(rows, index=pd.Index(self.units, name="unit"))

    def to_frame(self) -> pd.DataFrame:
        """Tidy: year, unit, code, level, score, rank, n_carried (carried values underneath)."""
        fw = self.framework
        pos = {c: i for i, c in enumerate(fw.indicators)}
        n_carried = np.stack(
            [self.carried[:, :, [pos[leaf] for leaf in fw.leaves_under(c)]].sum(axis=2) for c in self.codes], axis=2
        )
        y, u, c = self.scores.shape
        return pd.DataFrame(
            {
                "year": np.repeat(self.years, u * c),
                "unit": np.tile(np.repeat(np.array(self.units, dtype=object), c), y),
                "code": np.tile(np.array(self.codes, dtype=object), y * u),
                "level": np.tile([fw.levels[k] for k in self.codes], y * u),
                "score": self.scores.reshape(-1),
                "rank": self.ranks.reshape(-1),
                "n_carried": n_carried.reshape(-1),
            }
        )


def _slope(t: np.ndarray, y: np.ndarray) -> float:
    ok = ~np.isnan(y)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(t[ok], y[ok], 1)[0])


def build_trends(
    framework: str | Path | dict | Framework | None = None,
    data: str | Path | Dataset | None = None,
    pipeline: str | Path | dict | None = None,
    *,
    units: str | Path | None = None,
    years: list[int] | None = None,
    carry: str = "latest",
) -> TrendResult:
    """An index per year, normalised across years. Default data: the bundled panel."""
    from aicity.bundled import panel_path

    if framework is None and data is not None and units is None:
        from aicity.bundled import units_path

        units = units_path()  # the bundled index's cities: a panel row for 'Seoul' or 'sel' is an error, not a 55th unit
    fw, ds = resolve_inputs(framework, data, units, bundled_data=panel_path() if framework is None else None)
    if "year" not in ds.observations or ds.observations["year"].isna().all():
        raise InputError([Problem(ds.source, "trends need a 'year' column (long data)")])
    rows = ds.long_rows
    if rows is not None and rows["year"].isna().any():  # such a row would drop out of every year unsaid
        raise InputError([Problem(ds.source, "trends need a year on every row", int(r), "year")
                          for r in rows.loc[rows["year"].isna(), "row"].head(20)])
    support = trend_support(ds, fw.indicators)
    left_out = [c for c in fw.indicators if not support.at[c, "enough"]]
    if len(left_out) == len(fw.indicators):
        best = int(support["n_editions"].max()) if len(support) else 0
        raise InputError([Problem(ds.source, f"no indicator has {MIN_EDITIONS} editions with at least "
                                             f"{min(THIN_UNITS, len(ds.unit_codes))} units each (the most: {best}): "
                                             "too little data for a trend")])
    if left_out:
        fw = fw.restricted([c for c in fw.indicators if c not in left_out])
    obs = ds.observations
    kept = obs[obs["indicator"].isin(fw.indicators) & obs["value"].notna() & obs["year"].notna()]
    # the years from which every kept indicator has been measured (values are carried
    # forward, never backwards); a year with few units measured is shown and called thin
    first = int(kept.groupby("indicator")["year"].min().max())
    all_years = sorted(int(y) for y in kept["year"].unique() if y >= first)
    early = [y for y in years or [] if y < first]
    if early:
        raise InputError([Problem(ds.source, f"years {early} come before {first}, the first year every indicator of the "
                                             "trend has been measured in (values are never carried backwards)")])
    years = sorted(years or all_years)
    if not years:
        raise InputError([Problem(ds.source, "no years in the data")])
    values, carried = panel_values(ds, fw.indicators, years, carry)
    n_years, n_units, _ = values.shape
    stacked = copy.copy(ds)
    keys = [f"{u}{SEP}{y}" for y in years for u in ds.unit_codes]
    stacked.values = pd.DataFrame(values.reshape(n_years * n_units, -1), index=pd.Index(keys, name="unit"), columns=fw.indicators)
    meta = ds.units.reindex(ds.unit_codes)
    stacked.units = pd.DataFrame(np.tile(meta.to_numpy(dtype=object), (n_years, 1)), index=stacked.values.index, columns=meta.columns)
    stacked.long_rows = None
    steps = resolve_spec(fw, pipeline)
    result = run_pipeline(fw, stacked, steps)
    scores = np.full((n_years, n_units, len(fw.codes)), np.nan)
    row_of = {k: i for i, k in enumerate(result.units)}
    for yi, year in enumerate(years):
        for ui, unit in enumerate(ds.unit_codes):
            r = row_of.get(f"{unit}{SEP}{year}")
            if r is not None:
                scores[yi, ui] = result.scores_array[r]
    ranks = rank_desc(at_precision(scores, result.rank_digits))  # at the precision the spec ranks at
    return TrendResult(
        framework=fw,
        years=years,
        units=ds.unit_codes,
        unit_names={u: ds.unit_name(u) for u in ds.unit_codes},
        scores=scores,
        ranks=ranks,
        carried=carried,
        carry=carry,
        dataset=ds,
        support=support,
        left_out=left_out,
    )
