import asyncio
import json

import pytest

from jupyter_cursor import protocol
from jupyter_cursor.rpc import RpcSession
from jupyter_cursor.services import READY, Services


@protocol.request("test_sleep")
class SleepRequest:
    id: str
    seconds: float


@pytest.fixture
def session():
    services = Services()
    sent: list[dict] = []

    async def sleep(req, emit):
        emit({"started": True})
        await asyncio.sleep(req.seconds)
        return {"slept": req.seconds}

    services.register_method("test_sleep", sleep)
    return RpcSession(services, sent.append, max_message_bytes=1000), sent, services


async def settle():
    for _ in range(5):
        await asyncio.sleep(0)


async def test_result_partial_and_ids(session):
    rpc, sent, _ = session
    rpc.receive(json.dumps({"type": "test_sleep", "id": "s1", "seconds": 0}))
    await asyncio.sleep(0.01)
    assert sent == [
        {"type": "partial", "id": "s1", "data": {"started": True}},
        {"type": "result", "id": "s1", "result": {"slept": 0.0}},
    ]
    assert rpc.in_flight == []


async def test_cancel_by_id_stops_only_that_request(session):
    rpc, sent, _ = session
    rpc.receive(json.dumps({"type": "test_sleep", "id": "long", "seconds": 30}))
    rpc.receive(json.dumps({"type": "test_sleep", "id": "short", "seconds": 0.01}))
    await settle()
    rpc.receive(json.dumps({"type": "cancel", "id": "c", "target": "long"}))
    await asyncio.sleep(0.05)
    by_id = {(m["type"], m["id"]) for m in sent}
    assert ("cancelled", "long") in by_id
    assert ("result", "c") in by_id
    assert ("result", "short") in by_id
    assert ("result", "long") not in by_id


async def test_a_cancel_that_arrives_with_its_request_is_still_answered(session):
    # Both frames can reach the server in one read, so the cancel lands before the request's
    # task has taken its first step.
    rpc, sent, _ = session
    rpc.receive(json.dumps({"type": "test_sleep", "id": "slow", "seconds": 30}))
    rpc.receive(json.dumps({"type": "cancel", "id": "c", "target": "slow"}))
    await settle()
    assert {(m["type"], m["id"]) for m in sent} == {("cancelled", "slow"), ("result", "c")}
    assert rpc.in_flight == []


async def test_errors_leave_the_session_usable(session):
    rpc, sent, _ = session
    rpc.receive("{oops")
    rpc.receive(json.dumps({"type": "ping", "id": "p", "pad": "x" * 2000}))
    rpc.receive(json.dumps({"type": "cancel", "id": "c", "target": "nothing"}))
    rpc.receive(json.dumps({"type": "ping", "id": "ok"}))
    await asyncio.sleep(0.01)
    codes = [m["error"]["code"] for m in sent if m["type"] == "error"]
    assert codes == ["bad_json", "too_large", "bad_message"]
    assert sent[-1]["type"] == "result" and sent[-1]["id"] == "ok"


async def test_duplicate_in_flight_id_is_refused(session):
    rpc, sent, _ = session
    rpc.receive(json.dumps({"type": "test_sleep", "id": "a", "seconds": 5}))
    rpc.receive(json.dumps({"type": "test_sleep", "id": "a", "seconds": 5}))
    await settle()
    assert any(m["type"] == "error" and m["error"]["code"] == "duplicate_id" for m in sent)
    rpc.close()


async def test_engine_exception_becomes_internal_error():
    services = Services()

    async def broken(req, emit):
        raise RuntimeError("model exploded")

    services.register_method("test_sleep", broken)
    sent: list[dict] = []
    rpc = RpcSession(services, sent.append, 1000)
    rpc.receive(json.dumps({"type": "test_sleep", "id": "x", "seconds": 1}))
    await asyncio.sleep(0.01)
    assert sent == [
        {
            "type": "error",
            "id": "x",
            "error": {"code": "internal", "message": "RuntimeError: model exploded"},
        }
    ]


def test_listeners_hear_state_changes_once():
    services = Services()
    heard = []
    services.add_listener(heard.append)
    services.set_state("index", READY, files=3)
    services.set_state("index", READY, files=3)
    assert len(heard) == 1
    assert heard[0]["services"]["index"] == {"state": "ready", "message": "", "files": 3}


def test_only_protocol_types_can_be_served():
    with pytest.raises(ValueError):
        Services().register_method("not_a_type", None)


async def test_a_connection_has_a_bounded_number_of_requests_in_flight(session):
    rpc, sent, _ = session
    limit = SleepRequest.MAX_IN_FLIGHT
    for n in range(limit + 1):
        rpc.receive(json.dumps({"type": "test_sleep", "id": f"s{n}", "seconds": 0.05}))
    busy = [m for m in sent if m["type"] == "error"]
    assert [(m["id"], m["error"]["code"]) for m in busy] == [(f"s{limit}", "busy")]
    assert len(rpc.in_flight) == limit
    rpc.receive(json.dumps({"type": "ping", "id": "p"}))  # another type has room of its own
    await asyncio.sleep(0.2)
    assert not rpc.in_flight
    # once they have ended there is room again
    rpc.receive(json.dumps({"type": "test_sleep", "id": "again", "seconds": 0}))
    await asyncio.sleep(0.05)
    assert any(m["type"] == "result" and m["id"] == "again" for m in sent)
    assert any(m["type"] == "result" and m["id"] == "p" for m in sent)


async def test_all_types_together_are_bounded_per_connection(session):
    from jupyter_cursor.rpc import MAX_IN_FLIGHT

    rpc, sent, services = session

    @protocol.request("test_sleep_wide", max_in_flight=100)
    class Wide:
        id: str

    async def forever(req, emit):
        await asyncio.sleep(10)

    services.register_method("test_sleep_wide", forever)
    for n in range(MAX_IN_FLIGHT + 3):
        rpc.receive(json.dumps({"type": "test_sleep_wide", "id": f"w{n}"}))
    assert len(rpc.in_flight) == MAX_IN_FLIGHT
    assert [m["error"]["code"] for m in sent if m["type"] == "error"] == ["busy"] * 3
    rpc.close()
    protocol.REQUEST_TYPES.pop("test_sleep_wide")
