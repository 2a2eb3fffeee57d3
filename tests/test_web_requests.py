"""What the API refuses (unknown body and query keys, numbers that are not JSON numbers,
weights too small to compute with, a persona by an empty name) and how the web uses the run
store (read-only for reads, one wait per request)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading

import pytest
from fastapi.testclient import TestClient

import aicity
from aicity.errors import InputError
from aicity.store import Store, StoreBusy
from aicity.web import create_app
from aicity.web.settings import Settings
from aicity.weights import check_weights

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return TestClient(create_app(store=tmp_path_factory.mktemp("store") / "runs.duckdb", token=TOKEN),
                      raise_server_exceptions=False)


@pytest.mark.parametrize(("path", "body", "key"), [
    ("/api/rank", {"wieghts": {"INFRA": 5}}, "wieghts"),
    ("/api/rank", {"weights": {"INFRA": 1}, "foo": 1}, "foo"),
    ("/api/whatif", {"unit": "SEL", "changes": {"cloud_regions": 5}, "chnages": 1}, "chnages"),
])
def test_unknown_body_keys_are_refused_by_name(client, path, body, key):
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    assert ["body", key] in [e["loc"] for e in r.json()["errors"]]


def test_a_build_request_with_an_unknown_key_is_refused(client):
    r = client.post("/api/builds", json={"dataset": "cities", "extra": 1}, headers=AUTH)
    assert r.status_code == 422 and ["body", "extra"] in [e["loc"] for e in r.json()["errors"]]


@pytest.mark.parametrize("value", [True, "2", None])
def test_weights_and_changes_must_be_json_numbers(client, value):
    assert client.post("/api/rank", json={"weights": {"INFRA": value}}).status_code == 422
    assert client.post("/api/whatif", json={"unit": "SEL", "changes": {"cloud_regions": value}}).status_code == 422
    assert client.post("/api/rank", json={"weights": {"INFRA": 2}}).json()["weights"] == {"INFRA": 2.0}  # an integer is a number


@pytest.mark.parametrize(("path", "params", "key"), [
    ("/api/uncertainty", {"sample": 500}, "sample"),
    ("/api/results", {"levle": 1}, "levle"),
    ("/api/profile/SEL", {"lang": "ko", "x": "1"}, "x"),
    ("/api/compare", {"a": "SEL", "b": "TYO", "c": "OSA"}, "c"),
    ("/api/runs", {"limit": 5}, "limit"),
])
def test_unknown_query_keys_are_refused_by_name(client, path, params, key):
    r = client.get(path, params=params)
    assert r.status_code == 422, r.text
    error = next(e for e in r.json()["errors"] if e["loc"] == ["query", key])
    assert "unknown query parameter" in error["msg"]
    known = {k: v for k, v in params.items() if k != key}
    assert client.get(path, params=known).status_code == 200  # the same request without the stray key


def test_the_lean_rank_route_refuses_a_query_too(client):
    r = client.post("/api/rank?lang=ko", json={"weights": {"INFRA": 2}})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "lang"]


def test_pages_keep_keys_from_links_elsewhere(client):
    assert client.get("/", params={"utm_source": "newsletter"}).status_code == 200


def test_a_persona_is_named_or_absent(client):
    empty = client.post("/api/rank", json={"persona": ""})
    assert empty.status_code == 422
    unknown = client.post("/api/rank", json={"persona": "nope"})
    assert unknown.status_code == 422
    problem = unknown.json()["problems"][0]
    assert problem["file"] == "persona" and "no persona 'nope'" in problem["reason"]
    assert "framework.yaml" not in unknown.text  # the server's files stay on the server
    both = client.post("/api/rank", json={"persona": "citizen", "weights": {}})
    assert both.status_code == 422 and "not both" in both.text


def test_weights_too_small_to_compute_with_are_refused():
    fw = aicity.load_framework()
    for tiny in (5e-324, 1e-300, 9.9e-7):
        with pytest.raises(InputError, match="at least 0.000001"):
            check_weights(fw, {"INFRA": tiny})
    assert check_weights(fw, {"INFRA": 1e-6, "TRUST": 0}) == {"INFRA": 1e-6, "TRUST": 0.0}


def test_the_smallest_weight_gives_the_same_scores_as_any_scale(client):
    zero = {"INDUSTRY": 0, "POLICY": 0, "TRUST": 0, "NATIONAL": 0}
    small = client.post("/api/rank", json={"weights": {"INFRA": 1e-6, **zero}}).json()
    one = client.post("/api/rank", json={"weights": {"INFRA": 1, **zero}}).json()
    assert small["score"] == pytest.approx(one["score"], rel=1e-12) and small["rank"] == one["rank"]
    assert client.post("/api/rank", json={"weights": {"INFRA": 5e-324, **zero}}).status_code == 422


def test_more_samples_than_anyone_may_ask_on_a_server_without_a_token_is_403(tmp_path):
    closed = TestClient(create_app(store=tmp_path / "s.duckdb", token=""), raise_server_exceptions=False)
    r = closed.get("/api/uncertainty", params={"samples": 5000})
    assert r.status_code == 403 and "AICITY_TOKEN" in r.json()["detail"] and "WWW-Authenticate" not in r.headers


def test_the_data_page_of_an_unknown_indicator_is_404(client):
    assert client.get("/data", params={"indicator": "NOPE"}).status_code == 404
    assert client.get("/data", params={"indicator": "cloud_regions"}).status_code == 200


def test_a_failed_build_of_a_stored_data_set_names_the_data_set(client):
    lines = aicity.bundled.data_path().read_bytes().splitlines(keepends=True)
    assert client.post("/api/datasets?name=small", content=b"".join(lines[:200]), headers=AUTH).status_code == 201
    r = client.post("/api/builds", json={"dataset": "small"}, headers=AUTH)
    assert r.status_code == 422, r.text
    assert {p["file"] for p in r.json()["problems"]} == {"dataset 'small' v1"}
    assert "/tmp" not in r.text


def test_an_answer_lists_at_most_200_problems_and_counts_them_all(client):
    rows = b"".join(b"SEL,nope%d,abc\n" % i for i in range(500))
    r = client.post("/api/datasets?name=many", content=b"unit,indicator,value\n" + rows, headers=AUTH)
    assert r.status_code == 422
    body = r.json()
    assert len(body["problems"]) == 200 and body["n_problems"] > 200 and f"of {body['n_problems']:,} problems" in body["detail"]


# -- the run store, as the web uses it --------------------------------------------------------

READ_HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("held", flush=True)
sys.stdin.readline()
"""


