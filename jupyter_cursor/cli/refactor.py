"""``jupyter cursor refactor NOTEBOOK.ipynb --instruction "..." [--write]``: a notebook-wide refactor
from the command line, for scripts and CI. Prints the proposed cell changes and the checks' warnings;
``--write`` saves the result (atomically, keeping ids, metadata and the outputs of untouched cells).
"""

from __future__ import annotations

import asyncio
import json
import sys

from ._common import UsageError, print_json
from .notebooks import read_notebook, wire_cells, write_cells


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "refactor",
        help="apply one instruction across a notebook with a foundation model",
        description="Send the notebook and the instruction to a chat provider, turn its answer into "
        "cell edits with the apply engine, and check them (syntax, names no longer defined).",
    )
    parser.add_argument("notebook", help="the .ipynb file")
    parser.add_argument("--instruction", "-i", required=True, help="what should change")
    parser.add_argument("--write", action="store_true", help="save the result into the notebook")
    parser.add_argument("--json", action="store_true", help="print the NotebookDiff as JSON")
    providers = parser.add_argument_group(
        "provider", "either --providers FILE (the list of c.CursorApp.providers) or one of --model"
    )
    providers.add_argument("--providers", help="JSON file with a list of provider dicts")
    providers.add_argument(
        "--provider", help="the provider's name in that list (default: its default)"
    )
    providers.add_argument("--kind", default="openai", choices=["openai", "azure", "anthropic"])
    providers.add_argument("--model", help="model name, e.g. gpt-4o-mini")
    providers.add_argument(
        "--base-url", help="an OpenAI-compatible server, e.g. http://localhost:8000/v1"
    )
    providers.add_argument("--api-key-env", help="environment variable holding the key")
    parser.set_defaults(func=run)


def _registry(args):
    from ..providers import ProviderRegistry

    if args.providers:
        try:
            with open(args.providers, encoding="utf-8") as handle:
                config = json.load(handle)
        except (OSError, ValueError) as err:
            raise UsageError(f"cannot read --providers {args.providers}: {err}") from None
    elif args.model:
        spec = {"name": "cli", "kind": args.kind, "model": args.model}
        if args.base_url:
            spec["base_url"] = args.base_url
        if args.api_key_env:
            spec["api_key_env"] = args.api_key_env
        config = [spec]
    else:
        raise UsageError("give --providers FILE or --model (with --base-url / --api-key-env)")
    try:
        return ProviderRegistry.from_config(config)
    except ValueError as err:
        raise UsageError(str(err)) from None


async def _refactor(args, notebook) -> dict:
    from ..providers import ProviderError
    from ..refactor import RefactorService
    from ..refactor.prompt import summarise_outputs

    registry = _registry(args)
    cells = wire_cells(notebook)
    outputs = {
        cell["id"]: summarise_outputs(cell.get("outputs", []))
        for cell in notebook.cells
        if cell.cell_type == "code"
    }
    service = RefactorService(registry)
    try:
        async for event in service.run(
            args.notebook, cells, args.instruction, outputs=outputs, provider_name=args.provider
        ):
            if event["type"] == "delta" and not args.json:
                sys.stderr.write(event["text"])
                sys.stderr.flush()
            elif event["type"] == "diff":
                return event
    except ProviderError as err:
        raise UsageError(f"{err.code}: {err.message}") from None
    finally:
        await registry.aclose()
    raise UsageError("the provider's answer ended without a result")


def run(args) -> int:
    notebook = read_notebook(args.notebook)
    diff = asyncio.run(_refactor(args, notebook))
    if args.write:
        write_cells(args.notebook, notebook, diff["cells"])
    if args.json:
        print_json({key: diff[key] for key in ("cells", "ops", "warnings")})
    else:
        sys.stderr.write("\n")
        for op in diff["ops"]:
            target = op.get("cell_id", f"position {op.get('position')}")
            print(f"{op['op']:<7} {target}")
        for warning in diff["warnings"]:
            text = warning["message"] if isinstance(warning, dict) else str(warning)
            cell = warning.get("cell_id") if isinstance(warning, dict) else None
            print(f"warning{f' [{cell}]' if cell else ''}: {text}")
        print("written" if args.write else "not written (use --write)")
    return 0
