"""Speed and memory of uncertainty and Sobol analysis (issue 4). Prints figures; asserts nothing.

1. COINr's ASEM example with its four uncertain inputs: N = 10,000 Monte Carlo samples, and
   Sobol' with N = 2,048 (12,288 runs); against COINr's measured 0.075 s per run and against a
   per-sample loop of our own single build, timed in the same run.
2. 1,000 units x 100 indicators x 10,000 samples: time and peak memory (of a child process).

    .venv/bin/python benchmarks/bench_uncertainty.py
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import aicity
from aicity.build import resolve_spec
from aicity.uncertainty import per_sample_build, run_uncertainty

ROOT = Path(__file__).resolve().parents[1]
ASEM = ROOT.parent / "shared" / "data" / "coinr-asem"
COINR_SECONDS_PER_RUN = 0.075  # ../shared/data/coinr-asem/README.md, measured on a 2-core machine
PIPELINE = ROOT / "tests" / "asem_pipeline.yaml"  # COINr's ASEM pipeline, as the tests use it
INPUTS = {
    "winmax": {"values": [1, 2, 3, 4, 5]},
    "normalize": {"values": [{"method": "minmax", "range": [1, 100]}, {"method": "zscore", "mean": 10, "sd": 2}]},
    "weights": {"noise": 0.25, "levels": [2, 3]},
    "aggregate": {"values": ["arithmetic", "geometric"]},
}


def asem() -> None:
    if not ASEM.exists():
        print(f"ASEM: skipped ({ASEM} is absent)")
        return
    args = (ASEM / "ASEM_iMeta.csv", ASEM / "ASEM_iData.csv", PIPELINE)
    run_uncertainty(*args, samples=100, uncertainty={"inputs": INPUTS})  # warm imports and caches
    t0 = time.perf_counter()
    ua = run_uncertainty(*args, samples=10_000, seed=1, uncertainty={"inputs": INPUTS})
    t_ua = time.perf_counter() - t0
    t0 = time.perf_counter()
    sa = run_uncertainty(*args, samples=1, seed=1, sobol=True, sobol_samples=2048, uncertainty={"inputs": INPUTS})
    t_sa = time.perf_counter() - t0
    fw = aicity.load_framework(args[0])
    ds = aicity.load_data(args[1], fw)
    steps = resolve_spec(fw, PIPELINE)
    n_loop = 100
    t0 = time.perf_counter()
    for row in ua.design[:n_loop]:
        per_sample_build(fw, ds, steps, ua.engine, row)
    per_run_loop = (time.perf_counter() - t0) / n_loop
    per_run_ua = t_ua / 10_000
    print("ASEM, COINr's four inputs (winmax, normalisation, weights, aggregation):")
    print(f"  uncertainty N=10,000:          {t_ua:6.2f} s  ({per_run_ua * 1e6:7.1f} us/run; goal < 2 s)")
    print(f"  Sobol N=2,048 ({sa.sobol_runs:,} runs):    {t_sa:6.2f} s  ({t_sa / sa.sobol_runs * 1e6:7.1f} us/run; goal < 2 s)")
    print(f"  per-sample loop of one build:  {per_run_loop * 1e3:6.2f} ms/run (timed on {n_loop} runs)")
    print(f"  speed-up per run: {per_run_loop / per_run_ua:6.0f}x our own loop, "
          f"{COINR_SECONDS_PER_RUN / per_run_ua:6.0f}x COINr (0.075 s/run; goal > 300x)")


def _large(queue: mp.Queue) -> None:
    rng = np.random.default_rng(5)
    n_units, n_ind = 1000, 100
    fw = {
        "index": {"code": "INDEX"},
        "groups": [{"code": f"P{p}", "parent": "INDEX"} for p in range(4)]
        + [{"code": f"S{s}", "parent": f"P{s % 4}"} for s in range(20)],
        "indicators": [{"code": f"i{i}", "parent": f"S{i % 20}", "direction": 1} for i in range(n_ind)],
    }
    values = rng.lognormal(2, 0.7, size=(n_units, n_ind))
    frame = pd.DataFrame(values, columns=[f"i{i}" for i in range(n_ind)])
    frame.insert(0, "unit", [f"U{u}" for u in range(n_units)])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        frame.to_csv(path, index=False)
        inputs = {
            "normalize": {"values": [{"method": "minmax", "range": [1, 100]}, {"method": "zscore", "mean": 10, "sd": 2}]},
            "weights": {"noise": 0.25, "levels": [1, 2, 3]},
            "aggregate": {"values": ["arithmetic", "geometric"]},
        }
        t0 = time.perf_counter()
        result = run_uncertainty(fw, path, {"normalize": {"method": "minmax", "range": [1, 100]}}, samples=10_000, uncertainty={"inputs": inputs})
        seconds = time.perf_counter() - t0
    queue.put((seconds, result.scores.shape))


def large() -> None:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_large, args=(queue,))
    proc.start()
    seconds, shape = queue.get()
    proc.join()
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print("1,000 units x 100 indicators, 3 uncertain inputs, 10,000 samples:")
    print(f"  time:        {seconds:6.2f} s   (goal < 10 s)")
    print(f"  peak memory: {peak_kb / 1024:6.0f} MB (whole child process, Python included; goal < 2,048 MB)")
    print(f"  result:      {shape[0]:,} samples x {shape[1]:,} units")


if __name__ == "__main__":
    asem()
    if "--no-large" not in sys.argv:
        large()
