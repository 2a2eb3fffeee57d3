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


def test_numbers_follow_yaml_1_2():
    # 1e3 was the text "1e3" (YAML 1.1 wants a dot); 1_000, 12:30 and 010 were 1000, 750 and 8
    assert parse_yaml("a: 1e3\nb: -2E-4\nc: 1.5\nd: .inf\ne: 3\nf: 0x10\ng: 0o17", "p") == {
        "a": 1000.0, "b": -0.0002, "c": 1.5, "d": float("inf"), "e": 3, "f": 16, "g": 15}
    assert parse_yaml("a: 1_000\nb: 12:30\nc: 010\nd: -010", "p") == {"a": "1_000", "b": "12:30", "c": 10, "d": -10}


def test_a_key_written_twice_is_an_error_naming_the_line():
    with pytest.raises(InputError, match=r"f.yaml: not valid YAML: key 'weight' appears twice in one mapping \(first on line 2\)"):
        parse_yaml("indicators:\n  - {code: a, weight: 1,\n     weight: 3}\n", "f.yaml")
    with pytest.raises(InputError, match="key 'b' appears twice"):
        parse_yaml("a: 1\nb:\n  c: 1\nb: 2\n", "f.yaml")
    assert parse_yaml("a: {b: 1}\nc: {b: 2}\n", "f.yaml") == {"a": {"b": 1}, "c": {"b": 2}}  # the same key in two mappings
