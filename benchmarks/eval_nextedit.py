"""Evaluate next-edit predictors on ../shared/data/nes_<split>.jsonl.gz, next to trivial baselines
in the same run.

    python benchmarks/eval_nextedit.py [--split dev | --file NES.jsonl.gz] [--model PATH --format NAME
        --min-confidence 0.3,0.5] [--limit N] [--json OUT]

Per predictor: exact match (the predicted edited cells equal the expected ones; "no edit" is right
on no-edit examples), delta-chrF (character 6-gram F2 of the predicted change against the expected
change, over the examples that expect an edit), precision when a suggestion is shown, precision on
the no-edit examples (nothing shown), the share of examples with a suggestion shown, exact match on
cross-cell examples, the rate of well-formed model outputs (model predictors), latency p50/p90, and
the reward Cursor trains its Tab model on (+0.75 per right suggestion shown, -0.25 per wrong one,
0 for nothing shown; per example): the measure the ensemble's order is chosen by. Three rows are
what the product runs: "default (ranker)" (the learned filter and ranker over every predictor's
candidates), "default, then the embedded completer" (what the server runs unconfigured with no
kernel: when the ranker shows nothing, completion/continuation.py's ghost text at the cursor) and
"rules only" (``jupyter cursor predict --rules-only``: the shipped rules, the first that answers
wins).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The shipped filter is what is measured, never one refitted from this machine's suggestion log
# (ranker.current_ranker reads it from the Jupyter data dir).
os.environ["JUPYTER_DATA_DIR"] = tempfile.mkdtemp(prefix="eval_nextedit_")

from jupyter_cursor.cli.predict import add_engine_arguments  # noqa: E402
from jupyter_cursor.completion import continuation  # noqa: E402
from jupyter_cursor.completion.source import insertion  # noqa: E402
from jupyter_cursor.nextedit.formats import FORMATS  # noqa: E402
from jupyter_cursor.nextedit.model import DEFAULT_MIN_CONFIDENCE, ModelAnswer, sure_enough  # noqa: E402
from jupyter_cursor.nextedit.predictor import SHIPPED, predict  # noqa: E402
from jupyter_cursor.nextedit.spans import changed_span  # noqa: E402

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


# A prediction: {cell_id: new source}, and for model predictors whether the output was well formed.
Prediction = tuple[dict, bool | None]


def no_edit(row) -> Prediction:
    return {}, None


def repeat_last_edit(row) -> Prediction:
    """Baseline: the last event's change (characters) made again at its next place in the cursor's
    cell, found as plain text."""
    if not row["events"]:
        return {}, None
    cell_id, offset = row["cursor"]["cell_id"], row["cursor"]["offset"]
    source = next((c["source"] for c in row["cells"] if c["id"] == cell_id), "")
    old, new = changed_span(row["events"][-1]["before"], row["events"][-1]["after"])
    at = source.find(old, offset) if old.strip() else -1
    return ({cell_id: source[:at] + new + source[at + len(old) :]} if at >= 0 else {}), None


def rules(*order: str) -> Callable[[dict], Prediction]:
    def run(row) -> Prediction:
        result = predict(
            row["cells"], row["cursor"]["cell_id"], row["events"], row["cursor"]["offset"], order
        )
        return {edit["cell_id"]: edit["source"] for edit in result["edits"]}, None

    return run


def default(rules_only: bool = False) -> Callable[[dict], Prediction]:
    """What ``predict`` runs by default (the ranker), or with ``rules_only``."""

    def run(row) -> Prediction:
        cursor = row["cursor"]
        result = predict(
            row["cells"], cursor["cell_id"], row["events"], cursor["offset"], rules_only=rules_only
        )
        return {edit["cell_id"]: edit["source"] for edit in result["edits"]}, None

    return run


def completer(row) -> Prediction:
    """The embedded completer alone at the cursor: what it would add as one more candidate."""
    cursor = row["cursor"]
    text = continuation.complete(row["cells"], cursor["cell_id"], cursor["offset"], row["events"])
    if not text:
        return {}, None
    (edit,) = insertion(row["cells"], cursor["cell_id"], cursor["offset"], text)
    return {edit["cell_id"]: edit["source"]}, None


def then_completer(row) -> Prediction:
    """The default, then (nothing shown) the embedded completer at the cursor, as the server's
    NextEditService asks it with no kernel."""
    got, _ = default()(row)
    return (got, None) if got else completer(row)


def rules_name(order) -> str:
    return "rules: " + ", ".join(order)


# Each deterministic predictor alone and in both orders; the shipped order is always among them.
RULE_ORDERS = [
    ("rename",),
    ("repeat",),
    ("repeat-earlier",),
    ("import",),
    ("rename", "repeat"),
    ("repeat", "rename"),
    ("repeat-earlier", "repeat"),
    ("repeat", "repeat-earlier"),
]
SHIPPED_NAME = "default (ranker)"
RULES_ONLY_NAME = "rules only (" + ", ".join(SHIPPED) + ")"
PREDICTORS: dict[str, Callable[[dict], Prediction]] = {
    "baseline: no-edit": no_edit,
    "baseline: repeat-last-edit": repeat_last_edit,
    **{rules_name(order): rules(*order) for order in RULE_ORDERS},
    RULES_ONLY_NAME: default(rules_only=True),
    SHIPPED_NAME: default(),
    "the embedded completer alone": completer,
    "default, then the embedded completer": then_completer,
}


def evaluate(rows, predictions: list[Prediction], latencies: list[float]) -> dict:
    exact = shown = shown_right = noedit_total = noedit_quiet = cross_total = cross_right = 0
    chrfs, formed = [], []
    for row, (got, well_formed) in zip(rows, predictions):
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
            chrfs.append(
                statistics.mean(delta_chrf(row, cid, got, src) for cid, src in want.items())
            )
        if row.get("cross_cell"):
            cross_total += 1
            cross_right += right
        if well_formed is not None:
            formed.append(well_formed)
    ordered = sorted(latencies)
    n = len(rows)
    return {
        "exact_match": exact / n,
        "delta_chrf": statistics.mean(chrfs) if chrfs else 0.0,
        "precision_when_shown": shown_right / shown if shown else 0.0,
        "no_edit_precision": noedit_quiet / noedit_total if noedit_total else 0.0,
        "shown_rate": shown / n,
        "cross_cell_exact": cross_right / cross_total if cross_total else 0.0,
        "well_formed": statistics.mean(formed) if formed else None,
        "latency_ms_p50": statistics.median(ordered),
        "latency_ms_p90": ordered[int(0.9 * (n - 1))],
        "reward": (0.75 * shown_right - 0.25 * (shown - shown_right)) / n,
    }


def run_predictor(rows, fn) -> tuple[list[Prediction], list[float]]:
    predictions, latencies = [], []
    for row in rows:
        started = time.perf_counter()
        predictions.append(fn(row))
        latencies.append((time.perf_counter() - started) * 1000)
    return predictions, latencies


async def run_model(rows, args) -> tuple[list[ModelAnswer | None], list[float]]:
    """The model's answer on every row (None where it did not answer), ungated by confidence:
    the gate is applied afterwards, at each threshold asked for."""
    from jupyter_cursor.cli.predict import engine_config
    from jupyter_cursor.nextedit.service import load_model_service

    service = await load_model_service(engine_config(args), args.format, min_confidence=0.0)
    answers, latencies = [], []
    try:
        for row in rows:
            started = time.perf_counter()
            answer = None
            async for item in service.model.stream(row):
                if isinstance(item, ModelAnswer):
                    answer = item
            latencies.append((time.perf_counter() - started) * 1000)
            answers.append(answer)
    finally:
        service.model.runtime.close()
    return answers, latencies


def gated(answers: list[ModelAnswer | None], threshold: float) -> list[Prediction]:
    """The model's predictions as the service shows them with ``min_confidence=threshold``."""
    predictions = []
    for answer in answers:
        sure = answer is not None and sure_enough(answer.confidence, threshold)
        edits = {edit["cell_id"]: edit["source"] for edit in answer.edits} if sure else {}
        predictions.append((edits, answer.well_formed if answer else None))
    return predictions


