"""No secret reaches the browser or the log: the scrubber, and the places it guards.

The secrets here are unlike any pattern (no ``sk-`` prefix): only the registry of configured
secrets can catch them, as it must for a gateway's or a self-hosted server's own keys.
"""

import asyncio
import base64
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from jupyter_cursor.engine import EngineConfig, EngineError, GenerationRequest, create_runtime
from jupyter_cursor.redaction import (
    MASK,
    RedactingFilter,
    install_log_filter,
    redact,
    redact_value,
    register_secret,
    register_url,
    safe_url,
)

KEY = "gw-7f3a9c2e1b5d4f60a8c7"  # the remote engine's key: no pattern knows it
PASSWORD = "hunter2-url-secret"  # the password in the remote engine's URL


# -- the scrubber ---------------------------------------------------------------------------------


def test_a_registered_secret_is_masked_wherever_it_appears():
    secret = "opaque-0a1b2c3d4e5f"
    assert redact(f"key={secret}!") == f"key={secret}!"  # unknown yet, and no pattern fits it
    register_secret(secret)
    assert redact(f"the server said: {secret}, and {secret}") == "the server said: ***, and ***"
    assert redact("given, not registered: plain-secret-value", ["plain-secret-value"]) == (
        "given, not registered: ***"
    )


def test_a_urls_userinfo_is_masked_and_its_password_known_elsewhere():
    assert redact("cannot reach http://user:pass@host/v1: ConnectError()") == (
        "cannot reach http://***@host/v1: ConnectError()"
    )
    assert (
        redact("URL('https://me:p@ss@example.com:8443/v1')")
        == "URL('https://***@example.com:8443/v1')"
    )
    assert redact("https://ghp0123456789@github.com/x.git") == "https://***@github.com/x.git"
    register_url("http://someone:a-long-url-password@host/v1")
    assert redact("proxy echoed a-long-url-password") == "proxy echoed ***"
    assert safe_url("http://u:p@host:8000/v1?api_key=k#f") == "http://host:8000/v1"


def test_bearer_tokens_and_authorization_headers_are_masked():
    assert redact("sent Authorization: Bearer abc.def-123_456") == "sent Authorization: ***"
    assert (
        redact("headers={'authorization': 'Basic dXNlcjpwYXNz'}")
        == "headers={'authorization': '***'}"
    )
    assert redact("token Bearer eyJhbGciOiJIUzI1NiJ9.e30.x") == f"token Bearer {MASK}"


def test_openai_and_anthropic_style_keys_are_masked_by_their_shape():
    quoted = "Incorrect API key provided: sk-abcdefghijklmnop1234. You can find your API key at"
    assert redact(quoted) == "Incorrect API key provided: ***. You can find your API key at"
    assert redact("x-api-key: sk-ant-api03-AbCdEfGhIjKlMnOpQr_st-uv") == "x-api-key: ***"
    assert redact("sk-proj-********************abcd") == MASK  # half-masked by the server itself
    assert redact("?api_key=0123&model=m") == "?api_key=***&model=m"


def test_ordinary_text_is_left_alone():
    for text in (
        "risk-averse task-abcdefghijklmnopqrstuvwxyz",
        "see https://example.com/v1/models?model=tiny and git@github.com or a@b.c",
        "http://127.0.0.1:8888/lab?token=0123456789abcdef",  # Jupyter's own URL, to copy from the log
        "Basic usage; the bearer bond; authorization denied",
        "sk-short",
        "def f(x):\n    return x @ y  # http://host/a@b\n",
        "",
    ):
        assert redact(text) == text


def test_short_strings_are_not_treated_as_secrets():
    register_secret("pass")
    register_secret("   ")
    register_secret(None)
    register_url("http://me:pw@host/")
    assert redact("password: the passage of a pw") == "password: the passage of a pw"
    assert redact("short", ["abc", "", None]) == "short"


def test_every_string_of_a_status_is_scrubbed():
    register_secret(KEY)
    status = {
        "message": f"401: {KEY}",
        "n": 3,
        "ok": None,
        "detail": {"errors": [f"a {KEY}", ("x",)]},
    }
    assert redact_value(status) == {
        "message": "401: ***",
        "n": 3,
        "ok": None,
        "detail": {"errors": ["a ***", ["x"]]},
    }


def test_provider_keys_are_known_as_soon_as_they_are_read(tmp_path, monkeypatch):
    from jupyter_cursor.providers.config import parse_spec
    from jupyter_cursor.providers.errors import AUTH, ProviderError
    from jupyter_cursor.providers.keys import resolve_key

    from_env, from_file, literal, header = (
        "env-0123456789abcdef",
        "file-0123456789abcdef",
        "literal-0123456789ab",
        "hdr-0123456789abcdef",
    )
    monkeypatch.setenv("JC_TEST_REDACTION_KEY", from_env)
    (tmp_path / "key").write_text(from_file + "\n")
    specs = [
        {"name": "env", "kind": "openai", "model": "m", "api_key_env": "JC_TEST_REDACTION_KEY"},
        {"name": "file", "kind": "openai", "model": "m", "api_key_file": str(tmp_path / "key")},
        {
            "name": "lit",
            "kind": "openai",
            "model": "m",
            "api_key": literal,
            "headers": {"X-Gateway-Token": header, "X-Team": "research-department"},
        },
    ]
    for raw in specs:
        resolve_key(parse_spec(raw))
    text = f"{from_env} {from_file} {literal} {header} research-department"
    assert redact(text) == "*** *** *** *** research-department"
    assert ProviderError(AUTH, f"refused {from_env}").message == "refused ***"


# -- the log --------------------------------------------------------------------------------------


