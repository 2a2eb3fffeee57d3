"""Indicators computed from record-level data (`aicity derive`).

    from aicity.derive import derive_recipes, write_derived
    result = derive_recipes(["recipe.yaml"], records="records/")
    write_derived(result, "out/derived")

A recipe (`recipe.py`) names record files, filters, how a record is placed in an index unit
(crosswalks in `match.py`, metro circles in `metros.py`) and what is counted; `engine.py`
counts in DuckDB. See docs/derive.md.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import pandas as pd

from aicity.csvtext import read_csv_text
from aicity.derive.engine import (
    COVERAGE_COLUMNS,
    DISTINCT_COLUMNS,
    INDICATOR_COLUMNS,
    UNPLACED_COLUMNS,
    VALUE_COLUMNS,
    Context,
    Derived,
    Progress,
    derive,
)
from aicity.derive.metros import Metros, read_metros
from aicity.derive.recipe import Recipe, load_recipe
from aicity.derive.tables import conform, read_table
from aicity.errors import InputError, Problem

__all__ = [
    "Derived", "Recipe", "Metros", "bundled_recipes", "load_recipe", "read_metros", "derive_recipes",
    "write_derived", "bundled_metros_path", "derive_dir",
]


def derive_dir() -> Path:
    return Path(str(resources.files("aicity") / "data" / "derive"))


def bundled_recipes() -> list[Path]:
    return sorted((derive_dir() / "recipes").glob("*.yaml"))


def bundled_metros_path() -> Path:
    return derive_dir() / "metros.csv"


@functools.cache
def _bundled_distinct() -> pd.DataFrame:
    path = bundled_derived_dir() / "distinct_values.csv"
    if not path.is_file():
        return pd.DataFrame(columns=DISTINCT_COLUMNS)
    return read_csv_text(path)


def counted_values(indicator: str, unit: str, year: object, value: object) -> list[str]:
    """The names a bundled `count: distinct` indicator counted for a unit in a year (its
    distinct_values.csv), only where they are as many as the value shown: a value from other
    data, or another year, gets no list that would contradict it."""
    d = _bundled_distinct()
    try:
        y, n = str(int(float(year))), float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return []
    names = d.loc[(d["indicator"] == indicator) & (d["unit"] == unit) & (d["year"] == y), "value"].tolist()
    return sorted(names, key=str.casefold) if names and len(names) == n else []


def bundled_derived_dir() -> Path:
    return Path(str(resources.files("aicity") / "data" / "derived"))


def _unit_names() -> dict[str, str]:
    from aicity.bundled import units_path

    units = pd.read_csv(units_path(), dtype=str, keep_default_na=False)
    return dict(zip(units["code"], units["name_en"], strict=True))


def make_context(records_dir: Path, recipe_dir: Path, metros_path: Path | None = None,
                 gazetteer_path: Path | None = None, countries_path: Path | None = None) -> Context:
    """Resolve a recipe against the bundled gazetteer, countries and crosswalks, and a metro
    table (the bundled one unless given). Units are the metro table's; names from the bundled
    unit list where it has them, else the metro table's `name` column, else the code."""
    names = _unit_names()
    metros = read_metros(metros_path or bundled_metros_path())
    if "name" in metros.table.columns:
        for u, n in zip(metros.table["unit"], metros.table["name"], strict=True):
            if n:
                names[u] = n
    unit_names = {u: names.get(u, u) for u in metros.units}
    shown = str(countries_path or derive_dir() / "countries.csv")
    countries = conform(read_table(Path(shown), "country list"), shown, ("code", "alias"), ("code", "alias"))
    problems = [Problem(shown, f"'{c}' is not a two-letter ISO country code (such as KR)", row=i + 2, column="code")
                for i, c in enumerate(countries["code"]) if not re.fullmatch(r"[A-Za-z]{2}", c.strip())]
    problems += [Problem(shown, "empty alias", row=i + 2, column="alias") for i, a in enumerate(countries["alias"]) if not a.strip()]
    owner: dict[str, tuple[str, int]] = {}
    for i, (c, a) in enumerate(zip(countries["code"].str.strip().str.upper(), countries["alias"], strict=True)):
        name = a.strip().casefold()
        if name in owner and owner[name][0] != c:  # the name would place records in one of them, unsaid
            problems.append(Problem(shown, f"alias '{a.strip()}' already names {owner[name][0]} (row {owner[name][1]})",
                                    row=i + 2, column="alias"))
        owner.setdefault(name, (c, i + 2))
    if problems:
        raise InputError(problems)
    known = set(countries["code"].str.strip().str.upper())
    unknown = [Problem(metros.path, f"country '{c}' is not in the country list ({countries_path or 'the bundled countries.csv'}): "
                                    f"a unit of an unknown country would hold no point placed by name", row=i + 2, column="country")
               for i, c in enumerate(metros.table["country"]) if c and c not in known]
    if unknown:
        raise InputError(unknown)
    return Context(unit_names, metros, gazetteer_path or derive_dir() / "places.csv", countries,
                   derive_dir() / "crosswalks", records_dir, recipe_dir)


