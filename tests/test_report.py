"""The narrative report in three languages, rendered and opened in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import aicity
from aicity.report import CHROMIUM_ARGS, make_report
from aicity.uncertainty import run_uncertainty


@pytest.fixture(scope="module")
def built():
    result = aicity.build()
    ua = run_uncertainty(samples=300, seed=3)
    from aicity.trends import build_trends

    return result, ua.rank_intervals(), build_trends()


@pytest.fixture(scope="module")
def reports(built):
    result, intervals, trends = built
    return {lang: make_report(result, "Seoul", "Tokyo", lang, rank_intervals=intervals, n_samples=300, trends=trends) for lang in ("en", "ko", "ja")}


def test_sections_follow_the_essay(reports):
    keys = [s.key for s in reports["en"].sections]
    assert keys[:5] == ["intro", "infrastructure", "industry", "policy", "trust"]
    assert "conclusion" in keys and "trends" in keys and keys[-1] == "method"
    assert reports["ko"].title == "AI 도시로서의 서울과 도쿄: 데이터로 본 비교"
    assert reports["ja"].title == "AI都市としてのソウルと東京：データで見る比較"


def test_every_footnote_marker_resolves_and_every_source_value_is_cited(reports):
    for rep in reports.values():
        text = " ".join(p for s in rep.sections for p in s.paragraphs)
        refs = {int(n) for n in re.findall(r"\[\[(\d+)\]\]", text)}
        assert refs == set(range(1, len(rep.footnotes.items) + 1))
        assert any(url and url.startswith("http") for url in rep.footnotes.urls)


def test_korean_and_japanese_read_without_template_leftovers(reports):
    ko = reports["ko"].markdown()
    ja = reports["ja"].markdown()
    assert "(는)" not in ko and "(가)" not in ko and "(를)" not in ko  # every particle resolved
    assert "서울은" in ko and "도쿄는" in ko
    body = ja.split("## 出典と注")[0]
    assert " rank" not in body and " points" not in body and "(는)" not in body  # no English scaffolding
    assert "。 " not in ja.split("## 出典と注")[0]  # Japanese sentences run on without spaces
    for rep in reports.values():
        assert "nan" not in rep.markdown().split("## ")[1]


def test_claims_are_checked_and_shown(reports):
    verdicts = reports["en"].verdicts
    assert len(verdicts) >= 8
    assert {v.verdict for v in verdicts} <= {"supported", "contradicted", "mixed", "not enough data", "tied"}
    assert any(v.verdict == "not enough data" for v in verdicts)
    assert "claim" in reports["en"].markdown()


def test_report_files(tmp_path, reports):
    written = reports["ko"].write(tmp_path, ("html", "md", "xlsx"))
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'lang="ko"' in html
    # plotly.js is embedded and nothing is fetched: the report works offline.
    assert not re.search(r"<script[^>]+src=", html) and not re.search(r"<link[^>]+href=\"http", html)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert all(f"[^{i}]:" in md for i in range(1, len(reports["ko"].footnotes.items) + 1))
    book = pd.read_excel(tmp_path / "report.xlsx", sheet_name=None)
    assert {"Comparison", "Contributions", "Claims", "Personas", "Sources", "Footnotes"} <= set(book)
    assert set(written) == {"html", "md", "xlsx"}


def test_unit_names_are_escaped_in_html(built, tmp_path):
    result, _, _ = built
    result.dataset.units.loc["SEL", "name_en"] = "<script>alert(1)</script>"
    try:
        html = make_report(result, "SEL", "TYO", "en", claims_path=False).html()
    finally:
        result.dataset.units.loc["SEL", "name_en"] = "Seoul"
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _chromium():
    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make test installs it)")


@pytest.mark.parametrize("lang", ["ko", "ja", "en"])
def test_report_opens_in_chromium_without_console_errors_and_prints(tmp_path, reports, lang):
    _chromium()
    from playwright.sync_api import sync_playwright

    reports[lang].write(tmp_path, ("html", "pdf"))
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((tmp_path / "report.html").as_uri())
        page.wait_for_function("window.reportReady === true", timeout=30_000)
        assert page.locator(".plotly-graph-div .main-svg").count() >= 4  # the figures were drawn
        page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
        browser.close()
    assert errors == []
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils' pdftotext is not installed (make test installs it)")
    text = subprocess.run(["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    expected = {"ko": "서울은", "ja": "ソウルは", "en": "Seoul"}[lang]
    assert expected in text
    assert {"ko": "기술 인프라", "ja": "技術インフラ", "en": "Technology infrastructure"}[lang] in text


ASEM = Path(__file__).resolve().parents[2] / "shared" / "data" / "coinr-asem"


@pytest.mark.skipif(not ASEM.is_dir(), reason="../shared/data/coinr-asem is absent: the report is not built for COINr's ASEM example")
@pytest.mark.parametrize("lang", ["en", "ko", "ja"])
def test_report_for_any_index_asem(tmp_path, lang):
    """The report on COINr's ASEM example: sections follow its pillars, values without a year
    show none, the method is written from the run's spec, and the default uncertainty inputs
    are said to be the default."""
    from typer.testing import CliRunner

    from aicity.cli import app

    out = tmp_path / lang
    res = CliRunner().invoke(app, [
        "report", "-f", str(ASEM / "ASEM_iMeta.csv"), "-d", str(ASEM / "ASEM_iData.csv"),
        "-p", str(Path(__file__).parent / "asem_pipeline.yaml"), "--compare", "AUT", "BEL", "--lang", lang,
        "--samples", "200", "--out", str(out), "--formats", "md,html"])
    assert res.exit_code == 0, res.output
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Connectivity" in md and "## Sustainability" in md  # the framework's pillar names
    assert "AI" not in md.split("\n")[0]  # no AI-city framing on another index
    words = {"en": ("group mean", "15 indicators winsorised", "default inputs", "51 ranked"),
             "ko": ("집단 평균", "윈저화한 지표는 15개", "기본 입력값", "평가 대상 51개"),
             "ja": ("グループ平均", "ウィンソライズしたのは15指標", "既定の入力", "51件の評価対象")}[lang]
    for w in words:
        assert w in md, w
    assert "None" not in md and "nan" not in md
    assert "Claim" not in md and "주장" not in md and "主張" not in md  # the essay's claims are not checked here
    assert 'id="claims-table"' not in (out / "report.html").read_text(encoding="utf-8")


def test_only_http_sources_become_links_in_a_report():
    import datetime as dt

    import pandas as pd

    import aicity
    from aicity.report import make_report

    fw = {"index": {"code": "IDX"}, "groups": [{"code": "P", "parent": "IDX"}],
          "indicators": [{"code": "a", "parent": "P"}, {"code": "b", "parent": "P"}]}
    rows = []
    for unit, a, b in (("X", 1, 2), ("Y", 2, 1), ("Z", 3, 3)):
        for code, v in (("a", a), ("b", b)):
            rows.append({"unit": unit, "indicator": code, "value": v, "source": "S",
                         "url": "javascript:alert(1)" if code == "a" else "https://example.org/b"})
    r = aicity.build(fw, pd.DataFrame(rows))
    page = make_report(r, "X", "Y", "en", today=dt.date(2026, 11, 30)).html()
    assert 'href="javascript' not in page and "javascript:alert(1)" in page  # shown, inert
    assert 'href="https://example.org/b"' in page


def _text(report) -> str:
    return "\n".join(p for s in report.sections for p in s.paragraphs)


def test_the_city_level_report_says_what_it_rests_on(reports, built):
    """Pillars say what they cannot measure, national figures are marked, the trend names the
    measures it rests on, and one first city for every persona is explained, not repeated."""
    result = built[0]
    fw = result.framework
    en, ko, ja = (_text(reports[lang]) for lang in ("en", "ko", "ja"))
    for lang, text in (("en", en), ("ko", ko), ("ja", ja)):
        for pillar in fw.pillars():
            if fw.node(pillar).limits:
                assert fw.node(pillar).limits[lang] in text, (lang, pillar)
    assert "national figure" in en and "국가 단위 수치" in ko and "国単位の数値" in ja
    assert "National figures sit only in their own pillar, National AI environment (20% of the index" in en
    assert "지수 가중치의 20%" in ko and "重みにして指数の20%" in ja
    trends = built[2]
    kept = len(trends.framework.indicators)
    assert f"rest on the {kept} indicators measured in several editions" in en
    assert f"{kept}개 지표" in ko and f"{kept}指標" in ja
    tops = {r["first_unit"] for r in reports["en"].tables["Personas"].to_dict("records")}
    if len(tops) == 1:
        name = result.dataset.unit_name(next(iter(tops)))
        assert f"{name} comes first for all {len(fw.personas)} readers" in en
        assert "관점마다 다른 이유로 1위가 된 것이 아니라" in ko and "視点ごとに別々の理由で首位になったのではなく" in ja


def test_a_gap_decided_by_a_one_measure_pillar_names_that_measure(built):
    """The introduction names the single measure when the pillar that decides the gap has one."""
    from aicity.compare import compare

    result = built[0]
    fw = result.framework
    single = {p for p in fw.pillars() if len(fw.leaves_under(p)) == 1}
    for other in result.units:
        if other == "SEL":
            continue
        contrib = compare(result, "SEL", other, "en").pillar_contributions()
        if contrib.abs().idxmax() in single:
            measure = fw.node(fw.leaves_under(contrib.abs().idxmax())[0])
            intro = make_report(result, "SEL", other, "en", claims_path=False).sections[0].paragraphs[0]
            assert f"a pillar that rests on one measure ({measure.name('en')[0].lower() + measure.name('en')[1:]})" in intro
            ko = make_report(result, "SEL", other, "ko", claims_path=False).sections[0].paragraphs[0]
            assert "한 가지 지표에만 의존한다" in ko
            return
    pytest.skip("no city's gap with Seoul is decided by a one-measure pillar in the bundled data")


def test_prose_states_values_at_a_readable_precision():
    from aicity.report import _pair_decimals, _prose_precision, _value_with_unit

    assert _prose_precision(770.854364) == 770.9 and _prose_precision(36.18) == 36.18
    assert _prose_precision(0.96789) == 0.9679 and _prose_precision(12) == 12
    assert _pair_decimals(1.465168, 0.835791) == 3  # 1.465 has 3 places, 0.8358 would have 4
    d = _pair_decimals(1.465168, 0.835791)
    assert (_value_with_unit(1.465168, None, "en", d), _value_with_unit(0.835791, None, "en", d)) == ("1.465", "0.836")
    assert _pair_decimals(3, 7) is None


def test_trends_read_as_each_language_writes_them(reports):
    """Momentum is a signed change (변화량, 変化量), volatility the spread of the yearly changes;
    one count of cities when both years rank as many; the speed-against-stability sentence is
    written; the chart's other cities are named in the report's language."""
    en, ko, ja = (_text(reports[lang]) for lang in ("en", "ko", "ja"))
    assert "의 부문 점수는 연평균" in ko and "변했고(모멘텀)" in ko and "지수 점수의 연간 변화는 표준편차" in ko and "변화 폭" not in ko
    assert "年平均変化量（モメンタム）" in ja and "指数得点の前年からの変化の標準偏差" in ja and "変化幅" not in ja
    assert not re.search(r"(\d+)개 도시 중 \d+위에서 \1개 도시 중", ko)
    assert not re.search(r"(\d+)都市中\d+位から\1都市中", ja)
    assert not re.search(r"of (\d+) ranked cities to \d+\w\w of \1\b", en)
    assert "faster-moving" in en and "빠르게 움직이는" in ko and "動きが速い" in ja
    for lang, osaka in (("ko", "오사카"), ("ja", "大阪")):
        names = {t.name for t in reports[lang].figures["trends"].data}
        assert osaka in names and "Osaka" not in names


def test_shared_ranks_are_said_to_be_shared():
    from aicity.report import English, Japanese, Korean

    c = {"name": "X", "sa": 100.0, "sb": 100.0, "ra": 1.0, "rb": 1.0, "fn_method": ""}
    assert Korean("서울", "도쿄").pillar(c).count("(공동 1위)") == 2
    assert Japanese("ソウル", "東京").pillar(c).count("（同率1位）") == 2
    assert English("Seoul", "Tokyo").pillar({**c, "name": "Infrastructure"}).count("(joint 1st)") == 2
    assert "공동" not in Korean("서울", "도쿄").pillar({**c, "rb": 2.0})


def test_a_ratio_of_two_periods_reads_as_so_many_times():
    from aicity.report import _value_with_unit

    unit = "ratio (2022-2023 over 2020-2021)"
    assert _value_with_unit(1.465, unit, "ko").endswith("배") and _value_with_unit(1.465, unit, "ja").endswith("倍")
    assert _value_with_unit(1.465, unit, "en").endswith(" times")


def test_the_workbook_speaks_the_report_language(reports):
    from aicity.messages import VERDICTS

    for lang in ("ko", "ja"):
        claims = reports[lang].tables["Claims"]
        assert set(claims["verdict"]) <= set(VERDICTS[lang].values())
        assert not claims["evidence"].str.contains("agrees").any()
    names = set(reports["ja"].tables["Rank intervals"]["unit_name"])
    assert "東京" in names and "Tokyo" not in names


def test_the_console_claims_table_is_in_the_report_language(tmp_path):
    from typer.testing import CliRunner

    from aicity.cli import app

    res = CliRunner().invoke(app, ["report", "--lang", "ko", "--samples", "50", "--formats", "md", "--out", str(tmp_path)],
                             env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "판정" in res.output and "Verdict" not in res.output and "Claims check" not in res.output


def test_a_citation_holding_a_slash_is_shown_whole_and_a_bare_file_path_by_its_name(reports):
    from aicity.report import Footnotes, _cite_value

    # every footnote of the bundled report quotes its source's text whole (it once kept only what
    # followed the last slash: "global-index.ai)" for the GIRAI report)
    items = " ".join(str(t) for t in reports["en"].footnotes.items)
    assert "Paper Copilot (papercopilot/paperlists), from the conferences' accepted-paper lists" in items
    assert "Global Index on Responsible AI 2024" in items and ", global-index.ai)" not in items
    fn = Footnotes()
    _cite_value(fn, {"publisher": "", "source": "/home/me/data/cities.csv", "year": None, "url": None}, "en")
    _cite_value(fn, {"publisher": "P", "source": "repo a/b, data/x.parquet; licence: CC BY 4.0", "year": 2024, "url": None}, "en")
    assert fn.items == ["cities.csv", "P, repo a/b, data/x.parquet; licence: CC BY 4.0 (2024)"]


def test_a_gap_reads_as_the_shown_scores_differ():
    """61.548 and 60.597 are shown as 61.5 and 60.6; their gap of 0.951 would read 1.0, which the
    shown scores contradict, so it takes one more decimal. 61.54 and 60.44: 1.1 either way."""
    from aicity.i18n import gap_digits
    from aicity.report import English, Japanese, Korean

    assert gap_digits(61.548, 60.597, 1) == 2 and gap_digits(61.54, 60.44, 1) == 1
    assert gap_digits(60.597, 61.548, 1) == 2 and gap_digits(10.0, 10.0, 1) == 1
    # a gap that is not nil never reads as 0: 60.04 and 60.0 are both shown as 60.0, the gap as 0.04
    assert gap_digits(60.04, 60.0, 1) == 2 and gap_digits(0.004, 0.0, 1) == 3 and gap_digits(0.0004, 0.0, 1) == 4
    assert "ahead by 0.04 points" in English("Seoul", "Tokyo").widest({"name": "Research", "gap": 0.04})
    c = {"index": "AICI", "sa": 61.548, "sb": 60.597, "ra": 6.0, "rb": 7.0, "n": 54, "gap": 0.951,
         "top_pillar": "Policy", "top_single": None, "fn_method": ""}
    assert "by 0.95 points" in " ".join(English("Seoul", "Tokyo").intro(c))
    assert "0.95점 앞서며" in " ".join(Korean("서울", "도쿄").intro(c))
    assert "0.95点上回っており" in " ".join(Japanese("ソウル", "東京").intro(c))
    assert "by 1.1 points" in " ".join(English("Seoul", "Tokyo").intro({**c, "sa": 61.54, "sb": 60.44, "gap": 1.1}))


def test_a_derived_sources_licence_label_is_in_the_report_language(reports):
    """The label the report puts before a derived value's licence is its own word; the licence
    text stays as the data gives it."""
    items = {lang: " ".join(reports[lang].footnotes.items) for lang in ("en", "ko", "ja")}
    assert "; licence: data CC BY 4.0" in items["en"]
    assert "; 이용 조건: data CC BY 4.0" in items["ko"] and "licence:" not in items["ko"]
    assert "; 利用条件：data CC BY 4.0" in items["ja"] and "licence:" not in items["ja"]
