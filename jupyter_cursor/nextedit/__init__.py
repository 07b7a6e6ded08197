"""Next-edit prediction: from the user's recent edits to the edit they will make next.

``predict(cells, cursor_cell, events)`` returns ``{"edits": [{"cell_id", "source"}], ...}`` with
the full new source of each cell to change, or no edit. See predictor.py.
"""

from .predictor import predict

__all__ = ["predict"]
