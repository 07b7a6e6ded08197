"""The embedder in fp32 and under bfloat16 autocast on the same cells: speed of each, and how far
the bf16 vectors move from the fp32 ones (cosine).

    nice python benchmarks/bench_embedder_precision.py [--embedder code] [--cells 600]
        [--reference MODEL_DIR]

The cells: non-blank cells of the dev split's next-edit rows (../shared/data/nes_dev.jsonl.gz),
shuffled with seed 0, cut to 1,500 characters. bf16 is only fast where the CPU multiplies it
natively (`native_bf16()`, which the embedder asks by default); the script runs both anywhere.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(1, str(HERE))

from machine import machine  # noqa: E402

from jupyter_cursor.index.embedder import make_embedder, native_bf16  # noqa: E402

DEV = HERE.parent.parent / "shared" / "data" / "nes_dev.jsonl.gz"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embedder", default="code", choices=["code", "stock"])
    parser.add_argument("--cells", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--reference",
        type=Path,
        help="a sentence-transformers model folder (e.g. an earlier export of the code model): "
        "also report how far the fp32 vectors are from its fp32 vectors",
    )
    args = parser.parse_args(argv)
    if not DEV.exists():
        print(f"skipped: {DEV} not found")
        return 0
    texts = []
    with gzip.open(DEV, "rt", encoding="utf-8") as rows:
        for line in rows:
            texts += [c["source"][:1500] for c in json.loads(line)["cells"] if c["source"].strip()]
    random.Random(0).shuffle(texts)
    texts = texts[: args.cells]
    embedder = make_embedder(args.embedder)
    embedder.encode(texts[:8])  # load and warm up
    print(f"{machine()}, native bf16: {native_bf16()}, {len(texts)} cells, {embedder.model_id}")
    vectors, speed = {}, {}
    for bf16 in (False, True):
        embedder.bf16 = bf16
        rates = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            vectors[bf16] = embedder.encode(texts)
            rates.append(len(texts) / (time.perf_counter() - started))
        speed[bf16] = sorted(rates)[len(rates) // 2]
    cosine = np.sum(vectors[False] * vectors[True], axis=1)
    print("| compute | cells/s (median) | cosine to fp32: min / mean |\n|---|---|---|")
    print(f"| fp32 | {speed[False]:.1f} | 1 / 1 |")
    print(f"| bf16 autocast | {speed[True]:.1f} | {cosine.min():.6f} / {cosine.mean():.6f} |")
    if args.reference:
        import torch
        from sentence_transformers import SentenceTransformer

        reference = SentenceTransformer(str(args.reference), device="cpu").to(torch.float32)
        reference.max_seq_length = embedder.max_tokens
        theirs = reference.encode(texts, batch_size=32, normalize_embeddings=True)
        cosine = np.sum(vectors[False] * theirs, axis=1)
        print(
            f"fp32 vectors against {args.reference} (fp32): cosine min {cosine.min():.7f}, "
            f"mean {cosine.mean():.7f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
