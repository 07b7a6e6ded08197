import shutil

import pytest
from fake_llm_server import FakeLLMServer
from lab_server import start_lab_server
from server_support import server_config

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture(scope="session", autouse=True)
def own_jupyter_data_dir(tmp_path_factory):
    """The tests never read the developer's Jupyter data dir (a refitted next-edit filter there
    would change what predict() shows)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_DATA_DIR", str(tmp_path_factory.mktemp("jupyter_data")))
        yield


@pytest.fixture
def jp_server_config():
    return server_config()


@pytest.fixture(scope="module")
def llm(request):
    """A fake OpenAI/Anthropic server (tests/fake_llm_server.py) for the module's tests; it asks
    for the module's LLM_API_KEY, where the module sets one."""
    with FakeLLMServer(api_key=getattr(request.module, "LLM_API_KEY", None)) as server:
        yield server


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
