"""Experimental design helpers: how long a warm-up, how many replications.

- :func:`mser5` / :func:`warmup_from_occupancy`: the MSER-5 truncation rule (White 1997;
  Hoad, Robinson & Davies 2010) on a daily output series, e.g. beds in use at the lead
  hospital, averaged across replications.  :func:`warmup_figure` draws the series and the cut.
- :func:`replications_needed`: the sequential "replications method" (Hoad, Robinson & Davies
  2010): add replications until a KPI's 95% CI half-width is within a target relative precision
  of its mean, and report the count chosen with the whole trace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.kpis import mean_ci
from sim.config import Config

__all__ = ["mser5", "warmup_from_occupancy", "warmup_figure", "ReplicationsChoice", "replications_needed"]


def mser5(series: np.ndarray, batch: int = 5) -> tuple[int, np.ndarray]:
    """MSER-5 truncation point of a series, in *observations* (a multiple of ``batch``).

    The series is cut into batch means; for each candidate truncation ``d`` (in batches, up to
    half the batches) ``MSER(d) = sum((y_i - mean_d)^2) / (n - d)^2`` over the kept batches;
    the warm-up is the ``d`` that minimises it.  Returns ``(observations to delete, MSER curve)``.

    >>> import numpy as np
    >>> y = np.r_[np.linspace(0, 10, 20), np.full(80, 10.0)] + np.tile([0.1, -0.1], 50)
    >>> cut, _ = mser5(y)
    >>> 15 <= cut <= 25
    True
    """
    y = np.asarray(series, dtype=float)
    nb = len(y) // batch
    if nb < 4:
        raise ValueError(f"MSER-5 needs at least {4 * batch} observations, got {len(y)}")
    means = y[: nb * batch].reshape(nb, batch).mean(axis=1)
    curve = np.full(nb // 2 + 1, np.inf)
    for d in range(nb // 2 + 1):
        kept = means[d:]
        curve[d] = ((kept - kept.mean()) ** 2).sum() / len(kept) ** 2
    return int(np.argmin(curve)) * batch, curve


def warmup_from_occupancy(occupancy: pd.DataFrame, facility: str, resource: str = "beds",
                          batch: int = 5) -> tuple[int, pd.DataFrame]:
    """Warm-up (days) for one resource's daily mean in use, averaged across replications.

    Returns ``(days, series)`` where ``series`` has ``day, in_use`` (the replication mean).
    Run the model long enough (e.g. several times the suspected warm-up) with the warm start
    switched off or on, as you intend to use it.
    """
    occ = occupancy[(occupancy["facility"] == facility) & (occupancy["resource"] == resource)]
    if occ.empty:
        raise ValueError(f"no occupancy rows for {facility!r} / {resource!r}")
    series = occ.groupby("day", as_index=False)["in_use"].mean().sort_values("day")
    cut, _ = mser5(series["in_use"].to_numpy(), batch)
    return int(series["day"].iloc[0]) + cut, series


def warmup_figure(series: pd.DataFrame, warmup_days: int, title: str = "Warm-up (MSER-5)"):
    """A plotly figure of the daily series with the chosen warm-up cut."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(go.Scatter(x=series["day"], y=series["in_use"], mode="lines", name="daily mean in use",
                             hovertemplate="day %{x}: %{y:.1f}<extra></extra>"))
    fig.add_vline(x=warmup_days, line_dash="dash", annotation_text=f"warm-up {warmup_days} d")
    fig.update_layout(title=title, xaxis_title="day of run", yaxis_title="mean units in use",
                      template="plotly_white")
    return fig


@dataclass
class ReplicationsChoice:
    """The replications chosen and the trace that led to it."""

    replications: int
    reached: bool
    trace: pd.DataFrame   # n, mean, half_width, relative_precision


def replications_needed(cfg: Config, metric: str, group: str = "county", rel_precision: float = 0.05,
                        min_replications: int = 3, max_replications: int = 50, jobs: int | None = None,
                        kpis: pd.DataFrame | None = None) -> ReplicationsChoice:
    """Add replications until ``metric``'s 95% CI half-width / |mean| <= ``rel_precision``.

    Replications run in rounds of ``jobs`` on the configured executor.  ``kpis`` may carry
    replications already run (reused, not re-run).  The choice is the first ``n`` at which the
    precision is reached (the method of Hoad et al. also checks it stays reached; we report the
    trace so that can be seen).
    """
    from sim.experiment.executor import iter_results
    from sim.experiment.replication import default_jobs

    if not 0 < rel_precision < 1:
        raise ValueError("rel_precision must be in (0, 1)")
    jobs = jobs or cfg.run.jobs or default_jobs()
    values: dict[int, float] = {}
    if kpis is not None:
        k = kpis[(kpis["metric"] == metric) & (kpis["group"] == group)]
        values.update({int(r): float(v) for r, v in zip(k["replication"], k["value"])})
    rows = []
    n_next = 0
    while True:
        n = len(values)
        if n >= 2:
            x = np.array([values[r] for r in sorted(values)])
            m, _, lo, hi = mean_ci(x)
            hw = (hi - lo) / 2
            rel = hw / abs(m) if m else math.inf
            rows.append((n, m, hw, rel))
            if n >= min_replications and rel <= rel_precision:
                return ReplicationsChoice(n, True, pd.DataFrame(rows, columns=["n", "mean", "half_width",
                                                                               "relative_precision"]))
        if n >= max_replications:
            return ReplicationsChoice(n, False, pd.DataFrame(rows, columns=["n", "mean", "half_width",
                                                                            "relative_precision"]))
        batch: list[int] = []
        while len(batch) < max(1, min(jobs, max_replications - n)):
            if n_next not in values:
                batch.append(n_next)
            n_next += 1
        for r, out in iter_results([(r, cfg, r) for r in batch], jobs, cfg.executor):
            if "error" in out:
                raise RuntimeError(f"replication {r} failed: {out['error'].strip().splitlines()[-1]}")
            k = out["kpis"]
            sel = k[(k["metric"] == metric) & (k["group"] == group)]
            if sel.empty:
                raise ValueError(f"no KPI {metric!r} for group {group!r}")
            values[r] = float(sel["value"].iloc[0])
