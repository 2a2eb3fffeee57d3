"""The doors stay thin: the CLI and the web call the Python API, never the pipeline's steps."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "aicity"


DOORS = sorted(str(p.relative_to(SRC)) for door in ("cli", "web") for p in (SRC / door).rglob("*.py"))


def test_the_doors_are_packages():
    assert not (SRC / "cli.py").exists() and not (SRC / "web.py").exists()
    assert {"cli/__init__.py", "web/__init__.py", "web/routers/pages.py"} <= set(DOORS)


@pytest.mark.parametrize("door", DOORS)
def test_doors_import_no_pipeline_internals(door):
    tree = ast.parse((SRC / door).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    internals = sorted(m for m in imported if m.startswith("aicity.pipeline"))
    assert not internals, f"{door} imports {internals}: put that rule in the Python API and call it"


def test_import_aicity_loads_no_heavy_module():
    """`import aicity` and the CLI module start without pandas, SciPy or the pipeline (fast --help)."""
    import subprocess
    import sys

    modules = ["aicity", "aicity.cli", *(f"aicity.cli.{p.stem}" for p in sorted((SRC / "cli").glob("*.py")) if p.stem != "__init__")]
    code = (f"import sys, {', '.join(modules)}; heavy = [m for m in ('pandas', 'scipy', 'sklearn', 'duckdb', 'aicity.build', "
            "'fastapi', 'aicity.web') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"imported at start: {out}"


def test_help_loads_no_heavy_module():
    """`aicity --help` and a command's --help load none of the heavy modules either."""
    import subprocess
    import sys

    code = ("import sys\nfrom aicity.cli import app\nfor args in (['--help'], ['build', '--help'], ['serve', '--help']):\n"
            "    try:\n        app(args, prog_name='aicity')\n    except SystemExit:\n        pass\n"
            "heavy = [m for m in ('pandas', 'scipy', 'sklearn', 'duckdb', 'aicity.build', 'fastapi', 'aicity.web') if m in sys.modules]\n"
            "print('HEAVY:' + ','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("HEAVY:"), out[-300:]


def test_every_string_exists_in_every_language():
    """The web's UI strings, the report's headings and verdicts, and the method names: each key
    in en, ko and ja."""
    from aicity.messages import METHOD_NAMES, REPORT_HEADINGS, TRANSFORM_NAMES, UI, VERDICTS
    from aicity.pipeline import aggregate, impute, normalize
    from aicity.pipeline.transform import TRANSFORMS
    from aicity.report import WRITERS

    for catalogue in (UI, REPORT_HEADINGS, VERDICTS):
        assert set(catalogue) == {"en", "ko", "ja"}
        keys = {lang: set(strings) for lang, strings in catalogue.items()}
        assert keys["en"] == keys["ko"] == keys["ja"], {k: keys["en"] ^ v for k, v in keys.items()}
    assert {lang: w.headings for lang, w in WRITERS.items()} == REPORT_HEADINGS  # the writers read the catalogue
    for name, langs in METHOD_NAMES.items():
        assert set(langs) == {"en", "ko", "ja"}, name
    # every method a registry offers has its name in every language; so does every transform
    assert {*normalize.METHODS, *aggregate.METHODS, *impute.METHODS} <= set(METHOD_NAMES)
    assert set(TRANSFORM_NAMES) == set(TRANSFORMS) - {"none"}
    assert all(set(langs) == {"en", "ko", "ja"} for langs in TRANSFORM_NAMES.values())


def test_the_cli_has_one_error_handler(capsys, tmp_path):
    """Any command that meets bad input, or a file it may not read, exits 2 with the message."""
    from aicity.cli import _App
    from aicity.errors import InputError, Problem

    t = _App()

    @t.command()
    def boom() -> None:
        raise InputError([Problem("f.csv", "bad [value]", row=3)])

    @t.command()
    def locked() -> None:
        open(tmp_path / "no" / "such" / "file")  # noqa: SIM115

    for cmd, message in (("boom", "f.csv, row 3: bad [value]"), ("locked", "No such file or directory")):
        with pytest.raises(SystemExit) as exit_:
            t([cmd])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert message in " ".join(err.split()) and "Traceback" not in err


@pytest.mark.parametrize("module", ["aicity", "aicity.build", "aicity.result", "aicity.spec", "aicity.compare",
                                    "aicity.store", "aicity.report"])
def test_entry_point_examples_run(module):
    """The runnable examples in the entry points' docstrings (build, IndexResult, run_pipeline,
    Spec, compare, make_report, Store) give what they say."""
    import doctest
    import importlib
    import sys

    mod = sys.modules.get(module) or importlib.import_module(module)
    failed, tried = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert failed == 0
    assert tried > 0 or module == "aicity"


def test_the_methods_page_is_generated_from_the_registry():
    from aicity.methoddoc import render

    page = Path(__file__).resolve().parents[1] / "docs" / "methods.md"
    assert page.read_text(encoding="utf-8") == render(), "docs/methods.md is stale: run python -m aicity.methoddoc"


def test_the_command_reference_is_generated_from_the_cli():
    """docs/cli.md lists every command and option with the help `--help` shows; an option
    without help text would leave a reader guessing."""
    from aicity.clidoc import render

    page = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
    text = render()
    assert page.read_text(encoding="utf-8") == text, "docs/cli.md is stale: run python -m aicity.clidoc"
    import re

    assert not re.findall(r"^\| `[^|]*\|  \|", text, flags=re.M), "an option has no help text"
