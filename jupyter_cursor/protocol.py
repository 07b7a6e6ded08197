"""The wire protocol: message and request schemas shared by handlers, CLI and engines.

Every client message is a JSON object ``{"type": ..., "id": ..., **fields}``. The server answers
each request with exactly one terminal reply carrying the same ``id``:

- ``{"type": "result", "id", "result": {...}}``
- ``{"type": "error", "id", "error": {"code", "message"}}``  (``id`` is null when unreadable)
- ``{"type": "cancelled", "id"}``

and, for streaming requests, any number of ``{"type": "partial", "id", "data": {...}}`` before it.
The server also pushes ``{"type": "event", "event": "status", "data": {...}}`` when its state
changes. ``{"type": "cancel", "id", "target": "<id>"}`` cancels the request with id ``target``.

Request types are dataclasses registered with :func:`request`; :func:`parse_request` validates a raw
message against them, so handlers and engines only ever see well-typed objects.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal

from .redaction import redact

PROTOCOL_VERSION = 1

# -- limits ------------------------------------------------------------------------------------------
# Every field of every request is bounded, and the bounds live here, with the schemas, so the
# websocket, the REST handlers and the CLI's batch lines (which all validate with from_dict) refuse
# the same things. A string field without a bound of its own gets MAX_SHORT_CHARS.
MAX_ID_LENGTH = 128  # a message id, a cell id, a session id
MAX_SHORT_CHARS = 4096  # names, languages, paths
MAX_QUERY_CHARS = 2000  # a search query
MAX_SOURCE_CHARS = 400_000  # one cell's source, one edit event's text
MAX_TEXT_CHARS = 100_000  # what a person types: a chat message, a refactor instruction
MAX_SUGGESTION_CHARS = 1_000_000  # a model's answer handed to apply
MAX_CELLS = 20_000  # cells in one request
MAX_EVENTS = 1000  # edit events in one next-edit request
MAX_INT = 2**53 - 1  # JSON's safe integers: what a browser can send exactly
MAX_DEPTH = 64  # JSON nesting: a request is a few levels deep


@dataclasses.dataclass(frozen=True)
class MaxLen:
    """``Annotated[str, MaxLen(n)]`` (or a list or dict): at most ``n`` characters (items)."""

    limit: int


ShortText = Annotated[str, MaxLen(MAX_SHORT_CHARS)]
Identifier = Annotated[str, MaxLen(MAX_ID_LENGTH)]
Source = Annotated[str, MaxLen(MAX_SOURCE_CHARS)]
Text = Annotated[str, MaxLen(MAX_TEXT_CHARS)]


class ErrorCode:
    BAD_JSON = "bad_json"
    BUSY = "busy"
    BAD_MESSAGE = "bad_message"
    UNKNOWN_TYPE = "unknown_type"
    TOO_LARGE = "too_large"
    DUPLICATE_ID = "duplicate_id"
    NOT_CONFIGURED = "not_configured"
    INTERNAL = "internal"


class ProtocolError(Exception):
    """A request that cannot be served; becomes an error reply."""

    def __init__(self, code: str, message: str, request_id: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


# -- shared shapes ---------------------------------------------------------------------------------

CellType = Literal["code", "markdown", "raw"]


@dataclasses.dataclass(frozen=True)
class Cell:
    id: Identifier
    cell_type: CellType
    source: Source


Cells = Annotated[list[Cell], MaxLen(MAX_CELLS)]


def cell_dicts(cells: typing.Iterable[Any]) -> list[dict]:
    """Cells as new dicts ``{"id", "cell_type", "source"}`` (the id a string), from :class:`Cell`
    (the websocket's, REST's) or from dicts of that shape (the CLI's, tests')."""
    return [
        {"id": str(cell["id"]), "cell_type": cell["cell_type"], "source": cell["source"]}
        if isinstance(cell, dict)
        else {"id": str(cell.id), "cell_type": cell.cell_type, "source": cell.source}
        for cell in cells
    ]


@dataclasses.dataclass(frozen=True)
class Cursor:
    cell_id: Identifier
    offset: int


@dataclasses.dataclass(frozen=True)
class EditEvent:
    cell_id: Identifier
    before: Source
    after: Source


# -- requests ----------------------------------------------------------------------------------------

REQUEST_TYPES: dict[str, type] = {}


DEFAULT_MAX_IN_FLIGHT = 4


def request(type_name: str, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT):
    """Register a dataclass as the schema of the client message ``type_name``; one connection may
    have at most ``max_in_flight`` of them running at once (more are answered ``busy``)."""

    def register(cls):
        cls = dataclasses.dataclass(frozen=True)(cls)
        cls.TYPE = type_name
        cls.MAX_IN_FLIGHT = max_in_flight
        REQUEST_TYPES[type_name] = cls
        return cls

    return register


@request("ping")
class Ping:
    TYPE: ClassVar[str]
    id: str


@request("status")
class StatusRequest:
    TYPE: ClassVar[str]
    id: str


@request("cancel")
class Cancel:
    TYPE: ClassVar[str]
    id: str
    target: str


# -- parsing -------------------------------------------------------------------------------------------


# A validator takes (value, where) and returns the value as the schema wants it (nested
# dataclasses built), or raises ValueError naming ``where``. One is built per annotation, once: a
# 3,000-cell message is validated on the event loop, and dispatching on the annotation for each
# cell's each field took most of the time.
Validator = Callable[[Any, str], Any]


def _check(value: Any, annotation: Any, where: str) -> Any:
    """Validate ``value`` against a type annotation, building nested dataclasses."""
    return _validator(annotation)(value, where)


@functools.cache
def _validator(annotation: Any) -> Validator:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        inner, *extras = typing.get_args(annotation)
        limit = next((e.limit for e in extras if isinstance(e, MaxLen)), None)
        return _build(inner, limit)
    return _build(annotation, None)


def _build(annotation: Any, limit: int | None) -> Validator:  # noqa: C901 (one case a kind)
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return lambda value, where: value
    if origin is Literal:
        allowed = typing.get_args(annotation)
        shown = ", ".join(repr(a) for a in allowed)

        def literal(value, where):
            if value not in allowed:
                raise ValueError(f"{where} must be one of {shown}")
            return value

        return literal
    if origin in (typing.Union, types.UnionType):
        options = [_validator(option) for option in typing.get_args(annotation)]

        def union(value, where):
            errors = []
            for option in options:
                try:
                    return option(value, where)
                except ValueError as err:
                    errors.append(str(err))
            # The error of the option that matched the value's kind (not null's "must be null").
            errors = [e for e in errors if not e.endswith("must be null")] or errors
            raise ValueError(errors[0] if errors else f"{where} has the wrong type")

        return union
    if annotation is type(None):

        def null(value, where):
            if value is not None:
                raise ValueError(f"{where} must be null")
            return None

        return null
    if origin is list:
        (item_annotation,) = typing.get_args(annotation)
        item = _validator(item_annotation)

        def a_list(value, where):
            if not isinstance(value, list):
                raise ValueError(f"{where} must be a list")
            if limit is not None and len(value) > limit:
                raise ValueError(f"{where} has more than {limit} items")
            return [item(v, f"{where}[{i}]") for i, v in enumerate(value)]

        return a_list
    if origin is dict:
        key_annotation, item_annotation = typing.get_args(annotation)
        key, item = _validator(key_annotation), _validator(item_annotation)

        def a_dict(value, where):
            if not isinstance(value, dict):
                raise ValueError(f"{where} must be an object")
            if limit is not None and len(value) > limit:
                raise ValueError(f"{where} has more than {limit} entries")
            return {key(k, f"{where} key"): item(v, f"{where}.{k}") for k, v in value.items()}

        return a_dict
    if dataclasses.is_dataclass(annotation):
        return lambda value, where: from_dict(annotation, value, where)
    if annotation is bool:

        def a_bool(value, where):
            if not isinstance(value, bool):
                raise ValueError(f"{where} must be a boolean")
            return value

        return a_bool
    if annotation is int:

        def an_int(value, where):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{where} must be an integer")
            if not -MAX_INT <= value <= MAX_INT:
                raise ValueError(f"{where} is out of range (at most {MAX_INT} in size)")
            return value

        return an_int
    if annotation is float:

        def a_float(value, where):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{where} must be a number")
            if isinstance(value, int) and not -MAX_INT <= value <= MAX_INT:
                raise ValueError(f"{where} is out of range (at most {MAX_INT} in size)")
            return float(value)

        return a_float
    if annotation is str:
        most = MAX_SHORT_CHARS if limit is None else limit

        def a_str(value, where):
            if not isinstance(value, str):
                raise ValueError(f"{where} must be a string")
            if len(value) > most:
                raise ValueError(f"{where} is longer than {most} characters")
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:  # a lone surrogate: JSON can carry it, nothing else can
                    raise ValueError(f"{where} is not valid Unicode (a lone surrogate)") from None
            return value

        return a_str
    raise TypeError(f"unsupported annotation {annotation!r}")


@functools.cache
def _schema(cls: type) -> tuple[tuple[str, Validator, bool], ...]:
    """(name, validator, required) of each field: type hints are costly to resolve per cell."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return tuple(
        (
            field.name,
            _validator(hints[field.name]),
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING,
        )
        for field in dataclasses.fields(cls)
    )


