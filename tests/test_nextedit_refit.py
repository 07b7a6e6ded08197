"""Learning from use (issue 22, item 3): ``jupyter cursor refit-filter`` refits the next-edit filter
on the user's own suggestion log, the server's ranker prefers the weights it writes, ``--reset``
goes back to the shipped ones."""

import asyncio
import json
import logging
import os

import numpy as np
import pytest

from jupyter_cursor.cli import main
from jupyter_cursor.nextedit.feedback import LogError, SuggestionLog, load_log
from jupyter_cursor.nextedit.fit import fit_logistic
from jupyter_cursor.nextedit.predictor import predict
from jupyter_cursor.nextedit.ranker import (
    WEIGHTS,
    candidates,
    current_ranker,
    request_features,
    shipped_ranker,
    user_weights_path,
)
from jupyter_cursor.nextedit.refit import refit
from jupyter_cursor.nextedit.service import NextEditService

NAMES = ["os", "re", "json", "sys", "math", "time", "csv", "abc", "ast", "bz2", "copy", "uuid"]


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """A Jupyter data dir of the test's own: never the user's weights."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def moved(i):
    """``import <b>`` inserted in cell a while cell b holds it too: the move candidate deletes
    b's copy."""
    a, b = NAMES[i % len(NAMES)], NAMES[(i + 5) % len(NAMES)]
    after = f"import {a}\nimport {b}\n"
    return {
        "path": "nb.ipynb",
        "cells": [
            {"id": "a", "cell_type": "code", "source": after},
            {"id": "b", "cell_type": "code", "source": f"x = {i}\nimport {b}\ny = 2\n"},
        ],
        "cursor": {"cell_id": "a", "offset": len(after)},
        "events": [{"cell_id": "a", "before": f"import {a}\n", "after": after}],
    }


def renamed(i):
    """``df<i>`` renamed to ``sales<i>`` in cell a; cell b still uses the old name."""
    old, new = f"df{i}", f"sales{i}"
    after = f"{new} = load()\n{new}.head()\n"
    return {
        "path": "nb.ipynb",
        "cells": [
            {"id": "a", "cell_type": "code", "source": after},
            {"id": "b", "cell_type": "code", "source": f"{old}.plot()\n{old}.hist()"},
        ],
        "cursor": {"cell_id": "a", "offset": len(new)},
        "events": [{"cell_id": "a", "before": f"{old} = load()\n{new}.head()\n", "after": after}],
    }


def scored(request, generator):
    """(candidate, features) of the request's candidate from ``generator``."""
    cursor = request["cursor"]
    args = (request["cells"], cursor["cell_id"], request["events"], cursor["offset"])
    found = candidates(*args)
    features = request_features(*args, found)
    return next((c, f) for c, f in zip(found, features) if generator in c.generators)


def show(log, request_id, request, generator, outcome):
    candidate, _ = scored(request, generator)
    log.shown(request_id, request, {"edits": candidate.edits, "predictor": generator})
    if outcome != "ignored":
        log.outcome(request_id, outcome)


def write_log(path, moves=20, renames=0):
    """``moves`` move suggestions rejected, ``renames`` rename carries accepted."""
    log = SuggestionLog(path)
    for i in range(moves):
        show(log, f"m{i}", moved(i), "move", "rejected")
    for i in range(renames):
        show(log, f"r{i}", renamed(i), "repeat", "accepted")
    return path


