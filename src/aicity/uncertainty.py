"""Monte Carlo uncertainty and Sobol sensitivity analysis, vectorised over samples.

The uncertain inputs (an `uncertainty:` section beside `pipeline:`) split in two kinds:
- data inputs (imputation, winsorisation limit, normalisation) change the normalised data.
  They take few values, so every combination is computed once, up front;
- aggregation inputs (weights, excluded indicators, the aggregation method) change only how
  the same normalised data are combined. Samples sharing a data variant and a method are
  aggregated together with per-sample weights, one matrix product per level for a whole chunk
  of samples (see `pipeline.aggregate`), instead of one Python-level build per sample.

Chunks of samples are independent, so they run locally or as tasks on a Dask cluster, and the
results are identical either way for the same seed.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aicity.build import Steps, aggregate_params, resolve_spec, run_pipeline
from aicity.data import Dataset
from aicity.errors import InputError, PipelineError, Problem
from aicity.framework import Framework
from aicity.inputs import resolve_inputs
from aicity.keys import unknown_keys
from aicity.pipeline.aggregate import METHODS as AGGREGATIONS
from aicity.pipeline.aggregate import (
    PARAM_DEFAULTS,
    AggregationPlan,
    LevelPlan,
    aggregate,
    method_key,
)
from aicity.pipeline.impute import METHODS as IMPUTATIONS
from aicity.pipeline.normalize import METHODS as NORMALISATIONS
from aicity.pipeline.rank import at_precision, rank_desc
from aicity.yamlfile import read_yaml

INPUTS = ("impute", "winmax", "normalize", "weights", "aggregate", "exclude_indicator")
DATA_INPUTS = ("impute", "winmax", "normalize")
MAX_SAMPLES = 1_000_000
# A Sobol' analysis runs sobol_samples x (inputs + 2) times: at most this many runs.
MAX_SOBOL_RUNS = 1_000_000
# Per chunk, samples x units x codes floats: ~32 M doubles (256 MB) keeps memory bounded.
CHUNK_CELLS = 32_000_000


@dataclass(frozen=True)
class UncertaintySpec:
    samples: int = 10_000
    seed: int = 1
    target: str | None = None
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    sobol_samples: int = 2048


def default_uncertainty(fw: Framework) -> dict[str, Any]:
    """The uncertain inputs used when neither the pipeline nor the framework has an
    `uncertainty:` section: every weight of the groups below the index (the indicators' own,
    in a two-level framework) varied by +/-25 %; min-max [1, 100] or rank normalisation;
    arithmetic or geometric aggregation. Both normalisations give values of at least 1
    whatever the data, so the geometric mean is always defined (a z-score can go negative)."""
    return {"inputs": {
        "weights": {"noise": 0.25, "levels": list(range(2, fw.n_levels)) or [1]},
        "normalize": {"values": [{"method": "minmax", "range": [1, 100]}, {"method": "rank"}]},
        "aggregate": {"values": ["arithmetic", "geometric"]},
    }}


def load_uncertainty(source: str | Path | dict | None) -> dict[str, Any] | None:
    """The raw `uncertainty:` mapping from a pipeline file or a dict holding one."""
    if source is None:
        return None
    if isinstance(source, dict):
        return source.get("uncertainty", source if "inputs" in source else None)
    raw = read_yaml(Path(source), "pipeline file")[0] or {}
    return raw.get("uncertainty") if isinstance(raw, dict) else None


def parse_uncertainty(raw: dict[str, Any] | None, framework: Framework, source: str = "uncertainty") -> UncertaintySpec:
    problems: list[Problem] = []
    raw = raw or {}
    if not isinstance(raw, dict):
        raise InputError([Problem(source, "the uncertainty section must be a mapping")])
    problems += unknown_keys(raw, ("samples", "seed", "target", "inputs", "sobol_samples"), source=source,
                             where="the uncertainty section")
    inputs_raw = raw.get("inputs")
    if not isinstance(inputs_raw, dict) or not inputs_raw:  # else every sample is the nominal run
        problems.append(Problem(source, "the uncertainty section needs 'inputs': a mapping of the inputs to vary "
                                        f"({', '.join(INPUTS)}), at least one"))
        inputs_raw = {}
    inputs: dict[str, dict[str, Any]] = {}
    for name, spec in inputs_raw.items():
        if name == "meta":
            continue
        if name not in INPUTS:
            problems += unknown_keys({name: spec}, INPUTS, source=source, where="the uncertain inputs", noun="input")
            continue
        if spec is not None and not isinstance(spec, dict):
            problems.append(Problem(source, f"{name}: expected a mapping ({'noise, levels' if name == 'weights' else 'values'})"))
            continue
        spec = dict(spec or {})
        problems += unknown_keys(spec, ("noise", "levels") if name == "weights" else ("values",), source=source,
                                 where=f"uncertain input '{name}'")
        if name == "weights":
            noise = spec.get("noise")
            if not isinstance(noise, int | float) or not 0 < noise < 1:
                problems.append(Problem(source, "weights: 'noise' must be a number in (0, 1)"))
            levels = spec.get("levels") or list(range(1, framework.n_levels))
            if not isinstance(levels, list):
                problems.append(Problem(source, f"weights: 'levels' must be a list of levels (1..{framework.n_levels - 1}), not {levels!r}"))
                continue
            bad = [lv for lv in levels if _whole(lv) not in range(1, framework.n_levels)]
            if bad:
                problems.append(Problem(source, f"weights: levels {bad} are not levels below the index (1..{framework.n_levels - 1})"))
                continue
            inputs[name] = {"noise": float(noise or 0), "levels": [_whole(lv) for lv in levels]}
            continue
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            problems.append(Problem(source, f"{name}: 'values' must be a non-empty list"))
            continue
        problems.extend(_check_values(name, values, source, framework.indicators))
        inputs[name] = {"values": values}
    target = (raw.get("target") or {}).get("code") if isinstance(raw.get("target"), dict) else raw.get("target")
    if target is not None and (target not in framework.nodes or framework.nodes[target].kind == "indicator"):
        problems.append(Problem(source, f"target '{target}' is not an aggregate of the framework"))
    samples = _whole(raw.get("samples", 10_000))
    if samples is None or not 1 <= samples <= MAX_SAMPLES:
        problems.append(Problem(source, f"samples must be a whole number between 1 and {MAX_SAMPLES:,}"))
    sobol_samples = _whole(raw.get("sobol_samples", 2048))
    problems += sobol_samples_problems(sobol_samples if sobol_samples is not None else raw.get("sobol_samples"), len(inputs), source)
    seed = _whole(raw.get("seed", 1))
    problems += seed_problems(seed if seed is not None else raw.get("seed"), source)
    if problems:
        raise InputError(problems)
    return UncertaintySpec(
        samples=samples,
        seed=int(seed),  # type: ignore[arg-type]  # checked above
        target=target,
        inputs=inputs,
        sobol_samples=int(sobol_samples or 2048),
    )


def _whole(value: Any) -> int | None:
    """A whole number written as one (5, 5.0, "5"), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def seed_problems(seed: Any, source: str = "uncertainty") -> list[Problem]:
    """A random seed is a whole number from 0 to 2**63 - 1 (what numpy's generators take)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        return [Problem(source, f"seed must be a whole number from 0 to 2**63 - 1, not {seed!r}")]
    return []


def sobol_samples_problems(base: Any, n_inputs: int, source: str = "uncertainty") -> list[Problem]:
    """Sobol' base samples N must be a power of 2 (Sobol' sequences), with N x (inputs + 2)
    runs at most MAX_SOBOL_RUNS: checked before anything is allocated for them."""
    most = 1 << ((MAX_SOBOL_RUNS // (max(n_inputs, 1) + 2)).bit_length() - 1)
    if not isinstance(base, int) or isinstance(base, bool) or base < 1 or base & (base - 1):
        return [Problem(source, f"sobol_samples must be a power of 2 (Sobol' sequences) between 1 and {most:,}, got {base!r}")]
    if base > most:
        return [Problem(source, f"sobol_samples {base:,} is too many: {base:,} x ({n_inputs} inputs + 2) runs; "
                                f"at most {MAX_SOBOL_RUNS:,} runs, so at most {most:,} with {n_inputs} inputs")]
    return []


def _check_values(name: str, values: list, source: str, indicators: Iterable[str] = ()) -> list[Problem]:
    out = []
    for v in values:
        if name == "winmax" and (not isinstance(v, int) or v < 0):
            out.append(Problem(source, f"winmax: {v!r} is not a whole number >= 0"))
        if name == "impute" and (v if isinstance(v, str) else (v or {}).get("method")) not in IMPUTATIONS:
            out.append(Problem(source, f"impute: unknown method in {v!r}"))
        if name == "normalize" and (v if isinstance(v, str) else (v or {}).get("method")) not in NORMALISATIONS:
            out.append(Problem(source, f"normalize: unknown method in {v!r}"))
        if name == "aggregate" and (v if isinstance(v, str) else (v or {}).get("method")) not in AGGREGATIONS:
            out.append(Problem(source, f"aggregate: unknown method in {v!r}"))
        method = v if isinstance(v, str) else (v or {}).get("method") if isinstance(v, dict) else None
        if name == "aggregate" and method in AGGREGATIONS and not AGGREGATIONS[method].batched:
            out.append(Problem(source, f"aggregate: {method} cannot be sampled (it takes no batch of weights)"))
        if name in ("impute", "normalize", "aggregate") and isinstance(v, dict) and method in {
                "impute": IMPUTATIONS, "normalize": NORMALISATIONS, "aggregate": AGGREGATIONS}[name]:
            from aicity.spec import parse_pipeline

            if name == "aggregate" and "levels" in v:
                out.append(Problem(source, f"an option of uncertain input 'aggregate' cannot set 'levels': {v!r}"))
                continue
            try:  # the same checks as the pipeline's step: unknown keys, types and ranges
                parse_pipeline({name: v}, source)
            except InputError as exc:
                out += [Problem(source, f"an option of uncertain input '{name}' ({v!r}): {p.reason}") for p in exc.problems]
        if name == "exclude_indicator" and v not in ("none", "each") and (not isinstance(v, str) or v not in indicators):
            out.append(Problem(source, f"exclude_indicator: {v!r} must be 'none', 'each' or an indicator code of the framework"))
    return out


_BLAS: list[Any] = []  # the threadpoolctl controller, once found (None: not installed)


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS on one thread for the block. The products here are many and middling (units x
    leaves x a chunk of samples): OpenBLAS's threads gain little on them and, on a machine
    whose cores are busy, wait for each other (measured: 0.09 s on one thread, 0.6-1.4 s on
    two, for 1,000 units x 100 indicators x 10,000 samples on a loaded 2-core machine). The
    same thread count everywhere also keeps local and Dask results identical."""
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS.append(ThreadpoolController())
        except ImportError:  # threadpoolctl comes with scikit-learn; without it, BLAS as configured
            _BLAS.append(None)
    if _BLAS[0] is None:
        yield
        return
    with _BLAS[0].limit(limits=1, user_api="blas"):
        yield


