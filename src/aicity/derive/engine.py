"""Counting records by index unit, in DuckDB, streaming over the record files.

Two passes, each a DuckDB query per partition of the records (a partition is the whole record
set locally, or a file / a block of Parquet row groups as one Dask task):

1. group the filtered, exploded records by their place keys (text, e-mail domain, country, or
   coordinates) and year: item counts, fractional weights and sums. Only these distinct keys
   are matched against the crosswalks (in Python, once each), never the records.
2. only when a record can hold several places, or values are counted distinct: join the
   records to the resolved keys and count distinct records (or values) per unit and year.

Weights and sums are DECIMAL(38, 18) / DECIMAL(38, 9), whose sums are exact, so any
partitioning (one process or a Dask cluster) gives identical results.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import glob
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from aicity.csvtext import read_csv_text
from aicity.derive.match import (
    Crosswalk,
    Gazetteer,
    Matcher,
    check_crosswalk,
    normalize,
    read_crosswalk,
)
from aicity.derive.metros import Metros
from aicity.derive.recipe import (
    TEMPLATE_FIELDS,
    Indicator,
    Place,
    Recipe,
    Records,
    RecordsCrosswalk,
    Source,
)
from aicity.errors import InputError, Problem
from aicity.messages import LICENCE_LABELS

Progress = Callable[[str], None]

VALUE_COLUMNS = ["unit", "indicator", "value", "year", "geo", "geo_name", "unit_of_measure", "publisher",
                 "source", "url", "quote", "note"]
COVERAGE_COLUMNS = ["indicator", "records", "placed", "unplaced", "placed_share", "in_units", "in_units_share",
                    "hq_share", "counted_in", "missing_values", "selection"]
UNPLACED_COLUMNS = ["indicator", "place", "domain", "country", "reason", "items", "weight"]
# what a `count: distinct` indicator counted: one row per unit, year and value, with the names
# that were counted as that value (same_as)
DISTINCT_COLUMNS = ["indicator", "unit", "year", "value", "same_as_names"]
_LISTING_COLUMNS = ["unit", "__y", "__all", "value", "same_as_names"]  # the same, by grouping set
INDICATOR_COLUMNS = ["indicator", "name_en", "name_ko", "name_ja", "unit_of_measure", "count", "field", "per_year",
                     "per_capita", "year", "recipe", "description"]
_EXT = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}
_W = "DECIMAL(38, 18)"
_V = "DECIMAL(38, 9)"


@dataclass(frozen=True)
class Context:
    """What a recipe is resolved against: units (code -> name), metro circles, gazetteer,
    countries, bundled crosswalks by name, and where relative paths start."""

    unit_names: dict[str, str]
    metros: Metros
    gazetteer_path: Path
    countries: pd.DataFrame
    crosswalk_dir: Path | None
    records_dir: Path
    recipe_dir: Path

    @functools.cached_property
    def gazetteer(self) -> Crosswalk:
        """Read on first use: a recipe placing by coordinates never needs it."""
        return read_crosswalk(self.gazetteer_path, self.unit_names, name="places")


@dataclass
class Derived:
    values: pd.DataFrame
    coverage: pd.DataFrame
    unplaced: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    indicators: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=INDICATOR_COLUMNS))
    # what each `count: distinct` indicator counted, value by value (DISTINCT_COLUMNS)
    distinct: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DISTINCT_COLUMNS))


# --- reading the records ---------------------------------------------------------------------

def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# What "without surrounding spaces" strips, on both sides of a comparison: a listed value
# (Python) and a record's value (DuckDB, whose trim() alone strips spaces only)
BLANKS = " \t\n\r"


def _trim(expr: str) -> str:
    return f"trim({expr}, ' ' || chr(9) || chr(10) || chr(13))"


def _ident(name: str) -> str:
    """A quoted column; a dotted name reaches into nested records (`owner.name`)."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def resolve_files(spec: Records, base: Path, shown: str) -> list[Path]:
    files: list[Path] = []
    problems = []
    for pattern in spec.files:
        path = Path(pattern)
        full = path if path.is_absolute() else base / path
        hits = sorted(Path(p) for p in glob.glob(str(full), recursive=True))
        hits = [h for h in hits if h.is_file()]
        if not hits:
            problems.append(Problem(shown, f"records.files: '{pattern}' matches no file under {base}"))
        files.extend(hits)
    if problems:
        raise InputError(problems)
    return files


def _format_of(spec: Records, files: Sequence[Path], shown: str) -> str:
    if spec.format:
        return spec.format
    kinds = {_EXT.get(f.suffix.lower()) for f in files}
    if None in kinds or len(kinds) != 1:
        names = ", ".join(sorted({f.suffix or f.name for f in files}))
        raise InputError([Problem(shown, f"records.format: cannot tell the format of {names}; set format: csv, json or parquet")])
    return kinds.pop()  # type: ignore[return-value]


def _constants_sql(constants: Sequence[tuple[str, str]], source: str) -> str:
    """`source` with a column per constant (the same text on every record), or as it is."""
    if not constants:
        return source
    cols = ", ".join(f"{_q(v)} AS {_ident(k)}" for k, v in constants)
    return f"(SELECT *, {cols} FROM {source})"


def _constants(spec: Records) -> tuple[tuple[str, str], ...]:
    return tuple((k, _literal(v)) for k, v in spec.constants.items())


def reader_sql(spec: Records, files: Sequence[Path], fmt: str) -> str:
    return _constants_sql(_constants(spec), _reader_sql(spec, files, fmt))


def _reader_sql(spec: Records, files: Sequence[Path], fmt: str) -> str:
    lst = "[" + ", ".join(_q(str(f)) for f in files) + "]"
    if fmt == "parquet":
        return f"read_parquet({lst}, union_by_name = true)"
    if fmt == "json":
        return f"read_json({lst}, format = 'array', union_by_name = true)"
    opts = ["union_by_name = true", f"header = {str(spec.header).lower()}"]
    if spec.delimiter:
        opts.append(f"delim = {_q(spec.delimiter)}")
    if spec.skip:
        opts.append(f"skip = {int(spec.skip)}")
    if spec.comment:
        opts.append(f"comment = {_q(spec.comment)}")
    if spec.columns:
        opts.append("names = [" + ", ".join(_q(c) for c in spec.columns) + "]")
    return f"read_csv({lst}, {', '.join(opts)})"


@dataclass(frozen=True)
class Part:
    """One partition: a reader over some files, or some row groups of one Parquet file."""

    sql: str
    label: str
    parquet: str | None = None
    row_groups: tuple[int, ...] | None = None
    columns: tuple[str, ...] = ()
    constants: tuple[tuple[str, str], ...] = ()  # (field, value) added to every record


def plan(recipe: Recipe, base: Path, shown: str, split_files: bool = False, rows_per_part: int = 2_000_000) -> list[Part]:
    """Partitions of the records: all of them at once, or (for Dask) per file and per block of
    Parquet row groups of about `rows_per_part` rows."""
    parts: list[Part] = []
    for spec in recipe.records:
        files = resolve_files(spec, base, shown)
        fmt = _format_of(spec, files, shown)
        if fmt == "csv" and spec.header and not spec.columns:
            for f in files:
                _check_csv_header(f, spec, shown)
        if not split_files:
            parts.append(Part(reader_sql(spec, files, fmt), ", ".join(f.name for f in files), constants=_constants(spec)))
            continue
        for f in files:
            if fmt != "parquet":
                parts.append(Part(reader_sql(spec, [f], fmt), f.name, constants=_constants(spec)))
                continue
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(f).metadata
            block: list[int] = []
            rows = 0
            for g in range(meta.num_row_groups):
                block.append(g)
                rows += meta.row_group(g).num_rows
                if rows >= rows_per_part:
                    parts.append(Part("__arrow", f"{f.name} row groups {block[0]}-{block[-1]}", str(f), tuple(block),
                                      constants=_constants(spec)))
                    block, rows = [], 0
            if block or meta.num_row_groups == 0:
                parts.append(Part("__arrow", f"{f.name} row groups {block[0] if block else 0}-{block[-1] if block else 0}",
                                  str(f), tuple(block), constants=_constants(spec)))
    return parts


