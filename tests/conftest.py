import pytest

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def jp_server_config():
    # As the extension template does: no handler may run without authentication, and a handler
    # that lacks the decorators makes the server warn, which pyproject's filterwarnings fails on.
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_cursor": True},
            "allow_unauthenticated_access": False,
        }
    }
