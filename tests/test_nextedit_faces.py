"""Next edit through its faces: the websocket (partials, final reply with timings, outcomes into the
opt-in log) and the CLI (predict single and batch, export-edits)."""

import asyncio
import json

import pytest
import test_nextedit_model
from completions_server import KEY, CompletionsServer
from test_nextedit_model import REQUEST, WANTED
from test_server import next_message

from jupyter_cursor.apply.syntax import syntax_error
from jupyter_cursor.cli import main
from jupyter_cursor.nextedit.context import build_context
from jupyter_cursor.nextedit.formats import FORMATS, get_format

RENAMED = "sales = load()\nsales.head()\n"
RENAME_REQUEST = {
    "path": "x.ipynb",
    "cells": [
        {"id": "a", "cell_type": "code", "source": RENAMED},
        {"id": "b", "cell_type": "code", "source": "df.plot()"},
    ],
    "cursor": {"cell_id": "a", "offset": 5},
    "events": [{"cell_id": "a", "before": "df = load()\nsales.head()\n", "after": RENAMED}],
}
tiny_model = test_nextedit_model.tiny_model  # the fixture
TIMINGS = {"queue_ms", "prefill_ms", "decode_ms", "total_ms"}


@pytest.fixture(scope="module")
def completions():
    target = get_format("jupyter-cursor").target(build_context(REQUEST), {"a": WANTED})
    server = CompletionsServer(target.splitlines(keepends=True) + ["x"], delay=0.01)
    yield server
    server.close()


@pytest.fixture
def nextedit_config(request, tmp_path):
    if request.param == "remote":
        server = request.getfixturevalue("completions")
        return {
            "engine_backend": "remote",
            "engine_remote_url": server.url,
            "engine_remote_model": server.model,
            "engine_remote_api_key": KEY,
            "nextedit_log": True,
            "nextedit_log_path": str(tmp_path / "log.jsonl"),
        }
    return {"engine_model": ""}


@pytest.fixture
def jp_server_config(nextedit_config):
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_cursor": True},
            "allow_unauthenticated_access": False,
        },
        "CursorApp": {"index_enabled": False, **nextedit_config},
    }


def case(name):
    return pytest.mark.parametrize("nextedit_config", [name], indirect=True)


async def ask(ws, request_id, request, kind="nextedit"):
    ws.write_message(json.dumps({"type": kind, "id": request_id, **request}))
    partials = []
    while True:
        message = await next_message(ws, timeout=20)
        if message.get("id") != request_id:
            continue
        if message["type"] == "partial":
            partials.append(message["data"])
        else:
            return partials, message


def test_format_trait_names_every_format():
    from jupyter_cursor.app import CursorApp

    assert set(CursorApp.nextedit_format.values) == set(FORMATS)


@case("none")
async def test_websocket_without_a_model_answers_with_the_rules(jp_ws_fetch):
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    partials, reply = await ask(ws, "r1", RENAME_REQUEST)
    assert partials == [] and reply["type"] == "result"
    result = reply["result"]
    assert (
        result["edits"] == [{"cell_id": "b", "source": "sales.plot()"}]
        and result["predictor"] == "repeat"
    )
    assert set(result["timings"]) == TIMINGS
    _, nothing = await ask(ws, "r2", REQUEST)  # no rule applies, no model: no suggestion
    assert nothing["result"]["edits"] == [] and nothing["result"]["predictor"] is None
    _, logged = await ask(ws, "o1", {"request_id": "r1", "outcome": "accepted"}, "nextedit_outcome")
    assert logged["result"] == {"logged": False}  # the log is opt-in
    _, error = await ask(ws, "bad", {**REQUEST, "cursor": {"cell_id": "gone", "offset": 0}})
    assert error["type"] == "error" and error["error"]["code"] == "bad_message"
    # The client says the language: a Python-only rule (the missing import) keeps to Python.
    use = {
        "path": "a.ipynb",
        "cells": [{"id": "u", "cell_type": "code", "source": "x = np.ones(3)"}],
        "cursor": {"cell_id": "u", "offset": 14},
        "events": [{"cell_id": "u", "before": "x = ", "after": "x = np.ones(3)"}],
    }
    _, python = await ask(ws, "py", {**use, "language": "python"})
    assert python["result"]["predictor"] == "import"
    _, other = await ask(ws, "r", {**use, "language": "R"})
    assert other["result"]["edits"] == []
    ws.close()


