"""CLI cold start: wall time of fresh `clinqa` processes (`--help`, and `ask` on an existing knowledge base).

python -m benchmarks.cold_start [--db .bench/pdq.sqlite]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import WORK, machine

QUESTION = "What is the 5-year survival after complete resection of pulmonary metastases in recurrent osteosarcoma?"


def timed(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=WORK / "pdq.sqlite")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    clinqa = shutil.which("clinqa") or str(Path(sys.executable).parent / "clinqa")
    print(f"CLI cold start, median of {args.runs} fresh processes — {machine()}\n")
    print(f"clinqa --help: {timed([clinqa, '--help'], args.runs):.2f} s")
    if args.db.exists():
        ask = timed([clinqa, "--db", str(args.db), "ask", "--json", QUESTION], args.runs)
        print(f"clinqa ask (knowledge base {args.db.name}, {args.db.stat().st_size / 2**20:.0f} MB): {ask:.2f} s")


if __name__ == "__main__":
    main()
