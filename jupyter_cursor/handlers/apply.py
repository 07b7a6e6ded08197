from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import protocol
from ..apply.protocol import ApplyBody, run_apply_async
from .base import CursorAPIHandler


class ApplyHandler(CursorAPIHandler):
    """POST /jupyter-cursor/apply {"cells", "suggestion"} -> {"cells", "ops", "warnings"}"""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        limit = self.cursor_app.max_message_bytes
        try:
            body = protocol.parse_body(ApplyBody, self.request.body or b"null", limit)
        except protocol.ProtocolError as err:
            raise web.HTTPError(
                413 if err.code == protocol.ErrorCode.TOO_LARGE else 400, err.message
            ) from None
        fallback = self.cursor_app.apply_fallback
        try:
            result = await run_apply_async(body.cells, body.suggestion, fallback, body.path)
        except ValueError as err:
            raise web.HTTPError(400, str(err)) from None
        self.finish(result)
