"""The line every benchmark's report gives for the machine it ran on."""

from __future__ import annotations

import os
import platform


def machine() -> str:
    """'2 × <CPU model name>, Python 3.x.y' (the model name from /proc/cpuinfo where there is one)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} × {cpu}, Python {platform.python_version()}"
