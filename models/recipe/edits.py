"""Next-edit fine-tuning examples: the NES train split and synthetic edits, rendered through the
next-edit pipeline's own context builder and prompt format (never a copy of it), so that training
and inference prompts cannot drift apart.

Synthetic edits follow the train split's shape: a file or notebook in which a change repeats over
several line hunks (a rename, an argument change, a repeated replacement); the events apply hunks
1..k, top to bottom, and the expected next edit is hunk k+1. A share are no-edit examples: one edit
that implies no other (a line added, removed or changed once), expecting nothing.

Prompt budgets: half of the examples count tokens with our tokenizer, half with the pipeline's
character estimate, so the model reads either kind of prompt the runtime may build.
"""

from __future__ import annotations

import builtins
import gzip
import json
import keyword
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from jupyter_cursor.nextedit.context import build_context, estimate_tokens
from jupyter_cursor.nextedit.formats import UnrepresentableEdit, get_format

FORMAT = "jupyter-cursor"
IDENT = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?!\w)")
CALL = re.compile(r"(?<![\w.])([A-Za-z_][\w.]*)\(([^()\n]*)\)")
RESERVED = set(keyword.kwlist) | set(dir(builtins)) | {"self", "cls"}


# ---------------------------------------------------------------- rendering


def render(row: dict, count_tokens: Callable[[str], int]) -> dict | None:
    """{"prompt", "completion", "no_edit", "out_of_reach"} for a NES-shaped row, or None for a
    request the pipeline refuses. When the expected edit lies outside what the prompt lets the
    model rewrite, the completion is the no-edit one (``out_of_reach``): at inference the model
    meets the same prompts, and nothing in reach is the edit to make, so it should change nothing."""
    fmt = get_format(FORMAT)
    try:
        ctx = build_context(row, count_tokens=count_tokens, budget=fmt.budget)
    except ValueError:
        return None
    try:
        completion, out_of_reach = fmt.target(ctx, row["expected"]), False
    except UnrepresentableEdit:
        completion, out_of_reach = fmt.original(ctx), True
    return {
        "prompt": fmt.render(ctx),
        "completion": completion,
        "no_edit": completion == fmt.original(ctx),
        "out_of_reach": out_of_reach,
    }


def read_rows(path: Path) -> Iterator[dict]:
    with gzip.open(path, "rt") as f:
        for line in f:
            yield json.loads(line)


# ---------------------------------------------------------------- synthetic edits


def _line_runs(lines: list[int]) -> list[list[int]]:
    """Consecutive line numbers grouped: each group is one diff hunk."""
    runs: list[list[int]] = []
    for n in sorted(set(lines)):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return runs


def _apply_on_lines(lines: list[str], targets: set[int], change: Callable[[str], str]) -> list[str]:
    return [change(line) if i in targets else line for i, line in enumerate(lines)]


def _rename(rng: random.Random, text: str):
    """(line numbers, change) renaming an identifier used on 3+ lines, or None."""
    counts: dict[str, set[int]] = {}
    for i, line in enumerate(text.split("\n")):
        code = line.split("#")[0]
        for m in IDENT.finditer(code):
            counts.setdefault(m.group(), set()).add(i)
    names = [
        n for n, where in counts.items() if len(where) >= 3 and len(n) >= 2 and n not in RESERVED
    ]
    if not names:
        return None
    old = rng.choice(names)
    new = rng.choice(
        [
            old + rng.choice(["_list", "s", "_df", "_new", "2", "_data", "_value", "_count"]),
            "_" + old if not old.startswith("_") else old.lstrip("_"),
            old.upper() if old.islower() and len(old) < 12 else old.lower() + "_",
            rng.choice(
                [
                    "result",
                    "values",
                    "items",
                    "data",
                    "config",
                    "path",
                    "name",
                    "model",
                    "frame",
                    "total",
                ]
            ),
            re.sub(r"[aeiou]", "", old) if len(re.sub(r"[aeiou]", "", old)) >= 2 else old + "_x",
        ]
    )
    if new == old or new in counts or not new.isidentifier() or keyword.iskeyword(new):
        return None
    pattern = re.compile(rf"(?<![\w.]){re.escape(old)}(?!\w)")

    def change(line: str) -> str:
        code, hash_, comment = line.partition("#")  # code only: a comment keeps the old word
        return pattern.sub(new, code) + hash_ + comment

    return sorted(counts[old]), change


