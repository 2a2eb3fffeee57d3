"""Reading the project's YAML files (frameworks, pipelines, uncertainty, claims, recipes): one
reader, so every file's problems are the project's `Problem`s, never a traceback.

YAML 1.2's booleans: only `true` and `false` (any case) are booleans. YAML 1.1 also read `on`,
`off`, `yes`, `no`, `y` and `n` as booleans, which silently turned the documented
`screen: {on: raw}` into `{True: raw}`; here they stay words.

YAML 1.2's numbers: `1e3` and `2E-4` are numbers (YAML 1.1 wanted a dot, `1.0e3`, and read
`1e3` as the text "1e3"); `1_000`, `12:30` (750 in base 60) and `010` (8) are YAML 1.1's
integers only, so here they stay text, or read as ten.

A key written twice in one mapping is an error naming the line (YAML forbids it; PyYAML
silently kept the last value).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from aicity.errors import InputError, Problem

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(_Base):  # type: ignore[misc, valid-type]
    """The safe loader (LibYAML's C one when present) with YAML 1.2 booleans and floats, and
    no key twice in a mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base constructor says so
                break
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' appears twice in one mapping (first on line {first})", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


_REPLACED = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:float", "tag:yaml.org,2002:int")
Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                             list("tTfF"))
# YAML 1.2 core schema integers: no 1_000, no 12:30 read as 750 (base 60), no 010 read as 8
Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
                             list("-+0123456789"))


def _yaml12_int(loader: Loader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith(("0x", "0o")):
        return sign * int(digits[2:], 16 if digits[1] == "x" else 8)
    return sign * int(digits, 10)


Loader.add_constructor("tag:yaml.org,2002:int", _yaml12_int)
# YAML 1.2 core schema floats (an exponent needs no dot), and .inf / .nan as in YAML 1.1
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


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