@case("remote")
async def test_websocket_streams_model_partials_then_the_final_edit_and_logs_outcomes(
    jp_ws_fetch, jp_serverapp, tmp_path
):
    services = jp_serverapp.web_app.settings["jupyter_cursor"].services
    for _ in range(200):  # the remote backend probes its server first
        if services.state("model").state == "ready":
            break
        await asyncio.sleep(0.05)
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    partials, reply = await ask(ws, "m1", REQUEST)
    assert partials and partials[0] == {
        "edits": [{"cell_id": "a", "source": WANTED}],
        "predictor": "model",
        "partial": True,
    }
    result = reply["result"]
    assert (
        result["edits"] == [{"cell_id": "a", "source": WANTED}] and result["predictor"] == "model"
    )
    assert set(result["timings"]) == TIMINGS and result["timings"]["total_ms"] > 0
    _, logged = await ask(ws, "o1", {"request_id": "m1", "outcome": "rejected"}, "nextedit_outcome")
    assert logged["result"] == {"logged": True}
    _, bad = await ask(ws, "o2", {"request_id": "m1", "outcome": "maybe"}, "nextedit_outcome")
    assert bad["type"] == "error"
    ws.close()

    out = tmp_path / "train.jsonl"
    assert main(["export-edits", "--log", str(tmp_path / "log.jsonl"), "--out", str(out)]) == 0
    (line,) = [json.loads(text) for text in out.read_text().splitlines()]
    assert (
        line["outcome"] == "rejected"
        and line["expected"] == {}
        and line["suggested"] == {"a": WANTED}
    )
    assert line["cells"] == REQUEST["cells"] and line["cursor"] == REQUEST["cursor"]
    assert (tmp_path / "log.jsonl").stat().st_mode & 0o077 == 0  # the user's notebooks, private


def test_cli_predict_single(tmp_path, capsys):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({**RENAME_REQUEST, "expected": {}, "origin": "ignored"}))
    assert main(["predict", "--request", str(path), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (
        answer["edits"] == [{"cell_id": "b", "source": "sales.plot()"}]
        and set(answer["timings"]) == TIMINGS
    )
    assert main(["predict", "--request", str(path)]) == 0
    assert "--- cell b (repeat)\nsales.plot()" in capsys.readouterr().out
    assert main(["predict"]) == 2
    path.write_text(json.dumps({**RENAME_REQUEST, "cursor": {"cell_id": "zz", "offset": 0}}))
    assert main(["predict", "--request", str(path)]) == 2
    assert "not among the cells" in capsys.readouterr().err


def test_cli_predict_batch_echoes_ids(tmp_path):
    lines = [
        {"id": "one", **RENAME_REQUEST, "kind": "ipynb"},
        {"id": "two", "cells": "nope"},
        {"id": "three", **REQUEST},
    ]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(json.dumps(line) for line in lines))
    assert main(["predict", "--batch", str(src), "--out", str(out)]) == 0
    one, two, three = [json.loads(text) for text in out.read_text().splitlines()]
    assert one["id"] == "one" and one["predictor"] == "repeat"
    assert two["id"] == "two" and "error" in two
    assert three == {
        "id": "three",
        "edits": [],
        "predictor": None,
        "returns_cursor": False,
        "timings": three["timings"],
    }


def test_cli_predict_batch_with_a_tiny_random_model(tmp_path, tiny_model):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(
        "\n".join(
            json.dumps({"id": name, **request})
            for name, request in (("m", REQUEST), ("r", RENAME_REQUEST))
        )
    )
    args = [
        "predict",
        "--batch",
        str(src),
        "--out",
        str(out),
        "--model",
        str(tiny_model),
        "--format",
        "zeta",
        "--device",
        "cpu",
        "--quantization",
        "none",
        "--dtype",
        "float32",
        "--threads",
        "1",
    ]
    assert main(args) == 0
    model, rule = [json.loads(text) for text in out.read_text().splitlines()]
    assert model["id"] == "m" and model["model"]["finish_reason"] is not None
    assert all(syntax_error(edit["source"]) is None for edit in model["edits"])
    assert rule["id"] == "r" and rule["predictor"] == "repeat" and "model" not in rule
