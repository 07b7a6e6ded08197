"""The learned contextual filter and ranker: every deterministic predictor's candidate edits, cheap
features of the request, each candidate and the edit history, and a small logistic model that picks
one candidate or nothing (GitHub Copilot's client-side contextual filter; Cursor Tab's reward).

``candidates(...)`` gathers what every generator proposes (the rules of predictor.py at more
than their first place, and generators the rules alone would be too often wrong with: any
one-line edit repeated, a block of changed lines repeated, a line moved: its other copy deleted,
and analog.py's: the last edit's token-level change at analogous places, an argument added to the
same function's other calls, deleted imports put back among the others);
identical edits are merged and remember every generator that proposed them (agreement is a
feature). An edit of a markdown cell's prose is never carried into code. ``Ranker.choose`` scores
each with the shipped weights (``jupyter_cursor/models/nextedit_filter.json``: coefficients only,
scored in plain Python) and returns the best when its probability clears the shipped threshold,
chosen on held-out train repositories to maximise the reward (+0.75 right shown, -0.25 wrong,
0 nothing). The recipe that fits it: ``models/filter/``.

A user who logs their suggestions (feedback.py) can refit it on what they accepted and rejected
(refit.py, ``jupyter cursor refit-filter``): their weights, in ``user_weights_path()`` under the
Jupyter data dir, are what ``current_ranker()`` (the server's choice) returns while that file is
there and was refitted from the weights this package ships; deleting it (``--reset``) goes back.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .analog import TOKEN, analog_places, argument_places, unmove_places
from .places import kind_of, places_for, run_end
from .rename import carry, detect_rename
from .repeat import IDENTIFIER, patterns_for, repeatable
from .spans import _ends, changed_span, line_change, word_span

WEIGHTS = Path(__file__).resolve().parents[1] / "models" / "nextedit_filter.json"
USER_WEIGHTS_NAME = "nextedit_filter.json"  # under <jupyter data dir>/jupyter_cursor/

logger = logging.getLogger(__name__)

# The import rule is not among them: the data's next edits run top to bottom and an import stands
# above its use, so the data cannot rank it (predictor.py asks it when the ranker shows nothing).
GENERATORS = (
    "repeat",
    "repeat-earlier",
    "rename",
    "repeat-any",
    "lines",
    "move",
    "analog",
    "argument",
    "unmove",
)
MAX_PLACES = 3  # places of one pattern proposed (the next one, and the two after it)
MAX_EARLIER = 4  # earlier events looked at, newest first
MAX_CHANGE = 2000  # characters of an edit worth repeating or moving


@dataclass
class Candidate:
    edits: list[dict]  # [{"cell_id", "source"}]
    generators: list[str]  # every generator that proposed it, first one first
    place: int = 0  # 0: the pattern's next place, 1: the one after, ...
    places: int = 1  # how many places the pattern matched from the cursor on
    age: int = 0  # 0: from the last event, 1: the one before, ...

    @property
    def key(self) -> tuple:
        return tuple((e["cell_id"], e["source"]) for e in self.edits)


# -- where a pattern stands -------------------------------------------------------------------


def _runs(
    pattern: re.Pattern, new: str, cells: Sequence[dict], cursor_cell: str, offset: int, kind: str
) -> tuple[list[list[dict]], int]:
    """The edits of the first MAX_PLACES runs of ``pattern`` from the cursor on (each: that run
    replaced by ``new``, as repeat.next_run does), and how many runs there are (up to 10)."""
    found: list[list[dict]] = []
    count = 0
    for cell, start in places_for(cells, cursor_cell, offset, kind):
        source = cell["source"]
        while count < 10:
            first = pattern.search(source, start)
            if first is None:
                break
            end = run_end(pattern, source, first)
            count += 1
            if len(found) < MAX_PLACES:
                run = pattern.sub(lambda _m: new, source[first.start() : end])
                edited = source[: first.start()] + run + source[end:]
                if edited != source:
                    found.append([{"cell_id": cell["id"], "source": edited}])
            start = end
        if count >= 10:
            break
    return found, count


# -- the generators ---------------------------------------------------------------------------


def _repeat_places(event, cells, cursor_cell, offset, relaxed: bool):
    if relaxed:
        old, new = word_span(event["before"], event["after"])
        if not old.strip() or "\n" in old or len(old) + len(new) > MAX_CHANGE:
            return [], 0
    else:
        edit = repeatable(event["before"], event["after"])
        if edit is None:
            return [], 0
        old, new = edit
    for pattern in patterns_for(event, old, new):
        found, count = _runs(
            pattern, new, cells, cursor_cell, offset, kind_of(cells, event["cell_id"])
        )
        if found:
            return found, count
    return [], 0


def _lines(event, cells, cursor_cell, offset):
    """A block of whole changed lines made again where the same block stands again."""
    old, new, _ = line_change(event["before"], event["after"])
    if not old.strip() or old == new or len(old) + len(new) > MAX_CHANGE:
        return [], 0
    if not old.endswith("\n"):
        old, new = old + "\n", new + "\n"
    pattern = re.compile(r"(?m)^" + re.escape(old))
    found, count = [], 0
    for cell, start in places_for(cells, cursor_cell, offset, kind_of(cells, event["cell_id"])):
        source = cell["source"] if cell["source"].endswith("\n") else cell["source"] + "\n"
        for match in pattern.finditer(source, start):
            count += 1
            if len(found) < MAX_PLACES:
                edited = source[: match.start()] + new + source[match.end() :]
                if not cell["source"].endswith("\n"):
                    edited = edited[:-1]
                found.append([{"cell_id": cell["id"], "source": edited}])
    return found, count


def _move(event, cells):
    """Lines the last edit inserted that also stand elsewhere: the other copy deleted (a line
    moved). One candidate per cell holding a copy."""
    old, new, start = line_change(event["before"], event["after"])
    if old.strip() or not new.strip() or len(new) > MAX_CHANGE:
        return []
    lines = {line.strip() for line in new.split("\n") if len(line.strip()) > 3}
    if not lines:
        return []
    found = []
    for cell in cells:
        if cell.get("cell_type", "code") != kind_of(cells, event["cell_id"]):
            continue
        source = cell["source"]
        kept, removed, position = [], 0, 0
        for line in source.split("\n"):
            inside = cell["id"] == event["cell_id"] and start <= position < start + len(new)
            if not inside and line.strip() in lines:
                removed += 1
            else:
                kept.append(line)
            position += len(line) + 1
        if removed:
            found.append([{"cell_id": cell["id"], "source": "\n".join(kept)}])
    return found


def candidates(
    cells: Sequence[dict], cursor_cell: str, events: Sequence[dict], offset: int
) -> list[Candidate]:
    """Every generator's candidate edits for a request whose ``events`` are in live cells (oldest
    first, not empty), merged when identical."""
    by_key: dict[tuple, Candidate] = {}
    types = {c["id"]: c.get("cell_type", "code") for c in cells}

    def add(name: str, edits: list[dict], event: dict, **info) -> None:
        if not edits:
            return
        # An edit of a markdown cell's prose is not carried into code.
        if types.get(event["cell_id"]) == "markdown" and any(
            types.get(e["cell_id"]) != "markdown" for e in edits
        ):
            return
        candidate = Candidate(edits, [name], **info)
        known = by_key.get(candidate.key)
        if known is None:
            by_key[candidate.key] = candidate
        elif name not in known.generators:
            known.generators.append(name)

    last = events[-1]
    for relaxed, name in ((False, "repeat"), (True, "repeat-any")):
        places, count = _repeat_places(last, cells, cursor_cell, offset, relaxed)
        for place, edits in enumerate(places):
            add(name, edits, last, place=place, places=count)
    earlier = [e for e in reversed(events[:-1]) if e["before"] != last["before"]][:MAX_EARLIER]
    for age, event in enumerate(earlier, 1):
        places, count = _repeat_places(event, cells, cursor_cell, offset, False)
        for place, edits in enumerate(places[:1]):
            add("repeat-earlier", edits, event, place=place, places=count, age=age)
    rename = detect_rename(last["before"], last["after"])
    if rename:
        add("rename", carry(rename, cells), last, places=1)
    places, count = _lines(last, cells, cursor_cell, offset)
    for place, edits in enumerate(places):
        add("lines", edits, last, place=place, places=count)
    for place, edits in enumerate(_move(last, cells)):
        add("move", edits, last, place=place)
    kind = types.get(last["cell_id"], "code")
    for name, (places, count) in (
        ("analog", analog_places(last, cells, cursor_cell, offset, kind)),
        ("argument", argument_places(last, cells, cursor_cell, offset)),
    ):
        for place, edits in enumerate(places):
            add(name, edits, last, place=place, places=count)
    for place, edits in enumerate(unmove_places(last, cells, cursor_cell)):
        add("unmove", edits, last, place=place)
    return list(by_key.values())


# -- features ---------------------------------------------------------------------------------


def _kind(text: str) -> str:
    text = text.strip()
    if not text:
        return "empty"
    if IDENTIFIER.match(text):
        return "identifier"
    if re.fullmatch(r"[\d.eE+-]+", text):
        return "number"
    if text[:1] in "'\"" or text[-1:] in "'\"":
        return "string"
    if re.fullmatch(r"[^\w\s]+", text):
        return "punctuation"
    return "mixed"


KINDS = ("empty", "identifier", "number", "string", "punctuation", "mixed")


def _log(x: float) -> float:
    return math.log1p(max(0.0, x))


def event_features(cells: Sequence[dict], events: Sequence[dict]) -> dict[str, float]:
    """What the last edit looks like (the same for every candidate of a request)."""
    last = events[-1]
    old, new = changed_span(last["before"], last["after"])
    word_old, word_new = word_span(last["before"], last["after"])
    f: dict[str, float] = {
        "event_insert": float(not old and bool(new)),
        "event_delete": float(bool(old) and not new),
        "event_replace": float(bool(old) and bool(new)),
        "event_old_chars": _log(len(old)),
        "event_new_chars": _log(len(new)),
        "event_lines": _log(old.count("\n") + new.count("\n")),
        "event_typing": float(bool(word_old) and word_new.startswith(word_old)),
        "event_repeatable": float(repeatable(last["before"], last["after"]) is not None),
        "event_markdown": float(kind_of(cells, last["cell_id"]) == "markdown"),
        "notebook": float(len(cells) > 1),
        "history_same_cell": float(len(events) > 1 and events[-2]["cell_id"] == last["cell_id"]),
    }
    for kind in KINDS:
        f[f"event_old_{kind}"] = float(_kind(word_old) == kind)
        f[f"event_new_{kind}"] = float(_kind(word_new) == kind)
    return f


def candidate_features(
    candidate: Candidate,
    cells: Sequence[dict],
    cursor_cell: str,
    offset: int,
    index: dict[str, int],
    count: int,
    change: frozenset | None = None,
) -> dict[str, float]:
    f: dict[str, float] = {f"gen_{name}": 0.0 for name in GENERATORS}
    for name in candidate.generators:
        f[f"gen_{name}"] = 1.0
    first = candidate.edits[0]
    cell = cells[index[first["cell_id"]]]
    start, end = _ends(cell["source"], first["source"])
    old = cell["source"][start : len(cell["source"]) - end]
    new = first["source"][start : len(first["source"]) - end]
    cell_distance = index[first["cell_id"]] - index.get(cursor_cell, 0)
    if first["cell_id"] == cursor_cell:
        line_distance = cell["source"].count("\n", min(offset, start), max(offset, start))
        above = start < offset
    else:
        line_distance = cell["source"].count("\n", 0, start)
        above = cell_distance < 0
    f.update(
        {
            "agree": _log(len(candidate.generators) - 1),
            "cells_edited": _log(len(candidate.edits) - 1),
            "other_cell": float(first["cell_id"] != cursor_cell),
            "cell_distance": _log(abs(cell_distance)),
            "above_cursor": float(above),
            "line_distance": _log(line_distance),
            "edit_old_chars": _log(len(old)),
            "edit_new_chars": _log(len(new)),
            "edit_lines": _log(old.count("\n") + new.count("\n")),
            "place": float(candidate.place),
            "places": _log(candidate.places),
            "age": _log(candidate.age),
            "candidates": _log(count - 1),
        }
    )
    if change is not None:
        # The candidate changes the tokens the last edit changed (an analogous edit), or not.
        mine = _token_change(old, new)
        union = len(change | mine)
        f["change_same"] = float(mine == change)
        f["change_overlap"] = len(change & mine) / union if union else 0.0
    return f


def _token_change(old: str, new: str) -> frozenset:
    """The tokens an edit removed (``-tok``) and added (``+tok``): the same transformation made
    twice (a name renamed on two lines) is the same set."""
    before, after = Counter(TOKEN.findall(old)), Counter(TOKEN.findall(new))
    return frozenset({f"-{t}" for t in before - after} | {f"+{t}" for t in after - before})


def request_features(
    cells: Sequence[dict], cursor_cell: str, events: Sequence[dict], offset: int, found
) -> list[dict[str, float]]:
    """The feature dict of each candidate of a request (``found``: ``candidates(...)``)."""
    shared = event_features(cells, events)
    index = {c["id"]: i for i, c in enumerate(cells)}
    change = _token_change(*changed_span(events[-1]["before"], events[-1]["after"]))
    return [
        {**shared, **candidate_features(c, cells, cursor_cell, offset, index, len(found), change)}
        for c in found
    ]


# -- the model --------------------------------------------------------------------------------


@dataclass
class Ranker:
    """A logistic model over named features: ``p = sigmoid(intercept + sum(w * x))``; a candidate
    is shown when it is the most probable and ``p >= threshold``."""

    weights: dict[str, float]
    intercept: float
    threshold: float
    meta: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict) -> Ranker:
        if data.get("kind") != "logistic":
            raise ValueError("not a logistic next-edit filter")
        weights = {str(k): float(v) for k, v in data["weights"].items()}
        return cls(
            weights, float(data["intercept"]), float(data["threshold"]), data.get("meta", {})
        )

    def probability(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(self.weights.get(k, 0.0) * v for k, v in features.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def choose(
        self, found: list[Candidate], features: list[dict[str, float]]
    ) -> tuple[Candidate | None, float]:
        """The best candidate and its probability, or (None, best probability) when none clears
        the threshold."""
        best, best_p = None, 0.0
        for candidate, f in zip(found, features):
            p = self.probability(f)
            if p > best_p:
                best, best_p = candidate, p
        return (best if best is not None and best_p >= self.threshold else None), best_p


@functools.cache
def shipped_ranker() -> Ranker | None:
    """The ranker shipped in the package, or None when this build has none."""
    try:
        return Ranker.from_json(json.loads(WEIGHTS.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None


@functools.cache
def shipped_digest() -> str | None:
    """SHA-256 of the shipped weights file: a user's refitted weights name the weights they were
    refitted from, and are used only with those (a new version's features may differ)."""
    try:
        return hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def user_weights_path() -> Path:
    """Where ``jupyter cursor refit-filter`` writes the user's weights and the server reads them."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "jupyter_cursor" / USER_WEIGHTS_NAME


def load_user_ranker(path: str | Path) -> Ranker:
    """The user's refitted ranker at ``path``; ValueError when it is not one this package can use
    (not a filter, refitted from other shipped weights, other features)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a next-edit filter")
    ranker = Ranker.from_json(data)
    shipped = shipped_ranker()
    base = (ranker.meta.get("refit") or {}).get("base_sha256")
    if shipped is None or base != shipped_digest():
        raise ValueError("refitted from other weights than this version ships")
    if set(ranker.weights) != set(shipped.weights):
        raise ValueError("its features are not this version's")
    return ranker


_user_cache: dict[str, tuple[tuple, Ranker | None]] = {}


def current_ranker() -> Ranker | None:
    """The ranker the server runs: the user's refitted weights when their file is there and fits
    this version, else the shipped ones. The file is read again when it changes (a refit or a
    reset takes effect at the next request, in every process); one that cannot be used is
    logged once and the shipped weights answer."""
    path = user_weights_path()
    try:
        stat = os.stat(path)
    except OSError:
        return shipped_ranker()
    key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    cached = _user_cache.get(str(path))
    if cached is None or cached[0] != key:
        try:
            ranker = load_user_ranker(path)
        except (OSError, ValueError, KeyError, TypeError) as err:
            logger.warning(
                "jupyter_cursor: not using the refitted next-edit filter %s (%s); using the "
                "shipped one: run 'jupyter cursor refit-filter' again, or --reset",
                path,
                err,
            )
            ranker = None
        cached = (key, ranker)
        _user_cache[str(path)] = cached
    return cached[1] or shipped_ranker()


def rank(
    cells: Sequence[dict],
    cursor_cell: str,
    events: Sequence[dict],
    offset: int,
    ranker: Ranker | None = None,
) -> tuple[Candidate | None, float]:
    """The candidate the ranker shows for a request (events in live cells, not empty); by
    default the ranker the server runs (``current_ranker``)."""
    ranker = ranker or current_ranker()
    found = candidates(cells, cursor_cell, events, offset)
    if not found or ranker is None:
        return None, 0.0
    return ranker.choose(found, request_features(cells, cursor_cell, events, offset, found))


def iter_labelled(rows) -> Iterator[tuple[dict, list[Candidate], list[dict], list[int]]]:
    """(row, candidates, features, labels) of NES rows for training (label 1: the candidate is
    the expected edit, as eval_nextedit counts exact match)."""
    for row in rows:
        cells, cursor = row["cells"], row["cursor"]
        live = {c["id"] for c in cells}
        events = [e for e in row["events"] if e["cell_id"] in live]
        if not events:
            yield row, [], [], []
            continue
        found = candidates(cells, cursor["cell_id"], events, cursor["offset"])
        features = request_features(cells, cursor["cell_id"], events, cursor["offset"], found)
        labels = [
            int({e["cell_id"]: e["source"] for e in c.edits} == row["expected"]) for c in found
        ]
        yield row, found, features, labels
