"""Writing a result to files: tidy CSV (full precision), JSON, and an XLSX workbook for analysts.

Every file is written beside its target and moved into place, so an interrupted write never
leaves half a file where a complete one was. A build's files are written together
(`staged`): all into a fresh folder inside the output folder, then moved into place only
once every one of them is complete, so a build that fails midway leaves the previous outputs
exactly as they were. Only the files a build writes are replaced; nothing else in the output
folder is touched.

Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return
first) is written with a leading `'` in every CSV and XLSX file (`neutralise`), as OWASP
recommends for spreadsheet exports; numbers stay numbers.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from aicity.errors import InputError, Problem
from aicity.i18n import is_missing
from aicity.result import IndexResult

# openpyxl writes roughly 100k cells a second; past this a workbook would dominate the build.
XLSX_AUTO_MAX_CELLS = 1_000_000


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- text a spreadsheet must not run --------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The one rule for text in spreadsheet exports (OWASP, CSV injection): text beginning
    with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so Excel,
    LibreOffice or Sheets show it as text and never run it as a formula; anything else,
    numbers included (a negative number is a number), is returned unchanged.

        >>> neutralise('=HYPERLINK("http://x","y")'), neutralise("-3"), neutralise(-3), neutralise("Seoul")
        ('\'=HYPERLINK("http://x","y")', "'-3", -3, 'Seoul')
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _safe_values(values: pd.Series | pd.Index) -> pd.Series | pd.Index:
    if isinstance(values.dtype, pd.CategoricalDtype):
        if not any(isinstance(c, str) and c.startswith(FORMULA_STARTS) for c in values.dtype.categories):
            return values
        return values.astype(object).map(neutralise)
    if not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
        return values  # numbers, booleans, dates: never text
    try:
        risky = values.str.startswith(FORMULA_STARTS, na=False)
    except AttributeError:  # no text at all (e.g. only None)
        return values
    risky = np.asarray(risky, dtype=bool)
    if not risky.any():
        return values
    return values.map(neutralise)


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with `neutralise` applied to every text cell, column label and index label
    (the frame itself is left as it was)."""
    out = frame.copy(deep=False)
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        safe = _safe_values(col)
        if safe is not col:
            out.isetitem(i, safe)
    if not isinstance(out.columns, pd.MultiIndex):
        out.columns = pd.Index([neutralise(c) for c in out.columns], name=neutralise(out.columns.name))
    if not isinstance(out.index, pd.MultiIndex):
        out.index = _safe_values(out.index).rename(neutralise(out.index.name))
    return out


def to_excel(frame: pd.DataFrame, writer: pd.ExcelWriter, sheet_name: str, index: bool = True) -> None:
    """`DataFrame.to_excel` with every text cell written as text (`safe_frame`): no cell of an
    export is ever a formula."""
    safe_frame(frame).to_excel(writer, sheet_name=sheet_name, index=index)


def to_csv(frame: pd.DataFrame, path: Path, index: bool = False) -> None:
    """`DataFrame.to_csv` with every text cell neutralised (`safe_frame`)."""
    safe_frame(frame).to_csv(path, index=index)


# -- a build's files, moved into place together --------------------------------------------


def check_out_folder(out: Path, option: str = "--out") -> None:
    """`out` can hold output files: a folder, or nothing yet under a folder (it is made). A
    file in its place, or above it, is an error naming the option, before anything runs."""
    out = Path(out)
    for place in (out, *out.parents):
        if place.exists():
            if not place.is_dir():
                what = "is a file" if place == out else f"is below the file {place}"
                raise InputError([Problem(option, f"'{out}' {what}: give a folder for the outputs")])
            return