def from_dict(cls: type, data: Any, where: str = "message") -> Any:
    """Build the dataclass ``cls`` from JSON data; unknown keys are ignored, missing ones refused."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be an object")
    kwargs = {}
    for name, validate, required in _schema(cls):
        if name in data:
            kwargs[name] = validate(data[name], f"{where}.{name}")
        elif required:
            raise ValueError(f"{where}.{name} is required")
    return cls(**kwargs)


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def to_dict(obj: Any) -> Any:
    """JSON-ready form of a protocol dataclass (or of plain JSON data)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {name: to_dict(getattr(obj, name)) for name in _field_names(type(obj))}
    if isinstance(obj, str):
        return obj
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def loads(raw: str | bytes) -> Any:
    """JSON text to data, or a ``bad_json`` ProtocolError, also for nesting deeper than MAX_DEPTH
    (JSON a thousand levels deep would otherwise end in a RecursionError)."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise ProtocolError(ErrorCode.BAD_JSON, f"message is not valid JSON: {err}") from None
    except RecursionError:
        data = None
        depth = MAX_DEPTH + 1
    else:
        depth = _depth(data)
    if depth > MAX_DEPTH:
        raise ProtocolError(
            ErrorCode.BAD_JSON, f"message is nested more than {MAX_DEPTH} levels deep"
        )
    return data


def _depth(data: Any) -> int:
    """How deep ``data`` nests, counting iteratively (a recursive count would overflow too)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((item, depth + 1) for item in value)
    return deepest


