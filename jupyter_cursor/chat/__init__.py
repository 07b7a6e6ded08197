"""Chat sessions: context assembly, persistence, and the turn that streams an answer.

Plain asyncio and sqlite3, no web code. The websocket request types live in
:mod:`jupyter_cursor.chat.protocol`, imported by the server when it serves chat.
"""

from .context import BuiltContext, ContextBuilder, ContextError, Selection
from .mentions import Mention, parse_mentions
from .service import ChatService
from .store import ChatStore

__all__ = [
    "BuiltContext",
    "ChatService",
    "ChatStore",
    "ContextBuilder",
    "ContextError",
    "Mention",
    "Selection",
    "parse_mentions",
]
