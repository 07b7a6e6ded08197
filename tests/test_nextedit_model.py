"""The model predictor and the ensemble service over real runtimes: a tiny random local model
(real loading code; gibberish out, so no edit and never a broken cell) and the remote backend
against a local completions server that streams a scripted answer."""

import asyncio

import pytest
import test_engine_remote
from completions_server import KEY

from jupyter_cursor.apply.syntax import syntax_error
from jupyter_cursor.engine import EngineConfig, create_runtime
from jupyter_cursor.engine.testing import build_random_model, cpu_config
from jupyter_cursor.nextedit.formats import FORMATS, get_format
from jupyter_cursor.nextedit.model import ModelPredictor
from jupyter_cursor.nextedit.service import NextEditService, load_model_service

SOURCE = (
    "import math\n\n\ndef area(radius):\n    return math.pi * radius * radius\n\n\nprint(area(2))\n"
)
EDITED = SOURCE.replace("(radius):\n", '(radius):\n    """The area of a circle."""\n')
REQUEST = {
    "path": "shapes.ipynb",
    "cells": [
        {"id": "a", "cell_type": "code", "source": EDITED},
        {"id": "b", "cell_type": "markdown", "source": "Areas"},
    ],
    "cursor": {"cell_id": "a", "offset": EDITED.index('circle."""') + 10},
    # A docstring added: no rule repeats that, so the model answers.
    "events": [{"cell_id": "a", "before": SOURCE, "after": EDITED}],
}
serve = test_engine_remote.serve  # the fixture: a completions server per test
WANTED = EDITED.replace("math.pi * radius * radius", "math.pi * radius**2")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_random_model(tmp_path_factory.mktemp("models") / "tiny")


async def remote_service(server, log=None):
    config = EngineConfig(
        backend="remote", remote_url=server.url, remote_model=server.model, remote_api_key=KEY
    )
    return await load_model_service(config, "jupyter-cursor", log)


def lines(text):
    return text.splitlines(keepends=True)


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_tiny_random_model_gives_no_edit_and_never_a_broken_cell(tiny_model, format_name):
    config = cpu_config(tiny_model, max_new_tokens=64)

    async def main():
        service = await load_model_service(config, format_name)
        try:
            return await service.predict(REQUEST)
        finally:
            service.model.runtime.close()

    answer = asyncio.run(main())
    for edit in answer["edits"]:  # random weights: almost surely none, and never a broken cell
        assert syntax_error(edit["source"]) is None
    model = answer["model"]
    assert model["finish_reason"] in ("length", "eos", "stop", "rejoined")
    assert model["well_formed"] == (model["finish_reason"] != "length" and model["refused"] is None)
    timings = answer["timings"]
    assert set(timings) == {"queue_ms", "prefill_ms", "decode_ms", "total_ms"}
    assert timings["prefill_ms"] > 0 and timings["total_ms"] >= timings["prefill_ms"]


def test_streams_partial_edits_then_the_final_one(serve):
    target = get_format("jupyter-cursor").target(build(REQUEST), {"a": WANTED})
    server = serve(lines(target) + ["never read"], delay=0.01)
    partials = []

    async def main():
        service = await remote_service(server)
        return await service.predict(REQUEST, partials.append)

    answer = asyncio.run(main())
    assert answer["edits"] == [{"cell_id": "a", "source": WANTED}]
    assert answer["predictor"] == "model" and answer["model"]["well_formed"]
    assert answer["model"]["finish_reason"] in ("stop", "rejoined")
    assert set(answer["timings"]) == {"queue_ms", "prefill_ms", "decode_ms", "total_ms"}
    # The edited line arrives before the end: the partial shows it with the rest unchanged.
    assert partials and partials[0] == {
        "edits": [{"cell_id": "a", "source": WANTED}],
        "predictor": "model",
        "partial": True,
    }
    sent = server.requests[-1]["json"]
    assert sent["stop"] == ["<|end|>"] and sent["prompt"].endswith("<|rewrite|>\n")


@pytest.mark.parametrize("format_name", ["zeta", "sweep-autocomplete"])
def test_a_notebook_shown_as_one_file_comes_back_as_an_edit_of_its_cell(serve, format_name):
    """The model sees the notebook as one `# %%` file (`shapes.py`) and rewrites that file's
    region; the suggestion is the edit of the cursor's cell."""
    from jupyter_cursor.nextedit.context import build_context

    fmt = get_format(format_name)
    ctx = build_context(REQUEST, budget=fmt.budget, as_file=True)
    server = serve(lines(fmt.target(ctx, {"a": WANTED})), delay=0.01)

    async def main():
        config = EngineConfig(
            backend="remote", remote_url=server.url, remote_model=server.model, remote_api_key=KEY
        )
        service = await load_model_service(config, format_name)
        return await service.predict(REQUEST)

    answer = asyncio.run(main())
    assert answer["edits"] == [{"cell_id": "a", "source": WANTED}]
    prompt = server.requests[-1]["json"]["prompt"]
    assert "shapes.py" in prompt and "# %% [markdown]" in prompt and "#a" not in prompt


