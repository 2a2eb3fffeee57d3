"""Rankings under a reader's priorities: personas and custom weights.

Re-weighting keeps the data and every step before aggregation, so it only re-aggregates the
normalised indicators: milliseconds, and equal to a full rebuild with those weights (tested).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aicity.build import aggregation_plan
from aicity.compare import Comparison, compare
from aicity.errors import InputError, Problem
from aicity.framework import Framework, all_zero_reason
from aicity.pipeline.aggregate import AggregationPlan, reaggregate
from aicity.pipeline.rank import at_precision, rank_desc, rank_with_order
from aicity.result import IndexResult
from aicity.spec import Spec
from aicity.weights import check_weights


def persona_weights(framework: Framework, persona: str) -> dict[str, float]:
    if persona not in framework.personas:
        known = ", ".join(framework.personas) or "none defined"
        raise InputError([Problem(framework.source, f"no persona '{persona}' (personas: {known})")])
    # the one rule for given weights, a persona's included
    return check_weights(framework, dict(framework.personas[persona].weights), source=f"persona '{persona}'")


def reweighted_scores(result: IndexResult, weights: dict[str, float], plan: AggregationPlan | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every score with some weights replaced (checked weights: see `weights.check_weights`),
    and the weight vector used. Only the levels whose weights changed are re-aggregated, from
    the normalised indicators: the same numbers as a full rebuild with those weights (tested).
    `plan` may be passed in when it is reused (the web keeps one)."""
    plan = plan or result.plan
    w = result.weights.copy()
    for code, value in weights.items():
        w[plan.codes.index(code)] = float(value)
    # the rule on the weights the build really used (a weight set or custom values included)
    empty = [plan.codes[g] for lv in plan.levels
             for g, alive in zip(lv.group_cols, (lv.membership.T @ (w[lv.child_cols] > 0)) > 0, strict=True) if not alive]
    if empty:
        raise InputError([Problem("weights", all_zero_reason(code)) for code in empty])
    method, params = result.aggregation
    scores = reaggregate(result.scores_array, plan, result.weights, w, method, **params)
    return scores, w


def reweighted_ranking(result: IndexResult, weights: dict[str, float], plan: AggregationPlan | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(every score, the index's ranks, the unit positions best first) under some weights:
    what POST /api/rank answers, computed on arrays."""
    plan = plan or result.plan
    scores, _ = reweighted_scores(result, weights, plan)
    ranks, order = rank_with_order(at_precision(scores[:, plan.codes.index(result.framework.index_code)], result.rank_digits))
    return scores, ranks, order


def reweight(result: IndexResult, weights: dict[str, float]) -> IndexResult:
    """The same build with some weights replaced."""
    fw = result.framework.with_weights(weights)  # validates: known codes, no all-zero siblings
    plan = aggregation_plan(fw, result.spec["aggregate"])
    scores, w = reweighted_scores(result, weights, plan)
    spec = Spec((s, dict(p)) for s, p in result.spec)
    for step, params in spec:
        if step == "weights":
            params.clear()
            params.update({"set": "custom", "values": dict(zip(plan.codes, w.tolist(), strict=True))})
    out = dataclasses.replace(result, framework=fw, spec=spec, scores_array=scores, ranks_array=rank_desc(at_precision(scores, result.rank_digits)), weights=w)
    if len(result.bod_weights):
        # benefit of the doubt: each unit's own weights depend on the nominal ones (a child
        # weighted 0 is left out), so its weight table comes from the rebuilt index, never
        # from the result reweighted
        return out.rebuild()
    return out


@dataclass
class Suitability:
    """Which city suits a reader: the ranking under their weights and why the first one wins."""

    label: str
    weights: dict[str, float]
    ranking: pd.DataFrame
    result: IndexResult
    why: Comparison | None  # first against second

    def reasons(self, n: int = 3) -> pd.DataFrame:
        return self.why.drivers(n)[0] if self.why is not None else pd.DataFrame()


def suits(result: IndexResult, weights: dict[str, float], label: str = "custom", lang: str = "en", top: int = 5) -> Suitability:
    reweighted = reweight(result, weights)
    ranking = reweighted.ranking(lang)
    ranked = ranking.dropna(subset=["rank"])
    why = None
    if len(ranked) >= 2:
        try:
            why = compare(reweighted, ranked.index[0], ranked.index[1], lang)
        except InputError:
            why = None  # no exact additive split under this aggregation: the ranking stands alone
    return Suitability(label, weights, ranking.head(top), reweighted, why)
