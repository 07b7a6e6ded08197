from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import protocol
from ..index.protocol import SearchBody, search
from .base import CursorAPIHandler


class SearchHandler(CursorAPIHandler):
    """GET /jupyter-cursor/search?q=&k=&mode=hybrid|bm25|embedding -> {"hits": [...]}"""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        try:
            k = int(self.get_query_argument("k", "10"))
        except ValueError:
            raise web.HTTPError(400, "k must be an integer") from None
        query = {
            "query": self.get_query_argument("q", ""),
            "k": k,
            "mode": self.get_query_argument("mode", "hybrid"),
        }
        try:
            body = protocol.from_dict(SearchBody, query, "request")
            hits = await search(self.cursor_app.index, body.query, body.k, body.mode)
        except ValueError as err:
            raise web.HTTPError(400, str(err)) from None
        except LookupError as err:
            raise web.HTTPError(503, str(err)) from None
        self.finish({"hits": hits})
