"""Build speed on a synthetic 10,000 units x 200 indicators, 4-level index.

Prints figures and ratios against baselines measured in the same run; asserts nothing.
- In process: aicity.build from the file against pandas merely reading it (goal <= 3x), the
  pipeline on arrays (goal < 1 s on 2 cores).
- The whole command (issue #15): `aicity build` from start to exit, writing results.csv,
  results.parquet and results.json and recording the run in the store, against the command
  `python -c "import pandas; pandas.read_csv(F)"` (goal <= 2.5x), with each part's time.
The last line is for scripts: `whole build: X s; pandas read command: Y s; ratio Z`.

    .venv/bin/python benchmarks/bench_build.py [--units 10000] [--indicators 200]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import aicity
from aicity.build import resolve_spec, run_pipeline
from aicity.export import results_table, staged, write_outputs
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
        print(f"write results.csv/.parquet/.json ({rows:,} rows, in threads): {t_write:7.3f} s   xlsx: {written.get('xlsx')}")
        print(f"store the run in DuckDB:           {t_store:7.3f} s")
        whole_command(folder, fw_path, data_path, args.repeat, result)


def _command(argv: list[str]) -> float:
    return _command_cpu(argv)[0]


def _command_cpu(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, and the CPU seconds (user, system) the command used on all its threads."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def whole_command(folder: Path, fw_path: Path, data_path: Path, repeat: int, result) -> None:
    """The command a user runs, start to exit, against the pandas read command; then where
    its time goes, measured in process on the same files (imports excluded)."""
    aicity_cli = str(Path(sys.executable).with_name("aicity"))
    read = min(_command([sys.executable, "-c", f"import pandas; pandas.read_csv({str(data_path)!r})"]) for _ in range(repeat))
    runs = []
    for i in range(repeat):
        out, store = folder / f"cmd-out-{i}", folder / f"cmd-{i}.duckdb"
        runs.append(_command_cpu([aicity_cli, "build", "-f", str(fw_path), "-d", str(data_path), "--out", str(out), "--store", str(store)]))
    whole, user, system = min(runs)
    print(f"python -c 'import pandas; pandas.read_csv(F)':  {read:7.3f} s")
    print(f"aicity build (csv, parquet, json, store):        {whole:7.3f} s   ratio {whole / read:5.2f}x (goal <= 2.5x)")
    print(f"    its CPU: user {user:.3f} s, system {system:.3f} s on {os.cpu_count()} cores "
          f"(wall can be no less than CPU / cores: {(user + system) / (os.cpu_count() or 1):.3f} s)")
    import_cmd = [sys.executable, "-c", "import aicity.cli.build, aicity.build, aicity.export, aicity.store"]
    t_import = min(_command(import_cmd) for _ in range(repeat))
    # what no writer can go below: the same imports and the build, writing nothing at all
    floor_cmd = [sys.executable, "-c", "import aicity.cli.build, aicity.build, aicity.export, aicity.store; "
                 f"from aicity.build import build; build({str(fw_path)!r}, {str(data_path)!r})"]
    t_floor = min(_command(floor_cmd) for _ in range(repeat))
    print(f"    imports and build, writing nothing: {t_floor:.3f} s = {t_floor / read:.2f}x the read command, "
          f"leaving {max(2.5 * read - t_floor, 0):.3f} s of the 2.5x goal for the files and the store")
    st = Store(folder / "parts.duckdb")
    t1 = time.perf_counter()
    rebuilt = aicity.build(fw_path, data_path)
    t2 = time.perf_counter()
    table = results_table(rebuilt)
    t3 = time.perf_counter()
    files: dict[str, float] = {}
    with staged(folder / "parts-out") as stage:
        c3 = time.process_time()
        write_outputs(rebuilt, stage, table=table, timings=files)
        t4, c4 = time.perf_counter(), time.process_time()
        st.save(rebuilt, table=table)
        t5, c5 = time.perf_counter(), time.process_time()
    print("  where the command's time goes (in process):")
    print(f"    python, imports          {t_import:7.3f} s")
    print(f"    build                    {t2 - t1:7.3f} s")
    print(f"    tidy table (once)        {t3 - t2:7.3f} s")
    print(f"    write files (threads)    {t4 - t3:7.3f} s   CPU {c4 - c3:.3f} s; " + ", ".join(f"{k} {v:.3f} s" for k, v in files.items()))
    print(f"    record the run           {t5 - t4:7.3f} s   CPU {c5 - c4:.3f} s")
    print(f"whole build: {whole:.3f} s; pandas read command: {read:.3f} s; ratio {whole / read:.2f}")


if __name__ == "__main__":
    main()
