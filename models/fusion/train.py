"""The index's learned fusion (jupyter_cursor/index/fusion.py, LearnedFusion): its recipe.

    python -m models.fusion --embedder code     # or stock; --work-dir keeps the indexes

1. **Workspaces from the train split.** The train notebooks (models/embedder/mine.py's
   ``train_notebooks``: without the dev split's paths and statsmodels, which the benchmark's
   queries come from) in workspaces of about DEV_CELLS cells each, as large as the benchmark's dev
   workspace, in an order fixed by a hash of their names.
2. **Queries**, made by the benchmark's own generators (benchmarks/bench_index.py): a markdown
   sentence → the code cell below it, a docstring → the cell that defines it; each query's text
   held out of its notebook. Never a dev notebook.
3. **Candidates**: each workspace indexed with the embedder, and for each query what hybrid search
   fuses (``WorkspaceIndex.candidates``: both sides' best 50, each one's share of the query's
   terms), written to ``<work-dir>/candidates-<embedder>.jsonl``.
4. **Fit**: a pairwise logistic model (RankNet's loss with a linear scorer): for each query, every
   (answer, other candidate) pair's feature difference, labelled 1, and its negation, labelled 0,
   weighted so each query counts once; the package's NumPy fitter
   (jupyter_cursor/nextedit/fit.py), L2 with C on standardised features. C is the one of CS with
   the best leave-one-workspace-out nDCG@10 (the mean of the two classes); the floor is the
   highest of FLOORS that costs at most FLOOR_COST of it.
5. Writes the embedder's entry of jupyter_cursor/models/fusion.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_index  # noqa: E402

from jupyter_cursor.index.embedder import EMBEDDING_MODELS, make_embedder  # noqa: E402
from jupyter_cursor.index.fusion import (  # noqa: E402
    FEATURES,
    FUSION_MODELS,
    LearnedFusion,
    candidate_features,
    convex_fusion,
)
from jupyter_cursor.index.workspace import WorkspaceIndex  # noqa: E402
from jupyter_cursor.nextedit.fit import fit_logistic  # noqa: E402
from models.embedder.mine import DATA, train_notebooks  # noqa: E402

CS = (0.03, 0.3, 3.0, 30.0)
# The learned scores are odds relative to the best hit, and they fall steeply down the list.
FLOORS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1)
FLOOR_COST = 0.002
FOLDER = "nb"


def workspaces(data: Path, cells: int) -> list[dict[str, list[dict]]]:
    notebooks, _ = train_notebooks(data)
    order = sorted(notebooks, key=lambda name: hashlib.sha256(name.encode()).hexdigest())
    groups, current, total = [], {}, 0
    for name in order:
        current[name] = notebooks[name]
        total += len(notebooks[name])
        if total >= cells:
            groups.append(current)
            current, total = {}, 0
    return groups  # the last, short one is left out: every workspace about the dev one's size


def collect(data: Path, embedder_name: str, work: Path, cells: int) -> list[dict]:
    """Candidates of every train query (step 3), one dict per query."""
    out = []
    embedder = make_embedder(embedder_name)
    for number, notebooks in enumerate(workspaces(data, cells)):
        queries = [dict(q, cls="generated") for q in bench_index.generate_dev_queries(notebooks)]
        queries += [
            dict(q, cls="docstring") for q in bench_index.generate_docstring_queries(notebooks)
        ]
        root = work / f"workspace{number}"
        if not (root / FOLDER).exists():
            bench_index.write_held_out(notebooks, queries, root / FOLDER)
        index = WorkspaceIndex(root, work / f"data-{embedder_name}", embedder=embedder)
        start = time.perf_counter()
        index.start()
        index.wait_idle(timeout=3600)
        print(
            f"workspace {number}: {len(notebooks)} notebooks, {index.status()['chunks']} chunks,"
            f" {len(queries)} queries, indexed in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
        for q in queries:
            lexical, semantic, rows, coverage = index.candidates(q["query"])
            ((file, cell),) = q["relevant"]
            out.append(
                {
                    "workspace": number,
                    "cls": q["cls"],
                    "query": q["query"],
                    "relevant": [f"{FOLDER}/{file}", cell],
                    "lexical": lexical,
                    "semantic": semantic,
                    "coverage": coverage,
                    "rows": {
                        uid: [r.path, r.cell_index, r.start_line, r.kind] for uid, r in rows.items()
                    },
                }
            )
        index.close()
    return out


class _Row(NamedTuple):
    """What the benchmark's scoring reads of a catalog row (kept in the candidates file)."""

    path: str
    cell_index: int | None
    start_line: int | None
    kind: str


