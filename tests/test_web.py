"""REST API, security rules, and the explorer driven in Debian's Chromium."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import aicity
from aicity.personas import persona_weights, reweight
from aicity.web import MAX_BODY_BYTES, create_app
from tests.conftest import loopback_server

TOKEN = "test-token-0123456789"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(store=tmp_path_factory.mktemp("store") / "runs.duckdb", token=TOKEN)


@pytest.fixture(scope="module")
def client(app):
    return TestClient(app, raise_server_exceptions=False)


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_read_endpoints(client):
    fw = client.get("/api/framework").json()
    assert fw["index"] == "AICI" and fw["pillars"] == ["INFRA", "INDUSTRY", "POLICY", "TRUST", "NATIONAL"]
    units = client.get("/api/units").json()
    assert {"SEL", "TYO"} <= {u["unit"] for u in units}
    inds = client.get("/api/indicators").json()
    assert all(v["url"] for ind in inds for v in ind["values"])
    res = client.get("/api/results", params={"level": 4}).json()
    assert res["codes"] == ["AICI"]
    prof = client.get("/api/profile/서울", params={"lang": "ko"}).json()
    assert prof["unit"] == "SEL" and prof["name"] == "서울" and prof["sources"]
    comp = client.get("/api/compare", params={"a": "Seoul", "b": "東京"}).json()
    assert abs(sum(c["contribution"] for c in comp["contributions"]) - comp["gap"]) < 1e-9
    assert {p["code"] for p in client.get("/api/personas").json()} == {"entrepreneur", "policymaker", "citizen", "researcher"}
    ua = client.get("/api/uncertainty", params={"samples": 200}).json()
    assert len(ua["rank_intervals"]) > 10
    assert client.get("/api/profile/Atlantis").status_code == 404
    docs = client.get("/docs")
    assert docs.status_code == 200 and client.get("/openapi.json").json()["info"]["title"] == "AI City Index"


def test_rank_equals_a_build_with_those_weights(client):
    result = aicity.build()
    for persona in ("entrepreneur", "researcher"):
        body = client.post("/api/rank", json={"persona": persona, "pillars": True}).json()
        expected = reweight(result, persona_weights(result.framework, persona))
        got = dict(zip(body["units"], body["score"], strict=True))
        for unit, score in expected.index_scores.items():
            assert (np.isnan(score) and got[unit] is None) or abs(got[unit] - score) <= 1e-9 * max(1.0, abs(score))
        ranks = dict(zip(body["units"], body["rank"], strict=True))
        assert all(ranks[u] == expected.ranks.at[u, "AICI"] for u in body["units"])
        best_first = [body["units"][i] for i in body["order"]]
        assert best_first[0] == expected.ranking().index[0]
        np.testing.assert_allclose(body["pillars"]["INFRA"], [expected.scores.at[u, "INFRA"] for u in body["units"]], rtol=1e-9)
    custom = client.post("/api/rank", json={"weights": {"infrastructure": 3, "TRUST": 0}}).json()
    assert custom["weights"] == {"INFRA": 3.0, "TRUST": 0.0}


@pytest.mark.parametrize(
    "body",
    [{"weights": {"INFRA": -1}}, {"weights": {"nope": 1}}, {"persona": "nobody"}, {"persona": "citizen", "weights": {"INFRA": 1}},
     {"weights": {"INFRA": 0, "INDUSTRY": 0, "POLICY": 0, "TRUST": 0, "NATIONAL": 0}}, {"weights": {"INFRA": 1e300}}, {"lang": "fr"}],
)
def test_rank_rejects_bad_requests_with_4xx(client, body):
    r = client.post("/api/rank", json=body)
    assert 400 <= r.status_code < 500, r.text
    assert "Traceback" not in r.text


def test_whatif_equals_the_python_api(client):
    from aicity.whatif import whatif

    body = client.post("/api/whatif", json={"unit": "Tokyo", "changes": {"pitchbook_startup_pctl": 100}}).json()
    after = whatif(aicity.build(), "TYO", {"pitchbook_startup_pctl": 100})
    index_row = next(r for r in body["changes"] if r["code"] == "AICI")
    assert abs(index_row["score_after"] - after.index_scores["TYO"]) < 1e-12


def test_sample_counts_are_limited(client):
    assert client.get("/api/uncertainty", params={"samples": 10_000_000}).status_code == 422


def test_writes_need_the_token(client):
    data = b"unit,indicator,value\nSEL,pitchbook_startup_pctl,3\n"
    assert client.post("/api/datasets?name=x", content=data).status_code == 401
    assert client.post("/api/datasets?name=x", content=data, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post("/api/builds", json={"dataset": "x"}).status_code == 401


def test_writes_are_refused_when_no_token_was_set(tmp_path):
    closed = TestClient(create_app(store=tmp_path / "s.duckdb", token=""))
    r = closed.post("/api/datasets?name=x", content=b"unit,indicator,value\n", headers={"Authorization": "Bearer "})
    assert r.status_code == 403 and "AICITY_TOKEN" in r.json()["detail"]


def test_uploads_are_validated_versioned_and_built(client):
    good = open(aicity.bundled.data_path(), "rb").read()
    first = client.post("/api/datasets?name=cities", content=good, headers=AUTH)
    second = client.post("/api/datasets?name=cities", content=good, headers=AUTH)
    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["version"], second.json()["version"]) == (1, 2)  # never overwritten
    bad = client.post("/api/datasets?name=cities", content=b"unit,indicator,value\nSEL,nope,abc\n", headers=AUTH)
    assert bad.status_code == 422
    problems = bad.json()["problems"]
    assert {"file": "upload 'cities'", "row": 2, "column": "value", "reason": "text 'abc' in a number column (numbers are written like 1000, -2.5 or 1.2e3)"} in problems
    built = client.post("/api/builds", json={"dataset": "cities", "version": 1, "label": "v1"}, headers=AUTH)
    assert built.status_code == 201 and built.json()["version"] == 1
    runs = client.get("/api/runs").json()
    assert any(r["run_id"] == built.json()["run_id"] for r in runs)
    assert client.post("/api/builds", json={"dataset": "cities", "version": 9}, headers=AUTH).status_code == 404
    assert client.post("/api/datasets?name=../etc", content=good, headers=AUTH).status_code == 422


def test_request_size_is_limited(client):
    big = b"x" * (MAX_BODY_BYTES + 10)
    assert client.post("/api/datasets?name=big", content=big, headers=AUTH).status_code == 413
    assert client.post("/api/rank", content=b"{" + b" " * (MAX_BODY_BYTES + 10) + b"}", headers={"Content-Type": "application/json"}).status_code == 413


def test_html_escapes_names_and_values(tmp_path):
    values = tmp_path / "values.csv"
    values.write_text("unit,indicator,value\nEVIL,pitchbook_startup_pctl,3\nSEL,pitchbook_startup_pctl,5\nTYO,pitchbook_startup_pctl,9\n")
    units = tmp_path / "units.csv"
    units.write_text('code,name_en,region\nEVIL,<script>alert(1)</script>,"<b>x</b>"\nSEL,Seoul,East Asia\nTYO,Tokyo,East Asia\n')
    c = TestClient(create_app(aicity.bundled.framework_path(), values, units=units, store=tmp_path / "s.duckdb", pipeline={"normalize": "minmax"}))
    for path in ("/", "/data", "/map", "/build", "/city/EVIL"):
        page = c.get(path).text
        assert "<script>alert(1)</script>" not in page and "<b>x</b>" not in page, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in c.get("/").text


def test_cors_is_closed_by_default_and_errors_have_no_traces(tmp_path):
    app = create_app(store=tmp_path / "s.duckdb")
    c = TestClient(app, raise_server_exceptions=False)
    r = c.get("/api/framework", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in {k.lower() for k in r.headers}
    app.state.explorer.result = None  # any unexpected failure
    broken = c.get("/api/results")
    assert broken.status_code == 500 and broken.json() == {"detail": "internal error"}


def test_openapi_fuzzing_finds_no_server_error(app):
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures, calls = [], []
    for op in schema.get_all_operations():
        operation = op.ok()
        if operation.path in ("/api/datasets", "/api/builds"):
            continue  # writes are covered above; fuzzing them would fill the store

        def fuzz(operation):
            @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            @given(case=operation.as_strategy())
            def run(case):
                response = case.call()
                calls.append(operation.path)
                if response.status_code >= 500:
                    failures.append((operation.path, case.path_parameters, case.query, response.status_code))

            return run

        fuzz(operation)()
    assert failures == []
    assert len(set(calls)) >= 10 and len(calls) >= 100  # every read endpoint was exercised


# -- the explorer in a real browser -----------------------------------------------------------


@pytest.fixture(scope="module")
def server(app):
    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    with loopback_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from aicity.report import CHROMIUM_ARGS

    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _page(browser, errors, width=1200):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def test_explorer_in_chromium(server, browser, tmp_path):
    errors: list[str] = []
    page = _page(browser, errors)
    page.goto(server + "/")
    page.wait_for_function("window.explorerReady === true")
    rows = page.locator("#ranking tbody tr")
    assert rows.count() >= 20
    # sort by score, ascending: the weakest city comes first
    page.click("button[data-sort=score]")
    first_scores = [float(x) for x in page.locator("#ranking tbody tr").evaluate_all("rs => rs.slice(0, 3).map(r => r.dataset.score)")]
    assert first_scores == sorted(first_scores)
    page.select_option("#region", "East Asia")
    visible = page.locator("#ranking tbody tr:visible")
    assert 0 < visible.count() < rows.count()
    # a profile
    page.goto(server + "/?lang=en")
    page.click("text=Seoul")
    page.wait_for_url("**/city/SEL**")
    assert page.locator("h1").inner_text().startswith("Seoul")
    # compare: radar and waterfall drawn
    page.goto(server + "/compare?a=SEL&b=TYO")
    page.wait_for_function("window.explorerReady === true")
    page.wait_for_selector("#radar .main-svg")
    page.wait_for_selector("#waterfall .main-svg")
    # language switch
    page.click("a[data-lang=ko]")
    page.wait_for_function("document.documentElement.lang === 'ko'")
    assert "순위" in page.locator("nav").first.inner_text()
    # the offline map draws its coastlines from the local topojson
    page.goto(server + "/map")
    page.wait_for_selector("#map .geo path")
    page.screenshot(path=str(tmp_path / "map.png"))
    assert errors == []


def test_sliders_reorder_the_ranking_live(server, browser):
    errors: list[str] = []
    page = _page(browser, errors)
    page.goto(server + "/build")
    page.wait_for_function("window.explorerReady === true")
    before = page.locator("#live tbody tr").evaluate_all("rs => rs.map(r => r.dataset.unit)")
    for code, value in (("INFRA", "0"), ("INDUSTRY", "0"), ("TRUST", "5")):
        page.locator(f"#w-{code}").fill(value)
    page.wait_for_function(f"JSON.stringify(Array.from(document.querySelectorAll('#live tbody tr')).map(r => r.dataset.unit)) !== {before!r}".replace("'", "'"))
    after = page.locator("#live tbody tr").evaluate_all("rs => rs.map(r => r.dataset.unit)")
    assert after != before and sorted(after) == sorted(before)
    ms = int(page.locator("#timing").inner_text().split()[0])
    assert ms >= 0
    page.click("button.preset >> nth=0")  # a persona preset moves the sliders
    page.wait_for_function("document.querySelector('#w-INDUSTRY').value === '3'")
    assert errors == []


def test_presets_send_the_weights_as_they_are(server, browser):
    """The framework's 0.5 is set and sent as 0.5 (not rounded to 1 or cut to 0), and a
    persona's preset sends its sub-pillar weights too: the live ranking is the persona's."""
    import json

    import aicity

    errors: list[str] = []
    page = _page(browser, errors)
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data)["weights"]) if r.url.endswith("/api/rank") else None)
    page.goto(server + "/build?lang=ja")
    page.wait_for_function("window.explorerReady === true")
    fw = aicity.load_framework(None)
    halves = [p for p in fw.pillars() if fw.node(p).weight == 0.5]
    assert halves and all(page.locator(f"#w-{p}").input_value() == "0.5" for p in halves)  # as rendered
    with page.expect_response("**/api/rank"):
        page.click("#reset")
    assert {p: sent[-1][p] for p in halves} == dict.fromkeys(halves, 0.5)
    assert all(page.locator(f"#o-{p}").inner_text() == "0.5" for p in halves)
    entrepreneur = fw.personas["entrepreneur"]
    with page.expect_response("**/api/rank"):
        page.click(f"button.preset[title='{entrepreneur.why('ja')}']")
    assert sent[-1] == {k: float(v) for k, v in entrepreneur.weights.items()}
    expected = persona_weights(fw, "entrepreneur")
    ranked = reweight(aicity.build(), expected).ranking()
    page.wait_for_function(f"document.querySelector('#live tbody tr').dataset.unit === {ranked.index[0]!r}")
    assert errors == []


def test_the_map_tooltip_is_in_the_page_language(server, browser):
    errors: list[str] = []
    page = _page(browser, errors)
    page.goto(server + "/map?lang=ko")
    page.wait_for_selector("#map .geo path")
    texts = page.evaluate("document.getElementById('map').data[0].text")
    assert texts[0].startswith("1위 ") and any(t.split(" ", 1)[1].startswith("서울: ") and t.split(" ")[0].endswith("위") for t in texts)
    assert errors == []


def test_phone_width_and_keyboard(server, browser):
    errors: list[str] = []
    page = _page(browser, errors, width=390)
    page.goto(server + "/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1") or page.locator(".scroll").count() > 0
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "A"
    assert errors == []


def test_city_page_draws_the_tree_and_values_as_published(client):
    html = client.get("/city/SEL?lang=en").text
    order = [html.index(name) for name in ("Technology infrastructure", "Industry ecosystem", "Startups and scale-ups", "Corporate R&amp;D and patents")]
    assert order == sorted(order), "each pillar is followed by its own sub-pillars"
    assert "21,794,000" in html and "21794000.0" not in html  # Seoul's population, as published
    assert ">Population (built-up urban area)<" in html  # a context variable by its name, not its code
    assert "national figure" in html  # a national value is marked as one


def test_city_page_lists_the_names_a_distinct_count_counted(client):
    """Seoul's 28 local governments with an open-data API are listed on its page, name by name,
    in the page's language; a list is shown only where it is as many as the value shown."""
    from aicity.derive import counted_values

    html = client.get("/city/SEL?lang=en").text
    assert "Counted, name by name (28)" in html and "Gangnam-gu" in html and "Seoul Metropolitan Government" in html
    assert "집계 대상 목록 (28개)" in client.get("/city/SEL?lang=ko").text
    assert "数えた対象の一覧（12件）" in client.get("/city/TYO?lang=ja").text
    assert len(counted_values("open_data_portal_owners", "SEL", 2026, 28.0)) == 28
    assert counted_values("open_data_portal_owners", "SEL", 2026, 27.0) == []  # another value: no list
    assert counted_values("open_data_portal_owners", "SEL", 2025, 28.0) == []  # another year: no list
    assert counted_values("pitchbook_startup_pctl", "SEL", 2024, 50.0) == []  # not a distinct count


