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
    "normalize": {"method": "minmax", "range": [0.0, 100.0], "mean": 0.0, "sd": 1.0, "cap": True},
    "weights": {"set": "framework"},
    "aggregate": {"method": "arithmetic", "p": 1.0, "min_share": 0.0, "rescale": None},
}
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


def parse_pipeline(raw: Any, source: str = "<pipeline>") -> list[tuple[str, dict[str, Any]]]:
    """Validate a `pipeline:` mapping into ordered (step, params) with defaults filled."""
    problems: list[Problem] = []
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError([Problem(source, "the pipeline must be a mapping of step: parameters")])
    steps: list[tuple[str, dict[str, Any]]] = []
    for key, value in raw.items():
        step = ALIASES.get(str(key), str(key))
        if step not in STEPS:
            problems.append(Problem(source, f"unknown step '{key}'; steps are {', '.join(STEPS)}"))
            continue
        try:
            params = _shorthand(step, value)
        except TypeError as exc:
            problems.append(Problem(source, f"step '{key}': {exc}"))
            continue
        allowed = set(STEPS[step]) | ({"values"} if step == "weights" else set())
        for name in params:
            if name not in allowed:
                problems.append(
                    Problem(source, f"step '{step}' has no parameter '{name}' (it takes {', '.join(sorted(allowed))})")
                )
        method = params.get("method")
        if step in METHOD_CHOICES and method is not None and method not in METHOD_CHOICES[step]:
            problems.append(
                Problem(source, f"step '{step}': unknown method '{method}'; choose from {', '.join(METHOD_CHOICES[step])}")
            )
        merged = copy.deepcopy(STEPS[step])
        merged.update(params)
        steps.append((step, merged))
    names = [s for s, _ in steps]
    if "aggregate" in names and names[-1] != "aggregate" and not (names[-1] == "weights" and names[-2] == "aggregate"):
        problems.append(Problem(source, "'aggregate' must be the last step"))
    for step, params in steps:
        problems.extend(_check_values(step, params, source))
    if problems:
        raise InputError(problems)
    return steps


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
        if step == "aggregate":
            float(params["p"])
            if not 0 <= float(params["min_share"]) <= 1:
                bad("min_share must be between 0 and 1")
            r = params["rescale"]
            if r is not None and (not isinstance(r, list | tuple) or len(r) != 2 or not float(r[0]) < float(r[1])):
                bad(f"rescale must be [lo, hi] with lo < hi, got {r}")
        if step == "impute":
            if params["method"] in ("group_mean", "group_median") and not params.get("group"):
                bad(f"method '{params['method']}' needs 'group' (a unit column)")
            if int(params["k"]) < 1:
                bad("k must be >= 1")
    except (TypeError, ValueError) as exc:
        bad(f"a parameter is not a number ({exc})")
    return out


def load_pipeline(source: str | Path | dict | None) -> dict[str, Any] | None:
    """The raw `pipeline:` mapping from a file (with or without the `pipeline:` key) or a dict."""
    if source is None or isinstance(source, dict):
        return source
    path = Path(source)
    raw = read_yaml(path, "pipeline file")[0] or {}
    if not isinstance(raw, dict):
        raise InputError([Problem(str(path), "expected a mapping")])
    return raw.get("pipeline", raw) if "pipeline" in raw or "uncertainty" in raw else raw


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
    return parse_pipeline({s: p for s, p in out}, "<command-line options>")


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
