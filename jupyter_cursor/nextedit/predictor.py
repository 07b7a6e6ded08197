"""The deterministic next-edit predictors, and their ensemble in a fixed order.

Each predictor looks at the edit events in cells that still exist and proposes edits or nothing: a
rename carried to every place that still uses the old name (``rename``), the last change (a rename
among them) repeated at its next place (``repeat``), an earlier change repeated
(``repeat-earlier``), the import of a conventional name the last edit started to use
(``import``, imports.py). By default
(what the server runs) the learned filter and ranker of ranker.py picks among every predictor's
candidates, or shows nothing; the import rule answers after it (the data cannot rank it). With
``rules_only`` (or an explicit ``order``) the first in ``SHIPPED`` (or ``order``) that answers is the
suggestion. With none, nothing is shown (an empty ``edits``): a wrong suggestion costs the user
more than none. benchmarks/eval_nextedit.py measures each predictor, orders of them and the
ranker; the model answers after these (service.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from .imports import missing_import
from .ranker import current_ranker, rank
from .rename import carry, detect_rename
from .repeat import repeat_next

# (cells, cursor cell id, the events in cells that still exist (oldest first, never empty),
# cursor offset) -> edits
Predictor = Callable[[Sequence[dict], str, Sequence[dict], int], list]


def rename_everywhere(cells, cursor_cell, events, offset) -> list[dict]:
    rename = detect_rename(events[-1]["before"], events[-1]["after"])
    return carry(rename, cells) if rename else []


def repeat(cells, cursor_cell, events, offset) -> list[dict]:
    return repeat_next(events[-1], cells, cursor_cell, offset)


def repeat_earlier(cells, cursor_cell, events, offset) -> list[dict]:
    """An earlier edit repeated at its next place, newest first: the user may have made another
    change in between (nes_dev: +0.9 point of exact match after ``repeat``)."""
    for event in reversed(events[:-1]):
        edits = repeat_next(event, cells, cursor_cell, offset)
        if edits:
            return edits
    return []


def add_import(cells, cursor_cell, events, offset) -> list[dict]:
    return missing_import(cells, events[-1])


PREDICTORS: dict[str, Predictor] = {
    "rename": rename_everywhere,
    "repeat": repeat,
    "repeat-earlier": repeat_earlier,
    "import": add_import,
}
# Measured on nes_dev and nes_train: ``repeat`` (which carries a rename to its next place) is right
# more often than ``rename`` before it, and never less; ``repeat-earlier`` after it adds a little.
# ``import`` comes last: the data's next edits run top to bottom, so an import (above its use)
# is almost never one of them; it is there for the notebook user who writes ``pd.read_csv``
# before ``import pandas as pd``.
SHIPPED = ("repeat", "repeat-earlier", "import")
# Predictors that know one language, and the languages they know ("" is a client that cannot
# tell, served as before the field existed).
LANGUAGES = {"import": ("", "python")}
# Predictors whose suggestion, once accepted, sends the cursor back to where the user was typing:
# an import lands far above the line that needed it.
RETURNS_CURSOR = {"import"}
# Rules the ranker does not rank, asked in this order when it shows nothing.
AFTER_RANKER = ("import",)


def predict(
    cells: Sequence[dict],
    cursor_cell: str,
    events: Sequence[dict],
    cursor_offset: int = 0,
    order: Sequence[str] | None = None,
    language: str = "",
    rules_only: bool = False,
) -> dict:
    """{"edits": [{"cell_id", "source"}], "predictor", "returns_cursor", "timings"} for the next
    edit (``returns_cursor``: once accepted, the cursor goes back where the user typed); ``language``
    (the kernel's or the file's) leaves out the predictors of other languages. The ranker decides
    unless ``rules_only`` or an ``order`` of rules is given (or no ranker ships)."""
    started = time.perf_counter()
    edits: list[dict] = []
    predictor = None
    live = {cell["id"] for cell in cells}
    # Edits in cells since deleted say nothing about the cells left.
    events = [e for e in events if e["cell_id"] in live]
    # The user's refitted weights when there are (ranker.current_ranker), else the shipped ones.
    ranker = None if rules_only or order is not None else current_ranker()
    if ranker is not None and events:
        chosen, _ = rank(cells, cursor_cell, events, cursor_offset, ranker)
        if chosen is not None:
            edits, predictor = chosen.edits, chosen.generators[0]
        order = AFTER_RANKER
    if events and not edits:
        for name in order if order is not None else SHIPPED:
            known = LANGUAGES.get(name)
            if known is not None and language.lower() not in known:
                continue
            edits = PREDICTORS[name](cells, cursor_cell, events, cursor_offset)
            if edits:
                predictor = name
                break
    total = (time.perf_counter() - started) * 1000
    return {
        "edits": edits,
        "predictor": predictor,
        "returns_cursor": predictor in RETURNS_CURSOR,
        "timings": {
            "queue_ms": 0.0,
            "prefill_ms": 0.0,
            "decode_ms": 0.0,
            "total_ms": round(total, 3),
        },
    }
