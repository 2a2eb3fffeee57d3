"""Profiles, head-to-head contributions, personas, what-if, trends, claims and Korean particles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import aicity
from aicity.claims import Claim, check_claims
from aicity.compare import compare, contributions, effective_weights, profile
from aicity.errors import InputError
from aicity.i18n import josa, ordinal
from aicity.personas import persona_weights, reweight, suits
from aicity.trends import build_trends
from aicity.weights import parse_weights
from aicity.whatif import cheapest_set, what_it_takes, whatif


@pytest.fixture(scope="module")
def bundled():
    return aicity.build()


FW = {
    "index": {"code": "I"},
    "groups": [{"code": "P", "parent": "I", "weight": 1}, {"code": "Q", "parent": "I", "weight": 1}],
    "indicators": [
        {"code": "a", "parent": "P", "weight": 1},
        {"code": "b", "parent": "P", "weight": 3},
        {"code": "c", "parent": "Q", "weight": 1, "direction": -1},
    ],
}


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "d.csv"
    # min-max by hand: a: X 0, Y 100, Z 50; b: X 100, Y 0, Z 50; c (lower is better): X 100, Y 0, Z 50
    path.write_text("unit,a,b,c\nX,0,10,1\nY,10,0,3\nZ,5,5,2\n")
    return aicity.build(FW, path)


def test_contributions_by_hand(tiny):
    # X: P = (0 + 3*100)/4 = 75, Q = 100, I = 87.5; Y: P = 25, Q = 0, I = 12.5.
    assert tiny.index_scores["X"] == pytest.approx(87.5) and tiny.index_scores["Y"] == pytest.approx(12.5)
    c = contributions(tiny, "X", "Y").set_index("code")
    # effective weights: a 1/8, b 3/8, c 1/2
    assert c.at["a", "contribution"] == pytest.approx(-100 / 8)
    assert c.at["b", "contribution"] == pytest.approx(300 / 8)
    assert c.at["c", "contribution"] == pytest.approx(50)
    assert c.contribution.sum() == pytest.approx(75.0)


def test_contributions_sum_exactly_to_the_gap_with_gaps_in_the_data(bundled):
    ew = effective_weights(bundled)
    n = len(bundled.framework.indicators)
    recon = np.nansum(ew[:, :n] * np.nan_to_num(bundled.scores_array[:, :n]), axis=1)
    np.testing.assert_allclose(recon, bundled.index_scores.to_numpy(), atol=1e-9)
    for a, b in (("SEL", "TYO"), ("NYC", "BLR"), ("PAR", "SIN")):
        comp = compare(bundled, a, b)
        assert comp.contributions.contribution.sum() == pytest.approx(comp.gap, abs=1e-9)
        assert comp.pillar_contributions().sum() == pytest.approx(comp.gap, abs=1e-9)


def test_geometric_contributions_also_add_up():
    geo = aicity.build(overrides={"normalize": {"range": [1, 100]}, "aggregate": {"method": "geometric"}})
    comp = compare(geo, "Seoul", "Tokyo")
    assert comp.contributions.contribution.sum() == pytest.approx(comp.gap, abs=1e-9)


def test_contributions_refused_without_an_additive_split():
    r = aicity.build(overrides={"normalize": {"range": [1, 100]}, "aggregate": {"method": "harmonic"}})
    with pytest.raises(InputError, match="arithmetic or geometric"):
        compare(r, "SEL", "TYO")


def test_profile_finds_cities_by_any_name_and_reports_coverage(bundled):
    for query in ("SEL", "Seoul", "서울", "ソウル"):
        assert profile(bundled, query).unit == "SEL"
    p = profile(bundled, "東京", lang="ja")
    assert p.name == "東京"
    assert p.coverage["present"] + len(p.coverage["missing"]) == p.coverage["of"]
    assert (p.strengths["rank"].to_numpy() <= p.weaknesses["rank"].to_numpy().min()).all()
    assert len(p.peers) == 3 and "TYO" not in set(p.peers.unit)
    assert set(p.sources.indicator) >= set(p.strengths.code)


def test_strengths_by_hand(tiny):
    p = profile(tiny, "Z", n=1)
    assert p.strengths.at[0, "rank"] == 2 and p.weaknesses.at[0, "rank"] == 2
    px = profile(tiny, "X", n=1)
    assert px.strengths.at[0, "code"] in ("b", "c") and px.weaknesses.at[0, "code"] == "a"


def test_persona_ranking_equals_a_build_with_those_weights(bundled):
    fw = bundled.framework
    for persona in fw.personas:
        w = persona_weights(fw, persona)
        fast = reweight(bundled, w)
        full = aicity.build(overrides={"weights": {"set": "custom", "values": w}})
        np.testing.assert_allclose(fast.scores_array, full.scores_array, atol=1e-12)
        np.testing.assert_array_equal(np.nan_to_num(fast.ranks_array, nan=-1), np.nan_to_num(full.ranks_array, nan=-1))
    assert set(fw.personas) == {"entrepreneur", "policymaker", "citizen", "researcher"}
    assert all(p.why("ko") and p.why("ja") for p in fw.personas.values())


def test_custom_weights_by_alias_and_why_the_first_wins(bundled):
    w = parse_weights(bundled.framework, "infrastructure=2, industry=1,policy=1,trust=1")
    assert w == {"INFRA": 2.0, "INDUSTRY": 1.0, "POLICY": 1.0, "TRUST": 1.0}
    s = suits(bundled, w)
    assert s.ranking["rank"].iloc[0] == 1
    reasons = s.reasons()
    assert (reasons.contribution > 0).all()
    with pytest.raises(InputError):
        parse_weights(bundled.framework, "nonsense=2")
    with pytest.raises(InputError, match="all children"):
        reweight(bundled, {"INFRA": 0, "INDUSTRY": 0, "POLICY": 0, "TRUST": 0, "NATIONAL": 0})


def test_whatif_equals_a_rebuild_with_changed_data(bundled, tmp_path):
    after = whatif(bundled, "Tokyo", {"pitchbook_startup_pctl": 90, "cloud_regions": 5})
    values = pd.read_csv(aicity.bundled.data_path())
    mask = (values.unit == "TYO") & values.indicator.isin(["pitchbook_startup_pctl", "cloud_regions"])
    values.loc[mask & (values.indicator == "pitchbook_startup_pctl"), "value"] = 90
    values.loc[mask & (values.indicator == "cloud_regions"), "value"] = 5
    path = tmp_path / "values.csv"
    values.to_csv(path, index=False)
    rebuilt = aicity.build(aicity.bundled.framework_path(), path, units=aicity.bundled.units_path())
    np.testing.assert_allclose(after.scores_array, rebuilt.scores_array, atol=1e-12)
    assert after.ranks.at["TYO", "AICI"] < bundled.ranks.at["TYO", "AICI"]


def test_what_it_takes_by_hand(tiny):
    # Y trails Z (12.5 vs 50). Raising Y's a from 10 cannot help (it is the max already);
    # lowering Y's c (lower is better) to c* gives Q = 100 (3 - c*) / 2 while ... bisection finds it.
    req = what_it_takes(tiny, "Y", "c", beat="Z")
    assert req.needed is not None and req.needed < 3
    after = whatif(tiny, "Y", {"c": req.needed})
    assert after.index_scores["Y"] > after.index_scores["Z"]
    before_needed = whatif(tiny, "Y", {"c": req.needed + 1e-6 * 10})
    assert before_needed.index_scores["Y"] <= before_needed.index_scores["Z"] + 1e-6
    assert what_it_takes(tiny, "Y", "a", beat="Z").needed is None
    assert what_it_takes(tiny, "X", "a", rank=1).message == "already reached"


def test_cheapest_set_by_hand(tiny):
    # Z = 50 needs +37.5 to pass X (87.5); effective weights: c 1/2 (room 50 -> +25), b 3/8 (room 50 -> +18.75).
    table = cheapest_set(tiny, "Z", beat="X")
    assert list(table.indicator) == ["c", "b"]
    assert table.change.iloc[0] == pytest.approx(50)
    assert table.change.iloc[1] == pytest.approx((37.5 - 25) / (3 / 8), rel=1e-6)
    assert table.attrs["possible"]


def test_trends_normalise_across_years_by_hand(tmp_path):
    fw = {"index": {"code": "I"}, "groups": [{"code": "P", "parent": "I"}, {"code": "Q", "parent": "I"}],
          "indicators": [{"code": "a", "parent": "P"}, {"code": "b", "parent": "Q"}]}
    rows = [("X", "a", v, y) for v, y in ((1, 2020), (2, 2021), (3, 2022))] + [("X", "b", 10, y) for y in (2020, 2021, 2022)]
    rows += [("Y", "a", 2, 2020), ("Y", "b", 20, 2020), ("Y", "a", 2, 2022), ("Y", "b", 20, 2022)]
    path = tmp_path / "panel.csv"
    pd.DataFrame(rows, columns=["unit", "indicator", "value", "year"]).to_csv(path, index=False)
    t = build_trends(fw, path, carry="latest")
    scores = t.trajectories(what="score")
    np.testing.assert_allclose(scores.loc["X"], [0, 25, 50])  # a over all years: 1..3
    np.testing.assert_allclose(scores.loc["Y"], [75, 75, 75])
    assert t.carried.sum() == 2  # Y's a and b in 2021, carried from 2020
    assert t.momentum().at["X", "P"] == pytest.approx(50)
    assert t.stability().at["X", "score_volatility"] == pytest.approx(0)
    none = build_trends(fw, path, carry="none")
    assert np.isnan(none.trajectories(what="score").at["Y", 2021])
    tidy = t.to_frame()
    assert tidy[(tidy.unit == "Y") & (tidy.year == 2021) & (tidy.code == "I")].n_carried.iloc[0] == 2


def test_claims_verdicts_by_hand(tiny):
    def claim(codes, expected="higher"):
        return Claim("c", "t", {"en": "x"}, "X", "Y", codes, expected)

    verdicts = check_claims(tiny, [claim(["b", "c"]), claim(["a"]), claim(["a", "b"]), claim([]), claim(["a"], "lower")])
    assert [v.verdict for v in verdicts] == ["supported", "contradicted", "mixed", "not enough data", "supported"]
    # Z against itself: equal on every code, which is a tie, not missing data
    same = Claim("c", "t", {"en": "x"}, "Z", "Z", ["a", "b"], "higher")
    assert check_claims(tiny, [same])[0].verdict == "tied"
    assert verdicts[0].evidence[0].value_subject == 10


@pytest.mark.parametrize(
    ("word", "pair", "expected"),
    [("서울", "은/는", "서울은"), ("도쿄", "은/는", "도쿄는"), ("서울", "으로/로", "서울로"), ("베이징", "으로/로", "베이징으로"),
     ("도쿄", "과/와", "도쿄와"), ("서울", "과/와", "서울과"), ("8위", "을/를", "8위를"), ("뉴욕", "이다/다", "뉴욕이다"),
     ("72", "이다/다", "72다"), ("2.53", "이다/다", "2.53이다"), ("1", "이다/다", "1이다"), ("30", "으로/로", "30으로"),
     ("7", "으로/로", "7로"), ("Seoul", "은/는", "Seoul은"),
     ("10", "이다/다", "10이다"), ("100", "으로/로", "100으로"), ("1,000", "이다/다", "1,000이다"),
     ("28.7%", "이다/다", "28.7%다"), ("121 Mbps", "이다/다", "121 Mbps다"), ("0.9509", "이다/다", "0.9509다"),
     ("1위", "으로/로", "1위로"), ("서울", "이며/며", "서울이며"), ("공공데이터 개방", "으로/로", "공공데이터 개방으로"),
     ("도쿄", "이고/고", "도쿄고"), ("서울", "이고/고", "서울이고"), ("UN", "은/는", "UN은"), ("AI", "은/는", "AI는"),
     ("5G", "은/는", "5G는"), ("IoT", "이/가", "IoT가"),
     ("전자정부 발전 지수(UN)", "은/는", "전자정부 발전 지수(UN)는"),  # the gloss in brackets is skipped
     ("AI 스타트업 수(2013~2023년)", "이/가", "AI 스타트업 수(2013~2023년)가"),
     ("New York", "이다/다", "New York이다"), ("Hong Kong", "과/와", "Hong Kong과"),  # words read as words
     ("Beijing", "으로/로", "Beijing으로"), ("PitchBook", "이/가", "PitchBook이"), ("mVoting", "은/는", "mVoting은"),
     ("Paris", "은/는", "Paris는"), ("Seoul", "으로/로", "Seoul로"), ("", "은/는", "은(는)"),
     # a final t: 트 after a consonant or a vowel pair (부다페스트, 프랑크푸르트, 디트로이트), ㅅ after one vowel (인터넷, 스콧)
     ("Budapest", "은/는", "Budapest는"), ("Frankfurt", "으로/로", "Frankfurt로"), ("Detroit", "은/는", "Detroit는"),
     ("Kuwait", "으로/로", "Kuwait로"), ("Internet", "은/는", "Internet은"), ("Scott", "으로/로", "Scott으로"),
     # a unit symbol after a number is read as its name: 킬로미터, 미터, 킬로그램, 톤, 시간
     ("12.5km", "이다/다", "12.5km다"), ("3m", "은/는", "3m는"), ("5kg", "이다/다", "5kg이다"), ("5 kg", "은/는", "5 kg은"),
     ("5t", "은/는", "5t은"), ("3h", "이다/다", "3h이다"), ("100Mbps", "이다/다", "100Mbps다"),
     ("12km²", "이다/다", "12km²다"), ("4 m³", "으로/로", "4 m³로")],  # a superscript was a KeyError
)
def test_korean_particles_follow_the_preceding_sound(word, pair, expected):
    assert josa(word, pair) == expected


def test_ordinals():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]
    assert ordinal(3, "ko") == "3위" and ordinal(3, "ja") == "3位"


def test_names_lose_their_capital_inside_sentences_unless_proper_names():
    from aicity.i18n import lower_first

    assert lower_first("Technology infrastructure") == "technology infrastructure"
    assert lower_first("Corporate AI R&D and investment") == "corporate AI R&D and investment"
    assert lower_first("Safe Cities Index rank (EIU)") == "Safe Cities Index rank (EIU)"
    assert lower_first("AI talent") == "AI talent"


@pytest.mark.parametrize(("value", "text"), [(9630879.0, "9,630,879"), (99.09789, "99.09789"), (0.1 + 0.2, "0.3"),
                                             (1e-05, "0.00001"), (12345.678, "12,345.678")])
def test_values_show_as_published(value, text):
    from aicity.i18n import value_text

    assert value_text(value) == text


@pytest.mark.parametrize("text, message", [
    ("infrastructure=inf", "must be a finite number"),
    ("infrastructure=-1", "must be a finite number"),
    ("infrastructure=nan", "must be a finite number"),
    ("infrastructure=2e7", "from 0 to 1,000,000"),
    ("atlantis=1", "no code, alias or name 'atlantis'"),
    ("infrastructure", "is not CODE=WEIGHT"),
    ("infrastructure=0,industry=0,policy=0,trust=0,national=0", "have weight 0"),
])
def test_weights_are_checked_by_one_rule_for_cli_and_web(bundled, text, message):
    from typer.testing import CliRunner

    from aicity.cli import app
    from aicity.web import create_app

    with pytest.raises(InputError, match=message):
        parse_weights(bundled.framework, text)
    res = CliRunner().invoke(app, ["rank", "--weights", text])
    assert res.exit_code == 2 and message.split("'")[0] in " ".join(res.output.split()), res.output
    if "=" in text and "," not in text:
        from fastapi.testclient import TestClient

        key, value = text.split("=")
        number = {"inf": "1e999", "nan": "NaN"}.get(value, value)
        body = f'{{"weights": {{"{key}": {number}}}}}'
        client = TestClient(create_app())
        r = client.post("/api/rank", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422, r.text


def test_trends_keep_the_indicators_with_several_editions_and_say_so(tmp_path):
    """b has one edition: the trend is a trend of a alone and says so; thin data is named."""
    fw = {"index": {"code": "I"}, "groups": [{"code": "P", "parent": "I"}, {"code": "Q", "parent": "I"}],
          "indicators": [{"code": "a", "parent": "P"}, {"code": "b", "parent": "Q"}]}
    rows = [(u, "a", v, y) for u, v0 in (("X", 1), ("Y", 2)) for v, y in ((v0, 2020), (v0 + 1, 2021), (v0 + 2, 2022))]
    rows += [("X", "b", 5, 2022), ("Y", "b", 6, 2022)]
    path = tmp_path / "panel.csv"
    pd.DataFrame(rows, columns=["unit", "indicator", "value", "year"]).to_csv(path, index=False)
    t = build_trends(fw, path)
    assert t.framework.indicators == ["a"] and t.left_out == ["b"]
    assert t.years == [2020, 2021, 2022]
    notes = " ".join(t.caveats())
    assert "Trends use the 1 indicators measured in at least 2 editions (a); the other 1 have fewer editions" in notes
    assert "Thin data: a" in notes  # two units: fewer than 30 in an edition
    assert t.thin_years() == []  # both units measured every year (fewer than 30, but all of them)
    with pytest.raises(InputError, match=r"years \[2019\] come before 2020"):
        build_trends(fw, path, years=[2019, 2020])
    one = tmp_path / "one.csv"
    pd.DataFrame(rows[-2:], columns=["unit", "indicator", "value", "year"]).to_csv(one, index=False)
    with pytest.raises(InputError, match="no indicator has 2 editions"):
        build_trends(fw, one)
    flat = tmp_path / "flat.csv"
    pd.DataFrame({"unit": ["X", "Y"], "indicator": ["a", "a"], "value": [1, 2]}).to_csv(flat, index=False)
    with pytest.raises(InputError, match="trends need a 'year' column"):
        build_trends(fw, flat)


def test_a_year_few_units_were_measured_in_is_called_thin(tmp_path):
    fw = {"index": {"code": "I"}, "groups": [{"code": "P", "parent": "I"}], "indicators": [{"code": "a", "parent": "P"}]}
    rows = [(u, "a", 1.0 + i, y) for i, u in enumerate("XYZ") for y in (2020, 2022)] + [("X", "a", 5.0, 2021)]
    path = tmp_path / "panel.csv"
    pd.DataFrame(rows, columns=["unit", "indicator", "value", "year"]).to_csv(path, index=False)
    t = build_trends(fw, path)
    assert t.years == [2020, 2021, 2022]
    assert t.thin_years() == [(2021, 1)]  # Y and Z carried from 2020
    assert "Thin years: 2021 (1)" in " ".join(t.caveats())


def test_a_claim_in_an_unknown_language_is_an_error(tmp_path):
    from aicity.claims import load_claims
    from aicity.errors import InputError

    p = tmp_path / "claims.yaml"
    p.write_text("claims:\n  - {id: c, text: {en: X, kr: 엑스}, subject: SEL, other: TYO, expected: higher}\n", encoding="utf-8")
    with pytest.raises(InputError, match="claim 'c': text and note map languages .*unknown language\\(s\\) text: 'kr'"):
        load_claims(p)
