"""The index structure: indicators, groups at any depth, weights, directions and names.

Read from our YAML format or from COINr's metadata table (`iMeta`) as it is, so COINr users
move over without converting anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aicity.csvtext import read_csv_text
from aicity.errors import InputError, Problem
from aicity.keys import meta_problems, nearest, unknown_keys
from aicity.pipeline.transform import TRANSFORMS
from aicity.yamlfile import read_yaml

LANGUAGES = ("en", "ko", "ja")
# The geographic level an indicator is measured at (`geo:`, as the data's `geo` column), finest
# first. A group marked `national: true` holds the country-level measures, and only those.
GEO_LEVELS = ("city", "metro", "cluster", "country")


@dataclass(frozen=True)
class Node:
    """An indicator (level 1), a group, or the index itself (the single root)."""

    code: str
    parent: str | None
    weight: float
    names: dict[str, str]
    kind: str  # "indicator" | "group" | "index"
    direction: int = 1
    unit: str | None = None
    description: str | None = None
    denominator: str | None = None
    goalposts: tuple[float, float] | None = None
    target: float | None = None
    # False: the outlier treatment leaves this indicator as it is (COINr's per-indicator
    # "none"), e.g. a bounded share whose extreme values are real, not errors.
    treat: bool = True
    # An indicator's transform before normalisation (log, sqrt...: pipeline.transform).
    transform: str = "none"
    # A group's own aggregation (method and parameters), overriding the pipeline's.
    aggregate: dict[str, Any] | None = None
    aliases: tuple[str, ...] = ()
    # An indicator's geographic level (one of GEO_LEVELS), where the framework declares it.
    geo: str | None = None
    # A group of national measures: every indicator below it is country-level (and, in a
    # framework that has one, every country-level indicator sits below one).
    national: bool = False
    # What a group cannot measure, by language: said in reports and docs beside its scores.
    limits: dict[str, str] = field(default_factory=dict)
    # An indicator that counts things: the counter word each language writes after the number
    # in prose (ko 곳, ja 団体: 28곳, 28団体); English writes the bare number.
    counter: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # free notes, never read by the engine

    def name(self, lang: str = "en") -> str:
        return self.names.get(lang) or self.names.get("en") or self.code


@dataclass(frozen=True)
class Persona:
    """A reader's priorities: weights for some codes (the rest keep theirs) and why."""

    code: str
    names: dict[str, str]
    weights: dict[str, float]
    rationale: dict[str, str]

    def name(self, lang: str = "en") -> str:
        return self.names.get(lang) or self.names.get("en") or self.code

    def why(self, lang: str = "en") -> str:
        return self.rationale.get(lang) or self.rationale.get("en") or ""


@dataclass(frozen=True)
class ContextVariable:
    """Shown beside the index (population, GDP...) but never scored."""

    code: str
    names: dict[str, str]
    unit: str | None = None
    description: str | None = None

    def name(self, lang: str = "en") -> str:
        return self.names.get(lang) or self.names.get("en") or self.code


