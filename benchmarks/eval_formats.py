"""How a notebook is best shown to file-trained next-edit models: per cell (``nb.ipynb#c1``, the
cursor's cell alone) or as one ``# %%`` file (notebook_file.py), measured on the notebook examples of
../shared/data/nes_<split>.jsonl.gz without a model (no weights can be downloaded here):

    python benchmarks/eval_formats.py [--split dev] [--formats zeta,sweep]

Per format and rendering: `reachable` (share of examples whose expected edit of the cursor's cell
lies in the prompt's editable region: what the model can get right at all), `names_shown` (of the
identifiers the expected edit adds that the notebook defines or imports elsewhere, the share the
prompt shows), `cells_shown` (other cells shown whole in the prompt, mean) and the median prompt length in
estimated tokens.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_cursor.nextedit.context import build_context, estimate_tokens  # noqa: E402
from jupyter_cursor.nextedit.formats import UnrepresentableEdit, get_format  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NAME = re.compile(r"[A-Za-z_]\w*")


def added_names(row) -> set[str]:
    """Names the expected edit of the cursor's cell adds that other cells of the notebook have."""
    cell_id = row["cursor"]["cell_id"]
    before = next(c["source"] for c in row["cells"] if c["id"] == cell_id)
    after = row["expected"].get(cell_id, before)
    new = set(NAME.findall(after)) - set(NAME.findall(before))
    elsewhere = {n for c in row["cells"] if c["id"] != cell_id for n in NAME.findall(c["source"])}
    return new & elsewhere


def evaluate(rows, fmt, as_file: bool) -> dict:
    reachable, shown, lengths, cells = [], [], [], []
    for row in rows:
        ctx = build_context(row, budget=fmt.budget, as_file=as_file)
        prompt = fmt.render(ctx)
        lengths.append(estimate_tokens(prompt))
        others = [c for c in row["cells"] if c["id"] != row["cursor"]["cell_id"]]
        cells.append(
            sum(bool(c["source"].strip()) and c["source"].strip() in prompt for c in others)
        )
        cursor_only = {k: v for k, v in row["expected"].items() if k == row["cursor"]["cell_id"]}
        try:
            fmt.target(ctx, cursor_only)
            reachable.append(1.0)
        except UnrepresentableEdit:
            reachable.append(0.0)
        names = added_names(row)
        if names:
            shown.append(sum(bool(re.search(rf"\b{n}\b", prompt)) for n in names) / len(names))
    return {
        "reachable": statistics.mean(reachable),
        "names_shown": statistics.mean(shown) if shown else float("nan"),
        "cells_shown": statistics.mean(cells),
        "prompt_tokens_p50": statistics.median(lengths),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="dev", choices=["dev", "train"])
    parser.add_argument("--formats", default="zeta,sweep")
    args = parser.parse_args(argv)
    with gzip.open(DATA / f"nes_{args.split}.jsonl.gz", "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    rows = [r for r in rows if r["kind"] == "ipynb" and r["expected"]]
    print(f"nes_{args.split}: {len(rows)} notebook examples with an edit")
    print("| format | rendering | reachable | names_shown | cells_shown | prompt_tokens_p50 |")
    print("|---|---|---|---|---|---|")
    for name in args.formats.split(","):
        fmt = get_format(name)
        for as_file, label in ((False, "per cell"), (True, "one # %% file")):
            m = evaluate(rows, fmt, as_file)
            print(
                f"| {name} | {label} | {m['reachable']:.3f} | {m['names_shown']:.3f} | "
                f"{m['cells_shown']:.2f} | {m['prompt_tokens_p50']:.0f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
