"""The run store's layout: results normalised into units, codes and values, read back through
the `results` view; runs deleted whole; stores from before the normalisation migrated."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

import aicity
from aicity.export import results_table
from aicity.store import Store

RESULT_TABLES = ("result_runs", "result_units", "result_codes", "result_values")

# The layout every store had before the results were normalised (aicity <= the #15 change).
OLD_SCHEMA = """
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL, index_code VARCHAR NOT NULL,
    framework VARCHAR, data VARCHAR, spec JSON NOT NULL, input_hashes JSON NOT NULL,
    n_units INTEGER NOT NULL, n_codes INTEGER NOT NULL, screened_out JSON, warnings JSON,
    duration_s DOUBLE, aicity_version VARCHAR, label VARCHAR
);
CREATE TABLE results (
    run_id VARCHAR NOT NULL, unit VARCHAR NOT NULL, unit_name VARCHAR, code VARCHAR NOT NULL,
    level INTEGER NOT NULL, score DOUBLE, rank DOUBLE, n_imputed INTEGER
);
"""


@pytest.fixture(scope="module")
def built() -> aicity.IndexResult:
    return aicity.build()


def _table_kind(path, name: str) -> str | None:
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()
    return None if row is None else row[0]


def test_a_saved_run_reads_back_as_the_tidy_table(tmp_path, built):
    st = Store(tmp_path / "s.duckdb")
    run = st.save(built)
    got = st.results(run).set_index(["unit", "code"]).sort_index()
    want = results_table(built).to_pandas().astype({"unit": str, "code": str}).set_index(["unit", "code"]).sort_index()
    assert len(got) == len(want) == len(built.units) * len(built.codes)
    np.testing.assert_array_equal(got["score"].to_numpy(), want["score"].to_numpy())
    np.testing.assert_array_equal(got["rank"].to_numpy(), want["rank"].to_numpy())
    assert (got["n_imputed"].to_numpy() == want["n_imputed"].to_numpy()).all()
    assert (got["level"].to_numpy() == want["level"].to_numpy()).all()
    names = got.reset_index().drop_duplicates("unit").set_index("unit")["unit_name"]
    assert names["SEL"] == built.dataset.unit_name("SEL")
    # units and codes are stored once per run, the scores by their ids
    assert st.query("SELECT count(*) FROM result_units")[0][0] == len(built.units)
    assert st.query("SELECT count(*) FROM result_codes")[0][0] == len(built.codes)
    assert _table_kind(st.path, "results") == "VIEW"
    assert st.query("SELECT current_setting('enable_progress_bar')") == [(False,)]  # never printed to stdout


def test_deleting_a_run_removes_its_rows_everywhere_and_only_its_rows(tmp_path, built):
    st = Store(tmp_path / "s.duckdb")
    first, second = st.save(built, label="a"), st.save(built, label="b")
    keys = dict(st.query("SELECT run_id, run_key FROM result_runs"))
    assert keys[second] == keys[first] + 1
    st.delete_run(first)
    assert list(st.runs().run_id) == [second]
    for table in RESULT_TABLES:
        assert st.query(f"SELECT DISTINCT run_key FROM {table}") == [(keys[second],)], table
    assert len(st.results(second)) == len(built.units) * len(built.codes)


def test_a_store_with_the_earlier_results_table_is_migrated_when_opened_for_writing(tmp_path, built):
    # two runs written by today's store, copied into a file with the earlier layout
    new = Store(tmp_path / "new.duckdb")
    runs = [new.save(built, label="a"), new.save(aicity.build(overrides={"aggregate": {"method": "geometric"}}), label="b")]
    with duckdb.connect(str(new.path), read_only=True) as con:
        run_rows = con.execute("SELECT * FROM runs ORDER BY run_id").fetchall()
        result_rows = con.execute("SELECT run_id, unit, unit_name, code, level, score, rank, n_imputed FROM results").df()
    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:
        con.execute(OLD_SCHEMA)
        con.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", run_rows)
        con.register("rows", result_rows)
        con.execute("INSERT INTO results SELECT * FROM rows")
    want = {run: new.results(run) for run in runs}
    want_diff = new.diff(runs[0], runs[1])

    # read-only: read as it is, nothing changed in the file
    reader = Store(old, read_only=True)
    pd.testing.assert_frame_equal(reader.results(runs[0]), want[runs[0]])
    assert _table_kind(old, "results") == "BASE TABLE"

    # opened for writing: moved into the normalised tables, the same answers
    said: list[str] = []
    st = Store(old, on_wait=said.append)
    assert _table_kind(old, "results") == "VIEW"
    assert len(said) == 1 and f"{len(result_rows):,} result rows into its new layout" in said[0]
    Store(old, on_wait=said.append)
    assert len(said) == 1  # once
    for run in runs:
        pd.testing.assert_frame_equal(st.results(run), want[run])
    pd.testing.assert_frame_equal(st.diff(runs[0], runs[1]), want_diff)
    assert st.query("SELECT count(*) FROM result_values")[0][0] == len(result_rows)
    # and it goes on working: a new run takes the next key, a deleted one goes whole
    third = st.save(built, label="c")
    assert st.query("SELECT run_key FROM result_runs WHERE run_id = ?", [third])[0][0] == 3
    st.delete_run(runs[0])
    assert sorted(st.runs().run_id) == sorted([runs[1], third])
    assert st.query("SELECT count(*) FROM results")[0][0] == 2 * len(built.units) * len(built.codes)