class Framework:
    """A validated index tree.

    `indicators` keeps the order of the source file; `levels` maps every code to its level
    (1 for indicators, 1 + the highest child level for groups), so unbalanced trees work.
    """

    def __init__(
        self,
        nodes: list[Node],
        *,
        context: list[ContextVariable] | None = None,
        denominators: dict[str, dict[str, Any]] | None = None,
        unit_groups: list[str] | None = None,
        pipeline: dict[str, Any] | None = None,
        uncertainty: dict[str, Any] | None = None,
        weight_sets: dict[str, dict[str, float]] | None = None,
        personas: list[Persona] | None = None,
        source: str = "<framework>",
        text: str = "",
    ):
        self.source = source
        self.text = text  # the file's text, for line numbers in problems with its pipeline section
        self.weight_sets = dict(weight_sets or {})
        self.personas = {p.code: p for p in personas or []}
        self.nodes: dict[str, Node] = {}
        self.context = list(context or [])
        self.denominators = dict(denominators or {})
        self.unit_groups = list(unit_groups or [])
        self.pipeline = pipeline
        self.uncertainty = uncertainty
        problems = _validate(nodes, source)
        if problems:
            raise InputError(problems)
        self.nodes = {n.code: n for n in nodes}
        self.index_code = next(n.code for n in nodes if n.parent is None)
        self.children: dict[str, list[str]] = {n.code: [] for n in nodes}
        for n in nodes:
            if n.parent is not None:
                self.children[n.parent].append(n.code)
        self.indicators: list[str] = [n.code for n in nodes if n.kind == "indicator"]
        self.levels: dict[str, int] = {}
        self._assign_levels(self.index_code)
        self.n_levels = self.levels[self.index_code]
        # Aggregates in evaluation order: every group after all of its children.
        groups = [n.code for n in nodes if n.kind != "indicator"]
        self.aggregates: list[str] = sorted(groups, key=lambda c: (self.levels[c], groups.index(c)))

    def _assign_levels(self, code: str) -> int:
        kids = self.children[code]
        level = 1 if not kids else 1 + max(self._assign_levels(k) for k in kids)
        self.levels[code] = level
        return level

    # -- convenience -----------------------------------------------------------------
    @property
    def codes(self) -> list[str]:
        """Indicators first, then aggregates bottom-up: the column order of every result."""
        return self.indicators + self.aggregates

    def node(self, code: str) -> Node:
        return self.nodes[code]

    def codes_at_level(self, level: int) -> list[str]:
        return [c for c in self.codes if self.levels[c] == level]

    def pillars(self) -> list[str]:
        """The index's direct children, in file order."""
        return list(self.children[self.index_code])

    def ancestors(self, code: str) -> list[str]:
        out = []
        parent = self.nodes[code].parent
        while parent is not None:
            out.append(parent)
            parent = self.nodes[parent].parent
        return out

    def leaves_under(self, code: str) -> list[str]:
        if self.nodes[code].kind == "indicator":
            return [code]
        return [leaf for k in self.children[code] for leaf in self.leaves_under(k)]

    def weights(self) -> dict[str, float]:
        return {c: n.weight for c, n in self.nodes.items()}

    def is_national(self, code: str) -> bool:
        """Whether a code is a national measure or a group of them: a country-level indicator
        or anything at or below a group marked national."""
        node = self.nodes[code]
        return node.national or node.geo == "country" or any(self.nodes[a].national for a in self.ancestors(code))

    def nominal_share(self, code: str) -> float:
        """The share of the index a code's nominal weights give it (product of each level's
        weight over its siblings'): what `national: true` pillars are documented by."""
        share, cur = 1.0, code
        while self.nodes[cur].parent is not None:
            parent = self.nodes[cur].parent
            total = sum(self.nodes[k].weight for k in self.children[parent])
            share *= self.nodes[cur].weight / total if total else 0.0
            cur = parent
        return share

    def directions(self) -> np.ndarray:
        return np.array([self.nodes[c].direction for c in self.indicators], dtype=float)

    def groups_without_weight(self, weights: dict[str, float]) -> list[str]:
        """The groups whose children would all weigh 0 with some weights replaced (the rule
        `with_weights` enforces, checked without building a framework: the web's hot path)."""
        parents = {self.nodes[c].parent for c in weights if c in self.nodes and self.nodes[c].parent is not None}
        return [p for p in parents
                if all(float(weights.get(k, self.nodes[k].weight)) == 0 for k in self.children[p])]

    def with_weights(self, weights: dict[str, float]) -> Framework:
        """A copy with some weights replaced (validated like any framework)."""
        unknown = sorted(set(weights) - set(self.nodes))
        if unknown:
            raise InputError([Problem("weights", f"unknown code(s): {', '.join(unknown)}")])
        nodes = [
            _replace(n, weight=float(weights[n.code])) if n.code in weights else n
            for n in self.nodes.values()
        ]
        return self._derived(nodes, "custom weights")

    def restricted(self, indicators: list[str]) -> Framework:
        """The same index over some of its indicators: groups left without any are dropped,
        personas and weight sets keep the codes that remain."""
        unknown = [c for c in indicators if c not in self.nodes or self.nodes[c].kind != "indicator"]
        if unknown:
            raise InputError([Problem(self.source, f"not an indicator of the framework: {', '.join(map(str, unknown))}")])
        keep = set(indicators) | {a for c in indicators for a in self.ancestors(c)}
        nodes = [n for n in self.nodes.values() if n.code in keep]
        weight_sets = {k: {c: w for c, w in ws.items() if c in keep} for k, ws in self.weight_sets.items()}
        personas = [Persona(p.code, p.names, {c: w for c, w in p.weights.items() if c in keep}, p.rationale)
                    for p in self.personas.values()]
        return self._derived(nodes, f"restricted to {len(indicators)} indicators", weight_sets=weight_sets, personas=personas)

    def _derived(self, nodes: list[Node], how: str, *, weight_sets: dict[str, dict[str, float]] | None = None,
                 personas: list[Persona] | None = None) -> Framework:
        """A framework made from this one with other nodes (validated like any framework),
        keeping everything else unless given."""
        return Framework(
            nodes,
            context=self.context,
            denominators=self.denominators,
            unit_groups=self.unit_groups,
            pipeline=self.pipeline,
            uncertainty=self.uncertainty,
            weight_sets=self.weight_sets if weight_sets is None else weight_sets,
            personas=list(self.personas.values()) if personas is None else personas,
            source=f"{self.source} ({how})",
        )

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for code in self.codes:
            n = self.nodes[code]
            rows.append(
                {
                    "code": code,
                    "kind": n.kind,
                    "level": self.levels[code],
                    "parent": n.parent,
                    "weight": n.weight,
                    "direction": n.direction if n.kind == "indicator" else None,
                    "unit": n.unit,
                    "denominator": n.denominator,
                    "transform": n.transform if n.kind == "indicator" else None,
                    "geo": n.geo,
                    "national": self.is_national(code),
                    "aggregate": None if n.aggregate is None else n.aggregate["method"],
                    "name_en": n.names.get("en"),
                    "name_ko": n.names.get("ko"),
                    "name_ja": n.names.get("ja"),
                    "description": n.description,
                }
            )
        return pd.DataFrame(rows)