def test_pages_for_data_without_a_year_column(tmp_path):
    """Another index whose data has no year column: the city and data pages still answer."""
    fw = {"index": {"code": "I", "names": {"en": "Test index"}},
          "groups": [{"code": "G", "parent": "I"}], "indicators": [{"code": "a", "parent": "G"}, {"code": "b", "parent": "G"}]}
    data = pd.DataFrame({"uCode": ["X", "Y", "Z"], "uName": ["Ex", "Why", "Zed"], "a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0]})
    import yaml

    (tmp_path / "fw.yaml").write_text(yaml.safe_dump(fw), encoding="utf-8")
    data.to_csv(tmp_path / "d.csv", index=False)
    client = TestClient(create_app(tmp_path / "fw.yaml", tmp_path / "d.csv"))
    for url in ("/city/X", "/data", "/api/profile/X"):
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:300])


def test_compare_page_lists_the_index_and_every_pillar(client):
    """Pillars sit at different depths in the bundled tree (INDUSTRY has sub-pillars, the
    others indicators): the headline table takes the index's children, not a level."""
    import aicity

    fw = aicity.load_framework(None)
    html = client.get("/compare?lang=en").text
    table = html[html.index("<table"):html.index("</table>")]
    for code in [fw.index_code, *fw.pillars()]:
        assert f">{fw.node(code).name('en')}<" in table, code


def test_pages_name_regions_and_proxy_countries_in_the_page_language(client):
    ko = client.get("/data", params={"lang": "ko", "indicator": "girai_score"}).text
    assert "국가 수치로 대체 (한국)" in ko and "Republic of Korea" not in ko
    ja = client.get("/data", params={"lang": "ja", "indicator": "girai_score"}).text
    assert "国の数値で代用（日本）" in ja
    city = client.get("/city/SEL", params={"lang": "ko"}).text
    assert '<td><span class="tag">국가 수치로 대체 (한국)</span></td>' in city  # the tag alone: never "국가 국가 수치로 대체"
    ranking = client.get("/", params={"lang": "ko"}).text
    assert ">중남미<" in ranking and ">아프리카<" in ranking and ">Latin America<" not in ranking
