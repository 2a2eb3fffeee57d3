"""The run store: every build with its spec, input hashes, timestamps and results, in DuckDB.

A run is written in one transaction: a build killed midway leaves no partial run and every
earlier run intact (DuckDB discards uncommitted work when it reopens the file).

Several processes share one store (CLI builds, `aicity serve` with any number of workers):
DuckDB lets one process at a time open the file, so the store is opened only for the length
of one transaction (connect, read or write, close), reads read-only. A process that finds the
file held by another waits for it, retrying, up to `wait` seconds (default 30, or
$AICITY_STORE_WAIT) and says once that it is waiting; past that it gives up with a clear
`StoreBusy`. Every problem with the file (not a DuckDB file, corrupt, read-only, a folder the
system refuses) is a `StoreError` naming the store's path, never a traceback.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from aicity import __version__
from aicity.errors import InputError, Problem
from aicity.result import IndexResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    index_code VARCHAR NOT NULL,
    framework VARCHAR,
    data VARCHAR,
    spec JSON NOT NULL,
    input_hashes JSON NOT NULL,
    n_units INTEGER NOT NULL,
    n_codes INTEGER NOT NULL,
    screened_out JSON,
    warnings JSON,
    duration_s DOUBLE,
    aicity_version VARCHAR,
    label VARCHAR
);
CREATE TABLE IF NOT EXISTS uncertainty_runs (
    run_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    index_code VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    samples INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    inputs JSON NOT NULL,
    input_hashes JSON NOT NULL,
    rank_intervals JSON NOT NULL,
    sensitivity JSON
);
-- A run's results, normalised: its units and codes once each, its scores and ranks as
-- integer ids (strings repeated on 2.5 million rows cost DuckDB five times the numbers).
-- The view `results` below joins them back into one row per unit and code.
CREATE TABLE IF NOT EXISTS result_runs (
    run_key INTEGER PRIMARY KEY,
    run_id VARCHAR NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS result_units (
    run_key INTEGER NOT NULL,
    unit_id INTEGER NOT NULL,
    unit VARCHAR NOT NULL,
    unit_name VARCHAR
);
CREATE TABLE IF NOT EXISTS result_codes (
    run_key INTEGER NOT NULL,
    code_id INTEGER NOT NULL,
    code VARCHAR NOT NULL,
    level INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS result_values (
    run_key INTEGER NOT NULL,
    unit_id INTEGER NOT NULL,
    code_id INTEGER NOT NULL,
    score DOUBLE,
    rank DOUBLE,
    n_imputed INTEGER
);
"""

# One row per run, unit and code: what every read (and anyone querying the file) uses.
RESULTS_VIEW = """
CREATE VIEW results AS
SELECT k.run_id, u.unit, u.unit_name, c.code, c.level, v.score, v.rank, v.n_imputed
FROM result_values v
JOIN result_runs k ON k.run_key = v.run_key
JOIN result_units u ON u.run_key = v.run_key AND u.unit_id = v.unit_id
JOIN result_codes c ON c.run_key = v.run_key AND c.code_id = v.code_id
"""

# A store written before the results were normalised holds them in a table `results` with the
# view's columns: moved into the normalised tables (one transaction) the first time the store
# is opened for writing. Until then reads use that table, which has the view's shape.
MIGRATE_RESULTS = """
INSERT INTO result_runs
    SELECT coalesce((SELECT max(run_key) FROM result_runs), 0) + row_number() OVER (ORDER BY run_id), run_id
    FROM (SELECT DISTINCT run_id FROM results);
INSERT INTO result_units
    SELECT k.run_key, row_number() OVER (PARTITION BY k.run_key ORDER BY r.unit) - 1, r.unit, r.unit_name
    FROM (SELECT run_id, unit, any_value(unit_name) AS unit_name FROM results GROUP BY run_id, unit) r
    JOIN result_runs k ON k.run_id = r.run_id;
INSERT INTO result_codes
    SELECT k.run_key, row_number() OVER (PARTITION BY k.run_key ORDER BY r.code) - 1, r.code, r.level
    FROM (SELECT run_id, code, any_value(level) AS level FROM results GROUP BY run_id, code) r
    JOIN result_runs k ON k.run_id = r.run_id;
INSERT INTO result_values
    SELECT k.run_key, u.unit_id, c.code_id, r.score, r.rank, r.n_imputed
    FROM results r
    JOIN result_runs k ON k.run_id = r.run_id
    JOIN result_units u ON u.run_key = k.run_key AND u.unit = r.unit
    JOIN result_codes c ON c.run_key = k.run_key AND c.code = r.code;
DROP TABLE results;
"""