def _check_csv_header(path: Path, spec: Records, shown: str) -> None:
    """A records CSV whose header names a column twice is an error: DuckDB would read the
    second as `city_1` and a recipe's `city` would mean the first, unsaid."""
    import csv

    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for _ in range(int(spec.skip or 0)):
                fh.readline()
            lines = (line for line in fh if not (spec.comment and line.startswith(spec.comment)) and line.strip())
            header = next(csv.reader(lines, delimiter=spec.delimiter or ","), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return  # the reader says what is wrong with the file
    twice = sorted({h.strip() for h in header if [x.strip() for x in header].count(h.strip()) > 1})
    if twice:
        raise InputError([Problem(shown, f"records file {path.name}: the header names {', '.join(repr(t) for t in twice)} "
                                         "more than once", row=1)])


def _connect(part: Part, columns: Sequence[str]) -> tuple[duckdb.DuckDBPyConnection, str]:
    con = duckdb.connect()
    if part.parquet is None:
        return con, part.sql
    import pyarrow.parquet as pq

    own = {k for k, _ in part.constants}
    table = pq.ParquetFile(part.parquet).read_row_groups(list(part.row_groups or ()),
                                                         columns=[c for c in columns if c not in own])
    con.register("__part", table)
    return con, _constants_sql(part.constants, "__part")


def _duck_error(exc: Exception, shown: str, part: Part) -> InputError:
    """DuckDB's reason, without the SQL it ran or reader options a recipe cannot set."""
    keep = []
    for line in str(exc).strip().splitlines():
        line = line.strip()
        if not line:
            continue
        if line.lower().startswith(("possible solution", "* ", "file:", "parser options", "the csv", "sniffing")) \
                or "read_csv" in line or "read_json" in line or "read_parquet" in line or "__part" in line:
            break
        keep.append(line)
        if len(keep) == 3:
            break
    text = " ".join(keep) or str(exc).splitlines()[0]
    return InputError([Problem(shown, f"records '{part.label}' could not be read: {text}")])


# --- the queries -----------------------------------------------------------------------------

def _equals_sql(col: str, v: Any) -> str:
    """Equality as text ("Artificial intelligence", true), and for a number also as a number,
    so that `equals: 2020` matches a column that holds 2020, 2020.0 or "2020"."""
    text = f"CAST({col} AS VARCHAR) = {_q(_literal(v))}"
    if isinstance(v, bool) or not isinstance(v, int | float):
        return text
    return f"({text} OR TRY_CAST(TRIM(CAST({col} AS VARCHAR)) AS DOUBLE) = {float(v)!r})"


def _filter_sql(recipe: Recipe) -> str:
    conds = []
    for f in recipe.filters:
        col = _ident(f.field)
        if f.in_file is not None:
            if f.in_ is None:
                raise ValueError(f"filter in_file '{f.in_file}' not read: call load_filter_files first")
            cond = f"{_trim(f'CAST({col} AS VARCHAR)')} IN ({', '.join(_q(str(v)) for v in f.in_)})" if f.in_ else "FALSE"
        elif f.equals is not None:
            cond = _equals_sql(col, f.equals)
        elif f.in_ is not None:
            cond = "(" + " OR ".join(_equals_sql(col, v) for v in f.in_) + ")"
        elif f.contains is not None:
            cond = f"contains(lower(CAST({col} AS VARCHAR)), {_q(f.contains.lower())})"
        elif f.range is not None:
            lo, hi = f.range
            num = (f"TRY_CAST(NULLIF(regexp_extract(CAST({col} AS VARCHAR), '[0-9]+([.][0-9]+)?'), '') AS DOUBLE)"
                   if f.leading_number else f"TRY_CAST(TRIM(CAST({col} AS VARCHAR)) AS DOUBLE)")
            bounds = ([f"{num} >= {float(lo)!r}"] if lo is not None else []) + ([f"{num} <= {float(hi)!r}"] if hi is not None else [])
            cond = "(" + " AND ".join(bounds) + ")"
        else:
            cond = f"NULLIF(TRIM(CAST({col} AS VARCHAR)), '') IS NOT NULL"
        conds.append(f"NOT COALESCE({cond}, FALSE)" if f.not_ else f"COALESCE({cond}, FALSE)")
    return " AND ".join(conds) if conds else "TRUE"


def _literal(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _year_field(recipe: Recipe) -> str | None:
    fields = {i.per_year for i in recipe.indicators if i.per_year}
    return fields.pop() if fields else None


def _value_field(recipe: Recipe) -> str | None:
    fields = {i.field for i in recipe.indicators if i.count in ("sum", "mean")}
    return fields.pop() if fields else None


# How a raw field becomes a key, a year or a value: one definition for both passes, since
# pass 2 joins its keys to pass 1's and a difference would silently drop records.

def _as_text(field: str | None, ref: Callable[[str], str] = lambda f: _ident(f)) -> str:
    return f"CAST({ref(field)} AS VARCHAR)" if field else "NULL::VARCHAR"


def _place_text(p: Place, ref: Callable[[str], str] = lambda f: _ident(f)) -> str:
    """The whole place text of a record (before any split): `field`, else `empty_field`."""
    text = f"COALESCE({_as_text(p.field, ref)}, '')"
    if p.empty_field:
        text = f"COALESCE(NULLIF(TRIM({text}), ''), {_as_text(p.empty_field, ref)}, '')"
    return text


def _text_key(expr: str) -> str:
    return f"TRIM({expr})"


def _domain_key(expr: str) -> str:
    return f"NULLIF(TRIM(COALESCE({expr}, '')), '')"


def _number(expr: str, cast: str = "DOUBLE") -> str:
    return f"TRY_CAST(TRIM({expr}) AS {cast})"


def _coordinate(expr: str) -> str:
    """A latitude or longitude, NULL unless a finite number: a NaN (a Parquet float) became
    a null on its way through Arrow and the record fell out of every count, coverage included."""
    value = _number(expr)
    return f"(CASE WHEN isfinite({value}) THEN {value} END)"


def _items_sql(recipe: Recipe, source: str, rid: bool) -> str:
    """Filtered records, one row per placed item: __t text, __u domain, __c country (or __lat,
    __lon, __t label), __y year, __w share, __v value (sum), __d distinct value, __rid."""
    p = recipe.place
    dfield = next((i.field for i in recipe.indicators if i.count == "distinct"), None)
    cols = [f"{_number(_as_text(_year_field(recipe)))} AS __y",
            f"{_number(_as_text(_value_field(recipe)), _V)} AS __v",
            f"{_as_text(dfield)} AS __d", f"{_as_text(p.country_field)} AS __c"]
    if rid:
        cols.append("row_number() OVER () AS __rid")
    keep = f"__y, __v, __d, __c{', __rid' if rid else ''}"
    if p.lat is not None:
        cols += [f"{_coordinate(_as_text(p.lat))} AS __lat", f"{_coordinate(_as_text(p.lon))} AS __lon",
                 f"{_as_text(p.label)} AS __t"]
        return (f"SELECT {keep}, __lat, __lon, __t, NULL::VARCHAR AS __u, CAST(1 AS {_W}) AS __w "
                f"FROM (SELECT {', '.join(cols)} FROM {source} WHERE {_filter_sql(recipe)})")
    cols += [f"{_place_text(p)} AS __text", f"COALESCE({_as_text(p.domain_field)}, '') AS __dom"]
    base = f"SELECT {', '.join(cols)} FROM {source} WHERE {_filter_sql(recipe)}"
    if not p.split:
        return (f"SELECT {keep}, {_text_key('__text')} AS __t, {_domain_key('__dom')} AS __u, "
                f"CAST(1 AS {_W}) AS __w FROM ({base})")
    sep = _q(p.split)
    one = (f"SELECT {keep}, UNNEST(string_split(__text, {sep})) AS __p, UNNEST(string_split(__dom, {sep})) AS __q, "
           f"len(string_split(__text, {sep})) AS __n FROM ({base})")
    if not p.subsplit:
        return (f"SELECT {keep}, {_text_key('__p')} AS __t, {_domain_key('__q')} AS __u, "
                f"CAST(1.0 / __n AS {_W}) AS __w FROM ({one}) WHERE __p IS NOT NULL")
    sub = _q(p.subsplit)
    two = (f"SELECT {keep}, __n, UNNEST(string_split(__p, {sub})) AS __a, "
           f"UNNEST(string_split(COALESCE(__q, ''), {sub})) AS __b, "
           f"len(string_split(__p, {sub})) AS __k FROM ({one}) WHERE __p IS NOT NULL")
    return (f"SELECT {keep}, {_text_key('__a')} AS __t, {_domain_key('__b')} AS __u, "
            f"CAST(1.0 / (__n * __k) AS {_W}) AS __w FROM ({two}) WHERE __a IS NOT NULL")


def _keys(recipe: Recipe) -> str:
    return "__lat, __lon, __t" if recipe.place.lat is not None else "__t, __u, __c"


def needs_second_pass(recipe: Recipe) -> bool:
    return bool(recipe.place.split) or any(i.count == "distinct" for i in recipe.indicators)


def fields_used(recipe: Recipe) -> dict[str, str]:
    """Every record field the recipe reads, with the key that names it."""
    used: dict[str, str] = {}
    for i, f in enumerate(recipe.filters):
        used.setdefault(f.field, f"filters[{i}].field")
    p = recipe.place
    for key in ("field", "domain_field", "empty_field", "country_field", "lat", "lon", "label"):
        v = getattr(p, key)
        if v:
            used.setdefault(v, f"place.{key}")
    for i, ind in enumerate(recipe.indicators):
        if ind.field:
            used.setdefault(ind.field, f"indicators[{i}].field")
        if ind.per_year:
            used.setdefault(ind.per_year, f"indicators[{i}].per_year")
    return used


def check_part(part: Part, recipe: Recipe, shown: str, con: duckdb.DuckDBPyConnection | None = None,
               src: str | None = None) -> dict[str, str]:
    """The part's columns and their types; an unknown field is an error naming its key."""
    own = con is None and part.parquet is None
    if own:
        con, src = _connect(part, [])
    try:
        if part.parquet is not None:
            import pyarrow.parquet as pq

            schema = pq.ParquetFile(part.parquet).schema_arrow
            names = [f.name for f in schema]
            types = {f.name: str(f.type) for f in schema} | {k: "VARCHAR" for k, _ in part.constants}
        else:
            described = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()  # type: ignore[union-attr]
            names = [r[0] for r in described][: len(described) - len(part.constants)]  # the records' own fields
            types = {r[0]: r[1] for r in described}
    except duckdb.Error as exc:
        raise _duck_error(exc, shown, part) from None
    finally:
        if own and con is not None:
            con.close()
    columns = list(types)
    problems = [Problem(shown, f"records.constants: '{k}' is already a field of records '{part.label}'")
                for k, _ in part.constants if k in names]
    for name, key in fields_used(recipe).items():
        if name.split(".")[0] not in types:
            near = difflib.get_close_matches(name, columns, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else f" (fields: {', '.join(columns[:30])})"
            problems.append(Problem(shown, f"{key}: unknown field '{name}' in records '{part.label}'{hint}"))
    if problems:
        raise InputError(problems)
    return types


def _is_number_type(t: str) -> bool:
    """A DuckDB (BIGINT, DOUBLE, DECIMAL(9,2)...) or Arrow (int64, double...) number type."""
    t = t.upper()
    return t in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "FLOAT", "DOUBLE", "HALFFLOAT"} or t.startswith(("DECIMAL", "INT", "UINT"))


def _grouped_single_sql(recipe: Recipe, src: str) -> str:
    """Pass 1 for one place per record: group the raw columns first (as cheap as a bare GROUP
    BY), then turn the few distinct raw values into keys (the same expressions as pass 2's) and
    group again."""
    p = recipe.place
    vfield = _value_field(recipe)
    raw: dict[str, str] = {}  # field -> its column in the inner GROUP BY

    def ref(field: str) -> str:
        if field not in raw:
            raw[field] = f"__r{len(raw)}"
        return raw[field]

    year = f"{_number(_as_text(_year_field(recipe), ref))} AS __y"
    if p.lat is not None:
        keys = (f"{_coordinate(_as_text(p.lat, ref))} AS __lat, {_coordinate(_as_text(p.lon, ref))} AS __lon, "
                f"{_as_text(p.label, ref)} AS __t")
    else:
        keys = (f"{_text_key(_place_text(p, ref))} AS __t, {_domain_key(_as_text(p.domain_field, ref))} AS __u, "
                f"{_as_text(p.country_field, ref)} AS __c")
    sums = "count(*) AS __n"
    if vfield:
        value = _number(_as_text(vfield), _V)
        sums += f", sum({value}) AS __vs, count(*) FILTER (WHERE {value} IS NULL) AS __nm"
    group = ", ".join(f"{_ident(f)} AS {alias}" for f, alias in raw.items())
    inner = f"SELECT {group + ', ' if group else ''}{sums} FROM {src} WHERE {_filter_sql(recipe)}"
    inner += " GROUP BY ALL" if group else ""
    vsum = f"sum(__vs)::{_V}" if vfield else f"NULL::{_V}"
    missing = "sum(__nm)::BIGINT" if vfield else "0::BIGINT"
    return (f"SELECT {keys}, {year}, sum(__n)::BIGINT AS items, "
            f"sum(__n)::{_W} AS weight, {vsum} AS vsum, {missing} AS vmissing FROM ({inner}) GROUP BY ALL")


def _range_problems(con: duckdb.DuckDBPyConnection, src: str, recipe: Recipe, shown: str, part: Part,
                    types: dict[str, str]) -> list[Problem]:
    problems = []
    numeric = [(f.field, f"filters[{i}]", "DOUBLE") for i, f in enumerate(recipe.filters)
               if f.range is not None and not f.leading_number]
    for i, ind in enumerate(recipe.indicators):
        if ind.per_year:
            numeric.append((ind.per_year, f"indicators[{i}].per_year", "DOUBLE"))
        if ind.count in ("sum", "mean") and ind.field:  # summed exactly: must fit the decimal the sum uses
            numeric.append((ind.field, f"indicators[{i}].field", _V))
    if recipe.place.lat is not None:
        numeric += [(recipe.place.lat, "place.lat", "DOUBLE"), (recipe.place.lon, "place.lon", "DOUBLE")]  # type: ignore[list-item]
    for name, key, cast in numeric:
        col = _ident(name)
        if "." not in name and _is_number_type(types.get(name, "")) and cast == "DOUBLE":
            continue  # a number column holds no text: nothing to scan
        bad = con.execute(
            f"SELECT CAST({col} AS VARCHAR), count(*) FROM {src} "
            f"WHERE NULLIF(TRIM(CAST({col} AS VARCHAR)), '') IS NOT NULL "
            f"AND TRY_CAST(TRIM(CAST({col} AS VARCHAR)) AS {cast}) IS NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3"
        ).fetchall()
        if bad:
            shown_vals = ", ".join(f"'{v}' ({n} records)" for v, n in bad)
            need = "a number" if cast == "DOUBLE" else "a number of at most 29 digits before the point (it is summed exactly)"
            problems.append(Problem(shown, f"{key}: field '{name}' in records '{part.label}' holds values that are not {need}: {shown_vals}"))
    return problems


def _nested_problems(con: duckdb.DuckDBPyConnection, src: str, recipe: Recipe, shown: str, part: Part) -> list[Problem]:
    """A dotted field (owner.type) whose inner names do not exist, named by its key."""
    problems = []
    for name, key in fields_used(recipe).items():
        if "." not in name:
            continue
        try:
            con.execute(f"SELECT {_ident(name)} FROM {src} LIMIT 0").fetchall()
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            problems.append(Problem(shown, f"{key}: field '{name}' is not in records '{part.label}' ({first})"))
    return problems


def _misaligned(con: duckdb.DuckDBPyConnection, src: str, recipe: Recipe) -> int:
    """Records whose place list and e-mail-domain list have different lengths (aligned by position)."""
    p = recipe.place
    if not (p.split and p.domain_field):
        return 0
    f, d, sep = _ident(p.field), _ident(p.domain_field), _q(p.split)  # type: ignore[arg-type]
    return int(con.execute(
        f"SELECT count(*) FROM {src} WHERE {_filter_sql(recipe)} AND NULLIF(TRIM(CAST({d} AS VARCHAR)), '') IS NOT NULL "
        f"AND len(string_split(CAST({f} AS VARCHAR), {sep})) <> len(string_split(CAST({d} AS VARCHAR), {sep}))"
    ).fetchall()[0][0])


def _top_columns(recipe: Recipe) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name.split(".")[0] for name in fields_used(recipe)))


