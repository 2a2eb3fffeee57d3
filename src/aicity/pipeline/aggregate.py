"""Aggregation of children into their parent, level by level, as matrix products.

A level's aggregation is `children @ W` with W (children x groups) holding the weights, so one
call aggregates every group of a level, for any leading batch axes (Monte Carlo samples), and
for per-sample weights W shaped (samples, children, groups). That is what makes re-weighting
take milliseconds and thousands of variants run at once.

A group may use its own method (the framework's `aggregate:` on the group, or the pipeline's
per-level form): the plan records it, and each level is aggregated in one call per distinct
method among its groups.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from aicity.errors import PipelineError


@dataclass(frozen=True)
class AggregateMethod:
    """An aggregation: its name, the parameters it reads (beside `min_share`, which every
    method takes) and what it does. `batched`: it takes stacked samples and per-sample weights
    (what uncertainty analysis needs); the others run one build at a time."""

    name: str
    params: tuple[str, ...]
    doc: str
    batched: bool = True


METHODS: dict[str, AggregateMethod] = {
    m.name: m
    for m in (
        AggregateMethod("arithmetic", (), "weighted arithmetic mean of the children present (weights renormalised over them)"),
        AggregateMethod("geometric", ("on_nonpositive",), "weighted geometric mean; a zero child makes the unit's aggregate 0 (reported per unit)"),
        AggregateMethod("harmonic", ("on_nonpositive",), "weighted harmonic mean; a zero child makes the unit's aggregate 0 (reported per unit)"),
        AggregateMethod("generalised_mean", ("p", "on_nonpositive"), "weighted power mean with exponent `p` (p = 0: geometric; any p but 1 needs children >= 0; with p <= 0 a zero child makes the aggregate 0)"),
        AggregateMethod("sum", (), "weighted sum of the children present"),
        AggregateMethod("product", ("on_nonpositive",), "weighted product prod x^w with the weights as given, not renormalised (WASPAS's WPM); missing if a weighted child is missing"),
        AggregateMethod("copeland", (), "weighted Copeland score: +1 for each unit it beats on more weight of children, -1 for each that beats it", batched=False),
        AggregateMethod("topsis", (), "TOPSIS relative closeness D- / (D+ + D-): Euclidean distances of the weighted children (weights as given) to the ideal (best per child) and anti-ideal (worst) units"),
        AggregateMethod("bod", ("max_weight_ratio", "bounds"), "benefit of the doubt (Handbook 6.2): each unit's most favourable weights, max sum w y_u subject to sum w y_j <= 1 for every unit j, by linear programming (HiGHS); its weights are reported", batched=False),
    )
}
# What each parameter takes when neither the group nor the pipeline says.
PARAM_DEFAULTS: dict[str, Any] = {"p": 1.0, "min_share": 0.0, "on_nonpositive": "error", "max_weight_ratio": None, "bounds": None}
NONPOSITIVE = ("error", "zero", "missing", "shift")
# Methods that need positive children: a zero child gives 0, a negative one follows `on_nonpositive`.
_LOGLIKE = ("geometric", "harmonic", "product")


@dataclass(frozen=True)
class LevelPlan:
    """One aggregation level: which columns are children, which are groups, and the weights."""

    level: int
    group_cols: np.ndarray  # positions of the groups in the code list
    child_cols: np.ndarray  # positions of their children in the code list
    membership: np.ndarray  # (children, groups) 1 where child belongs to group
    weights: np.ndarray  # (children,) nominal weight of each child
    methods: tuple[dict[str, Any] | None, ...] = ()  # per group: its own aggregation, or None


@dataclass(frozen=True)
class AggregationPlan:
    codes: list[str]
    n_indicators: int
    levels: list[LevelPlan]

    def weight_vector(self) -> np.ndarray:
        """Every child's weight by code position (indicators and groups; the index gets 1)."""
        w = np.ones(len(self.codes))
        for lv in self.levels:
            w[lv.child_cols] = lv.weights
        return w

    def method_of(self, code: str, default: dict[str, Any]) -> dict[str, Any]:
        """The aggregation a group actually uses: its own, else `default` (the pipeline's)."""
        pos = self.codes.index(code)
        for lv in self.levels:
            hit = np.flatnonzero(lv.group_cols == pos)
            if len(hit):
                own = lv.methods[hit[0]] if lv.methods else None
                return {**default, **own} if own else dict(default)
        raise KeyError(code)