_KWARGS = [
    "verbose=True",
    "axis=1",
    "dtype=float",
    "inplace=True",
    "timeout=10",
    "strict=False",
    "encoding='utf-8'",
    "check=True",
    "default=None",
    "index=False",
    "copy=False",
    "key=None",
]


def _argument_change(rng: random.Random, text: str):
    """(line numbers, change) adding, removing or changing an argument of a call on 2+ lines."""
    calls: dict[str, set[int]] = {}
    for i, line in enumerate(text.split("\n")):
        for m in CALL.finditer(line):
            calls.setdefault(m.group(1), set()).add(i)
    names = [n for n, where in calls.items() if len(where) >= 2]
    if not names:
        return None
    name = rng.choice(names)
    kind = rng.choice(["add", "add", "drop_last", "rename_func"])
    if kind == "add":
        extra = rng.choice(_KWARGS)

        def change_args(args: str) -> str:
            return f"{args}, {extra}" if args.strip() else extra
    elif kind == "drop_last":

        def change_args(args: str) -> str:
            parts = args.split(",")
            return ",".join(parts[:-1]) if len(parts) > 1 else args
    else:
        new_name = name.rsplit(".", 1)
        new_name[-1] = new_name[-1] + rng.choice(["_v2", "_safe", "_all", "_async", "_cached"])
        new_name = ".".join(new_name)

    pattern = re.compile(rf"(?<![\w.]){re.escape(name)}\(([^()\n]*)\)")

    def change(line: str) -> str:
        if kind == "rename_func":
            return pattern.sub(lambda m: f"{new_name}({m.group(1)})", line)
        return pattern.sub(lambda m: f"{name}({change_args(m.group(1))})", line)

    lines = sorted(calls[name])
    return lines, change


_REPLACEMENTS = [
    (r"\bprint (.+)$", r"print(\1)"),
    (r"'", '"'),
    (r"\.format\(", ".format_map("),
    (r"== None", "is None"),
    (r"!= None", "is not None"),
    (r"np\.", "numpy."),
    (r"self\.(\w+)", r"self._\1"),
    (r"\bassertEquals\(", "assertEqual("),
    (r"\bTrue\b", "False"),
    (r"\b(\d+)\b", lambda m: str(int(m.group(1)) * 2)),
    (r"\.iteritems\(\)", ".items()"),
    (r"\blogger\.", "log."),
    (r"\bxrange\(", "range("),
    (r"\bos\.path\.join\(", "Path("),
]


def _repeated_replacement(rng: random.Random, text: str):
    """(line numbers, change): one textual replacement repeated on 2+ lines."""
    lines = text.split("\n")
    candidates = []
    for pattern, repl in _REPLACEMENTS:
        where = [i for i, line in enumerate(lines) if re.search(pattern, line)]
        if len(where) >= 2:
            candidates.append((pattern, repl, where))
    if not candidates:
        return None
    pattern, repl, where = rng.choice(candidates)
    return where, lambda line: re.sub(pattern, repl, line, count=1)