def ndcg(q: dict, ranked: list[tuple[str, float]]) -> float:
    """nDCG@10 of a fused list, as the benchmark scores search's hits."""
    rows = {uid: _Row(*row) for uid, row in q["rows"].items()}
    return bench_index.fused_metrics(rows, ranked, {tuple(q["relevant"])})["ndcg@10"]


def labels(q: dict, uids: list[str]) -> np.ndarray:
    return np.array([q["rows"][uid][:2] == q["relevant"] for uid in uids], dtype=float)


def pairs(queries: list[dict], min_similarity: float):
    """Step 4's pairwise design: (differences, labels, sample weights). Raises SystemExit when no
    query has both its answer and another candidate among its candidates."""
    X, y, weight = [], [], []
    for q in queries:
        uids, rows = candidate_features(
            q["query"], q["lexical"], q["semantic"], q["coverage"], min_similarity
        )
        relevant = labels(q, uids)
        if not relevant.any() or relevant.all():
            continue  # nothing to order: the answer was not found, or nothing else was
        diffs = (rows[relevant == 1][:, None, :] - rows[relevant == 0][None, :, :]).reshape(
            -1, len(FEATURES)
        )
        X += [diffs, -diffs]
        y += [np.ones(len(diffs)), np.zeros(len(diffs))]
        weight += [np.full(2 * len(diffs), 0.5 / len(diffs))]
    if not X:
        raise SystemExit(f"nothing to fit: none of {len(queries)} queries found its answer")
    return np.vstack(X), np.concatenate(y), np.concatenate(weight)


def fit(queries: list[dict], min_similarity: float, c: float) -> dict[str, float]:
    X, y, weight = pairs(queries, min_similarity)
    weights, _ = fit_logistic(X, y, c, sample_weight=weight, scale=X.std(axis=0) + 1e-9)
    return dict(zip(FEATURES, weights.tolist()))


def evaluate(queries, min_similarity, make) -> dict:
    """Mean nDCG@10 per query class of ``make(q) -> fused list``."""
    by_class: dict[str, list[float]] = {}
    for q in queries:
        by_class.setdefault(q["cls"], []).append(ndcg(q, make(q)))
    return {cls: round(statistics.mean(v), 4) for cls, v in sorted(by_class.items())}


def cross_validate(queries: list[dict], min_similarity: float) -> dict:
    """Leave-one-workspace-out nDCG@10 of each C and floor, and of the baselines."""
    report: dict = {
        "bm25": evaluate(queries, min_similarity, lambda q: q["lexical"]),
        "embedding": evaluate(queries, min_similarity, lambda q: q["semantic"]),
        "convex (shipped before)": evaluate(
            queries,
            min_similarity,
            lambda q: convex_fusion(q["lexical"], q["semantic"], min_similarity=min_similarity),
        ),
    }
    by_c = {c: held_out(queries, min_similarity, c, (0.0,))[0.0] for c in CS}
    report |= {f"learned C={c:g} floor=0": row for c, row in by_c.items()}
    report["C"] = max(CS, key=lambda c: mean_ndcg(by_c[c]))
    for floor, row in held_out(queries, min_similarity, report["C"], FLOORS).items():
        report[f"learned C={report['C']:g} floor={floor:g}"] = row
    return report