def _replace(node: Node, **changes: Any) -> Node:
    values = {f: getattr(node, f) for f in node.__dataclass_fields__}
    values.update(changes)
    return Node(**values)


def _validate(nodes: list[Node], source: str) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, n in enumerate(nodes):
        if not n.code:
            problems.append(Problem(source, f"entry {i + 1} has no code"))
        elif n.code in seen:
            problems.append(Problem(source, f"duplicate code '{n.code}'"))
        seen.setdefault(n.code, i)
    codes = {n.code for n in nodes}
    roots = [n.code for n in nodes if n.parent is None]
    if len(roots) != 1:
        problems.append(
            Problem(source, f"exactly one index (a node without parent) is needed, found {roots}")
        )
    has_children = {n.parent for n in nodes if n.parent is not None}
    for n in nodes:
        if n.parent is not None and n.parent not in codes:
            problems.append(Problem(source, f"'{n.code}' has unknown parent '{n.parent}'"))
        if n.kind == "indicator":
            if n.parent is None:
                problems.append(Problem(source, f"indicator '{n.code}' needs a parent"))
            if n.direction not in (1, -1):
                problems.append(
                    Problem(source, f"indicator '{n.code}' has direction {n.direction!r}; use 1 or -1")
                )
            if n.code in has_children:
                problems.append(Problem(source, f"indicator '{n.code}' cannot have children"))
        elif n.code not in has_children:
            problems.append(Problem(source, f"group '{n.code}' has no children"))
        bad_weight = weight_problem(n.weight)
        if bad_weight:
            problems.append(Problem(source, f"'{n.code}' has weight {bad_weight}"))
        if n.goalposts is not None and not (n.goalposts[0] < n.goalposts[1]):
            problems.append(Problem(source, f"'{n.code}' goalposts must be [lo, hi] with lo < hi"))
    # Cycles: walk up from every node; a walk longer than the node count loops. Reported with
    # the other problems: a cycle is why a group above it seems to have no children.
    parent_of = {n.code: n.parent for n in nodes}
    for n in nodes:
        steps, cur = 0, n.code
        while cur is not None and cur in parent_of and steps <= len(nodes):
            cur, steps = parent_of[cur], steps + 1
        if cur is not None and cur in parent_of:
            loop = [n.code]
            nxt = parent_of[n.code]
            while nxt is not None and nxt not in loop and len(loop) <= len(nodes):
                loop.append(nxt)
                nxt = parent_of.get(nxt)
            problems.insert(0, Problem(source, f"cycle in the hierarchy: {' -> '.join(loop + ([nxt] if nxt else []))}"))
            break
    if problems:
        return problems
    for parent in has_children:
        kids = [n for n in nodes if n.parent == parent]
        if all(k.weight == 0 for k in kids):
            problems.append(Problem(source, all_zero_reason(parent)))
    problems.extend(_level_problems(nodes, parent_of, source))
    return problems


