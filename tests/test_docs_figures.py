"""The ranks docs/data.md states in prose are the bundled index's: a data change that moves a
city fails here until the sentence is rewritten (the generated blocks are rewritten by
`python -m aicity.datadoc`; these sentences are written by hand)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import aicity
from aicity.i18n import ordinal
from aicity.personas import persona_weights, reweighted_ranking

DOC = Path(__file__).resolve().parents[1] / "docs" / "data.md"


@pytest.fixture(scope="module")
def ranks() -> dict[str, pd.Series]:
    """Ranks by code (the index, each pillar, each persona's index), each a Series by unit."""
    r = aicity.build()
    out = {code: pd.Series(r.ranks_array[:, i], index=r.units) for i, code in enumerate(r.codes)}
    ix = r.framework.index_code
    for persona in r.framework.personas:
        _, index_ranks, _ = reweighted_ranking(r, persona_weights(r.framework, persona))
        out[persona] = pd.Series(index_ranks, index=r.units)
    out["index"] = out[ix]
    score = pd.Series(r.scores_array[:, r.codes.index(ix)], index=r.units)
    out["gap"] = score["SEL"] - score["TYO"]  # type: ignore[assignment]
    return out


def _text() -> str:
    return re.sub(r"\s+", " ", DOC.read_text(encoding="utf-8"))


def test_the_overall_and_persona_ranks_in_the_prose(ranks):
    text = _text()
    o = {u: ordinal(ranks["index"][u]) for u in ranks["index"].index}
    first = ranks["index"].sort_values().index[:5].tolist()
    names = {"SFBA": "the Bay Area", "SEA": "Seattle", "PAR": "Paris", "BOS": "Boston", "LON": "London"}
    assert all(u in names for u in first), f"the leaders changed: {first}"
    lead = ", ".join(names[u] for u in first[:4]) + " and " + names[first[4]] + " lead"
    assert f"Overall Seoul is {o['SEL']}, Tokyo {o['TYO']}" in text
    assert lead in text
    p = {k: {u: ordinal(ranks[k][u]) for u in ("SEL", "TYO")} for k in ("entrepreneur", "policymaker", "citizen", "researcher")}
    assert p["entrepreneur"]["SEL"] == p["policymaker"]["SEL"] == p["citizen"]["SEL"]
    assert (f"Seoul is {p['entrepreneur']['SEL']} for the entrepreneur, the policymaker and the citizen and "
            f"{p['researcher']['SEL']} for the researcher; Tokyo {p['entrepreneur']['TYO']}, {p['policymaker']['TYO']}, "
            f"{p['citizen']['TYO']} and {p['researcher']['TYO']}") in text
    assert f"Seoul is {ordinal(ranks['POLICY']['SEL'])} on POLICY" in text
    # who comes first for each persona, and the gap between Seoul and Tokyo
    personas = ("entrepreneur", "policymaker", "citizen", "researcher")
    first = {k: ranks[k].idxmin() for k in personas}
    bay = [k for k in personas if first[k] == "SFBA"]
    paris = [k for k in personas if first[k] == "PAR"]
    assert len(bay) + len(paris) == 4, first

    def listed(ks: list[str]) -> str:
        words = [f"the {k}" for k in ks]
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    assert f"The San Francisco Bay Area comes first for {listed(bay)}, Paris for {listed(paris)}" in text
    assert f"Tokyo {o['TYO']} ({ranks['gap']:.1f} points apart)" in text
    assert ranks["POLICY"]["PAR"] == 1 and "POLICY (1st:" in text


def test_the_comparison_ranks_in_the_prose(ranks):
    text = _text()
    o = {u: ordinal(ranks["index"][u]) for u in ("BJS", "SHA", "ZRH", "SEA", "NYC", "TSN")}
    assert f"Beijing 3rd and Shanghai 4th on PitchBook, {o['BJS']} and {o['SHA']} in the index" in text
    assert f"(Zurich {o['ZRH']})" in text
    mainland = ["BJS", "SHA", "SZX", "HGH", "CAN", "NKG", "CTU", "WUH", "HFE", "TSN"]
    best, worst = ranks["index"][mainland].idxmin(), ranks["index"][mainland].idxmax()
    assert (best, worst) == ("BJS", "TSN")
    assert f"between {o['BJS']} (Beijing) and {o['TSN']} (Tianjin) in the index" in text
    assert f"Seattle is 6th on Oxford and {o['SEA']} in the index, New York 1st on Oxford and {o['NYC']} in the index" in text
    assert (f"Beijing is {ordinal(ranks['INDUSTRY']['BJS'])} and Shanghai {ordinal(ranks['INDUSTRY']['SHA'])} on "
            f"INDUSTRY alone") in text


def test_the_institutions_crosswalk_size_in_the_prose():
    rows = len(pd.read_csv(Path(aicity.__file__).parent / "data" / "derive" / "crosswalks" / "institutions.csv"))
    assert f"crosswalk ({rows} curated rows" in _text()


def test_the_audit_figures_in_the_prose():
    """The leave-one-out shifts, correlations and alphas docs/data.md quotes are `aicity audit`'s."""
    from aicity.audit import audit

    a = audit(aicity.build())
    loo = a.leave_one_out.set_index("code")
    corr = a.correlations[a.correlations.method == "pearson"].set_index(["x", "y"])["r"]
    alpha = a.cronbach.set_index("group")["alpha"]
    text = _text()
    said = [
        f"shifts cities by {loo.at['cloud_regions', 'mean_abs_rank_shift']:.2f} places on average and up to "
        f"{loo.at['cloud_regions', 'max_abs_rank_shift']:.0f}",
        f"INFRA correlates only {corr[('INFRA', 'AICI')]:.2f} with the index",
        f"({loo.at['oxford_quality_of_life_pctl', 'mean_abs_rank_shift']:.2f} places on average each)",
        f"open-data portal owners ({loo.at['open_data_portal_owners', 'mean_abs_rank_shift']:.2f})",
        f"(Pearson {corr[('ai_conf_papers_growth', 'AICI')]:.2f})",
        f"alpha {alpha['IND_KNOW']:.2f} and {alpha['IND_RND']:.2f})",
    ]
    for sentence in said:
        assert sentence in text, sentence
    assert f"{loo.at['oxford_environment_pctl', 'mean_abs_rank_shift']:.2f}" == f"{loo.at['oxford_quality_of_life_pctl', 'mean_abs_rank_shift']:.2f}"
