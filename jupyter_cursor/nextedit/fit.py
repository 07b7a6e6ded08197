"""The next-edit filter's fitter (ranker.py's logistic model), one for both of its uses: the recipe
that fits the shipped weights on the train split (``models/filter/train.py``) and the user's refit
on their own suggestion log (refit.py, ``jupyter cursor refit-filter``). NumPy only: it runs on the
user's machine, where the recipe's tools are not installed.

The model is ``p = sigmoid(b + X·w)``. ``fit_logistic`` minimises, by Newton's method with a
backtracking line search,

    Σᵢ sᵢ · logloss(yᵢ, pᵢ) + Σⱼ (scaleⱼ · (wⱼ − w0ⱼ))² / (2C)  [+ (b − b0)² / (2C)]

with sample weights ``s`` (1 by default). With ``w0 = 0``, ``scale`` the features' standard
deviations and the intercept free, that is scikit-learn's ``LogisticRegression(C)`` on standardised
features, the recipe's model; with ``w0`` and ``b0`` the shipped coefficients it is a Gaussian
prior centred on them, so a few logged suggestions move the weights a little and many move them
further.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


def probabilities(X, weights, intercept):
    return sigmoid(np.asarray(X, dtype=float) @ np.asarray(weights, dtype=float) + intercept)


def fit_logistic(
    X,
    y,
    C: float = 1.0,
    *,
    sample_weight=None,
    scale=None,
    prior=None,
    prior_intercept: float | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> tuple[np.ndarray, float]:
    """(weights, intercept) minimising the objective of the module's docstring: ``scale`` (one per
    feature, default 1) scales the penalty, ``prior`` (default 0) centres it; the intercept is
    penalised only when ``prior_intercept`` is given."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, d = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    scale = np.ones(d) if scale is None else np.asarray(scale, dtype=float)
    w0 = np.zeros(d) if prior is None else np.asarray(prior, dtype=float)
    A = np.hstack([X, np.ones((n, 1))])
    penalty = np.append(scale**2 / C, 0.0 if prior_intercept is None else 1.0 / C)
    centre = np.append(w0, 0.0 if prior_intercept is None else float(prior_intercept))
    theta = centre.copy()

    def objective(t):
        z = A @ t
        return float(s @ (np.logaddexp(0.0, z) - y * z) + 0.5 * penalty @ (t - centre) ** 2)

    current = objective(theta)
    for _ in range(max_iter):
        p = sigmoid(A @ theta)
        grad = A.T @ (s * (p - y)) + penalty * (theta - centre)
        hessian = (A.T * (s * p * (1.0 - p))) @ A + np.diag(penalty)
        # A tiny ridge keeps the solve defined when a feature never varies and is unpenalised.
        step = np.linalg.solve(hessian + 1e-12 * np.eye(d + 1), grad)
        decrease = float(grad @ step)
        if decrease < tol:
            break
        size = 1.0
        while size > 1e-10:
            trial = objective(theta - size * step)
            if trial <= current - 1e-4 * size * decrease:
                break
            size *= 0.5
        theta = theta - size * step
        current = objective(theta)
    return theta[:d], float(theta[d])


def feature_matrix(features: list[dict[str, float]], names: list[str]) -> np.ndarray:
    """One row per feature dict, one column per name (a name a dict lacks: 0)."""
    return np.array([[f.get(k, 0.0) for k in names] for f in features], dtype=float).reshape(
        len(features), len(names)
    )


def filter_json(names, weights, intercept: float, threshold: float, meta: dict) -> dict:
    """The filter file ranker.Ranker.from_json reads: the coefficients by feature name, rounded."""
    return {
        "kind": "logistic",
        "version": 1,
        "weights": {k: round(float(w), 6) for k, w in zip(names, weights)},
        "intercept": round(float(intercept), 6),
        "threshold": threshold,
        "meta": meta,
    }