def _level_problems(nodes: list[Node], parent_of: dict[str, str | None], source: str) -> list[Problem]:
    """The geography rule: below a national group only country-level indicators, and, once a
    framework has a national group, every country-level indicator below one."""
    national = {n.code for n in nodes if n.national}
    if not national:
        return []
    problems = []
    for n in nodes:
        if n.kind != "indicator":
            continue
        cur, under = n.parent, None
        while cur is not None and under is None:
            under = cur if cur in national else None
            cur = parent_of[cur]
        if under is not None and n.geo != "country":
            problems.append(Problem(source, f"indicator '{n.code}' is below the national group '{under}' but its geo is "
                                            f"{n.geo or 'not declared'}: a national group holds country-level indicators only"))
        if under is None and n.geo == "country":
            problems.append(Problem(source, f"indicator '{n.code}' is country-level but not below a national group "
                                            f"({', '.join(sorted(national))}): national figures belong there"))
    return problems


# Weights are relative. The bounds keep a weighted sum finite and a weight above 0 meaningful
# next to the others; one rule for the framework, its weight sets and personas, the pipeline's
# `weights:` step, the command line and the API.
MAX_WEIGHT = 1_000_000.0
MIN_WEIGHT = 0.000001  # the smallest weight above 0


def weight_problem(value: Any) -> str | None:
    """Why `value` cannot be a weight (None when it can): a number (not text, not true/false),
    finite, from 0 to 1,000,000, and at least 0.000001 when above 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{value!r} is not a number"
    if not math.isfinite(value) or not 0 <= value <= MAX_WEIGHT:
        return f"{value!r}: a weight must be a finite number from 0 to 1,000,000"
    if 0 < value < MIN_WEIGHT:
        return f"{value!r}: a weight above 0 must be at least 0.000001 (weights are relative: scale them all up instead)"
    return None


def all_zero_reason(parent: str) -> str:
    """The one wording of the rule that a group needs a weighted child."""
    return f"all children of '{parent}' have weight 0: it cannot be aggregated"


# -- readers ---------------------------------------------------------------------------


TEXT_LANGS = ("en", "ko", "ja")  # the languages names, limits and counters are written in


def _names(raw: Any, code: str, source: str, problems: list[Problem], what: str = "names") -> dict[str, str]:
    """Text by language ({en: ..., ko: ..., ja: ...}, with en; a plain text is the English).
    A language the product does not write (`kr`, `fr`) is an error: it would never be shown."""
    if raw is None:
        return {"en": code}
    if isinstance(raw, str):
        return {"en": raw}
    if not isinstance(raw, dict) or "en" not in raw:
        problems.append(Problem(source, f"'{code}': {what} must map languages to text, with 'en'"))
        return {"en": code}
    for lang in raw:
        if lang not in TEXT_LANGS:
            problems.append(Problem(source, f"'{code}': {what}: unknown language {lang!r} (known: {', '.join(TEXT_LANGS)})"))
    return {str(k): str(v) for k, v in raw.items() if k in TEXT_LANGS}


COUNTER_LANGS = TEXT_LANGS


def _counters(raw: Any, code: str, source: str, problems: list[Problem]) -> dict[str, str]:
    """An indicator's counter words by language ({ko: 곳, ja: 団体}); any language may be left out."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        problems.append(Problem(source, f"'{code}': counter must map languages ({', '.join(COUNTER_LANGS)}) to a word, "
                                        f"such as {{ko: 곳, ja: 団体}}"))
        return {}
    out = {}
    for lang, word in raw.items():
        if lang not in COUNTER_LANGS:
            problems.append(Problem(source, f"'{code}': counter: unknown language {lang!r} (known: {', '.join(COUNTER_LANGS)})"))
        elif not isinstance(word, str) or not word.strip():
            problems.append(Problem(source, f"'{code}': counter: {lang}: needs a word, got {word!r}"))
        else:
            out[str(lang)] = word.strip()
    return out


