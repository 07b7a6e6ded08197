"""Learning from use, measured (issue 22, item 3): simulated users whose suggestions are logged in
the real suggestion log and who refit the next-edit filter with the real command's function.

    python benchmarks/eval_refit.py [--split dev | --split train --limit 3000] [--every 20]
        [--orders 10] [--prior-strength 300] [--ignored-weight 0.5] [--threshold-margin 3 | inf]
        [--no-others] [--json OUT]

Each simulated user goes through the split's rows (requests) in an order of its own (``--orders``
seeds), is shown what the ranker chooses (nextedit/ranker.py, scored with the current weights), and
answers in the log's format (nextedit/feedback.SuggestionLog: a "shown" line with the request and
the edits, an "outcome" line). After every ``--every`` suggestions it runs
``jupyter_cursor.nextedit.refit.refit`` on its log (what ``jupyter cursor refit-filter`` runs) and
goes on with the weights it writes. The same user, in the same order, with the shipped weights
throughout is the baseline.

The users (their preferences differ from the train data's in a learnable way, except the first):

* ``as the data``: accepts a suggestion that is the row's next edit (exact, as eval_nextedit counts
  it), types past anything else (``ignored``). The control: nothing to learn that the shipped
  weights do not know; refits must not make it worse.
* ``stays in its cell``: as the data, but rejects (Escape) every suggestion outside the cell being
  typed in, right or not: a user who does not want to be sent elsewhere.
* ``no deletions``: as the data, but rejects every suggestion that only deletes text (mostly a moved
  line's other copy deleted).

Reported per block of ``--every`` suggestions (1-20, 21-40, ...; each run counts its own): the
accept rate (accepted / shown) and the reward per 100 requests of the block (+0.75 an accepted
suggestion, -0.25 one rejected or ignored, 0 nothing shown), averaged over the orders that reach the
block; and over every request after the first refit (the same requests in both runs: until then
both run the shipped weights).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import machine  # noqa: E402

from jupyter_cursor.nextedit.feedback import SuggestionLog  # noqa: E402
from jupyter_cursor.nextedit.ranker import Ranker, iter_labelled, shipped_ranker  # noqa: E402
from jupyter_cursor.nextedit.refit import (  # noqa: E402
    DEFAULT_IGNORED_WEIGHT,
    DEFAULT_PRIOR_STRENGTH,
    THRESHOLD_MARGIN,
    refit,
)
from jupyter_cursor.nextedit.spans import _ends  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def only_deletes(row, candidate) -> bool:
    cells = {c["id"]: c["source"] for c in row["cells"]}
    for edit in candidate.edits:
        before, after = cells[edit["cell_id"]], edit["source"]
        start, end = _ends(before, after)
        if after[start : len(after) - end]:
            return False
    return True


def as_the_data(row, candidate, right: bool) -> str:
    return "accepted" if right else "ignored"


def stays_in_its_cell(row, candidate, right: bool) -> str:
    if any(e["cell_id"] != row["cursor"]["cell_id"] for e in candidate.edits):
        return "rejected"
    return as_the_data(row, candidate, right)


def no_deletions(row, candidate, right: bool) -> str:
    if only_deletes(row, candidate):
        return "rejected"
    return as_the_data(row, candidate, right)


PERSONAS = {
    "as the data": as_the_data,
    "stays in its cell": stays_in_its_cell,
    "no deletions": no_deletions,
}


def prepare(rows):
    """(row, request, candidates, features, labels) of the rows the ranker has candidates for."""
    prepared = []
    for row, found, features, labels in iter_labelled(rows):
        request = {key: row[key] for key in ("path", "cells", "cursor", "events")}
        prepared.append((row, request, found, features, labels))
    return prepared


def simulate(prepared, order, persona, every, refits: bool, options: dict, workdir: Path):
    """[(request index, outcome)] of the suggestions shown, and the request index of each refit."""
    log = SuggestionLog(workdir / "log.jsonl")
    log.path.unlink(missing_ok=True)
    ranker = shipped_ranker()
    shown, refitted_at = [], []
    for position, i in enumerate(order):
        row, request, found, features, labels = prepared[i]
        if not found:
            continue
        chosen, _ = ranker.choose(found, features)
        if chosen is None:
            continue
        right = bool(labels[found.index(chosen)])
        outcome = persona(row, chosen, right)
        request_id = str(position)
        log.shown(request_id, request, {"edits": chosen.edits, "predictor": chosen.generators[0]})
        log.outcome(request_id, outcome)
        shown.append((position, outcome))
        if refits and len(shown) % every == 0:
            model, _ = refit(log.path, **options)
            ranker = Ranker.from_json(model)
            refitted_at.append(position)
    return shown, refitted_at


def reward(outcomes) -> float:
    return sum(0.75 if o == "accepted" else -0.25 for o in outcomes)


def blocks(shown, every: int) -> list[dict]:
    """Per block of ``every`` suggestions: shown, accepted, requests spanned, reward."""
    out, start = [], 0
    for k in range(0, len(shown), every):
        chunk = shown[k : k + every]
        if len(chunk) < every:
            break
        end = chunk[-1][0] + 1
        outcomes = [o for _, o in chunk]
        out.append(
            {
                "shown": len(chunk),
                "accepted": outcomes.count("accepted"),
                "requests": end - start,
                "reward": reward(outcomes),
            }
        )
        start = end
    return out


def after(shown, first: int) -> dict:
    outcomes = [o for position, o in shown if position > first]
    return {
        "shown": len(outcomes),
        "accepted": outcomes.count("accepted"),
        "rejected": outcomes.count("rejected"),
        "reward": reward(outcomes),
    }


def summarise(runs, every: int) -> dict:
    """Block-wise and after-the-first-refit figures of one persona, averaged over orders."""
    summary = {}
    for name in ("shipped", "refit"):
        per_order = [r[name]["blocks"] for r in runs]
        depth = max(len(b) for b in per_order)
        rows = []
        for k in range(depth):
            here = [b[k] for b in per_order if len(b) > k]
            rows.append(
                {
                    "block": f"{k * every + 1}-{(k + 1) * every}",
                    "orders": len(here),
                    "accept_rate": round(
                        statistics.mean(b["accepted"] / b["shown"] for b in here), 3
                    ),
                    "reward_per_100": round(
                        statistics.mean(100 * b["reward"] / b["requests"] for b in here), 2
                    ),
                }
            )
        later = [r[name]["after"] for r in runs]
        requests = sum(r["requests_after"] for r in runs)
        shown = sum(a["shown"] for a in later)
        summary[name] = {
            "blocks": rows,
            "after_first_refit": {
                "requests": requests,
                "shown": shown,
                "accept_rate": round(sum(a["accepted"] for a in later) / shown, 3)
                if shown
                else 0.0,
                "rejected": sum(a["rejected"] for a in later),
                "reward_per_100": round(100 * sum(a["reward"] for a in later) / requests, 2),
            },
        }
    return summary


def table(results: dict, every: int, depth: int, orders: int) -> str:
    """Markdown: accept rate (reward per 100 requests) per block; a block that not every order
    reached says how many did."""
    head = [f"{k * every + 1}-{(k + 1) * every}" for k in range(depth)]
    lines = [
        "| user | weights | "
        + " | ".join(head)
        + " | after the first refit: shown | accept rate | rejected | reward /100 requests |",
        "|---|---|" + "---|" * (depth + 4),
    ]
    for persona, summary in results.items():
        for name, label in (("shipped", "shipped"), ("refit", f"refit every {every}")):
            s = summary[name]
            cells = []
            for k in range(depth):
                if k >= len(s["blocks"]):
                    cells.append("—")
                    continue
                b = s["blocks"][k]
                some = "" if b["orders"] == orders else f" [{b['orders']}/{orders}]"
                cells.append(f"{b['accept_rate']:.2f} ({b['reward_per_100']:+.1f}){some}")
            a = s["after_first_refit"]
            lines.append(
                f"| {persona} | {label} | "
                + " | ".join(cells)
                + f" | {a['shown']} | {a['accept_rate']:.3f} | {a['rejected']} | "
                f"{a['reward_per_100']:+.2f} |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="dev", choices=["dev", "train"])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=0, help="the first N rows of each order")
    parser.add_argument("--every", type=int, default=20, help="suggestions between refits")
    parser.add_argument("--orders", type=int, default=10, help="simulated users per persona")
    parser.add_argument("--prior-strength", type=float, default=DEFAULT_PRIOR_STRENGTH)
    parser.add_argument("--ignored-weight", type=float, default=DEFAULT_IGNORED_WEIGHT)
    parser.add_argument(
        "--threshold-margin",
        type=float,
        default=THRESHOLD_MARGIN,
        help="out-of-fold reward a new threshold must gain (inf: keep the shipped threshold)",
    )
    parser.add_argument(
        "--no-others",
        action="store_true",
        help="do not learn the other candidates of accepted suggestions as negatives",
    )
    parser.add_argument("--personas", default=",".join(PERSONAS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with gzip.open(args.data / f"nes_{args.split}.jsonl.gz", "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    prepared = prepare(rows)
    print(f"{len(rows)} {args.split} rows prepared in {time.perf_counter() - started:.1f} s")
    results, raw = {}, {}
    options = {
        "prior_strength": args.prior_strength,
        "ignored_weight": args.ignored_weight,
        "threshold_margin": args.threshold_margin,
        "others_of_accepted": not args.no_others,
    }
    with tempfile.TemporaryDirectory() as tmp:
        for persona_name in args.personas.split(","):
            persona = PERSONAS[persona_name]
            runs = []
            for seed in range(args.orders):
                order = list(range(len(prepared)))
                random.Random(seed).shuffle(order)
                if args.limit:
                    order = order[: args.limit]
                run = {}
                kept = {}
                for name, refits in (("shipped", False), ("refit", True)):
                    shown, refitted_at = simulate(
                        prepared,
                        order,
                        persona,
                        args.every,
                        refits,
                        options,
                        Path(tmp),
                    )
                    kept[name] = (shown, refitted_at)
                # Both runs are the same until the first refit: "after" counts the same requests.
                first = kept["refit"][1][0] if kept["refit"][1] else len(order)
                for name, (shown, _) in kept.items():
                    run[name] = {
                        "blocks": blocks(shown, args.every),
                        "after": after(shown, first),
                    }
                run["requests_after"] = len(order) - first - 1
                runs.append(run)
            results[persona_name] = summarise(runs, args.every)
            raw[persona_name] = runs
            a, b = (results[persona_name][n]["after_first_refit"] for n in ("shipped", "refit"))
            print(
                f"{persona_name}: after the first refit, accept rate {a['accept_rate']:.3f} -> "
                f"{b['accept_rate']:.3f}, reward/100 requests {a['reward_per_100']:+.2f} -> "
                f"{b['reward_per_100']:+.2f} ({time.perf_counter() - started:.0f} s)"
            )
    depth = max(len(s[n]["blocks"]) for s in results.values() for n in ("shipped", "refit"))
    print()
    print(
        f"{args.split}, {len(prepared)} requests per user{f' (first {args.limit})' if args.limit else ''}, "
        f"{args.orders} orders per persona, refit every {args.every} suggestions, prior strength "
        f"{args.prior_strength:g}, ignored weight {args.ignored_weight:g}, threshold margin "
        f"{args.threshold_margin:g}{', no others' if args.no_others else ''}; {machine()}; "
        f"{time.perf_counter() - started:.0f} s"
    )
    print("accept rate (reward per 100 requests) per block of suggestions, mean over orders:")
    print(table(results, args.every, depth, args.orders))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "split": args.split,
                    "every": args.every,
                    "orders": args.orders,
                    "limit": args.limit,
                    "options": {k: str(v) for k, v in options.items()},
                    "machine": machine(),
                    "results": results,
                    "runs": raw,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
