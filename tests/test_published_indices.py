"""Reproduce published indices' totals from their published pillar scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

import aicity
from aicity.pipeline.rank import rank_desc
from tests.conftest import PUBLISHED, need_shared


def framework(codes: list[str], weights: list[float]) -> dict:
    return {
        "index": {"code": "Total", "names": {"en": "Total"}},
        "indicators": [{"code": c, "parent": "Total", "weight": w} for c, w in zip(codes, weights, strict=True)],
    }


def build_from(tmp_path, table: pd.DataFrame, unit_col: str, codes: list[str], weights: list[float], pipeline: dict):
    wide = table[[unit_col, *codes]].rename(columns={unit_col: "unit"})
    path = tmp_path / "data.csv"
    wide.to_csv(path, index=False)
    return aicity.build(framework(codes, weights), path, pipeline)


def test_tortoise_2021_total_from_seven_pillars(tmp_path):
    table = pd.read_csv(need_shared(PUBLISHED / "tortoise_global_ai_index_2021_pillars.csv"))
    pillars = ["Talent", "Infrastructure", "Operating Environment", "Research", "Development", "Government Strategy", "Commercial"]
    result = build_from(
        tmp_path, table, "Country", pillars, [5, 3, 2, 5, 3, 1, 5],
        {"normalize": "none", "aggregate": {"method": "arithmetic", "rescale": [0, 100]}},
    )
    ours = result.index_scores.loc[table["Country"]].to_numpy()
    published = table["Total score"].to_numpy()
    assert np.max(np.abs(ours - published)) < 0.01
    assert (rank_desc(ours[:, None]) == rank_desc(published[:, None])).all()


def test_gpci_2016_total_is_the_sum_of_six_functions(tmp_path):
    table = pd.read_csv(need_shared(PUBLISHED / "gpci2016_function_scores.csv"))
    functions = ["economy", "rnd", "cultural_interaction", "livability", "environment", "accessibility"]
    result = build_from(tmp_path, table, "city", functions, [1] * 6, {"normalize": "none", "aggregate": "sum"})
    ours = result.index_scores.loc[table["city"]].to_numpy()
    # Function scores are published to one decimal, so the sum can drift by rounding.
    assert np.max(np.abs(ours - table["total_2016"].to_numpy())) <= 0.2 + 1e-9
    assert (result.ranks["Total"].loc[table["city"]].to_numpy() == table["rank_2016"].to_numpy()).all()


def test_eden_2020_21_total_is_the_sum_of_ten_factors(tmp_path):
    table = pd.read_csv(need_shared(PUBLISHED / "eden_top50_smart_city_govts_partial.csv"))
    table = table[table.edition == "2020/21"]
    factors = ["vision", "leadership", "budget", "financial_incentives", "support_programmes", "talent_readiness",
               "people_centricity", "innovation_ecosystem", "smart_policies", "track_record"]
    result = build_from(tmp_path, table, "city", factors, [1] * 10, {"normalize": "none", "aggregate": "sum"})
    ours = result.index_scores.loc[table["city"]].to_numpy()
    np.testing.assert_allclose(ours, table["total_score"].to_numpy(), atol=1e-9)
    # Published ranks break score ties by the publisher's own order; ours share the rank.
    ours_rank = result.ranks["Total"].loc[table["city"]].to_numpy()
    assert (ours_rank <= table["rank"].to_numpy()).all()
    assert (rank_desc(table["total_score"].to_numpy()[:, None])[:, 0] == ours_rank).all()
