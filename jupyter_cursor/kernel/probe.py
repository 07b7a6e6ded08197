"""What the kernel knows, read safely: the introspection expression we send (never the user's
code) and the checked, size-capped snapshot it answers.

The expression is evaluated by IPython's ``user_expressions`` of a silent execute request (no
history, no execution count, no output). It runs our probe in a private globals dict of its own, so
that nothing it defines lands in the user namespace; it only reads the namespace: each public name's
type, and for containers their length, for arrays their shape and dtype, for DataFrames (pandas and
polars) their shape and columns with dtypes, for dicts their string keys. It calls no user code
beyond those attributes of well-known types (no ``len`` or ``repr`` of arbitrary objects), and
answers one JSON text as the ``text/plain`` of an object whose ``repr`` it is.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from string import Template

MAX_NAMES = 200
MAX_COLUMNS = 200
MAX_KEYS = 50
MAX_TEXT = 120  # characters of one name, type or column
MAX_SNAPSHOT_BYTES = 256 * 1024

_PROBE = Template(r"""
import sys as _sys, json as _json, types as _types

def _short(text, n=$max_text):
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"

def _entry(name, value):
    mods = _sys.modules
    pd, pl, np = mods.get("pandas"), mods.get("polars"), mods.get("numpy")
    kind = type(value)
    entry = {"name": name, "type": _short(kind.__name__ if kind.__module__ == "builtins"
                                          else kind.__module__ + "." + kind.__qualname__)}
    if isinstance(value, _types.ModuleType):
        entry["type"], entry["module"] = "module", _short(value.__name__)
    elif pd is not None and isinstance(value, pd.DataFrame):
        entry["shape"] = list(value.shape)
        entry["columns"] = [[_short(c), _short(t)] for c, t in
                            list(value.dtypes.items())[:$max_columns]]
    elif pd is not None and isinstance(value, pd.Series):
        entry["shape"] = list(value.shape)
        entry["dtype"] = _short(value.dtype)
        if value.name is not None:
            entry["series_name"] = _short(value.name)
    elif pl is not None and isinstance(value, pl.DataFrame):
        entry["shape"] = list(value.shape)
        entry["columns"] = [[_short(c), _short(t)] for c, t in
                            list(value.schema.items())[:$max_columns]]
    elif np is not None and isinstance(value, np.ndarray):
        entry["shape"] = list(value.shape)
        entry["dtype"] = _short(value.dtype)
    elif kind in (list, tuple, set, frozenset, str, bytes, dict):
        entry["length"] = len(value)
        if kind is dict:
            entry["keys"] = [_short(k) for k in list(value)[:$max_keys] if isinstance(k, str)]
    elif isinstance(value, type):
        entry["type"] = "class"
    elif isinstance(value, (_types.FunctionType, _types.BuiltinFunctionType)):
        entry["type"] = "function"
    return entry

def _probe(ns):
    skip = {"In", "Out", "exit", "quit", "get_ipython"}
    out, size = [], 0
    for name, value in list(ns.items()):
        if name.startswith("_") or name in skip:
            continue
        try:
            entry = _entry(name, value)
        except Exception:
            entry = {"name": name, "type": "?"}
        size += len(_json.dumps(entry))
        if len(out) >= $max_names or size > $max_bytes:
            break
        out.append(entry)
    return out

class _Answer:
    def __init__(self, text):
        self.text = text
    def __repr__(self):
        return self.text

_shell = _ns["get_ipython"]()
_result = _Answer(_json.dumps({"execution_count": _shell.execution_count,
                               "variables": _probe(_shell.user_ns)}))