def pass_one(part: Part, recipe: Recipe, shown: str) -> tuple[pa.Table, int, list[str], int]:
    """Aggregate one partition by place key and year; also its number of filtered records, any
    warnings, and the number of filtered records whose summed field is empty."""
    columns = _top_columns(recipe)
    con, src = _connect(part, columns)
    try:
        types = check_part(part, recipe, shown, con, src)
        problems = _nested_problems(con, src, recipe, shown, part)
        problems += _range_problems(con, src, recipe, shown, part, types) if not problems else []
        if problems:
            raise InputError(problems)
        warnings = []
        misaligned = _misaligned(con, src, recipe)
        if misaligned:
            warnings.append(f"{shown}: {misaligned:,} records in '{part.label}' list a different number of "
                            f"'{recipe.place.field}' and '{recipe.place.domain_field}' entries; they are paired by "
                            f"position and the extra domains are not used")
        if recipe.place.split:
            records = con.execute(f"SELECT count(*) FROM {src} WHERE {_filter_sql(recipe)}").fetchall()[0][0]
            items = _items_sql(recipe, src, rid=False)
            table = con.sql(  # vmissing per item here; per record and unit it is counted in pass 2
                f"SELECT {_keys(recipe)}, __y, count(*)::BIGINT AS items, sum(__w)::{_W} AS weight, "
                f"sum(__v)::{_V} AS vsum, count(*) FILTER (WHERE __v IS NULL)::BIGINT AS vmissing "
                f"FROM ({items}) GROUP BY ALL"
            ).to_arrow_table()
        else:  # one item per record: the records are the items
            table = con.sql(_grouped_single_sql(recipe, src)).to_arrow_table()
            records = int(pa.compute.sum(table["items"]).as_py() or 0)
        missing = 0
        vfield = _value_field(recipe)
        if vfield:
            missing = con.execute(f"SELECT count(*) FROM {src} WHERE {_filter_sql(recipe)} "
                                  f"AND {_number(_as_text(vfield), _V)} IS NULL").fetchall()[0][0]
    except duckdb.Error as exc:
        raise _duck_error(exc, shown, part) from None
    finally:
        con.close()
    return table, int(records), warnings, int(missing)


