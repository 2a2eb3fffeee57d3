"""Every key of a framework, pipeline, uncertainty, claims or recipe file is known, or an error
naming the file, the entry, the key, its line and the nearest known key (keys.py)."""

from __future__ import annotations

import textwrap

import pytest
from typer.testing import CliRunner

import aicity
from aicity.claims import load_claims
from aicity.errors import InputError

FRAMEWORK = """\
index:
  code: IDX
groups:
  - code: P
    parent: IDX
indicators:
  - code: a
    parent: P
    meta: {why: "free notes are fine here", source_sheet: 3}
  - code: b
    parent: P
    directon: -1
"""


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(exc: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_a_misspelt_framework_key_names_file_entry_line_and_nearest(tmp_path):
    path = write(tmp_path, "framework.yaml", FRAMEWORK)
    with pytest.raises(InputError) as info:
        aicity.load_framework(path)
    assert problems(info) == [f"{path}: unknown key 'directon' in indicator 'b' (line 12); did you mean 'direction'?"]


def test_meta_is_free_on_any_node_but_must_be_a_mapping(tmp_path):
    ok = FRAMEWORK.replace("    directon: -1\n", "").replace("index:\n  code: IDX\n", "index:\n  code: IDX\n  meta: {edition: 2024}\n")
    fw = aicity.load_framework(write(tmp_path, "ok.yaml", ok))
    assert fw.node("a").meta == {"why": "free notes are fine here", "source_sheet": 3}
    bad = ok.replace("  meta: {edition: 2024}", "  meta: just text")
    with pytest.raises(InputError, match="'meta' in the index must be a mapping"):
        aicity.load_framework(write(tmp_path, "bad.yaml", bad))


def test_every_place_of_a_framework_is_strict(tmp_path):
    text = FRAMEWORK.replace("    directon: -1\n", "    agregate: geometric\n") + "personas:\n  me:\n    weights: {P: 1}\n    rationale: {en: x}\n    colour: red\nextra_section: 1\n"
    with pytest.raises(InputError) as info:
        aicity.load_framework(write(tmp_path, "f.yaml", text))
    found = problems(info)
    assert any("unknown key 'agregate' in indicator 'b' (line 12)" in p for p in found)
    assert any("unknown key 'colour' in persona 'me' (line 17)" in p for p in found)
    assert any("unknown key 'extra_section' in the framework (line 18)" in p for p in found)


def test_a_groups_aggregation_is_checked_against_the_registry(tmp_path):
    text = FRAMEWORK.replace("    directon: -1\n", "").replace("    parent: IDX\n", "    parent: IDX\n    aggregate: {method: geometrc}\n", 1)
    with pytest.raises(InputError, match="group 'P': unknown aggregation 'geometrc'.*did you mean 'geometric'"):
        aicity.load_framework(write(tmp_path, "f.yaml", text))
    text = text.replace("geometrc}", "geometric, max_weight_ratio: 2}")
    with pytest.raises(InputError, match="unknown key 'max_weight_ratio' in the aggregation of group 'P' \\(geometric\\)"):
        aicity.load_framework(write(tmp_path, "f.yaml", text))


def test_a_pipeline_file_names_step_parameter_and_line(tmp_path):
    path = write(tmp_path, "pipeline.yaml", """\
        pipeline:
          normalize:
            method: minmax
            rnage: [1, 100]
          agregate: geometric
        uncertainty:
          samples: 100
        """)
    fw = aicity.load_framework(write(tmp_path, "framework.yaml", FRAMEWORK.replace("    directon: -1\n", "")))
    data = write(tmp_path, "data.csv", "unit,a,b\nX,1,2\nY,2,1\n")
    with pytest.raises(InputError) as info:
        aicity.build(fw, data, path)
    assert problems(info) == [
        f"{path}: unknown key 'rnage' in step 'normalize' (line 4); did you mean 'range'?",
        f"{path}: unknown step 'agregate' in the pipeline (line 5); did you mean 'aggregate'?",
    ]
    top = write(tmp_path, "top.yaml", "pipeline: {}\nuncertanity: {samples: 5}\n")
    with pytest.raises(InputError, match="unknown key 'uncertanity' in the pipeline file \\(line 2\\); did you mean 'uncertainty'"):
        aicity.build(fw, data, top)


def test_a_parameter_the_method_does_not_read_is_an_error_not_ignored():
    with pytest.raises(InputError, match="method 'arithmetic' does not use 'p'"):
        aicity.build(pipeline={"aggregate": {"method": "arithmetic", "p": 2}})
    with pytest.raises(InputError, match="method 'zscore' does not use 'range'"):
        aicity.build(pipeline={"normalize": {"method": "zscore", "range": [1, 10]}})


def test_claims_files_are_strict(tmp_path):
    path = write(tmp_path, "claims.yaml", """\
        claims:
          - id: c1
            text: {en: Seoul is faster}
            subject: SEL
            other: TYO
            expected: higher
            indicator: [fiveg_share]
        """)
    with pytest.raises(InputError, match=r"unknown key 'indicator' in claim 'c1' \(line 7\); did you mean 'indicators'"):
        load_claims(path)


def test_validate_reports_unknown_keys_and_exits_nonzero(tmp_path):
    from aicity.cli import app

    path = write(tmp_path, "framework.yaml", FRAMEWORK)
    data = write(tmp_path, "data.csv", "unit,a,b\nX,1,2\nY,2,1\n")
    res = CliRunner().invoke(app, ["validate", "-f", str(path), "-d", str(data)])
    assert res.exit_code != 0
    assert "did you mean 'direction'?" in res.output and "Traceback" not in res.output


def test_a_flag_or_a_rebuild_replacing_the_method_keeps_working():
    """The rule is for what a person wrote: a resolved spec keeps every parameter, so replacing
    its method (a command-line flag, `spec.replace`, a rebuild) is not an error."""
    r = aicity.build(pipeline={"normalize": {"method": "minmax", "range": [1, 100]}}, overrides={"normalize": {"method": "zscore"}})
    assert r.spec["normalize"]["method"] == "zscore"
    assert r.rebuild(spec=r.spec.replace("impute", method="knn", k=3)).spec["impute"]["k"] == 3
    with pytest.raises(InputError, match="unknown key 'methd' in step 'normalize'; did you mean 'method'"):
        r.rebuild(spec={"normalize": {"methd": "x"}})
