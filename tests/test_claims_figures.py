"""The figures written by hand in the claims' notes (claims.yaml) are the data's, in every
language: a data change that moves one fails here, as docs/data.md's ranks do in
test_docs_figures. (Tokyo's 2023 paper count read 105.37 in the notes after the data had
moved to 105.12.)"""

from __future__ import annotations

import pandas as pd
import pytest

from aicity.bundled import data_path
from aicity.claims import load_claims

DERIVED = data_path().parent / "derived" / "values.csv"

# (claim, indicator, unit, year, decimals): the value as the note writes it in en, ko and ja
FIGURES = [
    ("seoul_startup_growth_lead", "ai_conf_papers_growth", "SEL", 2023, 2),
    ("seoul_startup_growth_lead", "ai_conf_papers_growth", "TYO", 2023, 2),
    ("seoul_startup_growth_lead", "unicorn_hq_per_million", "SEL", 2022, 2),
    ("seoul_startup_growth_lead", "unicorn_hq_per_million", "TYO", 2022, 2),
    ("seoul_startup_growth_lead", "unicorn_hq", "SEL", 2022, 0),
    ("tokyo_ai_papers_lead", "ai_conf_papers", "TYO", 2023, 2),
    ("tokyo_ai_papers_lead", "ai_conf_papers", "SEL", 2023, 2),
    ("tokyo_ai_papers_lead", "ai_ml_papers_per_million", "SEL", 2023, 2),
    ("tokyo_ai_papers_lead", "ai_ml_papers_per_million", "TYO", 2023, 2),
    ("tokyo_ai_papers_lead", "ai_robotics_papers_per_million", "SEL", 2023, 2),
    ("tokyo_ai_papers_lead", "ai_robotics_papers_per_million", "TYO", 2023, 2),
    ("tokyo_big_firm_led", "ai_conf_papers_industry", "TYO", 2023, 2),
    ("tokyo_big_firm_led", "ai_conf_papers_industry", "SEL", 2023, 2),
    ("tokyo_big_firm_led", "ai_conf_papers", "TYO", 2023, 2),
    ("tokyo_big_firm_led", "ai_conf_papers", "SEL", 2023, 2),
    ("tokyo_big_firm_led", "ai_conf_papers_industry_per_million", "TYO", 2023, 2),
    ("tokyo_big_firm_led", "ai_conf_papers_industry_per_million", "SEL", 2023, 2),
    ("tokyo_ai_patents_lead", "wipo_cluster_pctl", "SEL", 2023, 2),
]


@pytest.fixture(scope="module")
def values() -> pd.DataFrame:
    frames = [pd.read_csv(data_path()), pd.read_csv(DERIVED)]
    return pd.concat(frames).drop_duplicates(["unit", "indicator", "year"]).set_index(["unit", "indicator", "year"])["value"]


@pytest.mark.parametrize(("claim", "indicator", "unit", "year", "decimals"), FIGURES,
                         ids=[f"{c}-{i}-{u}" for c, i, u, _, _ in FIGURES])
def test_a_note_figure_is_the_datas(values, claim, indicator, unit, year, decimals):
    notes = {c.id: c.note for c in load_claims()}[claim]
    shown = f"{values[(unit, indicator, year)]:.{decimals}f}"
    for lang in ("en", "ko", "ja"):
        assert shown in notes[lang], (lang, shown, notes[lang])
