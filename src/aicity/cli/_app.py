"""The command line's app, its one error handler, and what the commands share: the consoles,
the input options, and the helpers that read inputs and report a bad one."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from aicity.errors import InputError, PipelineError, Problem

if TYPE_CHECKING:
    from aicity.data import Dataset
    from aicity.framework import Framework
    from aicity.result import IndexResult

# Heavy modules (pandas, the pipeline, the store) are imported inside the commands that use
# them, so `aicity --help` starts as fast as typer itself.


class _App(typer.Typer):
    """The one error handler of the command line: a problem with the input (any command, any
    file) is printed as the project's message and exits with 2, never as a traceback; so is a
    file the system will not let us read or write. Every command is wrapped when registered,
    so the rule holds however the command is invoked (the shell, CliRunner, another program)."""

    def command(self, *args: Any, **kwargs: Any) -> Any:
        register = super().command(*args, **kwargs)

        def decorator(fn: Any) -> Any:
            @functools.wraps(fn)
            def guarded(*a: Any, **k: Any) -> Any:
                try:
                    return fn(*a, **k)
                except (InputError, PipelineError) as exc:
                    fail(exc)
                except OSError as exc:
                    where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
                    fail(Exception(where + (exc.strerror or str(exc))))

            register(guarded)
            return fn

        return decorator


app = _App(
    help="AI City Index: build, audit and compare composite indices of cities.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# Markup off: names, labels and messages come from users' files and are printed as written
# (a unit called "[/x]" or a note "[see note]" stays as it is). Our own styling goes through
# `styled`, which never parses text.
console = Console(markup=False)
err = Console(stderr=True, markup=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line with some parts styled: `styled(("OK", "green"), ": 3 indicators")`."""
    return Text.assemble(*parts)

FrameworkOpt = typer.Option(None, "--framework", "-f", help="Framework YAML or COINr iMeta (CSV/XLSX). Default: the bundled index.")
DataOpt = typer.Option(None, "--data", "-d", help="Data: long or wide CSV, XLSX or Parquet. Default: the bundled data.")
UnitsOpt = typer.Option(None, "--units", help="Unit metadata (names, country, region, groups) if not in the data file.")
PipelineOpt = typer.Option(None, "--pipeline", "-p", help="Pipeline spec YAML. Default: the framework's pipeline section.")
StoreOpt = typer.Option(None, "--store", help="DuckDB run store. Default: $AICITY_STORE or the user data directory.")


LANGS = ("en", "ko", "ja")


def _check_lang(value: str) -> str:
    if value not in LANGS:
        raise typer.BadParameter(f"'{value}': choose en, ko or ja")
    return value


LangOpt = typer.Option("en", "--lang", callback=_check_lang, help="Language for names: en, ko or ja.")
ReportLangOpt = typer.Option("en", "--lang", callback=_check_lang, help="The report's language: en, ko or ja.")
TopOpt = typer.Option(10, "--top", min=1, help="How many units to print.")


def out_folder(value: Path | None) -> Path | None:
    """--out names a folder (made when missing): a file there is an error before any work."""
    if value is not None:
        from aicity.export import check_out_folder

        try:
            check_out_folder(value)
        except InputError as exc:
            raise typer.BadParameter(exc.problems[0].reason) from None
    return value


def fail(exc: Exception) -> NoReturn:
    """The message on stderr, exit status 2 (the one way a command reports bad input)."""
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True)
    raise typer.Exit(code=2)


def problem(reason: str) -> Problem:
    """A problem with the command line itself (options that do not go together)."""
    return Problem("command line", reason)


def read_inputs(framework: Path | None, data: Path | None, units: Path | None) -> tuple[Framework, Dataset]:
    """The framework and data a command works on (`inputs.resolve_inputs`: the bundled pair
    when neither is given)."""
    from aicity.inputs import resolve_inputs

    return resolve_inputs(framework, data, units)


def build_result(framework: Path | None, data: Path | None, units: Path | None, pipeline: Path | None) -> IndexResult:
    """The index built from the command's inputs (`aicity.build`)."""
    from aicity.build import build as build_index

    return build_index(framework, data, pipeline, units=units)
