"""One chat turn: build the context, persist the question, stream the answer, persist the answer.

Events, in order::

    {"type": "context", "session_id", "message_id", "provider", "model", "sent", "dropped", "chars"}
    {"type": "delta", "text"}                             any number
    {"type": "done", "session_id", "message_id"}          last, when the answer is whole

Failures raise, as the refactor's do: ProviderError (the provider refused or failed), ChatError (no
such session, an empty message) or ContextError (the message is over the provider's budget), each
with a ``code`` the browser acts on. An answer cut short keeps what had arrived: cancelled (the
consumer stopped iterating, or its task was cancelled) or failed, it is stored with that status, so
the history shows what the user saw.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import aclosing
from typing import Any

from ..providers import ProviderError, ProviderRegistry
from .context import ContextBuilder, Selection
from .store import ChatStore

log = logging.getLogger("jupyter_cursor.chat")

NO_SESSION = "no_session"


class ChatError(Exception):
    """A chat turn refused before anything is stored; ``code`` is stable, the message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class ChatService:
    def __init__(
        self,
        store: ChatStore,
        providers: ProviderRegistry,
        context: ContextBuilder,
        *,
        history_messages: int = 20,
        kernel=None,
    ):
        self.store = store
        self.providers = providers
        self.context = context
        self.history_messages = history_messages
        # The notebooks' live kernels (kernel/service.KernelContext), or None: their variables
        # are an item of the context.
        self.kernel = kernel

    async def ask(
        self,
        session_id: str | None,
        message: str,
        notebook_cells: Sequence[Any],
        selection: Selection | None,
        path: str,
        provider_name: str | None = None,
        exclude: Collection[str] = (),
    ) -> AsyncIterator[dict[str, Any]]:
        """``exclude``: the kinds of context item the user removed (context.REMOVABLE)."""
        # Everything that can be refused is refused before anything is stored.
        provider = self.providers.require(provider_name)
        if not message.strip():
            raise ChatError("bad_request", "The message is empty.")
        if session_id is None:
            session = self.store.create_session(path)
        else:
            session = self.store.get_session(session_id)
            if session is None:
                raise ChatError(NO_SESSION, f"No chat session {session_id!r}.")
        sid = session["id"]
        earlier = [
            {"role": m["role"], "content": m["content"]}
            for m in self.store.history(sid, limit=self.history_messages)
            if m["content"] and m["status"] != "error"
        ]
        # A snapshot or None at once (a busy or slow kernel is not waited for); asked even when the
        # user removed the variables, which are then listed as removed, to be restored.
        snapshot = await self.kernel.snapshot(path) if self.kernel is not None else None
        # Retrieval (an embedding), file reads and the assembly itself stay off the loop; a
        # ContextError (over the budget) goes to the caller.
        built = await asyncio.to_thread(
            self.context.build,
            message,
            cells=notebook_cells,
            path=path,
            selection=selection,
            history=earlier,
            budget_chars=provider.spec.context_chars,
            kernel=snapshot,
            exclude=exclude,
        )

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
            raise failure
        yield {"type": "done", "session_id": sid, "message_id": answer_id}
