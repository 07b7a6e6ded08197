"""One chat turn: build the context, persist the question, stream the answer, persist the answer.

Events, in order::

    {"type": "context", "session_id", "message_id", "provider", "model", "sent", "dropped", "chars"}
    {"type": "delta", "text"}                             any number
    {"type": "done", "session_id", "message_id"}          or
    {"type": "error", "code", "message", "session_id"?, "message_id"?}

An answer cut short keeps what had arrived: cancelled (the consumer stopped iterating, or its task
was cancelled) or failed, it is stored with that status, so the history shows what the user saw.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any

from ..providers import ProviderError, ProviderRegistry
from .context import ContextBuilder, ContextError, Selection
from .store import ChatStore

log = logging.getLogger("jupyter_cursor.chat")

NO_SESSION = "no_session"


class ChatService:
    def __init__(
        self,
        store: ChatStore,
        providers: ProviderRegistry,
        context: ContextBuilder,
        *,
        history_messages: int = 20,
    ):
        self.store = store
        self.providers = providers
        self.context = context
        self.history_messages = history_messages

    async def ask(
        self,
        session_id: str | None,
        message: str,
        notebook_cells: Sequence[Any],
        selection: Selection | None,
        path: str,
        provider_name: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        # Everything that can be refused is refused before anything is stored.
        try:
            provider = self.providers.get(provider_name)
        except ProviderError as err:
            yield {"type": "error", **err.to_json()}
            return
        ok, why = provider.available()
        if not ok:
            yield {
                "type": "error",
                "code": "not_configured",
                "message": f"Provider '{provider.name}' cannot be used: {why}.",
            }
            return
        if not message.strip():
            yield {"type": "error", "code": "bad_request", "message": "The message is empty."}
            return
        if session_id is None:
            session = self.store.create_session(path)
        else:
            session = self.store.get_session(session_id)
            if session is None:
                yield {
                    "type": "error",
                    "code": NO_SESSION,
                    "message": f"No chat session {session_id!r}.",
                }
                return
        sid = session["id"]
        earlier = [
            {"role": m["role"], "content": m["content"]}
            for m in self.store.history(sid, limit=self.history_messages)
            if m["content"] and m["status"] != "error"
        ]
        try:
            # Retrieval (an embedding), file reads and the assembly itself stay off the loop.
            built = await asyncio.to_thread(
                self.context.build,
                message,
                cells=notebook_cells,
                path=path,
                selection=selection,
                history=earlier,
                budget_chars=provider.spec.context_chars,
            )
        except ContextError as err:
            yield {"type": "error", "code": err.code, "message": err.message, "session_id": sid}
            return

        model = provider.spec.model
        user_id = self.store.append_message(
            sid,
            "user",
            message,
            meta={
                "provider": provider.name,
                "model": model,
                "sent": built.sent,
                "dropped": built.dropped,
            },
        )
        yield {
            "type": "context",
            "session_id": sid,
            "message_id": user_id,
            "provider": provider.name,
            "model": model,
            "sent": built.sent,
            "dropped": built.dropped,
            "chars": built.chars,
        }

        parts: list[str] = []
        status, failure = "cancelled", None
        try:
            async with aclosing(provider.stream_chat(built.messages)) as deltas:
                async for text in deltas:
                    parts.append(text)
                    yield {"type": "delta", "text": text}
            status = "complete"
        except ProviderError as err:
            status, failure = "error", err
        except Exception:
            status = "error"
            raise
        finally:
            # Runs on cancellation too (CancelledError, or GeneratorExit when the consumer stops).
            meta: dict[str, Any] = {"provider": provider.name, "model": model}
            if failure is not None:
                meta["error"] = failure.to_json()
            answer_id = self.store.append_message(
                sid, "assistant", "".join(parts), status=status, meta=meta
            )
            if status == "cancelled":
                log.info("chat %s: answer cancelled after %d characters", sid, sum(map(len, parts)))
        if failure is not None:
            yield {"type": "error", **failure.to_json(), "session_id": sid, "message_id": answer_id}
        else:
            yield {"type": "done", "session_id": sid, "message_id": answer_id}
