"""Retrieval benchmark of the workspace index (jupyter_cursor.index).

Quality, per query class, on one workspace of two folders:

- ``written``: the 76 example notebooks of statsmodels 0.14.4 (real notebooks, fetched once with pip
  from its sdist), 50 queries written for them with cell-level relevance judgements
  (benchmarks/index_queries/statsmodels_queries.jsonl: each judgement is a notebook and a regex that
  picks its relevant cells);
- ``generated``: notebooks of the dev repositories (../shared/data/*_dev.jsonl.gz, never the
  held-out ones), queries generated from them (index_queries/dev_generated_queries.jsonl, made by
  ``--write-dev-queries``): a sentence of a markdown cell as the query, the code cell right below
  it as the answer, the sentence held out of the workspace's copy of the notebook;
- ``docstring``: the same notebooks, the first paragraph of a docstring as the query
  (index_queries/dev_docstring_queries.jsonl), the cell defining it as the answer, the docstring
  held out.

recall@10, MRR@10 and nDCG@10 for bm25, embedding and hybrid in one run, and the fusions compared on
the same candidates (reciprocal rank fusion; convex fusion, its weight and floor swept; the
learned fusion that hybrid search runs, with and without its floor). The learned fusion is fitted
on train-split queries (models/fusion); these dev queries only measure it.
The embedding similarity floor is swept: quality on those queries against how many hits questions
about nothing in the workspace (index_queries/off_topic_queries.txt) still get.

Speed: a ~10k-chunk workspace (those notebooks plus standard-library Python files): cold BM25 index
time, cold embedding time, query latency p50/p95, a notebook save's delay until BM25 and until
embedding search find it, index size.

    nice -n 10 python benchmarks/bench_index.py [--corpus DIR] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jupyter_cursor.index import WorkspaceIndex, fusion
from jupyter_cursor.index.embedder import EMBEDDING_MODELS, make_embedder
from jupyter_cursor.index.fusion import explanation_then_code, reciprocal_rank_fusion

sys.path.insert(0, str(Path(__file__).parent))
from machine import machine  # noqa: E402

HERE = Path(__file__).parent
QUERIES = HERE / "index_queries" / "statsmodels_queries.jsonl"
DEV_QUERIES = HERE / "index_queries" / "dev_generated_queries.jsonl"
DOCSTRING_QUERIES = HERE / "index_queries" / "dev_docstring_queries.jsonl"
DEV_DATA = HERE.parent.parent / "shared" / "data"
# Dev notebooks in the workspace: about as many cells as the statsmodels examples.
DEV_CELLS = 2600
DEV_QUERIES_PER_NOTEBOOK = 5
# Folders of the quality workspace, one per corpus.
WRITTEN, DEV = "statsmodels", "dev"
# Questions about nothing a statistics workspace holds: a good search answers them with nothing.
OFF_TOPIC = HERE / "index_queries" / "off_topic_queries.txt"
# Embedding similarity floors compared (the embedder's own floor is the shipped one).
FLOORS = (0.0, 0.2, 0.25, 0.3, 0.35)
SDIST = "statsmodels==0.14.4"
CACHE = Path(tempfile.gettempdir()) / "jupyter_cursor_bench_corpus"
MODES = ("bm25", "embedding", "hybrid")


def fetch_corpus() -> Path:
    """The statsmodels example notebooks, downloaded once through pip (no other network)."""
    target = CACHE / "notebooks"
    if target.exists() and any(target.glob("*.ipynb")):
        return target
    download = CACHE / "sdist"
    download.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            "statsmodels",
            SDIST,
            "-d",
            str(download),
        ],
        check=True,
        capture_output=True,
    )
    (archive,) = download.glob("statsmodels-*.tar.gz")
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.name.endswith(".ipynb") and "/examples/notebooks/" in member.name:
                member.name = Path(member.name).name
                tar.extract(member, target, filter="data")
    return target


# -- quality -------------------------------------------------------------------------------------


def load_judgements(root: Path) -> list[dict]:
    """The written queries: each (notebook, regex) judgement resolved to (path, cell index)s of
    the quality workspace's statsmodels folder."""
    from jupyter_cursor.index.chunking import notebook_cells

    queries = []
    for line in QUERIES.read_text().splitlines():
        query = json.loads(line)
        relevant = set()
        for name, pattern in query["relevant"]:
            cells = notebook_cells((root / WRITTEN / name).read_text(encoding="utf-8"))
            relevant |= {
                (f"{WRITTEN}/{name}", i)
                for i, (_, _, src) in enumerate(cells)
                if re.search(pattern, src)
            }
        if relevant:
            queries.append({"id": query["id"], "query": query["query"], "relevant": relevant})
    return queries


