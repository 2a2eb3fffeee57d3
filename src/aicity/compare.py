"""City profiles and head-to-head comparisons, with each indicator's contribution to a gap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from aicity.errors import InputError, Problem
from aicity.framework import Framework
from aicity.result import IndexResult


def effective_weights(result: IndexResult) -> np.ndarray:
    """(units, codes): each code's share of the index for each unit.

    A group's weight is passed to its children in proportion to their weights, counting only
    the children the unit has a score for (aggregation skips missing children), so the shares
    differ between units with different gaps. Under the arithmetic mean a unit's index equals
    the sum over indicators of share x normalised score, exactly.
    """
    fw = result.framework
    pos = {c: i for i, c in enumerate(result.codes)}
    scores = result.scores_array
    w = result.weights
    out = np.zeros(scores.shape)
    out[:, pos[fw.index_code]] = np.where(np.isnan(scores[:, pos[fw.index_code]]), 0.0, 1.0)
    for code in reversed(fw.aggregates):  # top-down
        kids = [pos[k] for k in fw.children[code]]
        present = ~np.isnan(scores[:, kids])
        kw = np.where(present, w[kids], 0.0)
        total = kw.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, kw / total, 0.0)
        out[:, kids] = out[:, [pos[code]]] * share
    return out


ADDITIVE = ("arithmetic", "geometric")  # aggregations whose gaps split exactly


def group_aggregations(result: IndexResult) -> dict[str, dict]:
    """The aggregation (method and parameters) each group actually uses: its own, its
    level's, or the step's."""
    method, params = result.aggregation
    default = {"method": method, **params}
    plan = result.plan
    return {code: plan.method_of(code, default) for code in result.framework.aggregates}


def group_methods(result: IndexResult) -> dict[str, str]:
    """The aggregation method each group actually uses."""
    return {code: spec["method"] for code, spec in group_aggregations(result).items()}


def contributions(result: IndexResult, a: str, b: str) -> pd.DataFrame:
    """Each indicator's contribution to the index gap between units a and b.

    Arithmetic mean: effective weight x normalised score of a, minus the same for b; the
    contributions add up to the index gap exactly. Geometric mean: the same in logarithms,
    scaled so they add up to the gap (the logarithmic-mean Divisia decomposition). Where
    groups use different ones of these two (a group's own `aggregate:`), each group's gap is
    split among its children by its own method and passed down the tree in those proportions,
    so the indicators' contributions still add up to the index gap. Other aggregations and
    rescaled aggregates have no exact additive split: refused, naming the group.
    """
    aggregations = group_aggregations(result)
    methods = {code: spec["method"] for code, spec in aggregations.items()}
    handled = [c for c, spec in aggregations.items() if spec.get("on_nonpositive", "error") != "error"]
    if handled:  # the values aggregated are not the scores the split would use
        raise InputError([Problem("compare", "contributions are not defined where non-positive values were handled by "
                                             f"on_nonpositive (groups {', '.join(handled)})")])
    other = {c: m for c, m in methods.items() if m not in ADDITIVE}
    if result.aggregation[1]["rescale"] is not None or other:
        what = ", ".join(f"{c} ({m})" for c, m in other.items()) or "rescaled aggregates"
        raise InputError([Problem("compare", f"contributions need arithmetic or geometric aggregation without rescaling (this build: {what})")])
    fw = result.framework
    ew = effective_weights(result)
    ia, ib = result.units.index(a), result.units.index(b)
    n = len(fw.indicators)
    xa, xb = result.scores_array[ia, :n], result.scores_array[ib, :n]
    wa, wb = ew[ia, :n], ew[ib, :n]
    index_col = result.codes.index(fw.index_code)
    gap = result.scores_array[ia, index_col] - result.scores_array[ib, index_col]
    kinds = set(methods.values())
    if kinds == {"arithmetic"}:
        contrib = np.nan_to_num(wa * xa) - np.nan_to_num(wb * xb)
    elif kinds == {"geometric"}:
        contrib = _divisia(xa, xb, wa, wb, gap)
    else:
        contrib = _nested(result, ia, ib, methods)
    frame = pd.DataFrame(
        {
            "code": fw.indicators,
            "level": 1,
            "pillar": [_pillar(fw, c) for c in fw.indicators],
            "score_a": xa,
            "score_b": xb,
            "weight_a": wa,
            "weight_b": wb,
            "contribution": contrib,
        }
    )
    frame.attrs["gap"] = float(gap)
    return frame


def _divisia(xa: np.ndarray, xb: np.ndarray, wa: np.ndarray, wb: np.ndarray, gap: float) -> np.ndarray:
    """The logarithmic-mean Divisia split of a geometric mean's gap: each child's weighted
    log difference, scaled so the parts add up to the gap."""
    la = np.where(wa > 0, wa * np.log(np.where(xa > 0, xa, 1.0)), 0.0)
    lb = np.where(wb > 0, wb * np.log(np.where(xb > 0, xb, 1.0)), 0.0)
    log_gap = la.sum() - lb.sum()
    scale = gap / log_gap if abs(log_gap) > 1e-15 else 0.0
    return (la - lb) * scale


def _nested(result: IndexResult, ia: int, ib: int, methods: dict[str, str]) -> np.ndarray:
    """Indicator contributions when groups aggregate differently: top down, each group's part
    of the index gap is split among its children in proportion to their parts of the group's
    own gap, computed by the group's own method (children's weights renormalised over those
    each unit has, as the aggregation does)."""
    fw = result.framework
    pos = {c: i for i, c in enumerate(result.codes)}
    scores, w = result.scores_array, result.weights
    part = {fw.index_code: scores[ia, pos[fw.index_code]] - scores[ib, pos[fw.index_code]]}
    for code in reversed(fw.aggregates):  # top-down
        kids = fw.children[code]
        cols = [pos[k] for k in kids]
        xa, xb = scores[ia, cols], scores[ib, cols]
        shares = []
        for x in (xa, xb):
            kw = np.where(np.isnan(x), 0.0, w[cols])
            shares.append(kw / kw.sum() if kw.sum() > 0 else kw)
        group_gap = scores[ia, pos[code]] - scores[ib, pos[code]]
        if methods[code] == "arithmetic":
            d = np.nan_to_num(shares[0] * xa) - np.nan_to_num(shares[1] * xb)
        else:
            d = _divisia(xa, xb, shares[0], shares[1], group_gap)
        for k, dk in zip(kids, d, strict=True):
            part[k] = part[code] * dk / group_gap if abs(group_gap) > 1e-15 else 0.0
    return np.array([part[c] for c in fw.indicators])


def _pillar(fw, code: str) -> str:
    chain = [code, *fw.ancestors(code)]
    return chain[-2] if len(chain) >= 2 else code


@dataclass
class Comparison:
    a: str
    b: str
    levels: pd.DataFrame  # a row per code: scores, ranks, gap
    contributions: pd.DataFrame  # a row per indicator
    gap: float

    def headline(self, framework: Framework) -> pd.DataFrame:
        """The rows of the index and its pillars (the index's direct children, whatever their
        depth: a pillar of indicators sits lower in an unbalanced tree than one of sub-pillars)."""
        return self.levels[self.levels["code"].isin([framework.index_code, *framework.pillars()])]

    def pillar_contributions(self) -> pd.Series:
        return self.contributions.groupby("pillar", sort=False)["contribution"].sum()

    def drivers(self, n: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The indicators that most favour a, and those that most favour b."""
        c = self.contributions.dropna(subset=["contribution"])
        return c[c.contribution > 0].nlargest(n, "contribution"), c[c.contribution < 0].nsmallest(n, "contribution")


