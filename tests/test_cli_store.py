"""The CLI and the DuckDB run store, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from typer.testing import CliRunner

import aicity
from aicity.cli import app
from aicity.store import Store

runner = CliRunner()


def test_build_bundled_index_writes_all_outputs(tmp_path):
    out, store = tmp_path / "out", tmp_path / "runs.duckdb"
    res = runner.invoke(app, ["build", "--out", str(out), "--store", str(store), "--versus", "서울,ソウル"], env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    assert "Seoul vs Seoul" in res.output or "Seoul" in res.output
    tidy = pd.read_csv(out / "results.csv")
    assert list(tidy.columns[:5]) == ["unit", "code", "level", "score", "rank"]
    result = aicity.build()
    assert len(tidy) == len(result.units) * len(result.codes)
    index = tidy[tidy.code == "AICI"].set_index("unit")
    pd.testing.assert_series_equal(index["score"].sort_index(), result.index_scores.sort_index(), check_names=False)
    payload = json.loads((out / "results.json").read_text())
    assert payload["index"] == "AICI" and len(payload["units"]) == len(result.units)
    book = load_workbook(out / "results.xlsx", read_only=True)
    assert {"Index", "Indicators", "Data", "Metadata", "Sources", "Spec"} <= set(book.sheetnames)


def test_versus_compares_two_cities_by_pillar(tmp_path):
    res = runner.invoke(app, ["build", "--out", str(tmp_path), "--no-store", "--versus", "Seoul,東京"], env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    assert "Seoul vs Tokyo" in res.output and "Technology infrastructure" in res.output


def test_flags_override_the_spec(tmp_path):
    res = runner.invoke(app, ["build", "--out", str(tmp_path), "--no-store", "--normalize", "zscore", "--aggregate", "arithmetic"])
    assert res.exit_code == 0, res.output
    tidy = pd.read_csv(tmp_path / "results.csv")
    assert tidy[tidy.level == 1].score.min() < 0  # z-scores, not 0-100
    bad = runner.invoke(app, ["build", "--out", str(tmp_path), "--no-store", "--aggregate", "median"])
    assert bad.exit_code == 2 and "unknown method 'median'" in bad.output


def test_validate_reports_bad_data(tmp_path):
    fw = tmp_path / "fw.yaml"
    fw.write_text("index: {code: I}\nindicators:\n  - {code: a, parent: I}\n")
    data = tmp_path / "d.csv"
    data.write_text("unit,a\nX,1\nY,oops\n")
    res = runner.invoke(app, ["validate", "-f", str(fw), "-d", str(data)])
    assert res.exit_code == 2
    assert "row 3" in res.output and "column 'a'" in res.output and "oops" in res.output
    assert "Traceback" not in res.output
    data.write_text("unit,a\nX,1\nY,2\n")
    ok = runner.invoke(app, ["validate", "-f", str(fw), "-d", str(data)])
    assert ok.exit_code == 0 and "OK" in ok.output


def test_info_shows_tree_and_coverage():
    res = runner.invoke(app, ["info"], env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    assert "AICI" in res.output and "INFRA" in res.output and "Data coverage per unit" in res.output


def test_runs_show_and_diff(tmp_path):
    store = str(tmp_path / "s.duckdb")
    for extra in ([], ["--aggregate", "geometric", "--range", "1", "100"]):
        res = runner.invoke(app, ["build", "--out", str(tmp_path / "o"), "--store", store, *extra])
        assert res.exit_code == 0, res.output
    with Store(store) as st:
        runs = st.runs()
        assert len(runs) == 2
        info = st.run_info("latest")
        assert info["spec"]["pipeline"]["aggregate"]["method"] == "geometric"
        assert info["input_hashes"] and all(len(h) == 64 for h in info["input_hashes"].values())
        d = st.diff("previous", "latest")
        assert len(d) == info["n_units"]
        assert ((d.rank_a - d.rank_b) == d.rank_change).all()
    listed = runner.invoke(app, ["runs", "--store", store], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and runs.run_id[0] in listed.output
    # The shortest prefix of the newest id that no other run shares (two runs in the same
    # second may share more than the timestamp: a fixed-length prefix made this test flaky).
    newest, others = runs.run_id[0], list(runs.run_id[1:])
    prefix = next(newest[:n] for n in range(16, len(newest) + 1) if not any(o.startswith(newest[:n]) for o in others))
    shown = runner.invoke(app, ["show", prefix, "--store", store])
    assert shown.exit_code == 0 and "AICI" in shown.output
    diffed = runner.invoke(app, ["diff", "previous", "latest", "--store", store, "--all"])
    assert diffed.exit_code == 0 and "Rank A" in diffed.output
    missing = runner.invoke(app, ["show", "nope", "--store", store])
    assert missing.exit_code == 2 and "no run 'nope'" in missing.output


def test_a_build_killed_while_saving_leaves_earlier_runs_intact(tmp_path):
    store = tmp_path / "s.duckdb"
    with Store(store) as st:
        first = st.save(aicity.build(), label="first")
    script = textwrap.dedent(
        f"""
        import os, signal
        import aicity
        import aicity.store
        st = aicity.store.Store({str(store)!r})
        original = aicity.store._insert
        def die_midway(con, target, run_key, rows):
            original(con, target, run_key, rows)      # rows written inside the transaction...
            if target == "result_values":
                os.kill(os.getpid(), signal.SIGKILL)  # ...and the process dies before COMMIT
        aicity.store._insert = die_midway
        st.save(aicity.build(), label="killed")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -9
    with Store(store) as st:
        runs = st.runs()
        assert list(runs.run_id) == [first]
        assert st.query("SELECT count(DISTINCT run_id) FROM results")[0][0] == 1
        for table in ("result_runs", "result_units", "result_codes", "result_values"):
            assert st.query(f"SELECT count(DISTINCT run_key) FROM {table}")[0][0] == 1, table
        assert len(st.results(first)) > 0


