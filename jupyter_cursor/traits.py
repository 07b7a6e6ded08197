"""Traits of CursorApp's configuration that the command line can set as JSON.

traitlets reads ``--CursorApp.providers=...`` item by item as strings, so a list of dicts given
on the command line was rejected ("expected a dict, not the str") and the option silently dropped.
``JsonList`` reads a command-line value as JSON (a list, or one object per repeated option); one
that is not JSON becomes an error item that the feature reports where the user looks (the status
item, the chat panel) instead of a warning in the log.
"""

from __future__ import annotations

import json

from traitlets import List

# The key of the item that stands for a command-line value that could not be read.
CONFIG_ERROR = "__config_error__"


class JsonList(List):
    """A list trait whose command-line value is JSON: ``--X.y='[{"a": 1}]'`` or one
    ``--X.y='{"a": 1}'`` per item."""

    def from_string(self, s: str):
        # A server extension's option on `jupyter lab`'s command line reaches it as one string.
        return self.from_string_list([s])

    def from_string_list(self, s_list: list[str]):
        name = f"--{self.this_class.__name__}.{self.name}" if self.this_class else self.name
        items: list = []
        for text in s_list:
            try:
                value = json.loads(text)
            except ValueError as err:
                return [{CONFIG_ERROR: f"{name} is not valid JSON ({err.msg} at {err.pos})"}]
            items.extend(value if isinstance(value, list) else [value])
        return items


def config_error(items: list) -> str | None:
    """The message of a command-line value that could not be read, if ``items`` holds one."""
    for item in items:
        if isinstance(item, dict) and CONFIG_ERROR in item:
            return str(item[CONFIG_ERROR])
    return None
