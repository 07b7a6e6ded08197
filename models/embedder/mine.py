"""Query → code pairs, mined offline.

- **Docstrings and comments → function bodies**, from the licence-filtered .py corpus that
  ``python -m models.recipe corpus`` builds (models/runs/corpus/corpus.jsonl: permissively licensed
  files only). The query is the docstring's first paragraph (or the comment block right above the
  ``def``); the document is the function as the index chunks it (its qualified name as context,
  then its source) with that docstring or comment removed.
- **Markdown cells → the code cell below them**, from the notebooks of the *train* split
  (../shared/data/*_train.jsonl.gz, rebuilt with benchmarks/bench_index.dev_notebooks). The query
  is a sentence of the markdown's prose (or its heading); the document is the code cell as the index
  embeds it (notebook title › heading as context) without the markdown explanation the index also
  puts in the context, so the model has to read the code. Notebooks whose repository path also
  occurs in the dev split are left out (the benchmark's generated queries come from dev notebooks),
  and so is anything whose path contains "statsmodels" (the benchmark's written queries are about
  statsmodels' example notebooks).

Augmentation: half of the queries that contain identifiers get them split (``read_csv`` →
``read csv``, ``fooBar`` → ``foo bar``). Pairs are deduplicated (by query and by document), capped
(queries 64 words, documents 60 lines / 3000 characters like the chunker: the model reads 128
tokens of them), shuffled with a seed, and a validation slice is held out by file (every pair of a
file is on the same side).
"""

from __future__ import annotations

import ast
import hashlib
import json
import random
import re
import sys
import textwrap
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
CORPUS = REPO / "models" / "runs" / "corpus" / "corpus.jsonl"
MAX_QUERY_WORDS = 64
MAX_DOC_LINES = 60
MAX_DOC_CHARS = 3000
PER_FILE = 3  # functions per .py file at most: breadth over the corpus's biggest modules
VAL_PER_MILLE = 25  # files held out for validation

_WORD = re.compile(r"[A-Za-z]{2,}")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def split_identifiers(text: str) -> str:
    """``read_csv`` → ``read csv``, ``fooBar`` → ``foo bar``, ``HTTPServer`` → ``http server``;
    backticks dropped; plain words unchanged."""

    def one(match: re.Match) -> str:
        word = match.group(0)
        if "_" not in word.strip("_") and not _CAMEL.search(word):
            return word
        parts = [p for piece in word.split("_") for p in _CAMEL.split(piece) if p]
        return " ".join(p.lower() for p in parts)

    return re.sub(r"\s+", " ", _IDENT.sub(one, text.replace("`", ""))).strip()


