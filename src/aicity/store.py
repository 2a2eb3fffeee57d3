"""The run store: every build with its spec, input hashes, timestamps and results, in DuckDB.

A run is written in one transaction: a build killed midway leaves no partial run and every
earlier run intact (DuckDB discards uncommitted work when it reopens the file).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

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
CREATE TABLE IF NOT EXISTS results (
    run_id VARCHAR NOT NULL,
    unit VARCHAR NOT NULL,
    unit_name VARCHAR,
    code VARCHAR NOT NULL,
    level INTEGER NOT NULL,
    score DOUBLE,
    rank DOUBLE,
    n_imputed INTEGER
);
"""

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


class RunNotFound(LookupError):
    pass


class Store:
    """The DuckDB run store: every build and uncertainty run, with its spec and input hashes,
    each written in one transaction.

        >>> import tempfile, aicity
        >>> with tempfile.TemporaryDirectory() as d, Store(f"{d}/runs.duckdb") as st:
        ...     run_id = st.save(aicity.build())
        ...     len(st.runs())
        1
    """

    def __init__(self, path: str | Path | None = None, read_only: bool = False):
        self.path = Path(path) if path else default_store_path()
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(self.path), read_only=read_only)
            if not read_only:
                self.con.execute(SCHEMA)
        except (duckdb.Error, OSError) as exc:
            # not a DuckDB file, a path the system refuses, or a store another process holds
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError([Problem(str(self.path), f"the run store cannot be opened: {reason}")]) from None

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def save(self, result: IndexResult, *, framework: str = "", data: str = "", label: str | None = None) -> str:
        now = datetime.now(UTC).replace(tzinfo=None)
        run_id = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        frame = result.to_frame()[["unit", "code", "level", "score", "rank", "n_imputed"]]
        names = {u: result.dataset.unit_name(u) for u in result.units}
        frame.insert(0, "run_id", run_id)
        frame.insert(2, "unit_name", frame["unit"].map(names))
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
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
                ],
            )
            self._insert_results(frame)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return run_id

    def save_uncertainty(self, ua, index_code: str, hashes: dict[str, str]) -> str:
        """An uncertainty run's rank intervals (and Sobol indices), so profiles can show them."""
        now = datetime.now(UTC).replace(tzinfo=None)
        run_id = f"ua-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        intervals = ua.rank_intervals()
        sens = ua.sensitivity
        self.con.execute(
            "INSERT INTO uncertainty_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id, now, index_code, ua.spec.target or index_code, len(ua.scores), ua.spec.seed,
                json.dumps(ua.spec.inputs, ensure_ascii=False), json.dumps(hashes),
                intervals.to_json(orient="records", force_ascii=False),
                None if sens is None else sens.to_json(orient="records"),
            ],
        )
        return run_id

    def latest_rank_intervals(self, index_code: str, hashes: dict[str, str]) -> tuple[str, int, pd.DataFrame] | None:
        """The newest uncertainty run of this index on exactly these input files, if any."""
        row = self.con.execute(
            "SELECT run_id, samples, rank_intervals FROM uncertainty_runs WHERE index_code = ? AND input_hashes = ? "
            "ORDER BY created_at DESC, run_id DESC LIMIT 1",
            [index_code, json.dumps(hashes)],
        ).fetchone()
        if row is None:
            return None
        return row[0], int(row[1]), pd.read_json(io.StringIO(row[2]), orient="records")

    def add_dataset(self, name: str, content: bytes) -> tuple[int, str]:
        """Store an uploaded data set as the next version of `name` (one transaction); its
        version and SHA-256."""
        digest = hashlib.sha256(content).hexdigest()
        self.con.execute(DATASETS_SCHEMA)
        self.con.execute("BEGIN TRANSACTION")
        try:
            version = self.con.execute("SELECT coalesce(max(version), 0) + 1 FROM datasets WHERE name = ?", [name]).fetchone()[0]
            self.con.execute("INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?)",
                             [name, version, datetime.now(UTC).replace(tzinfo=None), digest, len(content), content])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return int(version), digest

    def dataset(self, name: str, version: int | None = None) -> tuple[int, bytes] | None:
        """An uploaded data set's version and content: the given version, else the newest;
        None if there is no such data set or version."""
        self.con.execute(DATASETS_SCHEMA)
        if version is None:
            row = self.con.execute("SELECT version, content FROM datasets WHERE name = ? ORDER BY version DESC LIMIT 1", [name]).fetchone()
        else:
            row = self.con.execute("SELECT version, content FROM datasets WHERE name = ? AND version = ?", [name, version]).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def _insert_results(self, frame: pd.DataFrame) -> None:
        self.con.register("incoming_results", frame)
        try:
            self.con.execute("INSERT INTO results SELECT * FROM incoming_results")
        finally:
            self.con.unregister("incoming_results")

    def runs(self) -> pd.DataFrame:
        return self.con.execute(
            "SELECT run_id, created_at, index_code, n_units, n_codes, duration_s, label, data "
            "FROM runs ORDER BY created_at, run_id"
        ).df()

    def resolve(self, run: str) -> str:
        """A run id, a unique prefix of one, or 'latest' / 'previous'."""
        if run in ("latest", "previous"):
            ids = self.con.execute("SELECT run_id FROM runs ORDER BY created_at DESC, run_id DESC LIMIT 2").fetchall()
            pick = 0 if run == "latest" else 1
            if len(ids) <= pick:
                raise RunNotFound(f"no {run} run in {self.path}")
            return ids[pick][0]
        ids = [r[0] for r in self.con.execute("SELECT run_id FROM runs WHERE starts_with(run_id, ?)", [run]).fetchall()]
        if not ids:
            raise RunNotFound(f"no run '{run}' in {self.path}")
        if len(ids) > 1:
            raise RunNotFound(f"'{run}' matches {len(ids)} runs; give more characters")
        return ids[0]

    def run_info(self, run: str) -> dict[str, Any]:
        run_id = self.resolve(run)
        cur = self.con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id])
        cols = [d[0] for d in cur.description]
        row = dict(zip(cols, cur.fetchone(), strict=True))
        for key in ("spec", "input_hashes", "screened_out", "warnings"):
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
        return row

    def results(self, run: str, level: int | None = None, code: str | None = None) -> pd.DataFrame:
        run_id = self.resolve(run)
        sql = "SELECT unit, unit_name, code, level, score, rank, n_imputed FROM results WHERE run_id = ?"
        params: list[Any] = [run_id]
        if level is not None:
            sql += " AND level = ?"
            params.append(level)
        if code is not None:
            sql += " AND code = ?"
            params.append(code)
        return self.con.execute(sql + " ORDER BY code, rank, unit", params).df()

    def diff(self, run_a: str, run_b: str, code: str | None = None) -> pd.DataFrame:
        """Rank and score changes from run A to run B for one code (default: the index)."""
        a, b = self.resolve(run_a), self.resolve(run_b)
        code = code or self.run_info(a)["index_code"]
        return self.con.execute(
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


def _framework_hash(framework: str) -> dict[str, str]:
    from aicity.data import file_hash

    path = Path(framework) if framework else None
    return {framework: file_hash(path)} if path and path.is_file() else {}
