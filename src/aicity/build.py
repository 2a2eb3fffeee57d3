"""`aicity.build`: framework + data + pipeline spec -> IndexResult.

This module only wires the pure array steps of `aicity.pipeline` together; it holds no method.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aicity.data import Dataset
from aicity.errors import InputError, PipelineError, Problem
from aicity.framework import Framework, all_zero_reason
from aicity.inputs import resolve_inputs
from aicity.pipeline.aggregate import AggregationPlan, aggregate, make_plan
from aicity.pipeline.denominate import denominate, denominator_problems
from aicity.pipeline.impute import METHODS as IMPUTE_METHODS
from aicity.pipeline.impute import impute
from aicity.pipeline.normalize import METHODS as NORMALIZE_METHODS
from aicity.pipeline.normalize import normalize
from aicity.pipeline.rank import at_precision, rank_desc
from aicity.pipeline.screen import coverage, screen
from aicity.pipeline.transform import TRANSFORMS, invalid, transform_columns
from aicity.pipeline.treat import treat
from aicity.result import IndexResult
from aicity.spec import Spec, apply_overrides, parse_pipeline, read_pipeline_file, with_defaults

Steps = list[tuple[str, dict[str, Any]]]


def aggregation_plan(framework: Framework, aggregate: dict[str, Any] | None = None) -> AggregationPlan:
    """The levels to aggregate, with each group's own aggregation: the framework's
    `aggregate:` on the group, else the pipeline's per-level form (`aggregate.levels` of the
    spec's `aggregate` step, when given), else none (the step's method applies)."""
    levels = (aggregate or {}).get("levels") or {}
    beyond = sorted(int(k) for k in levels if int(k) > framework.n_levels)
    if beyond:
        raise InputError([Problem("pipeline", f"aggregate.levels names level(s) {beyond}, but the framework has levels "
                                              f"2 to {framework.n_levels} (1 is the indicators)")])
    methods: dict[str, dict[str, Any]] = {}
    for code in framework.aggregates:
        own = framework.node(code).aggregate or levels.get(str(framework.levels[code]))
        if own:
            methods[code] = own
    return make_plan(
        framework.codes,
        {c: n.parent for c, n in framework.nodes.items()},
        framework.levels,
        framework.weights(),
        len(framework.indicators),
        methods,
    )


def aggregate_params(params: dict[str, Any]) -> dict[str, Any]:
    """The `aggregate` step's parameters as `pipeline.aggregate.aggregate` takes them."""
    return {
        "p": float(params["p"]), "min_share": float(params["min_share"]),
        "rescale": None if params["rescale"] is None else tuple(float(v) for v in params["rescale"]),
        "on_nonpositive": params.get("on_nonpositive", "error"), "max_weight_ratio": params.get("max_weight_ratio"),
        "bounds": params.get("bounds"),
    }


def resolve_spec(framework: Framework, pipeline: str | Path | dict | None, overrides: dict[str, dict[str, Any]] | None = None) -> Steps:
    if isinstance(pipeline, str | Path):
        raw, text, at = read_pipeline_file(pipeline)
        steps = parse_pipeline(raw, str(pipeline), text, at)
    elif pipeline is not None:
        steps = parse_pipeline(pipeline, "pipeline")
    else:
        steps = parse_pipeline(framework.pipeline, framework.source, framework.text, ("pipeline",))
    if overrides:
        steps = apply_overrides(steps, overrides)
    source = str(pipeline) if isinstance(pipeline, str | Path) else "pipeline" if pipeline is not None else framework.source
    for step, params in steps:
        if step == "weights":  # checked against the framework before anything runs, naming the file
            step_weights(framework, params, source)
    return Spec(with_defaults(steps))


