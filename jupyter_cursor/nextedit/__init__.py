"""Next-edit prediction: from the user's recent edits to the edit they will make next.

- ``predictor.predict(cells, cursor_cell, events, offset)``: the deterministic predictors (the last
  edit repeated at its next place; a rename carried everywhere, measured but not shipped);
- ``context.build_context(request)``: the editable region, neighbouring cells, recent diffs;
- ``notebook_file``: a notebook as one ``# %%`` file for models trained on files;
- ``formats.get_format(name)``: prompt formats (``jupyter-cursor``, ``zeta``, ``zeta2``,
  ``zeta2.1``, ``instinct``, ``sweep``, ``sweep-autocomplete``);
- ``model.ModelPredictor``: a format over the model runtime, streamed and gated;
- ``service.NextEditService``: the ensemble the websocket and the CLI call;
- ``feedback``: the opt-in local log of shown suggestions and ``export-edits``.

Edits are ``{"cell_id", "source"}`` with the full new source of each changed cell; none means
"no suggestion".
"""

from .predictor import predict

__all__ = ["predict"]