def find_code(framework: Framework, query: str) -> str:
    """A code from itself or an alias ('infrastructure' -> INFRA), case-insensitively."""
    q = query.strip().casefold()
    for code, node in framework.nodes.items():
        aliases = [a.casefold() for a in node.aliases]
        if code.casefold() == q or q in aliases or any(str(n).casefold() == q for n in node.names.values()):
            return code
    raise InputError([Problem(framework.source, f"no code or alias '{query}' in the framework")])


def _number(value: Any, what: str, code: str, source: str, problems: list[Problem]) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        problems.append(Problem(source, f"'{code}': {what} {value!r} is not a number"))
        return float("nan")


# Every key a framework file may hold, by place; anything else is an error naming the nearest.
TOP_KEYS = ("index", "groups", "indicators", "context", "denominators", "unit_groups", "pipeline",
            "uncertainty", "weight_sets", "personas")
INDEX_KEYS = ("code", "names", "name", "description", "aggregate", "aliases")
GROUP_KEYS = ("code", "parent", "weight", "names", "name", "description", "aggregate", "aliases", "national", "limits")
INDICATOR_KEYS = ("code", "parent", "weight", "direction", "unit", "names", "name", "description",
                  "denominator", "goalposts", "target", "treat", "transform", "aliases", "geo", "counter")
CONTEXT_KEYS = ("code", "names", "name", "unit", "description")
DENOMINATOR_KEYS = ("code", "names", "name", "unit", "description")
PERSONA_KEYS = ("names", "weights", "rationale")


