"""Models shipped inside the package: the embedded next-edit default (recipe in the repository's
models/ folder, model card in default/README.md)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL_DIR = Path(__file__).parent / "default"


def default_model_path() -> Path | None:
    """The embedded default model's folder, or None when this build ships none."""
    return DEFAULT_MODEL_DIR if (DEFAULT_MODEL_DIR / "config.json").is_file() else None
