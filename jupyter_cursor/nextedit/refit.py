"""Learning from use: the next-edit filter (ranker.py) refitted on the user's own suggestion log
(feedback.py), on this machine; nothing is sent anywhere. ``jupyter cursor refit-filter`` runs it.

For every suggestion in the log, the ranker's candidates and features are built again from the
logged request (path, cells, cursor, events), and the candidate that was shown is labelled by what
the user did with it:

* **accepted**: a positive; the request's *other* candidates become negatives, as in the recipe's
  labels (one right candidate per request, the rest wrong): the user's next edit was the one taken;
* **rejected** (Escape): a negative;
* **ignored** (typed past it, the notebook closed, no outcome told): a negative too, at
  ``ignored_weight`` (1 by default; 0 leaves them out). The frontend reports ``ignored`` when a
  keystroke that disagrees with the suggestion clears it: the user saw it and did not take it, which
  is what Copilot's contextual filter learns as a "no" and what Cursor's reward charges −0.25 for.
  Leaving ignored suggestions out would leave a user who never presses Escape with positives only,
  from which the refit could only learn to show more; weighing them less made the model's
  probabilities run above the user's real accept rate, and the simulated users of
  benchmarks/eval_refit.py were then shown more that they did not take (RESULTS.md).

Suggestions the ranker did not make (the import rule, the completion, a model; or a candidate this
version no longer generates) are skipped and counted. The logistic weights are fitted again (fit.py,
the recipe's fitter) with a Gaussian prior centred on the *shipped* coefficients
(``prior_strength`` λ: the penalty ``λ/2·‖θ − θ_shipped‖²`` on the weights and the intercept), so
a handful of suggestions moves them a little and hundreds move them further; every refit starts
from the shipped weights and reads the whole log, so refits do not compound. The penalty is in the
recipe's units (each weight times its feature's spread on the train split, ``meta.feature_scale``),
so twenty rejected moves lower the ``move`` indicator rather than every size feature those
suggestions share with the rest. The threshold is
chosen again for the reward (+0.75 for an accepted suggestion still shown, −0.25 for one rejected or
ignored, 0 for one no longer shown) on out-of-fold probabilities (5 folds of the log's suggestions),
and replaces the shipped threshold only when it earns ``threshold_margin`` more there: chosen on
the log's own probabilities, it overfitted and lost reward for every simulated user. The user's
weights are written under the Jupyter data dir (ranker.user_weights_path), where the server's
ranker picks them up at its next request.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .feedback import load_log, overall, pair_outcomes
from .fit import feature_matrix, filter_json, fit_logistic, probabilities
from .ranker import (
    GENERATORS,
    candidates,
    request_features,
    shipped_digest,
    shipped_ranker,
    user_weights_path,
)

# Chosen with the simulated users of benchmarks/eval_refit.py on the train split (RESULTS.md),
# again for the weights shipped since 2026-12-06: the only setting tried that made no user worse.
DEFAULT_PRIOR_STRENGTH = 300.0
DEFAULT_IGNORED_WEIGHT = 0.5
# How much more reward, summed over the log's suggestions out of fold, another threshold must earn
# before it replaces the shipped one (3.0: twelve fewer suggestions shown and not taken, or four
# more accepted).
THRESHOLD_MARGIN = 3.0
ACCEPTED_REWARD, REJECTED_REWARD = 0.75, -0.25  # Cursor Tab's reward; 0 when nothing is shown
THRESHOLDS = tuple(round(0.05 + 0.01 * i, 2) for i in range(91))  # 0.05 ... 0.95
FOLDS = 5


class RefitError(ValueError):
    """Nothing to refit from: printed for the user (a LogError is one)."""


@dataclass
class Example:
    features: dict[str, float]
    label: int  # 1: accepted
    weight: float
    outcome: str
    group: int  # the suggestion it comes from
    shown: bool = True  # False: another candidate of a request whose suggestion was accepted


@dataclass
class RefitReport:
    log: str
    suggestions: int = 0  # shown suggestions in the log
    learnt: Counter = field(default_factory=Counter)  # outcome -> suggestions learnt from
    skipped: Counter = field(default_factory=Counter)  # why -> suggestions not learnt from
    bad_lines: int = 0
    others: int = 0  # other candidates of accepted suggestions, learnt as negatives
    threshold_before: float = 0.0
    threshold_after: float = 0.0
    reward_before: float = 0.0  # per suggestion learnt from, on the log
    reward_after: float = 0.0
    shown_before: int = 0  # of the suggestions learnt from, how many each would show
    shown_after: int = 0
    changed: list[tuple[str, float, float]] = field(default_factory=list)  # largest first

    @property
    def examples(self) -> int:
        return sum(self.learnt.values())

    def summary(self) -> str:
        learnt = ", ".join(f"{self.learnt[o]} {o}" for o in ("accepted", "rejected", "ignored"))
        lines = [f"learnt from {self.examples} of {self.suggestions} suggestions ({learnt})"]
        if self.others:
            lines[0] += f" and {self.others} candidates not taken beside the accepted ones"
        if self.skipped:
            why = ", ".join(f"{n} {reason}" for reason, n in self.skipped.most_common())
            lines.append(f"skipped: {why}")
        if self.bad_lines:
            lines.append(f"{self.bad_lines} unreadable lines of the log skipped")
        lines.append(
            f"threshold {self.threshold_before:.2f} -> {self.threshold_after:.2f}; on your log it "
            f"would show {self.shown_before} -> {self.shown_after} of them, reward per suggestion "
            f"{self.reward_before:+.3f} -> {self.reward_after:+.3f}"
        )
        if self.changed:
            moved = ", ".join(f"{k} {a:+.2f} -> {b:+.2f}" for k, a, b in self.changed[:5])
            lines.append(f"weights moved most: {moved}")
        return "\n".join(lines)


def _reward(label: int) -> float:
    """A suggestion shown and not taken costs the user a look, whichever key they pressed."""
    return ACCEPTED_REWARD if label else REJECTED_REWARD


def examples_from_log(
    path: str | Path,
    ignored_weight: float = DEFAULT_IGNORED_WEIGHT,
    others_of_accepted: bool = True,
) -> tuple[list[Example], RefitReport]:
    """The labelled candidates of the log at ``path`` (LogError when it cannot be read)."""
    entries, bad = load_log(path)
    report = RefitReport(log=str(path), bad_lines=bad)
    examples: list[Example] = []
    for shown, decided in pair_outcomes(entries):
        report.suggestions += 1
        outcome = overall(decided)
        weight = {"accepted": 1.0, "rejected": 1.0}.get(outcome, ignored_weight)
        if weight <= 0:
            report.skipped["ignored (--ignored-weight 0)"] += 1
            continue
        if shown.get("predictor") not in GENERATORS:
            report.skipped[f"not the ranker's ({shown.get('predictor') or 'unknown'})"] += 1
            continue
        found = _shown_features(shown)
        if found is None:
            report.skipped["no longer a candidate"] += 1
            continue
        index, features = found
        group = sum(report.learnt.values())
        accepted = outcome == "accepted"
        examples.append(Example(features[index], int(accepted), weight, outcome, group))
        if accepted and others_of_accepted:
            # The user's next edit was the accepted one: the request's other candidates were not
            # (the recipe's labels: one right candidate per row, the others wrong).
            others = [f for i, f in enumerate(features) if i != index]
            examples.extend(Example(f, 0, 1.0, "other", group, shown=False) for f in others)
            report.others += len(others)
        report.learnt[outcome] += 1
    return examples, report


def _shown_features(shown: dict) -> tuple[int, list[dict[str, float]]] | None:
    """(the shown suggestion's index among the candidates of its logged request, the features of
    every candidate), or None when it is not one of them."""
    request = shown["request"]
    cells = request["cells"]
    cursor = request["cursor"]
    try:
        live = {c["id"] for c in cells}
        events = [e for e in request.get("events") or [] if e["cell_id"] in live]
        if not events:
            return None
        found = candidates(cells, cursor["cell_id"], events, int(cursor["offset"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # a request the server would not have served
    wanted = tuple((e["cell_id"], e["source"]) for e in shown["edits"])
    for index, candidate in enumerate(found):
        if candidate.key == wanted:
            features = request_features(cells, cursor["cell_id"], events, cursor["offset"], found)
            return index, features
    return None


def choose_threshold(p, rewards, prior: float, margin: float = 0.0) -> float:
    """The threshold of THRESHOLDS whose shown suggestions (p >= t) earn the most reward, ties
    going to the one nearest ``prior``; ``prior`` itself unless the best earns ``margin`` more."""
    p, rewards = np.asarray(p, dtype=float), np.asarray(rewards, dtype=float)

    def earned(t: float) -> float:
        return round(float(rewards[p >= t].sum()), 9)

    best = max(THRESHOLDS, key=lambda t: (earned(t), -abs(t - prior)))
    return float(best) if earned(best) >= earned(prior) + margin else prior


def out_of_fold(X, y, s, groups, fit, folds: int = FOLDS):
    """Each example's probability under a refit on the other folds (the suggestions of the log,
    every FOLDS-th one held out together), or None when the log is too short to hold any out."""
    if groups.max() + 1 < 2 * folds:
        return None
    p = np.zeros(len(y))
    fold = groups % folds
    for k in range(folds):
        held = fold == k
        weights, intercept = fit(X[~held], y[~held], s[~held])
        p[held] = probabilities(X[held], weights, intercept)
    return p


def refit(
    path: str | Path,
    prior_strength: float = DEFAULT_PRIOR_STRENGTH,
    ignored_weight: float = DEFAULT_IGNORED_WEIGHT,
    *,
    threshold_margin: float = THRESHOLD_MARGIN,
    others_of_accepted: bool = True,
) -> tuple[dict, RefitReport]:
    """(the user's filter as JSON, what was learnt) from the log at ``path``; RefitError when it
    holds nothing to learn from, LogError when it cannot be read. ``threshold_margin`` inf keeps
    the shipped threshold."""
    shipped = shipped_ranker()
    if shipped is None:
        raise RefitError("this build ships no next-edit filter to refit")
    if prior_strength <= 0:
        raise RefitError("the prior strength must be above 0")
    examples, report = examples_from_log(path, ignored_weight, others_of_accepted)
    if not examples:
        raise RefitError(
            f"nothing to learn from in {path}: {report.suggestions} suggestions logged, none the "
            "ranker's with an outcome to learn from"
            + (f" ({', '.join(report.skipped)})" if report.skipped else "")
        )
    names = sorted(shipped.weights)
    X = feature_matrix([e.features for e in examples], names)
    y = np.array([e.label for e in examples], dtype=float)
    s = np.array([e.weight for e in examples], dtype=float)
    w0 = np.array([shipped.weights[k] for k in names])
    # The prior in the recipe's units: a weight is held by its feature's spread on the train split
    # (``meta.feature_scale``), so a rare indicator (a generator) moves more than a size does.
    spread = shipped.meta.get("feature_scale") or {}
    scale = np.array([float(spread.get(k) or 1.0) for k in names])

    def fit(X, y, s):
        return fit_logistic(
            X,
            y,
            1.0 / prior_strength,
            sample_weight=s,
            scale=scale,
            prior=w0,
            prior_intercept=shipped.intercept,
        )

    weights, intercept = fit(X, y, s)
    # The threshold is chosen on the suggestions shown (their outcome is known), not on the other
    # candidates of accepted ones.
    shown = np.array([e.shown for e in examples])
    groups = np.array([e.group for e in examples])
    rewards = np.array([_reward(e.label) for e in examples])[shown]
    p_before = probabilities(X[shown], w0, shipped.intercept)
    p_after = probabilities(X[shown], weights, intercept)
    held = None if threshold_margin == float("inf") else out_of_fold(X, y, s, groups, fit)
    threshold = (
        shipped.threshold
        if held is None
        else choose_threshold(held[shown], rewards, shipped.threshold, threshold_margin)
    )
    n = int(shown.sum())
    report.threshold_before, report.threshold_after = shipped.threshold, threshold
    report.shown_before = int((p_before >= shipped.threshold).sum())
    report.shown_after = int((p_after >= threshold).sum())
    report.reward_before = round(float(rewards[p_before >= shipped.threshold].sum()) / n, 4)
    report.reward_after = round(float(rewards[p_after >= threshold].sum()) / n, 4)
    report.changed = sorted(
        ((k, shipped.weights[k], float(w)) for k, w in zip(names, weights)),
        key=lambda item: -abs(item[2] - item[1]),
    )
    report.changed = [c for c in report.changed if abs(c[2] - c[1]) >= 0.005]
    model = filter_json(
        names,
        weights,
        intercept,
        threshold,
        {
            "refit": {
                "command": "jupyter cursor refit-filter",
                "base_sha256": shipped_digest(),
                "log": str(path),
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "suggestions": report.suggestions,
                "learnt": dict(report.learnt),
                "skipped": dict(report.skipped),
                "prior_strength": prior_strength,
                "ignored_weight": ignored_weight,
                "threshold_margin": None if math.isinf(threshold_margin) else threshold_margin,
                "others_of_accepted": others_of_accepted,
                "threshold_before": shipped.threshold,
                "reward_before": report.reward_before,
                "reward_after": report.reward_after,
            },
        },
    )
    return model, report


def write_weights(model: dict, path: str | Path | None = None) -> Path:
    """Write the user's filter (default: where the server reads it) atomically, private to the
    user; the path written."""
    path = Path(path) if path else user_weights_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(model, indent=1) + "\n")
    os.replace(partial, path)
    return path


def reset(path: str | Path | None = None) -> Path | None:
    """Remove the user's filter (the server goes back to the shipped one); the path removed, or
    None when there was none."""
    path = Path(path) if path else user_weights_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    return path