def pass_two(part: Part, recipe: Recipe, lookup: pa.Table, shown: str) -> tuple[pa.Table, pa.Table | None]:
    """Per unit and year: distinct records (and their summed values), and distinct values."""
    columns = _top_columns(recipe)
    con, src = _connect(part, columns)
    try:
        con.register("__lookup", lookup)
        items = _items_sql(recipe, src, rid=True)
        join = " AND ".join(f"i.{k} IS NOT DISTINCT FROM l.{k}" for k in _keys(recipe).split(", "))
        con.execute(f"CREATE TEMP TABLE __placed AS SELECT l.unit, i.__y, i.__rid, i.__v, i.__d FROM ({items}) i "
                    f"JOIN __lookup l ON {join} WHERE l.unit <> ''")
        per_unit = con.sql(
            f"SELECT unit, __y, count(*)::BIGINT AS records, sum(__v)::{_V} AS vsum, "
            f"count(*) FILTER (WHERE __v IS NULL)::BIGINT AS vmissing FROM "
            f"(SELECT DISTINCT unit, __y, __rid, __v FROM __placed) GROUP BY ALL"
        ).to_arrow_table()
        distinct = None
        if any(i.count == "distinct" for i in recipe.indicators):
            distinct = con.sql("SELECT DISTINCT unit, __y, __d FROM __placed WHERE __d IS NOT NULL").to_arrow_table()
    except duckdb.Error as exc:
        raise _duck_error(exc, shown, part) from None
    finally:
        con.close()
    return per_unit, distinct


# --- crosswalks and placement ------------------------------------------------------------------

def build_records_crosswalk(spec: RecordsCrosswalk, ctx: Context, matcher_countries: Matcher, shown: str) -> Crosswalk:
    """A crosswalk from a record file: one row per distinct key (list fields give one per item)."""
    where = f"{shown}: crosswalk '{spec.name}'"
    files = resolve_files(spec.records, ctx.records_dir, where)
    fmt = _format_of(spec.records, files, where)
    con = duckdb.connect()
    try:
        src = reader_sql(spec.records, files, fmt)
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
        problems = []
        for key in ("key", "place", "country", "alias"):
            name = getattr(spec, key)
            if name and name not in cols:
                near = difflib.get_close_matches(name, cols, n=1)
                hint = f"; did you mean '{near[0]}'?" if near else ""
                problems.append(Problem(where, f"{key}: unknown field '{name}'{hint}"))
        if problems:
            raise InputError(problems)
        types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {src})").fetchall())
        key = _ident(spec.key)
        key_expr = f"UNNEST({key})" if types[spec.key].endswith("[]") else key
        sel = [f"CAST({key_expr} AS VARCHAR) AS key"]
        for name, alias in ((spec.place, "place"), (spec.country, "country"), (spec.alias, "alias")):
            sel.append(f"CAST({_ident(name)} AS VARCHAR) AS {alias}" if name else f"'' AS {alias}")
        df = con.execute(f"SELECT DISTINCT {', '.join(sel)} FROM {src}").df()
    except duckdb.Error as exc:
        raise InputError([Problem(where, f"could not be read: {str(exc).splitlines()[0]}")]) from None
    finally:
        con.close()
    df = df.fillna("")
    df["key"] = df["key"].str.strip()
    df = df[df["key"] != ""]
    if spec.place:
        df = df[df["place"].str.strip() != ""]
    if spec.brackets == "alias":
        # "Name (ABBR)": the abbreviation is a key too, when it is one: 3-12 letters or digits
        # with at least two capitals ("MIT", "UCL", "KAIST"), never a word such as "(China)"
        # and is neither a country ("(USA)") nor shared by two names ("(NTU)")
        inner = df["key"].str.extract(r"\(([^()]+)\)", expand=False).str.strip()
        abbr = inner.str.fullmatch(r"[A-Za-z0-9&.\-]{3,12}", na=False) & (inner.str.count(r"[A-Z]") >= 2)
        abbr &= ~inner.fillna("").map(lambda a: matcher_countries.names_country(a))
        owners = df.loc[abbr].groupby(inner[abbr])["key"].nunique()
        abbr &= inner.map(owners).fillna(0).le(1)
        df["key"] = df["key"].str.replace(r"\s*\([^()]*\)\s*", " ", regex=True).str.strip()
        extra = df[abbr].assign(key=inner[abbr])
        df = pd.concat([df, extra], ignore_index=True)
    df["country"] = [matcher_countries.country_code(c) or "" for c in df["country"]]
    # DuckDB's DISTINCT has no order: sort on every column, so that where one key has several
    # rows (a name QS spells with two cities over the years) the same row comes first every run
    df = df.drop_duplicates(subset=["key", "place", "country", "alias"]).sort_values(["key", "place", "country", "alias"])
    out = pd.DataFrame({
        "key": df["key"], "match": spec.match, "kind": spec.kind, "place": df["place"].str.strip(),
        "country": df["country"], "lat": "", "lon": "", "unit": "", "alias": df["alias"].str.strip(),
        "flag": "", "source": f"{spec.source.publisher}, {spec.source.title}", "url": spec.source.address(), "note": "",
    })
    return check_crosswalk(out.reset_index(drop=True), where, ctx.unit_names, spec.name)


def find_crosswalk_file(ref: str, ctx: Context) -> Path | None:
    """A crosswalk-like file a recipe names: a bare name in the bundled crosswalk folder
    (`city_names`), else a path from the recipe's folder; None if neither is a file."""
    path = Path(ref)
    candidates = [ctx.crosswalk_dir / f"{ref}.csv"] if ctx.crosswalk_dir is not None and not path.suffix else []
    candidates.append(path if path.is_absolute() else ctx.recipe_dir / path)
    return next((c for c in candidates if c.is_file()), None)


def load_crosswalks(refs: Sequence[Any], ctx: Context, country_matcher: Matcher, shown: str,
                    cache: dict[str, Crosswalk]) -> list[Crosswalk]:
    out = []
    for i, ref in enumerate(refs):
        if isinstance(ref, RecordsCrosswalk):
            name = f"records:{ref.name}"
            if name not in cache:
                cache[name] = build_records_crosswalk(ref, ctx, country_matcher, shown)
            out.append(cache[name])
            continue
        if ref == "places":  # the gazetteer itself: place names in the text
            out.append(ctx.gazetteer)
            continue
        found = find_crosswalk_file(ref, ctx)
        if found is None:
            known = sorted(p.stem for p in ctx.crosswalk_dir.glob("*.csv")) if ctx.crosswalk_dir else []
            hint = f" (bundled: {', '.join(known)})" if known else ""
            raise InputError([Problem(shown, f"place.crosswalks[{i}]: no crosswalk '{ref}'{hint}")])
        key = str(found.resolve())
        if key not in cache:
            cache[key] = read_crosswalk(found, ctx.unit_names, name=found.stem)
        out.append(cache[key])
    return out


def _final(m, cw_by_name: dict[str, Crosswalk], flags: dict[str, list[str]]) -> tuple[Crosswalk, int, bool]:
    """The row a match ends at (following aliases), and whether any row on the way is `hq`."""
    hq = False
    while True:
        hq = hq or flags[m.crosswalk][m.row] == "hq"
        if m.via is None:
            return cw_by_name[m.crosswalk], m.row, hq
        m = m.via


def resolve_text(keys: pd.DataFrame, text_matcher: Matcher, domain_matcher: Matcher | None,
                 gazetteer: Gazetteer | Callable[[], Gazetteer], metros: Metros,
                 kinds: tuple[Matcher, Matcher | None] | None = None) -> pd.DataFrame:
    """Place every distinct (text, domain, country) key. Adds unit, reason, hq, place, lat, lon,
    country (the point's: its crosswalk or gazetteer row's; empty where the row gives none, as
    a row may on purpose; a unit of another country does not hold the point), and kind (what
    the text, else its domain, names: the `kind` of the row the `kinds` matchers find first;
    '' without them or without a match).
    A crosswalk row that names a place without coordinates is looked up in the gazetteer by
    its exact name (and country); `gazetteer` may be a function, called only if one is needed."""
    cw_by_name = {cw.name: cw for m in (text_matcher, domain_matcher) if m for cw in m.crosswalks}
    columns = {name: {c: cw.rows[c].tolist() for c in ("key", "place", "country", "lat", "lon", "unit")}
               for name, cw in cw_by_name.items()}
    flags = {name: cw.rows["flag"].tolist() for name, cw in cw_by_name.items()}
    n = len(keys)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    point_country = np.full(n, "", dtype=object)  # the country a point lies in, where known
    unit = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    hq = np.zeros(n, dtype=bool)
    place = np.full(n, "", dtype=object)
    kind = np.full(n, "", dtype=object)
    country_cache: dict[str, str | None] = {}
    gaz_box: list[Gazetteer] = []

    def gaz() -> Gazetteer:
        if not gaz_box:
            gaz_box.append(gazetteer() if callable(gazetteer) else gazetteer)
        return gaz_box[0]

    def leads_somewhere(cw: Crosswalk, row: int) -> bool:
        r = columns[cw.name]
        return bool(r["unit"][row]) or not math.isnan(r["lat"][row]) or \
            gaz().find(r["place"][row], r["country"][row] or None) is not None

    for i, (t, u, c) in enumerate(zip(keys["__t"], keys["__u"], keys["__c"], strict=True)):
        country = None
        if isinstance(c, str) and c.strip():
            if c not in country_cache:
                country_cache[c] = text_matcher.country_code(c)
            country = country_cache[c]
        t = t if isinstance(t, str) else ""
        has_domain = domain_matcher is not None and isinstance(u, str) and bool(u.strip())
        # an e-mail domain names no country: the record's, else the one country its text names,
        # holds for where it places ("IBM Research - China" at ibm.com is not at IBM's US
        # headquarters), not for what it names (amazon.com is a company's wherever it is)
        domain_country = country
        if domain_country is None and has_domain and t.strip():
            named_countries = text_matcher.countries_in(normalize(t).split())
            domain_country = next(iter(named_countries)) if len(named_countries) == 1 else None
        if kinds is not None:
            named = kinds[0].first_row(t, country) if t.strip() else None
            if named is None and kinds[1] is not None and isinstance(u, str) and u.strip():
                named = kinds[1].first_row(u, country, domain=True)
            if named is not None:
                kind[i] = str(named[0].rows["kind"].iat[named[1]]).strip()
        m = text_matcher.match(t, country, accept=leads_somewhere) if t.strip() else None
        if (m is None or not m.ok) and has_domain:
            by_domain = domain_matcher.match(u, domain_country, domain=True, accept=leads_somewhere)  # type: ignore[union-attr]
            if by_domain is not None and (by_domain.ok or m is None):
                m = by_domain
        if m is None:
            reason[i] = "no match" if (t.strip() and normalize(t)) or has_domain else "empty"
            continue
        cw, row, hq[i] = _final(m, cw_by_name, flags)
        r = columns[cw.name]
        place[i] = r["place"][row] or r["key"][row]
        if not m.ok:
            reason[i] = "place not in gazetteer"
            continue
        if r["unit"][row]:
            unit[i] = r["unit"][row]
            continue
        if not math.isnan(r["lat"][row]):
            lat[i], lon[i] = r["lat"][row], r["lon"][row]
            point_country[i] = r["country"][row] or ""  # a row without one is not checked
            continue
        g = gaz().find(r["place"][row], r["country"][row] or None)
        rows = gaz().crosswalk.rows
        lat[i], lon[i], point_country[i] = rows["lat"].iat[g], rows["lon"].iat[g], rows["country"].iat[g] or ""
    has_point = ~np.isnan(lat)
    unit[has_point] = metros.assign(lat[has_point], lon[has_point], point_country[has_point])
    reason[(reason == "") & (unit == "")] = "outside every unit"
    out = keys.copy()
    out["unit"], out["reason"], out["hq"], out["place"], out["kind"] = unit, reason, hq, place, kind
    out["lat"], out["lon"], out["country"] = lat, lon, point_country
    return out