def code_columns(result: IndexResult, lang: str = "en") -> dict[str, list]:
    """The columns that name each code of a result, for the tables that compare its scores."""
    fw = result.framework
    return {
        "code": list(result.codes),
        "level": [fw.levels[c] for c in result.codes],
        "name": [fw.node(c).name(lang) for c in result.codes],
    }


def radar_series(result: IndexResult, a: str, b: str, lang: str = "en") -> dict[str, list]:
    """The pillar scores of two units, for a radar chart: the report's and the web's."""
    fw = result.framework
    pillars = fw.pillars()
    return {"theta": [fw.node(p).name(lang) for p in pillars],
            "a": [float(result.scores.at[a, p]) for p in pillars], "b": [float(result.scores.at[b, p]) for p in pillars]}


def waterfall_series(result: IndexResult, comp: Comparison, lang: str = "en") -> dict[str, list]:
    """From B's index score to A's, one step per pillar's contribution: the report's and the
    web's waterfall (x labels, y values, Plotly measures)."""
    fw = result.framework
    pc = comp.pillar_contributions()
    base = float(comp.levels.set_index("code").at[fw.index_code, "score_b"])
    names = result.dataset.unit_name
    return {"x": [names(comp.b, lang)] + [fw.node(p).name(lang) for p in pc.index] + [names(comp.a, lang)],
            "y": [base] + pc.tolist() + [0.0], "measure": ["absolute"] + ["relative"] * len(pc) + ["total"],
            "total": base + float(pc.sum())}


