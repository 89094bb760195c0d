"""A response surface fitted on the evaluated points: the cheap way to calibrate a real-size county.

A full direct fit (tens of optimiser steps, each a set of replications of the whole county)
takes hours on 2 cores.  The surrogate fit runs a Latin-hypercube design once, fits each
target's simulated mean as a quadratic in the (unit-cube) parameters by ridge least squares,
minimises the loss of the *predicted* targets, simulates the predicted optimum, adds it to the
data and refits; a few rounds bring the simulated optimum and the prediction together.  The
same surface gives the identifiability profile for free (the loss of the predictions as one
parameter moves), and the fit ends with a longer check run at the optimum (see
:mod:`calibration.fit`) that says whether the cheap fit holds.

The surface is quadratic because the county's responses to these parameters are smooth and
monotone over the bounds (shares of a logit choice, volumes proportional to incidence): a
second-order response surface is the textbook design for that (Box and Wilson), needs
``1 + 2d + d(d-1)/2`` coefficients, and is fitted here with a small ridge penalty so that a
design with few points still gives a stable surface.  Interaction terms are dropped when the
data are too few for them (fewer than ``1.5 x`` the full model's coefficients).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Surface", "fit_surface", "minimise"]


def _features(u: np.ndarray, interactions: bool) -> np.ndarray:
    """Columns 1, x_j, x_j^2 (and x_i x_j), with x centred on the cube (x = u - 0.5)."""
    x = np.atleast_2d(np.asarray(u, dtype=float)) - 0.5
    n, d = x.shape
    cols = [np.ones(n)] + [x[:, j] for j in range(d)] + [x[:, j] ** 2 for j in range(d)]
    if interactions:
        cols += [x[:, i] * x[:, j] for i in range(d) for j in range(i + 1, d)]
    return np.column_stack(cols)


@dataclass
class Surface:
    """Per-target quadratic predictions of the simulated means on the unit cube."""

    coef: np.ndarray            # features x targets
    interactions: bool
    #: leave-one-out root-mean-square error of each target (NaN where too few points)
    loo_rmse: np.ndarray
    n_points: int

    def predict(self, u: np.ndarray) -> np.ndarray:
        """Predicted target means at ``u`` (one point: shape (targets,); many: (n, targets))."""
        u = np.asarray(u, dtype=float)
        out = _features(u, self.interactions) @ self.coef
        return out[0] if u.ndim == 1 else out


def fit_surface(units: Sequence[np.ndarray], means: np.ndarray, ridge: float = 1e-3) -> Surface:
    """Fit each target column of ``means`` (points x targets) on ``units`` (points x d).

    Points whose mean is not finite for a target are left out of that target's fit; a target
    with fewer usable points than coefficients gets its mean as a constant.
    """
    X = np.asarray(units, dtype=float)
    Y = np.asarray(means, dtype=float)
    n, d = X.shape
    full = 1 + 2 * d + d * (d - 1) // 2
    inter = n >= 1.5 * full
    F = _features(X, inter)
    k = F.shape[1]
    coef = np.zeros((k, Y.shape[1]))
    loo = np.full(Y.shape[1], math.nan)
    pen = ridge * np.eye(k)
    pen[0, 0] = 0.0     # no penalty on the intercept
    for t in range(Y.shape[1]):
        ok = np.isfinite(Y[:, t])
        if ok.sum() < k + 1:
            coef[0, t] = float(np.nanmean(Y[ok, t])) if ok.any() else math.nan
            continue
        A, y = F[ok], Y[ok, t]
        # scale the penalty to the data so that it is "small" whatever the target's units
        scale = float(np.mean(np.sum(A * A, axis=0)))
        M = A.T @ A + pen * scale
        coef[:, t] = np.linalg.solve(M, A.T @ y)
        # leave-one-out residuals through the hat matrix (exact for ridge least squares)
        H = A @ np.linalg.solve(M, A.T)
        res = (y - A @ coef[:, t]) / np.clip(1.0 - np.diag(H), 1e-6, None)
        loo[t] = float(np.sqrt(np.mean(res ** 2)))
    return Surface(coef=coef, interactions=inter, loo_rmse=loo, n_points=n)


def minimise(loss: Callable[[np.ndarray], float], d: int, starts: Sequence[np.ndarray]) -> np.ndarray:
    """The lowest point of ``loss`` on the unit cube from several starts (L-BFGS-B, bounded)."""
    from scipy.optimize import minimize

    best_u, best_f = None, math.inf
    for s in starts:
        res = minimize(loss, np.clip(np.asarray(s, dtype=float), 0.0, 1.0), method="L-BFGS-B",
                       bounds=[(0.0, 1.0)] * d, options={"maxiter": 500})
        f = float(res.fun)
        if f < best_f - 1e-12:
            best_u, best_f = np.clip(res.x, 0.0, 1.0), f
    assert best_u is not None
    return best_u
