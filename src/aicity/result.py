"""IndexResult: scores and ranks at every level, every pipeline stage, and what happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aicity.data import Dataset, find_unit
from aicity.errors import Problem, UnitNotRanked
from aicity.framework import Framework
from aicity.pipeline.aggregate import AggregationPlan
from aicity.pipeline.rank import at_precision, rank_within_groups
from aicity.spec import Spec


@dataclass
class IndexResult:
    framework: Framework
    dataset: Dataset
    spec: Spec  # the resolved pipeline: (step, parameters) in order; spec["normalize"] reads one step
    units: list[str]
    scores_array: np.ndarray  # (units, codes): normalised indicators, then aggregates
    ranks_array: np.ndarray
    weights: np.ndarray  # by code position, as used
    imputed_array: np.ndarray  # (units, indicators) True where a value was imputed
    stages: dict[str, pd.DataFrame]
    screened_out: pd.DataFrame
    treatment: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # Benefit-of-the-doubt aggregation: each unit's optimal weights (unit, group, child, weight, share)
    bod_weights: pd.DataFrame = field(default_factory=pd.DataFrame)

    def ranked_unit(self, query: str) -> str:
        """A unit of this build by code or name (en/ko/ja). `UnitNotFound` if no unit has that
        code or name; `UnitNotRanked` if it was screened out and so has no scores. Every door
        (CLI, web, report, what-if) asks this, never its own copy of the rule."""
        code = find_unit(self.dataset, query)
        if code not in self.units:
            raise UnitNotRanked([Problem(self.dataset.source, f"{code} was screened out of this build (too little data): it has no scores")])
        return code

    def rebuild(self, *, dataset: Dataset | None = None, spec: list[tuple[str, dict[str, Any]]] | None = None,
                framework: Framework | None = None) -> IndexResult:
        """The same build from its recorded parts, with any of them replaced (COINr's Regen):
        `r.rebuild()` equals `r`; `r.rebuild(dataset=changed)` is a what-if.

            >>> import aicity
            >>> r = aicity.build()
            >>> bool((r.rebuild().scores.fillna(-1) == r.scores.fillna(-1)).all().all())
            True
        """
        from aicity.build import run_pipeline
        from aicity.spec import Spec, parse_pipeline, with_defaults

        if spec is None:
            steps = Spec((s, dict(p)) for s, p in self.spec)
        else:  # checked like any spec: a partial one takes the defaults, a wrong one is an InputError
            raw = dict(spec) if not isinstance(spec, dict) else spec
            steps = Spec(with_defaults(parse_pipeline(raw, "rebuild(spec=...)", written=False)))
        return run_pipeline(self.framework if framework is None else framework,
                            self.dataset if dataset is None else dataset, steps)

    # -- how it was aggregated and ranked ----------------------------------------------
    @property
    def plan(self) -> AggregationPlan:
        """The aggregation levels with each group's own method (framework `aggregate:` on a
        group, else the spec's per-level form): what every re-aggregation of this build uses."""
        from aicity.build import aggregation_plan

        return aggregation_plan(self.framework, self.spec["aggregate"])

    @property
    def aggregation(self) -> tuple[str, dict[str, Any]]:
        """The `aggregate` step's method and parameters as `pipeline.aggregate.aggregate` takes
        them (the method of every group without one of its own)."""
        from aicity.build import aggregate_params

        params = self.spec["aggregate"]
        return params["method"], aggregate_params(params)

    @property
    def score_digits(self) -> int:
        """Decimals that show the index's scores apart: 1 on a 0-100 scale, 3 on a 0-1 scale
        (the HDI's, TOPSIS closeness), never fewer than the ranks were taken at. What the
        report and the command line print scores with."""
        index = self.scores_array[:, self.codes.index(self.framework.index_code)]
        top = float(np.nanmax(np.abs(index))) if np.isfinite(index).any() else 100.0
        digits = 1 if top > 15 else (2 if top > 1.5 else 3)
        return max(digits, self.rank_digits or 0)

    @property
    def aggregates_in_batches(self) -> bool:
        """Whether every group's aggregation takes stacked samples (all but benefit of the
        doubt's linear programmes and Copeland's pairs): what re-weighting and uncertainty
        analysis can do at array speed."""
        from aicity.pipeline.aggregate import METHODS

        method, _ = self.aggregation
        own = {m["method"] for lv in self.plan.levels for m in lv.methods if m}
        return all(METHODS[m].batched for m in {method, *own})

    @property
    def rank_digits(self) -> int | None:
        """The precision scores are ranked at (`rank: {digits: n}`), None for full precision."""
        return next((p.get("digits") for s, p in self.spec if s == "rank"), None)

    # -- tables ------------------------------------------------------------------------
    @property
    def codes(self) -> list[str]:
        return self.framework.codes

    @property
    def scores(self) -> pd.DataFrame:
        return pd.DataFrame(self.scores_array, index=pd.Index(self.units, name="unit"), columns=self.codes)

    @property
    def ranks(self) -> pd.DataFrame:
        return pd.DataFrame(self.ranks_array, index=pd.Index(self.units, name="unit"), columns=self.codes)

    @property
    def index_scores(self) -> pd.Series:
        return self.scores[self.framework.index_code]

    @property
    def imputed(self) -> pd.DataFrame:
        return pd.DataFrame(self.imputed_array, index=pd.Index(self.units, name="unit"), columns=self.framework.indicators)

    def imputed_counts(self) -> np.ndarray:
        """(units, codes): how many imputed indicator values feed each score."""
        fw = self.framework
        out = np.zeros(self.scores_array.shape, dtype=np.int64)
        n = len(fw.indicators)
        if not self.imputed_array.any():
            return out
        out[:, :n] = self.imputed_array
        pos = {c: j for j, c in enumerate(self.codes)}
        for code in fw.aggregates:  # bottom up: a group counts what its children count
            out[:, pos[code]] = out[:, [pos[k] for k in fw.children[code]]].sum(axis=1)
        return out

    def level_codes(self, level: int) -> list[str]:
        return self.framework.codes_at_level(level)

    def table(self, level: int | str = "index", lang: str = "en") -> pd.DataFrame:
        """Scores and ranks of one level, best first: a column per code and `<code>_rank`."""
        if level == "index":
            level = self.framework.n_levels
        codes = self.level_codes(int(level))
        s, r = self.scores[codes], self.ranks[codes].add_suffix("_rank")
        out = pd.concat([s, r], axis=1)
        out.insert(0, "name", [self.dataset.unit_name(u, lang) for u in self.units])
        key = self.framework.index_code if self.framework.index_code in codes else codes[0]
        return out.sort_values(f"{key}_rank", kind="stable", na_position="last")

    def ranking(self, lang: str = "en") -> pd.DataFrame:
        """The headline ranking: rank, unit, name, index score and each pillar's score."""
        fw = self.framework
        cols = [fw.index_code] + fw.pillars()
        pos = {c: j for j, c in enumerate(self.codes)}
        out = pd.DataFrame(
            {
                "rank": self.ranks_array[:, pos[fw.index_code]],
                "name": [self.dataset.unit_name(u, lang) for u in self.units],
            },
            index=pd.Index(self.units, name="unit"),
        )
        for c in cols:  # columns of the arrays: no frame of every score is made for a few of them
            out[c] = self.scores_array[:, pos[c]]
        raw = self.stages["raw"].reindex(self.units).to_numpy()
        out["missing"] = np.isnan(raw).sum(axis=1) - self.imputed_array.sum(axis=1)
        out["imputed"] = self.imputed_array.sum(axis=1)
        return out.sort_values("rank", kind="stable", na_position="last")

    def group_ranks(self, column: str) -> pd.DataFrame:
        groups = self.dataset.unit_column(column)
        kept = pd.Index(self.dataset.unit_codes).get_indexer(self.units)
        r = rank_within_groups(at_precision(self.scores_array, self.rank_digits), groups[kept])
        return pd.DataFrame(r, index=pd.Index(self.units, name="unit"), columns=self.codes)

    def to_frame(self, group: str | None = None) -> pd.DataFrame:
        """Tidy results, the rows and columns of results.csv (`export.results_table`, the one
        rule for both): a row per unit and per code (`unit, code, level, score, rank`, then
        `imputed` (any imputed value underneath) and `n_imputed`, `national` where the
        framework has a national group, `group, group_rank` with a group)."""
        from aicity.export import results_table

        frame = results_table(self, group).to_pandas()
        for col in ("unit", "code", "group"):
            if col in frame and isinstance(frame[col].dtype, pd.CategoricalDtype):
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        return frame

    def spec_dict(self) -> dict[str, Any]:
        return {"pipeline": {step: params for step, params in self.spec}}
