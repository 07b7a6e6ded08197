"""Apply on answers built to be slow: how long the engine takes where its work could grow faster
than the answer (an attacker's or a runaway model's answer, within the request's size limits).

    python benchmarks/bench_apply_stress.py [--root CHECKOUT] [--repeat 3] [--up-to N]

`--root` imports the engine from another checkout (a `git worktree` of an earlier commit) to
compare in the same run. Cases, each at growing sizes:

- `tied_blocks`: n copies of a cell and n-1 blocks that fit them all, then one that fits none (no
  series: every block is refused as ambiguous);
- `series`: n copies of a cell and n blocks that fit them all (one block each, in order; a
  series is looked for over at most 8 cells);
- `near_copies`: two n-line near-copies of a cell and a block rewriting every line of one.

Prints the median seconds of `--repeat` runs per case and size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def cell(cid: str, source: str) -> dict:
    return {"id": cid, "cell_type": "code", "source": source}


def fence(code: str) -> str:
    return f"```python\n{code}\n```"


CHECK = "# check the gradient\ntf.print(2*x*(w*x+b-y))"
NEW_CHECK = "# check the gradient\ntf.print((-2)*x*(y-(w*x+b)))"


def tied_blocks(n: int):
    cells = [cell(f"c{i}", CHECK) for i in range(n)]
    return cells, "\n\n".join([fence(NEW_CHECK)] * (n - 1) + [fence("unrelated()")])


def series(n: int):
    return [cell(f"c{i}", CHECK) for i in range(n)], "\n\n".join([fence(NEW_CHECK)] * n)


def near_copies(n: int):
    lines = [f"value_{i} = compute({i}, alpha=0.5{{}})" for i in range(n)]
    cells = [
        cell("a", "\n".join(lines).format(*[""] * n)),
        cell("b", "\n".join(lines).format(*[", beta=1"] * n)),
    ]
    block = cells[0]["source"].replace("alpha=0.5", "alpha=0.7")
    return cells, fence(block)


CASES = {
    "tied_blocks": (tied_blocks, (50, 100, 200)),
    "series": (series, (2, 8)),
    "near_copies": (near_copies, (200, 1000, 5000)),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", help="a checkout whose engine to measure (default: this one)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--up-to", type=int, help="skip the sizes above this (a slow baseline)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve() if args.root else HERE.parent
    sys.path.insert(0, str(root))
    sys.path.insert(1, str(HERE))
    from machine import machine

    from jupyter_cursor.apply import apply_suggestion

    print(
        f"engine: {root}  machine: {machine()}  date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    print("| case | n | median s | ops | warnings |\n|---|---|---|---|---|")
    for name, (build, sizes) in CASES.items():
        for n in sizes:
            if args.up_to is not None and n > args.up_to:
                continue
            cells, answer = build(n)
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                diff = apply_suggestion(cells, answer)
                times.append(time.perf_counter() - started)
            median = statistics.median(times)
            print(f"| {name} | {n} | {median:.2f} | {len(diff.ops)} | {len(diff.warnings)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