class Staging:
    """Output files written into a fresh folder inside `out` (the same file system, so moving
    them is a rename) and moved into place together by `commit`. Write each file to
    `path(name)`; `final(name)` is where it will be."""

    def __init__(self, out: Path):
        self.out = out
        check_out_folder(out)
        out.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=".aicity-staging-", dir=out))
        self.names: list[str] = []

    def path(self, name: str) -> Path:
        if name not in self.names:
            self.names.append(name)
        return self.dir / name

    def final(self, name: str) -> Path:
        return self.out / name

    def commit(self) -> None:
        """Move every staged file into place. Should a move fail, the files already moved are
        put back as they were (the previous file, or none), so the folder holds either all
        the new files or all the old ones."""
        backups = self.dir / ".previous"
        backups.mkdir()
        umask = os.umask(0)
        os.umask(umask)
        moved: list[tuple[str, bool]] = []
        try:
            for name in self.names:
                src = self.dir / name
                if not src.exists():
                    continue
                os.chmod(src, 0o666 & ~umask)
                target = self.out / name
                had = target.exists()
                if had:
                    _keep(target, backups / name)
                os.replace(src, target)
                moved.append((name, had))
        except BaseException:
            for name, had in reversed(moved):
                if had:
                    os.replace(backups / name, self.out / name)
                else:
                    (self.out / name).unlink(missing_ok=True)
            raise
        finally:
            self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _keep(target: Path, backup: Path) -> None:
    """A copy of the previous file to put back should the commit fail (a hard link: free)."""
    try:
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)


@contextmanager
def staged(out: Path) -> Iterator[Staging]:
    """A `Staging` for `out`: committed when the block ends, discarded (the previous outputs
    untouched) when it raises."""
    stage = Staging(out)
    try:
        yield stage
    except BaseException:
        stage.discard()
        raise
    stage.commit()


def results_table(result: IndexResult, group: str | None = None) -> pa.Table:
    """The tidy results (`IndexResult.to_frame`'s rows and columns: unit, code, level, score,
    rank, imputed, n_imputed[, national where the framework has a national group][, group,
    group_rank]) as one Arrow table, built once from the
    arrays and shared by results.csv, results.parquet and the run store. Unit, code and group
    are dictionary-encoded: 2.5 million rows cost their few thousand distinct strings."""
    codes, n_units = result.codes, len(result.units)
    unit_idx = pa.array(np.repeat(np.arange(n_units, dtype=np.int32), len(codes)))
    counts = result.imputed_counts().reshape(-1)
    columns: dict[str, Any] = {
        "unit": pa.DictionaryArray.from_arrays(unit_idx, pa.array([str(u) for u in result.units], pa.string())),
        "code": pa.DictionaryArray.from_arrays(pa.array(np.tile(np.arange(len(codes), dtype=np.int32), n_units)),
                                               pa.array(codes, pa.string())),
        "level": np.tile(np.array([result.framework.levels[c] for c in codes], dtype=np.int64), n_units),
        # missing is null (an empty CSV cell, NULL in the store), never the float NaN
        "score": pa.array(np.ascontiguousarray(result.scores_array).reshape(-1), from_pandas=True),
        "rank": pa.array(np.ascontiguousarray(result.ranks_array).reshape(-1), from_pandas=True),
        "imputed": counts > 0,
        "n_imputed": counts,
    }
    fw = result.framework
    if any(fw.node(c).national for c in codes):
        # an index with a pillar of national figures marks every score that rests on them
        columns["national"] = np.tile(np.array([fw.is_national(c) for c in codes], dtype=bool), n_units)
    if group is not None:
        labels = result.dataset.unit_column(group)[pd.Index(result.dataset.unit_codes).get_indexer(result.units)]
        columns["group"] = pa.DictionaryArray.from_arrays(unit_idx, pa.array([None if is_missing(v) else str(v) for v in labels], pa.string()))
        columns["group_rank"] = pa.array(result.group_ranks(group).to_numpy().reshape(-1), from_pandas=True)
    return pa.table(columns)