def _create_schema(con: duckdb.DuckDBPyConnection, say: Callable[[str], None] | None = None) -> None:
    """The store's tables and the `results` view; a store with the earlier `results` table is
    migrated (one transaction, said once through `say`: a large store takes seconds). Called
    on connections opened for writing only."""
    con.execute(SCHEMA)
    kind = con.execute("SELECT table_type FROM information_schema.tables "
                       "WHERE table_schema = 'main' AND table_name = 'results'").fetchone()
    if kind is None:
        con.execute(RESULTS_VIEW)
    elif kind[0] == "BASE TABLE":
        if say is not None:
            rows = con.execute("SELECT count(*) FROM results").fetchone()[0]
            say(f"moving the store's {rows:,} result rows into its new layout (once; older aicity versions "
                "can read the store afterwards but not write it)…")
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(MIGRATE_RESULTS)
            con.execute(RESULTS_VIEW)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


# Uploaded data sets (the web's POST /api/datasets): every upload a new version, never
# overwritten. Created on first use, so a store that never took an upload has no such table.
DATASETS_SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    uploaded_at TIMESTAMP NOT NULL,
    sha256 VARCHAR NOT NULL,
    n_bytes INTEGER NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (name, version)
);
"""


def default_store_path() -> Path:
    """$AICITY_STORE, else the user's data directory (XDG_DATA_HOME or ~/.local/share)."""
    if os.environ.get("AICITY_STORE"):
        return Path(os.environ["AICITY_STORE"])
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "aicity" / "aicity.duckdb"


DEFAULT_WAIT_S = 30.0  # how long to wait for a store another process holds


THREAD_WAIT_S = 60.0  # the least a call waits for another thread of this process (whose transactions take ms)


def default_wait(raw: str | None = None) -> float:
    """The seconds to wait for a store another process holds: `raw` (the value of
    $AICITY_STORE_WAIT, read from the environment when not given), else 30."""
    raw = (os.environ.get("AICITY_STORE_WAIT", "") if raw is None else raw).strip()
    if not raw:
        return DEFAULT_WAIT_S
    try:
        wait = float(raw)
    except ValueError:
        raise InputError([Problem("$AICITY_STORE_WAIT", f"'{raw}' is not a number of seconds")]) from None
    if not wait >= 0:
        raise InputError([Problem("$AICITY_STORE_WAIT", f"'{raw}' is not a number of seconds (0 or more)")])
    return wait


class RunNotFound(LookupError):
    pass


class StoreError(InputError):
    """The run store's file cannot be used: not a DuckDB file, corrupt, read-only, or a folder
    the system refuses. The message names the store's path."""


class StoreBusy(StoreError):
    """Another process held the store for longer than the wait."""


