"""The simulated value of each target from one replication's output.

A target is either a row of the KPI table (``metric`` + ``group``) or a derived measure
computed here from the replication's tables (see :data:`calibration.spec.DERIVED`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibration.spec import DERIVED_NEEDS_TABLES, Target

__all__ = ["needs_tables", "target_values", "tier1_sites", "township_catchment", "Sites"]

DAY = 1440.0


def needs_tables(targets: Sequence[Target]) -> bool:
    """Whether any target needs the per-patient tables (``run.keep_patients``)."""
    return any(t.derived in DERIVED_NEEDS_TABLES for t in targets)


def tier1_sites(cfg) -> list[str]:
    """Open tier-1 centres (township / community) after restructuring."""
    from sim.county.restructure import effective_network

    net = effective_network(cfg)
    return [fid for fid, f in net.facilities.items() if f.tier == 1 and not f.closed]


def township_catchment(cfg) -> tuple[list[str], float]:
    """Open township centres (kind ``township``, not community centres) and the population of
    the villages whose nearest open tier-1 centre is one of them: the denominator of the
    national per-rural-resident figures."""
    from sim.county.network import build_county
    from sim.county.restructure import effective_network

    net = effective_network(cfg)
    county = build_county(net)
    towns = [fid for fid, f in net.facilities.items() if f.tier == 1 and not f.closed and f.kind == "township"]
    home = [county.facility_ids[h] for h in county.home_tier1]
    pop = float(sum(p for p, h in zip(county.population, home, strict=False) if h in set(towns)))
    return towns, pop


@dataclass
class Sites:
    """What the derived measures need to know of the county (computed once per fit)."""

    tier1: list[str]
    townships: list[str]
    township_pop: float

    @classmethod
    def of(cls, cfg) -> Sites:
        towns, pop = township_catchment(cfg)
        return cls(tier1=tier1_sites(cfg), townships=towns, township_pop=pop)


def _kpi(k: pd.DataFrame, metric: str, group: str) -> float:
    sel = k[(k["metric"] == metric) & (k["group"] == group)]["value"]
    return float(sel.iloc[0]) if len(sel) else math.nan


def _township_visits(k: pd.DataFrame, sites: list[str]) -> float:
    per_day = k[k["metric"] == "site_visits_per_day"].set_index("group")["value"]
    return float(np.mean([per_day.get(s, 0.0) for s in sites]) * 365.0) if sites else math.nan


def _admissions_at(tables: dict, sites: list[str], cfg) -> float:
    """Admissions at ``sites`` that began in the post-warm-up window, per year."""
    a = tables["admissions"]
    warm, end = cfg.run.warmup_days * DAY, cfg.run.horizon_days * DAY
    admit = a["admit"].to_numpy(dtype=float)
    fac = a["facility"].astype(str).to_numpy()
    n = int((np.isin(fac, sites) & (admit >= warm) & (admit < end)).sum())
    return n / ((cfg.run.horizon_days - cfg.run.warmup_days) / 365.0)


def _visits_at(k: pd.DataFrame, sites: list[str]) -> float:
    per_day = k[k["metric"] == "site_visits_per_day"].set_index("group")["value"]
    return float(sum(per_day.get(s, 0.0) for s in sites) * 365.0)


def target_values(output: dict, cfg, targets: Sequence[Target], sites: Sites | list[str] | None = None) -> list[float]:
    """One replication's simulated value for every target (NaN where undefined)."""
    k = output["kpis"]
    if sites is None:
        sites = Sites.of(cfg)
    elif isinstance(sites, list):
        towns, pop = township_catchment(cfg)
        sites = Sites(tier1=sites, townships=towns, township_pop=pop)
    tables = output.get("tables")
    vals = []
    for t in targets:
        if t.derived == "township_visits_per_year":
            vals.append(_township_visits(k, sites.tier1))
        elif t.derived == "township_admissions_per_year":
            vals.append(_admissions_at(tables, sites.tier1, cfg) / len(sites.tier1)
                        if tables is not None and sites.tier1 else math.nan)
        elif t.derived == "township_visits_per_resident_year":
            vals.append(_visits_at(k, sites.townships) / sites.township_pop if sites.township_pop else math.nan)
        elif t.derived == "township_admissions_per_resident_year":
            vals.append(_admissions_at(tables, sites.townships, cfg) / sites.township_pop
                        if tables is not None and sites.township_pop else math.nan)
        else:
            vals.append(_kpi(k, t.metric, t.group))
    return vals
