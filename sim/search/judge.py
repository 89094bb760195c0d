"""Judging a candidate: its objectives, and its constraints on their confidence intervals.

A constraint ``kpi >= value`` is *met* only when the whole confidence interval of the KPI's
mean over replications lies at or above ``value``; a mean that meets it with an interval that
crosses it is *uncertain*, and an uncertain constraint is reported as not met (more
replications may settle it; the confirmation re-run gives the best candidates more).  With
fewer than two replications there is no interval, and no constraint is met.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.kpis import mean_ci
from sim.search.config import COST, Constraint, Objective

__all__ = ["Judged", "per_replication", "cost_per_replication", "judge_constraint", "objective_values", "judge",
           "pareto_front", "MET", "UNCERTAIN", "NOT_MET", "NO_DATA"]

MET, UNCERTAIN, NOT_MET, NO_DATA = "met", "uncertain", "not_met", "no_data"


@dataclass
class Judged:
    """One constraint judged: the KPI's mean and interval, the verdict and its margin
    (the interval's bound minus the limit on the allowed side: >= 0 when met)."""

    kpi: str
    op: str
    limit: float
    n: int
    mean: float
    low: float
    high: float
    status: str
    margin: float

    @property
    def met(self) -> bool:
        return self.status == MET

    @property
    def violation(self) -> float:
        """How far the interval's bound lies on the wrong side (0 when met; for the optimiser)."""
        if self.status == NO_DATA or math.isnan(self.margin):
            return math.inf
        return max(0.0, -self.margin) + (1e-12 if not self.met else 0.0)


def per_replication(kpis: pd.DataFrame, metric: str, group: str = "county") -> np.ndarray:
    """A KPI's values, one per replication in replication order (NaN kept)."""
    k = kpis[(kpis["metric"] == metric) & (kpis["group"] == group)]
    return k.sort_values("replication")["value"].to_numpy(dtype=float)


def cost_per_replication(kpis: pd.DataFrame, cost: Sequence[str]) -> np.ndarray:
    """The sum of the listed county KPIs that the table holds, per replication.

    >>> k = pd.DataFrame({"replication": [0, 0, 1, 1], "metric": ["a", "b", "a", "b"],
    ...                   "group": "county", "value": [1.0, 10.0, 2.0, 20.0]})
    >>> cost_per_replication(k, ["a", "b", "not_there"]).tolist()
    [11.0, 22.0]
    """
    k = kpis[(kpis["group"] == "county") & kpis["metric"].isin(list(cost))]
    reps = np.sort(kpis["replication"].unique())
    if not len(k):
        return np.full(len(reps), math.nan)
    s = k.groupby("replication")["value"].sum(min_count=1)
    return s.reindex(reps).to_numpy(dtype=float)


def judge_constraint(values: np.ndarray, c: Constraint, level: float = 0.95) -> Judged:
    """The verdict on one constraint from its per-replication values.

    >>> c = Constraint(kpi="inpatient_retention", op=">=", value=0.90)
    >>> judge_constraint(np.array([0.95, 0.80, 0.99]), c).status   # mean 0.913, interval down to 0.66
    'uncertain'
    >>> judge_constraint(np.array([0.93, 0.94, 0.95]), c).status
    'met'
    """
    m, _, lo, hi = mean_ci(values, level)
    n = int((~np.isnan(np.asarray(values, dtype=float))).sum())
    if math.isnan(m):
        return Judged(c.kpi, c.op, c.value, n, m, lo, hi, NO_DATA, math.nan)
    by_mean = m >= c.value if c.op == ">=" else m <= c.value
    if n < 2 or math.isnan(lo):
        margin = (m - c.value) if c.op == ">=" else (c.value - m)
        return Judged(c.kpi, c.op, c.value, n, m, lo, hi, UNCERTAIN if by_mean else NOT_MET, min(margin, 0.0) - 1e-12)
    margin = (lo - c.value) if c.op == ">=" else (c.value - hi)
    status = MET if margin >= 0 else (UNCERTAIN if by_mean else NOT_MET)
    return Judged(c.kpi, c.op, c.value, n, m, lo, hi, status, margin)


def objective_values(kpis: pd.DataFrame, objectives: Sequence[Objective], cost: Sequence[str]) -> list[np.ndarray]:
    """Each objective's per-replication values."""
    out = []
    for o in objectives:
        out.append(cost_per_replication(kpis, cost) if o.kpi == COST else per_replication(kpis, o.kpi))
    return out


def judge(kpis: pd.DataFrame, objectives: Sequence[Objective], constraints: Sequence[Constraint],
          cost: Sequence[str], level: float = 0.95) -> dict:
    """A candidate's row: ``n``, each objective's mean and interval (``obj<i>_mean`` ...),
    each constraint's verdict (``con<i>_status`` ...), ``feasible`` and the optimiser's
    ``violations``."""
    row: dict = {"n": int(kpis["replication"].nunique()) if len(kpis) else 0}
    for i, x in enumerate(objective_values(kpis, objectives, cost)):
        m, sd, lo, hi = mean_ci(x, level)
        row.update({f"obj{i}_mean": m, f"obj{i}_low": lo, f"obj{i}_high": hi})
    judged = [judge_constraint(per_replication(kpis, c.kpi, c.group), c, level) for c in constraints]
    for i, j in enumerate(judged):
        row.update({f"con{i}_mean": j.mean, f"con{i}_low": j.low, f"con{i}_high": j.high,
                    f"con{i}_status": j.status, f"con{i}_margin": j.margin})
    row["feasible"] = all(j.met for j in judged)
    row["violations"] = [j.violation for j in judged]
    return row


def pareto_front(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """A boolean mask of the rows no other row dominates (``values``: rows x objectives).

    >>> pareto_front(np.array([[1.0, 5.0], [2.0, 2.0], [3.0, 3.0]]), ["minimize", "minimize"]).tolist()
    [True, True, False]
    """
    v = np.asarray(values, dtype=float).copy()
    for j, d in enumerate(directions):
        if d == "maximize":
            v[:, j] = -v[:, j]
    keep = np.ones(len(v), dtype=bool)
    for i in range(len(v)):
        if np.isnan(v[i]).any():
            keep[i] = False
            continue
        others = np.delete(v, i, axis=0)
        others = others[~np.isnan(others).any(axis=1)]
        dominated = np.any(np.all(others <= v[i], axis=1) & np.any(others < v[i], axis=1))
        keep[i] = not dominated
    return keep
