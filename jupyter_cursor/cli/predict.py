"""``jupyter cursor predict``: the next edit for a request, or for a file of them.

    jupyter cursor predict --request R.json [--json] [--rules-only] [--model PATH --format NAME]
    jupyter cursor predict --batch IN.jsonl --out OUT.jsonl [--rules-only] [--model PATH ...]

A request is ARCHITECTURE.md's ``{"path", "cells", "cursor", "events"}`` (a line of nes_*.jsonl: extra
fields ignored). Each output line is ``{"id", "edits", "predictor", "timings"}`` (plus ``"model"``
when the model ran), or ``{"id", "error"}``. With no options it runs what the server runs
unconfigured: the learned filter and ranker over the deterministic predictors' candidates
(nextedit/ranker.py), then the completion; --rules-only puts the rules in the ranker's place (the
first that answers wins). With --model the model is loaded once for the whole batch.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from ._common import (
    BadLine,
    UsageError,
    jsonl_output,
    print_json,
    read_jsonl,
    write_jsonl_error,
    write_jsonl_line,
)


def register(subparsers) -> None:
    from ..nextedit.formats import FORMATS

    parser = subparsers.add_parser(
        "predict",
        help="predict the next edit of a notebook from its recent edits",
        description="Next-edit prediction from the command line: a rename carried, the last edit "
        "repeated, or (with --model) the model's rewrite of the region around the cursor.",
    )
    parser.add_argument("--request", help="JSON file of one request ('-': stdin)")
    parser.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    parser.add_argument("--batch", help="JSON-lines file of requests")
    parser.add_argument(
        "--rules-only",
        action="store_true",
        help="the deterministic predictors alone, the first that answers wins (not the ranker)",
    )
    parser.add_argument("--out", help="where --batch writes its answers (default: stdout)")
    parser.add_argument(
        "--model", default="", help="local model directory or hub id (default: none)"
    )
    parser.add_argument(
        "--format", default="jupyter-cursor", choices=list(FORMATS), help="its prompt format"
    )
    add_engine_arguments(parser)
    parser.add_argument(
        "--min-confidence",
        type=float,
        default=None,
        help="the least sure token a shown model answer may have (default: the server's)",
    )
    parser.add_argument(
        "--completion",
        default="default",
        choices=["default", "fim", "off"],
        help="what completes at the cursor when no rule answers: the embedded default, the "
        "--model as a fill-in-the-middle model, or nothing (default: default)",
    )
    parser.add_argument(
        "--fim-format", default="", help="the --model's FIM family when its tokenizer does not say"
    )
    parser.set_defaults(func=run)


def add_engine_arguments(parser) -> None:
    """How to run the --model: the options of EngineConfig (here and in benchmarks/eval_nextedit.py)."""
    from typing import get_args, get_type_hints

    from ..engine import EngineConfig

    hints = get_type_hints(EngineConfig)
    for name in ("device", "quantization", "dtype"):
        parser.add_argument(f"--{name}", default="auto", choices=list(get_args(hints[name])))
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")
    parser.add_argument("--max-new-tokens", type=int, default=EngineConfig.max_new_tokens)


def engine_config(args):
    """The EngineConfig of --model and the options of add_engine_arguments."""
    from ..engine import EngineConfig

    return EngineConfig(
        model=args.model,
        device=args.device,
        quantization=args.quantization,
        dtype=args.dtype,
        cpu_threads=args.threads,
        max_new_tokens=args.max_new_tokens,
    )


def run(args) -> int:
    if bool(args.batch) == bool(args.request):
        raise UsageError("give --request R.json or --batch IN.jsonl")
    if args.batch and args.json:
        raise UsageError("--batch always writes JSON lines; --json is for --request")
    return asyncio.run(_run(args))


async def _service(args):
    from ..completion.source import Completer
    from ..nextedit.service import NextEditService, load_model_service

    if args.completion == "fim" and not args.model:
        raise UsageError("--completion fim completes with the --model: give one")
    try:
        if not args.model:
            return NextEditService(completer=Completer(args.completion), rules_only=args.rules_only)
        service = await load_model_service(
            engine_config(args), args.format, min_confidence=args.min_confidence
        )
        service.completer = Completer(args.completion, service.model.runtime, args.fim_format)
        service.rules_only = args.rules_only
        return service
    except (RuntimeError, ValueError) as err:
        raise UsageError(str(err)) from None


async def _run(args) -> int:
    service = await _service(args)
    try:
        if args.request:
            return await _single(args, service)
        return await _batch(args, service)
    finally:
        if service.model is not None:
            service.model.runtime.close()


def _check(request) -> dict:
    if not isinstance(request, dict):
        raise ValueError("a request must be a JSON object")
    cells, cursor = request.get("cells"), request.get("cursor")
    if not isinstance(cells, list) or not all(
        isinstance(c, dict) and isinstance(c.get("id"), str) and isinstance(c.get("source"), str)
        for c in cells
    ):
        raise ValueError("cells must be a list of {id, cell_type, source}")
    if (
        not isinstance(cursor, dict)
        or not isinstance(cursor.get("cell_id"), str)
        or not isinstance(cursor.get("offset"), int)
    ):
        raise ValueError("cursor must be {cell_id, offset}")
    events = request.get("events") or []
    if not isinstance(events, list) or not all(
        isinstance(e, dict)
        and all(isinstance(e.get(k), str) for k in ("cell_id", "before", "after"))
        for e in events
    ):
        raise ValueError("events must be a list of {cell_id, before, after}")
    cells = [{"cell_type": "code", **c} for c in cells]
    return {
        "path": str(request.get("path") or ""),
        "cells": cells,
        "cursor": cursor,
        "events": events,
    }


def _read_request(path: str) -> str:
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None


async def _single(args, service) -> int:
    text = _read_request(args.request)
    try:
        answer = await service.predict(_check(json.loads(text)))
    except ValueError as err:
        raise UsageError(str(err)) from None
    if args.json:
        print_json(answer)
        return 0
    if not answer["edits"]:
        print("no edit")
    for edit in answer["edits"]:
        print(f"--- cell {edit['cell_id']} ({answer['predictor']})")
        print(edit["source"])
    print(f"{answer['timings']['total_ms']:.1f} ms")
    return 0


async def _batch(args, service) -> int:
    with jsonl_output(args.out) as out:
        for number, line in read_jsonl(args.batch):
            if isinstance(line, BadLine):
                write_jsonl_error(out, number, line)
                continue
            request_id = line.get("id", number)
            try:
                answer = await service.predict(_check(line))
            except (KeyError, TypeError, ValueError) as err:
                write_jsonl_error(out, request_id, err)
                continue
            write_jsonl_line(out, {"id": request_id, **answer})
    return 0