def dev_notebooks(
    data: Path, split: str = "dev", max_cells: int | None = DEV_CELLS
) -> dict[str, list[dict]]:
    """Notebooks of the dev repositories (one version each, from the dev NES and APPLY files),
    picked by a hash of their name until about DEV_CELLS cells: file name -> cells. ``split``
    "train" and ``max_cells`` None: every notebook of the train files (models/embedder mines
    them)."""
    found: dict[str, list[dict]] = {}
    for name in (f"apply_{split}.jsonl.gz", f"nes_{split}.jsonl.gz"):
        with gzip.open(data / name, "rt") as lines:
            for line in lines:
                example = json.loads(line)
                if example["kind"] != "ipynb":
                    continue
                repo, rest = example["origin"].split("@", 1)
                path = rest.split(":", 1)[1]
                file = re.sub(r"[^\w.-]+", "__", f"{repo}/{path}")
                found.setdefault(file, example["cells"])
    chosen, total = {}, 0
    for file in sorted(found, key=lambda f: hashlib.sha256(f.encode()).hexdigest()):
        if max_cells is not None and total >= max_cells:
            break
        chosen[file] = found[file]
        total += len(found[file])
    return chosen


def write_dev_corpus(data: Path, into: Path) -> None:
    """The dev notebooks, each generated query's text held out of the cell it was taken from (see
    generate_dev_queries and generate_docstring_queries)."""
    queries = _dev_query_rows(DEV_QUERIES) + _dev_query_rows(DOCSTRING_QUERIES)
    write_held_out(dev_notebooks(data), queries, into)


def write_held_out(notebooks: dict[str, list[dict]], queries: list[dict], into: Path) -> None:
    """``notebooks`` (file name -> cells) written into ``into`` as .ipynb files, each query's
    ``held`` text deleted from the cell it was taken from."""
    import nbformat

    held: dict[tuple[str, int], list[str]] = {}
    for query in queries:
        ((file, _),) = query["relevant"]
        cell, text = query["held"]
        held.setdefault((file, cell), []).append(text)
    into.mkdir(parents=True, exist_ok=True)
    for file, cells in notebooks.items():
        nb = nbformat.v4.new_notebook()
        for index, cell in enumerate(cells):
            source = cell["source"]
            for sentence in held.get((file, index), []):
                source = without_sentence(source, sentence)
                if source is None:
                    raise ValueError(f"{file} cell {index} no longer holds {sentence!r}")
            make = (
                nbformat.v4.new_markdown_cell
                if cell["cell_type"] == "markdown"
                else (nbformat.v4.new_code_cell)
            )
            nb.cells.append(make(source))
        (into / file).write_text(nbformat.writes(nb), encoding="utf-8")


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def without_sentence(source: str, sentence: str) -> str | None:
    """``source`` with ``sentence`` removed, or None when it is not there. Whitespace between its
    words may differ (generate_dev_queries joins a cell's stripped lines by spaces)."""
    pattern = r"\s+".join(re.escape(word) for word in sentence.split())
    match = re.search(pattern, source)
    if match is None:
        return None
    return source[: match.start()].rstrip(" \t") + source[match.end() :]


