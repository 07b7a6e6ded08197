"""Fit the next-edit filter and ranker (jupyter_cursor/nextedit/ranker.py) on the NES train split.

    python -m models.filter [--data ../shared/data] [--out jupyter_cursor/models/nextedit_filter.json]
    python models/filter/train.py ...

Every deterministic generator's candidates for each train row, their features, label 1 when a
candidate is the expected edit (exact, as benchmarks/eval_nextedit.py counts it). Held out by
repository: the train repositories go to 5 folds by a hash of ``owner/repo``, and each fold is
scored by a model fitted on the other four, so every train row is scored once by a model that saw
none of its repository. On those out-of-fold scores: the regularisation C, and the threshold that
maximises the reward (+0.75 a right suggestion shown, -0.25 a wrong one, 0 nothing) while keeping
no-edit precision >= 0.95. The final model is fitted on all train rows (jupyter_cursor/nextedit/
fit.py: the fitter the user's refit runs too); only its coefficients, and each feature's spread
(the units of the refit's prior), are written (JSON), scored at run time in plain Python. Dev is
not read here.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from jupyter_cursor.nextedit.fit import (  # noqa: E402
    feature_matrix,
    filter_json,
    fit_logistic,
    probabilities,
)
from jupyter_cursor.nextedit.predictor import predict  # noqa: E402
from jupyter_cursor.nextedit.ranker import WEIGHTS, iter_labelled  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
FOLDS = 5
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
MIN_NO_EDIT_PRECISION = 0.95


def repository(row: dict) -> str:
    return row["origin"].split("@", 1)[0]


def fold_of(repo: str) -> int:
    return int(hashlib.sha1(repo.encode()).hexdigest(), 16) % FOLDS


def load(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def featurise(rows):
    """names, X (candidates × features), y, the row index of each candidate, per-row data."""
    per_row, feats, labels, owner = [], [], [], []
    for i, (_row, found, features, ys) in enumerate(iter_labelled(rows)):
        per_row.append({"found": len(found), "right": any(ys)})
        feats.extend(features)
        labels.extend(ys)
        owner.extend([i] * len(found))
    names = sorted({k for f in feats for k in f})
    X = feature_matrix(feats, names)
    return names, X, np.array(labels), np.array(owner), per_row


def feature_scale(X):
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    return scale


def fit(X, y, C: float):
    """L2 logistic regression on standardised features, the intercept free (scikit-learn's
    ``LogisticRegression(C)`` on standardised X, solved to convergence), by the package's fitter:
    the same one that refits the filter on a user's suggestion log."""
    return fit_logistic(X, y, C, scale=feature_scale(X))


def decisions(rows, owner, p, y):
    """Per row: (best probability, whether the best candidate is right), or (0, False)."""
    best = [(0.0, False)] * len(rows)
    for i in range(len(p)):
        r = owner[i]
        if p[i] > best[r][0]:
            best[r] = (float(p[i]), bool(y[i]))
    return best


def figures(rows, shown_right: list[tuple[bool, bool]]) -> dict:
    """eval_nextedit's figures from (shown, right when shown) per row."""
    n = len(rows)
    exact = shown = good = quiet = noedit = cross = cross_right = 0
    for row, (show, right) in zip(rows, shown_right):
        ok = (show and right) or (not show and not row["expected"])
        exact += ok
        shown += show
        good += show and right
        if not row["expected"]:
            noedit += 1
            quiet += not show
        if row.get("cross_cell"):
            cross += 1
            cross_right += ok
    return {
        "exact_match": round(exact / n, 4),
        "precision_when_shown": round(good / shown, 4) if shown else 0.0,
        "no_edit_precision": round(quiet / noedit, 4) if noedit else 0.0,
        "shown_rate": round(shown / n, 4),
        "cross_cell_exact": round(cross_right / cross, 4) if cross else 0.0,
        "reward": round((0.75 * good - 0.25 * (shown - good)) / n, 4),
    }


def at_threshold(rows, best, t):
    return figures(rows, [(p >= t and p > 0, right) for p, right in best])


def choose_threshold(rows, best) -> tuple[float, dict]:
    grid = sorted({round(float(x), 3) for x in np.arange(0.05, 0.951, 0.01)})
    scored = []
    for t in grid:
        f = at_threshold(rows, best, t)
        if f["no_edit_precision"] >= MIN_NO_EDIT_PRECISION:
            scored.append((f["reward"], f["exact_match"], -t, t, f))
    _, _, _, t, f = max(scored)
    return t, f


def rules_figures(rows) -> dict:
    out = []
    for row in rows:
        got = predict(
            row["cells"],
            row["cursor"]["cell_id"],
            row["events"],
            row["cursor"]["offset"],
            rules_only=True,
        )
        edits = {e["cell_id"]: e["source"] for e in got["edits"]}
        out.append((bool(edits), edits == row["expected"]))
    return figures(rows, out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = load(args.data / "nes_train.jsonl.gz")
    names, X, y, owner, per_row = featurise(rows)
    featurised_s = time.perf_counter() - started
    folds = np.array([fold_of(repository(rows[r])) for r in owner])
    row_folds = [fold_of(repository(row)) for row in rows]
    print(
        f"{len(rows)} train rows, {len(y)} candidates ({int(y.sum())} right), "
        f"{len(names)} features, rows with a right candidate: "
        f"{sum(r['right'] for r in per_row)} ({featurised_s:.1f} s)"
    )
    search = {}
    for C in C_GRID:
        p = np.zeros(len(y))
        for k in range(FOLDS):
            train, held = folds != k, folds == k
            if held.any():
                weights, intercept = fit(X[train], y[train], C)
                p[held] = probabilities(X[held], weights, intercept)
        best = decisions(rows, owner, p, y)
        t, f = choose_threshold(rows, best)
        search[C] = (f["reward"], f["exact_match"], t, f, best)
        print(f"C={C}: threshold {t:.2f} held-out {f}")
    C = max(search, key=lambda c: search[c][:2])
    _, _, threshold, heldout, best = search[C]
    rules = rules_figures(rows)
    per_fold = {}
    for k in range(FOLDS):
        idx = [i for i, f in enumerate(row_folds) if f == k]
        sub = [rows[i] for i in idx]
        per_fold[k] = {
            "rows": len(idx),
            "repositories": sorted({repository(rows[i]) for i in idx}),
            "ranker": at_threshold(sub, [best[i] for i in idx], threshold),
            "rules_only": rules_figures(sub),
        }
    print(f"chosen C={C}, threshold {threshold:.2f}")
    print(f"held out (all train rows, by repository): ranker {heldout}")
    print(f"rules only on the same rows:              {rules}")
    weights, intercept = fit(X, y, C)
    elapsed = time.perf_counter() - started
    model = filter_json(
        names,
        weights,
        intercept,
        threshold,
        {
            "recipe": "python -m models.filter (models/filter/README.md)",
            "data": "nes_train.jsonl.gz",
            "train_rows": len(rows),
            "candidates": int(len(y)),
            "right_candidates": int(y.sum()),
            "C": C,
            "heldout": "5 folds by a hash of the repository; threshold maximises the reward "
            f"with no-edit precision >= {MIN_NO_EDIT_PRECISION}",
            "heldout_ranker": heldout,
            "heldout_rules_only": rules,
            "heldout_per_fold": per_fold,
            "training_seconds": round(elapsed, 1),
            # The units of the prior of the user's refit (jupyter_cursor/nextedit/refit.py).
            "feature_scale": {k: round(float(v), 6) for k, v in zip(names, feature_scale(X))},
        },
    )
    args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