def test_a_generator_the_user_always_rejects_scores_lower(tmp_path, data_dir, capsys):
    log = write_log(tmp_path / "log.jsonl", moves=20, renames=10)
    assert main(["refit-filter", "--log", str(log)]) == 0
    out = capsys.readouterr().out
    assert "learnt from 30 of 30 suggestions (10 accepted, 20 rejected, 0 ignored)" in out
    assert str(user_weights_path()) in out and "--reset" in out
    written = json.loads(user_weights_path().read_text())
    shipped = shipped_ranker()
    assert written["weights"]["gen_move"] < shipped.weights["gen_move"]
    assert written["meta"]["refit"]["learnt"] == {"accepted": 10, "rejected": 20}
    mine = current_ranker()
    assert mine is not shipped and mine.weights == written["weights"]
    # A move the log never saw is now less likely; a rename carried, more.
    _, move = scored(moved(40), "move")
    assert mine.probability(move) < shipped.probability(move) - 0.1
    _, carry = scored(renamed(40), "repeat")
    assert mine.probability(carry) > shipped.probability(carry)
    assert (user_weights_path().stat().st_mode & 0o777) == 0o600


def test_twenty_suggestions_move_the_weights_but_do_not_wreck_them(tmp_path):
    model, report = refit(write_log(tmp_path / "log.jsonl", moves=20))
    assert report.examples == 20
    shipped = shipped_ranker()
    moved_by = {k: abs(model["weights"][k] - w) for k, w in shipped.weights.items()}
    assert max(moved_by.values()) < 1.5 and abs(model["intercept"] - shipped.intercept) < 1.5
    # The rename it knew nothing about is still shown, as with the shipped weights.
    request = renamed(1)
    before = predict(request["cells"], "a", request["events"], request["cursor"]["offset"])
    user_weights_path().parent.mkdir(parents=True)
    user_weights_path().write_text(json.dumps(model))
    after = predict(request["cells"], "a", request["events"], request["cursor"]["offset"])
    assert before["edits"] and after["edits"] == before["edits"]


def test_the_server_runs_the_users_weights_while_their_file_is_there(tmp_path, caplog):
    request = moved(3)
    args = (request["cells"], "a", request["events"], request["cursor"]["offset"])
    assert predict(*args)["predictor"] == "move"  # the shipped filter shows the move
    service = NextEditService()
    shown = asyncio.run(service.predict(request))
    assert shown["predictor"] == "move"

    model, _ = refit(write_log(tmp_path / "log.jsonl", moves=40))
    user_weights_path().parent.mkdir(parents=True)
    user_weights_path().write_text(json.dumps(model))
    assert current_ranker().weights == model["weights"]
    assert predict(*args)["edits"] == []
    assert asyncio.run(service.predict(request))["edits"] == []

    # Weights refitted from other shipped weights (an upgrade) are not used: the shipped ones are.
    stale = dict(model, meta={"refit": {"base_sha256": "0" * 64}})
    user_weights_path().write_text(json.dumps(stale))
    os.utime(user_weights_path(), ns=(1, 1))
    with caplog.at_level(logging.WARNING):
        assert current_ranker() is shipped_ranker()
    assert "refit-filter" in caplog.text
    user_weights_path().write_text("{not json")
    os.utime(user_weights_path(), ns=(2, 2))
    assert current_ranker() is shipped_ranker()
    assert predict(*args)["predictor"] == "move"