def generate_dev_queries(notebooks: dict[str, list[dict]]) -> list[dict]:
    """A sentence of prose from a markdown cell (6 to 30 words, the last such in the cell: the one
    that leads into the code) as the query; the code cell right below it as the answer.

    The sentence is held out of the workspace (write_dev_corpus deletes it from its cell), as
    CodeSearchNet strips the docstring from the function it queries and the inverse cloze task
    removes the sentence from its passage: left in, the markdown cell holding the query verbatim
    ranked first on every side, and the code cell, whose context carries that sentence too,
    second, so that each side's nDCG@10 sat within 2 points of its ceiling (1/log2(3))."""
    queries = []
    for file, cells in notebooks.items():
        pairs = []
        for i, (cell, below) in enumerate(zip(cells, cells[1:])):
            if cell["cell_type"] != "markdown" or below["cell_type"] != "code":
                continue
            if not below["source"].strip():
                continue
            prose = " ".join(
                line.strip()
                for line in cell["source"].splitlines()
                if line.strip() and not line.lstrip().startswith(("#", "<", "!", "|", "```", ":::"))
            )
            sentences = [
                s
                for s in _SENTENCE.split(prose)
                if 6 <= len(re.findall(r"\b[A-Za-z]{2,}\b", s))
                and len(s.split()) <= 30
                and "http" not in s
                and without_sentence(cell["source"], s) is not None
            ]
            if sentences:
                pairs.append((sentences[-1], i + 1))
        for sentence, cell in spread(pairs):
            queries.append(
                {
                    "id": f"g{len(queries) + 1:03d}",
                    "query": sentence,
                    "relevant": [[file, cell]],
                    "held": [cell - 1, sentence],
                }
            )
    return queries


def generate_docstring_queries(notebooks: dict[str, list[dict]]) -> list[dict]:
    """The first paragraph of a docstring of a function or class defined in a code cell (4 to 30
    words) as the query, that cell as the answer, the docstring held out of the workspace's copy
    (CodeSearchNet's pairs, in notebooks). At most DEV_QUERIES_PER_NOTEBOOK per notebook, spread
    over it; one per cell."""
    import ast

    queries = []
    for file, cells in notebooks.items():
        pairs = []
        for i, cell in enumerate(cells):
            if cell["cell_type"] != "code":
                continue
            # IPython's magics and shell escapes as blank lines: the line numbers stay.
            code = re.sub(r"(?m)^\s*[%!].*$", "", cell["source"])
            try:
                tree = ast.parse(code)
            except (SyntaxError, ValueError):
                continue
            for node in ast.walk(tree):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    continue
                doc = ast.get_docstring(node)
                literal = ast.get_source_segment(code, node.body[0]) if doc else None
                if not literal:
                    continue
                first = " ".join(doc.split("\n\n")[0].split())
                if 4 <= len(re.findall(r"\b[A-Za-z]{2,}\b", first)) and len(first.split()) <= 30:
                    pairs.append((first, i, literal))
                    break
        for first, cell, literal in spread(pairs):
            queries.append(
                {
                    "id": f"d{len(queries) + 1:03d}",
                    "query": first,
                    "relevant": [[file, cell]],
                    "held": [cell, literal],
                }
            )
    return queries


