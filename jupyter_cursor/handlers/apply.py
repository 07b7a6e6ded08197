from __future__ import annotations

import json

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
        limit = self.cursor_config.max_message_bytes
        if len(self.request.body) > limit:
            raise web.HTTPError(413, f"the request is over the limit of {limit} bytes")
        try:
            body = protocol.from_dict(ApplyBody, json.loads(self.request.body or b"null"), "request")
        except ValueError as err:
            raise web.HTTPError(400, str(err)) from None
        fallback = self.settings["jupyter_cursor_app"].apply_fallback
        try:
            result = await run_apply_async(body.cells, body.suggestion, fallback)
        except ValueError as err:
            raise web.HTTPError(400, str(err)) from None
        self.finish(result)

