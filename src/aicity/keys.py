"""Strict keys: every key of a project file (framework, pipeline, uncertainty, claims, recipe)
is known, or it is a `Problem` naming the file, the entry, the key, its line and the nearest
known key. Free metadata goes under an explicit `meta:` mapping, which is never checked.

    >>> [str(p) for p in unknown_keys({"directon": -1}, ["code", "direction"], source="fw.yaml",
    ...                                where="indicator 'a'")]
    ["fw.yaml: unknown key 'directon' in indicator 'a'; did you mean 'direction'?"]
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from aicity.errors import Problem

META = "meta"


def line_of(text: str, loc: Iterable[Any]) -> int | None:
    """The line (1-based) of the last mapping key or list item in `loc` within the YAML text,
    found by walking the node tree; None when the text is empty or the place is not there."""
    if not text:
        return None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if node is None:
            break
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == str(part):
                    line, nxt = k.start_mark.line + 1, v
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


# Characters no name, code or label may hold: C0 controls, DEL, and the invisible format
# characters (bidi overrides such as U+202E, zero-width spaces, a byte-order mark) that would make
# "\u202eSEL" a unit apart from SEL or reach a terminal raw. One class for every check.
INVISIBLE = "[\x00-\x1f\x7f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"


def nearest(key: str, known: Iterable[str]) -> str | None:
    """The known key closest to a misspelt one, if any is close."""
    found = difflib.get_close_matches(str(key), [str(k) for k in known], n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_keys(
    mapping: Mapping[Any, Any],
    known: Iterable[str],
    *,
    source: str,
    where: str,
    text: str = "",
    loc: tuple[Any, ...] = (),
    noun: str = "key",
) -> list[Problem]:
    """One Problem per key of `mapping` that is neither in `known` nor `meta` (`noun` says
    what a key is there: a key, a step...)."""
    allowed = [*known, META]
    out = []
    for key in mapping:
        if str(key) in allowed:
            continue
        line = line_of(text, (*loc, key))
        near = nearest(str(key), allowed)
        hint = f"; did you mean '{near}'?" if near else f" (known keys: {', '.join(allowed)})"
        at = f" (line {line})" if line else ""
        out.append(Problem(source, f"unknown {noun} '{key}' in {where}{at}{hint}"))
    return out


def meta_problems(mapping: Mapping[Any, Any], *, source: str, where: str) -> list[Problem]:
    """`meta:` must be a mapping when present."""
    value = mapping.get(META)
    if value is not None and not isinstance(value, Mapping):
        return [Problem(source, f"'meta' in {where} must be a mapping of free notes, got {type(value).__name__}")]
    return []
