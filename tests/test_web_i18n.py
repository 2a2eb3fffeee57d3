"""The explorer's pages as a Korean and a Japanese reader read them: ranks with 위 / 位, ranges
with ~ / ～, full-width brackets and colons in Japanese, particles that fit the name, labelled
numbers, values as published, and a 404 page in the page's language."""

from __future__ import annotations

import html
import json
import re
import string

import pytest
from fastapi.testclient import TestClient

from aicity.messages import LICENCE_LABELS, UI
from aicity.web import create_app

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), raise_server_exceptions=False)


def text(page: str) -> str:
    """What a reader sees: the page without its tags, scripts and chart data, spaces collapsed."""
    page = re.sub(r"(?s)<(script|title)\b.*?</\1>", " ", page)
    page = re.sub(r"data-(figure|points|weights)='[^']*'", "", page)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def get(client: TestClient, path: str, lang: str, **params: str) -> str:
    r = client.get(path, params={"lang": lang, **params})
    assert r.status_code == 200, (path, lang, r.text[:300])
    return text(r.text)


@pytest.fixture(scope="module")
def seoul(client):
    """Seoul's index rank, how many are ranked, and its 90 % rank interval, from the API."""
    prof = client.get("/api/profile/SEL").json()
    row = next(r for r in prof["scores"] if r["level"] == max(s["level"] for s in prof["scores"]))
    return int(row["rank"]), int(row["of"]), int(row["rank_p05"]), int(row["rank_p95"])


# -- the messages ---------------------------------------------------------------------------------


def test_every_message_has_the_same_placeholders_in_every_language():
    """A message's {placeholders} (what the page fills in) are the same in en, ko and ja."""
    def fields(message: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(message) if name}

    filled = [key for key, message in UI["en"].items() if isinstance(message, str) and fields(message)]
    for key in filled:
        assert fields(UI["ko"][key]) == fields(UI["en"][key]) == fields(UI["ja"][key]), key
    assert {"rank_of", "coverage", "compare_title", "favours"} <= set(filled)


def test_wording_writes_ranks_ranges_brackets_and_labels_per_language():
    from aicity.web.render import Wording

    en, ko, ja = Wording("en"), Wording("ko"), Wording("ja")
    assert (en.rank_of(6, 54), ko.rank_of(6.0, 54), ja.rank_of(6, 54)) == ("6th of 54", "54개 도시 중 6위", "54都市中6位")
    assert (en.rank_of(None, 54), ko.rank_of(None, 54)) == ("unranked", "순위 없음")
    assert (en.rank_range(4, 7), ko.rank_range(4.0, 7.0), ja.rank_range(4, 7)) == ("4–7", "4~7위", "4～7位")
    assert (en.rank_range(1, 1), ko.rank_range(1, 1), ja.rank_range(1, 1)) == ("1", "1위", "1位")
    assert (en.score_rank(62.94, 6), ko.score_rank(62.94, 6), ja.score_rank(62.94, 6)) == ("62.9 (6th)", "62.9 (6위)", "62.9（6位）")
    assert (en.label("a", 1), ko.label("a", 1), ja.label("指標", 1)) == ("a: 1", "a: 1", "指標：1")
    assert (ko.paren("서울", "SEL"), ja.paren("ソウル", "SEL"), ja.paren("ソウル", "")) == ("서울 (SEL)", "ソウル（SEL）", "ソウル")
    assert (en.ranked_name(6, "Seoul"), ko.ranked_name(6, "서울"), ja.ranked_name(6, "ソウル")) == ("6. Seoul", "6위 서울", "6位 ソウル")
    assert (en.value_year(21794000.0, 2020.0), ko.value_year(3, 2025), ja.value_year(0.5, None)) == ("21,794,000, 2020", "3, 2025년", "0.5")
    assert ko.say("compare_title", a="서울", b="도쿄") == "서울과 도쿄 비교"  # the particle follows the name
    assert ko.say("compare_title", a="도쿄", b="서울") == "도쿄와 서울 비교"
    assert ko.say("no_unit", name=ko.quote("XXX")) == "이 지수에는 ‘XXX’라는 도시가 없다."
    assert ko.say("no_unit", name=ko.quote("Seoul")) == "이 지수에는 ‘Seoul’이라는 도시가 없다."
    assert en.gap(72.24, 72.67) == "-0.43" and en.gap(100.0, 100.0) == "0.0"  # the gap agrees with the scores shown


def test_the_licence_label_is_written_with_a_full_width_colon_in_japanese():
    assert LICENCE_LABELS["ja"] == "利用条件：" and LICENCE_LABELS["ko"] == "이용 조건: "


