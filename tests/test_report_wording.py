"""The report's sentences where the data or the method is not the bundled index's: a unit
without a pillar score, no normalisation, equal weights, English unit words, only some inputs
varied, claims about another pair; each read in en, ko and ja (found by native readers)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import aicity
from aicity.errors import InputError
from aicity.i18n import number, rank_interval, rank_with_interval
from aicity.report import make_report

HDI = Path(__file__).resolve().parents[1] / "examples" / "hdi"
DAY = dt.date(2026, 12, 1)


def _text(rep) -> str:
    return " ".join(p for s in rep.sections for p in s.paragraphs)


@pytest.fixture(scope="module")
def hdi_without_norway_health(tmp_path_factory):
    """The HDI example with Norway's life expectancy and schooling removed: no health or
    knowledge score for Norway."""
    rows = pd.read_csv(HDI / "data.csv", dtype=str, keep_default_na=False)
    keep = ~((rows.unit == "NOR") & rows.indicator.isin(["le", "eys", "mys"]))
    path = tmp_path_factory.mktemp("hdi") / "data.csv"
    rows[keep].to_csv(path, index=False)
    return aicity.build(HDI / "framework.yaml", path, units=HDI / "units.csv")


def test_a_pillar_without_a_score_is_said_so_never_n_a(hdi_without_norway_health):
    result = hdi_without_norway_health
    expected = {
        "en": "Norway has no score (too little data).",
        "ko": "노르웨이는 자료가 부족해 점수가 없다",
        "ja": "ノルウェーはデータ不足のため得点がない",
    }
    for lang, said in expected.items():
        text = _text(make_report(result, "Switzerland", "Norway", lang, claims_path=False, today=DAY))
        assert said in text, (lang, text)
        assert "n/a" not in text and "자료 없음점" not in text and "データなし点" not in text
    # the unit without a score first: the clause ends the Korean way and the Japanese contrasts with は
    ko = _text(make_report(result, "Norway", "Switzerland", "ko", claims_path=False, today=DAY))
    assert "노르웨이는 자료가 부족해 점수가 없고, 스위스는 0.989점(2위)이다" in ko
    ja = _text(make_report(result, "Norway", "Switzerland", "ja", claims_path=False, today=DAY))
    assert "ノルウェーはデータ不足のため得点がなく、スイスは0.989点（2位）である" in ja


@pytest.fixture(scope="module")
def hdi():
    return aicity.build(HDI / "framework.yaml", HDI / "data.csv", units=HDI / "units.csv")


def test_an_english_unit_word_is_the_languages_own_word_or_none(hdi):
    """"84.25 years" stood in Korean and Japanese sentences; the framework's counter gives
    세/歳 and 년/年, and an English word with no counter is left out there."""
    ko = _text(make_report(hdi, "Switzerland", "Norway", "ko", claims_path=False, today=DAY))
    ja = _text(make_report(hdi, "Switzerland", "Norway", "ja", claims_path=False, today=DAY))
    en = _text(make_report(hdi, "Switzerland", "Norway", "en", claims_path=False, today=DAY))
    assert "스위스가 84.25세(2022년)" in ko and "16.58년(2022년)" in ko and "years" not in ko
    assert "スイスが84.25歳（2022年）" in ja and "16.58年（2022年）" in ja and "years" not in ja
    assert "84.25 years" in en
    from aicity.report import _value_with_unit

    assert _value_with_unit(3.5, "hours", "ko") == "3.5" and _value_with_unit(3.5, "hours", "en") == "3.5 hours"
    assert _value_with_unit(121.0, "Mbps", "ko") == "121Mbps"


def test_no_normalisation_and_equal_weights_are_written_as_such(tmp_path):
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text("pipeline:\n  normalize: none\n  aggregate: arithmetic\n  weights: equal\n", encoding="utf-8")
    result = aicity.build(HDI / "framework.yaml", HDI / "data.csv", pipeline, units=HDI / "units.csv")
    said = {lang: make_report(result, "Switzerland", "Norway", lang, claims_path=False, today=DAY) for lang in ("en", "ko", "ja")}
    en, ko, ja = (_text(r) + " ".join(r.footnotes.items) for r in said.values())
    assert "Indicators are not normalised" in en and "no normalisation and arithmetic means" in en and "equal weights" in en
    assert "지표는 정규화하지 않고" in ko and "정규화 없이 산술평균" in ko and "동일 가중치" in ko
    assert "各指標は正規化せず" in ja and "正規化なし、算術平均" in ja and "均等な重み" in ja
    for text in (ko, ja):
        assert "없음 정규화" not in text and "なし正規化" not in text and "equal" not in text


def test_the_intro_names_only_the_inputs_the_analysis_varied(hdi):
    ri = pd.DataFrame({"unit": ["CHE", "NOR"], "p05": [1.0, 1.0], "p95": [2.0, 2.0]})
    only_weights = {"weights": {"noise": 0.25, "levels": [1]}}
    said = {lang: _text(make_report(hdi, "Switzerland", "Norway", lang, claims_path=False, rank_intervals=ri, n_samples=200,
                                    uncertainty_inputs=only_weights, today=DAY)) for lang in ("en", "ko", "ja")}
    assert "Across 200 variations of the method (weights)," in said["en"]
    assert "가중치를 바꾼 200가지 변형에서" in said["ko"] and "정규화" not in said["ko"].split("변형에서")[0][-30:]
    assert "重み付けを変えた200通りの試算では" in said["ja"]
    three = {"weights": {"noise": 0.25}, "normalize": {"values": ["minmax"]}, "aggregate": {"values": ["arithmetic"]}}
    ko = _text(make_report(hdi, "Switzerland", "Norway", "ko", claims_path=False, rank_intervals=ri, n_samples=200,
                           uncertainty_inputs=three, today=DAY))
    assert "정규화와 가중치, 집계 방식을 바꾼 200가지 변형에서" in ko


def test_claims_are_shown_only_for_the_pair_they_compare():
    result = aicity.build()
    paris = make_report(result, "Paris", "London", "en", today=DAY)
    assert "essay" not in _text(paris) and not any(s.key == "claims" for s in paris.sections)
    seoul = make_report(result, "Tokyo", "Seoul", "en", today=DAY)  # either way round
    assert "The essay’s claim" in _text(seoul)


def test_a_claim_about_an_unknown_unit_is_an_error(tmp_path):
    claims = tmp_path / "claims.yaml"
    claims.write_text("claims:\n  - {id: x, text: {en: X}, subject: XXX, other: TYO, indicators: [cloud_regions], expected: higher}\n",
                      encoding="utf-8")
    with pytest.raises(InputError, match="claim 'x': unknown unit 'XXX'"):
        make_report(aicity.build(), "Seoul", "Tokyo", "en", claims_path=claims, today=DAY)


def test_numbers_and_rank_intervals_in_each_language():
    assert number(-0.04) == "0.0" and number(-0.06) == "-0.1"  # never "-0.0"
    assert [rank_interval(4, 7, lang) for lang in ("en", "ko", "ja")] == ["4–7", "4~7위", "4～7位"]
    assert rank_interval(3, 3, "ko") == "3위"
    assert [rank_with_interval(7, 5, 10, lang) for lang in ("en", "ko", "ja")] == ["7 (5–10)", "7위 (5~10위)", "7位（5～10位）"]
    assert rank_with_interval(7, float("nan"), float("nan"), "ja") == "7位"


def test_a_pdf_alone_leaves_no_html_behind(hdi, tmp_path, monkeypatch):
    """The PDF is printed from the HTML; asked for the PDF alone, report.html was written too."""
    import aicity.report as report

    printed = []
    monkeypatch.setattr(report, "print_pdf", lambda html, pdf: (printed.append(html.read_text(encoding="utf-8")[:15]),
                                                                  pdf.write_bytes(b"%PDF-1.4")))
    rep = make_report(hdi, "Switzerland", "Norway", "en", claims_path=False, today=DAY)
    written = rep.write(tmp_path / "out", ("pdf",))
    assert set(written) == {"pdf"} and printed and printed[0].lower().startswith("<!doctype html")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.pdf"]