def build(request):
    from jupyter_cursor.nextedit.context import build_context

    return build_context(request)


def test_a_newer_request_for_the_same_notebook_replaces_the_older(serve):
    target = get_format("jupyter-cursor").target(build(REQUEST), {"a": WANTED})
    server = serve(lines(target) + ["x"], delay=0.2)

    async def main():
        service = await remote_service(server)
        older = asyncio.create_task(service.predict(REQUEST))
        await asyncio.sleep(0.3)
        newer = await service.predict(REQUEST)
        return await older, newer

    older, newer = asyncio.run(main())
    assert older["edits"] == [] and older["model"]["finish_reason"] == "replaced"
    assert newer["edits"] == [{"cell_id": "a", "source": WANTED}]


def test_an_answer_that_undoes_the_users_edit_is_refused(serve):
    server = serve(lines(SOURCE) + ["<|end|>", "x"])  # the cell as it was before the edit

    async def main():
        return await (await remote_service(server)).predict(REQUEST)

    answer = asyncio.run(main())
    assert answer["edits"] == [] and answer["model"]["refused"] == "undoes the last edit"


def test_a_model_server_gone_mid_session_is_no_suggestion_not_an_error(serve):
    server = serve(["<|end|>"])

    async def main():
        service = await remote_service(server)
        server.close()
        return await service.predict(REQUEST)

    answer = asyncio.run(main())
    assert answer["edits"] == [] and answer["model"]["finish_reason"] == "error"
    assert answer["model"]["refused"].startswith("unreachable")


def test_an_enormous_line_at_the_cursor_is_not_sent_to_the_model(serve):
    server = serve(["<|end|>"])
    data = "rows = " + repr(list(range(20_000))) + "\n"
    request = {
        "path": "big.ipynb",
        "cells": [{"id": "a", "cell_type": "code", "source": data}],
        "cursor": {"cell_id": "a", "offset": 3},
        "events": [],
    }

    async def main():
        return await (await remote_service(server)).predict(request)

    answer = asyncio.run(main())
    assert answer["edits"] == [] and answer["model"]["well_formed"] is None
    assert "too long" in answer["model"]["refused"]
    assert [r for r in server.requests if r["path"].endswith("/completions")] == []


def test_deterministic_predictors_answer_without_asking_the_model(serve):
    server = serve(["<|end|>"])
    renamed = "sales = load()\nsales.head()\n"
    request = {
        "path": "x.ipynb",
        "cells": [
            {"id": "a", "cell_type": "code", "source": renamed},
            {"id": "b", "cell_type": "code", "source": "df.plot()"},
        ],
        "cursor": {"cell_id": "a", "offset": 5},
        "events": [{"cell_id": "a", "before": "df = load()\nsales.head()\n", "after": renamed}],
    }

    async def main():
        return await (await remote_service(server)).predict(request)

    answer = asyncio.run(main())
    assert answer["predictor"] == "repeat" and answer["edits"] == [
        {"cell_id": "b", "source": "sales.plot()"}
    ]
    assert [r for r in server.requests if r["path"].endswith("/completions")] == []


def test_without_a_model_the_deterministic_ensemble_answers_alone():
    runtime = create_runtime(EngineConfig(model=""))
    service = NextEditService(ModelPredictor(runtime, get_format("jupyter-cursor")))
    answer = asyncio.run(service.predict(REQUEST))
    assert answer["edits"] == [] and answer["predictor"] is None and "model" not in answer


def test_a_model_that_fails_to_load_is_reported(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(RuntimeError, match="did not load"):
        asyncio.run(load_model_service(EngineConfig(model=str(tmp_path), device="cpu"), "zeta"))


def test_an_answer_the_model_is_not_sure_of_is_not_shown():
    fmt = get_format("jupyter-cursor")
    ctx = build(REQUEST)
    target = fmt.target(ctx, {"a": WANTED})
    predictor = ModelPredictor(runtime=None, fmt=fmt, min_confidence=0.5)
    unsure = predictor.finish(ctx, target, "stop", {}, confidence=0.3)
    assert unsure.edits == [] and unsure.well_formed and unsure.confidence == 0.3
    assert unsure.refused == "not sure enough (0.30 < 0.50)"
    sure = predictor.finish(ctx, target, "stop", {}, confidence=0.7)
    assert sure.edits == [{"cell_id": "a", "source": WANTED}] and sure.refused is None
    # A backend that tells no probabilities (remote) is not gated by them; "no edit" never is.
    assert predictor.finish(ctx, target, "stop", {}, confidence=None).edits == sure.edits
    quiet = predictor.finish(ctx, fmt.original(ctx), "stop", {}, confidence=0.1)
    assert quiet.edits == [] and quiet.refused is None
