"""Retrieval benchmark of the workspace index (jupyter_cursor.index).

Quality: the 76 example notebooks of statsmodels 0.14.4 (real notebooks, fetched once with pip from
its sdist), 50 queries written for them with cell-level relevance judgements
(benchmarks/index_queries/statsmodels_queries.jsonl: each judgement is a notebook and a regex that
picks its relevant cells). recall@10, MRR@10 and nDCG@10 for bm25, embedding and hybrid in one run.
The embedding similarity floor is swept: quality on those queries against how many hits questions
about nothing in the workspace (index_queries/off_topic_queries.txt) still get.

Speed: a ~10k-chunk workspace (those notebooks plus standard-library Python files): cold BM25 index
time, cold embedding time, query latency p50/p95, a notebook save's delay until BM25 and until
embedding search find it, index size.

    nice -n 10 python benchmarks/bench_index.py [--corpus DIR] [--json OUT.json]
"""

from __future__ import annotations

import argparse
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
from pathlib import Path

from jupyter_cursor.index import WorkspaceIndex
from jupyter_cursor.index.embedder import MiniLMEmbedder
from jupyter_cursor.index.fusion import reciprocal_rank_fusion

HERE = Path(__file__).parent
QUERIES = HERE / "index_queries" / "statsmodels_queries.jsonl"
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
    """Resolve each query's (notebook, regex) judgements to a set of relevant (path, cell index)."""
    from jupyter_cursor.index.chunking import notebook_cells

    queries = []
    for line in QUERIES.read_text().splitlines():
        query = json.loads(line)
        relevant = set()
        for name, pattern in query["relevant"]:
            cells = notebook_cells((root / name).read_text(encoding="utf-8"))
            relevant |= {
                (name, i) for i, (_, _, src) in enumerate(cells) if re.search(pattern, src)
            }
        if relevant:
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


def mean_metrics(rows: list[dict]) -> dict:
    return {key: round(statistics.mean(r[key] for r in rows), 4) for key in rows[0]}


def evaluate(index: WorkspaceIndex, queries: list[dict]) -> dict:
    table = {mode: [] for mode in MODES}
    fusion_variants = {
        "rrf k=60 (shipped)": [],
        "rrf k=10": [],
        "rrf k=60, bm25 x2": [],
        "rrf k=60, emb x2": [],
    }
    for q in queries:
        for mode in MODES:
            table[mode].append(metrics(cells_of(index.search(q["query"], 30, mode)), q["relevant"]))
        lexical = [_key(h) for h in index.search(q["query"], 50, "bm25")]
        semantic = [_key(h) for h in index.search(q["query"], 50, "embedding")]
        for name, (k, weights) in {
            "rrf k=60 (shipped)": (60, [1, 1]),
            "rrf k=10": (10, [1, 1]),
            "rrf k=60, bm25 x2": (60, [2, 1]),
            "rrf k=60, emb x2": (60, [1, 2]),
        }.items():
            fused = [item for item, _ in reciprocal_rank_fusion([lexical, semantic], weights, k)]
            distinct = list(dict.fromkeys((p, c) for p, c, _ in fused))[:10]
            fusion_variants[name].append(metrics(distinct, q["relevant"]))
    return {
        "modes": {mode: mean_metrics(rows) for mode, rows in table.items()},
        "fusion_variants": {name: mean_metrics(rows) for name, rows in fusion_variants.items()},
    }


def sweep_floors(index: WorkspaceIndex, queries: list[dict]) -> dict:
    """nDCG@10 of embedding and hybrid search, and the hits off-topic questions get, per floor."""
    off_topic = [line.strip() for line in OFF_TOPIC.read_text().splitlines() if line.strip()]
    shipped = index.embedder.min_similarity
    rows = {}
    try:
        for floor in FLOORS:
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


def _key(hit: dict) -> tuple:
    return (hit["path"], hit["cell_index"], hit["start_line"])


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
        for mode in MODES if embed else ("bm25",):
            times = []
            for _ in range(3):
                for q in queries:
                    t = time.perf_counter()
                    index.search(q["query"], 10, mode)
                    times.append((time.perf_counter() - t) * 1000)
            result[f"query_ms_{mode}"] = {
                "p50": round(percentile(times, 0.5), 1),
                "p95": round(percentile(times, 0.95), 1),
            }
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus", type=Path, help="folder of notebooks (default: statsmodels' examples)"
    )
    parser.add_argument("--scale-chunks", type=int, default=10_000)
    parser.add_argument(
        "--no-scale-embeddings", action="store_true", help="speed run without embeddings"
    )
    parser.add_argument(
        "--compare-max-tokens",
        type=int,
        nargs="*",
        default=[256],
        help="also measure embedding quality with these input lengths",
    )
    parser.add_argument("--no-speed", action="store_true", help="quality only")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()

    notebooks = args.corpus or fetch_corpus()
    queries = load_judgements(notebooks)
    results: dict = {"corpus": str(notebooks), "queries": len(queries)}
    with tempfile.TemporaryDirectory() as tmp:
        index = WorkspaceIndex(notebooks, tmp, embeddings=True)
        start = time.perf_counter()
        index.start()
        index.wait_idle(timeout=3600)
        results["quality_index"] = {
            "chunks": index.status()["chunks"],
            "build_s": round(time.perf_counter() - start, 1),
        }
        results["quality"] = evaluate(index, queries)
        results["similarity_floor"] = sweep_floors(index, queries)
        index.close()
        for tokens in args.compare_max_tokens:
            index = WorkspaceIndex(
                notebooks, Path(tmp) / f"t{tokens}", embedder=MiniLMEmbedder(max_tokens=tokens)
            )
            start = time.perf_counter()
            index.start()
            index.wait_idle(timeout=3600)
            quality = evaluate(index, queries)["modes"]
            results[f"quality_max_tokens_{tokens}"] = {
                "build_s": round(time.perf_counter() - start, 1),
                "embedding": quality["embedding"],
                "hybrid": quality["hybrid"],
            }
            index.close()
    if not args.no_speed:
        results["speed"] = speed(
            notebooks, queries, args.scale_chunks, not args.no_scale_embeddings
        )
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