def parse_body(cls: type, raw: str | bytes, max_bytes: int) -> Any:
    """A REST body (a request without the websocket's envelope) as the dataclass ``cls``, with the
    websocket's limits: ProtocolError when it cannot be served."""
    _check_size(raw, max_bytes)
    try:
        return from_dict(cls, loads(raw), "request")
    except ValueError as err:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, str(err)) from None


def _check_size(raw: str | bytes, max_bytes: int) -> None:
    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise ProtocolError(
            ErrorCode.TOO_LARGE, f"message of {size} bytes is over the limit of {max_bytes} bytes"
        )


def parse_request(raw: str | bytes, max_bytes: int) -> Any:
    """Validate one raw client message; raise :class:`ProtocolError` when it cannot be served."""
    _check_size(raw, max_bytes)
    data = loads(raw)
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "message must be a JSON object")
    request_id = data.get("id")
    try:
        if request_id == "":
            raise ValueError
        _check(request_id, Identifier, "message.id")
    except ValueError:
        raise ProtocolError(
            ErrorCode.BAD_MESSAGE, f"message.id must be a string of 1 to {MAX_ID_LENGTH} characters"
        ) from None
    type_name = data.get("type")
    cls = REQUEST_TYPES.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        known = ", ".join(sorted(REQUEST_TYPES))
        shown = repr(type_name) if len(repr(type_name)) <= 80 else repr(type_name)[:77] + "..."
        raise ProtocolError(
            ErrorCode.UNKNOWN_TYPE, f"unknown message type {shown} (known: {known})", request_id
        )
    try:
        return from_dict(cls, data)
    except ValueError as err:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, str(err), request_id) from None


# -- replies -------------------------------------------------------------------------------------------


def result_reply(request_id: str, result: Any) -> dict:
    return {"type": "result", "id": request_id, "result": to_dict(result)}


def partial_reply(request_id: str, data: Any) -> dict:
    return {"type": "partial", "id": request_id, "data": to_dict(data)}


def error_reply(request_id: str | None, code: str, message: str) -> dict:
    # An engine's message can quote what a server said, and servers quote keys back.
    return {"type": "error", "id": request_id, "error": {"code": code, "message": redact(message)}}


def cancelled_reply(request_id: str) -> dict:
    return {"type": "cancelled", "id": request_id}


def event_message(event: str, data: Any) -> dict:
    return {"type": "event", "event": event, "data": to_dict(data)}
