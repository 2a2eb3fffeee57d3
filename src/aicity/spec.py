"""The pipeline spec: which steps run, in which order, with which declared parameters.

Read from a `pipeline:` mapping (its own file or the framework's section); steps run in the
order written; CLI flags override single parameters. The resolved spec is recorded with every
run, so a result can always be rebuilt.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

from aicity.errors import InputError, Problem
from aicity.framework import weight_problem
from aicity.keys import line_of, nearest, unknown_keys
from aicity.pipeline import aggregate as agg
from aicity.pipeline import impute as imp
from aicity.pipeline import normalize as norm
from aicity.yamlfile import read_yaml

# Step -> {parameter: default}. "method" lists come from the step modules.
STEPS: dict[str, dict[str, Any]] = {
    "denominate": {"enabled": True},
    "impute": {"method": "none", "group": None, "k": 5, "max_iter": 10, "seed": 0},
    "screen": {"min_coverage": 0.0, "on": "input"},
    "treat": {"method": "none", "winmax": 5, "skew": 2.0, "kurtosis": 3.5},
    "normalize": {"method": "minmax", "range": [0.0, 100.0], "mean": 0.0, "sd": 1.0, "cap": True,
                  "direction_rule": "literature"},
    "weights": {"set": "framework"},
    "aggregate": {"method": "arithmetic", "p": 1.0, "min_share": 0.0, "rescale": None, "on_nonpositive": "error",
                  "max_weight_ratio": None, "bounds": None, "levels": None},
    "rank": {"digits": None},
}
# Parameters a step takes whatever its method; the others belong to the methods declaring them.
COMMON_PARAMS = {"impute": ("method",), "normalize": ("method",),
                 "aggregate": ("method", "min_share", "rescale", "levels")}
CANONICAL_ORDER = list(STEPS)
METHOD_CHOICES = {
    "impute": list(imp.METHODS),
    "treat": ["none", "winsorise_log"],
    "normalize": list(norm.METHODS),
    "aggregate": list(agg.METHODS),
}
ALIASES = {"normalise": "normalize", "winsorise": "winsorise_log", "gmean": "geometric", "amean": "arithmetic"}


def _shorthand(step: str, value: Any) -> dict[str, Any]:
    """`impute: median`, `denominate: false`, `weights: equal` and full mappings all work."""
    if step == "denominate" and isinstance(value, bool):
        return {"enabled": value}
    if step == "denominate" and not isinstance(value, dict | None):
        raise TypeError(f"denominate is true or false (or {{enabled: true}}), not {value!r}")
    if step == "weights" and (isinstance(value, str) or value is None):
        return {"set": value or "framework"}
    if step == "weights" and isinstance(value, dict) and "set" not in value:
        return {"set": "custom", "values": value}
    if isinstance(value, str):
        return {"method": ALIASES.get(value, value)}
    if value is None:
        return {}
    if isinstance(value, dict):
        out = dict(value)
        if isinstance(out.get("method"), str):
            out["method"] = ALIASES.get(out["method"], out["method"])
        return out
    raise TypeError(f"cannot read {value!r}")


def parse_aggregate(value: Any, where: str, source: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """One group's (or one level's) own aggregation: a method name or a mapping of the method
    and its parameters, checked against the aggregation registry. Only what is written is
    kept; the rest comes from the pipeline's `aggregate` step when the build runs."""
    problems: list[Problem] = []
    if isinstance(value, str):
        value = {"method": value}
    if not isinstance(value, dict) or not isinstance(value.get("method"), str):
        return None, [Problem(source, f"{where}: 'aggregate' must be a method name or a mapping with 'method'")]
    out = dict(value)
    out.pop("meta", None)
    out["method"] = ALIASES.get(out["method"], out["method"])
    method = out["method"]
    if method not in agg.METHODS:
        near = nearest(method, agg.METHODS)
        hint = f"; did you mean '{near}'?" if near else ""
        return None, [Problem(source, f"{where}: unknown aggregation '{method}' (choose from {', '.join(agg.METHODS)}){hint}")]
    known = ("method", "min_share", *agg.METHODS[method].params)
    problems += unknown_keys(out, known, source=source, where=f"the aggregation of {where} ({method})")
    wrong = _wrong_types("aggregate", out)
    if wrong:
        return None, problems + [Problem(source, f"{where}: {w}") for w in wrong]
    problems += [Problem(source, f"{where}: {p.reason}") for p in _check_values("aggregate", {**STEPS["aggregate"], **out}, source)]
    return out, problems


