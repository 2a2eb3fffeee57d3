"""The `aicity` command line: a thin layer over the Python API (typer + rich).

Each command parses its options, calls the API, and prints. Commands register on `app` when
their module is imported, in the order `aicity --help` lists them:

    _app.py       the app (_App: the one error handler), consoles, shared options
    output.py     printing: rankings, head-to-heads, frames as tables, number formatting
    build.py      build, validate, info, derive
    analysis.py   audit, uncertainty, profile, compare, rank, whatif, trends
    report.py     report
    store.py      serve, sources, runs, show, diff
"""

from __future__ import annotations

import importlib
import sys

from aicity.cli._app import _App, app, console, err

# Importing a command module registers its commands; --help lists them in this order.
COMMAND_MODULES = ("build", "analysis", "report", "store")
for _name in COMMAND_MODULES:
    importlib.import_module(f"aicity.cli.{_name}")

__all__ = ["_App", "app", "console", "err", "main"]


def main() -> None:  # pragma: no cover - console entry for `python -m aicity`
    app(prog_name="aicity")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
