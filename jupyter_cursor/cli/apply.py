"""``jupyter cursor apply``: a model's suggestion (markdown) → exact cell edits.

    jupyter cursor apply NOTEBOOK.ipynb --suggestion FILE.md [--json] [--write]
    jupyter cursor apply --batch IN.jsonl --out OUT.jsonl

Batch lines are ``{"id", "cells", "suggestion"}`` (extra fields ignored); each output line is
``{"id", "cells", "ops", "warnings"}``, or ``{"id", "error"}`` for a line that could not be read.
"""

from __future__ import annotations

import sys

from .. import protocol
from ..apply.protocol import ApplyBody
from ._common import (
    BadLine,
    UsageError,
    jsonl_output,
    print_json,
    read_jsonl,
    write_jsonl_error,
    write_jsonl_line,
)
from .notebooks import read_notebook, wire_cells, write_cells


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "apply",
        help="turn a model's suggestion into exact cell edits",
        description="Apply a foundation model's markdown answer (whole cells, lazy snippets with "
        "'# ... existing code ...', SEARCH/REPLACE blocks, unified diffs, new-cell requests) to a "
        "notebook, deterministically. Nothing is written without --write.",
    )
    parser.add_argument("notebook", nargs="?", help="the .ipynb file")
    parser.add_argument("--suggestion", help="markdown file with the model's answer ('-': stdin)")
    parser.add_argument("--json", action="store_true", help="print the NotebookDiff as JSON")
    parser.add_argument("--write", action="store_true", help="save the result into the notebook")
    parser.add_argument("--batch", help="JSON-lines file of {id, cells, suggestion, path?}")
    parser.add_argument("--out", help="where --batch writes its results (default: stdout)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..apply.protocol import run_apply

    if args.batch:
        if args.notebook or args.suggestion or args.write:
            raise UsageError("--batch takes no notebook, --suggestion or --write")
        return _batch(args, run_apply)
    if not args.notebook or not args.suggestion:
        raise UsageError("give NOTEBOOK and --suggestion FILE (or --batch IN.jsonl)")
    suggestion = _read_text(args.suggestion)
    notebook = read_notebook(args.notebook)
    try:
        diff = run_apply(wire_cells(notebook), suggestion, path=args.notebook)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if args.write and diff["ops"]:
        write_cells(args.notebook, notebook, diff["cells"])
    if args.json:
        print_json(diff)
        return 0
    for op in diff["ops"]:
        target = op.get("cell_id") or f"new cell at position {op['position'] + 1}"
        print(f"{op['op']:<7} {target}")
    for warning in diff["warnings"]:
        cell = f" [{warning['cell_id']}]" if warning.get("cell_id") else ""
        print(f"warning{cell}: {warning['message']}")
    if not diff["ops"]:
        print("no change")
    elif args.write:
        print(f"written to {args.notebook}")
    else:
        print("not written (use --write)")
    return 0


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None


def _batch(args, run_apply) -> int:
    with jsonl_output(args.out) as out:
        for number, line in read_jsonl(args.batch):
            if isinstance(line, BadLine):
                write_jsonl_error(out, number, line)
                continue
            request_id = line.get("id", number)
            try:
                # The websocket's and REST's schema and limits.
                body = protocol.from_dict(ApplyBody, line, "line")
                diff = run_apply(body.cells, body.suggestion, path=body.path)
            except ValueError as err:
                write_jsonl_error(out, request_id, err)
                continue
            write_jsonl_line(out, {"id": request_id, **diff})
    return 0