def _unknown_params(step: str, given: dict[str, Any], allowed: set[str], source: str, text: str, loc: tuple[Any, ...],
                    written: bool = True) -> list[Problem]:
    """Parameters a step does not take, or (in a `written` mapping) that its method does not
    read: a non-default value for a parameter the chosen method ignores would be silently
    dropped otherwise."""
    out = unknown_keys({k: v for k, v in given.items() if k not in allowed}, sorted(allowed), source=source,
                       where=f"step '{step}'", text=text, loc=loc)
    if not written:
        return out
    method = given.get("method")
    registry = {"impute": imp.METHODS, "normalize": norm.METHODS, "aggregate": agg.METHODS}.get(step)
    if registry is None or method not in registry:
        return out
    reads = set(COMMON_PARAMS.get(step, ())) | set(registry[method].params) | ({"group"} if step == "impute" else set())
    if step == "aggregate" and isinstance(given.get("levels"), dict):  # the levels' methods read the step's parameters too
        for spec in given["levels"].values():
            name = spec if isinstance(spec, str) else (spec or {}).get("method") if isinstance(spec, dict) else None
            if name in registry:
                reads |= set(registry[name].params)
    for name, value in given.items():
        if name in allowed and name not in reads and value != STEPS[step].get(name):
            line = line_of(text, (*loc, name))
            at = f" (line {line})" if line else ""
            takes = ", ".join(sorted(registry[method].params)) or "no parameters of its own"
            out.append(Problem(source, f"step '{step}': method '{method}' does not use '{name}'{at} (it takes {takes})"))
    return out


def parse_pipeline(raw: Any, source: str = "<pipeline>", text: str = "", at: tuple[Any, ...] = (),
                   *, written: bool = True) -> list[tuple[str, dict[str, Any]]]:
    """Validate a `pipeline:` mapping into ordered (step, params) with defaults filled.
    Unknown steps and parameters are errors naming the nearest known one (and the line, when
    the file's `text` is given, `at` being where the mapping sits in it); `meta:` holds free
    notes. `written`: the mapping is as a person wrote it, so a parameter its method does not
    read is an error too; a resolved spec (every parameter present, a method then replaced by
    a flag or a variant) is checked without that rule."""
    problems: list[Problem] = []
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError([Problem(source, "the pipeline must be a mapping of step: parameters")])
    steps: list[tuple[str, dict[str, Any]]] = []
    for key, value in raw.items():
        if key == "meta":
            continue
        step = ALIASES.get(str(key), str(key))
        if step not in STEPS:
            problems += unknown_keys({key: value}, list(STEPS), source=source, where="the pipeline", text=text, loc=at, noun="step")
            continue
        try:
            params = _shorthand(step, value)
        except TypeError as exc:
            problems.append(Problem(source, f"step '{key}': {exc}"))
            continue
        params.pop("meta", None)
        wrong = _wrong_types(step, params)
        if wrong:
            problems += [Problem(source, f"step '{step}': {w}") for w in wrong]
            continue
        allowed = set(STEPS[step]) | ({"values"} if step == "weights" else set())
        problems += _unknown_params(step, params, allowed, source, text, (*at, key), written)
        method = params.get("method")
        if step in METHOD_CHOICES and method is not None and method not in METHOD_CHOICES[step]:
            near = nearest(str(method), METHOD_CHOICES[step])
            hint = f"; did you mean '{near}'?" if near else ""
            problems.append(
                Problem(source, f"step '{step}': unknown method '{method}'; choose from {', '.join(METHOD_CHOICES[step])}{hint}")
            )
        merged = copy.deepcopy(STEPS[step])
        merged.update({k: v for k, v in params.items() if k in allowed})
        if step == "aggregate" and merged.get("levels") is not None:
            merged["levels"], found = _parse_levels(merged["levels"], source)
            problems += found
        steps.append((step, merged))
    names = [s for s, _ in steps]
    if "aggregate" in names:
        after = names[names.index("aggregate") + 1:]
        if any(s not in ("weights", "rank") for s in after):
            problems.append(Problem(source, "'aggregate' must be the last step (only 'weights' and 'rank' may follow it)"))
    if "rank" in names and "aggregate" in names and names.index("rank") < names.index("aggregate"):
        problems.append(Problem(source, "'rank' must come after 'aggregate'"))
    for step, params in steps:
        problems.extend(_check_values(step, params, source))
    if problems:
        raise InputError(problems)
    return steps