def spread(pairs: list) -> list:
    """At most DEV_QUERIES_PER_NOTEBOOK of a notebook's candidate queries, spread over it."""
    step = max(1, len(pairs) // DEV_QUERIES_PER_NOTEBOOK)
    return pairs[::step][:DEV_QUERIES_PER_NOTEBOOK]


def _dev_query_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def load_dev_queries(path: Path = DEV_QUERIES) -> list[dict]:
    queries = []
    for query in _dev_query_rows(path):
        relevant = {(f"{DEV}/{name}", cell) for name, cell in query["relevant"]}
        queries.append({"id": query["id"], "query": query["query"], "relevant": relevant})
    return queries


def cells_of(hits: list[dict], k: int = 10) -> list[tuple]:
    """First k distinct cells (a huge cell's windows count once)."""
    seen: dict[tuple, None] = {}
    for hit in hits:
        seen.setdefault(
            (
                hit["path"],
                hit["cell_index"] if hit["cell_index"] is not None else hit["start_line"],
            ),
            None,
        )
    return list(seen)[:k]


def metrics(ranked: list[tuple], relevant: set) -> dict:
    gains = [1.0 if cell in relevant else 0.0 for cell in ranked[:10]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    first = next((i for i, g in enumerate(gains) if g), None)
    return {
        "recall@10": sum(gains) / len(relevant),
        "mrr@10": 0.0 if first is None else 1 / (first + 1),
        "ndcg@10": dcg / ideal,
    }


def fused_metrics(rows: Mapping, ranked: list[tuple[str, float]], relevant: set) -> dict:
    """metrics of a fused (id, score) list as search would show it: each id's catalog row
    (``rows``: anything with path, cell_index, start_line and kind), the explanation move, then
    distinct cells."""
    found = explanation_then_code([(rows[uid], score) for uid, score in ranked])
    hits = [
        {"path": r.path, "cell_index": r.cell_index, "start_line": r.start_line} for r, _ in found
    ]
    return metrics(cells_of(hits), relevant)


def mean_metrics(rows: list[dict]) -> dict:
    return {key: round(statistics.mean(r[key] for r in rows), 4) for key in rows[0]}


DEPTH = 50  # how deep each side's ranking goes into a fusion (the index's FUSION_DEPTH)
WEIGHTS = [round(0.05 * i, 2) for i in range(21)]
RELATIVE_FLOORS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6)


def evaluate(index: WorkspaceIndex, classes: dict[str, list[dict]]) -> dict:
    """Per query class: the three modes as shipped, then the fusions of the same two rankings."""
    out = {}
    for name, queries in classes.items():
        table: dict[str, list] = {mode: [] for mode in MODES}
        variants: dict[str, list] = {}
        shown: dict[str, list] = {}
        for q in queries:
            for mode in MODES:
                table[mode].append(
                    metrics(cells_of(index.search(q["query"], 30, mode)), q["relevant"])
                )
            lexical, semantic, found_rows, coverage = index.candidates(q["query"], DEPTH)
            fused = {
                "rrf k=60": reciprocal_rank_fusion(
                    [[k for k, _ in lexical], [k for k, _ in semantic]]
                )
            }
            sim_floor = index.embedder.min_similarity
            for weight in WEIGHTS:
                fused[f"convex w={weight:g}"] = fusion.convex_fusion(
                    lexical, semantic, weight, 0.0, sim_floor
                )
            for floor in RELATIVE_FLOORS:
                ranked = fusion.convex_fusion(
                    lexical, semantic, fusion.BM25_WEIGHT, floor, sim_floor
                )
                fused[f"convex w={fusion.BM25_WEIGHT:g}, floor {floor:g}"] = ranked
                shown.setdefault(f"convex, floor {floor:g}", []).append(len(ranked[:20]))
            learned = index._fusion
            if learned is not None:
                for floor in (0.0, learned.floor):
                    ranked = learned.with_floor(floor)(q["query"], lexical, semantic, coverage)
                    fused[f"learned, floor {floor:g}"] = ranked
                    shown.setdefault(f"learned, floor {floor:g}", []).append(len(ranked[:20]))
            for variant, ranked in fused.items():
                variants.setdefault(variant, []).append(
                    fused_metrics(found_rows, ranked, q["relevant"])
                )
        out[name] = {
            "queries": len(queries),
            "modes": {mode: mean_metrics(rows) for mode, rows in table.items()},
            "fusions (ndcg@10)": {v: mean_metrics(rows)["ndcg@10"] for v, rows in variants.items()},
            "hits shown of 20, by floor": {
                f: round(statistics.mean(n), 1) for f, n in shown.items()
            },
        }
    return out


def sweep_floors(index: WorkspaceIndex, queries: list[dict], floors=FLOORS) -> dict:
    """nDCG@10 of embedding and hybrid search, and the hits off-topic questions get, per floor."""
    off_topic = [line.strip() for line in OFF_TOPIC.read_text().splitlines() if line.strip()]
    shipped = index.embedder.min_similarity
    rows = {}
    try:
        for floor in floors:
            index.embedder.min_similarity = floor
            row = {}
            for mode in ("embedding", "hybrid"):
                scores = [
                    metrics(cells_of(index.search(q["query"], 30, mode)), q["relevant"])
                    for q in queries
                ]
                row[f"{mode} ndcg@10"] = mean_metrics(scores)["ndcg@10"]
                hits = [len(index.search(q, 10, mode)) for q in off_topic]
                row[f"{mode} off-topic hits"] = round(statistics.mean(hits), 1)
                row[f"{mode} off-topic answered with nothing"] = sum(1 for n in hits if n == 0)
            rows[f"{floor:g}" + (" (shipped)" if floor == shipped else "")] = row
    finally:
        index.embedder.min_similarity = shipped
    return {"off_topic_queries": len(off_topic), "floors": rows}


# -- speed ---------------------------------------------------------------------------------------


def build_scale_root(notebooks: Path, target_chunks: int, into: Path) -> int:
    """The notebooks, then standard-library modules until about ``target_chunks`` chunks."""
    from jupyter_cursor.index.chunking import chunk_file

    total = 0
    shutil.copytree(notebooks, into / "notebooks")
    for nb in sorted((into / "notebooks").glob("*.ipynb")):
        total += len(chunk_file(nb.name, nb.read_text(encoding="utf-8")))
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for source in sorted(stdlib.rglob("*.py")):
        if total >= target_chunks:
            break
        relative = source.relative_to(stdlib)
        if any(part in ("test", "tests", "site-packages", "idlelib") for part in relative.parts):
            continue
        try:
            text = source.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if len(text.encode()) > 1_000_000:
            continue
        destination = into / "stdlib" / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
        total += len(chunk_file(relative.as_posix(), text))
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def speed(notebooks: Path, queries: list[dict], target_chunks: int, embed: bool) -> dict:
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        root, data = Path(tmp) / "root", Path(tmp) / "data"
        root.mkdir()
        build_scale_root(notebooks, target_chunks, root)
        index = WorkspaceIndex(root, data, embeddings=embed)
        start = time.perf_counter()
        index.start()
        index.wait_idle(timeout=600, embeddings=False)
        result["cold_bm25_s"] = round(time.perf_counter() - start, 2)
        result["chunks"] = index.status()["chunks"]
        result["files"] = index.status()["files"]
        if embed:
            index.wait_idle(timeout=3600)
            result["cold_embedding_s"] = round(
                time.perf_counter() - start - result["cold_bm25_s"], 1
            )
            result["embedding_chunks_per_s"] = round(
                result["chunks"] / result["cold_embedding_s"], 1
            )
        # Searched from a thread pool, as the server does (asyncio.to_thread): torch runs a query
        # on another thread than the one that embeds the chunks, which costs time of its own.
        pool = ThreadPoolExecutor(4)

        def timed(query: str, mode: str) -> float:
            t = time.perf_counter()
            index.search(query, 10, mode)
            return (time.perf_counter() - t) * 1000

        for mode in MODES if embed else ("bm25",):
            times = []
            for _ in range(3):
                for q in queries:
                    times.append(pool.submit(timed, q["query"], mode).result())
            result[f"query_ms_{mode}"] = {
                "p50": round(percentile(times, 0.5), 1),
                "p95": round(percentile(times, 0.95), 1),
            }
        pool.shutdown()
        result.update(save_latency(index, root, embed))
        index.close()
        result["index_bytes"] = sum(
            f.stat().st_size for f in index.index_dir.rglob("*") if f.is_file()
        )
    return result


def save_latency(index: WorkspaceIndex, root: Path, embed: bool) -> dict:
    """Append a cell to one notebook, save, notify; time until each search mode finds it."""
    path = "notebooks/ols.ipynb"
    nb = json.loads((root / path).read_text(encoding="utf-8"))
    marker = "zanzibarquokka"
    nb["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "bench-new-cell",
            "metadata": {},
            "outputs": [],
            "source": f"# {marker}: fit a cubic spline to the wind turbine power curve\nspline = fit_power_curve(turbine_df)",
        }
    )
    (root / path).write_text(json.dumps(nb), encoding="utf-8")
    start = time.perf_counter()
    index.notify_saved(path)
    out = {}

    def found(query, mode):
        return any(h["cell_id"] == "bench-new-cell" for h in index.search(query, 5, mode))

    while not found(marker, "bm25") and time.perf_counter() - start < 30:
        time.sleep(0.005)
    out["save_to_bm25_s"] = round(time.perf_counter() - start, 3)
    if embed:
        while (
            not found("wind turbine power curve spline", "embedding")
            and time.perf_counter() - start < 60
        ):
            time.sleep(0.02)
        out["save_to_embedding_s"] = round(time.perf_counter() - start, 3)
    return out


