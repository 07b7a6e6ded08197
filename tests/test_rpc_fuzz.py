"""Property: whatever a client sends, every request gets exactly one terminal reply, never
``internal``, and the connection stays usable.

Requests of every registered type are generated from their own schemas (protocol.py's
dataclasses), with each field sometimes well-formed, sometimes of the wrong type, sometimes at or
past its limit, sometimes holding a lone surrogate, a NUL byte or code nested too deep to parse,
and thrown at the RPC session of a real server (its index, apply, next-edit, chat and refactor,
a chat provider on a fake LLM server). FUZZ_EXAMPLES sets how many (300 by default; the figure in
benchmarks/RESULTS.md, Reliability, ran 3,000).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import os
import types
import typing
from typing import Annotated, Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server_support import provider_config

from jupyter_cursor import protocol
from jupyter_cursor.rpc import RpcSession

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
SECRET = "sk-fuzz-0123456789abcdef"
LLM_API_KEY = SECRET  # what the fake LLM server (conftest's `llm`) asks for
IDS = ["a", "b", "c"]
TERMINAL = {"result", "error", "cancelled"}

CODE = st.sampled_from(
    [
        "import pandas as pd\ndf = pd.read_csv('data.csv')\n",
        "def f(x):\n    return x + 1\n",
        "x = 1\ny = x + undefined_name\n",
        "%matplotlib inline\n!pip install numpy\nplot(df)",
        "1+" * 5000 + "1",
        "(" * 300 + ")" * 300,
        "x = 'unterminated",
        "a\x00b",
        "@file:notes.ipynb what is in it?",
        "@file:x.py\x00y",
        "@file:" + "d/" * 3000 + "f.py",
        "```python\n# cell: a\nx = 2\n```",
        "<<<<<<< SEARCH\nx = 1\n=======\nx = 3\n>>>>>>> REPLACE",
    ]
)
# What an engine may well accept: short text, cell ids, code (where a field takes long text).
TEXT = st.one_of(
    st.sampled_from(IDS), st.text(max_size=30), st.sampled_from(["x.py", "nb.ipynb", "df"])
)
# What no field should accept, or only just.
HOSTILE_TEXT = st.one_of(
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),  # lone surrogates
    st.sampled_from(["", " ", "\x00", "x" * 2001, "y" * 5000, "z" * 400_001]),
)
JUNK = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
INTS = st.integers(-5, 100)
HOSTILE_INTS = st.sampled_from([10**30, -(10**30), 2**53, 2**63, -1])
_MISSING = object()


class Schemas:
    """Strategies for the fields of the protocol's dataclasses. Hostile: a field is sometimes
    missing, of another type, or a value past its limits; otherwise well-formed, so that the
    request reaches the engines (cursors in existing cells, ids that collide, code to apply)."""

    def __init__(self, hostile: bool):
        self.hostile = hostile

    def field(self, annotation: Any) -> st.SearchStrategy:
        typed = self.typed(annotation)
        return st.one_of(typed, typed, typed, JUNK) if self.hostile else typed

    def typed(self, annotation: Any) -> st.SearchStrategy:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            inner, *extras = typing.get_args(annotation)
            limit = next((e.limit for e in extras if isinstance(e, protocol.MaxLen)), None)
            if inner is str and limit is not None and limit <= protocol.MAX_ID_LENGTH:
                return (
                    st.one_of(st.sampled_from(IDS), HOSTILE_TEXT)
                    if self.hostile
                    else st.sampled_from(IDS)
                )
            if inner is str and limit is not None and limit > protocol.MAX_SHORT_CHARS:
                return (
                    st.one_of(TEXT, CODE, HOSTILE_TEXT) if self.hostile else st.one_of(TEXT, CODE)
                )
            return self.typed(inner)
        if origin is Literal:
            return st.sampled_from(typing.get_args(annotation))
        if origin in (typing.Union, types.UnionType):
            return st.one_of([self.typed(option) for option in typing.get_args(annotation)])
        if annotation is type(None):
            return st.none()
        if origin is list:
            return st.lists(self.field(typing.get_args(annotation)[0]), max_size=4)
        if origin is dict:
            return st.dictionaries(
                self.typed(str), self.field(typing.get_args(annotation)[1]), max_size=3
            )
        if dataclasses.is_dataclass(annotation):
            return self.fields(annotation)
        if annotation is bool:
            return st.booleans()
        if annotation in (int, float):
            numbers = INTS | st.floats(-5, 100) if annotation is float else INTS
            return st.one_of(numbers, HOSTILE_INTS) if self.hostile else numbers
        if annotation is str:
            return st.one_of(TEXT, HOSTILE_TEXT) if self.hostile else TEXT
        raise TypeError(annotation)

    def fields(self, cls: type, envelope: bool = False) -> st.SearchStrategy:
        """A dict for ``cls``; for a request (``envelope``) without its id, which is the test's."""
        hints = typing.get_type_hints(cls, include_extras=True)
        fields = {
            f.name: self.field(hints[f.name])
            for f in dataclasses.fields(cls)
            if not (envelope and f.name == "id")
        }
        if self.hostile:
            fields = {
                name: st.one_of(strategy, strategy, strategy, st.just(_MISSING))
                for name, strategy in fields.items()
            }
        return st.fixed_dictionaries(fields).map(
            lambda d: {k: v for k, v in d.items() if v is not _MISSING}
        )


