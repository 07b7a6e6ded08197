"""``jupyter cursor export-edits``: the local next-edit log as training lines (nes_*.jsonl shape).

    jupyter cursor export-edits [--log PATH] --out OUT.jsonl [--outcomes accepted,rejected]

The log exists only when the server runs with ``c.CursorApp.nextedit_log = True``.
"""

from __future__ import annotations

import sys

from ._common import UsageError, jsonl_output, write_jsonl_line


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export-edits",
        help="turn the local log of next-edit suggestions into training data",
        description="Pair each logged suggestion with what the user did (accepted, rejected, "
        "ignored) and write lines shaped like nes_*.jsonl: 'expected' is the suggestion when "
        "accepted, no edit otherwise ('suggested' keeps it).",
    )
    parser.add_argument(
        "--log", help="the log (default: <jupyter data dir>/jupyter_cursor/nextedit_log.jsonl)"
    )
    parser.add_argument("--out", help="output JSON-lines file (default: stdout)")
    parser.add_argument(
        "--outcomes",
        default="accepted,rejected",
        help="comma-separated outcomes to export (accepted, rejected, ignored)",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..nextedit.feedback import OUTCOMES, default_log_path, export_training

    outcomes = [o.strip() for o in args.outcomes.split(",") if o.strip()]
    unknown = set(outcomes) - set(OUTCOMES)
    if unknown or not outcomes:
        raise UsageError(f"--outcomes takes {', '.join(OUTCOMES)}")
    log = args.log or default_log_path()
    try:
        lines = list(export_training(log, outcomes))
    except OSError as err:
        raise UsageError(f"cannot read {log}: {err.strerror}") from None
    with jsonl_output(args.out) as out:
        for line in lines:
            write_jsonl_line(out, line)
    print(f"{len(lines)} suggestions exported", file=sys.stderr)
    return 0