def quality_root(notebooks: Path, data: Path, into: Path) -> Path:
    """The quality workspace: statsmodels' notebooks and the dev notebooks, side by side."""
    if not (into / WRITTEN).exists():
        shutil.copytree(notebooks, into / WRITTEN)
    if not (into / DEV).exists():
        write_dev_corpus(data, into / DEV)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus", type=Path, help="folder of notebooks (default: statsmodels' examples)"
    )
    parser.add_argument("--dev-data", type=Path, default=DEV_DATA, help="the *_dev.jsonl.gz files")
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="keep the quality workspace and its index here between runs (default: a temp dir)",
    )
    parser.add_argument(
        "--write-dev-queries", action="store_true", help="(re)generate the dev query set and stop"
    )
    parser.add_argument("--scale-chunks", type=int, default=10_000)
    parser.add_argument(
        "--no-scale-embeddings", action="store_true", help="speed run without embeddings"
    )
    parser.add_argument(
        "--compare-max-tokens",
        type=int,
        nargs="*",
        default=[],
        help="also measure embedding quality with these input lengths",
    )
    parser.add_argument(
        "--similarity-floors", action="store_true", help="sweep the embedder's similarity floor"
    )
    parser.add_argument(
        "--floors", type=float, nargs="+", default=list(FLOORS), help="floors of that sweep"
    )
    parser.add_argument(
        "--embedder",
        choices=sorted(EMBEDDING_MODELS),
        help="embedding model: stock all-MiniLM-L6-v2 or our code fine-tune (default: the "
        "index's default)",
    )
    parser.add_argument("--no-speed", action="store_true", help="quality only")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()

    if args.write_dev_queries:
        for path, make in (
            (DEV_QUERIES, generate_dev_queries),
            (DOCSTRING_QUERIES, generate_docstring_queries),
        ):
            queries = make(dev_notebooks(args.dev_data))
            path.write_text("".join(json.dumps(q) + "\n" for q in queries))
            print(f"{len(queries)} queries written to {path}")
        return
    notebooks = args.corpus or fetch_corpus()
    results: dict = {"machine": machine(), "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work_dir or Path(tmp)
        root = quality_root(notebooks, args.dev_data, work / "root")
        classes = {
            "written": load_judgements(root),
            "generated": load_dev_queries(),
            "docstring": load_dev_queries(DOCSTRING_QUERIES),
        }
        results["queries"] = {name: len(qs) for name, qs in classes.items()}
        embedder = make_embedder(args.embedder)
        results["embedder"] = embedder.model_id
        index = WorkspaceIndex(root, work / "data", embeddings=True, embedder=embedder)
        start = time.perf_counter()
        index.start()
        index.wait_idle(timeout=3600)
        results["quality_index"] = {
            "chunks": index.status()["chunks"],
            "build_s": round(time.perf_counter() - start, 1),
        }
        results["quality"] = evaluate(index, classes)
        off_topic = [line.strip() for line in OFF_TOPIC.read_text().splitlines() if line.strip()]
        results["off_topic_hybrid_hits_of_10"] = round(
            statistics.mean(len(index.search(q, 10, "hybrid")) for q in off_topic), 1
        )
        if args.similarity_floors:
            results["similarity_floor"] = sweep_floors(index, classes["written"], args.floors)
        index.close()
        for tokens in args.compare_max_tokens:
            index = WorkspaceIndex(
                root,
                Path(tmp) / f"t{tokens}",
                embedder=make_embedder(args.embedder, max_tokens=tokens),
            )
            start = time.perf_counter()
            index.start()
            index.wait_idle(timeout=3600)
            results[f"quality_max_tokens_{tokens}"] = {
                "build_s": round(time.perf_counter() - start, 1),
                **{
                    name: {m: v["modes"][m] for m in ("embedding", "hybrid")}
                    for name, v in evaluate(index, classes).items()
                },
            }
            index.close()
    if not args.no_speed:
        results["speed"] = speed(
            notebooks, classes["written"], args.scale_chunks, not args.no_scale_embeddings
        )
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
