"""The learned next-edit filter and ranker (nextedit/ranker.py): the shipped weights, its choices,
and predict() with it (the default) and without it (rules only). The user's refitted weights:
test_nextedit_refit.py."""

import json
import time

import pytest

from jupyter_cursor.nextedit import predictor as predictor_mod
from jupyter_cursor.nextedit.predictor import predict
from jupyter_cursor.nextedit.ranker import (
    WEIGHTS,
    Ranker,
    candidates,
    request_features,
    shipped_ranker,
)


@pytest.fixture(autouse=True)
def no_user_weights(tmp_path, monkeypatch):
    """A Jupyter data dir without a refitted filter: these tests are about the shipped one."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))


def code(cell_id, source, cell_type="code"):
    return {"id": cell_id, "cell_type": cell_type, "source": source}


def renamed():
    """``df`` renamed to ``sales`` in cell a; cell b still uses ``df``."""
    cells = [code("a", "sales = load()\nsales.head()\n"), code("b", "df.plot()\ndf.hist()")]
    events = [
        {"cell_id": "a", "before": "df = load()\nsales.head()\n", "after": cells[0]["source"]}
    ]
    return cells, events


def test_the_shipped_weights_are_small_plain_numbers_and_load_fast():
    assert WEIGHTS.is_file() and WEIGHTS.stat().st_size < 100_000
    data = json.loads(WEIGHTS.read_text())
    assert data["kind"] == "logistic" and 0.0 < data["threshold"] < 1.0
    assert all(isinstance(w, float | int) for w in data["weights"].values())
    assert isinstance(data["intercept"], float | int)
    assert not any(
        marker in WEIGHTS.read_text() for marker in ("import ", "lambda", "__", "pickle")
    )
    shipped_ranker.cache_clear()
    started = time.perf_counter()
    ranker = shipped_ranker()
    assert time.perf_counter() - started < 1.0
    assert ranker is not None and set(ranker.weights) == set(data["weights"])


def test_every_feature_the_ranker_computes_has_a_shipped_weight():
    cells, events = renamed()
    found = candidates(cells, "a", events, 5)
    assert found
    features = request_features(cells, "a", events, 5, found)
    ranker = shipped_ranker()
    for f in features:
        assert set(f) <= set(ranker.weights)
        assert 0.0 <= ranker.probability(f) <= 1.0


def test_identical_candidates_are_merged_and_remember_who_proposed_them():
    cells, events = renamed()
    found = candidates(cells, "a", events, 5)
    keys = [c.key for c in found]
    assert len(keys) == len(set(keys))
    carried = [
        c for c in found if c.edits == [{"cell_id": "b", "source": "sales.plot()\nsales.hist()"}]
    ]
    # The run of lines that use ``df``, repeated; the rename carried everywhere is the same edit.
    assert carried and {"repeat", "repeat-any", "rename"} <= set(carried[0].generators)


def test_a_markdown_edit_is_not_carried_into_code():
    cells = [
        code("m", "Results &mdash; see below", "markdown"),
        code("c", "plt.title('a -- b')"),
    ]
    events = [{"cell_id": "m", "before": "Results -- see below", "after": cells[0]["source"]}]
    found = candidates(cells, "m", events, 10)
    assert all(e["cell_id"] == "m" for c in found for e in c.edits)
    assert predict(cells, "m", events, 10)["edits"] == []


def test_a_moved_line_has_its_other_copy_deleted():
    cells = [code("a", "import os\nimport re\n"), code("b", "x = 1\nimport re\ny = 2\n")]
    events = [{"cell_id": "a", "before": "import os\n", "after": cells[0]["source"]}]
    found = candidates(cells, "a", events, len(cells[0]["source"]))
    moved = [c for c in found if "move" in c.generators]
    assert moved and moved[0].edits == [{"cell_id": "b", "source": "x = 1\ny = 2\n"}]


def test_a_candidate_the_filter_rejects_is_not_shown():
    cells, events = renamed()
    found = candidates(cells, "a", events, 5)
    features = request_features(cells, "a", events, 5, found)
    eager = Ranker({}, intercept=0.0, threshold=0.4)  # every candidate at p = 0.5
    assert eager.choose(found, features)[0] is not None
    strict = Ranker({}, intercept=0.0, threshold=0.6)
    chosen, p = strict.choose(found, features)
    assert chosen is None and p == pytest.approx(0.5)


def test_predict_uses_the_ranker_unless_asked_for_the_rules(monkeypatch):
    cells, events = renamed()
    rules = predict(cells, "a", events, 5, rules_only=True)
    assert rules["predictor"] == "repeat"
    assert rules["edits"] == [{"cell_id": "b", "source": "sales.plot()\nsales.hist()"}]
    # A ranker that rejects everything: the default shows nothing, the rules still answer.
    monkeypatch.setattr(predictor_mod, "current_ranker", lambda: Ranker({}, -10.0, 0.5))
    assert predict(cells, "a", events, 5)["edits"] == []
    assert predict(cells, "a", events, 5, rules_only=True)["edits"] == rules["edits"]
    # One that likes the repeat: it shows the candidate it scores best.
    liking = Ranker({"gen_repeat": 20.0, "place": -5.0}, -10.0, 0.5)
    monkeypatch.setattr(predictor_mod, "current_ranker", lambda: liking)
    chosen = predict(cells, "a", events, 5)
    assert chosen["predictor"] == "repeat"
    assert chosen["edits"] == [{"cell_id": "b", "source": "sales.plot()\nsales.hist()"}]


def test_predict_with_the_shipped_ranker_answers_quickly_and_keeps_quiet_without_events():
    cells, events = renamed()
    predict(cells, "a", events, 5)  # loads the weights
    started = time.perf_counter()
    for _ in range(20):
        result = predict(cells, "a", events, 5)
    assert (time.perf_counter() - started) / 20 < 0.02
    assert result["predictor"] in (None, "repeat", "repeat-any", "rename", "lines")
    assert predict(cells, "a", [], 0)["edits"] == []
    quiet = [code("a", "x = 2\n")]
    assert (
        predict(quiet, "a", [{"cell_id": "a", "before": "x = 1\n", "after": "x = 2\n"}], 5)["edits"]
        == []
    )


def test_the_import_rule_answers_after_the_ranker():
    cells = [code("a", "x = 1"), code("b", "df = pd.read_csv('s.csv')")]
    after = cells[1]["source"]
    events = [{"cell_id": "b", "before": "", "after": after}]
    result = predict(cells, "b", events, len(after), language="python")
    assert result["predictor"] == "import" and result["returns_cursor"]
