"""Reading the project's YAML files (frameworks, pipelines, uncertainty, claims, recipes): one
reader, so every file's problems are the project's `Problem`s, never a traceback.

YAML 1.2's booleans: only `true` and `false` (any case) are booleans. YAML 1.1 also read `on`,
`off`, `yes`, `no`, `y` and `n` as booleans, which silently turned the documented
`screen: {on: raw}` into `{True: raw}`; here they stay words.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from aicity.errors import InputError, Problem

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(_Base):  # type: ignore[misc, valid-type]
    """The safe loader (LibYAML's C one when present) with YAML 1.2 booleans."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                             list("tTfF"))


def parse_yaml(text: str, shown: str) -> Any:
    """Parse YAML text; a syntax error is an InputError naming the file and line."""
    try:
        return yaml.load(text, Loader=Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError([Problem(shown, f"not valid YAML: {reason}{where}")]) from None


def read_yaml(path: str | Path, what: str = "file") -> tuple[Any, str]:
    """The parsed content of a YAML file and its text; a missing, unreadable, non-UTF-8 or
    malformed file is an InputError naming the file (and line)."""
    path = Path(path)
    shown = str(path)
    if not path.exists():
        raise InputError([Problem(shown, f"{what} not found")])
    if not path.is_file():
        raise InputError([Problem(shown, f"{what} is not a file")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError([Problem(shown, f"{what} is not UTF-8 text")]) from None
    except OSError as exc:
        raise InputError([Problem(shown, f"{what} cannot be read: {exc.strerror or exc}")]) from None
    return parse_yaml(text, shown), text