def test_reset_and_dry_run(tmp_path, capsys):
    log = write_log(tmp_path / "log.jsonl", moves=20)
    assert main(["refit-filter", "--log", str(log), "--dry-run"]) == 0
    assert "dry run: nothing written" in capsys.readouterr().out
    assert not user_weights_path().exists() and current_ranker() is shipped_ranker()
    assert main(["refit-filter", "--log", str(log)]) == 0
    assert user_weights_path().exists() and current_ranker() is not shipped_ranker()
    capsys.readouterr()
    assert main(["refit-filter", "--reset"]) == 0
    assert "removed" in capsys.readouterr().out
    assert not user_weights_path().exists() and current_ranker() is shipped_ranker()
    assert main(["refit-filter", "--reset"]) == 0
    assert "no refitted next-edit filter" in capsys.readouterr().out
    # --out writes elsewhere (the server reads only the default file) and --json reports.
    out = tmp_path / "mine.json"
    assert main(["refit-filter", "--log", str(log), "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["written"] == str(out) and report["learnt"] == {"rejected": 20}
    assert out.exists() and not user_weights_path().exists()
    # The shipped weights are never touched.
    assert json.loads(WEIGHTS.read_text())["weights"] == shipped_ranker().weights


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no suggestion log at"),
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8"),
        (b'{"id": 1, "cells": []}\n{"id": 2, "cells": []}\n', "is not a suggestion log"),
        (b"garbage\n" * 5, "5 of its 5 lines"),
    ],
)
def test_a_log_that_cannot_be_learnt_from_is_a_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "log.jsonl"
    if content is not None:
        path.write_bytes(content)
    assert main(["refit-filter", "--log", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jupyter cursor: error: ") and message in err
    assert "Traceback" not in err and not user_weights_path().exists()


def test_what_is_not_the_rankers_is_skipped_and_said(tmp_path, capsys):
    path = tmp_path / "log.jsonl"
    log = SuggestionLog(path)
    request = moved(0)
    log.shown("1", request, {"edits": [{"cell_id": "a", "source": "x"}], "predictor": "import"})
    log.outcome("1", "accepted")
    log.shown("2", request, {"edits": [{"cell_id": "a", "source": "x"}], "predictor": "move"})
    log.outcome("2", "rejected")
    assert main(["refit-filter", "--log", str(path)]) == 2
    err = capsys.readouterr().err
    assert "nothing to learn from" in err and "not the ranker's (import)" in err
    # A crash-cut line and ignored suggestions: learnt from, the cut line skipped and counted.
    show(log, "3", moved(1), "move", "rejected")
    show(log, "4", moved(2), "move", "ignored")
    with open(path, "a") as handle:
        handle.write('{"kind": "shown", "cut by a cra')
    assert len(load_log(path)[0]) == 7 and load_log(path)[1] == 1
    assert main(["refit-filter", "--log", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "learnt from 2 of 4 suggestions (0 accepted, 1 rejected, 1 ignored)" in out
    assert "1 not the ranker's (import)" in out and "1 no longer a candidate" in out
    assert "1 unreadable lines" in out
    assert main(["refit-filter", "--log", str(path), "--dry-run", "--ignored-weight", "0"]) == 0
    assert "learnt from 1 of 4" in capsys.readouterr().out
    with pytest.raises(LogError):
        load_log(tmp_path)


def test_the_fitter_is_the_recipes_and_its_prior_holds():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5)) * [1.0, 2.0, 0.5, 1.0, 3.0]
    y = (X @ [1.0, -0.5, 2.0, 0.0, 0.3] + rng.normal(size=400) > 0).astype(float)
    scale = X.std(axis=0)
    weights, intercept = fit_logistic(X, y, 1.0, scale=scale)
    sklearn = pytest.importorskip("sklearn.linear_model")
    mean = X.mean(axis=0)
    model = sklearn.LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000)
    model.fit((X - mean) / scale, y)
    assert np.allclose(weights, model.coef_[0] / scale, atol=1e-5)
    assert intercept == pytest.approx(
        model.intercept_[0] - (model.coef_[0] * mean / scale).sum(), abs=1e-5
    )
    # A strong prior keeps the weights at its centre; a weak one lets the data speak.
    centre = np.array([3.0, 3.0, 3.0, 3.0, 3.0])
    held, b = fit_logistic(X, y, 1e-6, prior=centre, prior_intercept=-1.0)
    assert np.allclose(held, centre, atol=1e-3) and b == pytest.approx(-1.0, abs=1e-3)
    free, _ = fit_logistic(X, y, 1e6, prior=centre, prior_intercept=-1.0)
    unpenalised, _ = fit_logistic(X, y, 1e6)
    assert np.allclose(free, unpenalised, atol=1e-3)
    assert not np.allclose(unpenalised, weights, atol=0.1)
