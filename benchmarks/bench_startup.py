"""How fast the command line starts, against importing pandas alone (measured in the same run).

    .venv/bin/python benchmarks/bench_startup.py [--repeat 7]

Each command runs in a fresh process; the best of --repeat runs is kept (the machine is shared
and noisy). `aicity validate` reads and checks the bundled framework and data, so it includes
real work besides starting. The last line is for scripts.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

AICITY = str(Path(sys.executable).with_name("aicity"))
COMMANDS = {
    "python -c 'import pandas'": [sys.executable, "-c", "import pandas"],
    "aicity --help": [AICITY, "--help"],
    "aicity validate --help": [AICITY, "validate", "--help"],
    "aicity validate (bundled)": [AICITY, "validate"],
}


def best(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    got = {name: best(cmd, args.repeat) for name, cmd in COMMANDS.items()}
    base = got["python -c 'import pandas'"]
    for name, t in got.items():
        print(f"{name:32s} {t:6.3f} s   {t / base:4.2f}x pandas import")
    print(f"startup: help {got['aicity --help']:.3f} s; validate {got['aicity validate (bundled)']:.3f} s; "
          f"pandas import {base:.3f} s; ratios {got['aicity --help'] / base:.2f} / {got['aicity validate (bundled)'] / base:.2f}")


if __name__ == "__main__":
    main()
