"""One run store shared by several processes: concurrent builds, a build while another
process holds the store, and stores that cannot be used (clear messages, never a traceback).
Every wait is bounded (subprocess timeouts, $AICITY_STORE_WAIT); nothing asserts on time."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

import aicity
from aicity.cli import app
from aicity.store import Store, StoreBusy, StoreError

runner = CliRunner()
LIMIT_S = 300  # the most any subprocess here may take before the test fails

# Holds the store in an open write transaction until a line arrives on stdin.
HOLDER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("CREATE TABLE IF NOT EXISTS held (x INTEGER)")
    con.execute("BEGIN TRANSACTION")
    con.execute("INSERT INTO held VALUES (1)")
    print("held", flush=True)
    sys.stdin.readline()
    con.execute("COMMIT")
    con.close()
    """
)


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "COLUMNS": "160", **extra}


def aicity_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "aicity", *args]


@pytest.fixture
def holder(tmp_path):
    """A process holding the store in a write transaction; `.release()` lets it commit."""
    store = tmp_path / "s.duckdb"
    Store(store)  # an existing store with its tables
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(store)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"

        def release() -> None:
            if proc.poll() is None:
                proc.stdin.write("go\n")
                proc.stdin.flush()
                assert proc.wait(timeout=LIMIT_S) == 0

        proc.release = release
        proc.store = store
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=LIMIT_S)