def _single_edit(rng: random.Random, text: str) -> str | None:
    """An edit that implies no other: a line added, removed, or changed once."""
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    indent = re.match(r"\s*", lines[i]).group()
    kind = rng.choice(["comment", "print", "delete", "literal"])
    if kind == "comment":
        lines.insert(
            i,
            indent
            + rng.choice(["# TODO: check this", "# noqa", "# see above", "# handle the edge case"]),
        )
    elif kind == "print":
        name = rng.choice(IDENT.findall(lines[i]) or ["result"])
        lines.insert(i + 1, indent + f"print({name})")
    elif kind == "delete" and lines[i].strip():
        del lines[i]
    else:
        numbers = list(re.finditer(r"\b\d+\b", lines[i]))
        if not numbers:
            return None
        m = rng.choice(numbers)
        lines[i] = (
            lines[i][: m.start()] + str(int(m.group()) + rng.randint(1, 9)) + lines[i][m.end() :]
        )
    new = "\n".join(lines)
    return new if new != text else None


def _snippet(rng: random.Random, text: str, max_lines: int = 80) -> str:
    lines = text.split("\n")
    if len(lines) <= max_lines:
        return text
    starts = [
        i for i, line in enumerate(lines[: len(lines) - 10]) if re.match(r"(def|class|@)\s?", line)
    ] or [0]
    start = rng.choice(starts)
    return "\n".join(lines[start : start + rng.randint(20, max_lines)])


def _as_cells(rng: random.Random, text: str, notebook: bool) -> list[dict]:
    if not notebook:
        return [{"id": "file", "cell_type": "code", "source": text}]
    # Split only where a top-level statement starts after a blank line, as notebooks do.
    blocks = [b for b in re.split(r"\n[ \t]*\n(?=\S)", text) if b.strip()]
    cells, current = [], []
    for block in blocks:
        current.append(block)
        if rng.random() < 0.5:
            cells.append("\n\n".join(current))
            current = []
    if current:
        cells.append("\n\n".join(current))
    return [{"id": f"c{i}", "cell_type": "code", "source": s} for i, s in enumerate(cells)]


def synthetic_row(
    rng: random.Random, text: str, index: int, no_edit_share: float = 0.2
) -> dict | None:
    """One NES-shaped example made from a corpus file, or None when the file offers no edit."""
    notebook = rng.random() < 0.3
    snippet = _snippet(rng, text)
    cells = _as_cells(rng, snippet, notebook)
    path = f"synthetic/{index}.{'ipynb' if notebook else 'py'}"
    if rng.random() < no_edit_share:
        cell = rng.choice(cells)
        after = _single_edit(rng, cell["source"])
        if after is None:
            return None
        changed_at = next(
            (i for i, (a, b) in enumerate(zip(cell["source"], after)) if a != b), len(after)
        )
        new_cells = [dict(c, source=after) if c is cell else c for c in cells]
        offset = after.find("\n", changed_at)
        return {
            "id": f"syn-{index}",
            "path": path,
            "kind": "synthetic-no-edit",
            "cells": new_cells,
            "events": [{"cell_id": cell["id"], "before": cell["source"], "after": after}],
            "cursor": {"cell_id": cell["id"], "offset": offset if offset >= 0 else len(after)},
            "expected": {},
        }
    maker = rng.choice([_rename, _rename, _argument_change, _repeated_replacement])
    # Hunks across the notebook, top to bottom: (cell index, [line numbers]).
    hunks, changes = [], None
    for ci, cell in enumerate(cells):
        found = maker(random.Random(rng.random()), cell["source"]) if changes is None else None
        if changes is None and found:
            changes = found[1]
        if changes is not None:
            lines = cell["source"].split("\n")
            where = [i for i, line in enumerate(lines) if changes(line) != line]
            hunks += [(ci, run) for run in _line_runs(where)]
    if changes is None or len(hunks) < 2:
        return None
    k = rng.randrange(len(hunks) - 1)  # events apply hunks 0..k, the next edit is hunk k+1
    state = [c["source"] for c in cells]
    events = []
    for ci, run in hunks[: k + 1]:
        before = state[ci]
        state[ci] = "\n".join(_apply_on_lines(before.split("\n"), set(run), changes))
        events.append({"cell_id": cells[ci]["id"], "before": before, "after": state[ci]})
    last_ci, last_run = hunks[k]
    last_lines = state[last_ci].split("\n")
    offset = sum(len(line) + 1 for line in last_lines[: last_run[-1] + 1]) - 1
    next_ci, next_run = hunks[k + 1]
    expected_source = "\n".join(_apply_on_lines(state[next_ci].split("\n"), set(next_run), changes))
    return {
        "id": f"syn-{index}",
        "path": path,
        "kind": f"synthetic-{maker.__name__.strip('_')}",
        "cells": [dict(c, source=s) for c, s in zip(cells, state)],
        "events": events,
        "cursor": {"cell_id": cells[last_ci]["id"], "offset": offset},
        "expected": {cells[next_ci]["id"]: expected_source},
    }


