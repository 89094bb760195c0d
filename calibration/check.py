"""Calibration targets against the values a run simulated, with 95% confidence intervals.

Uses the public API of :mod:`sim` only (the calibration package depends on the simulator,
never the other way round).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calibration.fit import loss_of
from calibration.measures import Sites, target_values
from calibration.spec import load_targets, resolve_file
from sim import RunResult
from sim.analysis.kpis import mean_ci
from sim.records.result import TABLES

__all__ = ["check"]


def check(result: RunResult, targets: str | Path | None = None) -> pd.DataFrame:
    """Calibration targets against the values a run simulated, with 95% CIs.

    Parameters
    ----------
    result : RunResult
        Typically a run of a network with its calibrated care file (``care=<network>_calibrated``).  Targets on
        township admissions need the per-patient tables (``run.keep_patients=true``).
    targets : str or Path, optional
        A targets file (default: the network's own, ``calibration/county_targets/<network>.yaml``,
        else the national county figures ``calibration/county_targets/county.yaml``; the format is
        described there).

    Returns
    -------
    pandas.DataFrame
        One row per target: ``target, kpi, observed, tolerance, weight, simulated, ci_low,
        ci_high, z`` (``(simulated - observed) / tolerance``), ``loss_contribution``,
        ``within_tolerance`` and ``source``.

    Examples
    --------
    >>> from sim import run
    >>> result = run(["network=toy", "run=test", "run.horizon_days=3"])
    >>> table = check(result)
    >>> "inpatient_retention" in set(table["target"]), bool(table["observed"].notna().all())
    (True, True)
    """
    cfg = result.config
    if targets is None:
        own = Path(__file__).resolve().parent / "county_targets" / f"{cfg.network.name}.yaml"
        targets = own if own.is_file() else "county_targets/county.yaml"
    tlist = load_targets(resolve_file(targets, "targets"))
    sites = Sites.of(cfg)
    reps = sorted(result.kpis["replication"].unique())
    sims = np.full((len(reps), len(tlist)), math.nan)
    for i, r in enumerate(reps):
        out: dict[str, Any] = {"kpis": result.kpis[result.kpis["replication"] == r], "tables": None}
        if result.admissions is not None:
            out["tables"] = {t: getattr(result, t)[getattr(result, t)["replication"] == r]
                             for t in TABLES if getattr(result, t) is not None}
        sims[i] = target_values(out, cfg, tlist, sites)
    means = [mean_ci(sims[:, j])[0] for j in range(len(tlist))]
    _, parts = loss_of(means, tlist)
    rows = []
    for j, t in enumerate(tlist):
        m, sd, lo, hi = mean_ci(sims[:, j])
        ok = math.isfinite(m)
        rows.append({"target": t.name, "kpi": t.kpi, "observed": t.value, "tolerance": t.tolerance,
                     "weight": t.weight, "simulated": m, "ci_low": lo, "ci_high": hi,
                     "z": (m - t.value) / t.tolerance if ok else math.nan, "loss_contribution": parts[j],
                     "within_tolerance": bool(abs(m - t.value) <= t.tolerance) if ok else False,
                     "source": t.source})
    return pd.DataFrame(rows)
