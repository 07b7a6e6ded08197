"""``python -m models.recipe STEP [options]``: the next-edit model's recipe, one step at a time.

    corpus         Python source and notebooks on this machine → models/runs/corpus/ (licence-filtered, deduplicated)
    tokenizer      byte-level BPE on a sample of the corpus → models/runs/tokenizer/
    pretrain       next-token pretraining → models/runs/pretrain/ (checkpoint.pt, model/)
    copy           the copy curriculum: learn to write the region again → models/runs/copy/
    finetune-data  next-edit examples (train split + synthetic edits) in the jupyter-cursor format → models/runs/finetune/examples.jsonl
    finetune       next-edit fine-tuning from the pretrained model → models/runs/finetune/ (checkpoint.pt, model/)
    export         the fine-tuned weights (bf16 safetensors) + tokenizer → jupyter_cursor/models/default/

Training steps take --resume (continue from the checkpoint), --device cuda (bf16, larger batches on a
GPU), --threads, --steps, --max-minutes. --work DIR puts everything under another folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import SHIPPED, WORK


def _log_to(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)

    def log(line: str) -> None:
        with open(path, "a") as f:
            f.write(line + "\n")
        print(line, flush=True)

    return log


def cmd_corpus(args) -> None:
    from . import corpus

    roots = [Path(r) for r in args.root] if args.root else None
    summary = corpus.build(args.work / "corpus", roots, max_files=args.max_files)
    print(json.dumps({k: summary[k] for k in ("roots", "files", "chars", "dropped")}, indent=1))


def cmd_tokenizer(args) -> None:
    from . import corpus, tokenizer

    texts = tokenizer.sample_texts(
        corpus.iter_texts(args.work / "corpus" / "corpus.jsonl"), args.chars
    )
    tok = tokenizer.train(texts, args.work / "tokenizer", vocab_size=args.vocab_size)
    print(
        f"vocabulary {len(tok)} from {sum(map(len, texts))} characters → {args.work / 'tokenizer'}"
    )


def _train_config(args, out_dir: Path, **defaults):
    from .train import TrainConfig

    cfg = TrainConfig(out_dir=str(out_dir), **defaults)
    for name in (
        "steps",
        "max_minutes",
        "lr",
        "batch_tokens",
        "seq_len",
        "save_every",
        "threads",
        "device",
        "warmup",
        "log_every",
    ):
        value = getattr(args, name, None)
        if value is not None:
            setattr(cfg, name, value)
    if cfg.device == "cuda" and args.batch_tokens is None:
        cfg.batch_tokens *= 8  # a GPU is far from busy with the CPU's batch
    return cfg


def cmd_pretrain(args) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from . import corpus
    from . import tokenizer as tokenizer_mod
    from .architecture import model_config
    from .train import PretrainBatches, tokenize_corpus, train

    out = args.work / "pretrain"
    log = _log_to(out / "train.log")
    tok = AutoTokenizer.from_pretrained(args.work / "tokenizer")
    tokens_path = args.work / "corpus" / "tokens.npy"
    if not tokens_path.exists():
        texts = tokenizer_mod.sample_texts(
            corpus.iter_texts(args.work / "corpus" / "corpus.jsonl"), args.corpus_chars, seed=1
        )
        n = tokenize_corpus(texts, tok, tokens_path)
        log(json.dumps({"corpus_tokens": n, "corpus_chars": sum(map(len, texts))}))
    cfg = _train_config(args, out, steps=3000, lr=1.5e-3, warmup=100)
    import torch

    torch.manual_seed(cfg.seed)
    model = AutoModelForCausalLM.from_config(model_config(tok, args.size), dtype=torch.float32)
    log(json.dumps({"params": sum(p.numel() for p in model.parameters()), "size": args.size}))
    batches = PretrainBatches(tokens_path, cfg.seq_len, cfg.batch_tokens, cfg.seed)
    train(model, batches, cfg, resume=args.resume, log=log)
    _save(model, tok, out)


def _save(model, tok, out: Path) -> None:
    model.save_pretrained(out / "model")
    tok.save_pretrained(out / "model")


def _train_on(args, stage: str, make_batches, **defaults) -> None:
    """Train the model of ``--init`` (the pretrained one by default) further, as ``stage``:
    ``make_batches(tokenizer, cfg, log)`` gives its data, ``defaults`` its TrainConfig defaults."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .train import train

    out = args.work / stage
    log = _log_to(out / "train.log")
    start = args.init or args.work / "pretrain" / "model"
    tok = AutoTokenizer.from_pretrained(start)
    model = AutoModelForCausalLM.from_pretrained(start, dtype="float32")
    cfg = _train_config(args, out, **defaults)
    train(model, make_batches(tok, cfg, log), cfg, resume=args.resume, log=log)
    _save(model, tok, out)


