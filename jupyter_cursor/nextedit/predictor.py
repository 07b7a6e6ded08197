"""Next-edit prediction from the request of DESIGN.md: cells, cursor, recent edit events.

Two deterministic predictors, in order: a rename carried to the other places it applies (every
cell), then the last edit repeated at its next place in the same cell. The first that answers is
the suggestion; with neither, nothing is shown (an empty ``edits``): a wrong suggestion costs the
user more than none. The order is measured in benchmarks/eval_nextedit.py. The model predictor
joins them when the model runtime lands.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from .rename import carry, detect_rename
from .repeat import repeat_edit


def predict(
    cells: Sequence[dict], cursor_cell: str, events: Sequence[dict], cursor_offset: int = 0
) -> dict:
    """{"edits": [{"cell_id", "source"}], "predictor", "timings"} for the next edit."""
    started = time.perf_counter()
    edits: list[dict] = []
    predictor = None
    live = {cell["id"] for cell in cells}
    # The newest event in a cell that still exists is the edit to follow.
    for event in reversed(events):
        if event["cell_id"] in live:
            rename = detect_rename(event["before"], event["after"])
            if rename is not None:
                edits = carry(rename, cells)
                predictor = "rename" if edits else None
            if not edits and event["cell_id"] == cursor_cell:
                source = next(c["source"] for c in cells if c["id"] == cursor_cell)
                repeated = repeat_edit(event, source, cursor_offset)
                if repeated is not None:
                    edits = [{"cell_id": cursor_cell, "source": repeated}]
                    predictor = "repeat"
            break
    total = (time.perf_counter() - started) * 1000
    return {
        "edits": edits,
        "predictor": predictor,
        "timings": {"queue_ms": 0.0, "prefill_ms": 0.0, "decode_ms": 0.0, "total_ms": round(total, 3)},
    }
