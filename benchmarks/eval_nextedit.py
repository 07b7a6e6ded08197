"""Evaluate next-edit predictors on ../shared/data/nes_<split>.jsonl.gz, next to trivial baselines
in the same run.

    python benchmarks/eval_nextedit.py --split dev [--json out.json]

Per predictor: exact match (the predicted edited cells equal the expected ones; "no edit" is right
on no-edit examples), delta-chrF (character 6-gram F2 of the predicted change against the expected
change, over the examples that expect an edit), precision when a suggestion is shown, precision on the no-edit
examples (nothing shown), the share of examples with a suggestion shown, exact match on cross-cell
examples, and latency p50/p90.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_cursor.nextedit import predict  # noqa: E402
from jupyter_cursor.nextedit.rename import carry, detect_rename  # noqa: E402
from jupyter_cursor.nextedit.repeat import changed_span, repeat_edit  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def chrf(hypothesis: str, reference: str, order: int = 6, beta: float = 2.0) -> float:
    scores = []
    for n in range(1, order + 1):
        hyp = Counter(hypothesis[i : i + n] for i in range(len(hypothesis) - n + 1))
        ref = Counter(reference[i : i + n] for i in range(len(reference) - n + 1))
        if not hyp or not ref:
            continue
        overlap = sum((hyp & ref).values())
        p, r = overlap / sum(hyp.values()), overlap / sum(ref.values())
        scores.append(0.0 if p + r == 0 else (1 + beta**2) * p * r / (beta**2 * p + r))
    return statistics.mean(scores) if scores else float(hypothesis == reference)


def delta_chrf(row, cell_id: str, got: dict, expected: str) -> float:
    """chrF of the edit itself (Zed's delta-chrF): the changed span of the predicted cell against
    the changed span of the expected one, both relative to the cell before the edit."""
    before = next((c["source"] for c in row["cells"] if c["id"] == cell_id), "")
    if cell_id not in got:
        return 0.0
    want_old, want_new = changed_span(before, expected)
    got_old, got_new = changed_span(before, got[cell_id])
    return chrf(got_old + "\u2192" + got_new, want_old + "\u2192" + want_new)


def no_edit(row) -> dict:
    return {}


def repeat_last_edit(row) -> dict:
    """Baseline: the last event's change made again at its next place in the cursor's cell."""
    if not row["events"]:
        return {}
    cells = {c["id"]: c["source"] for c in row["cells"]}
    cell_id = row["cursor"]["cell_id"]
    repeated = repeat_edit(row["events"][-1], cells.get(cell_id, ""), row["cursor"]["offset"])
    return {cell_id: repeated} if repeated is not None else {}


def rename_only(row) -> dict:
    for event in reversed(row["events"]):
        if event["cell_id"] in {c["id"] for c in row["cells"]}:
            rename = detect_rename(event["before"], event["after"])
            return {e["cell_id"]: e["source"] for e in carry(rename, row["cells"])} if rename else {}
    return {}


def deterministic(row) -> dict:
    result = predict(row["cells"], row["cursor"]["cell_id"], row["events"], row["cursor"]["offset"])
    return {edit["cell_id"]: edit["source"] for edit in result["edits"]}


PREDICTORS = {
    "no-edit": no_edit,
    "repeat-last-edit": repeat_last_edit,
    "rename": rename_only,
    "ensemble: rename, then repeat (shipped)": deterministic,
}


def evaluate(rows, fn) -> dict:
    exact = shown = shown_right = noedit_total = noedit_quiet = cross_total = cross_right = 0
    chrfs, latencies = [], []
    for row in rows:
        started = time.perf_counter()
        got = fn(row)
        latencies.append((time.perf_counter() - started) * 1000)
        want = row["expected"]
        right = got == want
        exact += right
        if got:
            shown += 1
            shown_right += right
        if not want:
            noedit_total += 1
            noedit_quiet += not got
        else:
            chrfs.append(statistics.mean(delta_chrf(row, cid, got, src) for cid, src in want.items()))
        if row.get("cross_cell"):
            cross_total += 1
            cross_right += right
    latencies.sort()
    n = len(rows)
    return {
        "exact_match": exact / n,
        "chrf": statistics.mean(chrfs) if chrfs else 0.0,
        "precision_when_shown": shown_right / shown if shown else 0.0,
        "no_edit_precision": noedit_quiet / noedit_total if noedit_total else 0.0,
        "shown_rate": shown / n,
        "cross_cell_exact": cross_right / cross_total if cross_total else 0.0,
        "latency_ms_p50": statistics.median(latencies),
        "latency_ms_p90": latencies[int(0.9 * (n - 1))],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="dev", choices=["dev", "train"])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    path = Path(args.data) / f"nes_{args.split}.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    print(f"{path.name}: {len(rows)} examples")
    results = {name: evaluate(rows, fn) for name, fn in PREDICTORS.items()}
    columns = list(next(iter(results.values())))
    print("| predictor | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, r in results.items():
        print(f"| {name} | " + " | ".join(f"{r[c]:.3f}" for c in columns) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
