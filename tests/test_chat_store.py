"""Chat history in SQLite: sessions per notebook, messages, surviving a restart."""

from __future__ import annotations

import sqlite3

import pytest

from jupyter_cursor.chat import ChatStore


@pytest.fixture
def db(tmp_path):
    return tmp_path / "chat.sqlite3"


def test_history_survives_reopening_the_database(db):
    store = ChatStore(db)
    session = store.create_session("work/analysis.ipynb")
    store.append_message(
        session["id"], "user", "Why is   my\nplot empty?", meta={"sent": [{"kind": "notebook"}]}
    )
    store.append_message(session["id"], "assistant", "Because half an ans", status="cancelled")
    store.close()

    reopened = ChatStore(db)  # a server restart
    (listed,) = reopened.list_sessions("work/analysis.ipynb")
    assert listed["id"] == session["id"] and listed["messages"] == 2
    assert listed["title"] == "Why is my plot empty?"
    messages = reopened.history(session["id"])
    assert [(m["role"], m["content"], m["status"]) for m in messages] == [
        ("user", "Why is   my\nplot empty?", "complete"),
        ("assistant", "Because half an ans", "cancelled"),
    ]
    assert messages[0]["meta"] == {"sent": [{"kind": "notebook"}]}


def test_sessions_are_per_notebook_and_most_recent_first(db):
    store = ChatStore(db)
    a1 = store.create_session("a.ipynb")
    a2 = store.create_session("a.ipynb")
    store.create_session("b.ipynb")
    store.append_message(a1["id"], "user", "later activity")
    assert [s["id"] for s in store.list_sessions("a.ipynb")] == [a1["id"], a2["id"]]
    assert len(store.list_sessions("b.ipynb")) == 1
    assert store.list_sessions("c.ipynb") == []


def test_history_limit_keeps_the_newest_in_order(db):
    store = ChatStore(db)
    sid = store.create_session("a.ipynb")["id"]
    for i in range(6):
        store.append_message(sid, "user" if i % 2 == 0 else "assistant", f"m{i}")
    assert [m["content"] for m in store.history(sid, limit=3)] == ["m3", "m4", "m5"]


def test_delete_removes_the_session_and_its_messages(db):
    store = ChatStore(db)
    sid = store.create_session("a.ipynb")["id"]
    store.append_message(sid, "user", "hello")
    assert store.delete_session(sid) is True
    assert store.get_session(sid) is None and store.history(sid) == []
    assert store.delete_session(sid) is False
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0


def test_a_renamed_notebook_keeps_its_history(db):
    store = ChatStore(db)
    sid = store.create_session("old.ipynb")["id"]
    assert store.rename_path("old.ipynb", "new.ipynb") == 1
    assert [s["id"] for s in store.list_sessions("new.ipynb")] == [sid]
    assert store.list_sessions("old.ipynb") == []


def test_bad_messages_are_refused(db):
    store = ChatStore(db)
    sid = store.create_session("a.ipynb")["id"]
    with pytest.raises(ValueError):
        store.append_message(sid, "system", "x")
    with pytest.raises(ValueError):
        store.append_message(sid, "user", "x", status="lost")
    with pytest.raises(sqlite3.IntegrityError):
        store.append_message("no-such-session", "user", "x")


def test_wal_mode_and_default_location_under_jupyter_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    store = ChatStore()
    assert store.path == tmp_path / "data" / "jupyter_cursor" / "chat.sqlite3"
    with sqlite3.connect(store.path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_database_from_a_newer_version_is_not_touched(db):
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA user_version=99")
    with pytest.raises(RuntimeError, match="newer"):
        ChatStore(db)
