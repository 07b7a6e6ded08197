"""Notebook-wide refactor: one instruction, a foundation model, the apply engine, and checks
(syntax, names no longer defined) before the user reviews the result."""

from .checks import CellWarning, check_change
from .service import RefactorService

__all__ = ["CellWarning", "RefactorService", "check_change"]
