"""Load test of POST /api/rank on loopback: 1,000 cities x 100 indicators, 50 concurrent
clients. Bounded in requests and time; prints p50/p99 latency and throughput.
Goal (issue #15): p99 under 20 ms for new weights with 50 concurrent clients on 2 cores (wrk,
loopback). The last line is for scripts: `api rank p99: P ms at 50 clients`.

The load comes from `wrk` (Debian's package; `make bench` installs it) when present: a
Python client would itself eat much of the same 2 cores. Without wrk, an asyncio httpx
client runs instead and the script says so.

    .venv/bin/python benchmarks/bench_api.py [--seconds 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import yaml


def make_inputs(folder: Path, n_units: int = 1000, n_ind: int = 100) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    fw = {
        "index": {"code": "INDEX"},
        "groups": [{"code": f"P{p}", "parent": "INDEX"} for p in range(4)] + [{"code": f"S{s}", "parent": f"P{s % 4}"} for s in range(20)],
        "indicators": [{"code": f"i{i}", "parent": f"S{i % 20}"} for i in range(n_ind)],
    }
    (folder / "fw.yaml").write_text(yaml.safe_dump(fw))
    frame = pd.DataFrame(rng.lognormal(2, 0.7, size=(n_units, n_ind)), columns=[f"i{i}" for i in range(n_ind)])
    frame.insert(0, "unit", [f"C{u:04d}" for u in range(n_units)])
    frame.to_csv(folder / "data.csv", index=False)
    return folder / "fw.yaml", folder / "data.csv"


async def load(url: str, n_requests: int, concurrency: int, seconds: float, integer_weights: bool) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    counter = iter(range(n_requests))
    rng = random.Random(7)

    async def client_loop(client: httpx.AsyncClient) -> None:
        for _ in counter:
            if time.perf_counter() > deadline:
                return
            if integer_weights:  # what the sliders send: whole numbers 0-5
                weights = {f"P{p}": rng.randint(1, 5) for p in range(4)}
            else:  # every request new: no cache can help
                weights = {f"P{p}": rng.uniform(0.1, 5) for p in range(4)}
            t0 = time.perf_counter()
            r = await client.post(url, json={"weights": weights})
            latencies.append(time.perf_counter() - t0)
            r.raise_for_status()

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    return latencies


def report(label: str, lat: list[float], wall: float) -> float:
    a = np.array(lat) * 1000
    print(f"{label}: {len(a):,} requests in {wall:.1f} s ({len(a) / wall:,.0f}/s); "
          f"p50 {np.percentile(a, 50):.1f} ms, p95 {np.percentile(a, 95):.1f} ms, p99 {np.percentile(a, 99):.1f} ms (goal p99 < 20 ms)")
    return float(np.percentile(a, 99))


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
math.randomseed(7)
request = function()
  local body
  if INTEGER then  -- what the sliders send: whole numbers
    body = string.format('{"weights":{"P0":%d,"P1":%d,"P2":%d,"P3":%d}}', math.random(1, 5), math.random(1, 5), math.random(1, 5), math.random(1, 5))
  else  -- new weights every request: no cache can help
    body = string.format('{"weights":{"P0":%.6f,"P1":%.6f,"P2":%.6f,"P3":%.6f}}', math.random() * 5 + 0.1, math.random() * 5 + 0.1, math.random() * 5 + 0.1, math.random() * 5 + 0.1)
  end
  return wrk.format(nil, nil, nil, body)
end
"""


def _ms(text: str | None) -> float:
    """wrk's '25.30ms' / '1.02s' / '850.00us' in milliseconds."""
    if not text:
        return float("nan")
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def run_wrk(url: str, seconds: float, concurrency: int, integer: bool, folder: Path) -> tuple[str, float]:
    script = folder / "rank.lua"
    script.write_text(f"INTEGER = {'true' if integer else 'false'}\n" + WRK_SCRIPT)
    out = subprocess.run(["wrk", "-t2", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)", out, re.M))
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    text = (f"{float(rate.group(1)) if rate else 0:,.0f} requests/s; p50 {pct.get('50')}, p99 {pct.get('99')} (goal p99 < 20 ms)"
            + (f"; {errors.group(1)} non-2xx responses" if errors else ""))
    return text, _ms(pct.get("99"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fw, data = make_inputs(Path(tmp))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "AICITY_STORE": str(Path(tmp) / "s.duckdb")}
        server = subprocess.Popen(
            [sys.executable, "-m", "aicity", "serve", "--port", str(port), "--workers", str(args.workers), "-f", str(fw), "-d", str(data)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(600):
                try:
                    if httpx.get(base + "/api/personas", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            url = base + "/api/rank"
            tool = "wrk" if shutil.which("wrk") else "a Python asyncio client on the same cores (install wrk for a fair load)"
            print(f"server: {args.workers} worker(s), 1,000 cities x 100 indicators; {args.concurrency} concurrent clients; load from {tool}")
            asyncio.run(load(url, 200, 10, 10, False))  # warm-up
            p99 = {}
            for label, integer in (("new weights every request (no cache)", False), ("slider positions (whole numbers)", True)):
                if shutil.which("wrk"):
                    text, p99[integer] = run_wrk(url, args.seconds, args.concurrency, integer, Path(tmp))
                    print(f"{label}: {text}")
                else:
                    t0 = time.perf_counter()
                    lat = asyncio.run(load(url, args.requests, args.concurrency, args.seconds, integer))
                    p99[integer] = report(label, lat, time.perf_counter() - t0)
            print(f"api rank p99: {p99[False]:.1f} ms at {args.concurrency} clients")
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