def step_weights(framework: Framework, params: dict[str, Any], source: str = "pipeline") -> dict[str, float]:
    """The weights a `weights` step gives every code (the framework's, equal, a named set or
    custom values over the framework's), checked: known codes and set, no group left at 0.
    Problems name `source` (the pipeline file) and the step."""
    choice = params.get("set", "framework")
    weights = framework.weights()
    if choice == "equal":
        weights = {c: 1.0 for c in weights}
    elif choice == "custom":
        weights = {**weights, **{str(k): float(v) for k, v in (params.get("values") or {}).items()}}
    elif choice != "framework":
        sets = framework.weight_sets
        if choice not in sets:
            raise InputError([Problem(source, f"step 'weights': unknown weight set '{choice}' "
                                              f"(use framework, equal, or one of {sorted(sets)})")])
        weights = {**weights, **sets[choice]}
    unknown = sorted(set(weights) - set(framework.nodes) - {framework.index_code})
    if unknown:
        raise InputError([Problem(source, f"step 'weights': unknown code(s) {', '.join(unknown)} (not in the framework)")])
    empty = sorted(framework.groups_without_weight(weights))  # the framework's own rule
    if empty:
        raise InputError([Problem(source, f"step 'weights': {all_zero_reason(p)}") for p in empty])
    return weights


def weight_vector(framework: Framework, plan: AggregationPlan, params: dict[str, Any]) -> np.ndarray:
    """Weights by code position for the `weights` step (`step_weights`)."""
    weights = step_weights(framework, params)
    return np.array([float(weights.get(c, 1.0)) for c in plan.codes])


def build(
    framework: str | Path | dict | Framework | None = None,
    data: str | Path | Dataset | pd.DataFrame | None = None,
    pipeline: str | Path | dict | None = None,
    *,
    units: str | Path | pd.DataFrame | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> IndexResult:
    """Build an index. With no arguments, the bundled Global AI City Index.

    `framework` is a file (YAML or COINr iMeta), a mapping or a Framework; `data` a file, a
    pandas DataFrame (long or wide, checked as a file is) or a Dataset.

        >>> import aicity
        >>> r = aicity.build()
        >>> r.ranking().index[0] in r.units
        True

    `pipeline` is a file or a mapping of steps (else the framework's `pipeline:` section);
    `overrides` merges parameters into single steps, e.g. {"normalize": {"method": "zscore"}}.
    """
    fw, ds = resolve_inputs(framework, data, units)
    steps = resolve_spec(fw, pipeline, overrides)
    _, problems = uncertainty_section(fw, pipeline)  # a typo there is an error now, not at `uncertainty`
    if problems:
        raise InputError(problems)
    result = run_pipeline(fw, ds, steps, progress=progress)
    # The data file's hash was taken beside the pipeline; the result leaves with it settled,
    # so a caller may delete or rewrite the inputs from here on.
    ds.hashes  # noqa: B018
    return result


@dataclass
class _State:
    """What the steps pass along: the current matrix and everything said about it so far."""

    fw: Framework
    ds: Dataset
    plan: AggregationPlan
    codes: list[str]
    raw: np.ndarray
    x: np.ndarray
    units: np.ndarray
    kept: np.ndarray
    imputed: np.ndarray
    stages: _Stages
    weights: np.ndarray
    warnings: list[str] = field(default_factory=list)
    screened_out: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["unit", "coverage"]))
    treatment: pd.DataFrame = field(default_factory=pd.DataFrame)
    normalised: np.ndarray | None = None
    scores: np.ndarray | None = None
    bod_weights: pd.DataFrame = field(default_factory=pd.DataFrame)
    rank_digits: int | None = None  # the `rank` step's precision
    indicator_ranks: Any = None  # a Future: the indicators' ranks, computed beside the aggregation


def _denominate(st: _State, params: dict[str, Any]) -> None:
    dens = [st.fw.node(c).denominator for c in st.codes]
    if params["enabled"] and any(dens):
        d = np.ones_like(st.x)
        for j, den in enumerate(dens):
            if den:
                d[:, j] = st.ds.values[den].to_numpy(dtype=float)[st.kept] if den in st.ds.values.columns else np.nan
        bad = denominator_problems(st.x, d)
        if bad.any():
            for j in np.flatnonzero(bad.any(axis=0)):
                who = ", ".join(str(u) for u in st.units[bad[:, j]][:5])
                st.warnings.append(f"{st.codes[j]}: denominator '{dens[j]}' missing or zero for {who}; value left missing")
        st.x = denominate(st.x, d)
    st.stages["denominated"] = _frame(st.x, st.units, st.codes)


