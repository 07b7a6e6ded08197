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