# -- 1. a national figure reads once ----------------------------------------------------------------


@pytest.mark.parametrize(("lang", "expected"), [
    ("ko", "국가 수치로 대체 (한국)"), ("ja", "国の数値で代用（韓国）"), ("en", "national figure (Republic of Korea)"),
])
def test_a_national_figure_names_its_country_once(client, lang, expected):
    for page in (get(client, "/city/SEL", lang), get(client, "/data", lang, indicator="girai_score")):
        assert expected in page
        assert not re.search(r"(국가|国|country) (국가|国の|national)", page)  # never "국가 국가 수치로 대체"
        assert "Republic of Korea" not in page or lang == "en"


# -- 2. the data page ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "show", "every", "population"), [
    ("en", "Show", "All indicators", "Population (built-up urban area)"),
    ("ko", "보기", "전체 지표", "인구(연속 시가지)"),
    ("ja", "表示", "すべての指標", "人口（連続市街地）"),
])
def test_the_data_page_speaks_the_page_language(client, lang, show, every, population):
    raw = client.get("/data", params={"lang": lang}).text
    assert f'<button type="submit">{show}</button>' in raw and ">OK<" not in raw
    assert f'<option value="">{every}</option>' in raw
    assert f"<td>{population}</td>" in raw and "<td>population</td>" not in raw  # a context variable by its name
    assert f'<option value="population" >{population}</option>' in raw  # and it can be chosen
    assert ">21,794,000<" in raw and "21794000" not in raw
    assert not re.search(r'class="num">-?[0-9,]+\.0<', raw)  # 0, 1, not 0.0, 1.0


# -- 3. ranks with their rank word ---------------------------------------------------------------------


def test_ranks_carry_their_rank_word(client, seoul):
    rank, of, low, high = seoul
    assert f"{of}개 도시 중 {rank}위" in get(client, "/city/SEL", "ko")
    assert f"{of}都市中{rank}位" in get(client, "/city/SEL", "ja")
    assert f" of {of}" in get(client, "/city/SEL", "en") and f"{rank} / {of}" not in get(client, "/city/SEL", "en")
    assert f"{low}~{high}위" in get(client, "/city/SEL", "ko") and f"{low}～{high}位" in get(client, "/city/SEL", "ja")
    assert f"{low}–{high}" in get(client, "/city/SEL", "en")
    ranking = client.get("/", params={"lang": "ko"}).text
    assert f'aria-label="순위 구간(5~95%): {low}~{high}위"' in ranking and f">{low}~{high}위<" in ranking
    assert f">{low}～{high}位<" in client.get("/", params={"lang": "ja"}).text
    strengths = get(client, "/city/SEL", "ja")
    assert re.search(r"：\d+都市中\d+位（[0-9.,]+、\d{4}年）", strengths)  # a strength: its rank, value and year
    assert re.search(r": \d+개 도시 중 \d+위 \([0-9.,]+, \d{4}년\)", get(client, "/city/SEL", "ko"))


def test_the_compare_page_shows_a_rank_word_and_a_real_title(client, seoul):
    rank = seoul[0]
    ko = get(client, "/compare", "ko", a="SEL", b="TYO")
    ja = get(client, "/compare", "ja", a="SEL", b="TYO")
    en = get(client, "/compare", "en", a="SEL", b="TYO")
    assert re.search(rf"\d+\.\d \({rank}위\)", ko) and re.search(rf"\d+\.\d（{rank}位）", ja) and re.search(rf"\d+\.\d \({rank}th\)", en)
    assert "서울과 도쿄 비교" in ko and "도쿄와 서울 비교" in get(client, "/compare", "ko", a="TYO", b="SEL")
    assert "ソウルと東京の比較" in ja and "Seoul and Tokyo compared" in en
    assert "서울에 유리한 지표" in ko and "도쿄에 유리한 지표" in ko and "서울 +" not in ko
    assert "ソウルに有利な指標" in ja and "What favours Tokyo" in en
    raw = client.get("/compare", params={"lang": "ja", "a": "SEL", "b": "TYO"}).text
    assert "<title>ソウルと東京の比較</title>" in raw


def test_the_compare_page_lists_the_cities_in_the_same_order_in_every_language(client):
    def codes(lang: str) -> list[str]:
        page = client.get("/compare", params={"lang": lang}).text
        select = page[page.index('<select id="a"'):page.index("</select>")]
        return re.findall(r'<option value="([^"]+)"', select)

    assert codes("en") == codes("ko") == codes("ja")
    ex = client.app.state.explorer
    assert codes("ja") == [r["unit"] for r in ex.ranking(ex.result, "en") if r["rank"] is not None]  # not katakana before kanji