@pytest.mark.slow  # subprocesses that build the index
def test_two_concurrent_builds_both_land_their_runs(tmp_path):
    store = tmp_path / "s.duckdb"
    procs = [subprocess.Popen(aicity_cmd("build", "--store", str(store), "-o", str(tmp_path / f"out{i}"), "--label", f"b{i}"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
             for i in range(2)]
    outputs = [p.communicate(timeout=LIMIT_S) for p in procs]
    for p, (out, errors) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, out + errors
        assert "Traceback" not in errors
    with Store(store, read_only=True) as st:
        runs = st.runs()
    assert sorted(runs.label) == ["b0", "b1"]
    assert all((tmp_path / f"out{i}" / "results.csv").exists() for i in range(2))


@pytest.mark.slow  # subprocesses that build the index
def test_threads_and_processes_saving_at_once_all_land(tmp_path):
    store = tmp_path / "s.duckdb"
    script = textwrap.dedent(
        f"""
        import aicity, sys
        from aicity.store import Store
        result = aicity.build()
        st = Store({str(store)!r})
        for i in range(3):
            st.save(result, label=f"p{{sys.argv[1]}}-{{i}}")
            st.runs()
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(i)], stderr=subprocess.PIPE, text=True) for i in range(2)]
    result = aicity.build()
    errors: list[BaseException] = []

    def save(i: int) -> None:
        try:
            st = Store(store)  # each thread its own Store and connections
            for j in range(2):
                st.save(result, label=f"t{i}-{j}")
                st.runs()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=LIMIT_S)
    for p in procs:
        _, err = p.communicate(timeout=LIMIT_S)
        assert p.returncode == 0, err
    assert not errors, errors
    labels = set(Store(store, read_only=True).runs().label)
    assert labels == {f"p{i}-{j}" for i in range(2) for j in range(3)} | {f"t{i}-{j}" for i in range(3) for j in range(2)}


@pytest.mark.slow  # subprocesses that build the index
def test_a_build_waits_for_a_store_another_process_holds_and_lands(tmp_path, holder):
    build = subprocess.Popen(aicity_cmd("build", "--store", str(holder.store), "-o", str(tmp_path / "out"), "--label", "patient"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(AICITY_STORE_WAIT="240"))
    try:
        seen = []
        for line in build.stderr:  # ends when the build does: bounded by the wait
            seen.append(line)
            if "waiting for the store" in line:
                break
        assert any("held by another process" in line for line in seen), seen
        holder.release()
        out, err = build.communicate(timeout=LIMIT_S)
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 0, out + err
    with Store(holder.store, read_only=True) as st:
        assert list(st.runs().label) == ["patient"]
        assert st.query("SELECT count(*) FROM held")[0][0] == 1  # the other process's write landed too


def test_a_store_held_past_the_wait_is_a_clear_error(tmp_path, holder, monkeypatch):
    with pytest.raises(StoreBusy) as caught:
        Store(holder.store, wait=0.2, on_wait=lambda msg: None)
    assert str(holder.store) in str(caught.value) and "held by another process" in str(caught.value)
    monkeypatch.setenv("AICITY_STORE_WAIT", "0.2")
    res = runner.invoke(app, ["build", "--store", str(holder.store), "-o", str(tmp_path / "out")])
    assert res.exit_code == 2 and "held by another process" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out").exists()  # checked before anything was built or written
    listed = runner.invoke(app, ["runs", "--store", str(holder.store)])
    assert listed.exit_code == 2 and "held by another process" in listed.output


@pytest.mark.parametrize("content", [b"", b"hello, not a database\n" * 50, b"DUCK" + os.urandom(9000)])
def test_a_store_that_is_not_a_duckdb_file_is_a_clear_error(tmp_path, content):
    store = tmp_path / "s.duckdb"
    store.write_bytes(content)
    for args in (["build", "-o", str(tmp_path / "out")], ["runs"], ["show"]):
        res = runner.invoke(app, [*args, "--store", str(store)])
        assert res.exit_code == 2, res.output
        assert str(store) in res.output and "cannot be opened" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out").exists()
    assert store.read_bytes() == content  # left as it was


def test_a_corrupt_store_is_a_clear_error(tmp_path):
    store = tmp_path / "s.duckdb"
    with Store(store) as st:
        st.save(aicity.build())
    data = bytearray(store.read_bytes())
    data[4096:4096 + 20000] = os.urandom(20000)  # blocks after the headers
    store.write_bytes(bytes(data))
    proc = subprocess.run(aicity_cmd("runs", "--store", str(store)), capture_output=True, text=True, timeout=LIMIT_S, env=env())
    assert proc.returncode == 2 and str(store) in proc.stderr and "Traceback" not in proc.stderr + proc.stdout


def test_a_store_path_that_is_a_folder_or_read_only(tmp_path):
    with pytest.raises(StoreError, match="folder"):
        Store(tmp_path)
    if os.geteuid() == 0:
        pytest.skip("root may write anything: read-only files cannot be tested")
    store = tmp_path / "ro" / "s.duckdb"
    Store(store)
    store.chmod(0o444)
    try:
        res = runner.invoke(app, ["build", "--store", str(store), "-o", str(tmp_path / "out")])
        assert res.exit_code == 2 and "read-only" in res.output and str(store) in res.output
        assert runner.invoke(app, ["runs", "--store", str(store)]).exit_code == 0  # reading still works
    finally:
        store.chmod(0o644)


def test_runs_lists_labelled_and_unlabelled_runs(tmp_path):
    store = tmp_path / "s.duckdb"
    result = aicity.build()
    with Store(store) as st:
        st.save(result, label="labelled")
        st.save(result)
    res = runner.invoke(app, ["runs", "--store", str(store)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "labelled" in res.output and res.output.count("AICI") == 2
    empty = runner.invoke(app, ["runs", "--store", str(tmp_path / "none.duckdb")])
    assert empty.exit_code == 0 and "No runs yet" in empty.output
    assert not (tmp_path / "none.duckdb").exists()  # listing does not make a store


def test_web_store_problems_are_answers_not_crashes(tmp_path, holder, monkeypatch):
    from fastapi.testclient import TestClient

    from aicity.web import create_app

    monkeypatch.setenv("AICITY_STORE_WAIT", "0.2")
    busy = TestClient(create_app(store=holder.store, token="t"), raise_server_exceptions=False)
    r = busy.get("/api/runs")
    assert r.status_code == 503 and "Retry-After" in r.headers
    corrupt = tmp_path / "bad.duckdb"
    corrupt.write_text("not a store")
    broken = TestClient(create_app(store=corrupt, token="t"), raise_server_exceptions=False)
    r = broken.get("/api/runs")
    assert r.status_code == 500 and str(corrupt) not in r.text


def test_a_failed_web_build_records_no_run(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from aicity.bundled import data_path
    from aicity.web import create_app

    app_ = create_app(store=tmp_path / "s.duckdb", token="t")
    client = TestClient(app_, raise_server_exceptions=False)
    auth = {"Authorization": "Bearer t"}
    assert client.post("/api/datasets?name=cities", content=Path(data_path()).read_bytes(), headers=auth).status_code == 201

    def broken(*a, **k):
        raise RuntimeError("answer failed")

    monkeypatch.setattr(app_.state.explorer, "ranking", broken)
    assert client.post("/api/builds", json={"dataset": "cities"}, headers=auth).status_code == 500
    assert client.get("/api/runs").json() == []
    monkeypatch.undo()
    ok = client.post("/api/builds", json={"dataset": "cities"}, headers=auth)
    assert ok.status_code == 201 and [r["run_id"] for r in client.get("/api/runs").json()] == [ok.json()["run_id"]]


@pytest.mark.slow  # a two-worker server and two CLI builds
def test_a_server_with_two_workers_and_cli_builds_share_the_store(tmp_path):
    import json
    import socket
    import time
    import urllib.error
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    from aicity.bundled import data_path

    store = tmp_path / "s.duckdb"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": "Bearer t", "Content-Type": "application/json"}

    def call(method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=LIMIT_S) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    server = subprocess.Popen(aicity_cmd("serve", "--workers", "2", "--port", str(port), "--store", str(store)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(AICITY_TOKEN="t"))
    try:
        for _ in range(LIMIT_S * 4):  # until it answers (bounded)
            try:
                if call("GET", "/api/runs")[0] == 200:
                    break
            except OSError:
                time.sleep(0.25)
        assert call("POST", "/api/datasets?name=c", Path(data_path()).read_bytes(), auth)[0] == 201
        cli = [subprocess.Popen(aicity_cmd("build", "--store", str(store), "-o", str(tmp_path / f"o{i}"), "--label", f"cli{i}"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env()) for i in range(2)]
        with ThreadPoolExecutor(6) as pool:
            builds = [pool.submit(call, "POST", "/api/builds", json.dumps({"dataset": "c", "label": f"web{i}"}).encode(), auth)
                      for i in range(4)]
            reads = [pool.submit(call, "GET", "/api/runs") for _ in range(8)]
            assert [f.result()[0] for f in builds] == [201] * 4
            assert [f.result()[0] for f in reads] == [200] * 8
        for p in cli:
            _, err = p.communicate(timeout=LIMIT_S)
            assert p.returncode == 0, err
        labels = sorted(r["label"] for r in json.loads(call("GET", "/api/runs")[1]))
        assert labels == ["cli0", "cli1", "web0", "web1", "web2", "web3"]
    finally:
        server.terminate()
        server.wait(timeout=LIMIT_S)