def framework_from_dict(spec: dict[str, Any], source: str = "<framework>", text: str = "") -> Framework:
    """A Framework from our YAML format's mapping; `text` (the file's text) gives problems
    their line numbers. Every key is known or a problem (free notes go under `meta:`)."""
    from aicity.spec import parse_aggregate  # the aggregation registry's checks, in one place

    problems: list[Problem] = []
    if not isinstance(spec, dict):
        raise InputError([Problem(source, "the framework must be a mapping with 'index', 'groups', 'indicators'")])

    def strict(entry: dict[str, Any], known: tuple[str, ...], where: str, loc: tuple[Any, ...]) -> None:
        problems.extend(unknown_keys(entry, known, source=source, where=where, text=text, loc=loc))
        problems.extend(meta_problems(entry, source=source, where=where))

    strict(spec, TOP_KEYS, "the framework", ())
    for key in ("index", "indicators"):
        if key not in spec:
            problems.append(Problem(source, f"missing section '{key}'"))
    if "index" not in spec or "indicators" not in spec:
        raise InputError(problems)
    index = spec["index"] or {}
    if not isinstance(index, dict):
        raise InputError([*problems, Problem(source, "'index' must be a mapping (code, names...)")])
    strict(index, INDEX_KEYS, "the index", ("index",))
    nodes: list[Node] = []
    index_code = str(index.get("code", "Index"))

    def aggregate_of(entry: dict[str, Any], code: str) -> dict[str, Any] | None:
        if entry.get("aggregate") is None:
            return None
        parsed, found = parse_aggregate(entry["aggregate"], f"group '{code}'", source)
        problems.extend(found)
        return parsed

    def aliases_of(entry: dict[str, Any], code: str) -> tuple[str, ...]:
        raw = entry.get("aliases") or []
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            problems.append(Problem(source, f"'{code}': aliases must be a list of names"))
            return ()
        return tuple(str(a) for a in raw)

    nodes.append(
        Node(
            code=index_code,
            parent=None,
            weight=1.0,
            names=_names(index.get("names", index.get("name")), index_code, source, problems),
            kind="index",
            description=_text_of(index, "description", index_code, source, problems),
            aggregate=aggregate_of(index, index_code),
            aliases=aliases_of(index, index_code),
            meta=_meta(index),
        )
    )
    for section, kind in (("groups", "group"), ("indicators", "indicator")):
        entries = spec.get(section) or []
        if not isinstance(entries, list):
            problems.append(Problem(source, f"'{section}' must be a list"))
            continue
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("code"), str) or not entry["code"].strip():
                problems.append(Problem(source, f"{section}[{i}] needs a 'code' (a name such as fiveg_share)"
                                                + (f", not {entry['code']!r}" if isinstance(entry, dict) and "code" in entry else "")))
                continue
            code = str(entry["code"])
            strict(entry, GROUP_KEYS if kind == "group" else INDICATOR_KEYS, f"{kind} '{code}'", (section, i))
            if "parent" not in entry:
                problems.append(Problem(source, f"'{code}' has no parent"))
                continue
            gp = entry.get("goalposts")
            if gp is not None:
                if not isinstance(gp, list | tuple) or len(gp) != 2:
                    problems.append(Problem(source, f"'{code}': goalposts must be [lo, hi]"))
                    gp = None
                else:
                    gp = tuple(_number(g, "goalpost", code, source, problems) for g in gp)
            direction = entry.get("direction", 1)
            treat = entry.get("treat", True)
            if not isinstance(treat, bool):
                problems.append(Problem(source, f"'{code}': treat must be true or false, got {treat!r}"))
                treat = True
            transform = str(entry.get("transform") or "none")
            if transform not in TRANSFORMS:
                near = nearest(transform, TRANSFORMS)
                hint = f"; did you mean '{near}'?" if near else ""
                problems.append(Problem(source, f"'{code}': unknown transform '{transform}' (choose from {', '.join(TRANSFORMS)}){hint}"))
                transform = "none"
            geo = entry.get("geo")
            if geo is not None and geo not in GEO_LEVELS:
                problems.append(Problem(source, f"'{code}': unknown geo {geo!r} (the level it is measured at: {', '.join(GEO_LEVELS)})"))
                geo = None
            national = entry.get("national", False)
            if not isinstance(national, bool):
                problems.append(Problem(source, f"'{code}': national must be true or false, got {national!r}"))
                national = False
            nodes.append(
                Node(
                    code=code,
                    parent=str(entry["parent"]),
                    weight=entry.get("weight", 1),  # checked by weight_problem with the tree
                    names=_names(entry.get("names", entry.get("name")), code, source, problems),
                    kind=kind,
                    direction=direction if kind == "indicator" else 1,
                    unit=_text_of(entry, "unit", code, source, problems),
                    description=_text_of(entry, "description", code, source, problems),
                    denominator=_text_of(entry, "denominator", code, source, problems),
                    goalposts=gp,
                    target=None
                    if entry.get("target") is None
                    else _number(entry["target"], "target", code, source, problems),
                    treat=treat,
                    transform=transform,
                    aggregate=aggregate_of(entry, code) if kind == "group" else None,
                    aliases=aliases_of(entry, code),
                    geo=geo,
                    national=national,
                    limits=_names(entry["limits"], code, source, problems, "limits") if entry.get("limits") is not None else {},
                    counter=_counters(entry.get("counter"), code, source, problems),
                    meta=_meta(entry),
                )
            )
    context = []
    for i, entry in enumerate(spec.get("context") or [] if isinstance(spec.get("context"), list | None) else []):
        if not isinstance(entry, dict) or not isinstance(entry.get("code"), str) or not entry["code"].strip():
            problems.append(Problem(source, f"context[{i}] must be a mapping with a 'code' (and names, unit...)"))
            continue
        code = str(entry.get("code"))
        strict(entry, CONTEXT_KEYS, f"context variable '{code}'", ("context", i))
        context.append(
            ContextVariable(
                code=code,
                names=_names(entry.get("names", entry.get("name")), code, source, problems),
                unit=entry.get("unit"),
                description=entry.get("description"),
            )
        )
    for section, kind in (("context", list), ("denominators", list), ("unit_groups", list), ("personas", dict),
                          ("weight_sets", dict), ("pipeline", dict), ("uncertainty", dict)):
        if spec.get(section) is not None and not isinstance(spec[section], kind):
            shape = "a list" if kind is list else "a mapping"
            problems.append(Problem(source, f"'{section}' must be {shape}, got {type(spec[section]).__name__}"))
            spec = {**spec, section: None}
    for i, entry in enumerate(spec.get("denominators") or []):
        if isinstance(entry, dict) and "code" in entry:
            strict(entry, DENOMINATOR_KEYS, f"denominator '{entry.get('code')}'", ("denominators", i))
        else:
            problems.append(Problem(source, f"denominators[{i}] must be a mapping with a 'code'"))
    for name, weights in (spec.get("weight_sets") or {}).items():
        if not isinstance(weights, dict):
            problems.append(Problem(source, f"weight set '{name}' must map codes to weights"))
            continue
        problems += [Problem(source, f"weight set '{name}': weight of '{c}' is {why}")
                     for c, w in weights.items() if (why := weight_problem(w))]
        known = {n.code for n in nodes}
        problems += [Problem(source, f"weight set '{name}': unknown code '{c}'") for c in weights if c not in known]
    personas = []
    for code, entry in (spec.get("personas") or {}).items():
        if not isinstance(entry, dict) or not isinstance(entry.get("weights"), dict):
            problems.append(Problem(source, f"persona '{code}' needs 'weights' (a mapping of code: weight)"))
            continue
        strict(entry, PERSONA_KEYS, f"persona '{code}'", ("personas", code))
        known = {n.code for n in nodes}
        for target, weight in entry["weights"].items():
            if target not in known:
                problems.append(Problem(source, f"persona '{code}': unknown code '{target}'"))
            elif why := weight_problem(weight):
                problems.append(Problem(source, f"persona '{code}': weight of '{target}' is {why}"))
        personas.append(
            Persona(
                code=str(code),
                names=_names(entry.get("names"), str(code), source, problems),
                weights={str(k): float(v) for k, v in entry["weights"].items() if isinstance(v, int | float)},
                rationale={str(k): str(v) for k, v in (entry.get("rationale") or {}).items()},
            )
        )
    if problems:
        raise InputError(problems)
    return Framework(
        nodes,
        context=context,
        denominators={str(d["code"]): d for d in spec.get("denominators") or []},
        unit_groups=[str(g) for g in spec.get("unit_groups") or []],
        pipeline=spec.get("pipeline"),
        uncertainty=spec.get("uncertainty"),
        weight_sets=spec.get("weight_sets"),
        personas=personas,
        source=source,
        text=text,
    )


