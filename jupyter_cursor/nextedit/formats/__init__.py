"""Prompt formats of next-edit models, by name: ``get_format("jupyter-cursor")``.

Each format is a class (base.PromptFormat) with ``render``, ``stop``, ``read``/``parse`` and
``target``; adding one means a module here and a line in ``FORMATS``.
"""

from __future__ import annotations

from .base import MalformedOutput, PromptFormat, UnrepresentableEdit
from .jupyter_cursor import JupyterCursorFormat
from .sweep import SweepFormat
from .zeta import ZetaFormat

FORMATS: dict[str, type[PromptFormat]] = {
    JupyterCursorFormat.name: JupyterCursorFormat,
    ZetaFormat.name: ZetaFormat,
    SweepFormat.name: SweepFormat,
}


def get_format(name: str) -> PromptFormat:
    try:
        return FORMATS[name]()
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise ValueError(f"unknown next-edit format {name!r} (known: {known})") from None


__all__ = [
    "FORMATS",
    "JupyterCursorFormat",
    "MalformedOutput",
    "PromptFormat",
    "SweepFormat",
    "UnrepresentableEdit",
    "ZetaFormat",
    "get_format",
]