def cmd_copy(args) -> None:
    from .train import CopyBatches

    _train_on(
        args,
        "copy",
        lambda tok, cfg, log: CopyBatches(
            args.work / "corpus" / "tokens.npy", tok, cfg.batch_tokens, cfg.seed
        ),
        steps=600,
        lr=1e-3,
        warmup=20,
    )


def cmd_finetune_data(args) -> None:
    from . import edits

    counts = edits.build_examples(
        args.work / "finetune" / "examples.jsonl",
        args.work / "corpus" / "corpus.jsonl",
        train_path=args.train,
        synthetic=args.synthetic,
        limit=args.limit,
    )
    print(json.dumps(counts, indent=1))


def cmd_finetune(args) -> None:
    from .train import CompletionBatches

    def batches(tok, cfg, log):
        found = CompletionBatches(
            args.work / "finetune" / "examples.jsonl", tok, args.max_len, cfg.batch_tokens, cfg.seed
        )
        log(
            json.dumps(
                {
                    "examples": len(found.examples),
                    "dropped_too_long": found.dropped,
                    "batches_per_epoch": found.batches_per_epoch(),
                }
            )
        )
        return found

    _train_on(args, "finetune", batches, steps=3000, lr=8e-4, warmup=50, batch_tokens=6144)


def cmd_export(args) -> None:
    from .export import export

    files = export(args.work / args.stage / "model", args.out)
    print(json.dumps(files, indent=1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m models.recipe",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--work", type=Path, default=WORK, help="working folder (default models/runs)"
    )
    sub = parser.add_subparsers(dest="step", required=True)

    p = sub.add_parser("corpus")
    p.add_argument(
        "--root", action="append", help="a folder to read (default: venv + system Python)"
    )
    p.add_argument("--max-files", type=int)
    p.set_defaults(run=cmd_corpus)

    p = sub.add_parser("tokenizer")
    p.add_argument("--vocab-size", type=int, default=8192)
    p.add_argument("--chars", type=int, default=30_000_000, help="characters of corpus to train on")
    p.set_defaults(run=cmd_tokenizer)

    def training(p, **defaults):
        p.add_argument("--resume", action="store_true")
        p.add_argument("--device", choices=["cpu", "cuda"])
        p.add_argument("--threads", type=int)
        p.add_argument("--steps", type=int)
        p.add_argument("--max-minutes", type=float)
        p.add_argument("--lr", type=float)
        p.add_argument("--warmup", type=int)
        p.add_argument("--batch-tokens", type=int)
        p.add_argument("--save-every", type=int)
        p.add_argument("--log-every", type=int)

    p = sub.add_parser("pretrain")
    training(p)
    p.add_argument("--size", default="default", choices=["default", "tiny"])
    p.add_argument("--seq-len", type=int)
    p.add_argument("--corpus-chars", type=int, default=80_000_000, help="corpus sample to tokenize")
    p.set_defaults(run=cmd_pretrain)

    p = sub.add_parser("copy")
    training(p)
    p.add_argument(
        "--init", type=Path, help="the model to start from (default: the pretrained one)"
    )
    p.set_defaults(run=cmd_copy)

    p = sub.add_parser("finetune-data")
    p.add_argument(
        "--train", type=Path, default=None, help="NES train split (default ../shared/data)"
    )
    p.add_argument("--synthetic", type=int, default=6000, help="synthetic edit examples")
    p.add_argument(
        "--limit",
        type=int,
        help="a random subset of this many train-split examples "
        "(the rest is written to heldout.jsonl.gz)",
    )
    p.set_defaults(run=cmd_finetune_data)

    p = sub.add_parser("finetune")
    training(p)
    p.add_argument("--max-len", type=int, default=1024, help="longer examples are left out")
    p.add_argument(
        "--init", type=Path, help="the model to start from (default: the pretrained one)"
    )
    p.set_defaults(run=cmd_finetune)

    p = sub.add_parser("export")
    p.add_argument("--stage", default="finetune", choices=["finetune", "pretrain"])
    p.add_argument("--out", type=Path, default=SHIPPED)
    p.set_defaults(run=cmd_export)

    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main(sys.argv[1:])
