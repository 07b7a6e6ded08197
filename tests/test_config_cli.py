"""CursorApp's options as a user gives them on the command line: lists of dicts as JSON; a value
that is not JSON is an error the chat reports, never dropped in silence."""

import json

import pytest
from traitlets.config.loader import KVArgParseConfigLoader

from jupyter_cursor.app import CursorApp
from jupyter_cursor.cli import main
from jupyter_cursor.providers import ProviderRegistry

PROVIDER = {"name": "gpt", "kind": "openai", "model": "gpt-4o-mini", "api_key_env": "X_KEY"}


def app_from(*argv, known=True):
    """CursorApp configured by `argv`, parsed knowing the class (our CLI, a config file) or not:
    `jupyter lab`'s command line does not know a server extension's classes, so the value comes
    as one deferred string."""
    from jupyter_server.serverapp import ServerApp

    classes = [CursorApp] if known else [ServerApp]
    config = KVArgParseConfigLoader(argv=list(argv), classes=classes).load_config()
    return CursorApp(config=config)


@pytest.mark.parametrize(
    "argv",
    [
        [f"--CursorApp.providers={json.dumps([PROVIDER])}"],
        [f"--CursorApp.providers={json.dumps(PROVIDER)}"],  # one item per option
        [f"--CursorApp.providers={json.dumps({**PROVIDER, 'default': True})}"],  # JSON's true
    ],
)
@pytest.mark.parametrize("known", [True, False])
def test_providers_on_the_command_line_are_json(argv, known):
    providers = app_from(*argv, known=known).providers
    assert [p["name"] for p in providers] == ["gpt"]
    assert ProviderRegistry.from_config(providers).default_name == "gpt"


def test_two_providers_given_one_option_each():
    other = {**PROVIDER, "name": "claude", "kind": "anthropic"}
    app = app_from(
        f"--CursorApp.providers={json.dumps(PROVIDER)}",
        f"--CursorApp.providers={json.dumps(other)}",
    )
    assert [p["name"] for p in app.providers] == ["gpt", "claude"]


@pytest.mark.parametrize("known", [True, False])
def test_a_value_that_is_not_json_is_an_error_the_registry_reports(known):
    providers = app_from("--CursorApp.providers=[{name: gpt}]", known=known).providers
    with pytest.raises(ValueError, match="--CursorApp.providers is not valid JSON"):
        ProviderRegistry.from_config(providers)
    info = ProviderRegistry([], config_error="invalid providers configuration: x").public_info()
    assert info == {"default": None, "providers": [], "error": "invalid providers configuration: x"}


def test_jupyter_cursor_options_lists_every_option(capsys):
    assert main(["options"]) == 0
    out = capsys.readouterr().out
    for name in ("providers", "completion_source", "nextedit_format", "engine_model"):
        assert f"--CursorApp.{name}=" in out
