"""The learned fusion's recipe (models/fusion): its pairwise fit on candidates, and the whole recipe
run on a tiny train split with the stock embedder."""

import gzip
import json
import random

import numpy as np
import pytest

from jupyter_cursor.index.fusion import FEATURES, LearnedFusion
from models.fusion import train as recipe

TOPICS = [
    ("rainfall", "csv", "station"),
    ("temperature", "parquet", "sensor"),
    ("revenue", "excel", "region"),
    ("population", "json", "country"),
    ("traffic", "sqlite", "junction"),
    ("pollution", "feather", "district"),
    ("elections", "html", "ward"),
    ("earthquakes", "geojson", "fault"),
]


def synthetic_query(rng, n=12):
    """Candidates where the answer is the one holding every query term, while both sides rank
    other chunks above it."""
    lexical = [(f"c{i}", 10.0 - i + rng.random()) for i in range(n)]
    semantic = [(f"c{j}", 0.8 - 0.03 * i) for i, j in enumerate(rng.sample(range(n), n))]
    answer = f"c{rng.randrange(3, n)}"
    coverage = {f"c{i}": (rng.uniform(0.0, 0.6), 0.0) for i in range(n)} | {answer: (1.0, 0.0)}
    rows = {f"c{i}": ["nb.ipynb", i, 1, "code"] for i in range(n)}
    return {
        "workspace": 0,
        "cls": "generated",
        "query": "load the rainfall data",
        "relevant": ["nb.ipynb", int(answer[1:])],
        "lexical": lexical,
        "semantic": semantic,
        "coverage": coverage,
        "rows": rows,
    }


def test_the_pairwise_fit_learns_what_tells_the_answer_apart():
    rng = random.Random(0)
    weights = recipe.fit([synthetic_query(rng) for _ in range(60)], 0.3, 3.0)
    assert set(weights) == set(FEATURES)
    assert weights["cov"] > 0
    fusion = LearnedFusion(weights, 0.0, 0.3)
    new = [synthetic_query(rng) for _ in range(20)]
    firsts = [fusion(q["query"], q["lexical"], q["semantic"], q["coverage"])[0][0] for q in new]
    assert firsts == [f"c{q['relevant'][1]}" for q in new]
    # nDCG@10 as the benchmark scores it: the answer first is 1, second 1/log2(3)
    q = new[0]
    answer = f"c{q['relevant'][1]}"
    other = next(uid for uid in q["rows"] if uid != answer)
    assert recipe.ndcg(q, [(answer, 1.0), (other, 0.5)]) == 1.0
    assert recipe.ndcg(q, [(other, 1.0), (answer, 0.5)]) == pytest.approx(1 / np.log2(3))
    assert recipe.ndcg(q, [(other, 1.0)]) == 0.0


def test_nothing_to_fit_is_a_clear_error():
    q = synthetic_query(random.Random(1))
    q["relevant"] = ["elsewhere.ipynb", 0]
    with pytest.raises(SystemExit, match="nothing to fit"):
        recipe.fit([q], 0.3, 1.0)


def notebook(topic, variant):
    thing, fmt, place = topic
    cells = [{"cell_type": "markdown", "source": f"# Analysis of {thing} by {place}"}]
    cells += [
        {
            "cell_type": "markdown",
            "source": f"First we read the {thing} measurements of every {place} from the {fmt} "
            f"file and parse the dates.",
        },
        {"cell_type": "code", "source": f"{thing} = read_{fmt}('{thing}_{variant}.{fmt}')"},
        {
            "cell_type": "markdown",
            "source": f"Then we average the {thing} of each {place} over the whole year and plot "
            "the totals.",
        },
        {"cell_type": "code", "source": f"{thing}.groupby('{place}').mean().plot()"},
        {
            "cell_type": "code",
            "source": f'def clean_{thing}(frame):\n    """Drop the {place} rows whose {thing} '
            f'values are missing or negative."""\n    return frame[frame.{thing} >= 0].dropna()',
        },
    ]
    return cells


def write_split(data, split, notebooks):
    with gzip.open(data / f"nes_{split}.jsonl.gz", "wt") as f:
        for name, cells in notebooks.items():
            f.write(
                json.dumps({"kind": "ipynb", "origin": f"o/r@abc:{name}", "cells": cells}) + "\n"
            )
    with gzip.open(data / f"apply_{split}.jsonl.gz", "wt") as f:
        f.write("")


def test_the_recipe_fits_the_embedders_fusion_from_train_notebooks_only(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    train = {f"nb{i}_{v}.ipynb": notebook(t, v) for i, t in enumerate(TOPICS) for v in (1, 2)}
    # a dev notebook's path: its train version is left out, as statsmodels' are
    train["dev_one.ipynb"] = notebook(TOPICS[0], 9)
    train["statsmodels_demo.ipynb"] = notebook(TOPICS[1], 9)
    write_split(data, "train", train)
    write_split(data, "dev", {"dev_one.ipynb": notebook(TOPICS[0], 9)})
    out = tmp_path / "fusion.json"
    work = tmp_path / "work"
    args = ["--embedder", "stock", "--data", str(data), "--work-dir", str(work)]
    assert recipe.main([*args, "--out", str(out), "--workspace-cells", "24"]) == 0

    (cached,) = work.glob("*/candidates-stock.jsonl")
    queries = [json.loads(line) for line in cached.read_text().splitlines()]
    files = {q["relevant"][0] for q in queries}
    assert files and not any("dev_one" in f or "statsmodels" in f for f in files)
    assert {q["cls"] for q in queries} == {"generated", "docstring"}
    # the held-out text is gone from the workspace's notebooks
    written = "".join(p.read_text() for p in work.glob("*/workspace*/nb/*.ipynb"))
    assert "First we read the" not in written and "Drop the" not in written

    model = json.loads(out.read_text())["models"]["all-MiniLM-L6-v2"]
    assert set(model["weights"]) == set(FEATURES)
    assert all(np.isfinite(list(model["weights"].values())))
    assert model["floor"] in recipe.FLOORS
    report = model["meta"]["leave-one-workspace-out ndcg@10"]
    assert {"bm25", "embedding", "convex (shipped before)"} <= set(report)
    assert report["C"] in recipe.CS
    fusion = LearnedFusion.for_embedder("all-MiniLM-L6-v2/fp32/128", 0.25, out)
    assert fusion is not None and fusion.floor == model["floor"]