def synthetic_rows(corpus_path: Path, n: int, seed: int = 0) -> Iterator[dict]:
    """``n`` synthetic examples from Python files of the corpus (a reservoir of random files)."""
    rng = random.Random(seed)
    pool = []
    with open(corpus_path) as f:
        for i, line in enumerate(f):
            if len(pool) < 4 * n:
                pool.append(line)
            elif rng.random() < 4 * n / (i + 1):
                pool[rng.randrange(len(pool))] = line
    rng.shuffle(pool)
    made = 0
    for i, line in enumerate(pool):
        if made >= n:
            return
        row = synthetic_row(rng, json.loads(line)["text"], i)
        if row is not None:
            made += 1
            yield row


# ---------------------------------------------------------------- the examples file


def build_examples(
    out_path: Path,
    corpus_path: Path,
    train_path: Path | None = None,
    synthetic: int = 6000,
    limit: int | None = None,
    tokenizer_dir: Path | None = None,
    seed: int = 0,
) -> dict:
    """Write {"prompt", "completion", "source"} lines to ``out_path``; return counts per source."""
    from transformers import AutoTokenizer

    from . import DATA, WORK

    tokenizer = AutoTokenizer.from_pretrained(
        tokenizer_dir
        or (
            out_path.parents[1] / "tokenizer"
            if (out_path.parents[1] / "tokenizer").is_dir()
            else WORK / "tokenizer"
        )
    )

    def count_model_tokens(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    rng = random.Random(seed)
    counts: dict[str, int] = {}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    train_rows = read_rows(train_path or DATA / "nes_train.jsonl.gz")
    with open(out_path.with_suffix(".tmp"), "w") as out:

        def write(rows, source_of):
            for row in rows:
                counter = count_model_tokens if rng.random() < 0.5 else estimate_tokens
                example = render(row, counter)
                source = source_of(row) if example else "refused"
                counts[source] = counts.get(source, 0) + 1
                if example:
                    counts["no-edit targets"] = (
                        counts.get("no-edit targets", 0) + example["no_edit"]
                    )
                    counts["out of reach (no-edit targets)"] = (
                        counts.get("out of reach (no-edit targets)", 0) + example["out_of_reach"]
                    )
                    out.write(json.dumps({**example, "source": source}) + "\n")

        if limit is not None:  # a random subset: the split is ordered by repository
            rows = list(train_rows)
            train_rows = random.Random(seed).sample(rows, min(limit, len(rows)))
            # The rest is held out, to choose the model gate's threshold on examples it never saw.
            chosen = {id(row) for row in train_rows}
            with gzip.open(out_path.parent / "heldout.jsonl.gz", "wt") as held:
                for row in rows:
                    if id(row) not in chosen:
                        held.write(json.dumps(row) + "\n")
        write(train_rows, lambda r: f"nes-train-{r['kind']}")
        if synthetic:
            write(synthetic_rows(corpus_path, synthetic, seed), lambda r: r["kind"])
    out_path.with_suffix(".tmp").replace(out_path)
    return counts
