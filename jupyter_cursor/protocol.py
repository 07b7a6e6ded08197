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
import json
import types
import typing
from typing import Any, ClassVar, Literal

PROTOCOL_VERSION = 1
MAX_ID_LENGTH = 128


class ErrorCode:
    BAD_JSON = "bad_json"
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
    id: str
    cell_type: CellType
    source: str


@dataclasses.dataclass(frozen=True)
class Cursor:
    cell_id: str
    offset: int


@dataclasses.dataclass(frozen=True)
class EditEvent:
    cell_id: str
    before: str
    after: str


# -- requests ----------------------------------------------------------------------------------------

REQUEST_TYPES: dict[str, type] = {}


def request(type_name: str):
    """Register a dataclass as the schema of the client message ``type_name``."""

    def register(cls):
        cls = dataclasses.dataclass(frozen=True)(cls)
        cls.TYPE = type_name
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


def _check(value: Any, annotation: Any, where: str) -> Any:
    """Validate ``value`` against a type annotation, building nested dataclasses."""
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return value
    if origin is Literal:
        if value not in typing.get_args(annotation):
            allowed = ", ".join(repr(a) for a in typing.get_args(annotation))
            raise ValueError(f"{where} must be one of {allowed}")
        return value
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in typing.get_args(annotation):
            try:
                return _check(value, option, where)
            except ValueError as err:
                errors.append(str(err))
        raise ValueError(errors[0] if errors else f"{where} has the wrong type")
    if annotation is type(None):
        if value is not None:
            raise ValueError(f"{where} must be null")
        return None
    if origin is list:
        if not isinstance(value, list):
            raise ValueError(f"{where} must be a list")
        (item,) = typing.get_args(annotation)
        return [_check(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{where} must be an object")
        _, item = typing.get_args(annotation)
        return {str(k): _check(v, item, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(annotation):
        return from_dict(annotation, value, where)
    if annotation is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be a boolean")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where} must be an integer")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where} must be a number")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ValueError(f"{where} must be a string")
        return value
    raise TypeError(f"unsupported annotation {annotation!r} at {where}")


def from_dict(cls: type, data: Any, where: str = "message") -> Any:
    """Build the dataclass ``cls`` from JSON data; unknown keys are ignored, missing ones refused."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be an object")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):
        if field.name in data:
            kwargs[field.name] = _check(data[field.name], hints[field.name], f"{where}.{field.name}")
        elif (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        ):
            raise ValueError(f"{where}.{field.name} is required")
    return cls(**kwargs)


def to_dict(obj: Any) -> Any:
    """JSON-ready form of a protocol dataclass (or of plain JSON data)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def parse_request(raw: str | bytes, max_bytes: int) -> Any:
    """Validate one raw client message; raise :class:`ProtocolError` when it cannot be served."""
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise ProtocolError(
            ErrorCode.TOO_LARGE, f"message of {size} bytes is over the limit of {max_bytes} bytes"
        )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise ProtocolError(ErrorCode.BAD_JSON, f"message is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "message must be a JSON object")
    request_id = data.get("id")
    if not isinstance(request_id, str) or not 0 < len(request_id) <= MAX_ID_LENGTH:
        raise ProtocolError(
            ErrorCode.BAD_MESSAGE, f"message.id must be a string of 1 to {MAX_ID_LENGTH} characters"
        )
    type_name = data.get("type")
    cls = REQUEST_TYPES.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        known = ", ".join(sorted(REQUEST_TYPES))
        raise ProtocolError(
            ErrorCode.UNKNOWN_TYPE, f"unknown message type {type_name!r} (known: {known})", request_id
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
    return {"type": "error", "id": request_id, "error": {"code": code, "message": message}}


def cancelled_reply(request_id: str) -> dict:
    return {"type": "cancelled", "id": request_id}


def event_message(event: str, data: Any) -> dict:
    return {"type": "event", "event": event, "data": to_dict(data)}