def make_plan(
    codes: list[str],
    parents: dict[str, str | None],
    levels: dict[str, int],
    weights: dict[str, float],
    n_indicators: int,
    methods: dict[str, dict[str, Any]] | None = None,
) -> AggregationPlan:
    """`methods` maps a group code to its own aggregation ({"method": ..., parameters})."""
    pos = {c: i for i, c in enumerate(codes)}
    methods = methods or {}
    plans = []
    for level in sorted({levels[c] for c in codes[n_indicators:]}):
        groups = [c for c in codes[n_indicators:] if levels[c] == level]
        children = [c for c in codes if parents.get(c) in groups]
        membership = np.zeros((len(children), len(groups)))
        for i, c in enumerate(children):
            membership[i, groups.index(parents[c])] = 1.0
        plans.append(
            LevelPlan(
                level=level,
                group_cols=np.array([pos[g] for g in groups]),
                child_cols=np.array([pos[c] for c in children]),
                membership=membership,
                weights=np.array([float(weights[c]) for c in children]),
                methods=tuple(methods.get(g) for g in groups),
            )
        )
    return AggregationPlan(codes=codes, n_indicators=n_indicators, levels=plans)


def _weighted_dense(a: np.ndarray, wm: np.ndarray) -> np.ndarray:
    """a @ wm, where one shared data matrix a (units, children) meets per-sample weights wm
    (samples, children, groups): one GEMM against the samples' weights laid side by side,
    instead of a product per sample. Otherwise plain (broadcast) matmul."""
    if a.ndim == 2 and wm.ndim == 3:
        n_samples, n_children, n_groups = wm.shape
        stacked = wm.transpose(1, 0, 2).reshape(n_children, n_samples * n_groups)
        return (a @ stacked).reshape(a.shape[0], n_samples, n_groups).transpose(1, 0, 2)
    return a @ wm


def _groups_of(membership: np.ndarray) -> list[np.ndarray] | None:
    """Each group's child positions when every child has one group at most (a level of a
    tree), else None."""
    if (np.count_nonzero(membership, axis=1) > 1).any():
        return None
    return [np.flatnonzero(membership[:, g]) for g in range(membership.shape[1])]