def held_out(queries: list[dict], min_similarity: float, c: float, floors) -> dict:
    """Leave-one-workspace-out nDCG@10 per class, and the hits shown of 20, of each floor."""
    held: dict[float, list[dict]] = {floor: [] for floor in floors}
    for fold in sorted({q["workspace"] for q in queries}):
        fitted = fit([q for q in queries if q["workspace"] != fold], min_similarity, c)
        for floor in floors:
            fusion = LearnedFusion(fitted, floor, min_similarity)
            held[floor] += [
                {**q, "fused": fusion(q["query"], q["lexical"], q["semantic"], q["coverage"])}
                for q in queries
                if q["workspace"] == fold
            ]
    report = {}
    for floor, fused in held.items():
        report[floor] = evaluate(fused, min_similarity, lambda q: q["fused"])
        report[floor]["hits shown of 20"] = round(
            statistics.mean(len(q["fused"][:20]) for q in fused), 1
        )
    return report


def mean_ndcg(row: dict) -> float:
    return statistics.mean(v for k, v in row.items() if k != "hits shown of 20")


def pick_floor(report: dict) -> float:
    """The highest floor that costs at most FLOOR_COST of the mean nDCG@10."""
    at = lambda floor: mean_ndcg(report[f"learned C={report['C']:g} floor={floor:g}"])  # noqa: E731
    return max(f for f in FLOORS if at(f) >= at(0.0) - FLOOR_COST)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embedder", choices=sorted(EMBEDDING_MODELS), default="code")
    parser.add_argument("--data", type=Path, default=DATA, help="the *_train.jsonl.gz files")
    parser.add_argument("--work-dir", type=Path, help="keep the workspaces and indexes here")
    parser.add_argument("--out", type=Path, default=FUSION_MODELS)
    parser.add_argument(
        "--workspace-cells",
        type=int,
        default=bench_index.DEV_CELLS,
        help="cells per workspace (default: the benchmark's dev workspace's)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        # Workspaces and candidates kept per data folder and workspace size: another --data or
        # --workspace-cells never reuses them.
        key = hashlib.sha256(f"{args.data.resolve()}|{args.workspace_cells}".encode()).hexdigest()
        work = (args.work_dir or Path(tmp)) / key[:12]
        work.mkdir(parents=True, exist_ok=True)
        cached = work / f"candidates-{args.embedder}.jsonl"
        if cached.exists():
            queries = [json.loads(line) for line in cached.read_text().splitlines()]
        else:
            queries = collect(args.data, args.embedder, work, args.workspace_cells)
            cached.write_text("".join(json.dumps(q) + "\n" for q in queries))
    embedder = make_embedder(args.embedder)
    min_similarity = embedder.min_similarity
    report = cross_validate(queries, min_similarity)
    floor = pick_floor(report)
    weights = fit(queries, min_similarity, report["C"])
    print(json.dumps(report, indent=1))
    models = json.loads(args.out.read_text())["models"] if args.out.exists() else {}
    models[embedder.model_name] = {
        "weights": {name: round(w, 6) for name, w in weights.items()},
        "floor": floor,
        "meta": {
            "recipe": f"python -m models.fusion --embedder {args.embedder}",
            "date": time.strftime("%Y-%m-%d"),
            "queries": {
                cls: sum(q["cls"] == cls for q in queries) for cls in ("generated", "docstring")
            },
            "workspaces": len({q["workspace"] for q in queries}),
            "C": report["C"],
            "leave-one-workspace-out ndcg@10": report,
        },
    }
    args.out.write_text(
        json.dumps({"version": 1, "features": list(FEATURES), "models": models}, indent=1) + "\n"
    )
    print(f"{embedder.model_name}: floor {floor}, weights written to {args.out}")
    return 0