def _impute(st: _State, params: dict[str, Any]) -> None:
    method = params["method"]
    groups = st.ds.unit_column(params["group"])[st.kept] if params.get("group") else None
    # each method's declared parameters; the group is passed as the unit column's values
    extra = {k: params[k] for k in IMPUTE_METHODS[method].params if k != "group"}
    if method != "none":
        filled = impute(st.x, method, groups, **extra)
        st.imputed |= np.isnan(st.x) & ~np.isnan(filled)
        left = int(np.isnan(filled).sum())
        if left:
            st.warnings.append(f"imputation '{method}' left {left} value(s) missing (nothing to impute from)")
        st.x = filled
    st.stages["imputed"] = _frame(st.x, st.units, st.codes)


def _screen(st: _State, params: dict[str, Any]) -> None:
    # A threshold of 0 keeps every unit (the default): nothing to count or copy.
    if float(params["min_coverage"]) > 0:
        basis = st.x if params["on"] == "input" else st.raw[st.kept]
        cov = coverage(basis)
        keep = screen(basis, float(params["min_coverage"]), cov)
        if not keep.any():
            best = float(np.nanmax(cov)) if len(cov) else 0.0
            raise InputError([Problem(st.ds.source, f"screening (min_coverage {float(params['min_coverage']):g}) leaves no unit to rank: "
                                                    f"the best coverage is {best:.0%}; lower min_coverage or add data")])
        if not keep.all():
            out = pd.DataFrame({"unit": st.units[~keep], "coverage": cov[~keep]})
            st.screened_out = pd.concat([st.screened_out, out], ignore_index=True) if len(st.screened_out) else out
            idx = np.flatnonzero(st.kept)
            st.kept[idx[~keep]] = False
            st.x, st.units, st.imputed = st.x[keep], st.units[keep], st.imputed[keep]
    st.stages["screened"] = _frame(st.x, st.units, st.codes)


def _treat(st: _State, params: dict[str, Any]) -> None:
    reports = []
    if params["method"] != "none":
        # `treat: false`, and a transformed indicator: its transform is its treatment (COINr's log
        # fallback and then `transform: log` would take the log twice)
        exclude = np.array([not st.fw.node(c).treat or st.fw.node(c).transform != "none" for c in st.codes])
        st.x, reports = treat(st.x, params["method"], int(params["winmax"]), float(params["skew"]), float(params["kurtosis"]), exclude)
    st.treatment = _treatment_table(reports, st.codes, st.units) if reports else pd.DataFrame()
    st.stages["treated"] = _frame(st.x, st.units, st.codes)


def _normalize(st: _State, params: dict[str, Any]) -> None:
    fw, codes = st.fw, st.codes
    targets = np.array([np.nan if fw.node(c).target is None else fw.node(c).target for c in codes])
    gp = [fw.node(c).goalposts for c in codes]
    lo = np.array([np.nan if g is None else g[0] for g in gp])
    hi = np.array([np.nan if g is None else g[1] for g in gp])
    x, directions = st.x, fw.directions()
    names = [fw.node(c).transform for c in codes]
    if any(n != "none" for n in names):
        x, (lo, hi, targets), directions = transform_indicators(x, names, st.units, codes, lo, hi, targets, directions)
        st.stages["transformed"] = _frame(x, st.units, codes)
    method = params["method"]
    kwargs = {k: params[k] for k in NORMALIZE_METHODS[method].params}  # each method's declared parameters
    st.normalised = normalize(x, method, directions, targets=targets, goalposts_lo=lo, goalposts_hi=hi, codes=codes, **kwargs)
    constant = [c for j, c in enumerate(codes) if np.isnan(st.normalised[:, j]).all() and not np.isnan(st.x[:, j]).all()]
    if constant:
        st.warnings.append(f"no spread to normalise (left missing): {', '.join(constant)}")
    st.stages["normalised"] = _frame(st.normalised, st.units, st.codes)


def _weights(st: _State, params: dict[str, Any]) -> None:
    st.weights = weight_vector(st.fw, st.plan, params)