def _say_waiting(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# One lock per store file and process: the threads of one process take turns (DuckDB refuses
# a second connection to a file with another configuration, read-only next to read-write).
_PROCESS_LOCKS: dict[str, threading.RLock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


def _process_lock(path: Path) -> threading.RLock:
    key = os.path.abspath(path)
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(key, threading.RLock())


def _held_elsewhere(exc: BaseException) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Store:
    """The DuckDB run store: every build and uncertainty run, with its spec and input hashes,
    each written in one transaction. Making one checks the store (it opens, it is a DuckDB
    file and, unless `read_only`, it can be written); each call then opens the file for
    its own transaction only, so other processes can use the store in between. `on_wait`
    takes what the store has to tell the user while it works (waiting for another process, a
    one-off migration of an older store); by default a line on stderr.

        >>> import tempfile, aicity
        >>> with tempfile.TemporaryDirectory() as d, Store(f"{d}/runs.duckdb") as st:
        ...     run_id = st.save(aicity.build())
        ...     len(st.runs())
        1
    """

    def __init__(self, path: str | Path | None = None, read_only: bool = False, *,
                 wait: float | None = None, on_wait: Callable[[str], None] | None = None):
        self.path = Path(path) if path else default_store_path()
        self.read_only = read_only
        self.wait = default_wait() if wait is None else wait
        self.on_wait = on_wait or _say_waiting
        self.check()

    # -- opening the file, one transaction at a time -------------------------------------
    def _problem(self, reason: str) -> StoreError:
        return StoreError([Problem(str(self.path), reason)])

    def check(self) -> None:
        """Raise a StoreError unless the store can be opened (and, unless read-only, written)."""
        if self.path.is_dir():
            raise self._problem("the run store is a folder, not a DuckDB file")
        if self.read_only:
            if self.path.exists():
                with self._connect(write=False):
                    pass
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._problem(f"the run store's folder cannot be made: {exc.strerror or exc}") from None
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise self._problem("the run store is read-only (this user may not write it)")
        if not os.access(self.path.parent, os.W_OK | os.X_OK):
            raise self._problem(f"the run store's folder {self.path.parent} is read-only "
                                "(DuckDB writes a journal beside the store)")
        with self._connect(write=True) as con:
            _create_schema(con, say=self.on_wait)

    def _open(self, write: bool, deadline: float) -> duckdb.DuckDBPyConnection:
        said = False
        delay = 0.05
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=not write)
                con.execute("SET enable_progress_bar = false")  # it would print to stdout, inside a command's output
                return con
            except (duckdb.Error, OSError) as exc:
                if not _held_elsewhere(exc):
                    raise self._problem(f"the run store cannot be opened: {_reason(exc)}") from None
                now = time.monotonic()
                if now >= deadline:
                    raise self._busy("held by another process") from None
                if not said:
                    said = True
                    self.on_wait(f"waiting for the store {self.path} (held by another process)… "
                                 f"up to {deadline - now:.3g} s")
                time.sleep(min(delay, max(deadline - now, 0.0)))
                delay = min(delay * 2, 0.5)

    @contextmanager
    def _connect(self, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one transaction: read-only for reads; closed at the end, which
        hands the file to the next process. DuckDB errors become StoreErrors. Threads of this
        process take turns on a file; the wait (`self.wait`) counts from this call, whether it
        is spent behind another thread or another process (behind this process's own threads,
        at least `THREAD_WAIT_S`), and the file is tried at least once."""
        deadline = time.monotonic() + self.wait
        lock = _process_lock(self.path)
        # this process's own transactions take milliseconds: wait for them at least
        # THREAD_WAIT_S whatever `self.wait` (0 included), and without end when it is infinite
        turn = -1 if math.isinf(self.wait) else min(max(self.wait, THREAD_WAIT_S), threading.TIMEOUT_MAX)
        if not lock.acquire(timeout=turn):
            raise self._busy("in use by another thread of this process", turn)
        try:
            if not write and not self.path.exists():
                # nothing stored yet: an empty store, without making the file
                con = duckdb.connect(":memory:")
                _create_schema(con)
                con.execute(DATASETS_SCHEMA)
            else:
                con = self._open(write, deadline)
            try:
                yield con
            except duckdb.Error as exc:
                verb = "written" if write else "read"
                raise self._problem(f"the run store cannot be {verb}: {_reason(exc)}") from None
            finally:
                con.close()
        finally:
            lock.release()

    def _busy(self, why: str, waited: float | None = None) -> StoreBusy:
        waited = self.wait if waited is None else waited
        return StoreBusy([Problem(str(self.path), f"the run store is {why}; gave up after waiting {waited:g} s "
                                  "(set $AICITY_STORE_WAIT to wait longer)")])

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._connect(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        """Rows of a read-only query (for tests and one-off questions)."""
        with self._connect(write=False) as con:
            return con.execute(sql, params or []).fetchall()

    def close(self) -> None:
        """Nothing to close: every call closes its own connection (kept for `with`)."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes ---------------------------------------------------------------------------
    def save(self, result: IndexResult, *, framework: str = "", data: str = "", label: str | None = None,
             table: pa.Table | None = None) -> str:
        """Record a build: its parameters and every score and rank, through Arrow (no row by
        row insert). `table` is the build's tidy table (`export.results_table`) when the caller
        already has it, so nothing is computed twice."""
        from aicity.export import results_table
        from aicity.keys import INVISIBLE

        if label is not None and re.search(INVISIBLE, label):
            raise InputError([Problem("--label", f"{label!r} holds a control or invisible character (NUL, a right-to-left mark...)")])

        now = datetime.now(UTC).replace(tzinfo=None)
        run_id = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        table = results_table(result) if table is None else table
        units = table.column("unit").combine_chunks()
        codes = table.column("code").combine_chunks()
        names = [result.dataset.unit_name(u) for u in units.dictionary.to_pylist()]
        unit_rows = pa.table({"unit_id": pa.array(np.arange(len(names), dtype=np.int32)), "unit": units.dictionary,
                              "unit_name": pa.array(names, pa.string())})
        levels = result.framework.levels
        code_list = codes.dictionary.to_pylist()
        code_rows = pa.table({"code_id": pa.array(np.arange(len(code_list), dtype=np.int32)), "code": codes.dictionary,
                              "level": pa.array([levels[c] for c in code_list], pa.int32())})
        value_rows = pa.table({"unit_id": units.indices, "code_id": codes.indices, "score": table.column("score"),
                               "rank": table.column("rank"), "n_imputed": table.column("n_imputed")})
        row = [
            run_id,
            now,
            result.framework.index_code,
            framework,
            data,
            json.dumps(result.spec_dict(), ensure_ascii=False),
            json.dumps({**result.dataset.hashes, **_framework_hash(result.framework.source)}),
            len(result.units),
            len(result.codes),
            json.dumps(result.screened_out.to_dict(orient="records"), ensure_ascii=False, default=str),
            json.dumps(result.warnings, ensure_ascii=False),
            result.timings.get("total"),
            __version__,
            label,
        ]
        with self._transaction() as con:
            con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            key = con.execute("SELECT coalesce(max(run_key), 0) + 1 FROM result_runs").fetchone()[0]
            con.execute("INSERT INTO result_runs VALUES (?, ?)", [key, run_id])
            for target, rows in (("result_units", unit_rows), ("result_codes", code_rows), ("result_values", value_rows)):
                _insert(con, target, key, rows)
        return run_id

    def delete_run(self, run_id: str) -> None:
        """Remove a build's run and its results (one transaction): what undoes a run recorded
        beside outputs that then failed to be written."""
        with self._transaction() as con:
            for target in ("result_values", "result_units", "result_codes"):
                con.execute(f"DELETE FROM {target} WHERE run_key IN (SELECT run_key FROM result_runs WHERE run_id = ?)", [run_id])
            con.execute("DELETE FROM result_runs WHERE run_id = ?", [run_id])
            con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])

    def save_uncertainty(self, ua, index_code: str, hashes: dict[str, str]) -> str:
        """An uncertainty run's rank intervals (and Sobol indices), so profiles can show them."""
        now = datetime.now(UTC).replace(tzinfo=None)
        run_id = f"ua-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        intervals = ua.rank_intervals()
        sens = ua.sensitivity
        row = [
            run_id, now, index_code, ua.spec.target or index_code, len(ua.scores), ua.spec.seed,
            json.dumps(ua.spec.inputs, ensure_ascii=False), json.dumps(hashes),
            intervals.to_json(orient="records", force_ascii=False),
            None if sens is None else sens.to_json(orient="records"),
        ]
        with self._transaction() as con:
            con.execute("INSERT INTO uncertainty_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        return run_id

    def add_dataset(self, name: str, content: bytes) -> tuple[int, str]:
        """Store an uploaded data set as the next version of `name` (one transaction); its
        version and SHA-256."""
        digest = hashlib.sha256(content).hexdigest()
        with self._connect(write=True) as con:
            con.execute(DATASETS_SCHEMA)
        with self._transaction() as con:
            version = con.execute("SELECT coalesce(max(version), 0) + 1 FROM datasets WHERE name = ?", [name]).fetchone()[0]
            con.execute("INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?)",
                        [name, version, datetime.now(UTC).replace(tzinfo=None), digest, len(content), content])
        return int(version), digest

    # -- reads ----------------------------------------------------------------------------
    def latest_rank_intervals(self, index_code: str, hashes: dict[str, str]) -> tuple[str, int, pd.DataFrame] | None:
        """The newest uncertainty run of this index on exactly these input files, if any."""
        with self._connect(write=False) as con:
            row = con.execute(
                "SELECT run_id, samples, rank_intervals FROM uncertainty_runs WHERE index_code = ? AND input_hashes = ? "
                "ORDER BY created_at DESC, run_id DESC LIMIT 1",
                [index_code, json.dumps(hashes)],
            ).fetchone()
        if row is None:
            return None
        return row[0], int(row[1]), pd.read_json(io.StringIO(row[2]), orient="records")

    def dataset(self, name: str, version: int | None = None) -> tuple[int, bytes] | None:
        """An uploaded data set's version and content: the given version, else the newest;
        None if there is no such data set or version."""
        with self._connect(write=False) as con:
            if not _has_table(con, "datasets"):
                return None
            if version is None:
                row = con.execute("SELECT version, content FROM datasets WHERE name = ? ORDER BY version DESC LIMIT 1", [name]).fetchone()
            else:
                row = con.execute("SELECT version, content FROM datasets WHERE name = ? AND version = ?", [name, version]).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def runs(self) -> pd.DataFrame:
        """Every run, oldest first; a missing label or data is None (not NaN)."""
        with self._connect(write=False) as con:
            frame = con.execute(
                "SELECT run_id, created_at, index_code, n_units, n_codes, duration_s, label, data "
                "FROM runs ORDER BY created_at, run_id"
            ).df()
        for col in ("label", "data"):
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        return frame

    def resolve(self, run: str) -> str:
        """A run id, a unique prefix of one, or 'latest' / 'previous'."""
        with self._connect(write=False) as con:
            return self._resolve(con, run)

    def _resolve(self, con: duckdb.DuckDBPyConnection, run: str) -> str:
        if run in ("latest", "previous"):
            ids = con.execute("SELECT run_id FROM runs ORDER BY created_at DESC, run_id DESC LIMIT 2").fetchall()
            pick = 0 if run == "latest" else 1
            if len(ids) <= pick:
                raise RunNotFound(f"no {run} run in {self.path}")
            return ids[pick][0]
        ids = [r[0] for r in con.execute("SELECT run_id FROM runs WHERE starts_with(run_id, ?)", [run]).fetchall()]
        if not ids:
            raise RunNotFound(f"no run '{run}' in {self.path}")
        if len(ids) > 1:
            raise RunNotFound(f"'{run}' matches {len(ids)} runs; give more characters")
        return ids[0]

    def run_info(self, run: str) -> dict[str, Any]:
        with self._connect(write=False) as con:
            return self._run_info(con, run)

    def _run_info(self, con: duckdb.DuckDBPyConnection, run: str) -> dict[str, Any]:
        run_id = self._resolve(con, run)
        cur = con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id])
        cols = [d[0] for d in cur.description]
        row = dict(zip(cols, cur.fetchone(), strict=True))
        for key in ("spec", "input_hashes", "screened_out", "warnings"):
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
        return row

    def results(self, run: str, level: int | None = None, code: str | None = None) -> pd.DataFrame:
        sql = "SELECT unit, unit_name, code, level, score, rank, n_imputed FROM results WHERE run_id = ?"
        with self._connect(write=False) as con:
            params: list[Any] = [self._resolve(con, run)]
            if level is not None:
                sql += " AND level = ?"
                params.append(level)
            if code is not None:
                sql += " AND code = ?"
                params.append(code)
            frame = con.execute(sql + " ORDER BY code, rank, unit", params).df()
            if code is not None and frame.empty:
                _no_code(con, params[0], code)
            return frame

    def diff(self, run_a: str, run_b: str, code: str | None = None) -> pd.DataFrame:
        """Rank and score changes from run A to run B for one code (default: the index)."""
        with self._connect(write=False) as con:
            a, b = self._resolve(con, run_a), self._resolve(con, run_b)
            code = code or self._run_info(con, a)["index_code"]
            for run in (a, b):
                if not con.execute("SELECT 1 FROM results WHERE run_id = ? AND code = ? LIMIT 1", [run, code]).fetchone():
                    _no_code(con, run, code)
            return con.execute(
                """
                SELECT coalesce(x.unit, y.unit) AS unit, coalesce(x.unit_name, y.unit_name) AS unit_name,
                       x.rank AS rank_a, y.rank AS rank_b, x.rank - y.rank AS rank_change,
                       x.score AS score_a, y.score AS score_b, y.score - x.score AS score_change
                FROM (SELECT * FROM results WHERE run_id = ? AND code = ?) x
                FULL OUTER JOIN (SELECT * FROM results WHERE run_id = ? AND code = ?) y ON x.unit = y.unit
                ORDER BY rank_b NULLS LAST, unit
                """,
                [a, code, b, code],
            ).df()


def _no_code(con: duckdb.DuckDBPyConnection, run_id: str, code: str) -> None:
    """A code the run does not have is an error naming a few it has, never an empty table."""
    some = [r[0] for r in con.execute("SELECT DISTINCT code FROM results WHERE run_id = ? ORDER BY level DESC, code LIMIT 8",
                                      [run_id]).fetchall()]
    raise InputError([Problem("--code", f"run {run_id} has no code '{code}' (it has {', '.join(some)}, ...)")])


def _insert(con: duckdb.DuckDBPyConnection, target: str, run_key: int, rows: pa.Table) -> None:
    """`rows` (an Arrow table) appended to `target` under `run_key`, in one statement."""
    con.register("incoming_rows", rows)
    try:
        con.execute(f"INSERT INTO {target} SELECT ?, * FROM incoming_rows", [run_key])
    finally:
        con.unregister("incoming_rows")


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0])


def _framework_hash(framework: str) -> dict[str, str]:
    from aicity.data import file_hash

    path = Path(framework) if framework else None
    return {framework: file_hash(path)} if path and path.is_file() else {}
