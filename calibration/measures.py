"""The simulated value of each target from one replication's output.

A target is either a row of the KPI table (``metric`` + ``group``) or a derived measure
computed here from the replication's tables (see :data:`calibration.spec.DERIVED`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from calibration.spec import DERIVED_NEEDS_TABLES, Target

__all__ = ["needs_tables", "target_values", "tier1_sites"]

DAY = 1440.0


def needs_tables(targets: Sequence[Target]) -> bool:
    """Whether any target needs the per-patient tables (``run.keep_patients``)."""
    return any(t.derived in DERIVED_NEEDS_TABLES for t in targets)


def tier1_sites(cfg) -> list[str]:
    """Open tier-1 centres (township / community) after restructuring."""
    from sim.county.restructure import effective_network

    net = effective_network(cfg)
    return [fid for fid, f in net.facilities.items() if f.tier == 1 and not f.closed]


def _kpi(k: pd.DataFrame, metric: str, group: str) -> float:
    sel = k[(k["metric"] == metric) & (k["group"] == group)]["value"]
    return float(sel.iloc[0]) if len(sel) else math.nan


def _township_visits(k: pd.DataFrame, sites: list[str]) -> float:
    per_day = k[k["metric"] == "site_visits_per_day"].set_index("group")["value"]
    return float(np.mean([per_day.get(s, 0.0) for s in sites]) * 365.0) if sites else math.nan


def _township_admissions(tables: dict, sites: list[str], cfg) -> float:
    a = tables["admissions"]
    warm, end = cfg.run.warmup_days * DAY, cfg.run.horizon_days * DAY
    admit = a["admit"].to_numpy(dtype=float)
    fac = a["facility"].astype(str).to_numpy()
    n = int((np.isin(fac, sites) & (admit >= warm) & (admit < end)).sum())
    years = (cfg.run.horizon_days - cfg.run.warmup_days) / 365.0
    return n / len(sites) / years if sites else math.nan


def target_values(output: dict, cfg, targets: Sequence[Target], sites: list[str] | None = None) -> list[float]:
    """One replication's simulated value for every target (NaN where undefined)."""
    k = output["kpis"]
    sites = tier1_sites(cfg) if sites is None else sites
    vals = []
    for t in targets:
        if t.derived == "township_visits_per_year":
            vals.append(_township_visits(k, sites))
        elif t.derived == "township_admissions_per_year":
            tables = output.get("tables")
            vals.append(_township_admissions(tables, sites, cfg) if tables is not None else math.nan)
        else:
            vals.append(_kpi(k, t.metric, t.group))
    return vals
