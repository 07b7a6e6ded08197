"""Evaluate inline completers on the notebooks of ../shared/data (nes_<split> and apply_<split>),
next to trivial baselines in the same run.

    python benchmarks/eval_completion.py [--split dev|train] [--limit N] [--json OUT]
        [--batch-out REQUESTS.jsonl]
        [--completion fim|chat ...: the options of `jupyter cursor predict`, e.g.
         --remote-url http://localhost:8080 --completion-endpoint llama-infill]

The notebooks (``cells`` of the ipynb rows, one copy per repository and path) are typed top to
bottom: at a position inside a line of a code cell, the earlier cells are whole, the cursor's
cell is cut at the cursor, the later cells do not exist yet, and one typing event holds the last
characters typed. The truth is the rest of the line. Positions are sampled with a fixed seed: a
few per line, strictly inside it (at least one non-blank character typed, at least one left),
capped per notebook.

Per predictor: positions, shown rate, exact line (the share of all positions where the completion
is the rest of the line), right when shown (the whole rest of the line, or a correct start of it of at least 3 characters: what
Tab then saves), characters saved (the characters right completions insert, over the truth's
characters at all positions) and latency p50/p90 in ms. ``--batch-out`` writes the requests as
the JSON lines ``jupyter cursor predict --batch`` reads (cells, cursor, events, path).

With ``--completion fim`` or ``chat`` the completer those options make (as the server makes it
from its completion_* and engine_* options: a local --model, a served one at --remote-url through
--completion-endpoint, a chat provider of --providers) is measured too, one request at a time, as
the predictor named after the source. Its completion is judged by its first line (what completes
the line); the later lines a model may write are not scored.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_cursor.cli._common import UsageError  # noqa: E402
from jupyter_cursor.cli.predict import (  # noqa: E402
    add_completion_arguments,
    add_engine_arguments,
    build_service,
    close_service,
)
from jupyter_cursor.completion import continuation  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SEED = 21
POSITIONS_PER_LINE = 2
POSITIONS_PER_NOTEBOOK = 30
# The characters the one typing event holds (at most; never before the line's start).
EVENT_CHARS = 4
# A correct start of the rest of the line counts as right from this many characters.
MIN_RIGHT_START = 3


def notebooks(data: Path, split: str) -> list[tuple[str, list[dict]]]:
    """(repository:path, cells) of every notebook of the split, once per repository and path
    (the apply rows first: their cells are a committed state)."""
    seen: dict[str, list[dict]] = {}
    for name in (f"apply_{split}.jsonl.gz", f"nes_{split}.jsonl.gz"):
        with gzip.open(data / name, "rt", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if row.get("kind") != "ipynb":
                    continue
                repo, _, rest = row["origin"].partition("@")
                key = repo + ":" + rest.partition(":")[2]
                seen.setdefault(key, row["cells"])
    return sorted(seen.items())


def positions(key: str, cells: list[dict]) -> list[tuple[int, int, int]]:
    """(cell index, offset of the line's start, column) of the sampled positions of a notebook."""
    rng = random.Random(f"{SEED}:{key}")
    found = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        start = 0
        for line in cell["source"].split("\n"):
            text = line.rstrip()
            indent = len(text) - len(text.lstrip())
            # Columns strictly inside: a non-blank character typed, one left to complete.
            columns = list(range(indent + 1, len(text)))
            for column in rng.sample(columns, min(POSITIONS_PER_LINE, len(columns))):
                found.append((index, start, column))
            start += len(line) + 1
    if len(found) > POSITIONS_PER_NOTEBOOK:
        found = sorted(rng.sample(found, POSITIONS_PER_NOTEBOOK))
    return found


def requests(books: list[tuple[str, list[dict]]], limit: int | None) -> list[dict]:
    """The requests at every sampled position: {id, path, cells, cursor, events, truth}."""
    out = []
    for key, cells in books:
        for index, start, column in positions(key, cells):
            cell = cells[index]
            offset = start + column
            source = cell["source"]
            line_end = source.find("\n", offset)
            line = source[start : len(source) if line_end < 0 else line_end]
            typed_from = max(start, offset - EVENT_CHARS)
            out.append(
                {
                    "id": f"{key}#{cell['id']}:{offset}",
                    "path": key.partition(":")[2],
                    "cells": cells[:index] + [{**cell, "source": source[:offset]}],
                    "cursor": {"cell_id": cell["id"], "offset": offset},
                    "events": [
                        {
                            "cell_id": cell["id"],
                            "before": source[:typed_from],
                            "after": source[:offset],
                        }
                    ],
                    "truth": line.rstrip()[column:],
                }
            )
    if limit and limit < len(out):
        step = len(out) / limit
        out = [out[int(i * step)] for i in range(limit)]
    return out


def nothing(request) -> str:
    return ""


def copy_earlier_line(request) -> str:
    """Baseline: the rest of the most recent earlier line that starts with the same text."""
    cells, cursor = request["cells"], request["cursor"]
    source = cells[-1]["source"][: cursor["offset"]]
    start = source.rfind("\n") + 1
    typed = source[start:]
    if not typed.strip():
        return ""
    lines = source[:start].split("\n")
    for cell in reversed(cells[:-1]):
        if cell.get("cell_type") == "code":
            lines = cell["source"].split("\n") + lines
    for line in reversed(lines):
        line = line.rstrip()
        if len(line) > len(typed) and line.startswith(typed):
            return line[len(typed) :]
    return ""


def default(request) -> str:
    return continuation.complete(
        request["cells"],
        request["cursor"]["cell_id"],
        request["cursor"]["offset"],
        request["events"],
    )


PREDICTORS: dict[str, Callable[[dict], str]] = {
    "nothing": nothing,
    "copy-earlier-line": copy_earlier_line,
    "default": default,
}


def right(completion: str, truth: str) -> bool:
    return bool(completion) and (
        completion == truth or (len(completion) >= MIN_RIGHT_START and truth.startswith(completion))
    )


def evaluate(reqs: list[dict], completions: list[str], latencies: list[float]) -> dict:
    shown = exact = good = saved = 0
    for request, completion in zip(reqs, completions):
        truth = request["truth"]
        if completion:
            shown += 1
            exact += completion == truth
            if right(completion, truth):
                good += 1
                saved += len(completion)
    n = len(reqs)
    ordered = sorted(latencies)
    return {
        "positions": n,
        "shown_rate": shown / n,
        "exact_line": exact / n,
        "right_when_shown": good / shown if shown else 0.0,
        "chars_saved": saved / max(1, sum(len(r["truth"]) for r in reqs)),
        "latency_ms_p50": statistics.median(ordered),
        "latency_ms_p90": ordered[int(0.9 * (n - 1))],
    }


def run_predictor(reqs: list[dict], fn) -> tuple[list[str], list[float]]:
    completions, latencies = [], []
    for request in reqs:
        started = time.perf_counter()
        completions.append(fn(request))
        latencies.append((time.perf_counter() - started) * 1000)
    return completions, latencies


async def run_completer(reqs: list[dict], args) -> tuple[list[str], list[float]]:
    """The first line of the completion of the options' completer at every request."""
    service = await build_service(args)
    completions, latencies = [], []
    try:
        for request in reqs:
            started = time.perf_counter()
            answer = await service.completer.complete(request)
            latencies.append((time.perf_counter() - started) * 1000)
            # The cursor's cell ends at the cursor: the insertion is the rest of the edit.
            offset = request["cursor"]["offset"]
            text = answer["edits"][0]["source"][offset:] if answer else ""
            completions.append(text.split("\n", 1)[0])
    finally:
        await close_service(service)
    return completions, latencies


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="dev", choices=["dev", "train"])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--limit", type=int, help="an evenly spaced sample of N positions")
    parser.add_argument("--json", metavar="OUT", help="write the results as JSON")
    parser.add_argument(
        "--batch-out",
        metavar="FILE",
        help="write the requests as JSON lines for `jupyter cursor predict --batch`",
    )
    parser.add_argument(
        "--model", default="", help="the FIM model: local, or its name with --remote-url"
    )
    add_engine_arguments(parser)
    add_completion_arguments(parser)
    # What `jupyter cursor predict` also takes, for its next-edit model: not measured here.
    parser.set_defaults(format="jupyter-cursor", min_confidence=None, rules_only=False)
    args = parser.parse_args(argv)
    books = notebooks(Path(args.data), args.split)
    reqs = requests(books, args.limit)
    print(f"{args.split}: {len(books)} notebooks, {len(reqs)} positions")
    if args.batch_out:
        with open(args.batch_out, "w", encoding="utf-8") as out:
            for request in reqs:
                line = {k: request[k] for k in ("id", "path", "cells", "cursor", "events")}
                out.write(json.dumps(line) + "\n")
    results = {name: evaluate(reqs, *run_predictor(reqs, fn)) for name, fn in PREDICTORS.items()}
    if args.completion in ("fim", "chat"):
        try:
            measured = asyncio.run(run_completer(reqs, args))
        except UsageError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        results[args.completion] = evaluate(reqs, *measured)
    columns = list(next(iter(results.values())))
    print("| predictor | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, r in results.items():
        cells = [str(r[c]) if isinstance(r[c], int) else f"{r[c]:.3f}" for c in columns]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