def sample(rows: list, limit: int | None) -> list:
    """An evenly spaced sample, so that a short run still spans every repository."""
    if not limit or limit >= len(rows):
        return rows
    step = len(rows) / limit
    return [rows[int(i * step)] for i in range(limit)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="dev", choices=["dev", "train"])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument(
        "--file",
        help="a NES-shaped .jsonl.gz to evaluate instead of a split "
        "(e.g. the train examples the recipe held out of fine-tuning)",
    )
    parser.add_argument(
        "--limit", type=int, help="evaluate on an evenly spaced sample of N examples"
    )
    parser.add_argument(
        "--model", help="a next-edit model (local directory or hub id) to evaluate too"
    )
    parser.add_argument("--format", default="jupyter-cursor", choices=list(FORMATS))
    add_engine_arguments(parser)
    parser.add_argument(
        "--min-confidence",
        default=str(DEFAULT_MIN_CONFIDENCE),
        help="comma-separated thresholds of the model gate to report (one model run)",
    )
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    thresholds = [float(t) for t in args.min_confidence.split(",")]
    path = Path(args.file) if args.file else Path(args.data) / f"nes_{args.split}.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = sample([json.loads(line) for line in handle], args.limit)
    print(f"{path.name}: {len(rows)} examples")
    runs = {name: run_predictor(rows, fn) for name, fn in PREDICTORS.items()}
    if args.model:
        answers, model_ms = asyncio.run(run_model(rows, args))
        shipped, shipped_ms = runs[SHIPPED_NAME]
        for threshold in thresholds:
            model = gated(answers, threshold)
            runs[f"model ({args.format}), min confidence {threshold:g}"] = (model, model_ms)
            # The service's order: the default answers when it can, the model otherwise.
            runs[f"ensemble: the default, then the model at {threshold:g}"] = (
                [rule if rule[0] else m for rule, m in zip(shipped, model)],
                [
                    r + (m if not rule[0] else 0.0)
                    for rule, r, m in zip(shipped, shipped_ms, model_ms)
                ],
            )
    results = {name: evaluate(rows, *run) for name, run in runs.items()}
    columns = list(next(iter(results.values())))
    print("| predictor | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, r in results.items():
        shown = " (shipped)" if name == SHIPPED_NAME else ""
        cells = ["—" if r[c] is None else f"{r[c]:.3f}" for c in columns]
        print(f"| {name}{shown} | " + " | ".join(cells) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
