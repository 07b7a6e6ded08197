"""``jupyter cursor refit-filter``: the next-edit filter refitted on the user's own suggestion log,
on this machine (nothing leaves it).

    jupyter cursor refit-filter [--log PATH] [--out PATH] [--dry-run] [--json]
                                [--prior-strength 300] [--ignored-weight 0.5]
    jupyter cursor refit-filter --reset

The log exists only while the server runs with ``c.CursorApp.nextedit_log = True``. The weights go
to ``<jupyter data dir>/jupyter_cursor/nextedit_filter.json``, which the server's ranker reads in
preference to the shipped weights from its next suggestion on; ``--reset`` deletes that file (back
to the shipped filter). nextedit/refit.py says what is learnt and how.
"""

from __future__ import annotations

import sys

from ._common import UsageError, print_json


def register(subparsers) -> None:
    from ..nextedit.refit import DEFAULT_IGNORED_WEIGHT, DEFAULT_PRIOR_STRENGTH

    parser = subparsers.add_parser(
        "refit-filter",
        help="refit the next-edit filter on your own accepted and rejected suggestions (local)",
        description="Refit the learned next-edit filter on the suggestions you accepted, rejected "
        "or ignored (the opt-in suggestion log, c.CursorApp.nextedit_log = True), starting from "
        "the shipped weights. Runs on this machine; nothing is sent anywhere. The server uses "
        "your weights from its next suggestion on; --reset goes back to the shipped ones.",
    )
    parser.add_argument(
        "--log", help="the log (default: <jupyter data dir>/jupyter_cursor/nextedit_log.jsonl)"
    )
    parser.add_argument(
        "--out",
        help="where to write the weights (default: <jupyter data dir>/jupyter_cursor/"
        "nextedit_filter.json, the only file the server reads)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would be learnt; write nothing"
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="delete your refitted weights (or --out's file): back to the shipped filter",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--prior-strength",
        type=float,
        default=DEFAULT_PRIOR_STRENGTH,
        help="how strongly the weights are held to the shipped ones (default: "
        f"{DEFAULT_PRIOR_STRENGTH:g}; higher: your suggestions move them less)",
    )
    parser.add_argument(
        "--ignored-weight",
        type=float,
        default=DEFAULT_IGNORED_WEIGHT,
        help="weight of a suggestion typed past (ignored) as a negative, next to 1 for one "
        f"dismissed with Escape (default: {DEFAULT_IGNORED_WEIGHT:g}; 0 leaves them out)",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..nextedit.feedback import LogError, default_log_path
    from ..nextedit.refit import RefitError, refit, reset, write_weights

    if args.reset:
        if args.dry_run or args.log:
            raise UsageError("--reset takes no --log or --dry-run")
        removed = reset(args.out)
        if removed is None:
            print("no refitted next-edit filter to remove: the shipped one is in use")
        else:
            print(f"removed {removed}: the server uses the shipped next-edit filter again")
        return 0
    if not 0.0 <= args.ignored_weight <= 1.0:
        raise UsageError("--ignored-weight takes a number from 0 to 1")
    if args.prior_strength <= 0:
        raise UsageError("--prior-strength takes a number above 0")
    log = args.log or default_log_path()
    try:
        model, report = refit(log, args.prior_strength, args.ignored_weight)
    except (LogError, RefitError) as err:
        raise UsageError(str(err)) from None
    written = None
    if not args.dry_run:
        try:
            written = write_weights(model, args.out)
        except OSError as err:
            raise UsageError(f"cannot write {args.out or 'the weights'}: {err.strerror}") from None
    if args.json:
        print_json(
            {
                "written": str(written) if written else None,
                "suggestions": report.suggestions,
                "learnt": dict(report.learnt),
                "skipped": dict(report.skipped),
                "threshold": [report.threshold_before, report.threshold_after],
                "reward_per_suggestion": [report.reward_before, report.reward_after],
                "model": model,
            }
        )
        return 0
    print(report.summary())
    if written is None:
        print("dry run: nothing written")
    else:
        print(
            f"wrote {written}: the server uses it from its next suggestion on "
            "('jupyter cursor refit-filter --reset' goes back to the shipped filter)",
            file=sys.stdout,
        )
    return 0
