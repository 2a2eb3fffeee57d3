"""Reading index data: long or wide tables (CSV, XLSX, Parquet) and unit metadata.

Every problem names the file, row, column and reason, all problems of a file are reported
together, and nothing is dropped or coerced without a word: a cell is a number, an explicit
missing-value token, or an error.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import math
import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from aicity.errors import InputError, Problem, UnitNotFound
from aicity.framework import Framework, read_table
from aicity.keys import INVISIBLE

# Cells that mean "no value" in a number column. Anything else that is not a number is an error.
MISSING_TOKENS = ("", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "#N/A", "..", "-")
UNIT_COLUMNS = ("unit", "uCode", "code", "unit_code")
LONG_REQUIRED = ("unit", "indicator", "value")
# Provenance columns kept with each value in long data.
PROVENANCE_COLUMNS = (
    "year", "geo", "geo_name", "unit_of_measure", "publisher", "source", "url", "quote", "note",
)


@dataclass
class Dataset:
    """Values for every unit and variable, unit metadata, and where each value came from.

    `values` holds one value per unit and variable (the latest year when several are given);
    `observations` keeps every row that was read, all years, with its provenance.
    """

    values: pd.DataFrame
    units: pd.DataFrame
    source: str
    long_rows: pd.DataFrame | None = None  # every row of a long file, with provenance
    _hashes: dict[str, str] = field(default_factory=dict, repr=False)
    _pending_hashes: dict[str, Future[str]] = field(default_factory=dict, repr=False)

    @property
    def hashes(self) -> dict[str, str]:
        """SHA-256 of every file read. The data file's is taken in a background thread while
        the build runs on, and waited for here; a file changed since it was parsed is an
        error, not a hash."""
        for name in list(self._pending_hashes):
            self._hashes[name] = self._pending_hashes.pop(name).result()
        return self._hashes

    @hashes.setter
    def hashes(self, value: dict[str, str]) -> None:
        self._hashes, self._pending_hashes = dict(value), {}

    def __getstate__(self) -> dict:
        # A pending hash is a Future (a lock inside): resolve it so the dataset pickles.
        state = dict(self.__dict__, _hashes=dict(self.hashes))
        state["_pending_hashes"] = {}
        return state

    @property
    def observations(self) -> pd.DataFrame:
        """Every value with its provenance. A wide file carries none beyond the file itself, so
        its table is made on demand (a million-cell file would otherwise pay for it on every build)."""
        if self.long_rows is not None:
            return self.long_rows
        stacked = self.values.stack().rename("value").reset_index()
        stacked.columns = ["unit", "indicator", "value"]
        stacked = stacked[stacked["value"].notna()].reset_index(drop=True)
        stacked["source"] = self.source
        return stacked

    def sources(self, unit: str | None = None, indicator: str | None = None) -> pd.DataFrame:
        """The values the build used (a long file's latest year of each series), each with its
        provenance, for one unit and/or one indicator: what every page, table and footnote
        that cites a value reads."""
        obs = self.observations
        if "used" in obs.columns:
            obs = obs[obs["used"]]
        if unit is not None:
            obs = obs[obs["unit"] == unit]
        if indicator is not None:
            obs = obs[obs["indicator"] == indicator]
        return obs

    @property
    def unit_codes(self) -> list[str]:
        return self.values.index.tolist()

    def matrix(self, codes: list[str]) -> np.ndarray:
        """Units x codes as float64, a copy of its own (column-major, as the data is held); a
        code the data lacks is all-missing."""
        frame = self.values if list(self.values.columns) == list(codes) else self.values.reindex(columns=codes)
        return np.array(frame.to_numpy(dtype=float), order="K", copy=True)

    def unit_column(self, name: str) -> np.ndarray:
        if name not in self.units.columns:
            raise InputError([Problem(self.source, f"no unit column '{name}' (have: {', '.join(self.units.columns)})")])
        return self.units[name].to_numpy(dtype=object)

    def unit_name(self, code: str, lang: str = "en") -> str:
        for col in (f"name_{lang}", "name_en", "uName", "name"):
            if col in self.units.columns:
                val = self.units.at[code, col]
                if isinstance(val, str) and val.strip():
                    return val
        return code


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _unchanged_file_hash(path: Path, before: os.stat_result) -> str:
    """The file's hash, provided it is still the file that was parsed: a file rewritten
    in between would give a hash of data the run never saw."""
    try:
        digest = file_hash(path)
        after = path.stat()
    except FileNotFoundError as exc:
        raise InputError([Problem(str(path), "the file was removed before its hash was taken")]) from exc
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise InputError([Problem(str(path), "the file changed while it was being read; run again")])
    return digest


@cache
def _hasher() -> ThreadPoolExecutor:
    # hashlib releases the GIL on large buffers, so hashing runs beside the build.
    return ThreadPoolExecutor(1, thread_name_prefix="aicity-hash")


def _find_column(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in columns}
    for cand in candidates:
        if cand.lower() in lower:
            return lower[cand.lower()]
    return None


def _is_csv(path: Path) -> bool:
    return path.suffix.lower() in (".csv", ".txt")


def _csv_header(path: Path, start: bytes) -> list[str]:
    # The first record, from the first MiB (a quoted header may span lines); the incremental
    # decoder leaves a character cut at the end of that slice for later instead of failing.
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(start, final=False)
    except UnicodeDecodeError as exc:
        raise InputError([Problem(str(path), f"not UTF-8 text: {exc.reason} at byte {exc.start}", 1)]) from exc
    header = next(csv.reader(io.StringIO(text)), [])
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise InputError([Problem(str(path), "duplicate column name(s) in the header", 1, c) for c in dupes])
    return header


def _read_csv(path: Path, header: list[str], number_columns: set[str]) -> tuple[pd.DataFrame, dict[str, object]]:
    """Arrow's multi-threaded reader: number columns take the missing-value tokens as empty,
    text columns never do, so a code such as 'NA' (Namibia) survives.

    Returns the text columns as a frame, and the number columns Arrow could parse whole, as
    Arrow columns (None: all missing) for `_fill_column`, without a pandas round trip. A number column holding text
    comes back in the frame, as text, to be checked cell by cell."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    text = {c: pa.string() for c in header if c not in number_columns}
    typed = text | {c: pa.float64() for c in header if c in number_columns}
    # 4 MiB blocks: measured fastest on a 36 MB file with 2 cores (Arrow's 1 MiB default
    # spends more on its per-block work).
    read = pacsv.ReadOptions(block_size=4 << 20)
    try:
        # Declaring the number columns float64 spares Arrow its type inference; a column
        # holding text makes that fail, and the file is read again with inference so each
        # bad cell can be reported.
        options = pacsv.ConvertOptions(null_values=list(MISSING_TOKENS), strings_can_be_null=False, column_types=typed)
        table = pacsv.read_csv(path, read_options=read, convert_options=options)
    except pa.ArrowInvalid:
        # Every column as text, each number cell then checked by parse_number: Arrow's own
        # inference would read a cell such as 0x10 as the integer 16.
        everything = {c: pa.string() for c in header}
        options = pacsv.ConvertOptions(null_values=list(MISSING_TOKENS), strings_can_be_null=False, column_types=everything)
        try:
            table = pacsv.read_csv(path, read_options=read, convert_options=options)
        except pa.ArrowInvalid as exc:
            raise InputError([Problem(str(path), f"cannot be read as CSV: {exc}")]) from exc
    numbers: dict[str, object] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if name in number_columns and (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
            numbers[name] = column
        elif name in number_columns and pa.types.is_null(column.type):
            numbers[name] = None  # every cell a missing-value token
    rest = table.drop_columns(list(numbers)) if numbers else table
    return rest.to_pandas(), numbers


def _fill_column(out: np.ndarray, column: object) -> None:
    """Copy an Arrow number column into `out`, chunk by chunk (nulls as NaN): one copy, not a
    concatenation first."""
    if column is None:
        out[:] = np.nan
        return
    start = 0
    for chunk in column.chunks:  # type: ignore[attr-defined]
        out[start : start + len(chunk)] = chunk.to_numpy(zero_copy_only=False)
        start += len(chunk)


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_INFINITY = re.compile(r"[+-]?(?:inf|infinity)", re.IGNORECASE)


_CONTROL = INVISIBLE  # unit codes: no control or invisible character (keys.INVISIBLE)
_CONTROL_RE = re.compile(_CONTROL)


def parse_number(text: str) -> float | None:
    """A number cell in the documented forms only: ASCII digits, an optional sign, decimal
    point and exponent (1000, -2.5, 1.2e3). Python's float() would also take `1_000`,
    full-width digits and other scripts' digits, silently; here they are not numbers. An
    infinity is returned as one, to be reported as such."""
    if _NUMBER.fullmatch(text):
        return float(text)
    if _INFINITY.fullmatch(text):
        return float(text)
    return None


def _to_numbers(col: pd.Series, file: str, column: str, problems: list[Problem]) -> np.ndarray:
    """A column as float64, reporting text and infinities with their row numbers."""
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        values = col.to_numpy(dtype=float, na_value=np.nan)
    else:
        values = np.full(len(col), np.nan)
        for i, cell in enumerate(col.to_numpy(dtype=object)):
            if cell is None or (isinstance(cell, float) and math.isnan(cell)):
                continue
            if isinstance(cell, bool):
                problems.append(Problem(file, f"'{cell}' is not a number", i + 2, column))
                continue
            if isinstance(cell, int | float | np.integer | np.floating):
                values[i] = float(cell)
                continue
            text = str(cell).strip()
            if text in MISSING_TOKENS:
                continue
            number = parse_number(text)
            if number is None:
                problems.append(Problem(file, f"text '{text}' in a number column (numbers are written like 1000, -2.5 or 1.2e3)", i + 2, column))
            else:
                values[i] = number
    _report_infinities(values, file, column, problems)
    return values


def _report_infinities(values: np.ndarray, file: str, column: str, problems: list[Problem]) -> None:
    bad = np.flatnonzero(np.isinf(values))
    for i in bad[:50]:
        problems.append(Problem(file, "infinite value", int(i) + 2, column))
    if len(bad) > 50:
        problems.append(Problem(file, f"{len(bad) - 50} more infinite values", None, column))


def _variables(framework: Framework) -> tuple[set[str], dict[str, str]]:
    """Codes a data file may carry numbers for, and what each is."""
    kinds: dict[str, str] = {}
    for code in framework.indicators:
        kinds[code] = "indicator"
    for code in framework.denominators:
        kinds.setdefault(code, "denominator")
    for code in framework.indicators:
        den = framework.node(code).denominator
        if den:
            kinds.setdefault(den, "denominator")
    for ctx in framework.context:
        kinds.setdefault(ctx.code, "context")
    return set(kinds), kinds


def _text(col: pd.Series) -> pd.Series:
    """A column as stripped text, a missing cell as '' (never the string 'nan')."""
    return col.astype(object).where(col.notna(), "").astype(str).str.strip()


# Characters no text cell may hold: C0 controls but tab, line feed and carriage return (which
# a quote may hold), and DEL. A spreadsheet cannot store them (openpyxl refuses the workbook).
_TEXT_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def _text_control_problems(file: str, frame: pd.DataFrame, columns: list[str], problems: list[Problem]) -> None:
    """A text cell holding a control character (NUL, \\x01...) is an error naming its row and
    column: such a character is invisible where it is read and breaks the XLSX export."""
    for col in columns:
        values = frame[col]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
            continue
        bad = values.astype(object).where(values.notna(), "").astype(str).str.contains(_TEXT_CONTROL, regex=True)
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(Problem(file, "a text cell with a control character (NUL, \\x01...), which no file "
                                          "or spreadsheet shows", int(i) + 2, str(col)))


def _unit_table(df: pd.DataFrame, file: str, problems: list[Problem]) -> pd.DataFrame:
    code_col = _find_column(list(df.columns), UNIT_COLUMNS)
    if code_col is None:
        problems.append(Problem(file, f"no unit code column (one of {', '.join(UNIT_COLUMNS)})"))
        return pd.DataFrame()
    codes = _text(df[code_col])
    for i in np.flatnonzero(codes.isin(["", "nan", "None"]).to_numpy()):
        problems.append(Problem(file, "empty unit code", int(i) + 2, code_col))
    for i in np.flatnonzero(codes.str.contains(_CONTROL, regex=True).to_numpy()):
        problems.append(Problem(file, "a unit code with a control or invisible character (tab, NUL, a right-to-left mark...)", int(i) + 2, code_col))
    dup = codes.duplicated(keep="first")
    for i in np.flatnonzero(dup.to_numpy()):
        first = int(np.flatnonzero((codes == codes.iloc[i]).to_numpy())[0]) + 2
        problems.append(Problem(file, f"duplicate unit '{codes.iloc[i]}' (first at row {first})", int(i) + 2, code_col))
    out = df.drop(columns=[code_col]).copy()
    out.index = pd.Index(codes, name="unit")
    if "uName" in out.columns and "name_en" not in out.columns:
        out = out.rename(columns={"uName": "name_en"})
    if "name" in out.columns and "name_en" not in out.columns:
        out = out.rename(columns={"name": "name_en"})
    return out


def load_units(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise InputError([Problem(str(path), "file not found")])
    problems: list[Problem] = []
    df = read_table(path)
    units = _unit_table(df, str(path), problems)
    code_col = _find_column(list(df.columns), UNIT_COLUMNS)
    _text_control_problems(str(path), df, [c for c in df.columns if c != code_col], problems)
    bounds = {"lat": (-90, 90), "lon": (-180, 180), "population": (0, math.inf)}
    for col, (lo, hi) in bounds.items():
        if col in units.columns:
            units[col] = _to_numbers(units[col].reset_index(drop=True), str(path), col, problems)
            for i in np.flatnonzero(~np.isnan(units[col].to_numpy()) & ~((units[col].to_numpy() >= lo) & (units[col].to_numpy() <= hi))):
                problems.append(Problem(str(path), f"{col} {units[col].iat[i]:g} is outside {lo:g} to {hi:g}", int(i) + 2, col))
    if problems:
        raise InputError(problems)
    return units


def _load_wide(
    path: Path,
    df: pd.DataFrame,
    framework: Framework,
    problems: list[Problem],
    parsed: dict[str, object] | None = None,
    header: list[str] | None = None,
) -> Dataset:
    """A row per unit. `parsed` holds number columns Arrow parsed whole (from a CSV);
    every other variable column in `df` is checked cell by cell. Columns keep the order of
    `header` (the file's)."""
    file = str(path)
    parsed = parsed or {}
    variables, _ = _variables(framework)
    units = _unit_table(df, file, problems)
    if _find_column(list(df.columns), UNIT_COLUMNS) is None:
        raise InputError(problems)  # no unit codes: nothing else in the file can be placed
    columns = list(units.columns) + [c for c in parsed if c not in units.columns]
    if header is not None:
        position = {c: i for i, c in enumerate(header)}
        columns.sort(key=lambda c: position.get(c, len(position)))
    for code in framework.indicators:
        if code not in columns:
            problems.append(Problem(file, f"indicator '{code}' of the framework has no column"))
    for code in framework.indicators:
        den = framework.node(code).denominator
        if den and den not in columns:
            problems.append(Problem(file, f"denominator '{den}' (used by '{code}') has no column"))
    codes = [c for c in columns if c in variables]
    # Column-major, as the values are read and as the pipeline walks them (per indicator).
    matrix = np.empty((len(units), len(codes)), order="F")
    for j, col in enumerate(codes):
        if col in parsed:
            _fill_column(matrix[:, j], parsed[col])
            _report_infinities(matrix[:, j], file, col, problems)
        else:
            matrix[:, j] = _to_numbers(units[col], file, col, problems)
    values = pd.DataFrame(matrix, index=units.index, columns=codes, copy=False)
    meta = units.drop(columns=[c for c in codes if c in units.columns])
    code_col = _find_column(list(df.columns), UNIT_COLUMNS)
    _text_control_problems(file, df, [c for c in df.columns if c not in variables and c != code_col], problems)
    return Dataset(values=values, units=meta, source=file)


def _load_long(path: Path, df: pd.DataFrame, framework: Framework, problems: list[Problem]) -> Dataset:
    file = str(path)
    variables, _ = _variables(framework)
    cols = {c.lower(): c for c in df.columns}
    known = LONG_REQUIRED + PROVENANCE_COLUMNS
    for c in df.columns:  # a misspelt 'publsher' would lose its values without a word
        if str(c).lower() not in known:
            problems.append(Problem(file, f"unknown column '{c}' (a long table holds {', '.join(known)})", 1, str(c)))
    df = df.rename(columns={cols[k]: k for k in cols if k in known})
    units_col = _text(df["unit"])
    ind_col = _text(df["indicator"])
    value = _to_numbers(df["value"], file, "value", problems)
    year = None
    if "year" in df.columns:
        year = _to_numbers(df["year"], file, "year", problems)
        frac = np.flatnonzero(~np.isnan(year) & (year != np.round(year)))
        for i in frac:
            problems.append(Problem(file, f"year {year[i]} is not a whole number", int(i) + 2, "year"))
        with np.errstate(invalid="ignore"):
            odd = np.flatnonzero(~np.isnan(year) & (year == np.round(year)) & ((year < 1800) | (year > 2100)))
        for i in odd:
            problems.append(Problem(file, f"year {year[i]:g} is not a year from 1800 to 2100", int(i) + 2, "year"))
    for i, code in enumerate(ind_col):
        if code not in variables:
            problems.append(Problem(file, f"unknown indicator code '{code}'", i + 2, "indicator"))
    for i, code in enumerate(units_col):
        if code in ("", "nan", "None"):
            problems.append(Problem(file, "empty unit code", i + 2, "unit"))
        elif _CONTROL_RE.search(code):
            problems.append(Problem(file, "a unit code with a control or invisible character (tab, NUL, a right-to-left mark...)", i + 2, "unit"))
    _text_control_problems(file, df, [c for c in PROVENANCE_COLUMNS if c in df.columns and c != "year"], problems)
    if "geo" in df.columns:
        problems.extend(_geo_problems(file, ind_col, _text(df["geo"]), framework))
    key = pd.DataFrame({"u": units_col, "i": ind_col, "y": year if year is not None else 0.0})
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        first_row: dict[tuple, int] = {}
        for i in np.flatnonzero(dup):
            k = (key.u.iat[i], key.i.iat[i], key.y.iat[i])
            if k in first_row:
                what = f"{k[0]} + {k[1]}" + (f" + {int(k[2])}" if year is not None and not math.isnan(k[2]) else "")
                problems.append(
                    Problem(file, f"duplicate {what} (first at row {first_row[k]})", int(i) + 2, "indicator")
                )
            else:
                first_row[k] = int(i) + 2
    obs = pd.DataFrame({"unit": units_col, "indicator": ind_col, "value": value})
    for col in PROVENANCE_COLUMNS:
        if col == "year":
            obs["year"] = year if year is not None else np.nan
        elif col in df.columns:
            obs[col] = df[col].to_numpy(dtype=object)
    obs["row"] = np.arange(len(obs)) + 2
    # Latest year per unit and indicator feeds the build; every row stays in `observations`.
    present = obs[~np.isnan(obs["value"].to_numpy())]
    latest = present.sort_values(["year", "row"], na_position="first").drop_duplicates(
        ["unit", "indicator"], keep="last"
    )
    values = latest.pivot(index="unit", columns="indicator", values="value")
    unit_order = list(dict.fromkeys(units_col))
    values = values.reindex(index=unit_order)
    values.columns.name = None
    units = pd.DataFrame(index=pd.Index(unit_order, name="unit"))
    obs["used"] = False
    obs.loc[latest.index, "used"] = True
    return Dataset(values=values, units=units, source=file, long_rows=obs)


def _geo_problems(file: str, indicators: pd.Series, geo: pd.Series, framework: Framework) -> list[Problem]:
    """A value measured at another level than its indicator declares (`geo:` in the
    framework) is an error: a national figure must not pass for a city's."""
    declared = {c: framework.nodes[c].geo for c in framework.indicators if framework.nodes[c].geo}
    if not declared:
        return []
    want = indicators.map(declared)
    bad = want.notna() & geo.ne("") & geo.ne(want)
    return [Problem(file, f"'{indicators.iat[i]}' is measured at {want.iat[i]} level (framework) but this value's geo is "
                          f"'{geo.iat[i]}'", int(i) + 2, "geo")
            for i in np.flatnonzero(bad.to_numpy())]


def _is_long(path: Path, header: list, framework: Framework) -> bool:
    """Whether a table is long (`unit, indicator, value`, any case) rather than wide. A header
    with `unit` and `indicator` but no `value` is a long table missing its values, unless the
    framework has an indicator coded `indicator`: an error naming what the header holds."""
    names = {str(h).lower() for h in header}
    if all(c in names for c in LONG_REQUIRED):
        return True
    if {"unit", "indicator"} <= names and "indicator" not in framework.indicators:
        found = ", ".join(str(h) for h in header)
        raise InputError([Problem(str(path), f"a long table (unit, indicator, value) needs a 'value' column; the header has {found}", 1)])
    return False


def _read_dataset(path: Path, framework: Framework, variables: set[str]) -> tuple[Dataset, bool, list[Problem]]:
    """XLSX and Parquet are read once, typed as stored. A CSV's header decides which columns
    are numbers before Arrow parses the body."""
    problems: list[Problem] = []
    if not _is_csv(path):
        before = path.stat()
        df = read_table(path)
        is_long = _is_long(path, list(df.columns), framework)
        dataset = (_load_long if is_long else _load_wide)(path, df, framework, problems)
        dataset._pending_hashes[str(path)] = _hasher().submit(_unchanged_file_hash, path, before)
        return dataset, is_long, problems
    before = path.stat()
    with open(path, "rb") as fh:
        header = _csv_header(path, fh.read(1 << 20))
    is_long = _is_long(path, header, framework)
    if is_long:
        df, parsed = _read_csv(path, header, {c for c in header if c.lower() in ("value", "year")})
        filled = {c: np.empty(len(df)) for c in parsed}
        for c, column in parsed.items():
            _fill_column(filled[c], column)
        df = df.assign(**{c: pd.Series(v, index=df.index) for c, v in filled.items()})[header]
        dataset = _load_long(path, df, framework, problems)
    else:
        df, parsed = _read_csv(path, header, variables)
        dataset = _load_wide(path, df, framework, problems, parsed, header)
    # Hashed after the parse, which keeps both cores busy itself, while the pipeline's
    # single-threaded steps leave one idle.
    dataset._pending_hashes[str(path)] = _hasher().submit(_unchanged_file_hash, path, before)
    return dataset, is_long, problems


def _read_frame(frame: pd.DataFrame, framework: Framework) -> tuple[Dataset, bool, list[Problem]]:
    """An in-memory table, long or wide, checked as a file would be (rows numbered as a
    spreadsheet would show them). Its hash is of its content, so a run stays traceable."""
    import hashlib

    name = Path("<DataFrame>")
    # a named index is a column (e.g. the unit codes set as the index); a plain one is dropped
    df = frame.reset_index() if any(n is not None for n in frame.index.names) else frame.reset_index(drop=True)
    problems: list[Problem] = []
    is_long = _is_long(name, list(df.columns), framework)
    dataset = (_load_long if is_long else _load_wide)(name, df, framework, problems)
    digest = hashlib.sha256(pd.util.hash_pandas_object(df.astype(str), index=True).values.tobytes()).hexdigest()
    dataset._hashes[str(name)] = digest
    return dataset, is_long, problems


def load_data(
    source: str | Path | Dataset | pd.DataFrame | None,
    framework: Framework,
    units: str | Path | pd.DataFrame | None = None,
) -> Dataset:
    """Read a data file in long (`unit, indicator, value, ...`) or wide (a row per unit) form."""
    if isinstance(source, Dataset):
        return source
    if isinstance(source, pd.DataFrame):
        path = Path("<DataFrame>")
        dataset, is_long, problems = _read_frame(source, framework)
    else:
        if source is None:
            from aicity.bundled import data_path, units_path

            source, units = data_path(), units if units is not None else units_path()
        path = Path(source)
        if not path.exists():
            raise InputError([Problem(str(path), "file not found")])
        variables, _ = _variables(framework)
        dataset, is_long, problems = _read_dataset(path, framework, variables)
    if units is not None:
        if isinstance(units, pd.DataFrame) and _find_column(list(units.columns), UNIT_COLUMNS) is not None:
            unit_table = _unit_table(units, "<units>", problems)  # a table with a code column, as a file would be
            code_col = _find_column(list(units.columns), UNIT_COLUMNS)
            _text_control_problems("<units>", units, [c for c in units.columns if c != code_col], problems)
        else:
            unit_table = units if isinstance(units, pd.DataFrame) else load_units(units)
        if not isinstance(units, pd.DataFrame):
            # Queued after the data file's, so the run records them in that order.
            dataset._pending_hashes[str(units)] = _hasher().submit(_unchanged_file_hash, Path(units), Path(units).stat())
        unit_file = str(units) if not isinstance(units, pd.DataFrame) else "<units>"
        unknown = [u for u in dataset.values.index if u not in unit_table.index]
        if is_long:
            rows = dataset.long_rows
            for u in unknown:
                first = int(rows.loc[rows.unit == u, "row"].iloc[0])
                problems.append(Problem(str(path), f"unknown unit '{u}' (not in {unit_file})", first, "unit"))
        else:
            for u in unknown:
                problems.append(Problem(str(path), f"unknown unit '{u}' (not in {unit_file})"))
        if problems:  # e.g. a duplicate unit: the tables cannot be aligned, and need not be
            raise InputError(problems)
        # Units in the unit table without any value are kept: they show as all-missing.
        order = list(unit_table.index) + [u for u in dataset.values.index if u not in unit_table.index]
        dataset.values = dataset.values.reindex(index=order)
        extra = dataset.units.reindex(index=order)
        merged = unit_table.reindex(index=order)
        for col in extra.columns:
            if col not in merged.columns:
                merged[col] = extra[col]
        dataset.units = merged
    if problems:
        raise InputError(problems)
    return dataset


def describe_coverage(dataset: Dataset, codes: list[str]) -> pd.DataFrame:
    """Share of the given indicators present for each unit."""
    present = ~np.isnan(dataset.matrix(codes))
    return pd.DataFrame(
        {"present": present.sum(axis=1), "of": len(codes), "coverage": present.mean(axis=1)},
        index=dataset.values.index,
    )




def find_unit(dataset: Dataset, query: str) -> str:
    """A unit code from its code or its name in any language ('SEL', 'Seoul', '서울', 'ソウル')."""
    q = query.strip().casefold()
    codes = dataset.unit_codes
    for code in codes:
        if str(code).casefold() == q:
            return code
    name_cols = [c for c in dataset.units.columns if c.startswith("name") or c == "uName"]
    for col in name_cols:
        for code, name in dataset.units[col].items():
            if isinstance(name, str) and name.strip().casefold() == q:
                return code
    raise UnitNotFound([Problem(dataset.source, f"no unit '{query}' (by code or by name in en/ko/ja)")])
