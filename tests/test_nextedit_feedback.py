"""The opt-in local log of next-edit suggestions and its export as training lines."""

import json

import pytest

from jupyter_cursor.cli import main
from jupyter_cursor.nextedit.feedback import SuggestionLog, export_training, read_log

CELLS = [
    {"id": "a", "cell_type": "code", "source": "x = 1"},
    {"id": "b", "cell_type": "code", "source": "y"},
]


def request(offset=0):
    return {
        "path": "nb.ipynb",
        "cells": CELLS,
        "cursor": {"cell_id": "a", "offset": offset},
        "events": [{"cell_id": "a", "before": "x = 0", "after": "x = 1"}],
        "ignored": "not logged",
    }


def shown(log, request_id, cell_id="a", source="x = 2"):
    log.shown(
        request_id,
        request(),
        {"edits": [{"cell_id": cell_id, "source": source}], "predictor": "repeat"},
    )


def test_outcomes_pair_with_the_latest_suggestion_of_their_id(tmp_path):
    log = SuggestionLog(tmp_path / "log.jsonl")
    shown(log, "1")
    log.outcome("1", "accepted")
    shown(log, "2", "b", "y = 2")  # never decided: ignored
    shown(log, "3")
    shown(log, "3", source="x = 3")  # a new connection reuses the id: the first was ignored
    log.outcome("3", "rejected")
    log.outcome("unknown", "accepted")
    with open(tmp_path / "log.jsonl", "a") as handle:
        handle.write('{"kind": "shown", "cut by a cra')
    assert all(
        entry["request"].keys() == {"path", "cells", "cursor", "events"}
        for entry in read_log(tmp_path / "log.jsonl")
        if entry["kind"] == "shown"
    )
    lines = list(export_training(tmp_path / "log.jsonl", ["accepted", "rejected", "ignored"]))
    decided = sorted((line["outcome"], json.dumps(line["suggested"])) for line in lines)
    assert decided == [
        ("accepted", '{"a": "x = 2"}'),
        ("ignored", '{"a": "x = 2"}'),
        ("ignored", '{"b": "y = 2"}'),
        ("rejected", '{"a": "x = 3"}'),
    ]
    accepted = next(line for line in lines if line["outcome"] == "accepted")
    assert accepted["expected"] == {"a": "x = 2"} and accepted["cross_cell"] is False
    assert accepted["kind"] == "ipynb" and accepted["cells"] == CELLS
    assert all(line["expected"] == {} for line in lines if line is not accepted)
    default = list(export_training(tmp_path / "log.jsonl"))
    assert sorted(line["outcome"] for line in default) == ["accepted", "rejected"]
    assert [line["id"] for line in default] == ["local-1", "local-2"]


def test_outcomes_per_cell_of_a_suggestion(tmp_path):
    log = SuggestionLog(tmp_path / "log.jsonl")
    log.shown(
        "1",
        request(),
        {
            "edits": [{"cell_id": "a", "source": "x = 2"}, {"cell_id": "b", "source": "y = 2"}],
            "predictor": "model",
        },
    )
    log.outcome("1", "rejected", "a")
    log.outcome("1", "accepted", "b")
    log.outcome("1", "rejected", "b")  # the first outcome of a cell counts
    (line,) = export_training(tmp_path / "log.jsonl")
    assert line["outcome"] == "accepted" and line["outcomes"] == {"a": "rejected", "b": "accepted"}
    assert line["expected"] == {"b": "y = 2"} and line["cross_cell"] is True


def test_the_log_stops_growing_at_its_limit_and_refuses_unknown_outcomes(tmp_path):
    log = SuggestionLog(tmp_path / "log.jsonl", max_bytes=600)
    for i in range(10):
        shown(log, str(i))
    assert (tmp_path / "log.jsonl").stat().st_size <= 600
    with pytest.raises(ValueError):
        log.outcome("1", "maybe")


def test_cli_export_edits(tmp_path, capsys):
    log = SuggestionLog(tmp_path / "log.jsonl")
    shown(log, "1", "b", "y = 2")
    log.outcome("1", "accepted")
    out = tmp_path / "train.jsonl"
    assert main(["export-edits", "--log", str(tmp_path / "log.jsonl"), "--out", str(out)]) == 0
    (line,) = [json.loads(text) for text in out.read_text().splitlines()]
    assert line["expected"] == {"b": "y = 2"} and line["cross_cell"] is True
    assert "1 suggestions exported" in capsys.readouterr().err
    assert main(["export-edits", "--log", str(tmp_path / "log.jsonl"), "--outcomes", "maybe"]) == 2
    assert main(["export-edits", "--log", str(tmp_path / "missing.jsonl")]) == 2
