"""The extension inside a real jupyter_server: auth, status, and the websocket protocol."""

import asyncio
import json

import pytest
import tornado.httpclient
import tornado.websocket
from jupyter_server.auth import Authorizer

from jupyter_cursor import __version__, protocol


@protocol.request("test_wait")
class WaitRequest:
    id: str
    seconds: float


async def next_message(ws, kind=None, timeout=5):
    while True:
        msg = json.loads(await asyncio.wait_for(ws.read_message(), timeout))
        if kind is None or msg["type"] == kind:
            return msg


async def test_status_reports_version_and_unconfigured_services(jp_fetch):
    response = await jp_fetch("jupyter-cursor", "status")
    status = json.loads(response.body)
    assert status["version"] == __version__
    assert status["protocol"] == protocol.PROTOCOL_VERSION
    assert {"index", "model", "apply"} <= set(status["services"])


async def test_status_without_token_is_forbidden(jp_fetch):
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch("jupyter-cursor", "status", headers={"Authorization": ""})
    assert info.value.code == 403


async def test_websocket_without_token_is_refused(jp_ws_fetch):
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_ws_fetch("jupyter-cursor", "ws", headers={"Authorization": ""})
    assert info.value.code == 403


async def test_websocket_greets_with_status_and_answers_by_id(jp_ws_fetch):
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    hello = await next_message(ws)
    assert hello["type"] == "event" and hello["event"] == "status"
    ws.write_message(json.dumps({"type": "ping", "id": "p-1"}))
    reply = await next_message(ws, "result")
    assert reply["id"] == "p-1" and reply["result"]["pong"] is True
    ws.close()


async def test_bad_messages_get_errors_and_the_connection_stays_usable(jp_ws_fetch, jp_serverapp):
    limit = jp_serverapp.web_app.settings["jupyter_cursor"].max_message_bytes
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    await next_message(ws)
    ws.write_message("this is not json")
    assert (await next_message(ws, "error"))["error"]["code"] == "bad_json"
    ws.write_message(json.dumps({"type": "nope", "id": "u"}))
    error = await next_message(ws, "error")
    assert (error["id"], error["error"]["code"]) == ("u", "unknown_type")
    ws.write_message(json.dumps({"type": "ping", "id": "big", "pad": "x" * limit}))
    assert (await next_message(ws, "error"))["error"]["code"] == "too_large"
    # past tornado's default limit (10 MiB), which used to reset the connection
    ws.write_message(json.dumps({"type": "ping", "id": "huge", "pad": "x" * (20 * 2**20)}))
    assert (await next_message(ws, "error", timeout=30))["error"]["code"] == "too_large"
    ws.write_message(json.dumps({"type": "ping", "id": "still-here"}))
    assert (await next_message(ws, "result"))["id"] == "still-here"
    ws.close()


async def test_cancel_by_id_through_the_server(jp_ws_fetch, jp_serverapp):
    services = jp_serverapp.web_app.settings["jupyter_cursor"].services

    async def wait(req, emit):
        await asyncio.sleep(req.seconds)
        return {"waited": req.seconds}

    services.register_method("test_wait", wait)
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    await next_message(ws)
    ws.write_message(json.dumps({"type": "test_wait", "id": "slow", "seconds": 60}))
    ws.write_message(json.dumps({"type": "cancel", "id": "c", "target": "slow"}))
    replies = set()
    while len(replies) < 2:
        message = await next_message(ws)
        if message["type"] != "event":
            replies.add((message["type"], message["id"]))
    assert replies == {("cancelled", "slow"), ("result", "c")}
    ws.close()


async def test_state_changes_are_pushed_to_open_sockets(jp_ws_fetch, jp_serverapp):
    services = jp_serverapp.web_app.settings["jupyter_cursor"].services
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    await next_message(ws)
    services.set_state("model", "starting", "loading", progress=0.25)
    while True:
        event = await next_message(ws, "event")
        if event["data"]["services"]["model"]["state"] == "starting":
            break
    assert event["data"]["services"]["model"] == {
        "state": "starting",
        "message": "loading",
        "progress": 0.25,
    }
    ws.close()


class DenyCursor(Authorizer):
    """Allows everything but the extension's resource."""

    def is_authorized(self, handler, user, action, resource):
        return resource != "jupyter_cursor"


@pytest.mark.parametrize(
    "jp_server_config",
    [
        {
            "ServerApp": {
                "jpserver_extensions": {"jupyter_cursor": True},
                "allow_unauthenticated_access": False,
                "authorizer_class": DenyCursor,
            }
        }
    ],
)
async def test_authorizer_decides_for_the_jupyter_cursor_resource(jp_fetch, jp_ws_fetch):
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch("jupyter-cursor", "status")
    assert info.value.code == 403
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_ws_fetch("jupyter-cursor", "ws")
    assert info.value.code == 403
    # the rest of the server is untouched by the denial
    assert (await jp_fetch("api", "status")).code == 200