def _text_of(entry: dict[str, Any], key: str, code: str, source: str, problems: list[Problem]) -> str | None:
    """A text field of a node (unit, description, denominator): text or a number written as
    text; anything else is a problem."""
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.append(Problem(source, f"'{code}': {key} must be text, got {value!r}"))
        return None
    return str(value)


def _meta(entry: dict[str, Any]) -> dict[str, Any]:
    """A node's free notes (a `meta:` that is not a mapping is reported by `meta_problems`)."""
    value = entry.get("meta")
    return dict(value) if isinstance(value, dict) else {}


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


IMETA_COLUMNS = ("iCode", "iName", "Level", "Direction", "Weight", "Type", "Parent", "Unit", "Target", "Denominator")


def framework_from_coinr(table: pd.DataFrame, source: str = "<iMeta>") -> Framework:
    """COINr's iMeta: one row per indicator, aggregate, group column and denominator."""
    problems: list[Problem] = []
    required = {"iCode", "Type"}
    if table.get("Type") is not None and table["Type"].astype(str).str.strip().isin(["Indicator", "Aggregate"]).any():
        required |= {"Parent", "Level"}  # the tree itself: without Parent every node would be a root
    missing = required - set(table.columns)
    # a column a letter away from one of COINr's ('Parnt') is a typo; other columns are notes
    near = {c: n for c in table.columns if c not in IMETA_COLUMNS and (n := nearest(str(c), IMETA_COLUMNS)) is not None}
    if missing or near:
        raise InputError([Problem(source, f"missing column(s) {sorted(missing)} of COINr's iMeta", 1)] * bool(missing)
                         + [Problem(source, f"unknown column '{c}'; did you mean '{n}'?", 1, str(c)) for c, n in near.items()])
    stated_levels: dict[str, tuple[int, Any]] = {}  # code -> (row, Level as written), checked against the tree
    nodes: list[Node] = []
    denominators: dict[str, dict[str, Any]] = {}
    unit_groups: list[str] = []
    for i, row in table.iterrows():
        rownum = int(i) + 2
        code = str(row["iCode"]).strip()
        kind = str(row["Type"]).strip()
        name = None if _is_blank(row.get("iName")) else str(row.get("iName"))
        names = {"en": name or code}
        if kind in ("Indicator", "Aggregate"):
            stated_levels[code] = (rownum, row.get("Level"))
            parent = None if _is_blank(row.get("Parent")) else str(row["Parent"]).strip()
            try:
                weight = 1.0 if _is_blank(row.get("Weight")) else float(row["Weight"])
            except ValueError:
                problems.append(Problem(source, f"weight {row['Weight']!r} is not a number", rownum, "Weight"))
                continue
            direction = 1
            if kind == "Indicator":
                try:
                    direction = int(float(row.get("Direction")))
                except (TypeError, ValueError):
                    problems.append(Problem(source, "direction must be 1 or -1", rownum, "Direction"))
                    continue
            target = row.get("Target")
            nodes.append(
                Node(
                    code=code,
                    parent=parent,
                    weight=weight if parent is not None else 1.0,
                    names=names,
                    kind="indicator" if kind == "Indicator" else ("index" if parent is None else "group"),
                    direction=direction,
                    unit=None if _is_blank(row.get("Unit")) else str(row["Unit"]),
                    denominator=None if _is_blank(row.get("Denominator")) else str(row["Denominator"]).strip(),
                    target=None if _is_blank(target) else float(target),
                )
            )
        elif kind == "Denominator":
            denominators[code] = {"code": code, "names": names, "unit": row.get("Unit")}
        elif kind == "Group":
            unit_groups.append(code)
        elif kind in ("Other",):
            continue
        else:
            problems.append(Problem(source, f"unknown Type '{kind}'", rownum, "Type"))
    if problems:
        raise InputError(problems)
    fw = Framework(nodes, denominators=denominators, unit_groups=unit_groups, source=source)
    for code, (rownum, written) in stated_levels.items():  # COINr's Level is the tree's, or the file is wrong
        try:
            level = float(written)
        except (TypeError, ValueError):
            level = math.nan
        if not level == fw.levels[code]:  # NaN, text and a wrong level alike
            problems.append(Problem(source, f"Level {written!r} of '{code}' is not its level in the tree of Parents "
                                            f"({fw.levels[code]}: indicators are 1, each aggregate one above its children)",
                                    rownum, "Level"))
    if problems:
        raise InputError(problems)
    return fw