def test_reads_do_not_make_the_store(tmp_path):
    store = tmp_path / "none.duckdb"
    client = TestClient(create_app(store=store, token=TOKEN))
    assert client.get("/api/runs").json() == []
    assert not store.exists()  # listing runs does not make a store


def test_reads_share_the_store_with_another_reader(tmp_path, monkeypatch):
    """Another process reading the store (DuckDB lets readers share a file) does not stop the
    server from listing runs: a read opens the file read-only."""
    store = tmp_path / "s.duckdb"
    with Store(store) as st:
        st.save(aicity.build(), label="shared")
    monkeypatch.setenv("AICITY_STORE_WAIT", "0.3")
    client = TestClient(create_app(store=store, token=TOKEN), raise_server_exceptions=False)
    proc = subprocess.Popen([sys.executable, "-c", READ_HOLDER, str(store)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        r = client.get("/api/runs")
        assert r.status_code == 200, r.text
        assert [run["label"] for run in r.json()] == ["shared"]
    finally:
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(timeout=60)


def _hold_in_thread(store, seconds: float | None):
    """A thread of this process holding the store for `seconds` (None: until the returned event)."""
    holder = Store(store)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with holder._connect(write=True):
            held.set()
            release.wait(seconds if seconds is not None else 60)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(60)
    return thread, release


def test_a_zero_wait_still_waits_for_this_process_own_threads(tmp_path):
    """$AICITY_STORE_WAIT=0 gives up at once on another process, not on a request of the same
    server: its transactions take milliseconds."""
    store = tmp_path / "s.duckdb"
    thread, _ = _hold_in_thread(store, 0.3)
    try:
        assert len(Store(store, read_only=True, wait=0).runs()) == 0
    finally:
        thread.join(60)


def test_a_thread_that_keeps_the_store_is_named(tmp_path, monkeypatch):
    import aicity.store

    monkeypatch.setattr(aicity.store, "THREAD_WAIT_S", 0.2)
    store = tmp_path / "s.duckdb"
    thread, release = _hold_in_thread(store, None)
    try:
        with pytest.raises(StoreBusy, match="another thread of this process; gave up after waiting 0.2 s"):
            Store(store, read_only=True, wait=0).runs()
    finally:
        release.set()
        thread.join(60)


def test_an_endless_wait_is_a_wait_not_a_crash(tmp_path):
    import math

    store = tmp_path / "s.duckdb"
    thread, _ = _hold_in_thread(store, 0.2)
    try:
        assert len(Store(store, read_only=True, wait=math.inf).runs()) == 0
    finally:
        thread.join(60)


def test_the_data_page_of_a_context_variable_is_there(client):
    assert client.get("/data", params={"indicator": "population"}).status_code == 200


def test_serve_checks_the_store_wait_after_setting_its_own_arguments():
    from typer.testing import CliRunner

    from aicity.cli import app

    res = CliRunner().invoke(app, ["serve", "--port", "8765"], env={"AICITY_STORE_WAIT": "abc", "AICITY_SERVE_ARGS": "{"})
    assert res.exit_code == 2 and "AICITY_STORE_WAIT" in res.output and "Traceback" not in res.output


def test_a_persona_weight_too_small_is_refused_everywhere():
    fw = aicity.load_framework()
    persona = next(iter(fw.personas.values()))
    tiny = dataclasses.replace(persona, weights={**persona.weights, next(iter(persona.weights)): 1e-9})
    fw.personas[persona.code] = tiny
    from aicity.personas import persona_weights

    with pytest.raises(InputError, match=f"persona '{persona.code}'.*at least 0.000001"):
        persona_weights(fw, persona.code)


def test_a_bad_store_wait_is_said_when_the_server_starts():
    with pytest.raises(InputError, match=r"\$AICITY_STORE_WAIT.*'abc' is not a number of seconds"):
        Settings.from_env({"AICITY_STORE_WAIT": "abc"})
    assert Settings.from_env({"AICITY_STORE_WAIT": "2.5"}).store_wait == 2.5
    from typer.testing import CliRunner

    from aicity.cli import app

    res = CliRunner().invoke(app, ["serve", "--port", "8765"], env={"AICITY_STORE_WAIT": "abc"})
    assert res.exit_code == 2 and "AICITY_STORE_WAIT" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("path", ["/", "/city/SEL", "/api/units", "/api/profile/SEL"])
def test_head_is_get_without_the_body(client, path):
    head, get = client.head(path), client.get(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-type"] == get.headers["content-type"]
    assert "content-security-policy" in head.headers


def test_head_of_an_unknown_page_is_404(client):
    assert client.head("/city/Atlantis").status_code == 404


@pytest.mark.parametrize(("method", "url", "body", "where"), [
    # json.loads kept the last of two keys: the weight a client meant may be the dropped one
    ("post", "/api/rank", b'{"weights": {"INFRA": 2, "INFRA": 5}}', "INFRA"),
    ("post", "/api/rank", b'{"pillars": true, "pillars": false}', "pillars"),
    ("get", "/api/compare?a=Seoul&a=Tokyo&b=Paris", None, "a"),
])
def test_a_key_given_twice_is_a_422_naming_it(client, method, url, body, where):
    headers = {"content-type": "application/json"}
    r = client.post(url, content=body, headers=headers) if method == "post" else client.get(url)
    assert r.status_code == 422, r.text
    assert any(d["loc"][-1] == where and "more than once" in d["msg"] for d in r.json()["errors"]), r.text


@pytest.mark.parametrize("body", [
    {"dataset": "cities", "version": "1"}, {"dataset": "cities", "version": True}, {"dataset": "cities", "version": 1.0},
])
def test_a_build_request_takes_json_numbers_as_they_are(client, body):
    assert client.post("/api/builds", json=body, headers={"authorization": f"Bearer {TOKEN}"}).status_code == 422


def test_rank_pillars_must_be_a_boolean(client):
    assert client.post("/api/rank", json={"pillars": "yes"}).status_code == 422
    assert client.post("/api/rank", json={"pillars": True}).status_code == 200


def test_the_duplicate_key_check_is_linear_and_reads_any_content_type(client):
    """It counted each key's occurrences (quadratic: 400,000 keys held the event loop for
    minutes; 200,000 here would take about a minute); it now passes over them once. A
    text/plain body was not checked at all."""
    from aicity.web.deps import _keys_twice

    body = ("{" + ",".join(f'"k{i}": 1' for i in range(200_000)) + ', "k7": 2, "x": {"a": 1, "a": 2}}').encode()
    assert sorted(_keys_twice(body)) == ["a", "k7"]  # inner objects are parsed first
    r = client.post("/api/rank", content=b'{"pillars": true, "pillars": false}', headers={"content-type": "text/plain"})
    assert r.status_code == 422


@pytest.mark.parametrize("body", [
    {"dataset": ".", "version": 1}, {"dataset": "..", "version": 1},  # were accepted as names
    {"dataset": "cities", "label": "a\x00b"}, {"dataset": "cities", "label": "\u202eevil"},  # printed raw by `aicity runs`
])
def test_a_build_request_refuses_dot_names_and_invisible_label_characters(client, body):
    assert client.post("/api/builds", json=body, headers=AUTH).status_code == 422


def test_a_unit_code_with_an_invisible_character_is_refused(tmp_path):
    """"\\u202eSEL" became a unit apart from SEL."""
    import pandas as pd

    fw = {"index": {"code": "IDX"}, "indicators": [{"code": "a", "parent": "IDX"}]}
    with pytest.raises(InputError, match="a unit code with a control or invisible character"):
        aicity.build(fw, pd.DataFrame({"unit": ["\u202eSEL", "TYO"], "a": [1.0, 2.0]}))
    with pytest.raises(InputError, match="holds a control or invisible character"):
        Store(tmp_path / "s.duckdb").save(aicity.build(), label="a\x01b")
