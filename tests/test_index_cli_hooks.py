"""The CLI verbs (through argparse, as `jupyter cursor` runs them), the Jupyter server hooks, and
the websocket request schema."""

import argparse
import asyncio
import json
from pathlib import Path

import jupyter_server
import pytest
from jupyter_events import EventLogger
from jupyter_server.services.contents.filemanager import FileContentsManager
from test_index_support import write_notebook

from jupyter_cursor import protocol
from jupyter_cursor.cli import index as index_cli
from jupyter_cursor.cli._common import UsageError
from jupyter_cursor.index import WorkspaceIndex
from jupyter_cursor.index.jupyter_hooks import CONTENTS_SCHEMA, connect
from jupyter_cursor.index.protocol import SearchRequest


def cli(*argv):
    parser = argparse.ArgumentParser()
    index_cli.register(parser.add_subparsers())
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


@pytest.fixture
def workspace(tmp_path):
    root = tmp_path / "root"
    write_notebook(
        root / "weather.ipynb", ["# Rain", "rainfall = load_rainfall()", "wind_speed = 3"]
    )
    (root / "notes.md").write_text("# Storms\nWind and rain notes.\n")
    return root


def test_index_then_search_json(workspace, tmp_path, capsys):
    data = tmp_path / "data"
    assert cli("index", workspace, "--data-dir", data, "--no-embeddings", "--quiet", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    assert status["files"] == 2 and status["chunks"] == 4 and status["state"] == "ready"
    code = cli(
        "search",
        "rainfall",
        "--root",
        workspace,
        "--data-dir",
        data,
        "--mode",
        "bm25",
        "--k",
        "1",
        "--json",
        "--quiet",
    )
    assert code == 0
    (hit,) = json.loads(capsys.readouterr().out)
    assert hit["path"] == "weather.ipynb" and hit["cell_index"] == 1 and hit["kind"] == "code"


def test_search_batch(workspace, tmp_path):
    batch, out = tmp_path / "q.jsonl", tmp_path / "r.jsonl"
    batch.write_text(
        '{"id": "a", "query": "wind speed"}\n\n{"id": "b", "query": "storms", "mode": "bm25", "k": 1}\n'
    )
    assert (
        cli(
            "search",
            "--batch",
            batch,
            "--out",
            out,
            "--root",
            workspace,
            "--data-dir",
            tmp_path / "data",
            "--no-embeddings",
            "--quiet",
        )
        == 0
    )
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert lines[0]["hits"][0]["text"] == "wind_speed = 3"
    assert [h["path"] for h in lines[1]["hits"]] == ["notes.md"]


@pytest.mark.parametrize(
    "argv, batch_line",
    [
        (["search", "--root", "{root}"], None),  # neither a query nor a batch
        (["search", "q", "--k", "0", "--root", "{root}"], None),
        (["search", "q", "--root", "{missing}"], None),
        (["search", "--batch", "{batch}", "--root", "{root}"], '{"id": 1, "query": ""}'),
        (["search", "--batch", "{batch}", "--root", "{root}"], "not json"),
        # the websocket's and REST's limits: a query of at most 2,000 characters, valid Unicode
        (["search", "q" * 2001, "--root", "{root}"], None),
        (["search", "--batch", "{batch}", "--root", "{root}"], '{"id": 1, "query": "\\ud800"}'),
        (["index", "{missing}"], None),
    ],
)
def test_usage_errors(workspace, tmp_path, argv, batch_line):
    batch = tmp_path / "bad.jsonl"
    if batch_line:
        batch.write_text(batch_line + "\n")
    values = {"root": workspace, "missing": tmp_path / "nope", "batch": batch}
    with pytest.raises(UsageError):
        cli(
            *[a.format(**values) if "{" in a else a for a in argv],
            "--data-dir",
            tmp_path / "data",
            "--quiet",
        )


def test_search_request_schema():
    raw = json.dumps({"type": "search", "id": "1", "query": "plot"})
    request = protocol.parse_request(raw, 10_000)
    assert isinstance(request, SearchRequest) and (request.k, request.mode) == (10, "hybrid")
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_request(
            json.dumps({"type": "search", "id": "1", "query": "q", "mode": "x"}), 10_000
        )


def test_contents_manager_saves_renames_and_deletes_reach_the_index(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    schema = Path(jupyter_server.__file__).parent / "event_schemas" / "contents_service" / "v1.yaml"

    async def scenario():
        logger = EventLogger()
        logger.register_event_schema(schema)
        manager = FileContentsManager(root_dir=str(root), event_logger=logger)
        index = WorkspaceIndex(root, tmp_path / "data", embeddings=False)
        index.start()
        connect(manager, logger, index)
        try:
            model = {
                "type": "file",
                "format": "text",
                "content": "def hurricane_track():\n    pass\n",
            }
            manager.save(model, "storm.py")
            assert index.wait_idle(10)
            assert [h["path"] for h in index.search("hurricane", 5)] == ["storm.py"]

            manager.rename("storm.py", "renamed.py")
            await logger.gather_listeners()
            assert index.wait_idle(10)
            assert [h["path"] for h in index.search("hurricane", 5)] == ["renamed.py"]

            manager.delete("renamed.py")
            await logger.gather_listeners()
            assert index.wait_idle(10)
            assert index.search("hurricane", 5) == []
        finally:
            index.close()

    asyncio.run(scenario())
    assert CONTENTS_SCHEMA.endswith("contents_service/v1")