def derive_recipes(recipes: Sequence[str | Path], records: str | Path | None = None, metros: str | Path | None = None,
                   dask: str | None = None, progress: Progress | None = None,
                   gazetteer: str | Path | None = None, countries: str | Path | None = None) -> Derived:
    """Run every recipe; one set of outputs for all of them. Any error stops everything."""
    if not recipes:
        raise InputError([Problem("command line", "no recipe given (a RECIPE.yaml, or --bundled)")])
    loaded: list[tuple[Path, Recipe]] = []
    problems: list[Problem] = []
    for r in recipes:
        try:
            loaded.append((Path(r), load_recipe(r)))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    if records is not None:
        rec = Path(records)
        if not rec.is_dir():
            raise InputError([Problem(str(rec), "--records must be a directory" if rec.exists() else "records directory not found")])
    codes: dict[str, str] = {}
    parts: list[Derived] = []
    for path, recipe in loaded:
        metros_path = Path(metros) if metros is not None else None
        for ind in recipe.indicators:
            if ind.code in codes:
                raise InputError([Problem(str(path), f"indicator '{ind.code}' is also derived by {codes[ind.code]}")])
            codes[ind.code] = str(path)
        base = Path(records) if records is not None else path.parent
        if recipe.metros:
            m = Path(recipe.metros)
            metros_path = m if m.is_absolute() else path.parent / m
        ctx = make_context(base, path.parent, metros_path, Path(gazetteer) if gazetteer else None,
                           Path(countries) if countries else None)
        parts.append(derive(recipe, ctx, str(path), dask=dask, progress=progress))
    return Derived(
        pd.concat([p.values for p in parts], ignore_index=True),
        pd.concat([p.coverage for p in parts], ignore_index=True),
        pd.concat([p.unplaced for p in parts], ignore_index=True),
        [w for p in parts for w in p.warnings],
        pd.concat([p.indicators for p in parts], ignore_index=True),
        pd.concat([p.distinct for p in parts], ignore_index=True),
    )


OUTPUT_FILES = ("values.csv", "coverage.csv", "unplaced.csv", "indicators.csv", "distinct_values.csv")


def write_derived(result: Derived, out: str | Path, unplaced_top: int = 200) -> list[Path]:
    """Write values.csv, coverage.csv, unplaced.csv, indicators.csv and distinct_values.csv
    (what each `count: distinct` indicator counted, value by value) into `out`, all or
    nothing: the files are written into a new directory beside it, which then takes its place.
    `out` must be new, empty, or a previous output (nothing else in it is ever deleted).
    unplaced.csv keeps the `unplaced_top` most frequent records that were not placed anywhere,
    then as many placed outside every unit, per indicator (0: all)."""
    out = Path(out)
    shown = str(out)
    if out.exists() and not out.is_dir():
        raise InputError([Problem(shown, "--out exists and is not a directory")])
    if out.is_dir():
        others = sorted(p.name for p in out.iterdir() if p.name not in OUTPUT_FILES)
        if others:
            listed = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
            raise InputError([Problem(shown, f"--out holds other files ({listed}); give a new or empty directory, "
                                             "or one that holds only a previous derive output")])
    unplaced = result.unplaced
    if unplaced_top > 0:
        outside = unplaced["reason"] == "outside every unit"
        unplaced = unplaced.groupby([unplaced["indicator"], outside], sort=False, group_keys=False).head(unplaced_top)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        raise InputError([Problem(shown, f"cannot write the output here: {exc.strerror or exc}")]) from None
    try:
        result.values[VALUE_COLUMNS].to_csv(tmp / "values.csv", index=False, lineterminator="\n")
        result.coverage[COVERAGE_COLUMNS].to_csv(tmp / "coverage.csv", index=False, lineterminator="\n")
        unplaced[UNPLACED_COLUMNS].to_csv(tmp / "unplaced.csv", index=False, lineterminator="\n")
        result.indicators[INDICATOR_COLUMNS].to_csv(tmp / "indicators.csv", index=False, lineterminator="\n")
        result.distinct[DISTINCT_COLUMNS].to_csv(tmp / "distinct_values.csv", index=False, lineterminator="\n")
        os.chmod(tmp, 0o755)
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.rmdir(old)
            os.replace(out, old)
        try:
            os.replace(tmp, out)
        except OSError:
            if old is not None:
                os.replace(old, out)  # put the previous output back
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise InputError([Problem(shown, f"cannot write the output here: {exc.strerror or exc}")]) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / name for name in OUTPUT_FILES]
