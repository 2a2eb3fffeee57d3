"""Issue #14, the web's part: security headers and CSP, /docs without a CDN, the bearer
token's exact form, header size limits, the uncertainty endpoint's bounded cost, links only
for http(s) URLs, pages for data without a year, no server error on bad input."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient

from aicity.web import MAX_ANON_SAMPLES, MAX_HEADER_BYTES, MAX_HEADERS_BYTES, check_port, create_app
from aicity.web.explorer import DEFAULT_UNCERTAINTY, Busy, UncertaintyCache
from aicity.web.render import http_url, link
from tests.conftest import loopback_server

TOKEN = "sec-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PAGES = ("/", "/city/SEL", "/compare", "/data", "/map", "/build")
HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "strict-origin-when-cross-origin"}
BAD_URLS = ("javascript:alert(1)", " JaVaScRiPt:alert(2)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
            "//evil.example/x", "java\tscript:alert(3)", "vbscript:msgbox(1)", "https:\\\\evil.example", "/relative/path")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(store=tmp_path_factory.mktemp("store") / "runs.duckdb", token=TOKEN)


@pytest.fixture(scope="module")
def client(app):
    return TestClient(app, raise_server_exceptions=False)


def small_index(tmp: Path, *, urls: dict[str, str] | None = None, year: bool = True, wide: bool = False) -> tuple[Path, Path]:
    """A two-indicator index of units X, Y, Z: long data with a url per unit (`urls`), or
    wide data without any year column."""
    fw = {"index": {"code": "I", "names": {"en": "Test index"}},
          "groups": [{"code": "G", "parent": "I"}], "indicators": [{"code": "a", "parent": "G"}, {"code": "b", "parent": "G"}]}
    (tmp / "fw.yaml").write_text(yaml.safe_dump(fw), encoding="utf-8")
    if wide:
        data = pd.DataFrame({"uCode": ["X", "Y", "Z"], "uName": ["Ex", "Why", "Zed"], "a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0]})
    else:
        rows = [{"unit": u, "indicator": i, "value": v, "publisher": "Pub", "source": f"Src {u}", "url": (urls or {}).get(u, "")}
                for u, i, v in (("X", "a", 1), ("Y", "a", 2), ("Z", "a", 3), ("X", "b", 3), ("Y", "b", 1), ("Z", "b", 2))]
        data = pd.DataFrame(rows)
        if year:
            data.insert(3, "year", 2020)
    data.to_csv(tmp / "d.csv", index=False)
    return tmp / "fw.yaml", tmp / "d.csv"


# -- 1. security headers on every response ---------------------------------------------------


def _csp(response) -> dict[str, list[str]]:
    parts = [p.strip().split() for p in response.headers["content-security-policy"].split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


def test_security_headers_on_pages_api_and_errors(client):
    responses = [client.get(p) for p in PAGES]
    responses += [client.get("/api/framework"), client.post("/api/rank", json={"persona": "citizen"}), client.get("/static/app.js"),
                  client.get("/api/profile/Atlantis"), client.get("/nope"), client.get("/api/results?level=0"),
                  client.post("/api/builds", json={"dataset": "x"}), client.get("/docs"), client.get("/openapi.json")]
    for r in responses:
        for name, value in HEADERS.items():
            assert r.headers.get(name) == value, (r.request.url, name)
        csp = _csp(r)
        assert csp["script-src"] == ["'self'"], r.request.url  # no inline script, no eval
        assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"] and csp["default-src"] == ["'self'"]
    assert {r.status_code for r in responses} >= {200, 401, 404, 422}


def test_a_server_error_has_the_headers_too(tmp_path):
    app = create_app(store=tmp_path / "s.duckdb")
    c = TestClient(app, raise_server_exceptions=False)
    app.state.explorer.result = None  # any unexpected failure
    r = c.get("/api/results")
    assert r.status_code == 500 and r.json() == {"detail": "internal error"}
    assert r.headers["x-frame-options"] == "DENY" and "content-security-policy" in r.headers


def test_pages_have_no_inline_script_or_handler(client):
    for path in (*PAGES, "/docs", "/city/SEL?lang=ko", "/compare?lang=ja"):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+\s*=", html, re.I), path
        assert "javascript:" not in html.lower(), path


# -- 2. /docs from this server ---------------------------------------------------------------


def test_docs_load_nothing_from_another_host(client):
    html = client.get("/docs").text
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert refs and all(r.startswith("/") and not r.startswith("//") for r in refs), refs
    assert "http://" not in html and "https://" not in html and "cdn" not in html.lower()
    for ref in refs:
        r = client.get(ref)
        assert r.status_code == 200, ref
    assert client.get("/static/swagger-ui/swagger-ui-bundle.js").headers["content-type"].startswith("text/javascript")
    assert 'data-openapi="/openapi.json"' in html
    redoc = client.get("/redoc", follow_redirects=False)
    assert redoc.status_code == 307 and redoc.headers["location"] == "/docs"


# -- 3. the bearer token, exactly ------------------------------------------------------------


@pytest.mark.parametrize("header", [TOKEN, f"Basic {TOKEN}", f"Token {TOKEN}", f"Bearer  {TOKEN}", f"Bearer {TOKEN} ", "Bearer",
                                    "Bearer ", f"Bearer{TOKEN}", "Bearer wrong", f"Bearer {TOKEN}x", f"{TOKEN} Bearer"])
def test_only_bearer_token_is_accepted(client, header):
    r = client.post("/api/builds", json={"dataset": "none-such"}, headers={"Authorization": header})
    assert r.status_code == 401, header
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "bearer" in r.json()["detail"].lower()


def test_the_bearer_token_passes(client):
    # past the token check: the data set is looked up (and is not there)
    r = client.post("/api/builds", json={"dataset": "none-such"}, headers=AUTH)
    assert r.status_code == 404 and "none-such" in r.json()["detail"]
    assert client.post("/api/builds", json={"dataset": "none-such"}, headers={"Authorization": f"bearer {TOKEN}"}).status_code == 404


def test_missing_token_says_how_to_send_it(client):
    r = client.post("/api/builds", json={"dataset": "x"})
    assert r.status_code == 401 and "Authorization: Bearer <token>" in r.json()["detail"]
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_token_is_compared_in_constant_time():
    import inspect

    from aicity.web.explorer import Explorer

    assert "hmac.compare_digest" in inspect.getsource(Explorer.check_token)


# -- 4. header size limits -------------------------------------------------------------------


def test_oversized_headers_get_431(client):
    one = client.get("/api/framework", headers={"X-Big": "a" * (MAX_HEADER_BYTES + 1)})
    assert one.status_code == 431 and "x-big" in one.json()["detail"]
    many = client.get("/", headers={f"X-Part-{i}": "a" * 4000 for i in range(MAX_HEADERS_BYTES // 4000 + 1)})
    assert many.status_code == 431 and "in all" in many.json()["detail"]
    assert many.headers["x-frame-options"] == "DENY"
    assert client.get("/api/framework", headers={"X-Fine": "a" * 4000}).status_code == 200


# -- 5. the uncertainty endpoint's cost ------------------------------------------------------


def test_uncertainty_cache_is_a_bounded_lru_and_keeps_the_default():
    cache = UncertaintyCache(size=3)
    computed: list[tuple[int, int]] = []

    def compute(key):
        def run():
            computed.append(key)
            return pd.DataFrame({"key": [key]})
        return run

    cache.get(DEFAULT_UNCERTAINTY, compute(DEFAULT_UNCERTAINTY), wait=True)
    for seed in range(10):
        cache.get((10, seed), compute((10, seed)), wait=False)
    assert list(cache.results) == [(10, 7), (10, 8), (10, 9)] and len(cache) == 4
    cache.get((10, 7), compute((10, 7)), wait=False)  # a hit: no computation, most recent now
    cache.get((10, 0), compute((10, 0)), wait=False)  # evicted before: computed again, drops (10, 8)
    assert list(cache.results) == [(10, 9), (10, 7), (10, 0)]
    assert cache.get(DEFAULT_UNCERTAINTY, compute(DEFAULT_UNCERTAINTY), wait=False) is cache.default
    assert computed.count(DEFAULT_UNCERTAINTY) == 1 and computed.count((10, 7)) == 1 and computed.count((10, 0)) == 2
    assert cache.computations == len(computed) == 12


def test_one_uncertainty_computation_at_a_time():
    cache = UncertaintyCache(size=2)
    cache.get((10, 1), lambda: pd.DataFrame({"x": [1]}), wait=False)
    with cache.computing:  # another computation is running
        with pytest.raises(Busy):
            cache.get((10, 2), lambda: pd.DataFrame({"x": [2]}), wait=False)
        assert cache.get((10, 1), lambda: pytest.fail("a hit never computes"), wait=False)["x"].tolist() == [1]
    assert cache.get((10, 2), lambda: pd.DataFrame({"x": [2]}), wait=False)["x"].tolist() == [2]


def test_uncertainty_api_is_bounded(app, client):
    ex = app.state.explorer
    for seed in range(ex.intervals.size + 3):
        assert client.get("/api/uncertainty", params={"samples": 10, "seed": seed}).status_code == 200
    assert len(ex.intervals.results) == ex.intervals.size
    # while one analysis runs, a new one is refused with Retry-After; a cached one is answered
    with ex.intervals.computing:
        busy = client.get("/api/uncertainty", params={"samples": 10, "seed": 999})
        assert busy.status_code == 503 and int(busy.headers["retry-after"]) > 0 and "try again" in busy.json()["detail"]
        assert client.get("/api/uncertainty", params={"samples": 10, "seed": ex.intervals.size + 2}).status_code == 200
        # more samples than anyone may ask for need the token; with it, the request gets as far as the (busy) worker
        anon = client.get("/api/uncertainty", params={"samples": MAX_ANON_SAMPLES + 1})
        assert anon.status_code == 401 and "bearer token" in anon.json()["detail"]
        assert client.get("/api/uncertainty", params={"samples": MAX_ANON_SAMPLES + 1}, headers=AUTH).status_code == 503
    assert client.get("/api/uncertainty", params={"samples": 10, "seed": 999}).status_code == 200
    assert 1000 <= MAX_ANON_SAMPLES  # the default number of samples stays open to anyone


# -- 6. links only for http(s) ---------------------------------------------------------------


def test_http_url_rule():
    assert http_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert http_url("HTTP://example.org") == "HTTP://example.org"
    for bad in (*BAD_URLS, None, float("nan"), "", "https://", "http:example.org", "https://exa mple.org"):
        assert http_url(bad) is None, bad
    assert str(link("javascript:alert(1)", "Pub")) == 'Pub <span class="inert-url">javascript:alert(1)</span>'
    assert str(link("https://e.org/?a=1&b=<x>", "P&Q")) == '<a href="https://e.org/?a=1&amp;b=&lt;x&gt;" rel="noopener noreferrer">P&amp;Q</a>'


def _hrefs(html: str) -> list[str]:
    return re.findall(r'href\s*=\s*"([^"]*)"', html, re.I) + re.findall(r"href\s*=\s*'([^']*)'", html, re.I)


def test_a_javascript_url_never_becomes_a_link(tmp_path):
    urls = {"X": "javascript:alert(1)", "Y": "https://ok.example/y", "Z": "data:text/html,<script>alert(1)</script>"}
    c = TestClient(create_app(*small_index(tmp_path, urls=urls)), raise_server_exceptions=False)
    for path in ("/data", "/data?indicator=a", "/city/X", "/city/Y", "/city/Z"):
        r = c.get(path)
        assert r.status_code == 200, path
        hrefs = _hrefs(r.text)
        assert all(h.startswith(("/", "?", "#", "https://ok.example")) for h in hrefs), (path, hrefs)
        assert "<script>alert(1)" not in r.text
    data = c.get("/data").text
    assert '<a href="https://ok.example/y"' in data
    assert '<span class="inert-url">javascript:alert(1)</span>' in data  # shown, as text


# -- 7. pages for data without a year; no 500 on bad input ------------------------------------


def test_pages_render_for_wide_data_without_a_year(tmp_path):
    c = TestClient(create_app(*small_index(tmp_path, wide=True)), raise_server_exceptions=False)
    for path in ("/", "/data", "/city/X", "/compare", "/compare?a=X&b=Y", "/map", "/build", "/api/profile/X", "/api/indicators"):
        r = c.get(path)
        assert r.status_code == 200, (path, r.text[:300])
    assert "nan" not in c.get("/data").text.lower().replace("nano", "")


def test_long_data_without_a_year_column(tmp_path):
    c = TestClient(create_app(*small_index(tmp_path, year=False)), raise_server_exceptions=False)
    for path in ("/data", "/city/X"):
        assert c.get(path).status_code == 200, path


@pytest.mark.parametrize("path", ["/static/%00", "/static/" + "a" * 5000, "/static/..%2f..%2fetc%2fpasswd", "/static/topojson",
                                  "/city/" + "x" * 5000, "/compare?a=" + "x" * 5000, "/compare?a=&b=", "/city/%00",
                                  "/data?indicator=%00", "/api/profile/" + "x" * 5000, "/?lang=%00"])
def test_bad_input_is_4xx_or_a_page_never_a_trace(client, path):
    r = client.get(path)
    assert r.status_code < 500, (path, r.status_code)
    assert "Traceback" not in r.text and "File \"" not in r.text
    if r.status_code >= 400:
        assert r.json()["detail"]


# -- 8. the port -----------------------------------------------------------------------------


def test_port_is_checked():
    assert check_port(8000) == 8000 and check_port(1) == 1 and check_port(65535) == 65535
    for bad in (0, -1, 65536, 99999, True):
        with pytest.raises(ValueError, match="1 to 65535"):
            check_port(bad)


# -- in Chromium: no javascript: link, no CSP violation --------------------------------------


def _chromium() -> str:
    path = shutil.which("chromium")
    if not path:
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    return path


@pytest.fixture(scope="module")
def payload_server(tmp_path_factory):
    _chromium()
    tmp = tmp_path_factory.mktemp("payload")
    app = create_app(*small_index(tmp, urls={"X": "javascript:alert(1)", "Y": "https://ok.example/y", "Z": "data:text/html,hi"}))
    with loopback_server(app) as url:
        yield url


@pytest.mark.browser
def test_payload_pages_in_chromium_have_no_javascript_links_nor_csp_errors(payload_server, tmp_path):
    from playwright.sync_api import sync_playwright

    from aicity.report import CHROMIUM_ARGS

    console: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            for path in ("/data", "/city/X", "/compare?a=X&b=Y", "/docs"):
                page.goto(payload_server + path)
                if path == "/docs":
                    page.wait_for_selector(".swagger-ui .opblock")
                else:
                    page.wait_for_function("window.explorerReady === true")
                hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
                assert not [h for h in hrefs if not h.lower().startswith(("http://", "https://"))], (path, hrefs)
                assert "javascript:alert(1)" in page.content() or path in ("/compare?a=X&b=Y", "/docs")
            page.goto(payload_server + "/compare?a=X&b=Y")
            page.wait_for_selector("#radar .main-svg")
            page.screenshot(path=str(tmp_path / "compare.png"))
        finally:
            browser.close()
    assert not [m for m in console if "Content Security Policy" in m or "Content-Security-Policy" in m], console
    assert not [m for m in console if m.startswith(("error", "pageerror"))], console


def test_building_an_upload_with_too_little_data_is_422(client):
    up = client.post("/api/datasets?name=tiny", content=b"unit,indicator,value\nSEL,pitchbook_startup_pctl,3\nTYO,pitchbook_startup_pctl,4\n", headers=AUTH)
    assert up.status_code == 201
    r = client.post("/api/builds", json={"dataset": "tiny"}, headers=AUTH)
    assert r.status_code == 422 and "leaves no unit to rank" in r.json()["problems"][0]["reason"]


def test_an_upload_without_rows_is_422(client):
    r = client.post("/api/datasets?name=empty", content=b"unit,indicator,value\n", headers=AUTH)
    assert r.status_code == 422 and "no data rows" in r.json()["problems"][0]["reason"]


def test_a_chunked_body_over_the_limit_is_413_on_a_json_route(client):
    from aicity.web.settings import MAX_BODY_BYTES

    def chunks():
        yield b'{"weights": {"INFRA": 1}, "x": "'
        for _ in range(MAX_BODY_BYTES // 100_000 + 2):
            yield b"a" * 100_000
        yield b'"}'

    r = client.post("/api/rank", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    small = client.post("/api/rank", content=iter([b'{"weights": ', b'{"INFRA": 2}}']), headers={"content-type": "application/json"})
    assert small.status_code == 200


def test_the_lean_rank_route_answers_as_the_documented_one():
    """POST /api/rank is served by a lean route placed first; without it, the FastAPI route
    (the one /openapi.json describes) gives the same answers, errors included."""
    from starlette.routing import Route

    from aicity.web import create_app

    lean = create_app()
    documented = create_app()
    first = documented.router.routes[0]
    assert isinstance(first, Route) and first.path == "/api/rank" and first.endpoint.__name__ == "rank_fast"
    documented.router.routes.pop(0)
    bodies = [b'{"weights": {"INFRA": 2, "industry": 0.5}, "pillars": true}', b'{"persona": "citizen", "lang": "ko"}',
              b'{"weights": {"INFRA": "x"}}', b'{"lang": "xx"}', b'{"weights": {"atlantis": 1}}', b'[1]']
    with TestClient(lean) as a, TestClient(documented) as b:
        for body in bodies:
            ra = a.post("/api/rank", content=body, headers={"content-type": "application/json"})
            rb = b.post("/api/rank", content=body, headers={"content-type": "application/json"})
            assert (ra.status_code, ra.json()) == (rb.status_code, rb.json()), body
        assert "/api/rank" in a.get("/openapi.json").json()["paths"]