def _aggregate(st: _State, params: dict[str, Any]) -> None:
    if st.normalised is None:
        raise PipelineError("aggregation needs a 'normalize' step before it")
    st.plan = aggregation_plan(st.fw, params)  # each group's own method, where it has one
    # The indicators' ranks need only their normalised scores: they are ranked on the other
    # core while this one aggregates (sorting releases the GIL).
    st.indicator_ranks = _background().submit(rank_desc, at_precision(st.normalised, st.rank_digits))
    notes: list[dict[str, Any]] = []
    st.scores = aggregate(st.normalised, st.plan, params["method"], weights=st.weights,
                          unit_codes=[str(u) for u in st.units], notes=notes, **aggregate_params(params))
    st.warnings += aggregation_warnings(notes, st.units)
    st.bod_weights = bod_weights_table(notes, st.units)


def _rank(st: _State, params: dict[str, Any]) -> None:
    """Ranks are taken after the last step; `run_pipeline` reads this step's `digits` before
    the steps run, so the indicators can be ranked while the aggregates are computed."""


# The steps a spec may name (their parameters and defaults are declared once, in spec.STEPS),
# each a function of the state: adding a step is a function here and an entry there.
STEP_RUNNERS: dict[str, Callable[[_State, dict[str, Any]], None]] = {
    "denominate": _denominate, "impute": _impute, "screen": _screen, "treat": _treat,
    "normalize": _normalize, "weights": _weights, "aggregate": _aggregate, "rank": _rank,
}


