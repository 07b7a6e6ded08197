"""A small local server that speaks the OpenAI completions protocol (streaming), for the remote
backend's tests; and, unless made without them (``native=False``, as vLLM), the native
fill-in-the-middle endpoints: llama.cpp server's ``POST /infill`` (server-sent events of
``{"content", "stop"}``, any model) and Ollama's ``POST /api/generate`` (JSON lines of
``{"response", "done"}``, the model named)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEY = "sk-test-secret"


class CompletionsServer:
    """Streams ``pieces`` as SSE, ``delay`` seconds apart; ignores ``stop`` like a lax server.
    ``port`` (0: any free one) lets a test start a server again where one stopped; while
    ``failing`` is an HTTP status, every request is answered with it (a server that errs)."""

    def __init__(self, pieces, delay=0.0, model="tiny", native=True, port=0):
        self.pieces, self.delay, self.model, self.native = pieces, delay, model, native
        self.failing: int | None = None
        self.requests: list[dict] = []
        self.sent: list[int] = []  # pieces written per streamed request
        self.disconnected = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self):
                if self.headers.get("Authorization") != f"Bearer {KEY}":
                    self._json(
                        401,
                        {"error": {"message": "Invalid API key", "type": "invalid_request_error"}},
                    )
                    return False
                return True

            def _failed(self):
                if server.failing is None:
                    return False
                self._json(server.failing, {"error": {"message": "the model is not loaded"}})
                return True

            def do_GET(self):
                server.gets += 1
                if not self._failed() and self._authorized():
                    self._json(
                        200, {"object": "list", "data": [{"id": server.model, "object": "model"}]}
                    )

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(
                    {"path": self.path, "json": body, "headers": dict(self.headers)}
                )
                if self._failed() or not self._authorized():
                    return
                if self.path in ("/infill", "/api/generate"):
                    self._native(body)
                    return
                if body.get("model") != server.model:
                    self._json(
                        404,
                        {
                            "error": {
                                "message": f"The model `{body.get('model')}` does not exist.",
                                "type": "NotFoundError",
                                "code": 404,
                            }
                        },
                    )
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                sent = 0
                server.sent.append(0)
                try:
                    for i, piece in enumerate(server.pieces):
                        finish = "length" if i == len(server.pieces) - 1 else None
                        event = {
                            "id": "cmpl-1",
                            "object": "text_completion",
                            "model": server.model,
                            "choices": [{"index": 0, "text": piece, "finish_reason": finish}],
                        }
                        self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                        self.wfile.flush()
                        sent += 1
                        server.sent[-1] = sent
                        time.sleep(server.delay)
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    server.disconnected.set()

            def _native(self, body):
                llama = self.path == "/infill"
                if not server.native:
                    self._json(404, {"detail": "Not Found"})  # as vLLM (FastAPI) answers
                    return
                if not llama and body.get("model") != server.model:
                    self._json(404, {"error": f"model '{body.get('model')}' not found"})
                    return
                pieces = list(server.pieces)
                self.send_response(200)
                kind = "text/event-stream" if llama else "application/x-ndjson"
                self.send_header("Content-Type", kind)
                self.end_headers()
                server.sent.append(0)
                try:
                    for i, piece in enumerate([*pieces, ""]):
                        last = i == len(pieces)
                        if llama:
                            event = {"content": piece, "stop": last}
                            if last:
                                event["stop_type"] = "limit"
                            line = f"data: {json.dumps(event)}\n\n"
                        else:
                            event = {"model": server.model, "response": piece, "done": last}
                            if last:
                                event["done_reason"] = "length"
                            line = json.dumps(event) + "\n"
                        self.wfile.write(line.encode())
                        self.wfile.flush()
                        if not last:
                            server.sent[-1] += 1
                            time.sleep(server.delay)
                except (BrokenPipeError, ConnectionResetError):
                    server.disconnected.set()

        self.gets = 0  # GET /v1/models: the probes
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