def _wrong_types(step: str, params: dict[str, Any]) -> list[str]:
    """Parameters of a kind no method can read (checked before anything reads them)."""
    out = []
    if "method" in params and not isinstance(params["method"], str):
        out.append(f"'method' must be a method's name, got {params['method']!r}")
    if step == "weights":
        if not isinstance(params.get("set", "framework"), str):
            out.append(f"'set' must be a name (framework, equal, custom or a weight set), got {params['set']!r}")
        values = params.get("values")
        if "values" in params and not isinstance(values, dict):
            out.append("'values' must map codes to weights")
        elif "values" in params:
            out += [f"weight of '{c}' is {why}" for c, w in values.items() if (why := weight_problem(w))]
    for name in ("range", "rescale", "bounds"):
        if params.get(name) is not None and not isinstance(params[name], list | tuple):
            out.append(f"'{name}' must be [lo, hi], got {params[name]!r}")
    for name in ("on", "group", "on_nonpositive", "direction_rule"):
        if params.get(name) is not None and not isinstance(params[name], str):
            out.append(f"'{name}' must be a name, got {params[name]!r}")
    for name, value in params.items():
        if name in ("p", "min_share", "k", "max_iter", "seed", "winmax", "skew", "kurtosis", "mean", "sd", "min_coverage",
                    "max_weight_ratio", "digits") and value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            out.append(f"'{name}' must be a number, got {value!r}")
        elif isinstance(value, float) and not math.isfinite(value):
            out.append(f"'{name}' must be a finite number, got {value!r}")
    for name in ("range", "rescale", "bounds"):
        pair = params.get(name)
        if isinstance(pair, list | tuple) and any(isinstance(v, bool) or (v is not None and not isinstance(v, int | float))
                                                  or (isinstance(v, float) and not math.isfinite(v)) for v in pair):
            out.append(f"'{name}' must hold finite numbers, got {pair!r}")
    return out


def _parse_levels(raw: Any, source: str) -> tuple[dict[str, dict[str, Any]] | None, list[Problem]]:
    """The per-level form, `aggregate: {levels: {2: arithmetic, 3: {method: geometric}}}`:
    level number -> that level's aggregation (a group's own `aggregate:` still wins)."""
    if not isinstance(raw, dict):
        return None, [Problem(source, "step 'aggregate': 'levels' must map level numbers (2 = groups of indicators) to methods")]
    out: dict[str, dict[str, Any]] = {}  # text keys: the spec is recorded as JSON
    problems: list[Problem] = []
    for key, value in raw.items():
        try:
            level = int(key)
        except (TypeError, ValueError):
            problems.append(Problem(source, f"step 'aggregate': level '{key}' is not a number (2 = groups of indicators, 3 = the level above...)"))
            continue
        if level < 2:
            problems.append(Problem(source, f"step 'aggregate': level {level} has nothing to aggregate (indicators are level 1)"))
            continue
        parsed, found = parse_aggregate(value, f"level {level}", source)
        problems += found
        if parsed is not None:
            out[str(level)] = parsed
    return out, problems


def _check_values(step: str, params: dict[str, Any], source: str) -> list[Problem]:
    out = []

    def bad(msg: str) -> None:
        out.append(Problem(source, f"step '{step}': {msg}"))

    try:
        if step == "screen":
            v = float(params["min_coverage"])
            if not 0 <= v <= 1:
                bad(f"min_coverage must be between 0 and 1, got {v}")
            if params["on"] not in ("input", "raw"):
                bad("'on' must be 'input' (data as it enters the step) or 'raw'")
        if step == "treat":
            if int(params["winmax"]) < 0:
                bad("winmax must be >= 0")
            if not float(params["skew"]) > 0:  # also refuses NaN
                bad(f"skew must be a positive number (|skewness| below it passes), got {params['skew']}")
            if not math.isfinite(float(params["kurtosis"])):
                bad(f"kurtosis must be a finite number, got {params['kurtosis']}")
        if step == "normalize":
            r = params["range"]
            if not isinstance(r, list | tuple) or len(r) != 2 or not float(r[0]) < float(r[1]):
                bad(f"range must be [lo, hi] with lo < hi, got {r}")
            if float(params["sd"]) <= 0:
                bad("sd must be positive")
            if params["direction_rule"] not in norm.DIRECTION_RULES:
                bad(f"direction_rule must be one of {', '.join(norm.DIRECTION_RULES)}, got {params['direction_rule']!r}")
        if step == "aggregate":
            float(params["p"])
            if not 0 <= float(params["min_share"]) <= 1:
                bad("min_share must be between 0 and 1")
            r = params["rescale"]
            if r is not None and (not isinstance(r, list | tuple) or len(r) != 2 or not float(r[0]) < float(r[1])):
                bad(f"rescale must be [lo, hi] with lo < hi, got {r}")
            if params["on_nonpositive"] not in agg.NONPOSITIVE:
                bad(f"on_nonpositive must be one of {', '.join(agg.NONPOSITIVE)}, got {params['on_nonpositive']!r}")
            ratio = params["max_weight_ratio"]
            if ratio is not None and not float(ratio) >= 1:
                bad(f"max_weight_ratio must be a number >= 1 (w_i <= R w_k for every pair), got {ratio!r}")
            b = params["bounds"]
            if b is not None and (
                not isinstance(b, list | tuple) or len(b) != 2
                or (b[0] is not None and float(b[0]) < 0)
                or (b[0] is not None and b[1] is not None and not float(b[0]) <= float(b[1]))
            ):
                bad(f"bounds must be [lo, hi] with 0 <= lo <= hi (either may be null), got {b!r}")
            if params["method"] == "generalised_mean" and not math.isfinite(float(params["p"])):
                bad(f"p must be a finite number, got {params['p']!r}")
        if step == "rank":
            d = params["digits"]
            if d is not None and (isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 12):
                bad(f"digits must be a whole number from 0 to 12 (or null: full precision), got {d!r}")
        if step == "impute":
            if params["method"] in ("group_mean", "group_median") and not params.get("group"):
                bad(f"method '{params['method']}' needs 'group' (a unit column)")
            for name, low, high in (("k", 1, None), ("max_iter", 1, None), ("seed", 0, 2**32 - 1)):
                v = params[name]
                if v != int(v) or v < low or (high is not None and v > high):
                    bad(f"{name} must be a whole number from {low}" + (f" to {high:,}" if high else " up") + f", got {v!r}")
    except (TypeError, ValueError) as exc:
        bad(f"a parameter is not a number ({exc})")
    return out