def compare(result: IndexResult, a: str, b: str, lang: str = "en") -> Comparison:
    """Two ranked units side by side at every level, and each indicator's contribution to the
    gap between their index scores (exact under arithmetic and geometric aggregation).

        >>> import aicity
        >>> c = compare(aicity.build(), "Seoul", "東京")
        >>> (c.a, c.b)
        ('SEL', 'TYO')
        >>> bool(abs(c.contributions["contribution"].sum() - c.gap) < 1e-9)
        True
    """
    ua, ub = _unit(result, a), _unit(result, b)
    ia, ib = result.units.index(ua), result.units.index(ub)
    levels = pd.DataFrame(
        {
            **code_columns(result, lang),
            "score_a": result.scores_array[ia],
            "score_b": result.scores_array[ib],
            "rank_a": result.ranks_array[ia],
            "rank_b": result.ranks_array[ib],
        }
    )
    levels["gap"] = levels.score_a - levels.score_b
    contrib = contributions(result, ua, ub)
    return Comparison(ua, ub, levels, contrib, contrib.attrs["gap"])


def _unit(result: IndexResult, query: str) -> str:
    return result.ranked_unit(query)


@dataclass
class Profile:
    unit: str
    name: str
    scores: pd.DataFrame  # code, level, name, score, rank, of, [rank intervals]
    strengths: pd.DataFrame
    weaknesses: pd.DataFrame
    peers: pd.DataFrame
    coverage: dict
    sources: pd.DataFrame


def strengths_weaknesses(result: IndexResult, unit: str, n: int = 3, lang: str = "en") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The indicators where the unit ranks best and worst among all units (COINr's
    get_str_weak): ranks on direction-adjusted values, indicators the unit lacks left out."""
    fw = result.framework
    i = result.units.index(unit)
    raw = result.stages["raw"].loc[unit]
    obs = result.dataset.sources(unit).set_index("indicator")
    rows = []
    for j, code in enumerate(fw.indicators):
        rank = result.ranks_array[i, j]
        if np.isnan(rank) or np.isnan(raw[code]):
            continue
        rows.append(
            {
                "code": code,
                "name": fw.node(code).name(lang),
                "rank": rank,
                "of": int(np.sum(~np.isnan(result.ranks_array[:, j]))),
                "value": raw[code],
                "unit_of_measure": fw.node(code).unit,
                "year": obs["year"].get(code) if "year" in obs.columns else None,
                "geo": obs["geo"].get(code) if "geo" in obs.columns else None,
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table, table
    table = table.sort_values(["rank", "code"], kind="stable")
    return table.head(n).reset_index(drop=True), table.tail(n).iloc[::-1].reset_index(drop=True)


def peers(result: IndexResult, unit: str, n: int = 3, lang: str = "en") -> pd.DataFrame:
    """Nearest units by profile: root-mean-square difference of the level-2 scores both have."""
    fw = result.framework
    cols = [result.codes.index(c) for c in fw.codes_at_level(2)] if fw.n_levels > 2 else list(range(len(fw.indicators)))
    x = result.scores_array[:, cols]
    i = result.units.index(unit)
    diff = x - x[i]
    with np.errstate(invalid="ignore"):
        dist = np.sqrt(np.nanmean(diff**2, axis=1))
    shared = (~np.isnan(diff)).sum(axis=1)
    frame = pd.DataFrame({"unit": result.units, "distance": dist, "shared": shared})
    frame = frame[(frame.unit != unit) & (frame.shared > 0)].nsmallest(n, "distance")
    frame.insert(1, "name", [result.dataset.unit_name(u, lang) for u in frame.unit])
    return frame.reset_index(drop=True)


def profile(result: IndexResult, query: str, lang: str = "en", n: int = 3, rank_intervals: pd.DataFrame | None = None) -> Profile:
    unit = _unit(result, query)
    fw = result.framework
    i = result.units.index(unit)
    scores = pd.DataFrame(
        {
            **code_columns(result, lang),
            "score": result.scores_array[i],
            "rank": result.ranks_array[i],
            "of": (~np.isnan(result.ranks_array)).sum(axis=0),
        }
    ).sort_values(["level", "code"], ascending=[False, True], kind="stable")
    if rank_intervals is not None and unit in set(rank_intervals.unit):
        row = rank_intervals.set_index("unit").loc[unit]
        scores.loc[scores.code == fw.index_code, ["rank_p05", "rank_p95"]] = [row.p05, row.p95]
    strengths, weaknesses = strengths_weaknesses(result, unit, n, lang)
    raw = result.stages["raw"].loc[unit]
    missing = [c for c in fw.indicators if np.isnan(raw[c])]
    imputed = [c for c in fw.indicators if result.imputed.at[unit, c]]
    sources = result.dataset.sources(unit).copy()
    return Profile(
        unit=unit,
        name=result.dataset.unit_name(unit, lang),
        scores=scores.reset_index(drop=True),
        strengths=strengths,
        weaknesses=weaknesses,
        peers=peers(result, unit, n, lang),
        coverage={"present": len(fw.indicators) - len(missing), "of": len(fw.indicators), "missing": missing, "imputed": imputed},
        sources=sources.reset_index(drop=True),
    )