def read_table(path: Path) -> pd.DataFrame:
    """CSV, XLSX or Parquet, read without coercing anything: text stays text for our checks."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".parquet"):
        kind = "Parquet file" if suffix == ".parquet" else "Excel workbook"
        try:
            return pd.read_parquet(path) if suffix == ".parquet" else pd.read_excel(path, dtype=object)
        except Exception as exc:  # pyarrow, openpyxl and zipfile each raise their own kind
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError([Problem(str(path), f"not a readable {kind}: {first}")]) from None
    try:
        return read_csv_text(path)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError([Problem(str(path), f"not a readable UTF-8 CSV: {str(exc).splitlines()[0]}")]) from None


def load_framework(source: str | Path | dict | Framework | None = None) -> Framework:
    """A Framework from a YAML file, a COINr iMeta table (CSV/XLSX), a dict, or the bundled one."""
    if isinstance(source, Framework):
        return source
    if source is None:
        from aicity.bundled import framework_path

        source = framework_path()
    if isinstance(source, dict):
        return framework_from_dict(source)
    path = Path(source)
    if not path.exists():
        raise InputError([Problem(str(path), "file not found")])
    if path.suffix.lower() in (".yaml", ".yml"):
        raw, text = read_yaml(path, "framework file")
        return framework_from_dict(raw, source=str(path), text=text)
    table = read_table(path)
    table = table.replace({"": None})
    return framework_from_coinr(table, source=str(path))