def run_pipeline(fw: Framework, ds: Dataset, steps: Steps, progress: Callable[[str], None] | None = None) -> IndexResult:
    """Run the spec's steps in order on the data's matrix; rank every code.

        >>> import aicity
        >>> r = aicity.build()
        >>> r2 = run_pipeline(r.framework, r.dataset, r.spec)
        >>> bool((r2.ranks.fillna(0) == r.ranks.fillna(0)).all().all())
        True
    """
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    if not len(ds.unit_codes):
        raise InputError([Problem(ds.source, "no units to rank: the data has no rows")])
    plan = aggregation_plan(fw)
    raw = ds.matrix(fw.indicators)
    st = _State(fw=fw, ds=ds, plan=plan, codes=fw.indicators, raw=raw, x=raw,  # the steps never write into their input
                units=np.array(ds.unit_codes, dtype=object), kept=np.ones(len(ds.unit_codes), dtype=bool),
                imputed=np.zeros_like(raw, dtype=bool), stages=_Stages(), weights=plan.weight_vector(),
                rank_digits=next((p.get("digits") for s, p in steps if s == "rank"), None))
    st.stages["raw"] = _frame(raw, st.units, st.codes)
    empty = [c for c, none in zip(st.codes, np.isnan(raw).all(axis=0), strict=True) if none]
    if empty:  # an indicator no unit has a value for weighs nothing anywhere: said, not silent
        st.warnings.append(f"no unit has a value for {', '.join(empty)}: it counts for nothing in this build")
    timings: dict[str, float] = {}
    for step, params in steps:
        t0 = time.perf_counter()
        say(step)
        STEP_RUNNERS[step](st, params)
        timings[step] = time.perf_counter() - t0
    assert st.scores is not None  # with_defaults guarantees an aggregate step
    say("rank")
    t0 = time.perf_counter()
    n_ind = len(st.codes)
    ranks = np.empty_like(st.scores, order="F")
    ranks[:, n_ind:] = rank_desc(at_precision(st.scores[:, n_ind:], st.rank_digits))
    ranks[:, :n_ind] = st.indicator_ranks.result()
    timings["rank"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    return IndexResult(
        framework=fw, dataset=ds, spec=Spec((s, _jsonable(p)) for s, p in steps), units=list(st.units),
        scores_array=st.scores, ranks_array=ranks, weights=st.weights, imputed_array=st.imputed, stages=st.stages,
        screened_out=st.screened_out, treatment=st.treatment, warnings=st.warnings, timings=timings,
        bod_weights=st.bod_weights,
    )


def transform_indicators(
    x: np.ndarray, names: list[str], units: np.ndarray, codes: list[str], lo: np.ndarray, hi: np.ndarray,
    targets: np.ndarray, directions: np.ndarray,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """Each indicator's `transform:` on its values, goalposts and target (all written in the
    indicator's own units). A value outside the transform's domain is an error naming the
    units; a decreasing transform (inverse) swaps the goalposts and flips the direction, so
    the indicator's direction keeps meaning what was written."""
    problems = []
    for j, name in enumerate(names):
        if name == "none":
            continue
        bad = invalid(x[:, j], name)
        if bad.any():
            who = ", ".join(f"{u} ({x[i, j]:g})" for i, u in zip(np.flatnonzero(bad)[:10], units[bad][:10], strict=True))
            more = int(bad.sum()) - 10
            problems.append(Problem(codes[j], f"transform '{name}' needs {TRANSFORMS[name].domain}; not so for {who}"
                                    + (f" and {more} more" if more > 0 else "") + "; fix the data or choose another transform"))
        for what, v in (("goalposts", lo[j]), ("goalposts", hi[j]), ("target", targets[j])):
            if invalid(np.array([v]), name).any():
                problems.append(Problem(codes[j], f"transform '{name}' needs {TRANSFORMS[name].domain}; its {what} {v:g} is not"))
    if problems:
        raise InputError(problems)
    sign = np.array([TRANSFORMS[n].sign for n in names], dtype=float)
    t_lo, t_hi = transform_columns(lo[None, :], names)[0], transform_columns(hi[None, :], names)[0]
    t_lo, t_hi = np.where(sign > 0, t_lo, t_hi), np.where(sign > 0, t_hi, t_lo)
    return transform_columns(x, names), (t_lo, t_hi, transform_columns(targets[None, :], names)[0]), directions * sign


def aggregation_warnings(notes: list[dict[str, Any]], units: np.ndarray) -> list[str]:
    """What the aggregation reported per unit, said in words: a zero child giving 0, values
    handled by `on_nonpositive`, a TOPSIS closeness left undefined."""
    out = []
    for n in notes:
        who = ", ".join(str(units[i]) for i in n.get("units", [])[:10])
        more = len(n.get("units", [])) - 10
        who += f" and {more} more" if more > 0 else ""
        if n["kind"] == "zero":
            out.append(f"{n['group']}: a zero child makes the {n['method']} aggregate 0 for {who}")
        elif n["kind"].startswith("nonpositive_"):
            which = "negative" if n.get("zero_ok") else "non-positive"
            how = {"nonpositive_zero": "counted as 0",
                   "nonpositive_missing": f"left out of the aggregate ({'negative' if n.get('zero_ok') else 'zero or negative'})",
                   "nonpositive_shift": "shifted up by 1 - its minimum for every unit"}[n["kind"]]
            out.append(f"{n['child']}: {which} values in the {n['method']} aggregation {how}, for {who}")
        elif n["kind"] == "topsis_undefined":
            out.append(f"{n['group']}: the TOPSIS closeness of {who} is undefined (each of their children has one value "
                       "for every unit, so the ideal is the anti-ideal); left missing")
    return out


def bod_weights_table(notes: list[dict[str, Any]], units: np.ndarray) -> pd.DataFrame:
    """Benefit-of-the-doubt weights: a row per unit, group and child (`weight`: its optimal
    weight; `share`: the child's part of the unit's score)."""
    rows = [
        {"unit": units[n["unit"]], "group": n["group"], "child": child, "weight": w, "share": n["shares"][child]}
        for n in notes if n["kind"] == "bod_weights" for child, w in n["weights"].items()
    ]
    return pd.DataFrame(rows, columns=["unit", "group", "child", "weight", "share"])


@cache
def _background() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(1, thread_name_prefix="aicity-build")


# A process forked after a build has the executor but not its thread: it starts a new one.
os.register_at_fork(after_in_child=_background.cache_clear)


def _frame(x: np.ndarray, units: np.ndarray, codes: list[str]) -> pd.DataFrame:
    # No copy: every stage is a new array that the pipeline never writes into afterwards.
    return pd.DataFrame(x, index=pd.Index(units, name="unit"), columns=codes, copy=False)


class _Stages(dict):
    """The stage tables. A step that changed nothing ('none') leaves the same array as the
    stage before it; its table is then a shallow copy of that stage's, which pandas'
    copy-on-write keeps apart from it when either is written to, at no cost until then."""

    def __setitem__(self, name: str, frame: pd.DataFrame) -> None:
        for earlier in self.values():
            if earlier.shape == frame.shape and np.may_share_memory(earlier.to_numpy(copy=False), frame.to_numpy(copy=False)):
                frame = earlier.copy(deep=False)
                break
        super().__setitem__(name, frame)


def _treatment_table(reports, codes: list[str], units: np.ndarray) -> pd.DataFrame:
    rows = []
    for code, rep in zip(codes, reports, strict=True):
        rows.append(
            {
                "indicator": code,
                "status": rep.status,
                "skew_before": rep.skew_before,
                "kurtosis_before": rep.kurt_before,
                "skew_after": rep.skew_after,
                "kurtosis_after": rep.kurt_after,
                "n_winsorised": rep.n_winsorised,
                "winsorised_high": ";".join(str(units[i]) for i in rep.winsorised_high),
                "winsorised_low": ";".join(str(units[i]) for i in rep.winsorised_low),
            }
        )
    return pd.DataFrame(rows)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def uncertainty_section(fw: Framework, pipeline: str | Path | dict | None) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The `uncertainty:` section `aicity uncertainty` would read (the pipeline file's, else the
    framework's) and its problems, checked as that command checks it."""
    if pipeline is None and fw.uncertainty is None:
        return None, []  # nothing to read (and the uncertainty module not to import)
    from aicity.uncertainty import load_uncertainty, parse_uncertainty

    own = load_uncertainty(pipeline) if pipeline is not None else None
    raw = own or fw.uncertainty
    if raw is None:
        return None, []

    try:
        parse_uncertainty(raw, fw, str(pipeline) if own else fw.source)
    except InputError as exc:
        return raw, exc.problems
    return raw, []


@dataclass(frozen=True)
class Checked:
    """What `check` found valid: the inputs and the resolved spec, ready to build."""

    framework: Framework
    dataset: Dataset
    spec: Spec
    uncertainty: dict[str, Any] | None


def check(
    framework: str | Path | dict | Framework | None = None,
    data: str | Path | Dataset | pd.DataFrame | None = None,
    pipeline: str | Path | dict | None = None,
    *,
    units: str | Path | pd.DataFrame | None = None,
) -> Checked:
    """Every check a build makes, without writing anything: the framework, data, pipeline and
    uncertainty files (every key known), each indicator's `transform:` against its values,
    goalposts and target, then the pipeline itself (one code path with `build`: what it refuses,
    this refuses). What `aicity validate` runs. Problems of the pipeline and uncertainty
    sections are reported together; an unreadable framework or data file first.

        >>> import aicity
        >>> aicity.check().spec.steps[-1]
        'rank'
    """
    fw, ds = resolve_inputs(framework, data, units)
    problems: list[Problem] = []
    spec = None
    try:
        spec = resolve_spec(fw, pipeline)
    except InputError as exc:
        problems += exc.problems
    raw_u, found = uncertainty_section(fw, pipeline)
    problems += found
    names = [fw.node(c).transform for c in fw.indicators]
    if any(n != "none" for n in names):
        gp = [fw.node(c).goalposts for c in fw.indicators]
        lo = np.array([np.nan if g is None else g[0] for g in gp])
        hi = np.array([np.nan if g is None else g[1] for g in gp])
        targets = np.array([np.nan if fw.node(c).target is None else fw.node(c).target for c in fw.indicators])
        try:  # goalposts and targets here; the values when the pipeline runs below (after screening, as build)
            transform_indicators(np.empty((0, len(names))), names, np.array([], dtype=object), fw.indicators,
                                 lo, hi, targets, fw.directions())
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    assert spec is not None
    # Then the build itself, without writing anything: validate says OK exactly when build
    # computes (the pipeline's own checks: zeros and negatives, missing goalposts, screening...).
    try:
        run_pipeline(fw, ds, spec)
    except PipelineError as exc:
        raise InputError([Problem(str(pipeline or fw.source), str(exc))]) from None
    return Checked(fw, ds, spec, raw_u)