_GAZETTEER: list[Gazetteer] = []


def _gazetteer(ctx: Context) -> Gazetteer:
    """The gazetteer's name index, kept while the same (cached) crosswalk serves the recipes."""
    cw = ctx.gazetteer
    if not _GAZETTEER or _GAZETTEER[0].crosswalk is not cw:
        _GAZETTEER[:] = [Gazetteer(cw)]
    return _GAZETTEER[0]


def point_corrections(crosswalks: Sequence[Crosswalk]) -> dict[str, tuple[float, float]]:
    """label -> (lat, lon) from the recipe's crosswalks, for a recipe that places by
    coordinates: every row must be `exact` with a lat and lon (a unit or a place name alone
    would correct nothing, so such a row is refused, named by its crosswalk and line). The
    first crosswalk naming a label wins."""
    out: dict[str, tuple[float, float]] = {}
    problems: list[Problem] = []
    for cw in crosswalks:
        rows = cw.rows
        for i, (key, match, lat, lon) in enumerate(zip(rows["key"], rows["match"], rows["lat"], rows["lon"], strict=True)):
            if match != "exact" or pd.isna(lat) or pd.isna(lon):
                problems.append(Problem(f"{cw.name}.csv", "a crosswalk correcting points needs match 'exact' and a lat and "
                                        "lon on every row", row=i + 2))
                continue
            out.setdefault(str(key).strip(), (float(lat), float(lon)))
    if problems:
        raise InputError(problems)
    return out


def resolve_points(keys: pd.DataFrame, metros: Metros, corrections: dict[str, tuple[float, float]] | None = None) -> pd.DataFrame:
    lat = keys["__lat"].to_numpy(dtype=float).copy()
    lon = keys["__lon"].to_numpy(dtype=float).copy()
    if corrections:
        for i, label in enumerate(keys["__t"].fillna("").astype(str).str.strip()):
            if label in corrections:
                lat[i], lon[i] = corrections[label]
    given = ~(np.isnan(lat) | np.isnan(lon))
    with np.errstate(invalid="ignore"):
        ok = given & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)  # lat 95 or lon 400 is no place on Earth
    unit = np.full(len(keys), "", dtype=object)
    unit[ok] = metros.assign(lat[ok], lon[ok])
    reason = np.where(~given, "no coordinates", np.where(~ok, "coordinates out of range",
                                                         np.where(unit == "", "outside every unit", "")))
    out = keys.copy()
    out["unit"], out["reason"], out["hq"], out["place"] = unit, reason, False, keys["__t"].fillna("")
    out["kind"] = ""
    out["lat"], out["lon"] = lat, lon
    return out


# --- the whole derivation ----------------------------------------------------------------------

def derive(recipe: Recipe, ctx: Context, shown: str, dask: str | None = None,
           progress: Progress | None = None) -> Derived:
    say = progress or (lambda _msg: None)
    recipe = load_filter_files(recipe, ctx, shown)
    parts = plan(recipe, ctx.records_dir, shown, split_files=dask is not None)
    if dask:  # every part checked here, before any task is sent; a local pass 1 checks its own
        for part in parts:
            check_part(part, recipe, shown)
    say(f"{shown}: {len(parts)} partition(s), pass 1")
    with _Runner(dask, say) as runner:
        return _derive(recipe, ctx, shown, parts, runner, say)


def _derive(recipe: Recipe, ctx: Context, shown: str, parts: list[Part], runner: _Runner, say: Progress) -> Derived:
    # the crosswalks are read and indexed on a second thread while DuckDB scans the records
    # (DuckDB releases the GIL); an error there surfaces when the matchers are asked for
    with ThreadPoolExecutor(max_workers=1) as pool:
        matchers = pool.submit(_matchers, recipe, ctx, shown) if recipe.place.lat is None else None
        first = runner.map(pass_one, [(p, recipe, shown) for p in parts], f"{shown}: pass 1")
        text_matcher, domain_matcher = matchers.result() if matchers is not None else (None, None)
    records = sum(r for _, r, _, _ in first)
    missing = sum(m for _, _, _, m in first)
    warnings = [w for _, _, ws, _ in first for w in ws]
    if records == 0:
        warnings.append(f"{shown}: no record passes the filters; every value is 0")
    if any(f.in_file is not None for f in recipe.filters):
        held: dict[tuple[int, str], int] = {}
        for found in runner.map(listed_values_found, [(p, recipe, shown) for p in parts], f"{shown}: listed values"):
            for k, n in found.items():
                held[k] = held.get(k, 0) + n
        for i, f in enumerate(recipe.filters):
            if f.in_file is None:
                continue
            matched = sum(n for (j, _), n in held.items() if j == i)
            say(f"{shown}: {f.in_file}: {len(f.in_ or ())} listed value(s) of {f.field}, held by {matched:,} "
                f"record(s) (before the other filters), {'left out' if f.not_ else 'kept'}")
            unused = [v for v in f.in_ or () if (i, str(v)) not in held]
            if unused:
                warnings.append(f"{shown}: {len(unused)} value(s) of {f.in_file} match no record's {f.field}: "
                                f"{', '.join(map(str, unused[:10]))}")
    key_cols = _keys(recipe).split(", ")
    con = duckdb.connect()
    try:
        # the partitions' groups side by side; every sum below is over exact decimals, so the
        # partitioning (and the order rows arrive in) cannot change a result
        con.register("__g", pa.concat_tables([t for t, _, _, _ in first]))
        keys = con.sql(f"SELECT DISTINCT {', '.join(key_cols)} FROM __g ORDER BY ALL").df()
        say(f"{shown}: placing {len(keys):,} distinct place keys")
        if text_matcher is None:
            corrections = None
            if recipe.place.crosswalks:
                cws = load_crosswalks(recipe.place.crosswalks, ctx, Matcher([], ctx.countries), shown, {})
                corrections = point_corrections(cws)
                labels = set(keys["__t"].dropna().astype(str).str.strip())
                unused = sorted(k for k in corrections if k not in labels)
                if unused:
                    warnings.append(f"{shown}: {len(unused)} point correction(s) match no record's label: {', '.join(unused[:10])}")
            resolved = resolve_points(keys, ctx.metros, corrections)
        else:
            kinds = _kind_matchers(text_matcher, domain_matcher, ctx.countries) if any(i.kind for i in recipe.indicators) else None
            resolved = resolve_text(keys, text_matcher, domain_matcher, lambda: _gazetteer(ctx), ctx.metros, kinds)
        lookup = pa.Table.from_pandas(resolved[key_cols + ["unit", "reason", "hq", "kind"]], preserve_index=False)
        con.register("__r", lookup)
        join = " AND ".join(f"g.{k} IS NOT DISTINCT FROM r.{k}" for k in key_cols)
        con.execute(f"CREATE TEMP TABLE __m AS SELECT g.*, r.unit, r.reason, r.hq, r.kind FROM __g g JOIN __r r ON {join}")
        second = None
        if needs_second_pass(recipe):
            say(f"{shown}: pass 2 (distinct records per unit)")
            small = lookup.select(key_cols + ["unit"])
            second = runner.map(pass_two, [(p, recipe, small, shown) for p in parts], f"{shown}: pass 2")
        same = load_same_as(recipe, ctx, shown)
        totals = _totals(con, recipe, second, missing, same)
        out = _outputs(recipe, ctx, shown, records, totals)
        out.warnings[:0] = warnings
        return out
    finally:
        con.close()