def neutralised(table: pa.Table) -> pa.Table:
    """`table` with `neutralise` applied to its text, for a spreadsheet export; dictionary
    columns are neutralised in their dictionaries only (a few thousand strings, not millions)."""
    out = table
    for i, field in enumerate(table.schema):
        col = table.column(i)
        if pa.types.is_dictionary(field.type):
            chunks = [pa.DictionaryArray.from_arrays(c.indices, pa.array([neutralise(v) for v in c.dictionary.to_pylist()], pa.string()))
                      for c in col.chunks]
            out = out.set_column(i, field.name, pa.chunked_array(chunks, type=chunks[0].type) if chunks else col)
        elif pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            out = out.set_column(i, field.name, pa.array([neutralise(v) for v in col.to_pylist()], field.type))
    return out


def write_csv(result: IndexResult, path: Path, group: str | None = None, table: pa.Table | None = None) -> None:
    """results.csv: the tidy table at full precision, text neutralised for spreadsheets."""
    table = neutralised(results_table(result, group) if table is None else table)
    atomic_write(path, lambda p: write_csv_parts(table, p))


CSV_PART_ROWS = 500_000  # a table this long or longer is written as a CSV in parts, at once
# Rows Arrow's CSV writer formats per batch. Its default (1,024) spends a fifth of the time on
# per-batch work: 65,536 writes the same bytes with 20 % less CPU (0.515 -> 0.416 CPU-s for
# 2.49 million rows, benchmarks/bench_build.py's table).
CSV_BATCH_ROWS = 65_536


