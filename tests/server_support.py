"""The configuration of the in-process server tests (pytest-jupyter's ``jp_server_config``)."""


def server_config(**cursor_app) -> dict:
    """The extension on, with ``cursor_app`` added to its CursorApp settings."""
    # As the extension template does: no handler may run without authentication, and a handler
    # that lacks the decorators makes the server warn, which pyproject's filterwarnings fails on.
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_cursor": True},
            "allow_unauthenticated_access": False,
        },
        # Server tests index their temporary root with BM25 only: MiniLM is tested on its own.
        "CursorApp": {"index_embeddings": False, "engine_model": "", **cursor_app},
    }


def provider_config(llm, **provider) -> dict:
    """``server_config`` with one chat provider: ``llm.provider(**provider)`` (a FakeLLMServer's)."""
    return server_config(providers=[llm.provider(**provider)])
