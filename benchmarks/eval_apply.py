"""Evaluate the apply engine on ../shared/data/apply_<split>.jsonl.gz, next to simple baselines in
the same run.

    python benchmarks/eval_apply.py --split dev [--json out.json] [--limit N]
    python benchmarks/eval_apply.py --split train --methods engine --failures 20 [--style lazy]

`--failures N` prints N examples the first method gets wrong (with its warnings and a diff of the
notebook it made against the true one), to study failure classes on the train split; `--style`
keeps only the examples of one suggestion style. `--slowest N` prints the N slowest examples.

Metrics, per method: notebook exact match (trailing whitespace trimmed), exact match per suggestion
style, cell-operation F1, the share of examples where a cell the suggestion does not target changed,
leftover elision markers, syntax errors introduced, refusals (suggestions with a "not applied"
warning), and latency per suggestion (p50/p95).

Baselines: `exact-replace` (SEARCH/REPLACE and diff hunks by exact string replacement, whole blocks
replace the cell that shares most lines with them), `dmp-patch` (the same, with diff-match-patch's
fuzzy patching instead of exact replacement).
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_cursor.apply import (  # noqa: E402
    apply_suggestion,  # noqa: E402
    edits,
    markdown,
)
from jupyter_cursor.apply.notebook_diff import operations  # noqa: E402
from jupyter_cursor.apply.syntax import syntax_error  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REFUSALS = {"ambiguous", "not_found", "not_merged", "empty_search"}


def norm_source(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.rstrip().split("\n"))


def norm_cells(cells) -> list[tuple[str, str]]:
    return [(c["cell_type"], norm_source(c["source"])) for c in cells]


# -- baselines -----------------------------------------------------------------------------------------


def _best_cell(cells, text):
    lines = {l.strip() for l in text.split("\n") if l.strip()}
    scored = [
        (len(lines & {l.strip() for l in c["source"].split("\n")}), i) for i, c in enumerate(cells)
    ]
    return max(scored)[1] if scored else None


def _baseline(cells, suggestion, replace):
    cells = [dict(c) for c in cells]
    blocks, _ = markdown.parse(suggestion)
    for block in blocks:
        if edits.is_search_replace(block.code):
            reps = edits.parse_search_replace(block.code)
        elif edits.is_udiff(block.code, block.language):
            reps = edits.parse_udiff(block.code)
        else:
            i = _best_cell(cells, block.code)
            if i is not None:
                cells[i]["source"] = block.code
            continue
        for rep in reps:
            old, new = "\n".join(rep.old), "\n".join(rep.new)
            for cell in cells:
                changed = replace(cell["source"], old, new)
                if changed is not None:
                    cell["source"] = changed
                    break
    return {"cells": cells, "warnings": []}


def exact_replace(cells, suggestion):
    def replace(source, old, new):
        return source.replace(old, new, 1) if old and old in source else None

    return _baseline(cells, suggestion, replace)


def dmp_patch(cells, suggestion):
    from diff_match_patch import diff_match_patch

    dmp = diff_match_patch()
    dmp.Match_Threshold = 0.3

    def replace(source, old, new):
        if not old:
            return None
        patches = dmp.patch_make(old, new)
        result, applied = dmp.patch_apply(patches, source)
        return result if applied and all(applied) and result != source else None

    return _baseline(cells, suggestion, replace)


def engine(cells, suggestion):
    return apply_suggestion(cells, suggestion).to_json()


METHODS = {"engine": engine, "exact-replace": exact_replace, "dmp-patch": dmp_patch}


# -- metrics ------------------------------------------------------------------------------------------


def op_keys(before, after):
    keys = set()
    for op in operations(before, after):
        if op["op"] == "insert":
            keys.add(("insert", op["position"], norm_source(op["source"])))
        else:
            keys.add((op["op"], op["cell_id"]))
    return keys


def evaluate(rows, method, failures=None, timings=None):
    """The figures of `method` on `rows`; failing rows go to `failures`, (ms, row id) to `timings`."""
    fn = METHODS[method]
    per_style = defaultdict(lambda: [0, 0])
    tp = fp = fn_ = 0
    untouched = markers = syntax = refused = exact = 0
    latencies = []
    for row in rows:
        start = time.perf_counter()
        result = fn(row["cells"], row["suggestion"])
        latencies.append((time.perf_counter() - start) * 1000)
        got, want = result["cells"], row["cells_after"]
        ok = norm_cells(got) == norm_cells(want)
        exact += ok
        if not ok and failures is not None:
            failures.append((row, result))
        if timings is not None:
            timings.append((latencies[-1], row["id"]))
        per_style[row["style"]][0] += ok
        per_style[row["style"]][1] += 1
        true_ops, got_ops = op_keys(row["cells"], want), op_keys(row["cells"], got)
        tp += len(true_ops & got_ops)
        fp += len(got_ops - true_ops)
        fn_ += len(true_ops - got_ops)
        targeted = {k[1] for k in true_ops if k[0] in ("modify", "delete")}
        before = {c["id"]: c["source"] for c in row["cells"]}
        after = {c["id"]: c["source"] for c in got}
        if any(
            cid not in targeted and cid in after and after[cid] != src
            for cid, src in before.items()
        ):
            untouched += 1
        old_lines = {l.strip() for c in row["cells"] for l in c["source"].split("\n")}
        if any(
            edits.is_marker(l) and l.strip() not in old_lines
            for c in got
            for l in c["source"].split("\n")
        ):
            markers += 1
        want_ok = {
            c["id"]: syntax_error(c["source"]) is None for c in want if c["cell_type"] == "code"
        }
        if any(
            c["cell_type"] == "code"
            and syntax_error(c["source"])
            and want_ok.get(c["id"], True)
            and (c["id"] not in before or syntax_error(before[c["id"]]) is None)
            for c in got
        ):
            syntax += 1
        if any(isinstance(w, dict) and w.get("code") in REFUSALS for w in result["warnings"]):
            refused += 1
    n = len(rows)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn_) if tp + fn_ else 0.0
    latencies.sort()
    return {
        "examples": n,
        "exact_match": exact / n,
        "per_style": {s: v[0] / v[1] for s, v in sorted(per_style.items())},
        "cell_op_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "untouched_changed": untouched / n,
        "leftover_markers": markers / n,
        "syntax_errors_introduced": syntax / n,
        "refusals": refused / n,
        "latency_ms_p50": statistics.median(latencies),
        "latency_ms_p95": latencies[int(0.95 * (n - 1))],
    }


def show_failure(row, result) -> None:
    print(f"\n==== {row['id']} style={row['style']} noise={row['noise']} {row['origin']}")
    print("---- suggestion")
    print(row["suggestion"])
    print("---- warnings:", json.dumps(result["warnings"])[:1000])
    want = {c["id"]: c for c in row["cells_after"]}
    got = {c["id"]: c for c in result["cells"]}
    for cid in dict.fromkeys([*want, *got]):
        a = norm_source(got[cid]["source"]) if cid in got else "<absent>"
        b = norm_source(want[cid]["source"]) if cid in want else "<absent>"
        if a != b:
            diff = difflib.unified_diff(
                b.split("\n"), a.split("\n"), "want", "got", lineterm="", n=2
            )
            print(f"---- cell {cid} (want → got)")
            print("\n".join(diff))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="dev", choices=["dev", "train"])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--limit", type=int)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--style", help="only the examples of this suggestion style")
    parser.add_argument("--failures", type=int, default=0, help="print this many failing examples")
    parser.add_argument("--slowest", type=int, default=0, help="print the slowest examples' ids")
    args = parser.parse_args(argv)
    path = Path(args.data) / f"apply_{args.split}.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    rows = [r for r in rows if args.style in (None, r["style"])]
    rows = rows[: args.limit] if args.limit else rows
    styles = Counter(r["style"] for r in rows)
    print(f"{path.name}: {len(rows)} examples {dict(styles)}")
    methods = args.methods.split(",")
    failures: list = []
    timings: list = []
    results = {
        m: evaluate(rows, m, failures if i == 0 else None, timings if i == 0 else None)
        for i, m in enumerate(methods)
    }
    columns = [
        "exact_match",
        "cell_op_f1",
        "untouched_changed",
        "leftover_markers",
        "syntax_errors_introduced",
        "refusals",
        "latency_ms_p50",
        "latency_ms_p95",
    ]
    print("| method | " + " | ".join(columns) + " | " + " | ".join(sorted(styles)) + " |")
    print("|---" * (1 + len(columns) + len(styles)) + "|")
    for method, r in results.items():
        cells = [f"{r[c]:.3f}" if "latency" not in c else f"{r[c]:.1f}" for c in columns]
        cells += [f"{r['per_style'].get(s, 0):.3f}" for s in sorted(styles)]
        print(f"| {method} | " + " | ".join(cells) + " |")
    for row, result in failures[: args.failures]:
        show_failure(row, result)
    for ms, row_id in sorted(timings, reverse=True)[: args.slowest]:
        print(f"{ms:8.1f} ms  {row_id}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
