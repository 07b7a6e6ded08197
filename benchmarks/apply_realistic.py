"""Realistic noisy answers for the apply engine, one set per failure class, built from real rows of
../shared/data/apply_<split>.jsonl.gz (the notebook before, the true notebook after, and the
row's own suggestion) the way that data was built.

    python benchmarks/apply_realistic.py [--split dev|train] [--out PATH] [--max-per-class N]

writes benchmarks/apply_realistic/<split>.jsonl.gz: one case a line,

    {"id", "class", "variant", "origin", "cells", "suggestion",
     "expected": [cells], "refuse": bool, "strict": bool}

`refuse` is true when the right outcome includes a refusal (a warning that says "Not applied"):
a part of the answer that is not an edit of this notebook; `strict` asks for exact string equality
of each source (no whitespace trimming). `benchmarks/eval_apply.py --realistic` scores the engine
on the file, per class.

Classes (the shapes real coding-assistant answers take):

- ``not_an_edit``: fences that are not edits (a one-line usage example, a shell command, a file
  name on its own, a text/toml/json or untagged output sample, a REPL session, an unclosed fence in
  a list at the end) next to a good answer, or alone; mostly against one-cell files, where a block
  taken for the file's new text replaces the whole module.
- ``search_replace_shapes``: the row's own SEARCH/REPLACE blocks outside any fence, under other
  tags, in <source>/<code> tags, closed by a second ``=======``, with 5-9 character markers, as
  aider's ORIGINAL/UPDATED, after a file name line, fenced inside an indented list item; and blocks
  for another file (refused).
- ``empty_search``: an empty SEARCH whose REPLACE goes at the end of a one-cell file, or in a new
  cell at the end of a notebook ("Add a new cell at the end of the notebook:"); an empty block.
- ``repeated_block``: one single-line block written N times for a line that stands N times; and
  written fewer times than the line stands (ambiguous: refused).
- ``multi_file_udiff``: one ```diff fence with the row's own diff and another file's diff.
- ``whole_file_newline``: a whole file whose fence lacks the file's final newline (strict); and
  another file's whole text (refused).
- ``fuzzy_no_invent``: SEARCH/diff context perturbed (a space, a one-character typo, a line that
  is in no cell); and a block whose removed line is in no cell (refused).
- ``one_definition``: a row whose change lies inside one definition of a cell that holds several
  (a function, or a method of a class with several), answered as chat models answer "fix this
  function": the new definition alone, with a marker below it, between markers; or followed by a
  usage example (refused: not an edit).

Deterministic: every random choice comes from a generator seeded with the split and class.
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import gzip
import io
import json
import random
import re
import sys
import textwrap
import tokenize
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OUT = Path(__file__).resolve().parent / "apply_realistic"
CLASSES = [
    "not_an_edit",
    "search_replace_shapes",
    "empty_search",
    "repeated_block",
    "multi_file_udiff",
    "whole_file_newline",
    "fuzzy_no_invent",
    "one_definition",
]
# Rows whose notebook is larger than this (characters of source) are left out: the cases stay
# small enough to keep in the repository, and the failure classes do not depend on size.
MAX_SOURCE = 40_000

INTROS = [
    "Here is the fix:",
    "Here's the updated code:",
    "Apply these changes:",
    "Make these changes:",
    "Try this:",
    "Update the code as follows:",
    "You can change it like this:",
    "Here are the edits:",
    "Sure! Here's the change:",
    "This should work:",
]
OUTROS = [
    "This should fix the issue.",
    "Let me know if you run into anything else!",
    "That's it: the rest of the file stays as it is.",
    "Hope this helps!",
    "",
]
SR_OPEN, SR_DIV, SR_CLOSE = "<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE"
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_SR_LINE = re.compile(r"^\s*(<{5,}|>{5,}|={5,}\s*$)")
PIP_NAMES = {
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "skimage": "scikit-image",
}
PY2_STDLIB = {"urlparse", "urllib2", "httplib", "cPickle", "StringIO", "cStringIO", "Queue",
              "ConfigParser", "__builtin__", "cookielib", "Cookie", "HTMLParser"}  # fmt: skip
# Lines a model makes up: in no cell of any notebook here (checked per case).
INVENTED = [
    "# TODO: handle the error case",
    'logger.debug("done")',
    "# keep the old behaviour for now",
    "result = None",
    "self._cache = {}",
    "print('debug:', locals())",
    "# see the discussion above",
    "assert value is not None",
    "import logging",
    "timeout = 30",
]


# -- reading ----------------------------------------------------------------------------------------


def load_rows(split: str, data: Path = DATA) -> list[dict]:
    with gzip.open(Path(data) / f"apply_{split}.jsonl.gz", "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    return [r for r in rows if sum(len(c["source"]) for c in r["cells"]) <= MAX_SOURCE]


def norm(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.rstrip().split("\n"))


def same(a: list[dict], b: list[dict]) -> bool:
    return [(c["cell_type"], norm(c["source"])) for c in a] == [
        (c["cell_type"], norm(c["source"])) for c in b
    ]


def path_of(row: dict) -> str:
    return row["origin"].split(":", 1)[1]


def segments(text: str) -> list[dict]:
    """The answer as prose and fences: {"prose": str} or {"fence", "info", "body": [lines]}."""
    out: list[dict] = []
    prose: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            prose.append(lines[i])
            i += 1
            continue
        fence = opening["fence"]
        body: list[str] = []
        i += 1
        while i < len(lines) and not re.match(
            rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[i]
        ):
            body.append(lines[i])
            i += 1
        i += 1
        out.append({"prose": "\n".join(prose)})
        out.append({"fence": fence, "info": opening["info"].strip(), "body": body})
        prose = []
    out.append({"prose": "\n".join(prose)})
    return out


def render(segs: list[dict]) -> str:
    parts = []
    for s in segs:
        if "prose" in s:
            parts.append(s["prose"])
        else:
            parts.append("\n".join([s["fence"] + s["info"], *s["body"], s["fence"]]))
    return "\n".join(parts)


def fenced(body: str | list[str], info: str = "python") -> str:
    lines = body.split("\n") if isinstance(body, str) else body
    fence = "````" if any(l.lstrip().startswith("```") for l in lines) else "```"
    return "\n".join([fence + info, *lines, fence])


def sr_blocks(body: list[str]) -> list[tuple[list[str], list[str]]] | None:
    """The SEARCH/REPLACE blocks of a fence written with the standard markers."""
    blocks = []
    i = 0
    while i < len(body):
        if body[i] != SR_OPEN:
            if body[i].strip():
                return None
            i += 1
            continue
        try:
            j = body.index(SR_DIV, i + 1)
            k = body.index(SR_CLOSE, j + 1)
        except ValueError:
            return None
        blocks.append((body[i + 1 : j], body[j + 1 : k]))
        i = k + 1
    return blocks


def udiff_hunks(body: list[str]) -> tuple[list[str], list[list[str]]] | None:
    """(file header lines, hunks as raw lines including their @@ line)."""
    header: list[str] = []
    hunks: list[list[str]] = []
    for line in body:
        if line.startswith("@@"):
            hunks.append([line])
        elif hunks:
            hunks[-1].append(line)
        elif line.startswith(("--- ", "+++ ", "diff --git", "index ")):
            header.append(line)
        elif line.strip():
            return None
    return header, hunks


def hunk_sides(hunk: list[str]) -> tuple[list[str], list[str]]:
    old, new = [], []
    for line in hunk[1:]:
        if line.startswith("\\"):
            continue
        if line.startswith("+"):
            new.append(line[1:])
        elif line.startswith("-"):
            old.append(line[1:])
        else:
            text = line[1:] if line.startswith(" ") else line
            old.append(text)
            new.append(text)
    while old and new and not old[-1].strip() and not new[-1].strip():
        old.pop()
        new.pop()
    return old, new


def find_lines(lines: list[str], needle: list[str]) -> list[int]:
    n = len(needle)
    return [i for i in range(len(lines) - n + 1) if lines[i : i + n] == needle]


def apply_exact(cells: list[dict], reps: list[tuple[list[str], list[str]]]) -> list[dict] | None:
    """Each (old → new) at its one exact place in the notebook, or None (the reference check that
    a row's own blocks give its cells_after)."""
    cells = copy.deepcopy(cells)
    for old, new in reps:
        if not old:
            return None
        hits = [
            (ci, i) for ci, c in enumerate(cells) for i in find_lines(c["source"].split("\n"), old)
        ]
        if len(hits) != 1:
            return None
        ci, i = hits[0]
        lines = cells[ci]["source"].split("\n")
        cells[ci]["source"] = "\n".join(lines[:i] + new + lines[i + len(old) :])
    return cells


def all_lines(cells: list[dict]) -> set[str]:
    return {l.strip() for c in cells for l in c["source"].split("\n")}


def shared_share(lines: list[str], cells: list[dict]) -> float:
    """The share of `lines`' non-trivial lines that stand in `cells`."""
    have = all_lines(cells)
    mine = [l.strip() for l in lines if len(l.strip()) > 3]
    return sum(l in have for l in mine) / len(mine) if mine else 1.0


# -- rows as their blocks ---------------------------------------------------------------------------


def clean_sr(row: dict) -> list[dict] | None:
    """A noise-free search_replace row's segments, each fence with its `blocks`, when applying
    the blocks exactly gives its cells_after."""
    if row["style"] != "search_replace" or row["noise"]:
        return None
    segs = segments(row["suggestion"])
    reps = []
    for s in segs:
        if "fence" in s:
            blocks = sr_blocks(s["body"])
            if not blocks:
                return None
            s["blocks"] = blocks
            reps += blocks
    if not reps or any(_SR_LINE.match(l) for old, new in reps for l in old + new):
        return None
    after = apply_exact(row["cells"], reps)
    return segs if after is not None and same(after, row["cells_after"]) else None


def clean_udiff(row: dict) -> list[dict] | None:
    """A noise-free udiff row's segments, each fence with its `header` and `hunks`, when applying
    the hunks exactly gives its cells_after."""
    if row["style"] != "udiff" or row["noise"]:
        return None
    segs = segments(row["suggestion"])
    reps = []
    for s in segs:
        if "fence" in s:
            parsed = udiff_hunks(s["body"])
            if not parsed or not parsed[1]:
                return None
            s["header"], s["hunks"] = parsed
            reps += [hunk_sides(h) for h in parsed[1]]
    if not reps:
        return None
    after = apply_exact(row["cells"], reps)
    return segs if after is not None and same(after, row["cells_after"]) else None


def clean_full(row: dict) -> bool:
    if row["style"] != "full" or row["noise"] or row["kind"] != "py":
        return False
    fences = [s for s in segments(row["suggestion"]) if "fence" in s]
    return len(fences) == 1 and norm("\n".join(fences[0]["body"])) == norm(
        row["cells_after"][0]["source"]
    )


def code_sources(cells: list[dict]) -> Iterator[str]:
    for c in cells:
        if c["cell_type"] == "code":
            # IPython's own lines are not Python: blanked so the rest parses.
            yield "\n".join(
                "" if l.lstrip().startswith(("%", "!")) else l for l in c["source"].split("\n")
            )


def parse(source: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in old notebooks' strings
            return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def top_level_defs(cells: list[dict]) -> list[ast.AST]:
    out = []
    for source in code_sources(cells):
        tree = parse(source)
        if tree:
            out += [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    return out


def def_span(node: ast.AST) -> tuple[int, int]:
    """0-based (first line, line after the last) of a definition, its decorators included."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return first - 1, node.end_lineno


def def_text(source: str, node: ast.AST) -> list[str]:
    start, end = def_span(node)
    return source.split("\n")[start:end]


def usage_line(node: ast.AST, rng: random.Random) -> str:
    if isinstance(node, ast.ClassDef):
        return f"obj = {node.name}()"
    args = [a.arg for a in node.args.args if a.arg not in ("self", "cls")]
    required = args[: len(args) - len(node.args.defaults)] or args[:1]
    call = f"{node.name}({', '.join(required)})"
    return rng.choice([f"result = {call}", f"print({call})", call])


def third_party(cells: list[dict], own: str) -> list[str]:
    names = []
    for source in code_sources(cells):
        tree = parse(source)
        for node in tree.body if tree else []:
            if isinstance(node, ast.Import):
                names += [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module.split(".")[0])
    std = set(sys.stdlib_module_names) | PY2_STDLIB | {"__future__", own}
    return [PIP_NAMES.get(n, n) for n in dict.fromkeys(names) if n not in std]


def case(cls, row, variant, suggestion, expected, refuse, strict=False, cells=None) -> dict:
    return {
        "id": f"{cls}/{row['id']}/{variant}",
        "class": cls,
        "variant": variant,
        "origin": row["origin"],
        "cells": cells if cells is not None else row["cells"],
        "suggestion": suggestion.strip("\n") + "\n",
        "expected": expected,
        "refuse": refuse,
        "strict": strict,
    }


def with_outro(text: str, rng: random.Random) -> str:
    outro = rng.choice(OUTROS)
    return text.rstrip("\n") + ("\n\n" + outro if outro else "")


# -- 1. not_an_edit ---------------------------------------------------------------------------------


def noise_block(kind: str, row: dict, rng: random.Random) -> tuple[str, str] | None:
    """(prose, fenced block) of one kind of non-edit block for `row`'s notebook."""
    path = path_of(row)
    stem = Path(path).stem
    defs = [n for n in top_level_defs(row["cells"]) if not n.name.startswith("_")]
    pkgs = third_party(
        row["cells"], path.split("/")[1] if path.startswith("src/") else path.split("/")[0]
    )
    if kind == "usage":
        if not defs:
            return None
        prose = rng.choice(
            ["You can use it like this:", "Example usage:", "For example:", "Usage:"]
        )
        return prose, fenced(usage_line(rng.choice(defs), rng))
    if kind == "usage_import":
        if not defs or row["kind"] != "py":
            return None
        node = rng.choice(defs)
        module = ".".join(Path(path.removeprefix("src/")).with_suffix("").parts)
        code = [f"from {module} import {node.name}", "", usage_line(node, rng)]
        return "And here is how you would call it:", fenced(code)
    if kind == "pip":
        pkg = rng.choice(pkgs) if pkgs else rng.choice(["pandas", "numpy", "requests"])
        prose = rng.choice(
            ["Make sure the package is installed:", "If you don't have it yet, install it first:"]
        )
        return prose, fenced(f"pip install {pkg}", rng.choice(["bash", "sh", "shell"]))
    if kind == "sh":
        target = path if "test" in path else "tests/"
        command = rng.choice([f"python -m pytest {target} -q", f"pytest {target}"])
        return "Then run the tests:", fenced(command, "sh")
    if kind == "console":
        output = rng.choice(["Done.", "OK", "True", "[1, 2, 3]"])
        return "Running it now gives:", fenced([f"$ python {path}", output], "console")
    if kind == "filename":
        return rng.choice(["", "The change goes in this file:", "File:"]), fenced(path, "")
    if kind == "text":
        sample = rng.choice(
            [
                ["collected 12 items", "", f"{path} ............          [100%]", "",
                 "============================== 12 passed in 0.34s ==============================="],
                ["True", "False"],
                ["(100, 3)", "0.9533"],
            ]
        )  # fmt: skip
        return rng.choice(["Expected output:", "You should now see:"]), fenced(sample, "text")
    if kind == "toml":
        pkg = pkgs[0] if pkgs else "pytest"
        body = rng.choice(
            [
                ["[tool.pytest.ini_options]", 'addopts = "-ra -q"'],
                ["[project]", "dependencies = [", f'    "{pkg}>=1.0",', "]"],
            ]
        )
        return "And in your `pyproject.toml`:", fenced(body, "toml")
    if kind == "json":
        body = rng.choice(
            [
                ["{", '  "status": "ok",', '  "count": 3', "}"],
                ['{"name": "' + stem + '", "version": "1.0.0"}'],
            ]
        )
        return rng.choice(["The output looks like this:", "You'll get something like:"]), fenced(
            body, "json"
        )
    if kind == "output_untagged":
        sample = rng.choice(
            [
                ["True"],
                ["{'status': 'ok', 'count': 3}"],
                ["Traceback (most recent call last):", f'  File "{path}", line 12, in <module>',
                 "TypeError: 'NoneType' object is not subscriptable"],
            ]
        )  # fmt: skip
        prose = rng.choice(["The output is now:", "Before the fix you'd see:", "Output:"])
        return prose, fenced(sample, "")
    if kind == "doctest":
        if not defs:
            return None
        node = rng.choice(defs)
        module = ".".join(Path(path.removeprefix("src/")).with_suffix("").parts)
        lines = [f">>> from {module} import {node.name}", ">>> " + usage_line(node, rng)]
        return "Quick check in a REPL:", fenced(lines, rng.choice(["python", "pycon"]))
    if kind == "unclosed":
        lang = rng.choice(["python", "", "bash"])
        if lang == "bash":
            body = [f"python {path}"]
        elif defs:
            body = [usage_line(rng.choice(defs), rng)]
        else:
            return None
        indent = rng.choice(["  ", "   "])
        lines = [
            "A few notes:",
            "",
            "- The change keeps the old behaviour for existing callers.",
            "- To check it, run:",
            "",
            indent + "```" + lang,
            *[indent + l for l in body],
        ]
        return "\n".join(lines), ""
    raise ValueError(kind)


NOISE_KINDS = [
    "usage", "pip", "filename", "text", "usage_import", "sh", "console", "toml", "json",
    "output_untagged", "doctest", "unclosed",
]  # fmt: skip


def gen_not_an_edit(rows: list[dict], rng: random.Random) -> list[dict]:
    cls = "not_an_edit"
    bases = [r for r in rows if clean_sr(r) or clean_udiff(r) or clean_full(r)]
    py = [r for r in bases if r["kind"] == "py"]
    nb = [r for r in bases if r["kind"] == "ipynb"]
    rng.shuffle(py)
    rng.shuffle(nb)
    out = []
    picks = py[: len(py) // 2] + nb[: len(nb) // 6]
    for n, row in enumerate(picks):
        kinds = NOISE_KINDS[n % len(NOISE_KINDS) :] + NOISE_KINDS[: n % len(NOISE_KINDS)]
        for kind in kinds:
            made = noise_block(kind, row, rng)
            if made:
                break
        else:
            continue
        prose, block = made
        good = row["suggestion"].strip("\n")
        if kind == "unclosed":
            text = good + "\n\n" + prose
        elif kind == "filename" or (kind in ("pip", "toml") and rng.random() < 0.5):
            text = "\n\n".join(p for p in (prose, block, good) if p)
        else:
            text = with_outro(good + "\n\n" + "\n\n".join(p for p in (prose, block) if p), rng)
        out.append(case(cls, row, f"{kind}+edit", text, row["cells_after"], True))
    # The noise alone: nothing to change (small files first: a short block is half of one).
    alone = sorted(
        [r for r in rows if r["kind"] == "py" and r["cells"][0]["source"].strip()],
        key=lambda r: (r["cells"][0]["source"].count("\n") > 12, rng.random()),
    )
    for n, row in enumerate(alone):
        if len([c for c in out if c["variant"].endswith("alone")]) >= len(alone) // 6:
            break
        kind = NOISE_KINDS[n % len(NOISE_KINDS)]
        made = noise_block(kind, row, rng)
        if not made:
            continue
        prose, block = made
        lead = rng.choice(["Your code looks right to me.", "The function itself is fine.", ""])
        text = "\n\n".join(p for p in (lead, prose, block) if p)
        out.append(case(cls, row, f"{kind}+alone", text, row["cells"], True))
    return out


# -- 2. search_replace_shapes -----------------------------------------------------------------------

SR_SHAPES = [
    "no_fence",
    "tag_bash",
    "tag_text",
    "tag_diff",
    "tag_none",
    "source_tag",
    "code_tag",
    "divider_close",
    "marker_len",
    "original_updated",
    "filename_before",
    "filename_inside",
    "list_indented",
]


def sr_text(old, new, rng, shape) -> list[str]:
    o, d, c = SR_OPEN, SR_DIV, SR_CLOSE
    if shape == "marker_len":
        o = "<" * rng.randint(5, 9) + " SEARCH"
        d = "=" * rng.randint(5, 9)
        c = ">" * rng.randint(5, 9) + " REPLACE"
    elif shape == "original_updated":
        o, c = "<<<<<<< ORIGINAL", ">>>>>>> UPDATED"
    elif shape == "divider_close":
        c = SR_DIV
    return [o, *old, d, *new, c]


def shape_fence(lines: list[str], shape: str, info: str, path: str) -> str:
    if shape == "no_fence":
        return "\n".join(lines)
    if shape in ("source_tag", "code_tag"):
        tag = shape.split("_")[0]
        return "\n".join([f"<{tag}>", *lines, f"</{tag}>"])
    tags = {"tag_bash": "bash", "tag_text": "text", "tag_diff": "diff", "tag_none": ""}
    if shape == "filename_before":
        return path + "\n" + fenced(lines, info)
    if shape == "filename_inside":
        return fenced([path, *lines], info)
    if shape == "list_indented":
        # A fence inside a numbered list item, indented as its content (CommonMark takes the
        # fence's indentation off each line of the block).
        block = fenced(lines, info).split("\n")
        return f"1. In `{path}`:\n\n" + "\n".join("   " + l if l else l for l in block)
    return fenced(lines, tags.get(shape, info))


def render_sr(segs: list[dict], shape: str, path: str, rng: random.Random) -> str:
    parts = []
    for s in segs:
        if "prose" in s:
            parts.append(s["prose"])
            continue
        lines = [l for old, new in s["blocks"] for l in sr_text(old, new, rng, shape)]
        parts.append(shape_fence(lines, shape, s["info"], path))
    return "\n".join(parts)


def shape_ok(segs: list[dict], shape: str) -> bool:
    lines = [l for s in segs if "fence" in s for old, new in s["blocks"] for l in old + new]
    if shape == "no_fence":
        return not any(_FENCE.match(l.strip()) for l in lines)
    if shape in ("source_tag", "code_tag"):
        return not any(f"</{shape.split('_')[0]}>" in l for l in lines)
    return True


def gen_sr_shapes(rows: list[dict], rng: random.Random) -> list[dict]:
    cls = "search_replace_shapes"
    bases = [(r, clean_sr(r)) for r in rows]
    bases = [(r, s) for r, s in bases if s]
    out = []
    n = 0
    for row, segs in bases:
        for _ in range(2):
            shape = SR_SHAPES[n % len(SR_SHAPES)]
            n += 1
            if not shape_ok(segs, shape):
                continue
            text = render_sr(copy.deepcopy(segs), shape, path_of(row), rng)
            if not text.strip().startswith(tuple(INTROS)) and rng.random() < 0.5:
                text = rng.choice(INTROS) + "\n\n" + text.strip("\n")
            out.append(case(cls, row, shape, text, row["cells_after"], False))
    # Another file's block in the same odd shapes: it matches nothing here.
    for row, _ in bases[::3]:
        others = [(r, s) for r, s in bases if path_of(r) != path_of(row)]
        other, osegs = others[rng.randrange(len(others))]
        old, new = next(b for s in osegs if "fence" in s for b in s["blocks"])
        if shared_share(old, row["cells"]) > 0.25:
            continue
        shape = SR_SHAPES[n % len(SR_SHAPES)]
        n += 1
        prose = "" if shape.startswith("filename") else f"In `{path_of(other)}`:"
        fake = [{"prose": prose}, {"fence": "```", "info": "python", "blocks": [(old, new)]}]
        if not shape_ok(fake, shape):
            continue
        text = render_sr(fake, shape, path_of(other), rng)
        out.append(case(cls, row, f"{shape}+other_file", text, row["cells"], True))
    return out


# -- 3. empty_search --------------------------------------------------------------------------------


def snippets(rows: list[dict], kind: str) -> list[tuple[str, list[str]]]:
    """(path, lines) of top-level functions (py) or code cells (ipynb) to add elsewhere."""
    out = []
    for row in rows:
        if row["kind"] != kind:
            continue
        if kind == "py":
            source = row["cells"][0]["source"]
            tree = parse(source)
            for node in tree.body if tree else []:
                if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                    lines = def_text(source, node)
                    if 3 <= len(lines) <= 20:
                        out.append((path_of(row), lines))
                        break
        else:
            for c in row["cells"]:
                lines = c["source"].strip("\n").split("\n")
                if (
                    c["cell_type"] == "code"
                    and 2 <= len(lines) <= 12
                    and parse(c["source"])
                    and not any(l.lstrip().startswith(("%", "!")) for l in lines)
                ):
                    out.append((path_of(row), lines))
                    break
    return out


def appended(source: str, gap: int, code: list[str]) -> str:
    """`code` at the end of `source`: one newline between (and `gap` blank lines the block
    starts with), the file's final newline kept."""
    body, newline = (source[:-1], "\n") if source.endswith("\n") else (source, "")
    return body + "\n" + "\n".join([""] * gap + code) + newline


END_CELL_PROSE = [
    "Add a new cell at the end of the notebook:",
    "Then add a new cell at the end of the notebook:",
    "Add a new cell at the end of the notebook with this:",
]


def gen_empty_search(rows: list[dict], rng: random.Random) -> list[dict]:
    cls = "empty_search"
    out = []
    py_snips, nb_snips = snippets(rows, "py"), snippets(rows, "ipynb")
    py = [r for r in rows if r["kind"] == "py" and r["cells"][0]["source"].strip()]
    rng.shuffle(py)
    for n, row in enumerate(py[: len(py) // 8]):
        source = row["cells"][0]["source"]
        path, code = rng.choice([s for s in py_snips if s[0] != path_of(row)])
        if norm("\n".join(code)) in norm(source):
            continue
        gap = rng.choice([0, 0, 2, 1])
        search = rng.choice([[], [], [""]])
        prose = rng.choice(
            [
                "Add this at the end of the file:",
                "Append the following helper to the module:",
                "You can add a helper at the bottom of the file:",
            ]
        )
        block = fenced([SR_OPEN, *search, SR_DIV, *([""] * gap), *code, SR_CLOSE])
        segs = clean_sr(row) or clean_udiff(row)
        cells = copy.deepcopy(row["cells"])
        expected_source = appended(source, gap, code)
        text = prose + "\n\n" + block
        variant = f"append_gap{gap}" + ("_blank_search" if search else "")
        if segs and n % 2:
            # With the row's own edit first: the new code goes after the edited file's end.
            cells_after = row["cells_after"][0]["source"]
            expected_source = appended(cells_after, gap, code)
            text = row["suggestion"].strip("\n") + "\n\n" + text
            variant += "+edit"
        expected = [dict(cells[0], source=expected_source)]
        out.append(case(cls, row, variant, with_outro(text, rng), expected, False))
    nbs = [r for r in rows if r["kind"] == "ipynb" and len(r["cells"]) > 1]
    rng.shuffle(nbs)
    for n, row in enumerate(nbs[: len(nbs) // 6]):
        path, code = rng.choice([s for s in nb_snips if s[0] != path_of(row)])
        segs = clean_sr(row)
        block = fenced([SR_OPEN, SR_DIV, *code, SR_CLOSE])
        text = rng.choice(END_CELL_PROSE) + "\n\n" + block
        base, variant = row["cells"], "new_cell_end"
        if segs and n % 2 == 0:
            text = row["suggestion"].strip("\n") + "\n\n" + text
            base, variant = row["cells_after"], "new_cell_end+edit"
        expected = copy.deepcopy(base) + [
            {"id": "new0", "cell_type": "code", "source": "\n".join(code)}
        ]
        out.append(case(cls, row, variant, text, expected, False))
    # An empty block (nothing in SEARCH nor REPLACE): refused, alone or next to a good edit.
    goods = [(r, clean_sr(r)) for r in rows]
    goods = [r for r, s in goods if s]
    rng.shuffle(goods)
    for n, row in enumerate(goods[: len(goods) // 5]):
        empty = fenced([SR_OPEN, SR_DIV, *([""] * (n % 2)), SR_CLOSE])
        if n % 2:
            text = row["suggestion"].strip("\n") + "\n\nAnd:\n\n" + empty
            out.append(case(cls, row, "empty_block+edit", text, row["cells_after"], True))
        else:
            text = rng.choice(INTROS) + "\n\n" + empty
            out.append(case(cls, row, "empty_block", text, row["cells"], True))
    return out


# -- 4. repeated_block ------------------------------------------------------------------------------

ADD_KWARG = {
    "show": "block=False",
    "subplots": "figsize=(8, 6)",
    "figure": "figsize=(8, 6)",
    "tight_layout": "pad=1.0",
    "legend": 'loc="best"',
    "print": "flush=True",
    "head": "10",
}


def modify_line(text: str) -> str | None:
    """A realistic change of one line (stripped): an argument dropped or added, a number changed."""
    tree = parse(text)
    if not tree or len(tree.body) != 1:
        return None
    calls = [n for n in ast.walk(tree.body[0]) if isinstance(n, ast.Call)]
    for call in calls:  # outermost first
        args = [*call.args, *call.keywords]
        args.sort(key=lambda a: (a.lineno, a.col_offset))
        if len(args) >= 2 and all(a.lineno == 1 == a.end_lineno for a in args):
            start, end = args[-2].end_col_offset, args[-1].end_col_offset
            return text[:start] + text[end:]
        name = (
            call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        )
        if name in ADD_KWARG and call.end_lineno == 1 and len(args) <= 1:
            if name == "head" and args:
                continue
            close = call.end_col_offset - 1
            sep = ", " if args else ""
            return text[:close] + sep + ADD_KWARG[name] + text[close:]
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    for tok in tokens:
        if tok.type == tokenize.NUMBER and tok.start[0] == 1:
            value = tok.string
            if value.isdigit():
                new = str(int(value) * 2 if int(value) > 1 else int(value) + 1)
            elif re.fullmatch(r"\d*\.\d+", value):
                new = str(round(float(value) / 2, 6))
            else:
                continue
            return text[: tok.start[1]] + new + text[tok.end[1] :]
    return None


def repeated_lines(cells: list[dict]) -> list[tuple[str, int]]:
    """(line, N) for lines that stand N times (2..5) with the same text and indentation."""
    raw = Counter(l.rstrip() for c in cells for l in c["source"].split("\n"))
    stripped = Counter(l.strip() for c in cells for l in c["source"].split("\n"))
    out = []
    for line, n in raw.items():
        s = line.strip()
        if 2 <= n <= 5 and stripped[s] == n and len(s) >= 8 and ("(" in s or "=" in s):
            if not s.startswith(("#", "def ", "class ", "@", "return", "if ", "for ", "else")):
                out.append((line, n))
    return sorted(out)


def gen_repeated(rows: list[dict], rng: random.Random) -> list[dict]:
    cls = "repeated_block"
    out = []
    rows = list(rows)
    rng.shuffle(rows)
    for row in rows:
        if len(out) >= len(rows) // 7:
            break
        found = []
        for line, n in repeated_lines(row["cells"]):
            new = modify_line(line.strip())
            if new and new.strip() != line.strip() and new.strip() not in all_lines(row["cells"]):
                indent = line[: len(line) - len(line.lstrip())]
                found.append((line, indent + new, n))
        if not found:
            continue
        line, new, n = rng.choice(found)
        expected = copy.deepcopy(row["cells"])
        for c in expected:
            c["source"] = "\n".join(
                new if l.rstrip() == line else l for l in c["source"].split("\n")
            )
        refuse = len(out) % 4 == 3
        copies = (1 if n == 2 or rng.random() < 0.5 else n - 1) if refuse else n
        block = [SR_OPEN, line, SR_DIV, new, SR_CLOSE]
        intro = rng.choice(
            [
                f"Change `{line.strip()}` like this:",
                "Here are the edits:",
                "Update each occurrence:",
                "Apply these changes:",
            ]
        )
        if rng.random() < 0.5:
            body = "\n\n".join(fenced(block) for _ in range(copies))
        else:
            body = fenced([l for _ in range(copies) for l in block])
        text = with_outro(intro + "\n\n" + body, rng)
        variant = f"n{n}_copies{copies}"
        out.append(case(cls, row, variant, text, row["cells"] if refuse else expected, refuse))
    return out


# -- 5. multi_file_udiff ----------------------------------------------------------------------------


def gen_multi_file(rows: list[dict], rng: random.Random) -> list[dict]:
    cls = "multi_file_udiff"
    bases = [(r, clean_udiff(r)) for r in rows if r["kind"] == "py"]
    bases = [(r, s) for r, s in bases if s]
    py_snips = snippets(rows, "py")
    out = []
    for n, (row, segs) in enumerate(bases):
        path = path_of(row)
        others = [(r, s) for r, s in bases if Path(path_of(r)).name != Path(path).name]
        if n % 4 == 3:
            # Another file created by the answer: an all-added hunk.
            opath, code = rng.choice([s for s in py_snips if Path(s[0]).name != Path(path).name])
            opath = "tests/test_" + Path(opath).name if rng.random() < 0.5 else opath
            other = [
                "--- /dev/null",
                f"+++ b/{opath}",
                f"@@ -0,0 +1,{len(code)} @@",
                *["+" + l for l in code],
            ]
            variant = "new_file"
        else:
            orow, osegs = others[rng.randrange(len(others))]
            ofence = next(s for s in osegs if "fence" in s)
            olines = [l for h in ofence["hunks"] for l in hunk_sides(h)[0]]
            if shared_share(olines, row["cells"]) > 0.25:
                continue
            opath = path_of(orow)
            other = [f"--- a/{opath}", f"+++ b/{opath}", *[l for h in ofence["hunks"] for l in h]]
            variant = "other_file"
            if rng.random() < 0.3:
                other = [f"diff --git a/{opath} b/{opath}", *other]
        mine = []
        for s in segs:
            if "fence" in s:
                header = s["header"] or [f"--- a/{path}", f"+++ b/{path}"]
                mine += header + [l for h in s["hunks"] for l in h]
        after = rng.random() < 0.6
        body = mine + other if after else other + mine
        intro = rng.choice(
            [
                "Here's the patch:",
                "Apply this patch:",
                "The change, with the test that goes with it:",
                "Here's a diff with the changes:",
            ]
        )
        text = with_outro(intro + "\n\n" + fenced(body, "diff"), rng)
        order = "after" if after else "before"
        out.append(case(cls, row, f"{variant}_{order}", text, row["cells_after"], True))
        if n % 3 == 0:
            # The other file's diff alone: nothing here to change.
            text = intro + "\n\n" + fenced(other, "diff")
            out.append(case(cls, row, f"{variant}_alone", text, row["cells"], True))
    return out


# -- 6. whole_file_newline --------------------------------------------------------------------------


def layout(source: str) -> tuple[str, bool]:
    return source[: len(source) - len(source.lstrip("\n"))], source.endswith("\n")


WHOLE_PROSE = [
    "Here's the full corrected version:",
    "Here's the complete updated code:",
    "Here is the revised version:",
    "Replace the file with this:",
]


def gen_whole_file(rows: list[dict], rng: random.Random) -> list[dict]:
    cls = "whole_file_newline"
    py = [
        r
        for r in rows
        if r["kind"] == "py"
        and len(r["cells_after"]) == 1
        and r["cells_after"][0]["source"].strip()
        and layout(r["cells"][0]["source"]) == layout(r["cells_after"][0]["source"])
        and norm(r["cells"][0]["source"]) != norm(r["cells_after"][0]["source"])
    ]
    full = [r for r in py if r["style"] == "full"]
    rest = [r for r in py if r["style"] != "full"]
    rng.shuffle(rest)
    out = []
    for row in full + rest[: max(0, len(py) // 5 - len(full))]:
        body = row["cells_after"][0]["source"].strip("\n")
        text = rng.choice(WHOLE_PROSE) + "\n\n" + fenced(body)
        variant = "newline" if row["cells"][0]["source"].endswith("\n") else "no_newline"
        out.append(case(cls, row, variant, with_outro(text, rng), row["cells_after"], False, True))
    # Another file's whole text, named as such: nothing of this file to change.
    for row in py[::12]:
        lines = row["cells"][0]["source"].split("\n")
        others = [
            r
            for r in py
            if Path(path_of(r)).name != Path(path_of(row)).name
            and 0.6 * len(lines) <= r["cells_after"][0]["source"].count("\n") <= 1.5 * len(lines)
            and shared_share(r["cells_after"][0]["source"].split("\n"), row["cells"]) < 0.2
        ]
        if not others:
            continue
        other = rng.choice(others)
        body = other["cells_after"][0]["source"].strip("\n")
        text = f"Here's the full updated `{path_of(other)}`:\n\n" + fenced(body)
        out.append(case(cls, row, "other_file", text, row["cells"], True, True))
    return out


# -- 7. fuzzy_no_invent -----------------------------------------------------------------------------


def space_change(line: str, rng: random.Random) -> str | None:
    indent, body = line[: len(line) - len(line.lstrip())], line.strip()
    options = []
    if ", " in body:
        options.append(body.replace(", ", ",", 1))
    if " = " in body:
        options.append(body.replace(" = ", "=", 1))
    if "(" in body:
        i = body.index("(")
        if i and body[i - 1].isalnum():
            options.append(body[:i] + " " + body[i:])
    if " " in body:
        options.append(body.replace(" ", "  ", 1))
    return indent + rng.choice(options) if options else None


def typo(line: str, rng: random.Random) -> str | None:
    words = list(re.finditer(r"[A-Za-z]{4,}", line))
    if not words:
        return None
    w = rng.choice(words)
    s, word = w.start(), w.group()
    i = rng.randrange(1, len(word) - 1)
    how = rng.choice(["swap", "drop", "double"])
    if how == "swap" and word[i] != word[i + 1]:
        new = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    elif how == "drop":
        new = word[:i] + word[i + 1 :]
    else:
        new = word[:i] + word[i] + word[i:]
    return line[:s] + new + line[w.end() :]


def context_pairs(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """(i, j): old[i] is new[j], a context line of the block (non-blank)."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [
        (i1 + k, j1 + k)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag == "equal"
        for k in range(i2 - i1)
        if len(old[i1 + k].strip()) >= 6
    ]


def removed_lines(old: list[str], new: list[str]) -> list[int]:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [
        i
        for tag, i1, i2, _, _ in matcher.get_opcodes()
        if tag in ("replace", "delete")
        for i in range(i1, i2)
        if old[i].strip()
    ]


def invented_line(rng: random.Random, near: str, taken: set[str]) -> str | None:
    indent = near[: len(near) - len(near.lstrip())]
    choices = [l for l in INVENTED if l not in taken]
    return indent + rng.choice(choices) if choices else None


def perturb_sr(old, new, how, both, rng, taken):
    """The block (old, new) with one context line perturbed, or None."""
    old, new = list(old), list(new)
    if sum(bool(l.strip()) for l in old) < 3:
        return None  # a line or two: perturbing one leaves too little to place the block by
    pairs = context_pairs(old, new)
    if how == "invent":
        spots = [(i, j) for i, j in pairs if 0 < i + 1 < len(old)]
        if not spots:
            return None
        i, j = rng.choice(spots)
        line = invented_line(rng, old[i + 1] if old[i + 1].strip() else old[i], taken)
        if line is None:
            return None
        old.insert(i + 1, line)
        if both:
            new.insert(j + 1, line)
        return old, new
    if not pairs:
        return None
    i, j = rng.choice(pairs)
    changed = space_change(old[i], rng) if how == "space" else typo(old[i], rng)
    if not changed or changed == old[i] or changed.strip() in taken:
        return None
    old[i] = changed
    if both:
        new[j] = changed
    return old, new


def perturb_hunk(hunk, how, rng, taken):
    """A diff hunk with one context line perturbed (in both sides, as a diff has it), an invented
    context line, or an invented removed line (`how` == "invent_removed")."""
    hunk = list(hunk)
    if sum(bool(l.strip()) for l in hunk_sides(hunk)[0]) < 3:
        return None
    spots = [
        k for k in range(1, len(hunk)) if hunk[k].startswith(" ") and len(hunk[k].strip()) >= 6
    ]
    if how.startswith("invent"):
        spots = [k for k in spots if k + 1 < len(hunk)]
        if not spots:
            return None
        k = rng.choice(spots)
        near = hunk[k + 1][1:] if hunk[k + 1][1:].strip() else hunk[k][1:]
        line = invented_line(rng, near, taken)
        if line is None:
            return None
        hunk.insert(k + 1, ("-" if how == "invent_removed" else " ") + line)
        return hunk
    if not spots:
        return None
    k = rng.choice(spots)
    changed = space_change(hunk[k][1:], rng) if how == "space" else typo(hunk[k][1:], rng)
    if not changed or changed == hunk[k][1:] or changed.strip() in taken:
        return None
    hunk[k] = " " + changed
    return hunk


def gen_fuzzy(rows: list[dict], rng: random.Random) -> list[dict]:
    cls = "fuzzy_no_invent"
    out = []
    n = 0
    for row in rows:
        taken = all_lines(row["cells"]) | all_lines(row["cells_after"])
        sr, ud = clean_sr(row), clean_udiff(row)
        if not sr and not ud:
            continue
        segs = sr or ud
        fences = [s for s in segs if "fence" in s]
        n += 1
        refuse = n % 5 == 0
        fence = rng.choice(fences)
        if sr and refuse:
            # The line the block removes is in no cell: refused, never another line removed.
            old, new = fence["blocks"][0]
            gone = removed_lines(old, new)
            if not gone or len(gone) > 3 or len(context_pairs(old, new)) < 2:
                continue
            old = list(old)
            for i in gone:
                line = invented_line(rng, old[i], taken | {l.strip() for l in old})
                if line is None:
                    break
                old[i] = line
            else:
                text = rng.choice(INTROS) + "\n\n" + fenced([SR_OPEN, *old, SR_DIV, *new, SR_CLOSE])
                out.append(case(cls, row, "sr_removed_line_wrong", text, row["cells"], True))
            continue
        if ud and refuse:
            hunk = fence["hunks"][0]
            gone = [k for k, l in enumerate(hunk) if l.startswith("-") and l[1:].strip()]
            if not gone or len(gone) > 3:
                continue
            hunk = list(hunk)
            for k in gone:
                line = invented_line(rng, hunk[k][1:], taken | {l[1:].strip() for l in hunk})
                if line is None:
                    break
                hunk[k] = "-" + line
            else:
                body = fence["header"] + hunk
                text = rng.choice(INTROS) + "\n\n" + fenced(body, "diff")
                out.append(case(cls, row, "udiff_removed_line_wrong", text, row["cells"], True))
            continue
        how = ["space", "typo", "invent"][n % 3]
        if sr:
            both = rng.random() < 0.5
            k = rng.randrange(len(fence["blocks"]))
            made = perturb_sr(*fence["blocks"][k], how, both, rng, taken)
            if not made:
                continue
            fence["blocks"][k] = made
            fence["body"] = [
                l for old, new in fence["blocks"] for l in [SR_OPEN, *old, SR_DIV, *new, SR_CLOSE]
            ]
            variant = f"sr_{how}_{'both' if both else 'search'}"
        else:
            kind = how if how != "invent" else rng.choice(["invent", "invent_removed"])
            k = rng.randrange(len(fence["hunks"]))
            made = perturb_hunk(fence["hunks"][k], kind, rng, taken)
            if not made:
                continue
            fence["hunks"][k] = made
            fence["body"] = fence["header"] + [l for h in fence["hunks"] for l in h]
            variant = "udiff_" + {
                "invent": "invent_context",
                "invent_removed": "invent_removed",
            }.get(kind, kind)
        out.append(case(cls, row, variant, render(segs), row["cells_after"], False))
    return out


# -- 8. one_definition ------------------------------------------------------------------------------


def _scope_defs(body: list[ast.stmt]) -> dict[str, ast.AST]:
    defs = [n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    names = [n.name for n in defs]
    return {n.name: n for n in defs} if len(set(names)) == len(names) else {}


def changed_definition(row: dict) -> tuple[dict, list[str], str] | None:
    """(the cell, the changed definition's new text, "function" or "method") when the row changes
    one code cell only, inside one definition (a top-level one among several, or a method among
    several of a top-level class), and the cell's definitions keep their names."""
    if [c["id"] for c in row["cells"]] != [c["id"] for c in row["cells_after"]]:
        return None
    changed = [
        (b, a) for b, a in zip(row["cells"], row["cells_after"]) if b["source"] != a["source"]
    ]
    if len(changed) != 1 or changed[0][0]["cell_type"] != "code":
        return None
    before, after = changed[0]
    old, new = before["source"].split("\n"), after["source"].split("\n")
    trees = [parse(next(code_sources([c]))) for c in (before, after)]
    if None in trees:
        return None
    scopes = [(trees[0].body, trees[1].body, "function")]
    scopes += [
        (c0.body, c1.body, "method")
        for c0 in trees[0].body
        for c1 in trees[1].body
        if isinstance(c0, ast.ClassDef) and isinstance(c1, ast.ClassDef) and c0.name == c1.name
    ]
    ops = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    ops = [op for op in ops if op[0] != "equal"]
    for body0, body1, kind in scopes:
        defs0, defs1 = _scope_defs(body0), _scope_defs(body1)
        if len(defs0) < 2 or list(defs0) != list(defs1):
            continue
        for name in defs0:
            (s0, e0), (s1, e1) = def_span(defs0[name]), def_span(defs1[name])
            if all(s0 <= i1 and i2 <= e0 and s1 <= j1 and j2 <= e1 for _, i1, i2, j1, j2 in ops):
                return after, new[s1:e1], kind
    return None


def gen_one_definition(rows: list[dict], rng: random.Random) -> list[dict]:
    """One function of a cell that holds several (or one method of a class), as chat models answer
    "fix this function": the new definition alone, with a marker below it, between markers, or
    followed by a usage example (refused: not an edit)."""
    cls = "one_definition"
    out = []
    for row in rows:
        found = changed_definition(row)
        if found is None:
            continue
        cell, lines, kind = found
        body = textwrap.dedent("\n".join(lines))
        marker = "# ... existing code ..."
        variants = {
            f"{kind}_alone": fenced(body),
            f"{kind}_marker_below": fenced(body + "\n" + marker),
            f"{kind}_between_markers": fenced(marker + "\n" + body + "\n" + marker),
        }
        tree = parse(body)
        if tree and tree.body and kind == "function":
            usage = usage_line(tree.body[0], rng)
            variants["function_and_usage"] = (
                fenced(body) + "\n\nUse it like this:\n\n" + fenced(usage)
            )
        for variant in rng.sample(sorted(variants), min(2, len(variants))):
            text = rng.choice(INTROS) + "\n\n" + variants[variant]
            refuse = variant == "function_and_usage"
            out.append(case(cls, row, variant, with_outro(text, rng), row["cells_after"], refuse))
    return out


# -- all --------------------------------------------------------------------------------------------

GENERATORS = {
    "not_an_edit": gen_not_an_edit,
    "search_replace_shapes": gen_sr_shapes,
    "empty_search": gen_empty_search,
    "repeated_block": gen_repeated,
    "multi_file_udiff": gen_multi_file,
    "whole_file_newline": gen_whole_file,
    "fuzzy_no_invent": gen_fuzzy,
    "one_definition": gen_one_definition,
}


def generate(split: str = "dev", data: Path = DATA, max_per_class: int | None = None) -> list[dict]:
    """Every case of every class for `split`, in a fixed order."""
    rows = load_rows(split, data)
    out = []
    for cls in CLASSES:
        rng = random.Random(f"{split}:{cls}")
        cases = GENERATORS[cls](copy.deepcopy(rows), rng)
        seen: Counter = Counter()
        for c in cases[:max_per_class] if max_per_class else cases:
            seen[c["id"]] += 1
            if seen[c["id"]] > 1:
                c["id"] += f"#{seen[c['id']]}"
            out.append(c)
    return out


def write(cases: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # No name nor time in the gzip header: the same cases give the same bytes.
    with open(path, "wb") as raw, gzip.GzipFile("", "wb", fileobj=raw, mtime=0) as handle:
        for c in cases:
            handle.write((json.dumps(c, ensure_ascii=False) + "\n").encode("utf-8"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="dev", choices=["dev", "train"])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--out", help="default: benchmarks/apply_realistic/<split>.jsonl.gz")
    parser.add_argument("--max-per-class", type=int)
    args = parser.parse_args(argv)
    cases = generate(args.split, Path(args.data), args.max_per_class)
    out = Path(args.out) if args.out else OUT / f"{args.split}.jsonl.gz"
    write(cases, out)
    per = Counter(c["class"] for c in cases)
    refuse = Counter(c["class"] for c in cases if c["refuse"])
    print(f"{out}: {len(cases)} cases")
    for cls in CLASSES:
        print(f"  {cls}: {per[cls]} ({refuse[cls]} refuse)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