def _bucket(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 1000


def _cap_query(text: str) -> str | None:
    words = text.split()
    if len(_WORD.findall(text)) < 3:
        return None
    return " ".join(words[:MAX_QUERY_WORDS])


def _cap_doc(context: str, code: str) -> str | None:
    lines = [line.rstrip() for line in code.strip("\n").splitlines()]
    if sum(1 for line in lines if line.strip()) < 2:
        return None
    body = "\n".join(lines[:MAX_DOC_LINES])[:MAX_DOC_CHARS]
    return f"{context}\n{body}" if context else body


# -- docstrings and comments ---------------------------------------------------------------------


def _summary(docstring: str) -> str | None:
    """The docstring's first paragraph, unless it is markup (parameters, doctest, directives)."""
    first = textwrap.dedent(docstring).strip().split("\n\n")[0]
    if not first or first.lstrip().startswith((":", ">>>", "..", "@", "Parameters", "Args")):
        return None
    return _cap_query(" ".join(first.split()))


def _comment_above(lines: list[str], start: int) -> str | None:
    block = []
    i = start - 1
    while i >= 0 and lines[i].strip().startswith("#"):
        block.append(lines[i].strip().lstrip("#").strip())
        i -= 1
    text = " ".join(reversed(block))
    if not text or text.startswith(("!", "-*-", "type:", "noqa", "pragma", "pylint", "fmt:")):
        return None
    return _cap_query(text)


def function_pairs(source: str) -> list[tuple[str, str, str]]:
    """(query, document, kind) for the documented functions and methods of one Python file."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    lines = source.splitlines()
    out = []

    def visit(node, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                pair = _function_pair(child, prefix, lines)
                if pair:
                    out.append(pair)

    visit(tree, "")
    return out


def _function_pair(node, prefix: str, lines: list[str]) -> tuple[str, str, str] | None:
    start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    end = node.end_lineno or node.lineno
    body = lines[start:end]
    first = node.body[0] if node.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        query = _summary(first.value.value)
        drop = range(first.lineno - 1 - start, (first.end_lineno or first.lineno) - start)
        body = [line for i, line in enumerate(body) if i not in drop]
        kind = "docstring"
    else:
        query = _comment_above(lines, start)
        kind = "comment"
    if not query:
        return None
    doc = _cap_doc(f"{prefix}{node.name}", textwrap.dedent("\n".join(body)))
    return (query, doc, kind) if doc else None


def docstring_pairs(corpus: Path, limit: int, seed: int) -> list[dict]:
    files = []
    with open(corpus) as lines:
        for line in lines:
            row = json.loads(line)
            path = row["path"]
            if not path.endswith(".py") or "statsmodels" in path or "statsmodels" in row["text"]:
                continue
            files.append((path, row["license"], row["text"]))
    rng = random.Random(seed)
    rng.shuffle(files)
    pairs: list[dict] = []
    for path, licence, text in files:
        if len(pairs) >= limit:
            break
        found = function_pairs(text)
        rng.shuffle(found)
        for query, doc, kind in found[:PER_FILE]:
            pairs.append(
                {"query": query, "doc": doc, "kind": kind, "file": path, "license": licence}
            )
    return pairs


# -- notebooks -----------------------------------------------------------------------------------


def _prose(markdown: str) -> str:
    return " ".join(
        line.strip()
        for line in markdown.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "<", "!", "|", "```", ":::"))
    )


def _heading(markdown: str) -> str | None:
    for line in markdown.splitlines():
        match = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
        if match:
            return match.group(1)
    return None


def train_notebooks(data: Path) -> tuple[dict[str, list[dict]], dict[str, int]]:
    """The train split's notebooks (file name -> cells) less those the benchmark's queries come
    from: a notebook whose path is also in the dev split, and anything about statsmodels. Also
    how many were skipped, by reason."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_index import dev_notebooks

    train = dev_notebooks(data, split="train", max_cells=None)
    dev_names = set(dev_notebooks(data, split="dev", max_cells=None))
    kept, skipped = {}, Counter()
    for name, cells in train.items():
        if "statsmodels" in name.lower():
            skipped["statsmodels"] += 1
        elif name in dev_names:
            skipped["also in the dev split"] += 1
        else:
            kept[name] = cells
    return kept, dict(skipped)


def notebook_pairs(data: Path, seed: int) -> tuple[list[dict], dict]:
    """Markdown → following code cell pairs of the train split's notebooks."""
    import nbformat

    from jupyter_cursor.index.chunking import _context, _title, chunk_notebook

    train, skipped = train_notebooks(data)
    rng = random.Random(seed)
    pairs: list[dict] = []
    for name, cells in sorted(train.items()):
        nb = nbformat.v4.new_notebook()
        for cell in cells:
            make = nbformat.v4.new_markdown_cell
            if cell["cell_type"] != "markdown":
                make = nbformat.v4.new_code_cell
            nb.cells.append(make(cell["source"]))
        text = nbformat.writes(nb)
        title = _title([(None, c["cell_type"], c["source"]) for c in cells])
        first_window = {}
        for chunk in chunk_notebook(name, text):
            first_window.setdefault(chunk.cell_index, chunk)
        for i, (cell, below) in enumerate(zip(cells, cells[1:])):
            if cell["cell_type"] != "markdown" or below["cell_type"] != "code":
                continue
            chunk = first_window.get(i + 1)
            if chunk is None:
                continue
            sentences = [
                s
                for s in _SENTENCE.split(_prose(cell["source"]))
                if len(_WORD.findall(s)) >= 4 and "http" not in s
            ]
            heading = _heading(cell["source"])
            if sentences and (heading is None or rng.random() < 0.75):
                query = sentences[-1] if rng.random() < 0.6 else " ".join(sentences[-3:])
            else:
                query = heading
            query = query and _cap_query(query)
            doc = _cap_doc(_context(title, chunk.heading, ""), chunk.text)
            if query and doc:
                pairs.append(
                    {"query": query, "doc": doc, "kind": "markdown", "file": name, "license": ""}
                )
    return pairs, {
        "train notebooks": len(train) + sum(skipped.values()),
        "skipped notebooks": skipped,
    }


# -- all together --------------------------------------------------------------------------------


def dedupe(pairs: list[dict]) -> list[dict]:
    seen_q, seen_d, out = set(), set(), []
    for pair in pairs:
        q = " ".join(pair["query"].lower().split())
        d = " ".join(pair["doc"].split())
        if q in seen_q or d in seen_d:
            continue
        seen_q.add(q)
        seen_d.add(d)
        out.append(pair)
    return out


def mine(
    out_dir: Path,
    data: Path = DATA,
    corpus: Path = CORPUS,
    seed: int = 0,
    max_docstring_pairs: int = 60_000,
) -> dict:
    """Write train.jsonl and val.jsonl ({"query", "doc", "kind", "file", "license"}) and
    stats.json into ``out_dir``; return the stats."""
    if not corpus.exists():
        raise SystemExit(f"{corpus} missing: run `python -m models.recipe corpus` first")
    rng = random.Random(seed)
    notebook, nb_stats = notebook_pairs(data, seed)
    code = docstring_pairs(corpus, max_docstring_pairs, seed)
    pairs = dedupe(notebook + code)
    for pair in pairs:
        split = split_identifiers(pair["query"])
        pair["query_split"] = split != pair["query"] and rng.random() < 0.5
        if pair["query_split"]:
            pair["query"] = split
    rng.shuffle(pairs)
    val = [p for p in pairs if _bucket(p["file"]) < VAL_PER_MILLE]
    train = [p for p in pairs if _bucket(p["file"]) >= VAL_PER_MILLE]
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train", train), ("val", val)):
        with open(out_dir / f"{name}.jsonl", "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    stats = {
        "seed": seed,
        **nb_stats,
        "pairs before dedupe": {"markdown": len(notebook), "docstring+comment": len(code)},
        "train": dict(Counter(p["kind"] for p in train)),
        "val": dict(Counter(p["kind"] for p in val)),
        "train files": len({p["file"] for p in train}),
        "val files": len({p["file"] for p in val}),
        "queries with identifiers split": sum(p["query_split"] for p in pairs),
        "licences (train+val pairs)": dict(
            Counter(p["license"] or "notebooks of the train split" for p in pairs).most_common()
        ),
    }
    (out_dir / "stats.json").write_text(json.dumps(stats, indent=1) + "\n")
    return stats
