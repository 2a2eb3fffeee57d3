"""One YAML reader for every file: project errors with the line, YAML 1.2 booleans."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from aicity.claims import load_claims
from aicity.cli import app
from aicity.errors import InputError
from aicity.spec import parse_pipeline, read_pipeline_file
from aicity.yamlfile import parse_yaml, read_yaml


def test_yes_no_on_off_stay_words():
    assert parse_yaml("screen: {on: raw}\nx: [yes, no, off, y]\nt: true\nf: FALSE", "p") == {
        "screen": {"on": "raw"}, "x": ["yes", "no", "off", "y"], "t": True, "f": False}


def test_the_documented_screen_on_raw_reaches_the_spec(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("pipeline:\n  screen: {min_coverage: 0.5, on: raw}\n", encoding="utf-8")
    steps = dict(parse_pipeline(read_pipeline_file(p)[0], str(p)))
    assert steps["screen"]["on"] == "raw"


def test_syntax_errors_name_file_and_line(tmp_path):
    p = tmp_path / "claims.yaml"
    p.write_text("claims:\n  - id: a\n    text: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"claims.yaml: not valid YAML: .*\(line 4, column 1\)"):
        load_claims(p)
    res = CliRunner().invoke(app, ["report", "--compare", "Seoul", "Tokyo", "--claims", str(p), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "not valid YAML" in res.output and "Traceback" not in res.output


def test_missing_directory_and_binary_files(tmp_path):
    with pytest.raises(InputError, match="framework file not found"):
        read_yaml(tmp_path / "nope.yaml", "framework file")
    with pytest.raises(InputError, match="is not a file"):
        read_yaml(tmp_path, "pipeline file")
    b = tmp_path / "b.yaml"
    b.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="not UTF-8"):
        read_yaml(b)
    c = tmp_path / "c.yaml"
    c.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(InputError, match="a claims file is a mapping"):
        load_claims(c)
