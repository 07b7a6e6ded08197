"""One training loop for both stages: next-token pretraining on the corpus, and next-edit fine-tuning
with the loss on the completion tokens only.

Resumable: a checkpoint (model, optimiser, step, elapsed time) is written atomically every
``save_every`` steps and at the end; ``resume=True`` continues from it. The learning rate warms up,
then follows a cosine down to a tenth of its peak over whichever budget runs out first, the step
count or the wall time (``max_minutes``): on a busy shared machine the time budget is the one that
holds, and the schedule still ends cooled down.

CPU: bf16 autocast (measured ~1.8x fp32 on the 2-core AVX512-BF16 machine), fp32 master weights.
CUDA: the same with larger batches (``--device cuda``).
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

IGNORE = -100


@dataclass
class TrainConfig:
    out_dir: str
    steps: int = 3000
    max_minutes: float = 0.0  # 0: no time budget
    lr: float = 1.5e-3
    min_lr_ratio: float = 0.1
    warmup: int = 100
    weight_decay: float = 0.1
    batch_tokens: int = 4096  # tokens per optimiser step (pretraining: batch x seq_len)
    seq_len: int = 512  # pretraining window
    save_every: int = 100
    log_every: int = 10
    device: str = "cpu"
    threads: int = 2
    seed: int = 0


# ---------------------------------------------------------------- data


def tokenize_corpus(texts, tokenizer, out_path: Path) -> int:
    """Token ids of ``texts``, each text followed by eos, as a uint16 array in ``out_path`` (.npy)."""
    assert len(tokenizer) < 2**16
    eos = tokenizer.eos_token_id
    chunks, batch = [], []

    def flush():
        for ids in tokenizer(batch, add_special_tokens=False)["input_ids"]:
            chunks.append(np.asarray(ids + [eos], dtype=np.uint16))
        batch.clear()

    for text in texts:
        batch.append(text)
        if len(batch) == 256:
            flush()
    flush()
    tokens = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.uint16)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    np.save(out_path, tokens)
    return len(tokens)


class PretrainBatches:
    """Random windows of the token array; batch ``step`` is the same on every run (resume-safe)."""

    def __init__(self, tokens_path: Path, seq_len: int, batch_tokens: int, seed: int):
        self.tokens = np.load(tokens_path, mmap_mode="r")
        self.seq_len, self.seed = seq_len, seed
        self.batch = max(1, batch_tokens // seq_len)
        assert len(self.tokens) > seq_len + 1, "corpus shorter than one window"

    def __call__(self, step: int):
        rng = np.random.default_rng([self.seed, step])
        starts = rng.integers(0, len(self.tokens) - self.seq_len - 1, size=self.batch)
        ids = torch.from_numpy(
            np.stack([self.tokens[s : s + self.seq_len + 1] for s in starts]).astype(np.int64)
        )
        return ids[:, :-1], ids[:, 1:].clone(), None


class CompletionBatches:
    """Prompt + completion examples, loss on the completion only, batched by a token budget.

    Examples longer than ``max_len`` are left out (cutting a prompt would teach a broken format).
    Each epoch shuffles, sorts windows of 64 by length (little padding), packs batches of at most
    ``batch_tokens`` padded tokens and shuffles the batches; batch ``step`` is deterministic.
    """

    def __init__(self, examples_path: Path, tokenizer, max_len: int, batch_tokens: int, seed: int):
        self.pad, self.seed, self.batch_tokens = tokenizer.pad_token_id, seed, batch_tokens
        self.examples, self.dropped = [], 0
        rows = [json.loads(line) for line in open(examples_path)]
        prompts = tokenizer([r["prompt"] for r in rows], add_special_tokens=False)["input_ids"]
        completions = tokenizer([r["completion"] for r in rows], add_special_tokens=False)[
            "input_ids"
        ]
        for p, c in zip(prompts, completions):
            if len(p) + len(c) > max_len + 1 or not c:
                self.dropped += 1
                continue
            self.examples.append((p, c))
        assert self.examples, "no example fits max_len"
        self._epochs: dict[int, list[list[int]]] = {}  # the last epoch built
        self._lengths: dict[int, int] = {}  # batches per epoch: packing makes it vary a little

    def _epoch(self, epoch: int) -> list[list[int]]:
        if epoch not in self._epochs:
            rng = random.Random(self.seed * 1000 + epoch)
            order = list(range(len(self.examples)))
            rng.shuffle(order)
            length = lambda i: len(self.examples[i][0]) + len(self.examples[i][1]) - 1  # noqa: E731
            batches, current, longest = [], [], 0
            for w in range(0, len(order), 64):
                for i in sorted(order[w : w + 64], key=length):
                    if current and max(longest, length(i)) * (len(current) + 1) > self.batch_tokens:
                        batches.append(current)
                        current, longest = [], 0
                    current.append(i)
                    longest = max(longest, length(i))
            if current:
                batches.append(current)
            rng.shuffle(batches)
            self._epochs = {epoch: batches}
            self._lengths[epoch] = len(batches)
        return self._epochs[epoch]

    def _length(self, epoch: int) -> int:
        return self._lengths[epoch] if epoch in self._lengths else len(self._epoch(epoch))

    def batches_per_epoch(self) -> int:
        """Of the first epoch (the others differ by a few)."""
        return self._length(0)

    def locate(self, step: int) -> tuple[int, int]:
        """(epoch, batch in it) of a step: every epoch is read whole, however many batches it packs."""
        epoch = 0
        while step >= self._length(epoch):
            step -= self._length(epoch)
            epoch += 1
        return epoch, step

    def __call__(self, step: int):
        epoch, index = self.locate(step)
        batch = self._epoch(epoch)[index]
        return completion_batch([self.examples[i] for i in batch], self.pad)


def completion_batch(rows: list[tuple[list[int], list[int]]], pad: int):
    """(inputs, labels, mask) of (prompt, completion) token lists, right-padded: the labels are the
    completion's tokens where the model predicts them, IGNORE elsewhere."""
    width = max(len(prompt) + len(completion) - 1 for prompt, completion in rows)
    inputs = torch.full((len(rows), width), pad, dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for row, (prompt, completion) in enumerate(rows):
        ids = prompt + completion
        n = len(ids) - 1
        inputs[row, :n] = torch.tensor(ids[:-1])
        labels[row, len(prompt) - 1 : n] = torch.tensor(completion)
        mask[row, :n] = 1
    return inputs, labels, mask


class CopyBatches:
    """The copy curriculum: corpus text framed as the format frames the editable region, and the
    region written again. Most of a next-edit completion is a copy of the region, and our small
    model trained on next-edit examples alone sat on a loss plateau (~4.7) for the 800 steps we
    gave it; on these sequences, where only copying lowers the loss, it learns in a few hundred.

    A sequence is ``before <|region|> region' <|/region|> after <|rewrite|> region <|end|>``, where
    ``region'`` is the region with ``<|cursor|>`` somewhere inside (the copy leaves it out) and
    the loss is on the copy and its end. For ``settle_steps`` the regions are short (16-64 tokens)
    with nothing around them: measured, the loss sits at ~5 for ~200 steps, then falls (2.97 at
    step 220; started at the format's sizes, it stayed on the plateau). Then the text around the
    region and the region's length grow to the format's sizes over ``grow_steps``. Batch ``step``
    is the same on every run (resume-safe).
    """

    def __init__(
        self,
        tokens_path: Path,
        tokenizer,
        batch_tokens: int,
        seed: int,
        region: int = 160,
        around: int = 160,
        settle_steps: int = 300,
        grow_steps: int = 300,
    ):
        self.tokens = np.load(tokens_path, mmap_mode="r")
        ids = tokenizer.convert_tokens_to_ids
        self.marks = {
            name: ids(name)
            for name in ("<|region|>", "<|/region|>", "<|cursor|>", "<|rewrite|>", "<|end|>")
        }
        self.pad, self.batch_tokens, self.seed = tokenizer.pad_token_id, batch_tokens, seed
        self.region, self.around = region, around
        self.settle_steps, self.grow_steps = settle_steps, grow_steps

    def _window(self, rng, n: int) -> list[int]:
        start = int(rng.integers(0, len(self.tokens) - n - 1))
        return self.tokens[start : start + n].astype(np.int64).tolist()

    def __call__(self, step: int):
        rng = np.random.default_rng([self.seed, step])
        m = self.marks
        grown = min(1.0, max(0, step - self.settle_steps) / max(1, self.grow_steps))
        shortest_region, longest_region = 16 - int(8 * grown), 64 + int((self.region - 64) * grown)
        longest_around = int(self.around * grown)
        rows, width = [], 0
        while True:
            region = self._window(rng, int(rng.integers(shortest_region, longest_region + 1)))
            cut = int(rng.integers(0, len(region) + 1))
            prompt = (
                self._window(rng, int(rng.integers(0, longest_around + 1)))
                + [m["<|region|>"]]
                + region[:cut]
                + [m["<|cursor|>"]]
                + region[cut:]
                + [m["<|/region|>"]]
                + self._window(rng, int(rng.integers(0, longest_around + 1)))
                + [m["<|rewrite|>"]]
            )
            row = (prompt, region + [m["<|end|>"]])
            wider = max(width, len(row[0]) + len(row[1]) - 1)
            if rows and wider * (len(rows) + 1) > self.batch_tokens:
                break
            rows.append(row)
            width = wider
        return completion_batch(rows, self.pad)


# ---------------------------------------------------------------- loop


def loss_on_labels(model, inputs, labels, mask):
    """Cross-entropy on the labelled positions only; the output head runs on those alone."""
    hidden = model.model(input_ids=inputs, attention_mask=mask).last_hidden_state
    where = labels != IGNORE
    logits = model.lm_head(hidden[where])
    return F.cross_entropy(logits.float(), labels[where])


def lr_at(cfg: TrainConfig, step: int, elapsed_s: float) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    if cfg.max_minutes:
        progress = max(progress, elapsed_s / (cfg.max_minutes * 60))
    progress = min(1.0, progress)
    floor = cfg.lr * cfg.min_lr_ratio
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def _save(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def train(model, batches, cfg: TrainConfig, resume: bool = False, log=print) -> dict:
    """Train ``model`` in place on ``batches(step)``; return the final summary."""
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "checkpoint.pt"
    torch.manual_seed(cfg.seed)
    if cfg.device == "cpu":
        torch.set_num_threads(cfg.threads)
    model.to(cfg.device)
    model.train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optim = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=cfg.lr,
        betas=(0.9, 0.95),
        fused=cfg.device == "cuda",
    )
    step, elapsed, tokens_seen, history = 0, 0.0, 0, []
    if resume and ckpt.exists():
        state = torch.load(ckpt, map_location=cfg.device, weights_only=False)
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optimizer"])
        step, elapsed, tokens_seen, history = (
            state["step"],
            state["elapsed"],
            state["tokens"],
            state["history"],
        )
        log(f"resumed at step {step} ({elapsed / 60:.1f} min, {tokens_seen} tokens)")

    def checkpoint(done: bool):
        _save(
            ckpt,
            {
                "model": model.state_dict(),
                "optimizer": optim.state_dict(),
                "step": step,
                "elapsed": elapsed,
                "tokens": tokens_seen,
                "history": history,
                "done": done,
                "config": asdict(cfg),
            },
        )

    started, window_loss, window_n, window_tokens, window_t = (
        time.perf_counter() - elapsed,
        0.0,
        0,
        0,
        time.perf_counter(),
    )
    while step < cfg.steps and not (cfg.max_minutes and elapsed >= cfg.max_minutes * 60):
        inputs, labels, mask = batches(step)
        inputs, labels = inputs.to(cfg.device), labels.to(cfg.device)
        mask = mask.to(cfg.device) if mask is not None else None
        lr = lr_at(cfg, step, elapsed)
        for group in optim.param_groups:
            group["lr"] = lr
        with torch.autocast(cfg.device, dtype=torch.bfloat16):
            loss = loss_on_labels(model, inputs, labels, mask)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
        optim.zero_grad(set_to_none=True)
        step += 1
        n_tokens = int(mask.sum()) if mask is not None else inputs.numel()
        tokens_seen += n_tokens
        window_loss, window_n, window_tokens = (
            window_loss + loss.item(),
            window_n + 1,
            window_tokens + n_tokens,
        )
        elapsed = time.perf_counter() - started
        if step % cfg.log_every == 0 or step == cfg.steps:
            now = time.perf_counter()
            entry = {
                "step": step,
                "loss": round(window_loss / window_n, 4),
                "lr": round(lr, 6),
                "tok_s": round(window_tokens / (now - window_t)),
                "min": round(elapsed / 60, 2),
            }
            history.append(entry)
            log(json.dumps(entry))
            window_loss, window_n, window_tokens, window_t = 0.0, 0, 0, now
        if step % cfg.save_every == 0:
            checkpoint(False)
    checkpoint(True)
    summary = {
        "steps": step,
        "tokens": tokens_seen,
        "minutes": round(elapsed / 60, 1),
        "final_loss": history[-1]["loss"] if history else None,
    }
    (out / "summary.json").write_text(json.dumps({**summary, "config": asdict(cfg)}, indent=1))
    log(json.dumps({"done": summary}))
    return summary


def load_trained(model, out_dir: Path):
    """``model`` with the weights of the checkpoint in ``out_dir``."""
    state = torch.load(Path(out_dir) / "checkpoint.pt", map_location="cpu", weights_only=False)
    model.load_state_dict(state["model"])
    return model
