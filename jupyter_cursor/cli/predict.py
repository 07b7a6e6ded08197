"""``jupyter cursor predict``: the next edit for a request, or for a file of them.

    jupyter cursor predict --request R.json [--json] [--rules-only] [--model PATH --format NAME]
    jupyter cursor predict --batch IN.jsonl --out OUT.jsonl [--rules-only] [--model PATH ...]
    jupyter cursor predict ... --completion fim --remote-url URL [--model NAME]
        [--completion-endpoint completions|llama-infill|ollama] [--remote-api-key-env VAR]
    jupyter cursor predict ... --completion chat --providers FILE [--completion-chat-provider NAME]

A request is ARCHITECTURE.md's ``{"path", "cells", "cursor", "events"}`` (a line of nes_*.jsonl: extra
fields ignored). Each output line is ``{"id", "edits", "predictor", "timings"}`` (plus ``"model"``
when the model ran), or ``{"id", "error"}``. With no options it runs what the server runs
unconfigured: the learned filter and ranker over the deterministic predictors' candidates
(nextedit/ranker.py), then the completion; --rules-only puts the rules in the ranker's place (the
first that answers wins). With --model the model is loaded once for the whole batch; with
--remote-url the model is a served one (--model its name), probed once.

The options mirror the server's (``c.CursorApp.<name>``): --remote-url and --remote-api-key-env
(its environment variable, not the key itself) are engine_remote_url and engine_remote_api_key,
--model with --remote-url engine_remote_model; --completion, --completion-endpoint, --fim-format
and --completion-chat-provider are completion_source, completion_endpoint, completion_fim_format
and completion_chat_provider; --providers FILE holds the JSON list of providers.
"""

from __future__ import annotations

import asyncio
import json
import os
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
        "--model",
        default="",
        help="local model directory or hub id, or with --remote-url the served model's name "
        "(default: none)",
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
    add_completion_arguments(parser)
    parser.set_defaults(func=run)


def add_completion_arguments(parser) -> None:
    """What completes at the cursor, as the server's completion_* options say (here and in
    benchmarks/eval_completion.py)."""
    from ..completion.source import ENDPOINTS, SOURCES

    parser.add_argument(
        "--completion",
        default="default",
        choices=list(SOURCES),
        help="what completes at the cursor when no rule answers (completion_source): the "
        "embedded default, the --model (or the model at --remote-url) as a fill-in-the-middle "
        "model, a chat provider of --providers, or nothing (default: default)",
    )
    parser.add_argument(
        "--completion-endpoint",
        default="completions",
        choices=list(ENDPOINTS),
        help="how the served FIM model is asked (completion_endpoint): the OpenAI completions "
        "API, llama.cpp's /infill or Ollama's /api/generate (default: completions)",
    )
    parser.add_argument(
        "--fim-format",
        default="",
        help="the model's FIM family when its tokenizer or name does not say "
        "(completion_fim_format)",
    )
    parser.add_argument(
        "--providers", help="JSON file of the chat providers (the list of c.CursorApp.providers)"
    )
    parser.add_argument(
        "--completion-chat-provider",
        default="",
        metavar="NAME",
        help="the provider of --providers that completes with --completion chat "
        "(completion_chat_provider; default: its default one)",
    )


def add_engine_arguments(parser) -> None:
    """How to run the --model: the options of EngineConfig (here and in benchmarks/eval_nextedit.py)."""
    from typing import get_args, get_type_hints

    from ..engine import EngineConfig

    hints = get_type_hints(EngineConfig)
    for name in ("device", "quantization", "dtype"):
        parser.add_argument(f"--{name}", default="auto", choices=list(get_args(hints[name])))
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")
    parser.add_argument("--max-new-tokens", type=int, default=EngineConfig.max_new_tokens)
    parser.add_argument(
        "--remote-url",
        default="",
        help="a served model instead of a local one: its server's URL, OpenAI-compatible (vLLM, "
        "TGI, llama.cpp, Ollama; engine_remote_url); --model is then its name on the server",
    )
    parser.add_argument(
        "--remote-api-key-env",
        default="",
        metavar="VAR",
        help="the environment variable that holds the server's key (engine_remote_api_key)",
    )