def test_the_map_tooltip_speaks_the_page_language(client, seoul):
    def labels(lang: str) -> list[str]:
        page = client.get("/map", params={"lang": lang}).text
        return [p["label"] for p in json.loads(html.unescape(re.search(r"data-points='([^']*)'", page).group(1)))]

    ko, ja, en = labels("ko"), labels("ja"), labels("en")
    assert re.fullmatch(r"1위 \S.*: \d+\.\d", ko[0]) and re.fullmatch(r"1位 \S.*：\d+\.\d", ja[0]), (ko[0], ja[0])
    assert re.fullmatch(r"1\. \S.*: \d+\.\d", en[0]), en[0]
    rank = seoul[0]
    assert any(s.startswith(f"{rank}위 서울: ") for s in ko) and any(s.startswith(f"{rank}位 ソウル：") for s in ja)


# -- 4. the city page's coverage line -------------------------------------------------------------------


def test_the_coverage_line_says_what_it_counts(client):
    prof = client.get("/api/profile/SEL").json()
    present, of, missing = prof["coverage"]["present"], prof["coverage"]["of"], len(prof["coverage"]["missing"])
    assert f"지표 {of}개 중 {present}개 · 결측 지표 {missing}개" in get(client, "/city/SEL", "ko")
    assert f"データのある指標：{present}/{of}、欠損指標：{missing}" in get(client, "/city/SEL", "ja")
    assert f"{present} of {of} indicators · missing: {missing}" in get(client, "/city/SEL", "en")


# -- 6. the build page's weights as they are ----------------------------------------------------------


def test_a_half_weight_is_shown_and_set_as_a_half(client):
    import aicity

    fw = aicity.load_framework(None)
    halves = [p for p in fw.pillars() if fw.node(p).weight == 0.5]
    assert halves, "the bundled framework weighs a pillar 0.5"
    raw = client.get("/build").text
    for code in halves:
        slider = re.search(rf'<input type="range" id="w-{code}"[^>]*>', raw).group(0)
        assert 'value="0.5"' in slider, slider
        step = float(re.search(r'step="([^"]+)"', slider).group(1))
        assert abs(0.5 / step - round(0.5 / step)) < 1e-9, step  # the slider can hold 0.5
        assert f'<output id="o-{code}" for="w-{code}">0.5</output>' in raw


def test_the_slider_step_holds_every_weight_it_is_set_to():
    from aicity.web.routers.pages import slider_scale

    assert slider_scale([1.0, 2.0, 3.0]) == (1.0, 5)
    assert slider_scale([0.5, 2.0, 1.0]) == (0.5, 5)
    assert slider_scale([0.25, 1.0]) == (0.05, 5)
    assert slider_scale([1 / 3, 1.0]) == ("any", 5)
    assert slider_scale([0.5, 8.0]) == (0.5, 8.0)


def test_a_persona_preset_carries_all_its_weights(client):
    """A persona weighs sub-pillars too (the entrepreneur's startups 3): its preset carries them,
    so the live ranking is the persona's."""
    import aicity

    fw = aicity.load_framework(None)
    raw = client.get("/build").text
    presets = [json.loads(html.unescape(w)) for w in re.findall(r"data-weights='([^']*)'", raw)]
    assert {k: float(v) for k, v in fw.personas["entrepreneur"].weights.items()} in presets
    persona = client.post("/api/rank", json={"persona": "entrepreneur"}).json()
    sent = client.post("/api/rank", json={"weights": dict(fw.personas["entrepreneur"].weights)}).json()
    assert persona["score"] == sent["score"]


# -- 7. Japanese punctuation ------------------------------------------------------------------------------

JAPANESE = r"[\u3040-\u30ff\u4e00-\u9fff]"


@pytest.mark.parametrize("path", ["/", "/city/SEL", "/city/TYO", "/compare", "/build", "/data", "/map"])
def test_japanese_pages_write_full_width_brackets_and_colons(client, path):
    page = get(client, path, "ja")
    assert not re.search(rf"{JAPANESE} ?[(:)]|[(:] ?{JAPANESE}", page), re.findall(rf".{{0,20}}{JAPANESE} ?[(:)].{{0,20}}", page)[:5]


