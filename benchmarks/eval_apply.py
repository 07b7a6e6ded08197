"""Evaluate the apply engine on ../shared/data/apply_<split>.jsonl.gz, next to simple baselines in
the same run.

    python benchmarks/eval_apply.py --split dev [--json out.json] [--limit N]
    python benchmarks/eval_apply.py --split train --methods engine --failures 20 [--style lazy]
    python benchmarks/eval_apply.py --realistic --split dev [--class not_an_edit] [--failures N]

`--failures N` prints N examples the first method gets wrong (with its warnings and a diff of the
notebook it made against the true one), to study failure classes on the train split; `--style`
keeps only the examples of one suggestion style. `--slowest N` prints the N slowest examples.

Metrics, per method: notebook exact match (trailing whitespace trimmed), exact match per suggestion
style, cell-operation F1, the share of examples where a cell the suggestion does not target changed,
leftover elision markers, syntax errors introduced, refusals (suggestions with a "not applied"
warning), and latency per suggestion (p50/p95).

`--realistic` evaluates instead on benchmarks/apply_realistic/<split>.jsonl.gz (made by
benchmarks/apply_realistic.py from the same rows, and made first if missing or older than that
script): realistic noisy answers per failure class, some of whose right outcome includes a refusal.
Per class (engine only, unless --methods says otherwise): cases, refuse cases, exact match (trimmed
as above, or exact strings for the rows marked strict), `wrote_when_refusal_expected` (share of
refuse cases where a cell changed in a way the expected notebook does not have: its text neither the
old nor the expected one, or a cell added or deleted that the expected notebook does not add or
delete), `refusal_warned` (share of refuse cases with a "Not applied" warning), `false_refusal`
(share of the other cases with one), `leftover_sr_markers` (a `<<<<<<<`/`=======`/`>>>>>>>` line
added to a cell), `invented_lines` (a line added that is in neither the old nor the expected
notebook) and `lost_lines` (a line of the old notebook the expected one keeps, missing from the
result).

Baselines: `exact-replace` (SEARCH/REPLACE and diff hunks by exact string replacement, whole blocks
replace the cell that shares most lines with them), `dmp-patch` (the same, with diff-match-patch's
fuzzy patching instead of exact replacement).
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import json
import re
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
REALISTIC = Path(__file__).resolve().parent / "apply_realistic"
REFUSALS = {
    "ambiguous", "not_found", "not_merged", "empty_search", "not_an_edit", "not_code", "malformed",
    "other_file",
}  # fmt: skip


def file_path(row) -> str:
    """The notebook's or file's path in its repository (``origin`` is owner/repo@sha:path): what the
    client sends with an apply request."""
    return row.get("origin", "").split(":", 1)[-1] if ":" in row.get("origin", "") else ""


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
            reps = edits.parse_search_replace(block.code).replacements
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


def exact_replace(cells, suggestion, path=""):
    def replace(source, old, new):
        return source.replace(old, new, 1) if old and old in source else None

    return _baseline(cells, suggestion, replace)


def dmp_patch(cells, suggestion, path=""):
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


def engine(cells, suggestion, path=""):
    return apply_suggestion(cells, suggestion, path=path).to_json()


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
        result = fn(row["cells"], row["suggestion"], file_path(row))
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
        # A marker-like line that the true result has (`<!--NAVIGATION-->` in a new markdown
        # cell, `...` in a docstring) is content, not a marker left behind.
        old_lines = {l.strip() for c in row["cells"] + want for l in c["source"].split("\n")}
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


# -- realistic noisy answers, per failure class ---------------------------------------------------------

SR_MARKER = re.compile(r"^\s*(<{5,9} ?[A-Z]*|={5,9}|>{5,9} ?[A-Z]*)\s*$")
REALISTIC_COLUMNS = [
    "cases",
    "refuse",
    "exact",
    "wrote_when_refusal_expected",
    "refusal_warned",
    "false_refusal",
    "leftover_sr_markers",
    "invented_lines",
    "lost_lines",
]


def _line_counts(cells) -> Counter:
    return Counter(l.strip() for c in cells for l in c["source"].split("\n") if l.strip())


def realistic_outcome(case: dict, result: dict) -> dict:
    """What one method did on one realistic case (see the module docstring)."""
    before, got, want = case["cells"], result["cells"], case["expected"]
    if case["strict"]:
        exact = [(c["cell_type"], c["source"]) for c in got] == [
            (c["cell_type"], c["source"]) for c in want
        ]
    else:
        exact = norm_cells(got) == norm_cells(want)
    old = {c["id"]: norm_source(c["source"]) for c in before}
    new = {c["id"]: norm_source(c["source"]) for c in want}
    # A cell whose text is neither its old text nor its expected one.
    wrote = any(
        c["id"] in old
        and c["id"] in new
        and norm_source(c["source"]) not in (old[c["id"]], new[c["id"]])
        for c in got
    )
    # A cell added that the expected notebook does not add, or one deleted that it keeps.
    got_ids = {c["id"] for c in got}
    wrote |= sum(c["id"] not in old for c in got) > sum(c["id"] not in old for c in want)
    wrote |= any(cid not in got_ids and cid in new for cid in old)
    had, keep, have = _line_counts(before), _line_counts(want), _line_counts(got)
    added_lines = [l for l in have if l not in had and l not in keep]
    not_applied = any(
        isinstance(w, dict) and str(w.get("message", "")).startswith("Not applied")
        for w in result["warnings"]
    )
    return {
        "exact": exact,
        "wrote": wrote,
        "not_applied": not_applied,
        "markers": any(SR_MARKER.match(l) for l in added_lines),
        "invented": bool(added_lines),
        "lost": any(min(had[l], keep[l]) > have[l] for l in had),
    }


def evaluate_realistic(cases: list[dict], method: str, failures=None) -> dict[str, dict]:
    """Per class (and "all"), the figures of `method` on the realistic cases."""
    fn = METHODS[method]
    outcomes: dict[str, list] = defaultdict(list)
    for case in cases:
        result = fn(case["cells"], case["suggestion"], file_path(case))
        outcome = realistic_outcome(case, result)
        outcomes[case["class"]].append((case, outcome))
        outcomes["all"].append((case, outcome))
        if failures is not None and not outcome["exact"]:
            failures.append((case, result, outcome))
    table = {}
    for cls, pairs in outcomes.items():
        refuse = [o for c, o in pairs if c["refuse"]]
        edit = [o for c, o in pairs if not c["refuse"]]

        def share(items, key):
            return sum(o[key] for o in items) / len(items) if items else float("nan")

        table[cls] = {
            "cases": len(pairs),
            "refuse": len(refuse),
            "exact": share([o for _, o in pairs], "exact"),
            "wrote_when_refusal_expected": share(refuse, "wrote"),
            "refusal_warned": share(refuse, "not_applied"),
            "false_refusal": share(edit, "not_applied"),
            "leftover_sr_markers": share([o for _, o in pairs], "markers"),
            "invented_lines": share([o for _, o in pairs], "invented"),
            "lost_lines": share([o for _, o in pairs], "lost"),
        }
    return table


def show_realistic_failure(case, result, outcome) -> None:
    flags = [k for k in ("wrote", "markers", "invented", "lost") if outcome[k]]
    print(f"\n==== {case['id']} refuse={case['refuse']} strict={case['strict']} {flags}")
    print("---- suggestion")
    print(case["suggestion"][:3000])
    print("---- warnings:", json.dumps(result["warnings"])[:1000])
    want = {c["id"]: c for c in case["expected"]}
    got = {c["id"]: c for c in result["cells"]}
    new = [c for c in result["cells"] if c["id"] not in want]
    for cid in dict.fromkeys([*want, *got]):
        if cid not in want and cid not in got:
            continue
        a = got[cid]["source"] if cid in got else "<absent>"
        b = want[cid]["source"] if cid in want else "<absent>"
        if not case["strict"]:
            a, b = norm_source(a), norm_source(b)
        if a != b and not (cid not in want and new):
            diff = difflib.unified_diff(
                b.split("\n"), a.split("\n"), "want", "got", lineterm="", n=2
            )
            print(f"---- cell {cid} (want → got)")
            print("\n".join(list(diff)[:60]))
    for c in new:
        print(f"---- new cell {c['id']}:\n{c['source'][:500]}")


def main_realistic(args) -> int:
    path = REALISTIC / f"{args.split}.jsonl.gz"
    generator = Path(__file__).resolve().parent / "apply_realistic.py"
    # Made again when the generator changed since (a new class would be missing otherwise).
    if not path.exists() or path.stat().st_mtime < generator.stat().st_mtime:
        import apply_realistic  # benchmarks/ is on sys.path when this runs as a script

        apply_realistic.write(apply_realistic.generate(args.split, Path(args.data)), path)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        cases = [json.loads(line) for line in handle]
    cases = [c for c in cases if getattr(args, "class") in (None, c["class"])]
    cases = cases[: args.limit] if args.limit else cases
    print(f"{path.name} (realistic): {len(cases)} cases")
    methods = (args.methods or "engine").split(",")
    failures: list = []
    for i, method in enumerate(methods):
        table = evaluate_realistic(cases, method, failures if i == 0 else None)
        print(f"\n{method}")
        print("| class | " + " | ".join(REALISTIC_COLUMNS) + " |")
        print("|---" * (1 + len(REALISTIC_COLUMNS)) + "|")
        order = [c for c in dict.fromkeys(c["class"] for c in cases)] + ["all"]
        for cls in order:
            r = table[cls]
            cells = [str(r["cases"]), str(r["refuse"])]
            cells += [f"{r[c]:.3f}" for c in REALISTIC_COLUMNS[2:]]
            print(f"| {cls} | " + " | ".join(cells).replace("nan", "–") + " |")
        if args.json:
            out = Path(args.json)
            out = out.with_name(f"{out.stem}.{method}{out.suffix}") if len(methods) > 1 else out
            out.write_text(json.dumps(table, indent=2))
    for case, result, outcome in failures[: args.failures]:
        show_realistic_failure(case, result, outcome)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="dev", choices=["dev", "train"])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--limit", type=int)
    parser.add_argument(
        "--methods", help="default: " + ",".join(METHODS) + " (engine with --realistic)"
    )
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--style", help="only the examples of this suggestion style")
    parser.add_argument("--failures", type=int, default=0, help="print this many failing examples")
    parser.add_argument("--slowest", type=int, default=0, help="print the slowest examples' ids")
    parser.add_argument(
        "--realistic", action="store_true", help="per-class noisy answers (apply_realistic)"
    )
    parser.add_argument("--class", help="with --realistic: only the cases of this class")
    args = parser.parse_args(argv)
    if args.realistic:
        return main_realistic(args)
    args.methods = args.methods or ",".join(METHODS)
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