@contextmanager
def _timed(timings: dict[str, float], phase: str) -> Iterator[None]:
    """Add the seconds the block takes to `timings[phase]`."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - t0


def _label(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


@dataclass
class Engine:
    """Everything needed to evaluate samples; picklable, so it travels to Dask workers."""

    plan: AggregationPlan
    units: list[str]
    target_pos: int  # position among the aggregates
    input_names: list[str]
    option_labels: list[list[str]]
    variants: dict[tuple[int, int, int], np.ndarray]  # (impute, winmax, normalize) -> (units, indicators)
    aggregations: list[dict[str, Any]]
    base_weights: np.ndarray
    weight_sets: np.ndarray | None  # (K, codes) noisy weights, or None
    exclude_cols: list[int | None]  # per exclude option: the indicator position, or None
    nominal_scores: np.ndarray
    nominal_ranks: np.ndarray
    data_options: tuple[list, list, list]  # raw impute, winmax and normalize options
    rank_digits: int | None = None  # the build's rank precision (`rank: {digits: n}`)
    # Per code: its weight differs between samples (noisy weights, an excluded indicator).
    varying: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # Seconds spent per phase (prepare's and the local evaluations'; not those on Dask workers).
    timings: dict[str, float] = field(default_factory=dict)
    # What evaluation computes once and reuses: the subtree above the varying weights, and per
    # data variant and aggregation the scores below them. Filled on first use (on each worker).
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def n_options(self) -> list[int]:
        return [len(o) for o in self.option_labels]

    def _column(self, design: np.ndarray, name: str) -> np.ndarray:
        if name in self.input_names:
            return design[:, self.input_names.index(name)]
        return np.zeros(len(design), dtype=np.int64)

    def evaluate(self, design: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Target scores and ranks, (samples, units), for a block of option indices."""
        scores = self.evaluate_scores(design)
        with _timed(self.timings, "ranking"):
            ranks = rank_desc(at_precision(scores, self.rank_digits)[:, :, None])[:, :, 0]
        return scores, ranks

    def evaluate_scores(self, design: np.ndarray) -> np.ndarray:
        """Target scores (samples, units) for a block of option indices.

        The levels below the first one whose weights vary (`upper().start`) are the same for
        every sample of a data variant and aggregation: they are computed once per such
        combination and kept. Per sample, only the target's subtree above them is aggregated,
        and where that is one arithmetic (or one geometric) mean of complete (positive) data,
        it collapses to one weighted sum per sample: the target is the leaves' values (their
        logarithms) times each leaf's effective weight, the product of its weight shares on the
        way up, so a whole block of samples is one matrix product.
        """
        t = self.timings
        t0 = time.perf_counter()
        design = np.asarray(design, dtype=np.int64)
        n = len(design)
        scores = np.empty((n, len(self.units)))
        key = np.stack([self._column(design, c) for c in (*DATA_INPUTS, "aggregate")], axis=1)
        combos, inverse = np.unique(key, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        up = self.upper()
        weights = None
        if up is not None:
            w_idx, x_idx = self._column(design, "weights"), self._column(design, "exclude_indicator")
            sub_cols = up.cols
            if self.weight_sets is not None:
                weights = self.weight_sets[w_idx][:, sub_cols]
            else:
                weights = np.broadcast_to(self.base_weights[sub_cols], (n, len(sub_cols))).copy()
            excl = self._exclude_sub(up)[x_idx]  # position among the subtree's codes, or -1
            hit = np.flatnonzero(excl >= 0)
            weights[hit, excl[hit]] = 0.0
        t["chunking"] = t.get("chunking", 0.0) + time.perf_counter() - t0
        with _one_blas_thread():
            self._evaluate_combos(combos, inverse, weights, scores)
        return scores

    def _evaluate_combos(self, combos: np.ndarray, inverse: np.ndarray, weights: np.ndarray | None, scores: np.ndarray) -> None:
        t = self.timings
        up = self.upper()
        for c, combo in enumerate(combos):
            t0 = time.perf_counter()
            rows = np.flatnonzero(inverse == c) if len(combos) > 1 else slice(None)
            t["chunking"] = t.get("chunking", 0.0) + time.perf_counter() - t0
            with _timed(t, "fixed levels"):
                fixed = self._fixed(tuple(int(v) for v in combo))
            t0 = time.perf_counter()
            if up is None:
                scores[rows] = fixed.scores[:, self.plan.n_indicators + self.target_pos]
                t["chunking"] = t.get("chunking", 0.0) + time.perf_counter() - t0
                continue
            assert weights is not None
            w = weights[rows]
            t1 = time.perf_counter()
            t["chunking"] = t.get("chunking", 0.0) + t1 - t0
            if fixed.collapsed is not None:
                eff, ok = up.effective_weights(w)
                out = np.empty((len(w), len(self.units)))
                out[ok] = (fixed.collapsed @ eff[ok].T).T
                if fixed.geometric:
                    out[ok] = np.exp(out[ok])
                if not ok.all():
                    out[~ok] = self._general(fixed, up, w[~ok])
            else:
                out = self._general(fixed, up, w)
            t0 = time.perf_counter()
            t["aggregation"] = t.get("aggregation", 0.0) + t0 - t1
            scores[rows] = out
            t["chunking"] = t.get("chunking", 0.0) + time.perf_counter() - t0

    def _general(self, fixed: _Fixed, up: _Upper, w: np.ndarray) -> np.ndarray:
        """The subtree's levels aggregated sample by sample (as a batch), as a build does."""
        agg = self.aggregations[fixed.aggregation]
        out = aggregate(fixed.scores[:, up.cols[: up.n_leaves]], up.plan, weights=w, aggregates_only=True, **agg)
        return out[..., up.target - up.n_leaves]

    def _exclude_sub(self, up: _Upper) -> np.ndarray:
        """Per exclude option: the excluded indicator's position among the subtree's codes, or -1."""
        where = {int(c): i for i, c in enumerate(up.cols)}
        return np.array([-1 if col is None else where.get(col, -1) for col in self.exclude_cols], dtype=np.int64)

    def floats_per_sample(self) -> int:
        """Per unit, the floats a sample's evaluation holds at once: its scores alone where
        every sample of a combination is alike, or where every combination collapses to the
        product (computing each combination's fixed levels now, once), else every code of the
        batched aggregation."""
        up = self.upper()
        if up is None:
            return 1
        combos = itertools.product(*(range(n) for n in (*(len(o) for o in self.data_options), len(self.aggregations))))
        with _timed(self.timings, "fixed levels"):
            collapses = all(self._fixed(c).collapsed is not None for c in combos)
        if collapses:
            return 2
        return len(self.plan.codes)

    def upper(self) -> _Upper | None:
        """What per-sample weights change (None: nothing, every sample of a combination is the same)."""
        if "upper" not in self._cache:
            self._cache["upper"] = _upper(self.plan, self.varying, self.plan.n_indicators + self.target_pos)
        return self._cache["upper"]

    def _fixed(self, combo: tuple[int, int, int, int]) -> _Fixed:
        """The scores shared by every sample of one data variant and aggregation, cached."""
        hit = self._cache.get(combo)
        if hit is None:
            hit = self._cache[combo] = self._compute_fixed(combo)
        return hit

    def _compute_fixed(self, combo: tuple[int, int, int, int]) -> _Fixed:
        data = self.variants[combo[:3]]
        agg = self.aggregations[combo[3]]
        up = self.upper()
        n_ind = self.plan.n_indicators
        plan = self.plan if up is None else AggregationPlan(self.plan.codes, n_ind, self.plan.levels[: up.start])
        aggs = aggregate(data, plan, weights=self.base_weights, aggregates_only=True, **agg)
        scores = np.concatenate([data, aggs], axis=1)
        collapsed, geometric = None, False
        if up is not None:
            method = up.single_method(agg)
            leaves = scores[:, up.cols[: up.n_leaves]]
            if method == "arithmetic" and not np.isnan(leaves).any():
                collapsed = np.ascontiguousarray(leaves)
            elif method == "geometric" and not np.isnan(leaves).any() and (leaves > 0).all():
                collapsed, geometric = np.log(leaves), True
        return _Fixed(aggregation=combo[3], scores=scores, collapsed=collapsed, geometric=geometric)


@dataclass
class _Fixed:
    """One data variant and aggregation: every code's score below the varying levels (units,
    codes), and the leaves of the target's subtree ready for the collapsed product (their
    values, or logarithms for a geometric mean), or None where it does not apply."""

    aggregation: int
    scores: np.ndarray
    collapsed: np.ndarray | None
    geometric: bool


# Methods whose nesting is one mean with effective weights: an arithmetic mean of arithmetic
# means is an arithmetic mean of the leaves, a geometric one of geometric ones a geometric one.
_COLLAPSIBLE = ("arithmetic", "geometric")


@dataclass
class _Upper:
    """The target's subtree from the first level whose weights vary: its own plan over its
    codes (leaves first: the scores computed once per combination, then its groups)."""

    start: int  # the first level (index into plan.levels) whose children's weights vary
    cols: np.ndarray  # the subtree's codes' positions in the full code list, leaves first
    n_leaves: int
    target: int  # the target's position in `cols`
    plan: AggregationPlan  # the subtree's levels, over `cols`
    group_of_child: list[np.ndarray]  # per level of `plan`: each child's group

    def single_method(self, agg: dict[str, Any]) -> str | None:
        """The one aggregation every group of the subtree uses, when the collapse holds for it
        (arithmetic or geometric, no rescaling, a min_share complete data always meets)."""
        default = {**PARAM_DEFAULTS, **{k: v for k, v in agg.items() if k not in ("method", "rescale")}, "method": agg["method"]}
        if agg.get("rescale") is not None:
            return None
        specs = [{**default, **(own or {})} for lv in self.plan.levels
                 for own in (lv.methods or (None,) * len(lv.group_cols))]
        if len({method_key(sp) for sp in specs}) != 1:
            return None
        spec = specs[0]
        if spec["method"] not in _COLLAPSIBLE or float(spec.get("min_share") or 0.0) > 1.0:
            return None
        return str(spec["method"])

    def effective_weights(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each leaf's effective weight in the target per sample (samples, leaves), and which
        samples the collapse holds for: every group that counts has a positive weight sum (a
        group whose weights are all 0 is missing, and its parent renormalises over the rest)."""
        n = len(w)
        eff = np.zeros((n, len(self.cols)))
        eff[:, self.target] = 1.0
        ok = np.ones(n, dtype=bool)
        with np.errstate(invalid="ignore", divide="ignore"):
            for lv, gidx in zip(reversed(self.plan.levels), reversed(self.group_of_child), strict=True):
                wc = w[:, lv.child_cols]
                total = wc @ lv.membership  # (samples, groups)
                parent = eff[:, lv.group_cols]
                ok &= ~((total <= 0) & (parent != 0)).any(axis=1)
                eff[:, lv.child_cols] = parent[:, gidx] * (wc / total[:, gidx])
        eff = eff[:, : self.n_leaves]
        ok &= np.isfinite(eff).all(axis=1)
        return eff, ok


def _upper(plan: AggregationPlan, varying: np.ndarray, target: int) -> _Upper | None:
    """The subtree of `target` above the first level whose children's weights vary (None when
    no weight under the target varies)."""
    level_of = {int(g): i for i, lv in enumerate(plan.levels) for g in lv.group_cols}
    top = level_of[target]
    start = next((i for i, lv in enumerate(plan.levels[: top + 1]) if varying[lv.child_cols].any()), None)
    if start is None:
        return None
    groups: set[int] = {target}
    children: set[int] = set()
    for lv in reversed(plan.levels[start : top + 1]):
        for j, g in enumerate(lv.group_cols):
            if int(g) in groups:
                kids = lv.child_cols[lv.membership[:, j] > 0]
                children.update(int(k) for k in kids)
                groups.update(int(k) for k in kids if level_of.get(int(k), -1) >= start)
    leaves = sorted(children - groups)
    ordered = [int(g) for lv in plan.levels[start : top + 1] for g in lv.group_cols if int(g) in groups]
    cols = np.array(leaves + ordered, dtype=np.int64)
    pos = {c: i for i, c in enumerate(cols.tolist())}
    levels, group_of_child = [], []
    for lv in plan.levels[start : top + 1]:
        gi = np.array([j for j, g in enumerate(lv.group_cols) if int(g) in groups], dtype=np.int64)
        if not len(gi):
            continue
        sub = lv.membership[:, gi]
        rows = np.flatnonzero(sub.any(axis=1))
        levels.append(LevelPlan(
            level=lv.level,
            group_cols=np.array([pos[int(g)] for g in lv.group_cols[gi]], dtype=np.int64),
            child_cols=np.array([pos[int(c)] for c in lv.child_cols[rows]], dtype=np.int64),
            membership=sub[rows],
            weights=lv.weights[rows],
            methods=tuple(lv.methods[j] for j in gi) if lv.methods else (),
        ))
        group_of_child.append(sub[rows].argmax(axis=1))
    codes = [plan.codes[c] for c in cols]
    return _Upper(start=start, cols=cols, n_leaves=len(leaves), target=pos[target],
                  plan=AggregationPlan(codes, len(leaves), levels), group_of_child=group_of_child)


def reference_scores(engine: Engine, design: np.ndarray) -> np.ndarray:
    """Target scores (samples, units) the plain way: per data variant and aggregation, every
    level of the whole plan aggregated with each sample's weights. What `Engine.evaluate`
    must equal (tests compare them); slower, and nothing is cached."""
    design = np.asarray(design, dtype=np.int64)
    scores = np.empty((len(design), len(engine.units)))
    key = np.stack([engine._column(design, c) for c in (*DATA_INPUTS, "aggregate")], axis=1)
    w_idx, x_idx = engine._column(design, "weights"), engine._column(design, "exclude_indicator")
    for i, row in enumerate(key):
        weights = (engine.base_weights if engine.weight_sets is None else engine.weight_sets[w_idx[i]]).copy()
        col = engine.exclude_cols[x_idx[i]]
        if col is not None:
            weights[col] = 0.0
        data = engine.variants[(int(row[0]), int(row[1]), int(row[2]))]
        out = aggregate(data, engine.plan, weights=weights[None, :], aggregates_only=True, **engine.aggregations[int(row[3])])
        scores[i] = out[0, :, engine.target_pos]
    return scores


def _variant_steps(steps: Steps, impute: Any, winmax: Any, normalize: Any) -> Steps:
    out = copy.deepcopy(steps)
    for step, params in out:
        if step == "impute" and impute is not None:
            params.update({"method": impute} if isinstance(impute, str) else impute)
        if step == "treat" and winmax is not None:
            params.update({"method": "winsorise_log", "winmax": int(winmax)})
        if step == "normalize" and normalize is not None:
            params.clear()
            params.update({**dict(_defaults("normalize")), **({"method": normalize} if isinstance(normalize, str) else normalize)})
    return out


def _normalised(fw: Framework, ds: Dataset, steps: Steps, prefixes: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    """The units and normalised indicators of `steps`: the build's own steps, run up to the
    normalisation only (weights, aggregation and ranks play no part in a data variant). The
    state after each leading run of steps is kept in `prefixes`, so variants that share their
    imputation (and winsorisation) compute it once: ten variants of five winsorisation limits
    and two normalisations treat the data five times and impute it once."""
    import json

    from aicity.build import STEP_RUNNERS, _Stages, _State, aggregation_plan

    upto = next((i for i, (step, _) in enumerate(steps) if step == "normalize"), None)
    if upto is None:  # no normalisation step: the whole pipeline, as a build runs it
        res = run_pipeline(fw, ds, steps)
        return list(res.units), res.stages["normalised"].to_numpy()
    st = None
    key = ""
    for n, (step, params) in enumerate(steps[: upto + 1]):
        key += json.dumps([step, params], sort_keys=True, default=str)
        hit = prefixes.get(key)
        if hit is not None:
            st = hit
            continue
        if st is None:
            plan = aggregation_plan(fw)
            raw = ds.matrix(fw.indicators)
            st = _State(fw=fw, ds=ds, plan=plan, codes=fw.indicators, raw=raw, x=raw,
                              units=np.array(ds.unit_codes, dtype=object), kept=np.ones(len(ds.unit_codes), dtype=bool),
                              imputed=np.zeros_like(raw, dtype=bool), stages=_Stages(), weights=plan.weight_vector())
        else:  # a fresh state from the shared one: the steps write into these in place
            st = copy.copy(st)
            st.kept, st.imputed, st.warnings = st.kept.copy(), st.imputed.copy(), list(st.warnings)
            st.stages = _Stages(st.stages)
        STEP_RUNNERS[step](st, params)
        if n < upto:
            prefixes[key] = st
    assert st is not None and st.normalised is not None
    return list(st.units), st.normalised


def _defaults(step: str) -> dict[str, Any]:
    from aicity.spec import STEPS

    return copy.deepcopy(STEPS[step])


def prepare(fw: Framework, ds: Dataset, steps: Steps, uspec: UncertaintySpec, n_weight_sets: int, progress: Callable[[str], None] | None = None) -> Engine:
    """Nominal build, data variants and noisy weight sets: the fixed part of an analysis."""
    say = progress or (lambda _m: None)
    timings: dict[str, float] = {}
    with _timed(timings, "nominal build"):
        nominal = run_pipeline(fw, ds, steps)
    plan = nominal.plan  # each group's own aggregation, as in the build
    target = uspec.target or fw.index_code
    target_pos = plan.codes.index(target) - plan.n_indicators
    params = dict(steps)
    agg_nominal = params["aggregate"]
    inputs = uspec.inputs
    names = [n for n in INPUTS if n in inputs]
    labels: list[list[str]] = []
    impute_opts = inputs.get("impute", {}).get("values", [None])
    winmax_opts = inputs.get("winmax", {}).get("values", [None])
    norm_opts = inputs.get("normalize", {}).get("values", [None])
    variants: dict[tuple[int, int, int], np.ndarray] = {}
    prefixes: dict[str, Any] = {}  # the pipeline's state after each shared run of steps
    for (i, imp), (j, win), (k, nrm) in itertools.product(enumerate(impute_opts), enumerate(winmax_opts), enumerate(norm_opts)):
        say(f"data variant impute={_label(imp)} winmax={win} normalize={_label(nrm)}")
        with _timed(timings, "data variants"):
            units, normalised = _normalised(fw, ds, _variant_steps(steps, imp, win, nrm), prefixes)
        if units != nominal.units:
            raise PipelineError(
                "an uncertain input changes which units pass screening; screen on raw data "
                "(screen: {on: raw}) or before imputation"
            )
        variants[(i, j, k)] = normalised
    aggregations = []
    for v in inputs.get("aggregate", {}).get("values", [agg_nominal["method"]]):
        spec = {"method": v} if isinstance(v, str) else dict(v)
        aggregations.append({"method": spec["method"], **aggregate_params({**agg_nominal, **spec})})
    base = nominal.weights.copy()
    weight_sets = None
    if "weights" in inputs:
        t0 = time.perf_counter()
        rng = np.random.default_rng([uspec.seed, 2])
        noisy = np.array([fw.levels[c] in inputs["weights"]["levels"] for c in plan.codes])
        factors = 1.0 + inputs["weights"]["noise"] * (2.0 * rng.random((n_weight_sets, len(plan.codes))) - 1.0)
        weight_sets = np.where(noisy, base * factors, base)
        timings["weight sets"] = time.perf_counter() - t0
    exclude_cols: list[int | None] = [None]
    exclude_labels = ["none"]
    if "exclude_indicator" in inputs:
        exclude_cols, exclude_labels = [], []
        for v in inputs["exclude_indicator"]["values"]:
            if v == "none":
                exclude_cols.append(None)
                exclude_labels.append("none")
            elif v == "each":
                exclude_cols.extend(range(plan.n_indicators))
                exclude_labels.extend(plan.codes[: plan.n_indicators])
            else:
                if v not in fw.indicators:
                    raise InputError([Problem("uncertainty", f"exclude_indicator: unknown indicator '{v}'")])
                exclude_cols.append(fw.indicators.index(v))
                exclude_labels.append(v)
    for name in names:
        if name == "weights":
            labels.append([f"set {i}" for i in range(n_weight_sets)])
        elif name == "exclude_indicator":
            labels.append(exclude_labels)
        elif name == "aggregate":
            labels.append([_label(a["method"]) for a in aggregations])
        else:
            labels.append([_label(v) for v in inputs[name]["values"]])
    varying = np.zeros(len(plan.codes), dtype=bool)
    if weight_sets is not None:
        varying |= noisy
    for col in exclude_cols:
        if col is not None:
            varying[col] = True
    target_col = plan.codes.index(target)
    return Engine(
        plan=plan,
        units=list(nominal.units),
        target_pos=target_pos,
        input_names=names,
        option_labels=labels,
        variants=variants,
        aggregations=aggregations,
        base_weights=base,
        weight_sets=weight_sets,
        exclude_cols=exclude_cols,
        nominal_scores=nominal.scores_array[:, target_col],
        nominal_ranks=nominal.ranks_array[:, target_col],
        data_options=(impute_opts, winmax_opts, norm_opts),
        rank_digits=nominal.rank_digits,
        timings=timings,
        varying=varying,
    )


def to_options(u: np.ndarray, n_options: list[int]) -> np.ndarray:
    """Map uniform draws in [0, 1] to option indices: equal shares for every option."""
    n = np.asarray(n_options)
    return np.minimum((u * n).astype(np.int64), n - 1)


def chunk_size(engine: Engine) -> int:
    """Samples per chunk: chunk x units x the floats a sample holds stays near CHUNK_CELLS."""
    cells = len(engine.units) * engine.floats_per_sample()
    return int(min(4096, max(16, CHUNK_CELLS // max(cells, 1))))


def evaluate_all(engine: Engine, design: np.ndarray, dask: str | None = None, progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate every row of `design` in fixed chunks, locally or on a Dask cluster."""
    size = chunk_size(engine)
    bounds = [(a, min(a + size, len(design))) for a in range(0, len(design), size)]
    scores = np.empty((len(design), len(engine.units)))
    ranks = np.empty_like(scores)
    done = 0
    if dask:
        for (a, b), (s, r) in _dask_map(engine, [design[a:b] for a, b in bounds], dask):
            scores[a:b], ranks[a:b] = s, r
        if progress:
            progress(len(design), len(design))
        return scores, ranks
    for a, b in bounds:
        scores[a:b], ranks[a:b] = engine.evaluate(design[a:b])
        done += b - a
        if progress:
            progress(done, len(design))
    return scores, ranks


def _evaluate_chunk(engine: Engine, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return engine.evaluate(block)


def _dask_map(engine: Engine, blocks: list[np.ndarray], address: str) -> Iterable[tuple[tuple[int, int], tuple[np.ndarray, np.ndarray]]]:
    """Chunks as Dask tasks (`aicity.cluster.dask_client`: `local:N` starts a LocalCluster of
    N worker processes)."""
    from aicity.cluster import dask_client

    with dask_client(address) as client:
        shared = client.scatter(engine, broadcast=True)
        futures = client.map(_evaluate_chunk, [shared] * len(blocks), blocks, pure=False)
        results = client.gather(futures)
    start = 0
    for block, res in zip(blocks, results, strict=True):
        yield (start, start + len(block)), res
        start += len(block)


RANK_INTERVAL_COLUMNS = ("unit", "p05", "p95")


def read_rank_intervals(path: str | Path) -> pd.DataFrame:
    """A `rank_intervals.csv` an uncertainty run wrote (`UncertaintyResult.rank_intervals`):
    at least `unit`, `p05` and `p95`, the percentiles numbers with p05 <= p95. Anything else
    is an error naming the file, row and column."""
    from aicity.csvtext import read_csv_text
    from aicity.data import parse_number

    path = Path(path)
    if not path.is_file():
        raise InputError([Problem(str(path), "file not found")])
    try:
        frame = read_csv_text(path)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError([Problem(str(path), f"not a readable UTF-8 CSV: {str(exc).splitlines()[0] if str(exc) else exc}")]) from None
    lacking = [c for c in RANK_INTERVAL_COLUMNS if c not in frame.columns]
    if lacking:
        raise InputError([Problem(str(path), f"no column(s) {', '.join(lacking)}: not a rank_intervals.csv of "
                                             "`aicity uncertainty`", 1)])
    problems: list[Problem] = []
    numbers: dict[str, list[float]] = {"p05": [], "p95": []}
    for col, out in numbers.items():
        for i, cell in enumerate(frame[col]):
            value = parse_number(cell.strip()) if cell.strip() else float("nan")
            if value is None:
                problems.append(Problem(str(path), f"'{cell}' is not a rank", i + 2, col))
                value = float("nan")
            out.append(value)
    for i, (lo, hi) in enumerate(zip(numbers["p05"], numbers["p95"], strict=True)):
        if lo > hi:
            problems.append(Problem(str(path), f"p05 ({lo:g}) is above p95 ({hi:g})", i + 2, "p95"))
    twice = frame.unit[frame.unit.duplicated()]
    problems += [Problem(str(path), f"unit '{u}' appears twice", int(i) + 2, "unit") for i, u in twice.items()]
    if problems:
        raise InputError(problems)
    return frame.assign(p05=numbers["p05"], p95=numbers["p95"])


@dataclass
class UncertaintyResult:
    engine: Engine
    spec: UncertaintySpec
    design: np.ndarray
    scores: np.ndarray  # (samples, units) target scores
    ranks: np.ndarray
    unit_names: dict[str, str]
    sensitivity: pd.DataFrame | None = None
    sobol_runs: int = 0
    index_code: str = ""
    hashes: dict[str, str] = field(default_factory=dict)  # the input files analysed
    inputs_raw: dict[str, Any] = field(default_factory=dict)  # the uncertain inputs as written
    defaulted: bool = False  # True: no `uncertainty:` section was given; the default inputs were used

    @property
    def timings(self) -> dict[str, float]:
        """Seconds per phase of the analysis (nominal build, data variants, weight sets, design,
        chunking, fixed levels, aggregation, ranking, Sobol design and estimators), local work
        only. `fixed levels`: the levels below the varying weights, once per data variant and
        aggregation; `chunking`: grouping samples, gathering their weights, copying results."""
        return dict(self.engine.timings)

    def rank_intervals(self) -> pd.DataFrame:
        """Per unit: nominal rank, mean, median and the 5th and 95th percentile ranks (R's
        default quantile, type 7). Only ranks are summarised: scores from different
        normalisations are on different scales and their mean would mean nothing."""
        r = self.ranks
        with np.errstate(all="ignore"):
            frame = pd.DataFrame(
                {
                    "unit": self.engine.units,
                    "unit_name": [self.unit_names.get(u, u) for u in self.engine.units],
                    "nominal_rank": self.engine.nominal_ranks,
                    "mean_rank": np.nanmean(r, axis=0),
                    "median_rank": np.nanmedian(r, axis=0),
                    "p05": np.nanquantile(r, 0.05, axis=0),
                    "p95": np.nanquantile(r, 0.95, axis=0),
                    "nominal_score": self.engine.nominal_scores,
                }
            )
        return frame.sort_values(["nominal_rank", "unit"], na_position="last").reset_index(drop=True)

    def samples_frame(self) -> pd.DataFrame:
        """Every sampled score: sample, the option chosen for each input, unit, score, rank."""
        n, u = self.scores.shape
        frame = pd.DataFrame({"sample": np.repeat(np.arange(n), u), "unit": np.tile(np.array(self.engine.units, dtype=object), n)})
        for j, name in enumerate(self.engine.input_names):
            labels = np.array(self.engine.option_labels[j], dtype=object)
            frame[name] = np.repeat(labels[self.design[:, j]], u)
        frame["score"] = self.scores.reshape(-1)
        frame["rank"] = self.ranks.reshape(-1)
        return frame

    def write(self, out: Path, save_samples: bool = False) -> dict[str, Path]:
        from aicity.export import atomic_write, to_csv

        out.mkdir(parents=True, exist_ok=True)
        written = {}
        table = self.rank_intervals()
        atomic_write(out / "rank_intervals.csv", lambda p: to_csv(table, p))
        written["rank_intervals"] = out / "rank_intervals.csv"
        if self.sensitivity is not None:
            sens = self.sensitivity
            atomic_write(out / "sensitivity.csv", lambda p: to_csv(sens, p))
            written["sensitivity"] = out / "sensitivity.csv"
        if save_samples:
            frame = self.samples_frame()
            atomic_write(out / "samples.parquet", lambda p: frame.to_parquet(p, index=False))
            written["samples"] = out / "samples.parquet"
        return written


def sobol_indices(engine: Engine, base_samples: int, seed: int, dask: str | None = None, progress: Callable[[int, int], None] | None = None, resamples: int = 1000) -> tuple[pd.DataFrame, int]:
    """First-order and total Sobol' indices of the mean absolute rank shift (COINr's target)
    for each uncertain input: SALib's scrambled Sobol' design and its Saltelli (first order)
    and Jansen (total) estimators, with bootstrap 90 % intervals."""
    from SALib.sample import sobol as sobol_sample

    names = engine.input_names
    if not names:
        raise InputError([Problem("uncertainty", "Sobol analysis needs at least one uncertain input")])
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    problems = sobol_samples_problems(base_samples, len(names))
    if problems:
        raise InputError(problems)
    with _timed(engine.timings, "sobol design"):
        u = sobol_sample.sample(problem, base_samples, calc_second_order=False, scramble=True, seed=seed)
        design = to_options(u, engine.n_options)
    _, ranks = evaluate_all(engine, design, dask, progress)
    with _timed(engine.timings, "sobol estimators"):
        y = np.nanmean(np.abs(ranks - engine.nominal_ranks[None, :]), axis=1)
        res = sobol_estimates(y, len(names), resamples, 0.90, seed)
    table = pd.DataFrame(
        {
            "input": names,
            "S1": res["S1"],
            "ST": res["ST"],
            "S1_low": res["S1"] - res["S1_conf"],
            "S1_high": res["S1"] + res["S1_conf"],
            "ST_low": res["ST"] - res["ST_conf"],
            "ST_high": res["ST"] + res["ST_conf"],
        }
    )
    return table, len(design)


def sobol_estimates(y: np.ndarray, n_inputs: int, resamples: int, conf_level: float, seed: int) -> dict[str, np.ndarray]:
    """SALib's `sobol.analyze` without second order (Saltelli 2010's first-order and Jansen's
    total estimators over the A, AB_1..AB_D, B blocks of a Sobol' design), with the same
    bootstrap resamples for a given seed, computed at once: a resample's means are its counts
    of each base sample times the per-sample terms, so all resamples of all inputs are one
    matrix product instead of (base samples x resamples) arrays gathered per input. The
    indices are SALib's to the last bit; the intervals equal its to rounding (about 1e-13)."""
    from scipy.stats import norm

    y = np.asarray(y, dtype=float)
    step = n_inputs + 2
    if y.size % step:
        raise PipelineError(f"a Sobol' design of {n_inputs} inputs has a multiple of {step} runs, got {y.size}")
    n = y.size // step
    y = (y - y.mean()) / y.std()
    a, b = y[0::step], y[step - 1 :: step]
    ab = np.stack([y[j + 1 :: step] for j in range(n_inputs)], axis=1)
    eps = np.finfo(float).eps
    both = np.r_[a, b]
    constant = np.ptp(both) <= eps
    var = np.var(both, axis=0)
    s1, st = np.zeros(n_inputs), np.zeros(n_inputs)
    if not constant and var > eps:  # input by input, as SALib sums them
        for j in range(n_inputs):
            s1[j] = np.mean(b * (ab[:, j] - a)) / var
            st[j] = 0.5 * np.mean((a - ab[:, j]) ** 2) / var
    # SALib's draws: r[i, k] is the i-th base sample of resample k.
    r = np.random.default_rng(seed).integers(n, size=(n, resamples))
    counts = np.bincount((r + n * np.arange(resamples)[None, :]).reshape(-1), minlength=n * resamples)
    counts = counts.reshape(resamples, n).astype(float)
    used = counts.any(axis=0)
    varied = np.ptp(np.r_[a[used], b[used]]) > eps
    terms = np.column_stack([a, b, a * a, b * b, b[:, None] * (ab - a[:, None]), (a[:, None] - ab) ** 2])
    with _one_blas_thread():
        sums = counts @ terms / n  # per resample: means of a, b, a^2, b^2 and each input's two terms
    mean = 0.5 * (sums[:, 0] + sums[:, 1])
    rvar = 0.5 * (sums[:, 2] + sums[:, 3]) - mean * mean
    z = norm.ppf(0.5 + conf_level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (rvar > eps)[:, None]
        s1_boot = np.where(ok, sums[:, 4 : 4 + n_inputs] / rvar[:, None], 0.0)
        st_boot = np.where(ok, 0.5 * sums[:, 4 + n_inputs :] / rvar[:, None], 0.0)
    s1_conf = z * s1_boot.std(axis=0, ddof=1) if varied else np.zeros(n_inputs)
    st_conf = z * st_boot.std(axis=0, ddof=1) if varied else np.zeros(n_inputs)
    return {"S1": s1, "ST": st, "S1_conf": s1_conf, "ST_conf": st_conf}


def run_uncertainty(
    framework: str | Path | dict | Framework | None = None,
    data: str | Path | Dataset | None = None,
    pipeline: str | Path | dict | None = None,
    *,
    units: str | Path | None = None,
    samples: int | None = None,
    seed: int | None = None,
    sobol: bool = False,
    sobol_samples: int | None = None,
    dask: str | None = None,
    uncertainty: dict[str, Any] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> UncertaintyResult:
    """Monte Carlo rank intervals (and, with `sobol`, Sobol' indices) of an index.

    The uncertain inputs come from `uncertainty` or the pipeline file's / framework's
    `uncertainty:` section; `samples` and `seed` override theirs.
    """
    fw, ds = resolve_inputs(framework, data, units)
    steps = resolve_spec(fw, pipeline)
    raw = uncertainty if uncertainty is not None else (load_uncertainty(pipeline) or fw.uncertainty)
    defaulted = raw is None
    if defaulted:  # no `uncertainty:` section anywhere: the documented default inputs
        raw = default_uncertainty(fw)
    uspec = parse_uncertainty(raw, fw, str(pipeline or fw.source))
    n = uspec.samples if samples is None else samples
    if not 1 <= n <= MAX_SAMPLES:
        raise InputError([Problem("samples", f"must be between 1 and {MAX_SAMPLES:,}")])
    s = uspec.seed if seed is None else seed
    base = uspec.sobol_samples if sobol_samples is None else sobol_samples
    problems = sobol_samples_problems(base, len(uspec.inputs), "sobol_samples") + seed_problems(s, "seed")
    if problems:  # before the weight sets (max(samples, sobol_samples) of them) are drawn
        raise InputError(problems)
    if dask is not None:
        from aicity.cluster import check_address

        check_address(dask)
    uspec = UncertaintySpec(samples=n, seed=s, target=uspec.target, inputs=uspec.inputs, sobol_samples=base)
    say = (lambda msg: progress(msg, 0, 0)) if progress else None
    engine = prepare(fw, ds, steps, uspec, n_weight_sets=max(n, base), progress=say)
    with _timed(engine.timings, "design"):
        rng = np.random.default_rng([s, 1])
        design = to_options(rng.random((n, len(engine.input_names))), engine.n_options)
    tick = (lambda done, total: progress("samples", done, total)) if progress else None
    scores, ranks = evaluate_all(engine, design, dask, tick)
    result = UncertaintyResult(
        engine=engine,
        spec=uspec,
        design=design,
        scores=scores,
        ranks=ranks,
        unit_names={u: ds.unit_name(u) for u in engine.units},
        index_code=fw.index_code,
        hashes=dict(ds.hashes),
        inputs_raw=dict(raw.get("inputs") or {}),
        defaulted=defaulted,
    )
    if sobol:
        stick = (lambda done, total: progress("sobol", done, total)) if progress else None
        result.sensitivity, result.sobol_runs = sobol_indices(engine, base, s, dask, stick)
    return result


def per_sample_build(fw: Framework, ds: Dataset, steps: Steps, engine: Engine, row: np.ndarray) -> np.ndarray:
    """One sample rebuilt through the ordinary single-build pipeline: the reference the
    vectorised engine must equal (a test and the benchmark use it). Returns target scores."""
    pick = {name: int(row[j]) for j, name in enumerate(engine.input_names)}
    impute, winmax, normalize = (opts[pick.get(name, 0)] for opts, name in zip(engine.data_options, DATA_INPUTS, strict=True))
    agg = engine.aggregations[pick.get("aggregate", 0)]
    weights = engine.base_weights.copy() if engine.weight_sets is None else engine.weight_sets[pick.get("weights", 0)].copy()
    col = engine.exclude_cols[pick.get("exclude_indicator", 0)]
    if col is not None:
        weights[col] = 0.0
    spec = _variant_steps(steps, impute, winmax, normalize)
    for step, params in spec:
        if step == "weights":
            params.clear()
            params.update({"set": "custom", "values": dict(zip(engine.plan.codes, weights.tolist(), strict=True))})
        if step == "aggregate":
            params.update(agg)
    res = run_pipeline(fw, ds, spec)
    return res.scores_array[:, engine.plan.n_indicators + engine.target_pos]
