"""Fine-tuning with in-batch negatives (sentence-transformers' MultipleNegativesRankingLoss) on the
CPU, bounded by wall-clock minutes, and the validation report (stock against fine-tuned)."""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

MAX_TOKENS = 128  # what jupyter_cursor.index.embedder feeds the model


def _losses():
    try:
        from sentence_transformers.sentence_transformer import losses
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers import losses
    return losses


def read_pairs(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def make_batches(stream: list[dict], batch_size: int) -> list[list[dict]]:
    """Full batches in stream order, no query or document twice in a batch (a repeated pair would
    be its own in-batch negative): a row that would repeat waits for the next batch."""
    batches, batch, keys, waiting = [], [], set(), []
    for row in stream:
        for candidate in [*waiting, row]:
            key_q, key_d = candidate["query"], candidate["doc"]
            if key_q in keys or key_d in keys:
                if candidate is row:
                    waiting.append(row)
                continue
            if candidate is not row:
                waiting.remove(candidate)
            batch.append(candidate)
            keys |= {key_q, key_d}
            if len(batch) == batch_size:
                batches.append(batch)
                batch, keys = [], set()
    return batches


def load_model(path: str | Path):
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path), device="cpu")
    model.to(torch.float32)
    model.max_seq_length = MAX_TOKENS
    return model


def train(
    pairs_dir: Path,
    out_dir: Path,
    *,
    max_minutes: float = 40.0,
    batch_size: int = 64,
    lr: float = 4e-5,
    warmup_steps: int = 20,
    threads: int = 2,
    seed: int = 0,
    log_every: int = 10,
    markdown_repeats: int = 2,
) -> dict:
    """Train from the stock all-MiniLM-L6-v2 until the pairs or ``max_minutes`` run out; the
    learning rate warms up, then decays linearly with the elapsed fraction of the time budget."""
    import torch

    from jupyter_cursor.index.embedder import stock_model_path

    if max_minutes > 45:
        raise SystemExit("--max-minutes is at most 45 (issue 19: an hour of CPU in all)")
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rows = read_pairs(pairs_dir / "train.jsonl")
    stream = [r for r in rows for _ in range(markdown_repeats if r["kind"] == "markdown" else 1)]
    random.Random(seed).shuffle(stream)
    batches = make_batches(stream, batch_size)
    model = load_model(stock_model_path())
    loss_fn = _losses().MultipleNegativesRankingLoss(model)  # scale 20, cosine
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    budget = max_minutes * 60
    start = time.perf_counter()
    log, step, seen = [], 0, 0
    out_dir.mkdir(parents=True, exist_ok=True)
    logfile = open(out_dir / "train_log.jsonl", "w")
    for batch in batches:
        elapsed = time.perf_counter() - start
        if elapsed >= budget:
            break
        scale = min(1.0, (step + 1) / warmup_steps) * max(0.0, 1.0 - elapsed / budget)
        for group in optimiser.param_groups:
            group["lr"] = lr * scale
        features = [
            model.tokenize([r["query"] for r in batch]),
            model.tokenize([r["doc"] for r in batch]),
        ]
        loss = loss_fn(features, None)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        step += 1
        seen += len(batch)
        if step % log_every == 0 or step == 1:
            entry = {
                "step": step,
                "pairs": seen,
                "loss": round(float(loss), 4),
                "lr": lr * scale,
                "minutes": round((time.perf_counter() - start) / 60, 2),
            }
            log.append(entry)
            logfile.write(json.dumps(entry) + "\n")
            logfile.flush()
            print(json.dumps(entry), flush=True)
    logfile.close()
    model.eval()
    model.save(str(out_dir / "model"))
    summary = {
        "steps": step,
        "pairs seen": seen,
        "train pairs": len(rows),
        "markdown repeats": markdown_repeats,
        "stream (pairs, markdown repeated)": len(stream),
        "stream fraction seen": round(seen / max(1, len(stream)), 3),
        "batch size": batch_size,
        "lr": lr,
        "warmup steps": warmup_steps,
        "threads": threads,
        "minutes": round((time.perf_counter() - start) / 60, 2),
        "last loss": log[-1]["loss"] if log else None,
    }
    (out_dir / "train_summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def validate(pairs_dir: Path, models: dict[str, str | Path], limit: int = 2000) -> dict:
    """Retrieval over the held-out files' pairs: each query against every held-out document."""
    import numpy as np

    rows = read_pairs(pairs_dir / "val.jsonl")[:limit]
    out = {"pairs": len(rows)}
    kinds = sorted({r["kind"] for r in rows})
    for name, path in models.items():
        model = load_model(path)
        q = model.encode([r["query"] for r in rows], normalize_embeddings=True, batch_size=64)
        d = model.encode([r["doc"] for r in rows], normalize_embeddings=True, batch_size=64)
        sims = np.asarray(q) @ np.asarray(d).T
        ranks = (sims > np.diag(sims)[:, None]).sum(axis=1)  # 0 = the right document first
        per = {}
        for kind in ["all", *kinds]:
            mask = [kind in ("all", r["kind"]) for r in rows]
            rk = ranks[mask]
            per[kind] = {
                "n": int(len(rk)),
                "recall@1": round(float((rk == 0).mean()), 4),
                "recall@10": round(float((rk < 10).mean()), 4),
                "mrr@10": round(float(np.where(rk < 10, 1 / (rk + 1), 0).mean()), 4),
                "ndcg@10": round(float(np.where(rk < 10, 1 / np.log2(rk + 2), 0).mean()), 4),
            }
        out[name] = per
    return out


def export(model_dir: Path, target: Path, readme: str) -> dict:
    """The fine-tune as its 6-bit difference from the stock weights (``delta.npz``, see
    jupyter_cursor/models/delta.py) and its model card, into ``target``."""
    import shutil

    from jupyter_cursor.index.embedder import stock_weights_path
    from jupyter_cursor.models.delta import write_delta

    model = load_model(model_dir)
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    fine = model[0].auto_model.state_dict()
    written = write_delta(fine, stock_weights_path(), staging / "delta.npz")
    (staging / "README.md").write_text(readme)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    return {
        "files": files,
        "bytes": size,
        "mb": round(size / 1e6, 1),
        "params": math.fsum(t.numel() for t in fine.values()),
        **written,
    }
