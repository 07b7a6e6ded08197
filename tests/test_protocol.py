import json

import pytest

from jupyter_cursor import protocol
from jupyter_cursor.protocol import ErrorCode, ProtocolError

LIMIT = 10_000


def parse(obj, limit=LIMIT):
    return protocol.parse_request(json.dumps(obj) if not isinstance(obj, str) else obj, limit)


def test_parses_known_request_into_its_dataclass():
    req = parse({"type": "cancel", "id": "c1", "target": "r7", "extra": 1})
    assert isinstance(req, protocol.Cancel)
    assert (req.id, req.target) == ("c1", "r7")


@pytest.mark.parametrize(
    "raw, code, request_id",
    [
        ("{not json", ErrorCode.BAD_JSON, None),
        ("[1, 2]", ErrorCode.BAD_MESSAGE, None),
        ({"type": "ping"}, ErrorCode.BAD_MESSAGE, None),
        ({"type": "ping", "id": ""}, ErrorCode.BAD_MESSAGE, None),
        ({"type": "ping", "id": "x" * 129}, ErrorCode.BAD_MESSAGE, None),
        ({"type": "launch_missiles", "id": "a"}, ErrorCode.UNKNOWN_TYPE, "a"),
        ({"id": "a"}, ErrorCode.UNKNOWN_TYPE, "a"),
        ({"type": "cancel", "id": "a"}, ErrorCode.BAD_MESSAGE, "a"),
        ({"type": "cancel", "id": "a", "target": 5}, ErrorCode.BAD_MESSAGE, "a"),
    ],
)
def test_rejects_bad_messages_with_a_code_and_the_id_when_readable(raw, code, request_id):
    with pytest.raises(ProtocolError) as info:
        parse(raw)
    assert info.value.code == code
    assert info.value.request_id == request_id


def test_size_limit_is_checked_in_bytes_before_parsing():
    message = json.dumps({"type": "ping", "id": "a", "pad": "é" * 40}, ensure_ascii=False)
    assert len(message) < 100 < len(message.encode())
    with pytest.raises(ProtocolError) as info:
        protocol.parse_request(message, 100)
    assert info.value.code == ErrorCode.TOO_LARGE


def test_nested_dataclasses_and_literals_are_validated():
    cell = protocol.from_dict(protocol.Cell, {"id": "c", "cell_type": "code", "source": "x=1"})
    assert cell == protocol.Cell("c", "code", "x=1")
    with pytest.raises(ValueError, match="cell_type must be one of"):
        protocol.from_dict(protocol.Cell, {"id": "c", "cell_type": "python", "source": ""})
    with pytest.raises(ValueError, match="offset must be an integer"):
        protocol.from_dict(protocol.Cursor, {"cell_id": "c", "offset": True})


def test_replies_round_trip_dataclasses_to_json():
    reply = protocol.result_reply("r", {"cells": [protocol.Cell("a", "markdown", "# hi")]})
    assert json.loads(json.dumps(reply)) == {
        "type": "result",
        "id": "r",
        "result": {"cells": [{"id": "a", "cell_type": "markdown", "source": "# hi"}]},
    }


# -- limits: the same on every face (websocket, REST, CLI batch lines) ------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"id": "a", "type": "ping", "x": ' + "[" * 70 + "]" * 70 + "}",
    ],
)
def test_json_nested_too_deep_is_bad_json_not_a_recursion_error(raw):
    with pytest.raises(ProtocolError) as info:
        protocol.parse_request(raw, 10**7)
    assert info.value.code == ErrorCode.BAD_JSON and "nested" in info.value.message


def cells_request(**cell):
    return {
        "type": "apply",
        "id": "a1",
        "suggestion": "x",
        "cells": [{"id": "c1", "cell_type": "code", "source": "x = 1", **cell}],
    }


@pytest.mark.parametrize(
    "message, field",
    [
        ({"type": "cancel", "id": "c", "target": "\ud800"}, "message.target is not valid Unicode"),
        (cells_request(source="a\udc00b"), "message.cells[0].source is not valid Unicode"),
        (cells_request(id="x" * 129), "message.cells[0].id is longer than 128"),
        (cells_request(source="x" * 400_001), "message.cells[0].source is longer than 400000"),
        ({"type": "search", "id": "s", "query": "q" * 2001}, "message.query is longer than 2000"),
        ({"type": "search", "id": "s", "query": "q", "k": 10**30}, "message.k is out of range"),
        ({"type": "cancel", "id": "c", "target": "t" * 4097}, "message.target is longer than 4096"),
        (
            {"type": "chat_history", "id": "h", "session_id": 7},
            "message.session_id must be a string",
        ),
    ],
)
def test_every_field_is_bounded_and_must_be_encodable(message, field):
    from jupyter_cursor.apply import protocol as _apply  # noqa: F401 (registers "apply")
    from jupyter_cursor.chat import protocol as _chat  # noqa: F401
    from jupyter_cursor.index import protocol as _index  # noqa: F401

    with pytest.raises(ProtocolError) as info:
        protocol.parse_request(json.dumps(message), 10**7)
    assert info.value.code == ErrorCode.BAD_MESSAGE
    assert info.value.message.startswith(field), info.value.message
    assert info.value.request_id == message["id"]


def test_a_rest_body_is_checked_like_a_websocket_message():
    from jupyter_cursor.apply.protocol import ApplyBody

    body = {"cells": [{"id": "c", "cell_type": "code", "source": "\ud800"}], "suggestion": "s"}
    with pytest.raises(ProtocolError, match=r"request.cells\[0\].source is not valid Unicode"):
        protocol.parse_body(ApplyBody, json.dumps(body), 10**6)
    with pytest.raises(ProtocolError) as info:
        protocol.parse_body(ApplyBody, "[" * 5000 + "]" * 5000, 10**6)
    assert info.value.code == ErrorCode.BAD_JSON
    with pytest.raises(ProtocolError) as info:
        protocol.parse_body(ApplyBody, json.dumps(body), 10)
    assert info.value.code == ErrorCode.TOO_LARGE
