"""The next-edit model's recipe: corpus → tokenizer → pretraining → next-edit fine-tuning → export.

Run the steps with ``python -m models.recipe STEP`` from the repository root (see models/README.md).
Everything a step writes goes under ``models/runs/`` (git-ignored), except ``export``, which writes the
shipped default into ``jupyter_cursor/models/default/``.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "models" / "runs"
SHIPPED = REPO / "jupyter_cursor" / "models" / "default"
DATA = REPO.parent / "shared" / "data"
