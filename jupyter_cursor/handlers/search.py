from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import CursorAPIHandler

MAX_QUERY_CHARS = 2000


class SearchHandler(CursorAPIHandler):
    """GET /jupyter-cursor/search?q=&k=&mode=hybrid|bm25|embedding -> {"hits": [...]}"""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.get_query_argument("q", "")
        mode = self.get_query_argument("mode", "hybrid")
        try:
            k = int(self.get_query_argument("k", "10"))
        except ValueError:
            raise web.HTTPError(400, "k must be an integer") from None
        if len(query) > MAX_QUERY_CHARS:
            raise web.HTTPError(400, f"the query is longer than {MAX_QUERY_CHARS} characters")
        try:
            hits = await self.settings["jupyter_cursor_app"].search(query, k, mode)
        except ValueError as err:
            raise web.HTTPError(400, str(err)) from None
        except LookupError as err:
            raise web.HTTPError(503, str(err)) from None
        self.finish({"hits": hits})
