"""The deterministic next-edit predictors, and their ensemble in a fixed order.

Each predictor looks at the newest edit event in a cell that still exists and proposes edits or
nothing: a rename carried to every place that still uses the old name (``rename``), the last change
(a rename among them) repeated at its next place (``repeat``). The first in
``SHIPPED`` that answers is the suggestion; with none, nothing is shown (an empty ``edits``): a wrong
suggestion costs the user more than none. benchmarks/eval_nextedit.py measures each predictor and
orders of them; the model answers after these (service.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from .rename import carry, detect_rename
from .repeat import repeat_next

# (cells, cursor cell id, newest live event, cursor offset) -> edits
Predictor = Callable[[Sequence[dict], str, dict, int], list]


def rename_everywhere(cells, cursor_cell, event, offset) -> list[dict]:
    rename = detect_rename(event["before"], event["after"])
    return carry(rename, cells) if rename else []


def repeat(cells, cursor_cell, event, offset) -> list[dict]:
    return repeat_next(event, cells, cursor_cell, offset)


PREDICTORS: dict[str, Predictor] = {
    "rename": rename_everywhere,
    "repeat": repeat,
}
# Measured on nes_dev and nes_train: ``repeat`` alone (which carries a rename to its next place) is
# right more often than with ``rename`` before it, and never less.
SHIPPED = ("repeat",)


def predict(cells: Sequence[dict], cursor_cell: str, events: Sequence[dict], cursor_offset: int = 0,
            order: Sequence[str] = SHIPPED) -> dict:
    """{"edits": [{"cell_id", "source"}], "predictor", "timings"} for the next edit."""
    started = time.perf_counter()
    edits: list[dict] = []
    predictor = None
    live = {cell["id"] for cell in cells}
    # The newest event in a cell that still exists is the edit to follow.
    event = next((e for e in reversed(events) if e["cell_id"] in live), None)
    if event is not None:
        for name in order:
            edits = PREDICTORS[name](cells, cursor_cell, event, cursor_offset)
            if edits:
                predictor = name
                break
    total = (time.perf_counter() - started) * 1000
    return {
        "edits": edits,
        "predictor": predictor,
        "timings": {"queue_ms": 0.0, "prefill_ms": 0.0, "decode_ms": 0.0, "total_ms": round(total, 3)},
    }