def requests() -> st.SearchStrategy:
    """A raw websocket message: a request of a registered type, well-formed or hostile, or
    something that is not a request at all."""
    names = st.sampled_from(sorted(n for n in protocol.REQUEST_TYPES if not n.startswith("test_")))

    def of(schemas: Schemas) -> st.SearchStrategy:
        return names.flatmap(
            lambda name: schemas.fields(protocol.REQUEST_TYPES[name], envelope=True).map(
                lambda body, name=name: ("json", {**body, "type": name})
            )
        )

    raw = st.one_of(
        st.sampled_from(
            [
                "[" * 100_000 + "]" * 100_000,
                '{"type": "ping", "id": "deep", "x": ' + "[" * 70 + "]" * 70 + "}",
                "not json",
                '"a string"',
                "null",
            ]
        ),
        st.text(max_size=20),
    ).map(lambda text: ("raw", text))
    return st.one_of(of(Schemas(hostile=False)), of(Schemas(hostile=True)), raw)


@pytest.fixture
def jp_server_config(llm, monkeypatch):
    monkeypatch.setenv("FUZZ_LLM_KEY", SECRET)
    return provider_config(llm, api_key_env="FUZZ_LLM_KEY")


async def test_no_request_gets_internal_or_drops_the_connection(
    jp_serverapp, jp_root_dir, jp_ws_fetch
):
    (jp_root_dir / "notes.ipynb").write_text(
        json.dumps({"cells": {"not": "a list"}, "nbformat": 4})
    )
    (jp_root_dir / "analysis.py").write_text(
        "import pandas as pd\n\ndef load():\n    return pd.read_csv('x')\n"
    )
    services = jp_serverapp.web_app.settings["jupyter_cursor"].services
    limit = jp_serverapp.web_app.settings["jupyter_cursor"].max_message_bytes
    loop = asyncio.get_running_loop()
    sent: list[dict] = []
    session = RpcSession(services, sent.append, limit)
    counter = iter(range(10**9))
    tried: list[str] = []
    outcomes: collections.Counter = collections.Counter()

    async def exchange(kind: str, payload: Any) -> list[dict]:
        """The terminal replies to one message (one at a time: all that arrive are its own)."""
        del sent[:]
        if kind == "json":
            session.receive(json.dumps({**payload, "id": f"f{next(counter)}"}))
        else:
            session.receive(payload)
        for _ in range(2000):  # 20 s at most
            if any(m["type"] in TERMINAL for m in sent):
                await asyncio.sleep(0.005)  # a second terminal reply would show now
                break
            await asyncio.sleep(0.01)
        return [m for m in sent if m["type"] in TERMINAL]

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(requests())
    def check(message):
        kind, payload = message
        tried.append(payload.get("type") if kind == "json" else "raw")
        replies = asyncio.run_coroutine_threadsafe(exchange(kind, payload), loop).result(60)
        assert len(replies) == 1, (message, sent)
        error = replies[0].get("error") or {}
        outcomes[error.get("code", replies[0]["type"])] += 1
        assert error.get("code") != protocol.ErrorCode.INTERNAL, (message, error)
        assert SECRET not in json.dumps(sent)

    await asyncio.to_thread(check)
    print(
        f"fuzz: {len(tried)} messages, 0 internal; by type: {dict(collections.Counter(tried))}; "
        f"replies: {dict(outcomes)}"
    )
    assert session.in_flight == []
    # Every request type was tried, and the real websocket still answers after the worst of them.
    assert set(tried) >= {n for n in protocol.REQUEST_TYPES if not n.startswith("test_")} | {"raw"}
    ws = await jp_ws_fetch("jupyter-cursor", "ws")
    json.loads(await ws.read_message())
    for raw in (
        "[" * 100_000 + "]" * 100_000,
        json.dumps({"type": "search", "id": "s", "query": "\ud800"}),
    ):
        ws.write_message(raw)
        reply = json.loads(await asyncio.wait_for(ws.read_message(), 10))
        assert reply["type"] == "error" and reply["error"]["code"] in ("bad_json", "bad_message"), (
            reply
        )
    ws.write_message(json.dumps({"type": "ping", "id": "alive"}))
    assert json.loads(await asyncio.wait_for(ws.read_message(), 10))["id"] == "alive"
    ws.close()
