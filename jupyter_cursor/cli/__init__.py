"""``jupyter cursor <verb>``: the command-line face of every engine.

Each verb lives in its own module with ``register(subparsers)``, which adds a subparser whose
``func`` default runs the verb and returns the exit status.
"""

from __future__ import annotations

import argparse
import sys

from .._version import __version__
from . import apply, export_edits, index, options, predict, refactor, refit_filter, status
from ._common import UsageError

VERB_MODULES = [status, options, index, apply, refactor, predict, export_edits, refit_filter]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter cursor",
        description="jupyter_cursor: next-edit predictions, workspace search and exact apply.",
    )
    parser.add_argument("--version", action="version", version=f"jupyter_cursor {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in VERB_MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130
    except UsageError as err:
        print(f"jupyter cursor: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