def test_the_city_page_brackets_its_code_and_counts_in_the_page_language(client):
    assert '<h1>ソウル<span class="muted">（SEL）</span></h1>' in client.get("/city/SEL", params={"lang": "ja"}).text
    assert '<h1>서울<span class="muted"> (SEL)</span></h1>' in client.get("/city/SEL", params={"lang": "ko"}).text
    assert "数えた対象の一覧（12件）" in get(client, "/city/TYO", "ja")
    assert "집계 대상 목록 (28개)" in get(client, "/city/SEL", "ko")
    assert "Gangnam-gu、" in get(client, "/city/SEL", "ja")  # a Japanese list is separated by 、


# -- 8. a page that is not there -------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "lang", "heading", "message"), [
    ("/city/XXX", "ko", "페이지를 찾을 수 없다", "이 지수에는 ‘XXX’라는 도시가 없다."),
    ("/city/XXX", "ja", "ページが見つからない", "この指数に「XXX」という都市はない。"),
    ("/city/XXX", "en", "Page not found", "There is no city “XXX” in this index."),
    ("/compare?a=SEL&b=Nowhere", "ko", "페이지를 찾을 수 없다", "이 지수에는 ‘Nowhere’라는 도시가 없다."),
    ("/data?indicator=NOPE", "ja", "ページが見つからない", "この指数に「NOPE」という指標はない。"),
    ("/no-such-page", "ko", "페이지를 찾을 수 없다", "이 주소에는 페이지가 없다."),
])
def test_a_browser_asking_for_a_missing_page_gets_a_page_in_its_language(client, path, lang, heading, message):
    sep = "&" if "?" in path else "?"
    r = client.get(f"{path}{sep}lang={lang}", headers=BROWSER)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in r.text and f"<h1>{heading}</h1>" in r.text and message in text(r.text)
    assert f'href="/?lang={lang}"' in r.text  # back to the ranking, in the same language
    assert "content-security-policy" in r.headers


def test_a_screened_out_unit_gets_a_page_that_says_so(tmp_path):
    """A unit screened out of the build (too little data) is named in the page's language."""
    import pandas as pd
    import yaml

    fw = {"index": {"code": "I", "names": {"en": "Test index"}},
          "groups": [{"code": "G", "parent": "I"}], "indicators": [{"code": c, "parent": "G"} for c in "abcd"]}
    data = pd.DataFrame({"uCode": ["X", "Y", "Z", "W"], "uName": ["Ex", "Why", "Zed", "Seoul"],
                         "a": [1.0, 2.0, 3.0, None], "b": [3.0, 1.0, 2.0, None], "c": [1.0, 2.0, 2.0, None], "d": [2.0, 1.0, 3.0, 4.0]})
    (tmp_path / "fw.yaml").write_text(yaml.safe_dump(fw), encoding="utf-8")
    data.to_csv(tmp_path / "d.csv", index=False)
    c = TestClient(create_app(tmp_path / "fw.yaml", tmp_path / "d.csv", pipeline={"screen": {"min_coverage": 0.5}}),
                   raise_server_exceptions=False)
    assert "screened out" in c.get("/api/profile/W").json()["detail"]
    r = c.get("/city/W?lang=ko", headers=BROWSER)
    assert r.status_code == 404 and "Seoul은 자료가 부족해 순위에서 제외되었다." in text(r.text)
    assert "is not ranked" in text(c.get("/city/W", headers=BROWSER).text)


def test_only_a_browser_asking_for_a_page_gets_a_page(client):
    """Scripts keep the JSON errors everywhere, and the API and static files answer JSON even
    to a browser."""
    assert client.get("/city/XXX?lang=ko", headers=BROWSER).headers["content-type"].startswith("text/html")
    for path in ("/city/XXX?lang=ko", "/api/profile/XXX?lang=ko", "/data?indicator=NOPE"):
        for headers in ({}, {"Accept": "application/json"}, {"Accept": "*/*"}):
            r = client.get(path, headers=headers)
            assert r.status_code == 404 and r.json()["detail"].startswith("no "), (path, headers)
    for path in ("/api/profile/XXX", "/static/none-such.js"):
        r = client.get(path, headers=BROWSER)
        assert r.status_code == 404 and r.json()["detail"], path


# -- the language links ------------------------------------------------------------------------------------


def test_the_language_links_keep_the_page_query(client):
    raw = client.get("/compare", params={"a": "OSA", "b": "SEL", "lang": "ko"}).text
    assert 'href="?a=OSA&amp;b=SEL&amp;lang=ja"' in raw
    raw = client.get("/data", params={"indicator": "girai_score"}).text
    assert 'href="?indicator=girai_score&amp;lang=ko"' in raw
    assert 'href="?lang=ja"' in client.get("/", params={"lang": "ko"}).text
