"""Workspace search through the real server: REST, websocket, freshness on save, status."""

import asyncio
import json

import pytest
import tornado.httpclient

HIT_KEYS = {
    *("path", "cell_id", "cell_index", "start_line", "end_line", "kind", "score", "text"),
    "matched",
}


def notebook(*sources):
    return {
        "type": "notebook",
        "content": {
            "cells": [
                {
                    "cell_type": "code",
                    "id": f"cell{i}",
                    "metadata": {},
                    "outputs": [],
                    "execution_count": None,
                    "source": source,
                }
                for i, source in enumerate(sources)
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
    }


async def wait_until(predicate, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def search(jp_fetch, q, **params):
    response = await jp_fetch("jupyter-cursor", "search", params={"q": q, **params})
    return json.loads(response.body)["hits"]


async def test_saved_notebook_is_searchable_within_a_second(jp_fetch):
    await jp_fetch("jupyter-cursor", "status")
    body = notebook("import pandas", "quarterly_revenue = sales.groupby('quarter').sum()")
    loop = asyncio.get_running_loop()
    await jp_fetch("api", "contents", "report.ipynb", method="PUT", body=json.dumps(body))
    saved = loop.time()

    async def found():
        hits = await search(jp_fetch, "quarterly revenue", mode="bm25")
        return [h for h in hits if h["path"] == "report.ipynb"]

    hits = await wait_until(found, timeout=5)
    assert loop.time() - saved < 1.0
    assert set(hits[0]) == HIT_KEYS
    assert (hits[0]["cell_id"], hits[0]["cell_index"]) == ("cell1", 1)
    # matched by its parts, shown whole; "quarter" shares the stem of "quarterly"
    assert hits[0]["matched"] == ["quarterly_revenue", "quarter"]


async def test_rename_and_delete_through_contents_api_are_reflected(jp_fetch):
    body = notebook("def compute_churn_rate(users):\n    return 0.1")
    await jp_fetch("api", "contents", "old.ipynb", method="PUT", body=json.dumps(body))

    async def paths():
        return {h["path"] for h in await search(jp_fetch, "churn rate", mode="bm25")}

    await wait_until(lambda: _has(paths, "old.ipynb"))
    await jp_fetch(
        "api", "contents", "old.ipynb", method="PATCH", body=json.dumps({"path": "new.ipynb"})
    )
    await wait_until(lambda: _equals(paths, {"new.ipynb"}))
    await jp_fetch("api", "contents", "new.ipynb", method="DELETE")
    await wait_until(lambda: _equals(paths, set()))


async def _has(paths, path):
    return path in await paths()


async def _equals(paths, expected):
    return await paths() == expected


@pytest.mark.parametrize(
    "params, message",
    [
        ({"q": ""}, "empty"),
        ({"q": "x", "k": "many"}, "k must be an integer"),
        ({"q": "x", "k": "0"}, "k"),
        ({"q": "x", "mode": "psychic"}, "mode"),
        ({"q": "x" * 3000}, "longer than"),
    ],
)
async def test_bad_search_requests_are_400(jp_fetch, params, message):
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch("jupyter-cursor", "search", params=params)
    assert info.value.code == 400
    assert message in json.loads(info.value.response.body)["message"]


async def test_search_requires_authentication(jp_fetch):
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch("jupyter-cursor", "search", params={"q": "x"}, headers={"Authorization": ""})
    assert info.value.code == 403


@pytest.fixture
def root_files(jp_root_dir, request):
    """Files on disk before the server starts (its first scan finds them; a file written behind
    the server's back later is only seen on the next scan). List it before jp_fetch."""
    for name, text in request.param.items():
        (jp_root_dir / name).write_text(text)


def files(named: dict):
    return pytest.mark.parametrize("root_files", [named], indirect=True)


@files(
    {"broken.ipynb": "{ this is not a notebook", "fine.py": "def hello():\n    return 'world'\n"}
)
async def test_status_reports_the_index_and_a_corrupt_notebook(root_files, jp_fetch):
    await jp_fetch("jupyter-cursor", "status")

    async def ready():
        status = json.loads((await jp_fetch("jupyter-cursor", "status")).body)
        index = status["services"]["index"]
        return index if index["state"] == "ready" else None

    index = await wait_until(ready, timeout=60)
    assert index["files"] >= 1
    assert [c["path"] for c in index["corrupt"]] == ["broken.ipynb"]
    assert index["modes"] == ["bm25"]


@files({"tools.py": "def normalise_phone_number(raw):\n    return raw\n"})
async def test_search_over_the_websocket(root_files, jp_ws_fetch):
    ws = await jp_ws_fetch("jupyter-cursor", "ws")

    async def hits():
        ws.write_message(
            json.dumps({"type": "search", "id": "s", "query": "phone number", "mode": "bm25"})
        )
        while True:
            reply = json.loads(await ws.read_message())
            if reply.get("id") == "s":
                return reply["result"]["hits"]

    found = await wait_until(hits)
    assert found[0]["path"] == "tools.py" and found[0]["kind"] == "function"
    ws.write_message(json.dumps({"type": "search", "id": "bad", "query": "x", "mode": "nope"}))
    while True:
        reply = json.loads(await ws.read_message())
        if reply.get("id") == "bad":
            break
    assert reply["type"] == "error" and reply["error"]["code"] == "bad_message"
    ws.close()


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["CursorApp"]["index_rescan_seconds"] = 0.5
    return jp_server_config


async def test_a_file_written_behind_the_servers_back_is_found_by_the_rescan(jp_fetch, jp_root_dir):
    async def scanned():
        status = json.loads((await jp_fetch("jupyter-cursor", "status")).body)
        return status["services"]["index"]["state"] == "ready"

    await wait_until(scanned, timeout=60)  # the first scan is over: only a rescan can find it
    (jp_root_dir / "later.py").write_text("def reconcile_ledger_entries(book):\n    return book\n")

    async def found():
        return [
            h
            for h in await search(jp_fetch, "reconcile ledger", mode="bm25")
            if h["path"] == "later.py"
        ]

    assert await wait_until(found, timeout=30)