def test_log_lines_and_tracebacks_of_the_package_are_scrubbed(caplog):
    register_secret(KEY)
    install_log_filter()
    install_log_filter()  # idempotent
    package = logging.getLogger("jupyter_cursor")
    assert sum(isinstance(f, RedactingFilter) for f in package.filters) == 1
    created_later = logging.getLogger("jupyter_cursor.test_redaction.created_later")
    with caplog.at_level(logging.INFO):
        created_later.warning("the model server said %s", f"Incorrect API key provided: {KEY}")
        logging.getLogger("jupyter_cursor.engine.remote").info("GET http://u:%s@host/v1", PASSWORD)
        try:
            raise RuntimeError(f"boom with {KEY}")
        except RuntimeError:
            package.exception("request failed")
    assert "Incorrect API key provided: ***" in caplog.text and "boom with ***" in caplog.text
    assert KEY not in caplog.text and PASSWORD not in caplog.text
    assert all(KEY not in r.getMessage() for r in caplog.records)


# -- a real model server that quotes the key back --------------------------------------------------


class QuotingServer:
    """Answers every request 401 with OpenAI's body, quoting the credentials it was sent."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _refuse(self):
                auth = self.headers.get("Authorization", "")
                scheme, _, value = auth.partition(" ")
                if scheme == "Basic":  # httpx sends a URL's userinfo as basic auth
                    value = base64.b64decode(value).decode()
                body = json.dumps(
                    {
                        "error": {
                            "message": f"Incorrect API key provided: {value}. You can find your API key at "
                            "https://platform.openai.com/account/api-keys.",
                            "type": "invalid_request_error",
                            "param": None,
                            "code": "invalid_api_key",
                        }
                    }
                ).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._refuse()

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._refuse()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def quoting_server():
    server = QuotingServer()
    yield server
    server.close()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _probed(runtime):
    runtime.start()
    while runtime.status()["state"] in ("loading", "stopped"):
        await asyncio.sleep(0.01)
    return runtime.status()


@pytest.mark.parametrize("userinfo", [False, True])
def test_a_401_quoting_the_key_leaves_it_out_of_the_runtime_status_and_errors(
    quoting_server, userinfo
):
    url = (
        quoting_server.url.replace("//", f"//jc-user:{PASSWORD}@")
        if userinfo
        else quoting_server.url
    )
    config = EngineConfig(backend="remote", remote_url=url, remote_model="tiny", remote_api_key=KEY)

    async def main():
        runtime = create_runtime(config)
        status = await _probed(runtime)
        with pytest.raises(EngineError) as failed:
            [chunk async for chunk in runtime.generate(GenerationRequest("x"))]
        final = runtime.status()
        runtime.close()
        return status, failed.value, final

    status, error, final = asyncio.run(main())
    assert (
        status["state"] == "error"
        and "401" in status["last_error"]
        and "***" in status["last_error"]
    )
    # (With userinfo in the URL, httpx sends it as basic auth: the server quotes "jc-user:<password>".)
    assert error.code == "unauthorized"
    assert "Incorrect API key provided: " in str(error) and "***" in str(error)
    assert status["url"] == f"http://127.0.0.1:{quoting_server.port}/v1"
    for shown in (json.dumps(status), str(error), json.dumps(final)):
        assert KEY not in shown and PASSWORD not in shown


def test_an_unreachable_url_with_a_password_is_reported_without_it():
    url = f"http://jc-user:{PASSWORD}@127.0.0.1:{_free_port()}/v1?token=query-secret-123"
    config = EngineConfig(backend="remote", remote_url=url, remote_model="tiny", remote_api_key=KEY)

    async def main():
        runtime = create_runtime(config)
        status = await _probed(runtime)
        runtime.close()
        return status

    status = asyncio.run(main())
    assert status["state"] == "error" and "cannot reach http://127.0.0.1" in status["last_error"]
    shown = json.dumps(status)
    assert PASSWORD not in shown and "query-secret-123" not in shown and "jc-user" not in shown


# -- the same through a real Jupyter server: REST /status, the websocket, the log -----------------


@pytest.fixture
def jp_server_config(quoting_server):
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_cursor": True},
            "allow_unauthenticated_access": False,
        },
        "CursorApp": {
            "index_enabled": False,
            "engine_backend": "remote",
            "engine_remote_model": "tiny",
            "engine_remote_url": quoting_server.url.replace("//", f"//jc-user:{PASSWORD}@"),
            "engine_remote_api_key": KEY,
        },
    }


async def test_the_status_and_its_websocket_events_show_no_key_and_no_url_password(
    jp_fetch, jp_ws_fetch
):
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    events = []
    while not events or events[-1]["data"]["services"]["model"]["state"] != "error":
        message = json.loads(await asyncio.wait_for(ws.read_message(), 10))
        if message.get("type") == "event" and message.get("event") == "status":
            events.append(message)
    ws.close()
    body = (await jp_fetch("jupyter-cursor", "status")).body.decode()
    model = json.loads(body)["services"]["model"]
    assert model["state"] == "error" and "401" in model["message"] and "401" in model["last_error"]
    assert model["url"].startswith("http://127.0.0.1:")
    for shown in (body, json.dumps(events)):
        assert KEY not in shown and PASSWORD not in shown


async def test_the_extension_scrubs_the_servers_log_and_its_own(jp_serverapp):
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    keep = Keep()
    app = jp_serverapp.web_app.settings["jupyter_cursor"]
    for logger in (jp_serverapp.log, app.log, logging.getLogger("jupyter_cursor.rpc")):
        logger.addHandler(keep)
        try:
            logger.warning("the remote engine %s refused key %s", f"http://u:{PASSWORD}@h/v1", KEY)
        finally:
            logger.removeHandler(keep)
    assert len(records) == 3
    assert all(KEY not in line and PASSWORD not in line for line in records), records