def write_csv_parts(table: pa.Table, path: Path, parts: int | None = None) -> None:
    """`table` as CSV in `path`, the same bytes as one `pyarrow.csv.write_csv`, written in
    `parts` row slices at once (default: one per core, each at least `CSV_PART_ROWS` rows;
    Arrow's writer is one thread per call and releases the GIL). The first slice goes to
    `path`, the others to files beside it, appended in order by the kernel, then removed."""
    if parts is None:
        parts = max(1, min(os.cpu_count() or 1, len(table) // CSV_PART_ROWS))
    batched = pacsv.WriteOptions(batch_size=CSV_BATCH_ROWS)
    if parts <= 1:
        pacsv.write_csv(table, path, batched)
        return
    from concurrent.futures import ThreadPoolExecutor

    bounds = np.linspace(0, len(table), parts + 1).astype(int)
    tails = [path.with_name(f"{path.name}.part{i}") for i in range(1, parts)]
    no_header = pacsv.WriteOptions(include_header=False, batch_size=CSV_BATCH_ROWS)
    try:
        with ThreadPoolExecutor(parts - 1, thread_name_prefix="aicity-csv") as pool:
            futures = [pool.submit(pacsv.write_csv, table.slice(a, b - a), tail, no_header)
                       for a, b, tail in zip(bounds[1:-1], bounds[2:], tails, strict=True)]
            pacsv.write_csv(table.slice(0, bounds[1]), path, batched)
            for f in futures:
                f.result()
        with path.open("r+b") as out:  # not "ab": Linux's sendfile refuses a file opened to append
            out.seek(0, os.SEEK_END)
            for tail in tails:
                _append(tail, out)
                tail.unlink()  # at once: the disk holds the CSV about once, not twice
    finally:
        for tail in tails:
            tail.unlink(missing_ok=True)


def _append(source: Path, out: Any) -> None:
    """`source`'s bytes at the end of the open file `out`, copied in the kernel where it can."""
    out.flush()
    send = getattr(os, "sendfile", None)  # none on Windows
    with source.open("rb") as src:
        size = os.fstat(src.fileno()).st_size
        offset = 0
        try:
            while send is not None and offset < size:
                sent = send(out.fileno(), src.fileno(), offset, size - offset)
                if sent == 0:
                    break
                offset += sent
        except OSError:
            pass  # no sendfile between these files (macOS wants a socket): copy the rest through Python
        if offset < size:
            src.seek(offset)
            shutil.copyfileobj(src, out, 1 << 20)


def write_parquet(result: IndexResult, path: Path, group: str | None = None, table: pa.Table | None = None) -> None:
    """results.parquet: the same table, typed and compressed (snappy; what analysts load at
    this size). Written by pyarrow, dictionary-encoded as it is held (0.14 s for 2.5 million
    rows against DuckDB's 0.24 s on one thread); without the Arrow schema, so readers get
    plain text columns for unit and code, not categories."""
    import pyarrow.parquet as pq

    table = results_table(result, group) if table is None else table
    atomic_write(path, lambda p: pq.write_table(table, p, store_schema=False))


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def result_json(result: IndexResult, matrices: bool = True) -> dict[str, Any]:
    """Everything but the big matrices, which `write_json` streams in with a C encoder."""
    fw = result.framework
    codes = result.codes

    units = np.array(result.units, dtype=object)

    def matrix(a: np.ndarray) -> list[list[float | None]]:
        return [[_clean(v) for v in row] for row in a.tolist()] if matrices else []

    return {
        "index": fw.index_code,
        "spec": result.spec_dict(),
        "units": [{"code": u, "name": result.dataset.unit_name(u)} for u in result.units],
        "codes": [{"code": c, "level": fw.levels[c], "parent": fw.node(c).parent, "name": fw.node(c).name()} for c in codes],
        "scores": matrix(result.scores_array),
        "ranks": matrix(result.ranks_array),
        "imputed": {c: units[np.flatnonzero(result.imputed_array[:, j])].tolist() for j, c in enumerate(fw.indicators)},
        "screened_out": result.screened_out.to_dict(orient="records"),
        "warnings": result.warnings,
        **({"bod_weights": result.bod_weights.to_dict(orient="records")} if len(result.bod_weights) else {}),
    }


JSON_BLOCK_ROWS = 1_024  # units per piece of a results.json matrix


def matrix_json(a: np.ndarray, rows: int = JSON_BLOCK_ROWS) -> Iterator[bytes | memoryview]:
    """A units x codes matrix as JSON rows, in pieces of `rows` units that join into exactly
    what one `orjson.dumps` of the whole matrix gives: orjson writes numpy arrays natively,
    every float at its shortest round-trip form and NaN as null (measured 4x faster than
    pandas' encoder on 10,000 x 249). In pieces, a 10,000-unit matrix never holds its 45 MB
    of text at once, nor a second copy of its numbers."""
    import orjson

    yield b"["
    for start in range(0, len(a), rows):
        block = orjson.dumps(np.ascontiguousarray(a[start:start + rows], dtype=float), option=orjson.OPT_SERIALIZE_NUMPY)
        if start:
            yield b","
        yield memoryview(block)[1:-1]
    yield b"]"


def write_json(result: IndexResult, path: Path) -> None:
    """results.json: units, codes, spec, warnings, and scores/ranks as units x codes matrices."""
    payload = result_json(result, matrices=False)
    head = json.dumps(payload, ensure_ascii=False, allow_nan=False, default=str).encode()
    # the matrices go where their empty placeholders are, written piece by piece
    before, rest = head.split(b'"scores": []', 1)
    middle, after = rest.split(b'"ranks": []', 1)

    def write(p: Path) -> None:
        with p.open("wb") as f:
            f.write(before + b'"scores": ')
            f.writelines(matrix_json(result.scores_array))
            f.write(middle + b'"ranks": ')
            f.writelines(matrix_json(result.ranks_array))
            f.write(after)

    atomic_write(path, write)


def xlsx_cells(result: IndexResult) -> int:
    return result.scores_array.size * 2 + result.stages["raw"].size


def write_xlsx(result: IndexResult, path: Path) -> None:
    """A sheet per level (scores and ranks), the raw data with imputed cells listed, metadata,
    sources, treatment and screening reports, and the spec."""
    fw = result.framework

    def write(p: Path) -> None:
        with pd.ExcelWriter(p, engine="openpyxl") as xl:
            for level in range(fw.n_levels, 0, -1):
                name = "Index" if level == fw.n_levels else ("Indicators" if level == 1 else f"Level {level}")
                to_excel(result.table(level), xl, sheet_name=name)
            to_excel(result.stages["raw"], xl, sheet_name="Data")
            imputed = result.imputed.stack()
            imputed = imputed[imputed].reset_index()
            if len(imputed):
                imputed.columns = ["unit", "indicator", "imputed"]
                to_excel(imputed, xl, sheet_name="Imputed", index=False)
            to_excel(fw.to_frame(), xl, sheet_name="Metadata", index=False)
            obs = result.dataset.observations
            to_excel(obs, xl, sheet_name="Sources", index=False)
            if len(result.treatment):
                to_excel(result.treatment, xl, sheet_name="Treatment", index=False)
            to_excel(result.screened_out, xl, sheet_name="Screened out", index=False)
            if len(result.bod_weights):
                to_excel(result.bod_weights, xl, sheet_name="BoD weights", index=False)
            spec = pd.DataFrame(
                [{"step": s, "parameters": json.dumps(p, ensure_ascii=False)} for s, p in result.spec]
            )
            to_excel(spec, xl, sheet_name="Spec", index=False)

    atomic_write(path, write)


XLSX_CHOICES = ("auto", "always", "never")


def check_xlsx_choice(xlsx: str) -> None:
    """`xlsx` is auto (a workbook unless it would be very large), always or never."""
    if xlsx not in XLSX_CHOICES:
        raise InputError([Problem("--xlsx", f"'{xlsx}': choose {', '.join(XLSX_CHOICES[:-1])} or {XLSX_CHOICES[-1]}")])


def write_outputs(result: IndexResult, out: Path | Staging, *, xlsx: str = "auto", group: str | None = None,
                  table: pa.Table | None = None, timings: dict[str, float] | None = None) -> dict[str, Path | str]:
    """results.csv, results.parquet, results.json, bod_weights.csv (benefit of the doubt) and
    (unless too large under `auto`) results.xlsx in `out`, moved into place together once all
    are written (or into a `Staging` the caller commits). The files are written at once, in
    threads (Arrow's writers release the GIL), from one tidy table (`results_table`, or
    `table` when the caller has it); `timings` (a dict) receives each file's seconds."""
    check_xlsx_choice(xlsx)
    if not isinstance(out, Staging):
        with staged(out) as stage:
            return write_outputs(result, stage, xlsx=xlsx, group=group, table=table, timings=timings)
    from concurrent.futures import ThreadPoolExecutor

    stage = out
    table = results_table(result, group) if table is None else table
    jobs: dict[str, tuple[str, Callable[[], None]]] = {
        "csv": ("results.csv", lambda: write_csv(result, stage.path("results.csv"), table=table)),
        "parquet": ("results.parquet", lambda: write_parquet(result, stage.path("results.parquet"), table=table)),
        "json": ("results.json", lambda: write_json(result, stage.path("results.json"))),
    }
    if len(result.bod_weights):  # benefit of the doubt: each unit's own weights
        jobs["bod_weights"] = ("bod_weights.csv", lambda: to_csv(result.bod_weights, stage.path("bod_weights.csv")))
    cells = xlsx_cells(result)
    skipped = None
    if xlsx == "always" or (xlsx == "auto" and cells <= XLSX_AUTO_MAX_CELLS):
        jobs["xlsx"] = ("results.xlsx", lambda: write_xlsx(result, stage.path("results.xlsx")))
    elif xlsx == "auto":
        skipped = f"skipped: {cells:,} cells (over {XLSX_AUTO_MAX_CELLS:,}); use --xlsx always"

    def timed(job: Callable[[], None]) -> float:
        t0 = time.perf_counter()
        job()
        return time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=min(len(jobs), 3), thread_name_prefix="aicity-write") as pool:
        futures = {kind: pool.submit(timed, job) for kind, (_, job) in jobs.items()}
        seconds = {kind: f.result() for kind, f in futures.items()}  # re-raises the first failure
    if timings is not None:
        timings.update(seconds)
    written: dict[str, Path | str] = {kind: stage.final(name) for kind, (name, _) in jobs.items()}
    if skipped is not None:
        written["xlsx"] = skipped
    return written
