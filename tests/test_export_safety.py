"""Exports are inert in a spreadsheet and a browser, and a build's outputs are all-or-nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from aicity.cli import app
from aicity.export import neutralise

runner = CliRunner()

PAYLOADS = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "@SUM(A1)"]
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    """A two-indicator index whose units are named (and coded) like formulas and a script."""
    fw = tmp_path / "fw.yaml"
    fw.write_text("index: {code: I, name: Index}\nindicators:\n  - {code: a, parent: I}\n  - {code: b, parent: I}\n")
    data, units = tmp_path / "d.csv", tmp_path / "u.csv"
    codes = [*PAYLOADS, "EVIL", "SEL"]
    with data.open("w", newline="") as f:
        csv.writer(f).writerows([["unit", "a", "b"], *([c, i + 1, (-1) ** i * (i + 2)] for i, c in enumerate(codes))])
    with units.open("w", newline="") as f:
        csv.writer(f).writerows([["code", "name_en"], *([c, c] for c in PAYLOADS), ["EVIL", SCRIPT], ["SEL", "Seoul"]])
    return {"framework": fw, "data": data, "units": units}


def build_args(inputs: dict[str, Path], out: Path) -> list[str]:
    return ["build", "-f", str(inputs["framework"]), "-d", str(inputs["data"]), "--units", str(inputs["units"]),
            "--no-store", "-o", str(out), "--normalize", "zscore"]


def test_the_rule():
    for text in [*PAYLOADS, "+1", "-1", "\tx", "\rx"]:
        assert neutralise(text) == "'" + text
    for value in ("Seoul", "", "a=b", -1, -1.5, 3, None):
        assert neutralise(value) == value


def test_text_cells_of_results_are_never_formulas(tmp_path, inputs):
    out = tmp_path / "out"
    res = runner.invoke(app, build_args(inputs, out))
    assert res.exit_code == 0, res.output
    book = load_workbook(out / "results.xlsx")
    found: set[str] = set()
    for ws in book:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), (ws.title, cell.coordinate, cell.value)
                    found |= {p for p in PAYLOADS if cell.value == "'" + p}
                    assert cell.data_type == "s"
                elif ws.title == "Index" and isinstance(cell.value, float) and cell.value < 0:
                    assert cell.data_type == "n"  # a negative score is a number
    assert found == set(PAYLOADS)
    text = (out / "results.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert {r["unit"] for r in rows} >= {"'" + p for p in PAYLOADS}
    assert not any(r["unit"].startswith(("=", "+", "-", "@")) for r in rows)
    scores = [float(r["score"]) for r in rows]
    assert min(scores) < 0  # z-scores: negative numbers stay numbers
    assert any(line.split(",")[3].startswith("-") for line in text.splitlines()[1:])


def test_report_xlsx_and_markdown_are_inert(tmp_path, inputs):
    import aicity
    from aicity.report import make_report

    result = aicity.build(inputs["framework"], inputs["data"], {"normalize": "minmax"}, units=inputs["units"])
    rep = make_report(result, "EVIL", PAYLOADS[0], "en", claims_path=False)
    written = rep.write(tmp_path, ("md", "xlsx"))
    assert set(written) == {"md", "xlsx"}
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert SCRIPT not in md and "\\<script\\>" in md
    # rendered by rich's own Markdown parser, the name is text, never a tag
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").render(md)
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    book = load_workbook(tmp_path / "report.xlsx")
    texts = [c for ws in book for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any(c.data_type == "f" for ws in book for row in ws.iter_rows() for c in row)
    assert all(c.data_type == "s" and not c.value.startswith(("=", "+", "-", "@")) for c in texts)
    assert any(c.value == "'" + PAYLOADS[0] for c in texts)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_build_failing_midway_leaves_the_previous_outputs(tmp_path, inputs, monkeypatch):
    import aicity.export

    out = tmp_path / "out"
    first = runner.invoke(app, build_args(inputs, out))
    assert first.exit_code == 0, first.output
    (out / "notes.txt").write_text("mine")  # not an output: never touched
    before = snapshot(out)
    assert {"results.csv", "results.json", "results.xlsx", "notes.txt"} <= set(before)

    def broken_xlsx(result, path):
        assert (path.parent / "results.csv").exists()  # the CSV was written first...
        raise RuntimeError("disk full")                # ...then the workbook fails

    monkeypatch.setattr(aicity.export, "write_xlsx", broken_xlsx)
    second = runner.invoke(app, [*build_args(inputs, out), "--normalize", "minmax"])
    assert second.exit_code != 0
    assert snapshot(out) == before  # byte for byte, and no staging folder left behind


def test_a_report_failing_midway_leaves_the_previous_files(tmp_path, inputs, monkeypatch):
    import aicity
    from aicity.report import Report, make_report

    result = aicity.build(inputs["framework"], inputs["data"], {"normalize": "minmax"}, units=inputs["units"])
    rep = make_report(result, "EVIL", "SEL", "en", claims_path=False)
    rep.write(tmp_path, ("md", "xlsx"))
    before = snapshot(tmp_path)

    def broken(self, path):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Report, "_write_xlsx", broken)
    rep.title = "changed"
    with pytest.raises(RuntimeError):
        rep.write(tmp_path, ("md", "xlsx"))
    assert snapshot(tmp_path) == before


def test_a_move_that_fails_puts_back_the_files_already_moved(tmp_path, monkeypatch):
    import os

    from aicity.export import staged

    for name in ("one.csv", "two.csv"):
        (tmp_path / name).write_text(f"old {name}")
    real_replace = os.replace

    def flaky(src, dst):
        if Path(dst).name == "two.csv":
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError), staged(tmp_path) as stage:
        stage.path("one.csv").write_text("new one")
        stage.path("three.csv").write_text("new three")
        stage.path("two.csv").write_text("new two")
    monkeypatch.setattr(os, "replace", real_replace)
    assert snapshot(tmp_path) == {"one.csv": b"old one.csv", "two.csv": b"old two.csv"}


def test_a_failed_write_leaves_no_run_in_the_store(tmp_path, monkeypatch):
    """The run is recorded while the files are written; when a file fails the run is removed."""
    from typer.testing import CliRunner

    import aicity.export as export
    from aicity.cli import app
    from aicity.store import Store

    def broken(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "write_json", broken)
    store = tmp_path / "runs.duckdb"
    res = CliRunner().invoke(app, ["build", "--out", str(tmp_path / "out"), "--store", str(store)])
    assert res.exit_code == 2 and "No space left" in res.output
    assert Store(store, read_only=True).runs().empty
    assert not (tmp_path / "out" / "results.csv").exists()


def test_missing_scores_are_empty_cells_and_nulls_everywhere(tmp_path):
    """A missing score is an empty CSV cell, a Parquet null and NULL in the store, never NaN."""
    import pandas as pd
    import pyarrow.parquet as pq

    import aicity
    from aicity.export import write_outputs
    from aicity.store import Store

    fw = {"index": {"code": "IDX"}, "indicators": [{"code": "a", "parent": "IDX"}, {"code": "b", "parent": "IDX"}]}
    data = pd.DataFrame({"unit": ["u1", "u2", "u3"], "a": [1.0, None, 3.0], "b": [2.0, 1.0, 3.0]})
    r = aicity.build(fw, data)
    written = write_outputs(r, tmp_path / "out")
    text = (tmp_path / "out" / "results.csv").read_text()
    assert "nan" not in text.lower() and '"u2","a",1,,,false,0' in text
    assert pq.read_table(written["parquet"]).column("score").null_count == 1
    store = Store(tmp_path / "runs.duckdb")
    store.save(r)
    assert store.query("SELECT count(*) FROM results WHERE score IS NULL AND rank IS NULL")[0][0] == 1
    assert store.query("SELECT max(rank) FROM results")[0][0] == 3


def test_a_failed_move_into_place_leaves_no_run_in_the_store(tmp_path, monkeypatch):
    """The files move into place after the run is recorded; when a move fails, the run goes too."""
    import os

    from typer.testing import CliRunner

    import aicity.export as export
    from aicity.cli import app
    from aicity.store import Store

    real = os.replace

    def flaky(src, dst):
        if str(dst).endswith("results.json") and ".aicity-staging" not in str(dst) and ".previous" not in str(dst):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(export.os, "replace", flaky)
    store, out = tmp_path / "runs.duckdb", tmp_path / "out"
    res = CliRunner().invoke(app, ["build", "--out", str(out), "--store", str(store), "--xlsx", "never"])
    assert res.exit_code == 2
    assert Store(store, read_only=True).runs().empty
    assert not (out / "results.csv").exists()
