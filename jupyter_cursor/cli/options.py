"""``jupyter cursor options``: every server option of CursorApp with its help (``jupyter lab
--help-all`` does not list a server extension's options)."""

from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "options",
        help="list the server options (c.CursorApp.<name>) with their defaults and help",
        description="Every option of the CursorApp server extension, as traitlets documents it: "
        "set them in jupyter_server_config.py or on the command line (--CursorApp.<name>=...; "
        "lists and dicts as JSON).",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..app import CursorApp

    print(CursorApp.class_get_help())
    return 0
