"""The opt-in local log of next-edit suggestions and its export as training lines."""

import json

import pytest

from jupyter_cursor.cli import main
from jupyter_cursor.nextedit.feedback import SuggestionLog, export_training, read_log

CELLS = [{"id": "a", "cell_type": "code", "source": "x = 1"}, {"id": "b", "cell_type": "code", "source": "y"}]


def request(offset=0):
    return {"path": "nb.ipynb", "cells": CELLS, "cursor": {"cell_id": "a", "offset": offset},
            "events": [{"cell_id": "a", "before": "x = 0", "after": "x = 1"}], "ignored": "not logged"}


def shown(log, request_id, cell_id="a", source="x = 2"):
    log.shown(request_id, request(), {"edits": [{"cell_id": cell_id, "source": source}], "predictor": "repeat"})


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
    assert all(entry["request"].keys() == {"path", "cells", "cursor", "events"}
               for entry in read_log(tmp_path / "log.jsonl") if entry["kind"] == "shown")
    lines = list(export_training(tmp_path / "log.jsonl", ["accepted", "rejected", "ignored"]))
    decided = [(line["outcome"], line["suggested"]) for line in lines]
    assert decided == [("accepted", {"a": "x = 2"}), ("ignored", {"a": "x = 2"}),
                       ("rejected", {"a": "x = 3"}), ("ignored", {"b": "y = 2"})]
    accepted = lines[0]
    assert accepted["expected"] == {"a": "x = 2"} and accepted["cross_cell"] is False
    assert accepted["kind"] == "ipynb" and accepted["cells"] == CELLS and accepted["id"] == "local-1"
    assert all(line["expected"] == {} for line in lines[1:])
    default = list(export_training(tmp_path / "log.jsonl"))
    assert [line["outcome"] for line in default] == ["accepted", "rejected"]


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