def test_impute_treat_and_denominate_flags(tmp_path):
    from tests.conftest import ASEM, need_shared

    need_shared(ASEM)
    base = ["build", "-f", str(ASEM / "ASEM_iMeta.csv"), "-d", str(ASEM / "ASEM_iData.csv"), "--no-store"]
    runs = {}
    for name, flags in {
        "plain": [],
        "no_denominate": ["--no-denominate"],
        "impute": ["--impute", "median"],
        "treat": ["--treat", "winsorise_log"],
    }.items():
        res = runner.invoke(app, [*base, "-o", str(tmp_path / name), *flags])
        assert res.exit_code == 0, res.output
        runs[name] = pd.read_csv(tmp_path / name / "results.csv").set_index(["unit", "code"])
    plain = runs["plain"]
    # Flights is divided by population unless --no-denominate: its normalised scores change.
    assert not runs["no_denominate"].score.xs("Flights", level="code").equals(plain.score.xs("Flights", level="code"))
    assert runs["impute"].imputed.sum() > 0 and plain.imputed.sum() == 0
    assert plain.score.isna().sum() > runs["impute"].score.isna().sum()
    assert not runs["treat"].score.equals(plain.score)


def test_audit_command_writes_every_table(tmp_path):
    res = runner.invoke(app, ["audit", "-o", str(tmp_path)], env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    for name in ("stats", "correlations", "cronbach", "pca", "effective_weights", "leave_one_out"):
        assert len(pd.read_csv(tmp_path / f"{name}.csv")) > 0, name
    assert "Cronbach" in res.output
    assert callable(aicity.audit)


def test_comparison_commands_end_to_end(tmp_path):
    env = {"COLUMNS": "200"}
    prof = runner.invoke(app, ["profile", "서울", "--lang", "ko", "-o", str(tmp_path / "p")], env=env)
    assert prof.exit_code == 0, prof.output
    assert "서울 (SEL)" in prof.output and (tmp_path / "p" / "sources.csv").exists()
    comp = runner.invoke(app, ["compare", "Seoul", "Tokyo", "-o", str(tmp_path / "c")], env=env)
    assert comp.exit_code == 0, comp.output
    contrib = pd.read_csv(tmp_path / "c" / "contributions.csv")
    levels = pd.read_csv(tmp_path / "c" / "levels.csv").set_index("code")
    assert abs(contrib.contribution.sum() - levels.at["AICI", "gap"]) < 1e-9
    assert list(contrib.columns[:5]) == ["code", "level", "pillar", "score_a", "score_b"]
    personas = runner.invoke(app, ["rank"], env=env)
    assert personas.exit_code == 0 and "entrepreneur" in personas.output
    ranked = runner.invoke(app, ["rank", "--persona", "citizen"], env=env)
    assert ranked.exit_code == 0 and "Which city suits you" in ranked.output
    custom = runner.invoke(app, ["rank", "--weights", "infrastructure=3,industry=1,policy=1,trust=1"], env=env)
    assert custom.exit_code == 0 and "INFRA=3" in custom.output
    bad = runner.invoke(app, ["rank", "--weights", "infra=abc"])
    assert bad.exit_code == 2 and "not a number" in bad.output
    leader = next(u for u in aicity.build().ranking().index if u != "SEL")  # a city Seoul is behind, whatever the data
    what = runner.invoke(app, ["whatif", "Seoul", "pitchbook_startup_pctl=100", "--beat", leader], env=env)
    assert what.exit_code == 0, what.output
    assert "What it takes" in what.output and "Cheapest set" in what.output
    tr = runner.invoke(app, ["trends", "--cities", "Seoul,Tokyo", "-o", str(tmp_path / "t")], env=env)
    assert tr.exit_code == 0, tr.output
    tidy = pd.read_csv(tmp_path / "t" / "trends.csv")
    assert {"year", "unit", "code", "score", "rank", "n_carried"} <= set(tidy.columns)


def test_report_command_writes_every_format(tmp_path):
    import shutil

    formats = "html,md,xlsx" + (",pdf" if shutil.which("chromium") else "")
    res = runner.invoke(app, ["report", "--compare", "Seoul", "Tokyo", "--lang", "ja", "--samples", "200", "-o", str(tmp_path), "--formats", formats])
    assert res.exit_code == 0, res.output
    for ext in formats.split(","):
        assert (tmp_path / f"report.{ext}").stat().st_size > 0
    assert "ソウル" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_profile_shows_rank_intervals_of_a_stored_uncertainty_run(tmp_path):
    store = str(tmp_path / "s.duckdb")
    before = runner.invoke(app, ["profile", "Seoul", "--store", store], env={"COLUMNS": "200"})
    assert before.exit_code == 0 and "rank_p05" not in before.output
    ua = runner.invoke(app, ["uncertainty", "--samples", "300", "--store", store, "-o", str(tmp_path / "ua")])
    assert ua.exit_code == 0, ua.output
    after = runner.invoke(app, ["profile", "Seoul", "--store", store], env={"COLUMNS": "200"})
    assert after.exit_code == 0 and "rank_p05" in after.output and "300 samples" in after.output
    intervals = pd.read_csv(tmp_path / "ua" / "rank_intervals.csv").set_index("unit")
    with Store(store) as st:
        _, n, stored = st.latest_rank_intervals("AICI", aicity.build().dataset.hashes)
    stored = stored.set_index("unit").reindex(intervals.index)
    assert n == 300
    np.testing.assert_allclose(stored.p95, intervals.p95)
    np.testing.assert_allclose(stored.mean_rank, intervals.mean_rank)


def test_a_store_that_cannot_be_opened_and_unknown_report_formats(tmp_path):
    from typer.testing import CliRunner

    from aicity.cli import app

    bad = tmp_path / "not.duckdb"
    bad.write_text("not a database")
    res = CliRunner().invoke(app, ["runs", "--store", str(bad)])
    assert res.exit_code == 2 and "the run store cannot be opened" in " ".join(res.output.split())
    res = CliRunner().invoke(app, ["report", "--formats", "docx", "--samples", "0", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "choose from html, md, xlsx, pdf" in " ".join(res.output.split())


def test_a_code_a_run_does_not_have_is_an_error_and_run_ids_are_never_cut(tmp_path, monkeypatch):
    """show/diff --code NOPE printed an empty table with exit 0; piped at 80 columns, `runs`
    cut the ids it exists to give ("20261201-05020…")."""
    from typer.testing import CliRunner

    from aicity.cli import app

    store = str(tmp_path / "s.duckdb")
    assert CliRunner().invoke(app, ["build", "--store", store, "--out", str(tmp_path / "o")]).exit_code == 0
    for argv in (["show", "latest", "--code", "NOPE"], ["diff", "latest", "latest", "--code", "NOPE"]):
        res = CliRunner().invoke(app, [*argv, "--store", store])
        assert res.exit_code == 2 and "has no code 'NOPE' (it has AICI" in " ".join(res.output.split()), res.output
    res = CliRunner().invoke(app, ["runs", "--store", store], terminal_width=80)
    from aicity.store import Store

    with Store(store, read_only=True) as st:
        run_id = str(st.runs().run_id.iloc[0])
    assert run_id in res.output, res.output
