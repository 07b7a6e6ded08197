"""`make bench`: every benchmark and evaluation, one after another, each in its own process.

    .venv/bin/python benchmarks/run_all.py [--only NAME ...] [--list]

Each prints its own table with the command, machine and date; the figures that stand are copied
into benchmarks/RESULTS.md by hand with that command. A benchmark that fails does not stop the
others; the exit status says whether all passed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent

# name -> arguments after the script; the ones that need ../shared/data skip themselves without it.
BENCHMARKS = {
    "apply": ["eval_apply.py", "--split", "dev"],
    "apply_realistic": ["eval_apply.py", "--realistic", "--split", "dev"],
    "apply_stress": ["bench_apply_stress.py"],
    "nextedit": ["eval_nextedit.py", "--split", "dev"],
    "completion": ["eval_completion.py", "--split", "dev"],
    "kernel": ["bench_kernel.py"],
    "index": ["bench_index.py"],
    "embedder_precision": ["bench_embedder_precision.py"],
    "engine": ["bench_engine.py"],
    "keystroke": ["bench_keystroke.py"],
    "reliability": ["bench_reliability.py"],
    "index_recovery": ["bench_index_recovery.py"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), help="run just these")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, command in BENCHMARKS.items():
            print(f"{name}: {' '.join(command)}")
        return 0
    failed = []
    for name in args.only or BENCHMARKS:
        script, *rest = BENCHMARKS[name]
        if not (HERE / script).exists():
            print(f"== {name}: {script} is missing", flush=True)
            failed.append(name)
            continue
        command = [sys.executable, str(HERE / script), *rest]
        print(f"== {name}: {' '.join(command)}", flush=True)
        started = time.perf_counter()
        code = subprocess.call(command)
        print(f"== {name}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