def _weighted_by_group(a: np.ndarray, w: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """a @ (w * membership) for one 2-D level, as one dot product per group: each child
    counts in one group only, so the dense product would spend most of its time
    multiplying by zero (measured: twice as fast at 10,000 units x 200 indicators)."""
    out = np.empty((a.shape[0], len(groups)))
    for g, cols in enumerate(groups):
        out[:, g] = a[:, _as_slice(cols)] @ w[cols]
    return out


def _names(codes: list[str] | None, positions: np.ndarray, limit: int = 10) -> str:
    shown = [codes[i] if codes else str(i) for i in positions[:limit]]
    more = len(positions) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _nonpositive(
    xc: np.ndarray, present: np.ndarray, w: np.ndarray, method: str, on_nonpositive: str,
    child_codes: list[str], unit_codes: list[str] | None, notes: list[dict[str, Any]] | None,
    zero_ok: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Negative children of a method that needs positive ones: an error naming the units and
    children, or handled as `on_nonpositive` says (zero: counted as 0; missing: left out of the
    unit's aggregate, zeros too unless `zero_ok`; shift: each such child's values moved up by
    1 - its minimum, so its minimum becomes 1). Only weighted children count: a zero weight
    cannot spoil it. `zero_ok`: zeros are ordinary values (a power mean with p > 0)."""
    if on_nonpositive not in NONPOSITIVE:
        raise PipelineError(f"on_nonpositive must be one of {', '.join(NONPOSITIVE)}, got '{on_nonpositive}'")
    weighted = (np.asarray(w) > 0).reshape(-1, xc.shape[-1]).any(axis=0)
    with np.errstate(invalid="ignore"):
        neg = present & (xc < 0) & weighted
        nonpos = neg if zero_ok else present & (xc <= 0) & weighted
    flat = (lambda a: a.reshape(-1, *a.shape[-2:]).any(axis=0)) if xc.ndim > 2 else (lambda a: a)
    if on_nonpositive == "error" and neg.any():
        bad = flat(neg)
        cols = np.flatnonzero(bad.any(axis=0))
        units = np.flatnonzero(bad.any(axis=1))
        raise PipelineError(
            f"{method} aggregation needs values >= 0, but {_names(child_codes, cols)} "
            f"{'is' if len(cols) == 1 else 'are'} negative for {_names(unit_codes, units)}; normalise to a positive range "
            "(e.g. minmax with range [1, 100]) or set on_nonpositive: zero | missing | shift"
        )
    hit = neg if on_nonpositive == "zero" else nonpos
    if on_nonpositive == "error" or not hit.any():
        return xc, present
    if notes is not None:
        bad = flat(hit)
        for j in np.flatnonzero(bad.any(axis=0)):
            notes.append({"kind": f"nonpositive_{on_nonpositive}", "method": method, "child": child_codes[j],
                          "units": np.flatnonzero(bad[:, j]).tolist(), "zero_ok": zero_ok})
    if on_nonpositive == "zero":
        return np.where(hit, 0.0, xc), present
    if on_nonpositive == "missing":
        return np.where(hit, np.nan, xc), present & ~hit
    cols = hit.reshape(-1, xc.shape[-1]).any(axis=0)
    with np.errstate(invalid="ignore"):
        low = np.fmin.reduce(np.where(present, xc, np.nan), axis=-2, keepdims=True)
    return np.where(cols, xc + (1.0 - low), xc), present


def aggregate_level(
    xc: np.ndarray,
    membership: np.ndarray,
    weights: np.ndarray,
    method: str = "arithmetic",
    *,
    p: float = 1.0,
    min_share: float = 0.0,
    on_nonpositive: str = "error",
    max_weight_ratio: float | None = None,
    bounds: tuple[float | None, float | None] | list[float | None] | None = None,
    child_codes: list[str] | None = None,
    group_codes: list[str] | None = None,
    unit_codes: list[str] | None = None,
    notes: list[dict[str, Any]] | None = None,
) -> np.ndarray:
    """Aggregate children (..., units, children) into groups (..., units, groups).

    `weights` is (children,) or (..., children) for per-sample weights; data shared by all
    samples may stay 2-D. Missing children are skipped and the weights of those present
    renormalised (COINr's na.rm = TRUE); a group with fewer than `min_share` of its children
    present is missing. For the geometric and harmonic means, power means with p <= 0 and the
    product, a zero child makes that unit's aggregate 0 (listed in `notes` when given, with
    the unit's position); a negative one is an error unless `on_nonpositive` says otherwise.
    """
    if method not in METHODS:
        raise PipelineError(f"unknown aggregation '{method}'; choose from {', '.join(METHODS)}")
    child_codes = child_codes or [str(i) for i in range(xc.shape[-1])]
    group_codes = group_codes or [str(i) for i in range(membership.shape[1])]
    w = np.asarray(weights, dtype=float)
    groups = _groups_of(membership) if xc.ndim == 2 and w.ndim == 1 else None
    if groups is not None:
        # Children side by side per group: each group's block is then a view, not a copy.
        order = np.concatenate(groups) if groups else np.arange(0)
        if len(order) < xc.shape[-1] or not np.array_equal(order, np.arange(len(order))):
            xc, w, membership = xc[:, order], w[order], membership[order]
            child_codes = [child_codes[i] for i in order]
            groups = _groups_of(membership)
    present = ~np.isnan(xc)
    is_power = method == "generalised_mean"
    # A power mean other than p = 1 is a mean of non-negative values only: x**p of a negative
    # child loses its sign (p even), or its root is undefined (p odd or fractional). With p > 0
    # a zero child is a value like any other; with p <= 0 it makes the aggregate 0 (below).
    needs_positive = method in _LOGLIKE or (is_power and p != 1)
    if needs_positive:
        xc, present = _nonpositive(xc, present, w, method if not is_power else f"generalised mean (p = {p:g})",
                                   on_nonpositive, child_codes, unit_codes, notes, zero_ok=is_power and p > 0)
    complete = bool(present.all())
    wm = w[..., :, None] * membership  # (..., children, groups); batches line up with xc's

    def weighted(a: np.ndarray, wm: np.ndarray) -> np.ndarray:
        return _weighted_by_group(a, w, groups) if groups is not None else _weighted_dense(a, wm)

    pf = present.astype(float)
    # Weight of the present children; with no gaps it is the same for every unit.
    wsum = wm.sum(axis=-2)[..., None, :] if complete else weighted(pf, wm)
    x0 = xc if complete else np.where(present, xc, 0.0)
    zero_hit = None
    if method in _LOGLIKE or (is_power and p <= 0):  # a zero child makes these 0; a power mean with p > 0 stays defined
        zeros = present & (xc == 0)
        if zeros.any():
            zero_hit = weighted(zeros.astype(float), wm) > 0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if method == "arithmetic":
            out = weighted(x0, wm) / wsum
        elif method == "sum":
            out = weighted(x0, wm) if complete else np.where(pf @ membership > 0, weighted(x0, wm), np.nan)
        elif method == "geometric" or (is_power and p == 0):
            logs = np.log(np.where(present & (xc > 0), xc, 1.0))
            out = np.exp(weighted(logs, wm) / wsum)
        elif method == "product":
            logs = np.log(np.where(present & (xc > 0), xc, 1.0))
            out = np.exp(weighted(logs, wm))
            if not complete:
                out = np.where(weighted((~present).astype(float), wm) > 0, np.nan, out)
        elif method == "harmonic":
            out = wsum / weighted(1.0 / np.where(present & (xc != 0), xc, np.inf), wm)
        elif is_power:
            powered = xc**p if complete else np.where(present, np.where(present, xc, 1.0) ** p, 0.0)
            if zero_hit is not None:
                powered = np.where(present & (xc == 0), 0.0, powered)  # the limit; the unit's aggregate is set to 0 below
            out = (weighted(powered, wm) / wsum) ** (1.0 / p)
        elif method == "copeland":
            out = _copeland(xc, present, w, membership)
        elif method == "topsis":
            out = _topsis(xc, present, w, membership, group_codes, notes)
        else:  # bod
            out = _bod(xc, present, w, membership, max_weight_ratio, bounds, child_codes, group_codes, unit_codes, notes)
        if zero_hit is not None:
            out = np.where(zero_hit & ~np.isnan(out), 0.0, out)
            if notes is not None:
                hit = zero_hit.reshape(-1, *zero_hit.shape[-2:]).any(axis=0)
                for g in np.flatnonzero(hit.any(axis=0)):
                    notes.append({"kind": "zero", "method": method, "group": group_codes[g], "units": np.flatnonzero(hit[:, g]).tolist()})
        out = np.where(wsum > 0, out, np.nan)
    if min_share > 0:
        share = (pf @ membership) / membership.sum(axis=0)
        out = np.where(share >= min_share - 1e-12, out, np.nan)
    return out


def _topsis(xc: np.ndarray, present: np.ndarray, w: np.ndarray, membership: np.ndarray,
            group_codes: list[str] | None = None, notes: list[dict[str, Any]] | None = None) -> np.ndarray:
    """TOPSIS relative closeness per group, for any leading batch axes: each child is weighted
    (weights as given), the ideal point takes every child's best value over the units, the
    anti-ideal its worst; the score is D- / (D+ + D-), in [0, 1]. Children are already
    direction-adjusted (higher is better). A child missing for a unit is left out of that
    unit's two distances. A unit whose present children all have one value for every unit
    is at the ideal and the anti-ideal at once: its closeness is undefined, left missing and
    reported in `notes`."""
    batch = np.broadcast_shapes(xc.shape[:-2], np.shape(w)[:-1])  # per-sample weights may add the samples' axis
    out = np.full(batch + (xc.shape[-2], membership.shape[1]), np.nan)
    for g in range(membership.shape[1]):
        kids = np.flatnonzero(membership[:, g])
        v = xc[..., kids] * w[..., None, kids]
        ok = present[..., kids]
        with np.errstate(invalid="ignore"):
            ideal = np.fmax.reduce(v, axis=-2, keepdims=True)
            anti = np.fmin.reduce(v, axis=-2, keepdims=True)
            d_plus = np.sqrt(np.where(ok, (v - ideal) ** 2, 0.0).sum(axis=-1))
            d_minus = np.sqrt(np.where(ok, (v - anti) ** 2, 0.0).sum(axis=-1))
            out[..., g] = np.where(ok.any(axis=-1), d_minus / (d_plus + d_minus), np.nan)
        if notes is not None:
            undefined = (ok.any(axis=-1) & (d_plus + d_minus == 0)).reshape(-1, xc.shape[-2]).any(axis=0)
            if undefined.any():
                notes.append({"kind": "topsis_undefined", "method": "topsis",
                              "group": group_codes[g] if group_codes else str(g), "units": np.flatnonzero(undefined).tolist()})
    return out


def _bod(
    xc: np.ndarray, present: np.ndarray, w: np.ndarray, membership: np.ndarray,
    max_weight_ratio: float | None, bounds: Any, child_codes: list[str], group_codes: list[str],
    unit_codes: list[str] | None, notes: list[dict[str, Any]] | None,
) -> np.ndarray:
    """Benefit of the doubt (OECD/JRC Handbook, section 6.2), one linear programme per unit
    and group: maximise sum_i w_i y_ui over w >= 0 subject to sum_i w_i y_ji <= 1 for every
    unit j with all of the group's children, with optional w_i <= R w_k for every pair (i, k)
    and bounds lo <= w_i <= hi. Children of nominal weight 0 are left out; a unit missing a
    child has no score for that group (and does not constrain the others). Solved with
    SciPy's HiGHS; each unit's optimal weights go to `notes` (one optimum when several exist)."""
    if xc.ndim != 2 or np.asarray(w).ndim != 1:
        raise PipelineError("bod (benefit of the doubt) does not take batched inputs: each unit chooses its own weights, so weight noise does not apply")
    from scipy.optimize import linprog  # here, not at import: SciPy is slow to load

    lo, hi = (None, None) if bounds is None else bounds
    lo = 0.0 if lo is None else float(lo)
    out = np.full((xc.shape[0], membership.shape[1]), np.nan)
    for g in range(membership.shape[1]):
        kids = np.flatnonzero((membership[:, g] > 0) & (w > 0))
        y = xc[:, kids]
        complete = present[:, kids].all(axis=1)
        with np.errstate(invalid="ignore"):
            negative = complete & (y < 0).any(axis=1)
        if negative.any():
            raise PipelineError(
                f"bod (benefit of the doubt) needs values >= 0 in '{group_codes[g]}', but {_names(unit_codes, np.flatnonzero(negative))} "
                "have negative ones; normalise to a non-negative range (e.g. minmax)"
            )
        # One scale for the group (its largest value becomes 1): scores do not change, weights
        # scale back, and the solver's tolerances meet numbers of a sensible size.
        scale = float(np.max(y[complete])) if complete.any() else 0.0
        scale = scale if scale > 0 else 1.0
        y = y / scale
        a_ub = [y[complete]]
        k = len(kids)
        if max_weight_ratio is not None and k > 1:
            rows = []
            for i in range(k):
                for j in range(k):
                    if i != j:
                        row = np.zeros(k)
                        row[i], row[j] = 1.0, -float(max_weight_ratio)
                        rows.append(row)
            a_ub.append(np.array(rows))
        a = np.vstack(a_ub)
        b = np.concatenate([np.ones(int(complete.sum())), np.zeros(len(a) - int(complete.sum()))])
        scaled_bounds = [(lo * scale, None if hi is None else float(hi) * scale)] * k
        for u in np.flatnonzero(complete):
            res = linprog(-y[u], A_ub=a, b_ub=b, bounds=scaled_bounds, method="highs")
            if res.status != 0:
                raise PipelineError(f"bod: the linear programme for unit {unit_codes[u] if unit_codes else u} in '{group_codes[g]}' has no solution ({res.message}); loosen the bounds")
            out[u, g] = min(1.0, -res.fun)  # at most 1 by the unit's own constraint; the solver's tolerance may add ~1e-7
            if notes is not None:
                notes.append({"kind": "bod_weights", "group": group_codes[g], "unit": int(u),
                              "weights": {child_codes[c]: float(x / scale) for c, x in zip(kids, res.x, strict=True)},
                              "shares": {child_codes[c]: float(x * y[u, i] / -res.fun) if res.fun else 0.0
                                         for i, (c, x) in enumerate(zip(kids, res.x, strict=True))}})
    return out


def method_key(spec: dict[str, Any]) -> str:
    """A hashable name for one aggregation with its parameters (groups sharing it run together)."""
    return json.dumps(spec, sort_keys=True, default=str)


def _copeland(xc: np.ndarray, present: np.ndarray, w: np.ndarray, membership: np.ndarray) -> np.ndarray:
    """Weighted Copeland score per group: for each pair of units, the one whose children win
    more weight (children where it is strictly higher) scores +1, the other -1, a tie 0; a
    unit's score is the sum over all other units. Children missing for either unit of a pair
    are left out of that comparison."""
    if xc.ndim != 2 or np.asarray(w).ndim != 1:
        raise PipelineError("copeland aggregation does not take batched inputs")
    n_units, n_groups = xc.shape[0], membership.shape[1]
    out = np.full((n_units, n_groups), np.nan)
    for g in range(n_groups):
        kids = np.flatnonzero(membership[:, g])
        x = xc[:, kids]
        ok = present[:, kids]
        wk = w[kids]
        both = ok[:, None, :] & ok[None, :, :]
        wins = ((x[:, None, :] > x[None, :, :]) & both) @ wk
        losses = ((x[:, None, :] < x[None, :, :]) & both) @ wk
        score = np.sign(wins - losses).sum(axis=1)
        has_any = ok.any(axis=1)
        out[:, g] = np.where(has_any, score, np.nan)
    return out


def rescale_minmax(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Min-max each column over the units axis to [lo, hi] (e.g. a published index's 0-100)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mn = np.nanmin(np.where(np.isnan(x), np.inf, x), axis=-2, keepdims=True)
        mx = np.nanmax(np.where(np.isnan(x), -np.inf, x), axis=-2, keepdims=True)
        return (x - mn) / (mx - mn) * (hi - lo) + lo


def aggregate(
    normalised: np.ndarray,
    plan: AggregationPlan,
    method: str = "arithmetic",
    *,
    weights: np.ndarray | None = None,
    rescale: tuple[float, float] | None = None,
    aggregates_only: bool = False,
    unit_codes: list[str] | None = None,
    notes: list[dict[str, Any]] | None = None,
    **params: Any,
) -> np.ndarray:
    """All scores (..., units, codes): the normalised indicators followed by every aggregate
    (with `aggregates_only`, just the aggregates: what Monte Carlo keeps per sample).

    `method` and `params` (p, min_share, on_nonpositive, max_weight_ratio, bounds) are the
    aggregation of every group that has none of its own in the plan. `weights` overrides the
    plan's weights by code position, shaped (codes,) or (..., codes); a (samples, codes)
    weight array with 2-D data gives (samples, units, ...) without copying the data once per
    sample. `notes` (a list) collects what the methods report per unit: zero children, values
    handled by `on_nonpositive`, benefit-of-the-doubt weights.
    """
    if method not in METHODS:
        raise PipelineError(f"unknown aggregation '{method}'; choose from {', '.join(METHODS)}")
    unknown = set(params) - set(PARAM_DEFAULTS)
    if unknown:
        raise PipelineError(f"aggregation takes no parameter(s) {sorted(unknown)}")
    default = {**PARAM_DEFAULTS, **params, "method": method}
    wvec = plan.weight_vector() if weights is None else np.asarray(weights, dtype=float)
    n_ind, n_units = plan.n_indicators, normalised.shape[-2]
    batch = np.broadcast_shapes(normalised.shape[:-2], wvec.shape[:-1])
    aggs = np.full(batch + (n_units, len(plan.codes) - n_ind), np.nan)
    for lv in plan.levels:
        is_ind = lv.child_cols < n_ind
        if is_ind.all():
            xc = normalised[..., _as_slice(lv.child_cols)]  # shared by every sample: stays 2-D
        else:
            xc = np.empty(batch + (n_units, len(lv.child_cols)))
            xc[..., is_ind] = normalised[..., lv.child_cols[is_ind]]
            xc[..., ~is_ind] = aggs[..., lv.child_cols[~is_ind] - n_ind]
        out = _level(xc, lv, plan.codes, wvec[..., lv.child_cols], default, unit_codes, notes)
        if rescale is not None:
            out = rescale_minmax(out, *rescale)
        aggs[..., lv.group_cols - n_ind] = out
    if aggregates_only:
        return aggs
    if batch:
        return np.concatenate([np.broadcast_to(normalised, batch + normalised.shape[-2:]), aggs], axis=-1)
    # One build: codes-major (column-major), the layout ranking sorts in, so the ranks need
    # no transposed copy of every score.
    scores = np.empty((n_units, len(plan.codes)), order="F")
    scores[:, :n_ind] = normalised
    scores[:, n_ind:] = aggs
    return scores


def _level(
    xc: np.ndarray, lv: LevelPlan, codes: list[str], w: np.ndarray, default: dict[str, Any],
    unit_codes: list[str] | None, notes: list[dict[str, Any]] | None,
) -> np.ndarray:
    """One level's groups, each by its own aggregation (the default where it has none): one
    call for all of them when they agree, else one per distinct aggregation."""
    child_codes = [codes[c] for c in lv.child_cols]
    group_codes = [codes[g] for g in lv.group_cols]
    own = lv.methods or (None,) * len(group_codes)
    specs = [default if m is None else {**default, **m} for m in own]
    keys = [method_key(s) for s in specs]
    if len(set(keys)) <= 1:
        spec = specs[0] if specs else default
        return aggregate_level(xc, lv.membership, w, **spec, child_codes=child_codes, group_codes=group_codes,
                               unit_codes=unit_codes, notes=notes)
    # per-sample weights with shared 2-D data: the samples' axis comes from the weights
    batch = np.broadcast_shapes(xc.shape[:-2], np.shape(w)[:-1])
    out = np.full(batch + (xc.shape[-2], len(group_codes)), np.nan)
    for key in dict.fromkeys(keys):
        gi = np.array([i for i, k in enumerate(keys) if k == key])
        sub = lv.membership[:, gi]
        rows = np.flatnonzero(sub.any(axis=1))
        out[..., gi] = aggregate_level(
            xc[..., rows], sub[rows], w[..., rows], **specs[gi[0]], child_codes=[child_codes[r] for r in rows],
            group_codes=[group_codes[i] for i in gi], unit_codes=unit_codes, notes=notes,
        )
    return out


def _as_slice(cols: np.ndarray) -> slice | np.ndarray:
    """Consecutive column positions as a slice (a view), else the positions (a copy)."""
    if len(cols) and np.array_equal(cols, np.arange(cols[0], cols[0] + len(cols))):
        return slice(int(cols[0]), int(cols[0]) + len(cols))
    return cols


def reaggregate(
    scores: np.ndarray,
    plan: AggregationPlan,
    old_weights: np.ndarray,
    new_weights: np.ndarray,
    method: str = "arithmetic",
    *,
    rescale: tuple[float, float] | None = None,
    **params: Any,
) -> np.ndarray:
    """All scores under new weights, recomputing only the levels whose children's weights
    changed and those above: moving a pillar slider redoes one small level, not the
    indicator-level product. Equal to `aggregate` with the new weights (each group by its own
    method, as there)."""
    out = scores.copy()
    default = {**PARAM_DEFAULTS, **params, "method": method}
    changed = old_weights != new_weights
    start = next((i for i, lv in enumerate(plan.levels) if changed[lv.child_cols].any()), None)
    if start is None:
        return out
    for lv in plan.levels[start:]:
        res = _level(out[..., lv.child_cols], lv, plan.codes, new_weights[lv.child_cols], default, None, None)
        out[..., lv.group_cols] = rescale_minmax(res, *rescale) if rescale is not None else res
    return out
