"""The chat's websocket requests, and the methods that answer them (no web code).

``chat`` streams partials ``{"type": "context" | "delta", ...}`` (see :mod:`.service`) and ends
with the result ``{"type": "done", "session_id", "message_id"}``, or an error reply with the
provider's code ("missing_key", "bad_model", "rate_limited", ...). Cancel it with the protocol's
``cancel``: the answer so far is kept in the history as "cancelled".

The server registers the methods::

    services.register_methods(chat_methods(chat_service))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal

from .. import protocol
from ..protocol import MaxLen, ProtocolError
from ..providers import ProviderError
from .context import REMOVABLE, ContextError, Selection
from .service import ChatError, ChatService

Removable = Literal[REMOVABLE]  # the kinds of item a user can remove from the context


# Each chat message is a paid call to a provider: two at once per connection is plenty.
@protocol.request("chat", max_in_flight=2)
class ChatRequest:
    TYPE: ClassVar[str]
    id: str
    path: str
    message: protocol.Text
    cells: protocol.Cells
    session_id: protocol.Identifier | None = None  # None starts a new session for `path`
    selection: Selection | None = None
    provider: str | None = None  # a configured provider's name; None: the default
    # The kinds of context item the user removed: not sent (listed as dropped, "removed").
    exclude: Annotated[list[Removable], MaxLen(len(REMOVABLE))] | None = None


@protocol.request("chat_sessions")
class ChatSessionsRequest:
    TYPE: ClassVar[str]
    id: str
    path: str


@protocol.request("chat_history")
class ChatHistoryRequest:
    TYPE: ClassVar[str]
    id: str
    session_id: protocol.Identifier


@protocol.request("chat_delete")
class ChatDeleteRequest:
    TYPE: ClassVar[str]
    id: str
    session_id: protocol.Identifier


@protocol.request("chat_providers")
class ChatProvidersRequest:
    TYPE: ClassVar[str]
    id: str


Emit = Callable[[Any], None]


def chat_methods(service: ChatService) -> dict[str, Callable]:
    """The request methods, by request type, for ``Services.register_methods``."""

    async def chat(req: ChatRequest, emit: Emit) -> dict:
        try:
            async for event in service.ask(
                req.session_id,
                req.message,
                req.cells,
                req.selection,
                req.path,
                req.provider,
                exclude=req.exclude or (),
            ):
                if event["type"] == "done":
                    return event
                emit(event)
        except (ProviderError, ChatError, ContextError) as err:
            raise ProtocolError(err.code, err.message, req.id) from None
        raise ProtocolError(protocol.ErrorCode.INTERNAL, "the chat ended without an answer", req.id)

    async def sessions(req: ChatSessionsRequest, emit: Emit) -> dict:
        return {"path": req.path, "sessions": service.store.list_sessions(req.path)}

    async def history(req: ChatHistoryRequest, emit: Emit) -> dict:
        session = service.store.get_session(req.session_id)
        if session is None:
            raise ProtocolError("no_session", f"No chat session {req.session_id!r}.", req.id)
        return {"session": session, "messages": service.store.history(req.session_id)}

    async def delete(req: ChatDeleteRequest, emit: Emit) -> dict:
        return {"deleted": service.store.delete_session(req.session_id)}

    async def providers(req: ChatProvidersRequest, emit: Emit) -> dict:
        return service.providers.public_info()

    return {
        ChatRequest.TYPE: chat,
        ChatSessionsRequest.TYPE: sessions,
        ChatHistoryRequest.TYPE: history,
        ChatDeleteRequest.TYPE: delete,
        ChatProvidersRequest.TYPE: providers,
    }