def engine_config(args):
    """The EngineConfig of --model and the options of add_engine_arguments: a served model when
    --remote-url is given (a UsageError when its key's variable is not set)."""
    from ..engine import EngineConfig

    model = args.model or ""
    key = ""
    if args.remote_api_key_env:
        key = os.environ.get(args.remote_api_key_env, "")
        if not key:
            raise UsageError(f"--remote-api-key-env: {args.remote_api_key_env} is not set")
    return EngineConfig(
        backend="remote" if args.remote_url else "local",
        model="" if args.remote_url else model,
        device=args.device,
        quantization=args.quantization,
        dtype=args.dtype,
        cpu_threads=args.threads,
        max_new_tokens=args.max_new_tokens,
        remote_url=args.remote_url,
        remote_model=model if args.remote_url else "",
        remote_api_key=key,
    )


def run(args) -> int:
    if bool(args.batch) == bool(args.request):
        raise UsageError("give --request R.json or --batch IN.jsonl")
    if args.batch and args.json:
        raise UsageError("--batch always writes JSON lines; --json is for --request")
    return asyncio.run(_run(args))


def _providers(args):
    """The ProviderRegistry of --providers, or None without it."""
    from ..providers import ProviderRegistry

    if not args.providers:
        return None
    try:
        with open(args.providers, encoding="utf-8") as handle:
            return ProviderRegistry.from_config(json.load(handle))
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot use --providers {args.providers}: {err}") from None


def _check_completion(args) -> None:
    """The completion options that cannot work together, said before a model loads."""
    if args.completion == "fim" and not (args.model or args.remote_url):
        raise UsageError("--completion fim completes with the --model or --remote-url: give one")
    if args.completion == "fim" and args.completion_endpoint != "completions":
        if not args.remote_url:
            raise UsageError(
                f"--completion-endpoint {args.completion_endpoint} is a model server's: "
                "give --remote-url (a local --model completes with its tokenizer's tokens)"
            )
    if args.completion == "chat" and not args.providers:
        raise UsageError("--completion chat asks a chat provider: give --providers FILE")


async def build_service(args):
    """The NextEditService of the options (register's and add_completion_arguments'): the
    model loaded (or the served one found), the completer set up as the server sets it up. The
    caller ends it with ``close_service``."""
    from ..completion.source import Completer
    from ..nextedit.service import NextEditService, load_model_service

    _check_completion(args)
    config = engine_config(args) if args.model or args.remote_url else None
    providers = _providers(args)
    service = NextEditService(rules_only=args.rules_only)
    try:
        if config is not None:
            loaded = await load_model_service(
                config, args.format, min_confidence=args.min_confidence
            )
            service.model = loaded.model
        service.completer = Completer(
            args.completion,
            service.model.runtime if service.model is not None else None,
            args.fim_format,
            endpoint=args.completion_endpoint,
            providers=providers,
            chat_provider=args.completion_chat_provider,
        )
        return service
    except (RuntimeError, ValueError) as err:
        await close_service(service, providers)
        raise UsageError(str(err)) from None


async def close_service(service, providers=None) -> None:
    """Stop what ``build_service`` started: the model's runtime, the providers' clients (its
    completer's, or ``providers``)."""
    if service.model is not None:
        service.model.runtime.close()
    if service.completer is not None:
        providers = service.completer.providers
    if providers is not None:
        await providers.aclose()


async def _run(args) -> int:
    service = await build_service(args)
    try:
        if args.request:
            return await _single(args, service)
        return await _batch(args, service)
    finally:
        await close_service(service)


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