PIPELINE_FILE_KEYS = ("pipeline", "uncertainty")


def read_pipeline_file(path: str | Path) -> tuple[dict[str, Any], str, tuple[str, ...]]:
    """A pipeline file's `pipeline:` mapping, the file's text and where the mapping sits in it.
    The file is either the mapping of steps itself or holds `pipeline:` and/or `uncertainty:`
    (and `meta:`); any other top-level key is then an error."""
    raw, text = read_yaml(path, "pipeline file")
    raw = raw or {}
    if not isinstance(raw, dict):
        raise InputError([Problem(str(path), "expected a mapping")])
    if any(k in raw for k in PIPELINE_FILE_KEYS):
        found = unknown_keys(raw, PIPELINE_FILE_KEYS, source=str(path), where="the pipeline file", text=text)
        if found:
            raise InputError(found)
        return raw.get("pipeline") or {}, text, ("pipeline",)
    return raw, text, ()


def apply_overrides(steps: list[tuple[str, dict[str, Any]]], overrides: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Merge CLI flags into the spec; a step the spec lacks is added at its canonical place."""
    out = [(s, dict(p)) for s, p in steps]
    for step, params in overrides.items():
        for s, p in out:
            if s == step:
                p.update(params)
                break
        else:
            merged = copy.deepcopy(STEPS[step])
            merged.update(params)
            rank = CANONICAL_ORDER.index(step)
            pos = next((i for i, (s, _) in enumerate(out) if CANONICAL_ORDER.index(s) > rank), len(out))
            out.insert(pos, (step, merged))
    return parse_pipeline({s: p for s, p in out}, "<command-line options>", written=False)


class Spec(list):
    """The resolved pipeline: `(step, parameters)` pairs in the order they run, every step
    present with every parameter. A list, so it is stored and compared as one, and also:

        >>> import aicity
        >>> spec = aicity.build().spec
        >>> spec["normalize"]["method"]
        'minmax'
        >>> spec.replace("normalize", method="zscore", mean=0, sd=1)["normalize"]["method"]
        'zscore'
    """

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            key = ALIASES.get(key, key)
            for step, params in self:
                if step == key:
                    return params
            raise KeyError(f"no step '{key}' in the spec (steps: {', '.join(s for s, _ in self)})")
        return super().__getitem__(key)

    @property
    def steps(self) -> list[str]:
        return [s for s, _ in self]

    def replace(self, step: str, **params: Any) -> Spec:
        """A new spec with some parameters of one step replaced, checked like any spec."""
        step = ALIASES.get(step, step)
        if step not in STEPS:
            raise InputError([Problem("spec", f"no step '{step}' (steps: {', '.join(STEPS)})")])
        return Spec(with_defaults(apply_overrides([(s, dict(p)) for s, p in self], {step: params})))


def with_defaults(steps: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Every step present once; omitted ones take their defaults at their canonical place
    (denominate on, no imputation, no screening, no treatment, min-max, arithmetic)."""
    present = {s for s, _ in steps}
    missing = {s: {} for s in CANONICAL_ORDER if s not in present}
    return apply_overrides(steps, missing) if missing else steps
