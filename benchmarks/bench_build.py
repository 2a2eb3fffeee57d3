"""Build speed on a synthetic 10,000 units x 200 indicators, 4-level index.

Prints figures and ratios against a baseline measured in the same run (pandas merely reading
the same file); asserts nothing. Goals (issue 2): aicity.build from the file within 3x the
read, the pipeline on arrays under 1 s on 2 cores.

    .venv/bin/python benchmarks/bench_build.py [--units 10000] [--indicators 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import aicity
from aicity.build import resolve_spec, run_pipeline
from aicity.export import write_outputs
from aicity.store import Store

PIPELINE = {
    "impute": {"method": "median"},
    "treat": {"method": "winsorise_log", "winmax": 5, "skew": 2.0, "kurtosis": 3.5},
    "normalize": {"method": "minmax", "range": [0, 100]},
    "aggregate": {"method": "arithmetic"},
}


def make_inputs(folder: Path, n_units: int, n_ind: int, seed: int = 1) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    per_sub, subs_per_pillar = 5, 5
    n_sub = n_ind // per_sub
    n_pillar = max(1, n_sub // subs_per_pillar)
    fw = {
        "index": {"code": "INDEX", "names": {"en": "Synthetic index"}},
        "groups": [{"code": f"P{p}", "parent": "INDEX", "weight": 1} for p in range(n_pillar)]
        + [{"code": f"S{s}", "parent": f"P{s % n_pillar}", "weight": 1 + s % 3} for s in range(n_sub)],
        "indicators": [
            {"code": f"i{i:03d}", "parent": f"S{i % n_sub}", "weight": 1, "direction": -1 if i % 7 == 0 else 1}
            for i in range(n_ind)
        ],
        "pipeline": PIPELINE,
    }
    fw_path = folder / "framework.yaml"
    fw_path.write_text(yaml.safe_dump(fw, sort_keys=False))
    # Skewed data (lognormal) so outlier treatment has work to do; 2 % missing.
    values = rng.lognormal(mean=2.0, sigma=rng.uniform(0.2, 1.5, n_ind), size=(n_units, n_ind))
    values[rng.random(values.shape) < 0.02] = np.nan
    frame = pd.DataFrame(values, columns=[f"i{i:03d}" for i in range(n_ind)])
    frame.insert(0, "unit", [f"U{u:05d}" for u in range(n_units)])
    data_path = folder / "data.csv"
    frame.to_csv(data_path, index=False)
    return fw_path, data_path


def best_of(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--indicators", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fw_path, data_path = make_inputs(folder, args.units, args.indicators)
        size_mb = data_path.stat().st_size / 1e6
        print(f"input: {args.units:,} units x {args.indicators} indicators, 4 levels; CSV {size_mb:.1f} MB")
        t_read, _ = best_of(lambda: pd.read_csv(data_path), args.repeat)
        default = {"normalize": "minmax", "aggregate": "arithmetic"}
        t_default, _ = best_of(lambda: aicity.build(fw_path, data_path, default), args.repeat)
        t_build, result = best_of(lambda: aicity.build(fw_path, data_path), args.repeat)
        fw = aicity.load_framework(fw_path)
        ds = aicity.load_data(data_path, fw)
        steps = resolve_spec(fw, None)
        t_arrays, _ = best_of(lambda: run_pipeline(fw, ds, steps), args.repeat)
        t_write, written = best_of(lambda: write_outputs(result, folder / "out"), 1)
        t_store, _ = best_of(lambda: Store(folder / "runs.duckdb").save(result), 1)
        rows = len(result.units) * len(result.codes)
        print(f"pandas.read_csv (baseline):        {t_read:7.3f} s")
        print(f"aicity.build, default pipeline:    {t_default:7.3f} s   ratio {t_default / t_read:5.2f}x the read (goal <= 3x)")
        print(f"aicity.build, + impute and treat:  {t_build:7.3f} s   ratio {t_build / t_read:5.2f}x the read")
        print(f"pipeline on arrays (all steps):    {t_arrays:7.3f} s   (goal < 1 s)")
        for step, secs in result.timings.items():
            print(f"    {step:<12} {secs:7.3f} s")
        print(f"write results.csv/.json ({rows:,} rows): {t_write:7.3f} s   xlsx: {written.get('xlsx')}")
        print(f"store the run in DuckDB:           {t_store:7.3f} s")


if __name__ == "__main__":
    main()
