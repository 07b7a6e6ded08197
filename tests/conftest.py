import shutil

import pytest

from lab_server import start_lab_server

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def jp_server_config():
    # As the extension template does: no handler may run without authentication, and a handler
    # that lacks the decorators makes the server warn, which pyproject's filterwarnings fails on.
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_cursor": True},
            "allow_unauthenticated_access": False,
        },
        # Server tests index their temporary root with BM25 only: MiniLM is tested on its own.
        "CursorApp": {"index_embeddings": False, "engine_model": ""},
    }


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    server = start_lab_server(
        tmp_path_factory.mktemp("lab"), extra=("--LabApp.expose_app_in_browser=True",)
    )
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)



def pytest_collection_modifyitems(config, items):
    # Playwright's sync API leaves its event loop marked as running in this thread, which the
    # pytest-jupyter loop fixtures of later in-process server tests cannot use: browser tests last.
    items.sort(key=lambda item: "browser" in item.nodeid.split("::")[0].split("/"))