def _kind_matchers(text_matcher: Matcher, domain_matcher: Matcher | None,
                   countries: pd.DataFrame) -> tuple[Matcher, Matcher | None]:
    """Matchers that say what a text names (its crosswalk row's `kind`): the recipe's crosswalks
    in its order, rows of kind `place` (the gazetteer, city names) left out: a place name says
    where an affiliation is, not what it is."""
    def without_places(m: Matcher) -> list[Crosswalk]:
        out = []
        for cw in m.crosswalks:
            rows = cw.rows[cw.rows["kind"].str.strip().str.lower() != "place"].reset_index(drop=True)
            if len(rows):
                out.append(Crosswalk(cw.name, cw.path, rows))
        return out

    text = Matcher(without_places(text_matcher), countries)
    domain = Matcher(without_places(domain_matcher), countries) if domain_matcher is not None else None
    return text, domain


def _matchers(recipe: Recipe, ctx: Context, shown: str) -> tuple[Matcher, Matcher | None]:
    """The recipe's text matcher and e-mail-domain matcher, crosswalks read and indexed."""
    country_matcher = Matcher([], ctx.countries)
    cache: dict[str, Crosswalk] = {}
    text_matcher = Matcher(load_crosswalks(recipe.place.crosswalks, ctx, country_matcher, shown, cache), ctx.countries)
    text_matcher.prepare()
    domain_matcher = None
    if recipe.place.domain_crosswalks:
        dom_cws = load_crosswalks(recipe.place.domain_crosswalks, ctx, country_matcher, shown, cache)
        domain_matcher = Matcher(dom_cws, ctx.countries, alias_matcher=text_matcher)
        domain_matcher.prepare()
    return text_matcher, domain_matcher


@dataclass
class Totals:
    """Everything the outputs need, summed exactly in DuckDB, as floats keyed by (unit, year)
    and by unit (all years)."""

    coverage: dict[str, float]  # total, located, in_units, hq
    years: list[int]
    records: tuple[dict, dict]
    weight: tuple[dict, dict]
    vsum: tuple[dict, dict]
    hq: tuple[dict, dict]
    distinct: tuple[dict, dict]
    unplaced: pd.DataFrame
    vmissing: tuple[dict, dict] = ({}, {})  # records placed in the unit whose summed field is empty
    missing: int = 0  # filtered records whose summed field is empty, placed or not
    # (kind, hq counted) -> {weight: kept in units, hq: of that kind at a headquarters} by unit,
    # and the same over all records: {in_units, hq_located, located}
    selected: dict[tuple[str | None, bool], dict[str, Any]] = field(default_factory=dict)
    merged: tuple[dict, dict] = ({}, {})  # distinct values counted as another (same_as) by unit
    same_as: str | None = None  # the same_as file's name
    warnings: list[str] = field(default_factory=list)
    # the distinct values counted: unit, __y, __all (all years), value, same_as_names
    listing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_LISTING_COLUMNS))


def _by_unit(frame: pd.DataFrame, column: str) -> tuple[dict, dict]:
    """From rows of GROUPING SETS ((unit, __y), (unit)): ({(unit, year): v}, {unit: v})."""
    by_year, by_unit = {}, {}
    for u, y, g, v in zip(frame["unit"], frame["__y"], frame["__all"], frame[column], strict=True):
        if pd.isna(v):
            continue
        if g:
            by_unit[u] = float(v)
        else:
            by_year[(u, y)] = float(v)
    return by_year, by_unit


def _selected(con: duckdb.DuckDBPyConnection, kind: str | None, hq_counted: bool) -> dict[str, Any]:
    """Weights of the items an indicator with `kind` / `hq: false` keeps, by unit and year."""
    of_kind = "TRUE" if kind is None else f"kind = {_q(kind)}"
    keep = of_kind if hq_counted else f"{of_kind} AND NOT hq"
    sets = "GROUP BY GROUPING SETS ((unit, __y), (unit))"
    per = con.sql(
        f"SELECT unit, __y, grouping(__y) = 1 AS __all, (sum(weight) FILTER (WHERE {keep}))::DOUBLE AS weight, "
        f"(sum(weight) FILTER (WHERE {of_kind} AND hq))::DOUBLE AS hq FROM __m WHERE unit <> '' AND reason = '' {sets}"
    ).df()
    tot = con.sql(
        f"SELECT (sum(weight) FILTER (WHERE {keep} AND reason = '' AND unit <> ''))::DOUBLE AS in_units, "
        f"(sum(weight) FILTER (WHERE {of_kind} AND hq AND reason IN ('', 'outside every unit')))::DOUBLE AS hq_located, "
        f"(sum(weight) FILTER (WHERE {of_kind} AND reason IN ('', 'outside every unit')))::DOUBLE AS located FROM __m"
    ).df().iloc[0].fillna(0.0).to_dict()
    return {"weight": _by_unit(per, "weight"), "hq": _by_unit(per, "hq"), **tot}


SAME_AS_COLUMNS = ("value", "same_as", "source", "note")
IN_FILE_COLUMNS = ("value", "reason", "source", "note")


