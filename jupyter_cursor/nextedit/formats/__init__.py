"""Prompt formats of next-edit models, by name: ``get_format("jupyter-cursor")``.

Each format is a class (base.PromptFormat) with ``render``, ``stop``, ``read``/``parse`` and
``target``; adding one means a module here and a line in ``FORMATS``.
"""

from __future__ import annotations

from .base import MalformedOutput, PromptFormat, UnrepresentableEdit
from .instinct import InstinctFormat
from .jupyter_cursor import JupyterCursorFormat
from .sweep import SweepFormat
from .sweep_local import SweepLocalFormat
from .zeta import ZetaFormat
from .zeta2 import Zeta2Format, Zeta21Format

FORMATS: dict[str, type[PromptFormat]] = {
    fmt.name: fmt
    for fmt in (
        JupyterCursorFormat,
        ZetaFormat,
        Zeta2Format,
        Zeta21Format,
        InstinctFormat,
        SweepFormat,
        SweepLocalFormat,
    )
}


def get_format(name: str) -> PromptFormat:
    try:
        return FORMATS[name]()
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise ValueError(f"unknown next-edit format {name!r} (known: {known})") from None


__all__ = [
    "FORMATS",
    "InstinctFormat",
    "JupyterCursorFormat",
    "MalformedOutput",
    "PromptFormat",
    "SweepFormat",
    "SweepLocalFormat",
    "UnrepresentableEdit",
    "Zeta21Format",
    "Zeta2Format",
    "ZetaFormat",
    "get_format",
]