""").substitute(
    max_text=MAX_TEXT,
    max_columns=MAX_COLUMNS,
    max_keys=MAX_KEYS,
    max_names=MAX_NAMES,
    max_bytes=MAX_SNAPSHOT_BYTES - 4096,
)

# One expression: exec the probe in a fresh globals dict (whose builtins give it get_ipython) and
# answer its result. Nothing is assigned in the user namespace.
PROBE_EXPRESSION = (
    f"(lambda g: exec({_PROBE!r}, g) or g['_result'])"
    "({'__builtins__': __import__('builtins'), '__name__': 'jupyter_cursor_probe',"
    " '_ns': {'get_ipython': get_ipython}})"
)


@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    shape: tuple[int, ...] | None = None
    length: int | None = None
    dtype: str | None = None
    module: str | None = None
    columns: tuple[tuple[str, str], ...] = ()  # (name, dtype) of a DataFrame
    keys: tuple[str, ...] = ()  # a dict's string keys

    def describe(self) -> str:
        """One line for a prompt: ``df: DataFrame (891, 12) columns: survived int64, ...``."""
        kind = self.type.rsplit(".", 1)[-1]
        if self.module:
            return f"{self.name}: module {self.module}"
        parts = [f"{self.name}: {kind}"]
        if self.shape is not None:
            parts.append(str(tuple(self.shape)).replace(",)", ")"))
        elif self.length is not None:
            parts.append(f"len {self.length}")
        if self.dtype:
            parts.append(self.dtype)
        if self.columns:
            parts.append("columns: " + ", ".join(f"{c} {t}" for c, t in self.columns))
        if self.keys:
            parts.append("keys: " + ", ".join(self.keys))
        return " ".join(parts)


@dataclass(frozen=True)
class Snapshot:
    execution_count: int
    variables: tuple[Variable, ...] = field(default_factory=tuple)

    def names(self) -> set[str]:
        return {v.name for v in self.variables}

    def get(self, name: str) -> Variable | None:
        return next((v for v in self.variables if v.name == name), None)

    def to_dict(self) -> dict:
        """The JSON shape the probe answers (parse_snapshot reads it back)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


def _text(value, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise ValueError("a text field is not a string")
    return value[:limit]


def _ints(value) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ValueError("a shape is not a list of integers")
    return tuple(value[:8])


def parse_variable(raw: dict) -> Variable:
    if not isinstance(raw, dict):
        raise ValueError("a variable is not an object")
    length = raw.get("length")
    if length is not None and (not isinstance(length, int) or isinstance(length, bool)):
        raise ValueError("a length is not an integer")
    columns = raw.get("columns") or []
    keys = raw.get("keys") or []
    if not isinstance(columns, list) or not isinstance(keys, list):
        raise ValueError("columns or keys are not lists")
    return Variable(
        name=_text(raw.get("name")),
        type=_text(raw.get("type", "?")),
        shape=_ints(raw.get("shape")),
        length=length,
        dtype=_text(raw["dtype"]) if raw.get("dtype") is not None else None,
        module=_text(raw["module"]) if raw.get("module") is not None else None,
        columns=tuple(
            (_text(c[0]), _text(c[1]))
            for c in columns[:MAX_COLUMNS]
            if isinstance(c, list) and len(c) == 2
        ),
        keys=tuple(_text(k) for k in keys[:MAX_KEYS]),
    )


def parse_snapshot(data) -> Snapshot:
    """The probe's answer (its JSON text, or the decoded object, as a client sends it), checked:
    ValueError on anything malformed or too large."""
    if isinstance(data, str):
        if len(data) > MAX_SNAPSHOT_BYTES:
            raise ValueError("the kernel's snapshot is too large")
        try:
            data = json.loads(data)
        except ValueError:
            raise ValueError("the kernel's snapshot is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("variables"), list):
        raise ValueError("the kernel's snapshot has no variables")
    count = data.get("execution_count", 0)
    if not isinstance(count, int) or isinstance(count, bool):
        raise ValueError("the kernel's execution count is not an integer")
    variables = tuple(parse_variable(v) for v in data["variables"][:MAX_NAMES])
    return Snapshot(count, variables)


def render_variables(snapshot: Snapshot | None, max_chars: int = 1500) -> str:
    """The "variables" section of a prompt: one line per name, data first, modules last, cut at
    ``max_chars``; "" when there is nothing to say."""
    if snapshot is None:
        return ""

    def rank(var: Variable) -> int:
        if var.columns:
            return 0
        if var.shape is not None or var.length is not None:
            return 1
        return 3 if var.module else 2

    lines, size = [], 0
    for var in sorted(snapshot.variables, key=rank):
        if var.type in ("function", "class"):
            continue
        line = var.describe()[:300]
        if size + len(line) + 1 > max_chars:
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)
