"""benchmarks/eval_nextedit.py on a three-example split: the figures it reports are the right ones."""

import gzip
import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "eval_nextedit.py"


@pytest.fixture(scope="module")
def evaluation():
    spec = importlib.util.spec_from_file_location("eval_nextedit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def row(row_id, cells, cursor, events, expected, cross_cell=False):
    return {
        "id": row_id,
        "path": "nb.ipynb",
        "cells": [{"id": i, "cell_type": "code", "source": s} for i, s in cells],
        "cursor": cursor,
        "events": events,
        "expected": expected,
        "cross_cell": cross_cell,
    }


ROWS = [
    # The rename goes on in the next cell: the repeat rule gets it.
    row(
        "cross",
        [("a", "sales = 1\n"), ("b", "print(df)\n")],
        {"cell_id": "a", "offset": 5},
        [{"cell_id": "a", "before": "df = 1\n", "after": "sales = 1\n"}],
        {"b": "print(sales)\n"},
        True,
    ),
    # Nothing follows the edit: quiet is right.
    row(
        "quiet",
        [("a", "x = 2\n")],
        {"cell_id": "a", "offset": 5},
        [{"cell_id": "a", "before": "x = 1\n", "after": "x = 2\n"}],
        {},
    ),
    # The next edit is something no rule guesses.
    row(
        "hard",
        [("a", "y = 1\nz = 3\n")],
        {"cell_id": "a", "offset": 5},
        [{"cell_id": "a", "before": "y = 0\nz = 3\n", "after": "y = 1\nz = 3\n"}],
        {"a": "y = 1\nz = 4\n"},
    ),
]


def test_figures_of_each_predictor_and_baseline(evaluation, tmp_path, capsys):
    with gzip.open(tmp_path / "nes_dev.jsonl.gz", "wt") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in ROWS)
    assert evaluation.main(["--data", str(tmp_path), "--json", str(tmp_path / "out.json")]) == 0
    results = json.loads((tmp_path / "out.json").read_text())
    quiet, shipped = results["baseline: no-edit"], results[evaluation.SHIPPED_NAME]
    assert quiet["exact_match"] == pytest.approx(1 / 3) and quiet["no_edit_precision"] == 1.0
    assert shipped["exact_match"] == pytest.approx(2 / 3) and shipped["cross_cell_exact"] == 1.0
    assert shipped["precision_when_shown"] == 1.0 and shipped["shown_rate"] == pytest.approx(1 / 3)
    assert shipped["reward"] == pytest.approx(0.75 / 3) and shipped["well_formed"] is None
    assert results["baseline: repeat-last-edit"]["cross_cell_exact"] == 0.0
    assert f"| {evaluation.SHIPPED_NAME} (shipped) |" in capsys.readouterr().out


def test_delta_chrf_scores_the_edit_not_the_cell(evaluation):
    before = "a = 1\n" * 50 + "b = 2\n"
    r = {"cells": [{"id": "c", "source": before}]}
    right = before.replace("b = 2", "b = 3")
    assert evaluation.delta_chrf(r, "c", {"c": right}, right) == pytest.approx(1.0)
    wrong = before.replace("b = 2", "b = 9000")
    assert evaluation.delta_chrf(r, "c", {"c": wrong}, right) < 0.6


def test_the_model_gate_is_applied_at_each_threshold(evaluation):
    from jupyter_cursor.nextedit.model import ModelAnswer

    edit = [{"cell_id": "a", "source": "x"}]
    answers = [
        ModelAnswer(edit, True, "stop", confidence=0.9),
        ModelAnswer(edit, True, "stop", confidence=0.4),
        ModelAnswer(edit, True, "stop", confidence=None),
        ModelAnswer([], False, "length"),
        None,
    ]
    shown = lambda threshold: [bool(edits) for edits, _ in evaluation.gated(answers, threshold)]  # noqa: E731
    assert shown(0.0) == [True, True, True, False, False]
    assert shown(0.5) == [True, False, True, False, False]
    assert [formed for _, formed in evaluation.gated(answers, 0.5)] == [
        True,
        True,
        True,
        False,
        None,
    ]