def _read_listing(found: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """A recipe's small CSV of values (same_as, in_file): UTF-8, exactly `columns`, every cell
    as text without surrounding spaces."""
    try:  # utf-8-sig: a spreadsheet's byte-order mark is no part of the first column's name
        frame = read_csv_text(found)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError([Problem(str(found), f"cannot read it as a UTF-8 CSV: {str(exc).splitlines()[0]}")]) from None
    except OSError as exc:
        raise InputError([Problem(str(found), f"cannot be read: {exc.strerror or exc}")]) from None
    lacking = [c for c in columns if c not in frame.columns]
    if lacking:
        raise InputError([Problem(str(found), f"needs the columns {', '.join(columns)}; missing {', '.join(lacking)}")])
    extra = [c for c in frame.columns if c not in columns]
    if extra:
        raise InputError([Problem(str(found), f"unknown column(s) {', '.join(extra)} (known: {', '.join(columns)})")])
    return frame.apply(lambda col: col.str.strip(BLANKS))


def load_filter_files(recipe: Recipe, ctx: Context, shown: str) -> Recipe:
    """The recipe with each `in_file` filter's values read into its `in`, the file checked row
    by row (a value, its reason and its source given; no value twice). The file is found as
    crosswalks are: a bare name in the bundled crosswalk folder, else a path from the recipe's
    folder."""
    if not any(f.in_file is not None for f in recipe.filters):
        return recipe
    filters = []
    problems: list[Problem] = []
    for i, f in enumerate(recipe.filters):
        if f.in_file is None:
            filters.append(f)
            continue
        found = find_crosswalk_file(f.in_file, ctx)
        if found is None:
            raise InputError([Problem(shown, f"filters[{i}]: in_file: no file '{f.in_file}'")])
        frame = _read_listing(found, IN_FILE_COLUMNS)
        seen: dict[str, int] = {}
        for row, r in enumerate(frame.itertuples(index=False), start=2):  # row 1 is the header
            for col in ("value", "reason", "source"):
                if not getattr(r, col):
                    problems.append(Problem(str(found), f"'{col}' is empty", row=row, column=col))
            if r.value in seen:
                problems.append(Problem(str(found), f"'{r.value}' is given already on row {seen[r.value]}", row=row, column="value"))
            elif r.value:
                seen[r.value] = row
        filters.append(f.model_copy(update={"in_": list(frame["value"])}))
    if problems:
        raise InputError(problems)
    return recipe.model_copy(update={"filters": filters})


def listed_values_found(part: Part, recipe: Recipe, shown: str) -> dict[tuple[int, str], int]:
    """{(filter index, value): records of the part holding it} for every `in_file` value some
    record holds (any record, whatever the other filters), so that the derivation can say how
    many records a list matched and name a listed value no record holds."""
    listed = [(i, f) for i, f in enumerate(recipe.filters) if f.in_file is not None and f.in_]
    if not listed:
        return {}
    con, src = _connect(part, _top_columns(recipe))
    try:
        found: dict[tuple[int, str], int] = {}
        for i, f in listed:
            text = _trim(f"CAST({_ident(f.field)} AS VARCHAR)")
            values = ", ".join(_q(str(v)) for v in f.in_ or ())
            for v, n in con.execute(f"SELECT {text}, count(*) FROM {src} WHERE {text} IN ({values}) GROUP BY ALL").fetchall():
                found[(i, v)] = int(n)
        return found
    except duckdb.Error as exc:
        raise _duck_error(exc, shown, part) from None
    finally:
        con.close()


def load_same_as(recipe: Recipe, ctx: Context, shown: str) -> tuple[str, pa.Table] | None:
    """The distinct indicator's `same_as` file (found as crosswalks are: a bare name in the
    bundled crosswalk folder, else a path from the recipe's folder), checked row by row: its
    name and a (value, same_as) table, or None when the recipe has none."""
    ind = next((i for i in recipe.indicators if i.same_as is not None), None)
    if ind is None:
        return None
    ref = ind.same_as or ""
    found = find_crosswalk_file(ref, ctx)
    if found is None:
        raise InputError([Problem(shown, f"indicators: {ind.code}: same_as: no file '{ref}'")])
    frame = _read_listing(found, SAME_AS_COLUMNS)
    problems = []
    seen: dict[str, int] = {}
    targets = set(frame["same_as"])
    for i, r in enumerate(frame.itertuples(index=False), start=2):  # row 1 is the header
        for col in ("value", "same_as", "source"):
            if not getattr(r, col):
                problems.append(Problem(str(found), f"'{col}' is empty", row=i, column=col))
        if r.value and r.value == r.same_as:
            problems.append(Problem(str(found), f"'{r.value}' is given as the same as itself", row=i, column="same_as"))
        if r.value in seen:
            problems.append(Problem(str(found), f"'{r.value}' is given already on row {seen[r.value]}", row=i, column="value"))
        elif r.value:
            seen[r.value] = i
        if r.value and r.value in targets and r.value != r.same_as:
            problems.append(Problem(str(found), f"'{r.value}' is itself the same_as of another row: "
                                                f"name the final value directly (no chains)", row=i, column="value"))
    if problems:
        raise InputError(problems)
    return found.name, pa.table({"value": pa.array(frame["value"].tolist(), pa.string()),
                                 "same_as": pa.array(frame["same_as"].tolist(), pa.string())})


def _totals(con: duckdb.DuckDBPyConnection, recipe: Recipe,
            second: list[tuple[pa.Table, pa.Table | None]] | None, missing: int = 0,
            same: tuple[str, pa.Table] | None = None) -> Totals:
    cov = con.sql(
        "SELECT sum(weight)::DOUBLE AS total, "
        "(sum(weight) FILTER (WHERE reason IN ('', 'outside every unit')))::DOUBLE AS located, "
        "(sum(weight) FILTER (WHERE reason = '' AND unit <> ''))::DOUBLE AS in_units, "
        "(sum(weight) FILTER (WHERE reason = '' AND hq))::DOUBLE AS hq FROM __m"
    ).df().iloc[0].fillna(0.0).to_dict()
    years = [int(y) for (y,) in con.execute("SELECT DISTINCT __y FROM __g WHERE __y IS NOT NULL ORDER BY 1").fetchall()
             if float(y).is_integer()]
    sets = "GROUP BY GROUPING SETS ((unit, __y), (unit))"
    first = con.sql(
        f"SELECT unit, __y, grouping(__y) = 1 AS __all, sum(items)::DOUBLE AS records, sum(weight)::DOUBLE AS weight, "
        f"sum(vsum)::DOUBLE AS vsum, (sum(weight) FILTER (WHERE hq))::DOUBLE AS hq, sum(vmissing)::DOUBLE AS vmissing "
        f"FROM __m WHERE unit <> '' {sets}"
    ).df()
    records, vsum, vmissing = _by_unit(first, "records"), _by_unit(first, "vsum"), _by_unit(first, "vmissing")
    distinct: tuple[dict, dict] = ({}, {})
    listing = pd.DataFrame(columns=_LISTING_COLUMNS)
    merged: tuple[dict, dict] = ({}, {})
    warnings: list[str] = []
    if second is not None:
        con.register("__p2", pa.concat_tables([a for a, _ in second]))
        per = con.sql(f"SELECT unit, __y, grouping(__y) = 1 AS __all, sum(records)::DOUBLE AS records, "
                      f"sum(vsum)::DOUBLE AS vsum, sum(vmissing)::DOUBLE AS vmissing FROM __p2 {sets}").df()
        records, vsum, vmissing = _by_unit(per, "records"), _by_unit(per, "vsum"), _by_unit(per, "vmissing")
        d_tables = [b for _, b in second if b is not None]
        if d_tables:
            con.register("__d", pa.concat_tables(d_tables))
            if same is not None:  # a value named in the same_as file counts as the value it names
                con.register("__same", same[1])
                con.execute(f"CREATE TEMP TABLE __dm AS SELECT d.unit, d.__y, {_trim('d.__d')} AS __raw, "
                            f"COALESCE(s.same_as, {_trim('d.__d')}) AS __d FROM __d d LEFT JOIN __same s ON {_trim('d.__d')} = s.value")
                used = {v for (v,) in con.execute("SELECT DISTINCT __raw FROM __dm WHERE __raw <> __d").fetchall()}
                unused = sorted(set(same[1].column("value").to_pylist()) - used)
                if unused:
                    warnings.append(f"{len(unused)} row(s) of {same[0]} match no value counted in a unit: {', '.join(unused[:10])}")
                m = con.sql(f"SELECT unit, __y, grouping(__y) = 1 AS __all, "
                            f"(count(DISTINCT __raw) - count(DISTINCT __d))::DOUBLE AS n FROM __dm {sets}").df()
                merged = _by_unit(m, "n")
                d = con.sql(f"SELECT unit, __y, grouping(__y) = 1 AS __all, count(DISTINCT __d)::DOUBLE AS n FROM __dm {sets}").df()
            else:
                # surrounding spaces are no part of a value, as in the same_as comparison above
                con.execute(f"CREATE TEMP TABLE __dm AS SELECT unit, __y, {_trim('__d')} AS __raw, {_trim('__d')} AS __d FROM __d")
                d = con.sql(f"SELECT unit, __y, grouping(__y) = 1 AS __all, count(DISTINCT __d)::DOUBLE AS n FROM __dm {sets}").df()
            distinct = _by_unit(d, "n")
            listing = con.sql(  # the values counted, by unit and year and by unit, for distinct_values.csv
                "SELECT unit, __y, grouping(__y) = 1 AS __all, __d AS value, "
                "array_to_string(list_sort(list(DISTINCT __raw) FILTER (WHERE __raw <> __d)), '; ') AS same_as_names "
                "FROM __dm GROUP BY GROUPING SETS ((unit, __y, __d), (unit, __d)) ORDER BY unit, __all, __y, value").df()
    if recipe.place.lat is not None:
        label = "COALESCE(NULLIF(__t, ''), '(' || __lat || ', ' || __lon || ')')"
        cols = f"{label} AS place, '' AS domain, '' AS country"
    else:
        cols = "COALESCE(__t, '') AS place, COALESCE(__u, '') AS domain, COALESCE(__c, '') AS country"
    unplaced = con.sql(
        f"SELECT * FROM (SELECT {cols}, reason, sum(items)::BIGINT AS items, round(sum(weight)::DOUBLE, 6) AS weight "
        f"FROM __m WHERE reason <> '' GROUP BY ALL) "
        f"ORDER BY reason = 'outside every unit', weight DESC, items DESC, place, domain, country, reason"
    ).df()
    selected = {(i.kind, i.hq): _selected(con, i.kind, i.hq) for i in recipe.indicators if i.kind is not None or not i.hq}
    return Totals(cov, years, records, _by_unit(first, "weight"), vsum, _by_unit(first, "hq"), distinct, unplaced,
                  vmissing, missing, selected, merged, None if same is None else same[0], warnings, listing)


class _Runner:
    """Runs one function over the partitions, here or as Dask tasks (one cluster for both
    passes), and reports each partition as it finishes."""

    def __init__(self, dask: str | None, say: Progress):
        self.dask, self.say = dask, say
        self.client: Any = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _Runner:
        if self.dask is not None:
            from aicity.cluster import dask_client

            self.client = self._stack.enter_context(dask_client(self.dask))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def map(self, fn: Callable[..., Any], args: list[tuple], what: str) -> list[Any]:
        n = len(args)
        if self.client is None:
            out = []
            for i, a in enumerate(args, 1):
                out.append(fn(*a))
                if n > 1:
                    self.say(f"{what}: {i}/{n} partitions")
            return out
        from dask.distributed import as_completed

        futures = [self.client.submit(fn, *a, pure=False) for a in args]
        for i, _ in enumerate(as_completed(futures), 1):
            self.say(f"{what}: {i}/{n} partitions on Dask")
        return self.client.gather(futures)  # in partition order; a task's error is raised here


# --- outputs -----------------------------------------------------------------------------------

def _num(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    r = round(float(x), 6)
    return str(int(r)) if r.is_integer() else f"{r:.6f}".rstrip("0").rstrip(".")


def _fmt(x: float) -> str:
    return f"{int(round(x)):,}" if float(x).is_integer() else f"{x:,.2f}"


def _quote(ind: Indicator, recipe: Recipe, fields: dict[str, Any], shown: str) -> str:
    template = ind.quote or ("{count} {unit_of_measure} in {unit_name} ({metro}): {records} of the "
                             "{records_total} {counted} ({years}) placed there")
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError([Problem(shown, f"indicators: quote template of '{ind.code}' uses an unknown field {exc} "
                                         f"(known: {', '.join(TEMPLATE_FIELDS)})")]) from None


def _source_text(src: Source) -> str:
    bits = [src.title]
    if src.repository:
        bits.append(f"{src.repository}@{(src.commit or '')[:12]}, {src.path}")
    if src.licence:
        bits.append(f"{LICENCE_LABELS['en']}{src.licence}")
    return "; ".join(bits)


def _outputs(recipe: Recipe, ctx: Context, shown: str, records: int, t: Totals) -> Derived:
    metros = ctx.metros
    years_all = t.years
    rows, cov, warnings = [], [], [f"{shown}: {w}" for w in t.warnings]
    weight_total, located = t.coverage["total"], t.coverage["located"]
    in_units, hq_weight = t.coverage["in_units"], t.coverage["hq"]
    counted_in = "fractional records" if recipe.place.split else recipe.counted
    metro_rows = {r["unit"]: r for r in metros.table.to_dict("records")}
    span = f"{years_all[0]}-{years_all[-1]}" if len(years_all) > 1 else (str(years_all[0]) if years_all else "")

    def total(table: tuple[dict, dict], unit: str, y: float | None) -> float:
        return float(table[1].get(unit, 0.0) if y is None else table[0].get((unit, y), 0.0))

    for ind in recipe.indicators:
        sel = t.selected.get((ind.kind, ind.hq))
        ind_in_units, ind_hq, selection = in_units, (hq_weight / located if located else 0.0), ""
        if sel is not None:  # what the indicator keeps, and the headquarters share of its kind
            ind_in_units = sel["in_units"]
            ind_hq = sel["hq_located"] / sel["located"] if sel["located"] else 0.0
            selection = (f"{'kind ' + ind.kind if ind.kind else 'all kinds'} ({_fmt(sel['located'])} located), "
                         f"headquarters {'counted' if ind.hq else 'left out'} ({_fmt(sel['hq_located'])} located only "
                         f"at a headquarters)")
        cov.append({
            "indicator": ind.code, "records": records, "placed": round(located, 6),
            "unplaced": round(weight_total - located, 6),
            "placed_share": round(located / weight_total, 6) if weight_total else float("nan"),
            "in_units": round(ind_in_units, 6),
            "in_units_share": round(ind_in_units / weight_total, 6) if weight_total else float("nan"),
            "hq_share": round(ind_hq, 6),
            "counted_in": counted_in,
            "missing_values": t.missing if ind.count in ("sum", "mean") else "",
            "selection": selection,
        })
        if ind.per_capita is not None and ind.per_capita.column not in metros.table.columns:
            raise InputError([Problem(shown, f"indicators: per_capita column '{ind.per_capita.column}' is not in the metro table {metros.path}")])
        if ind.per_capita is not None and not pd.api.types.is_numeric_dtype(metros.table[ind.per_capita.column]):
            raise InputError([Problem(shown, f"indicators: per_capita column '{ind.per_capita.column}' of the metro table "
                                             f"{metros.path} holds text, not numbers (population is the usual one)")])
        years = [None] if ind.per_year is None else years_all
        for unit in metros.units:
            pop_row = metro_rows[unit]
            for y in years:
                sel = t.selected.get((ind.kind, ind.hq))
                by = {"fractional": t.weight, "rows": t.records, "sum": t.vsum, "mean": t.vsum, "distinct": t.distinct}[ind.count]
                count = total(sel["weight"] if sel is not None else by, unit, y)
                missing = total(t.vmissing, unit, y) if ind.count in ("sum", "mean") else 0.0
                note = [ind.note] if ind.note else []
                if ind.count == "distinct" and t.same_as is not None and total(t.merged, unit, y) > 0:
                    n_same = int(total(t.merged, unit, y))
                    note.append(f"{n_same} {'name' if n_same == 1 else 'names'} counted once with the {ind.field} "
                                f"{'it names' if n_same == 1 else 'they name'} the same as ({t.same_as}).")
                if ind.count == "mean":  # the average over the records placed here that have the field
                    with_field = total(t.records, unit, y) - missing
                    count = count / with_field if with_field > 0 else float("nan")
                    if with_field <= 0:
                        note.append(f"Missing: no {recipe.counted} with a '{ind.field}' placed here, so no average.")
                value = count
                if missing > 0 and not (ind.count == "mean" and missing >= total(t.records, unit, y)):
                    placed_here = total(t.records, unit, y)
                    note.append(f"{_fmt(missing)} of the {_fmt(placed_here)} {recipe.counted} placed here have no "
                                f"'{ind.field}': left out of the {'mean' if ind.count == 'mean' else 'sum'}, not counted as 0.")
                    if missing >= placed_here:
                        note.append(f"Missing: no {recipe.counted} placed here has a '{ind.field}'.")
                pop = pop_year = ""
                if ind.per_capita is not None:
                    col = ind.per_capita.column
                    p = pop_row[col]
                    if pd.isna(p) or p == "" or float(p) <= 0:
                        value = float("nan")
                        warnings.append(f"{ind.code}: {unit} has no {col} in {metros.path}; its value is missing")
                        note.append(f"Missing: the metro table gives no {col} for this unit.")
                    else:
                        value = count / float(p) * ind.per_capita.per
                        pop, pop_year = f"{int(float(p)):,}", _num(pop_row.get("population_year", float("nan")))
                        note.append(f"Per {ind.per_capita.per:,.0f} inhabitants of {pop_row.get('population_area') or 'the metro'} "
                                    f"({pop}, {pop_year or 'year not given'}; {pop_row.get('population_source', '')}"
                                    f"{', ' + str(pop_row['population_url']) if pop_row.get('population_url') else ''}).")
                if missing > 0 and missing >= total(t.records, unit, y):
                    value = float("nan")  # nothing to sum: missing, as its per-capita form
                hq = total(t.hq if sel is None else sel["hq"], unit, y)
                if sel is not None and not ind.hq:
                    if hq > 0:
                        note.append(f"{_fmt(hq)} placed here only at a company's headquarters (the place text names "
                                    f"no site; flagged hq) {'of kind ' + ind.kind + ' ' if ind.kind else ''}left out.")
                elif hq > 0:
                    share = hq / total(t.weight if sel is None else sel["weight"], unit, y)
                    note.append(f"{share:.1%} of the weight placed here is at a company's headquarters (the place text names no site; flagged hq).")
                year = y if y is not None else ind.year
                fields = {
                    "value": _fmt(value) if not math.isnan(value) else "missing",
                    "count": _fmt(count) if not math.isnan(count) else "missing",
                    "records": _fmt(total(t.records, unit, y)), "records_total": _fmt(float(records)),
                    "counted": recipe.counted, "unit_name": ctx.unit_names.get(unit, unit), "metro": metros.label(unit),
                    "year": year, "years": str(y) if y is not None else (span or str(year)), "years_all": span or str(year),
                    "unit_of_measure": ind.unit_of_measure,
                    "indicator": ind.code, "population": pop, "population_year": pop_year, "missing": _fmt(missing),
                }
                rows.append({
                    "unit": unit, "indicator": ind.code, "value": _num(value), "year": int(year) if year is not None else "",
                    "geo": "metro", "geo_name": f"{ctx.unit_names.get(unit, unit)} ({metros.label(unit)})",
                    "unit_of_measure": ind.unit_of_measure, "publisher": recipe.source.publisher,
                    "source": _source_text(recipe.source), "url": recipe.source.address(),
                    "quote": _quote(ind, recipe, fields, shown), "note": " ".join(note),
                })
    values = pd.DataFrame(rows, columns=VALUE_COLUMNS)
    indicators = pd.DataFrame([{
        "indicator": ind.code, "name_en": ind.names.get("en", ""), "name_ko": ind.names.get("ko", ""),
        "name_ja": ind.names.get("ja", ""), "unit_of_measure": ind.unit_of_measure, "count": ind.count,
        "field": ind.field or "", "per_year": ind.per_year or "",
        "per_capita": f"{ind.per_capita.column} per {ind.per_capita.per:g}" if ind.per_capita else "",
        "year": ind.year if ind.year is not None else "", "recipe": Path(shown).name,
        "description": " ".join((recipe.description or "").split()),
    } for ind in recipe.indicators], columns=INDICATOR_COLUMNS)
    unplaced = pd.concat([t.unplaced.assign(indicator=ind.code) for ind in recipe.indicators], ignore_index=True)
    return Derived(values, pd.DataFrame(cov, columns=COVERAGE_COLUMNS), unplaced[UNPLACED_COLUMNS], warnings, indicators,
                   _distinct_listing(recipe, t.listing))


def _distinct_listing(recipe: Recipe, listing: pd.DataFrame) -> pd.DataFrame:
    """The values each distinct indicator counted in each unit, labelled with the year its
    value carries: per year for a panel (`per_year`), else all years under the indicator's
    `year`. One row per value; `same_as_names` lists the names counted as it."""
    parts = []
    for ind in recipe.indicators:
        if ind.count != "distinct":
            continue
        rows = listing[~listing["__all"].astype(bool)] if ind.per_year else listing[listing["__all"].astype(bool)]
        year = rows["__y"] if ind.per_year else pd.Series(ind.year, index=rows.index)
        parts.append(pd.DataFrame({"indicator": ind.code, "unit": rows["unit"],
                                   "year": pd.to_numeric(year, errors="coerce").astype("Int64"),
                                   "value": rows["value"], "same_as_names": rows["same_as_names"].fillna("")}))
    return pd.concat(parts, ignore_index=True)[DISTINCT_COLUMNS] if parts else pd.DataFrame(columns=DISTINCT_COLUMNS)

