"""The unit of work: one replication of one scenario, a pure function of ``(config, index)``.

:func:`replicate` builds the county, runs the model, and computes the replication's KPIs; the
executors (:mod:`sim.experiment.executor`) run it anywhere, and the same config and index give
byte-identical tables in any process.  The static tables (sites, villages, conditions), the
config hash and the package versions that every output folder carries are built here too.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import os
import platform
from collections.abc import Callable
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.kpis import kpis as compute_kpis
from sim.config import Config
from sim.county.network import County, build_county
from sim.county.restructure import effective_network
from sim.model.world import run_replication, site_ids

__all__ = ["replicate", "sites_table", "villages_table", "conditions_table", "config_hash", "versions",
           "default_jobs"]


def default_jobs() -> int:
    """Worker processes when ``run.jobs`` is 0: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def sites_table(county: County) -> pd.DataFrame:
    """One row per site (facilities, then village clinics): tier, kind, lead, position."""
    g = county.graph
    rows: list[tuple[Any, ...]] = []
    for fid in county.facility_ids:
        d = g.nodes[fid]
        rows.append((fid, int(d["tier"]), d["kind"], d.get("lead") or "", d["x_km"], d["y_km"], d["name"],
                     d.get("name_zh", ""), None, bool(d.get("closed", False)), int(sum(d["doctors"].values())),
                     int(d["beds"]), int(d.get("ambulances", 0))))
    for vid in county.village_ids:
        d = g.nodes[vid]
        rows.append((f"clinic:{vid}", 0, "village_clinic", "", d["x_km"], d["y_km"], f"{d['name']} clinic",
                     f"{d.get('name_zh', '')}村卫生室", vid, d["clinic_doctors"] == 0, int(d["clinic_doctors"]), 0, 0))
    df = pd.DataFrame(rows, columns=["site", "tier", "kind", "lead", "x_km", "y_km", "name", "name_zh", "village",
                                     "closed", "doctors", "beds", "ambulances"])
    df["status"] = np.where(df["closed"] & (df["tier"] > 0), "closed", "open")
    assert list(df["site"]) == site_ids(county)
    return df


def villages_table(county: County) -> pd.DataFrame:
    g = county.graph
    return pd.DataFrame({
        "village": county.village_ids,
        "population": county.population,
        "clinic_doctors": county.clinic_doctors,
        "x_km": [g.nodes[v]["x_km"] for v in county.village_ids],
        "y_km": [g.nodes[v]["y_km"] for v in county.village_ids],
        "home_tier1": [county.facility_ids[h] for h in county.home_tier1],
    })


def conditions_table(cfg: Config) -> pd.DataFrame:
    rows = {cid: {"name_zh": c.name_zh, "min_tier": c.min_tier, "admit_prob": c.admit_prob,
                  "los_mean_days": c.los_days.mean, "pathway": c.pathway, "specialty": c.specialty,
                  "incidence_per_1000": c.incidence_per_1000}
            for cid, c in cfg.care.conditions.items()}
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "condition"
    return df


def config_hash(cfg: Config) -> str:
    """A stable hash of everything that changes results (run.jobs and output paths excluded)."""
    d = dataclasses.asdict(cfg)
    for k in ("jobs", "output_dir", "name"):
        d["run"].pop(k, None)
    for k in ("study", "executor"):
        d.pop(k, None)
    blob = json.dumps(d, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("tiered-care-sim", "simpy", "numpy", "pandas", "networkx", "scipy", "hydra-core", "pyarrow"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def replicate(cfg: Config, replication: int, county: County | None = None,
              step: Callable[[str], None] | None = None) -> dict:
    """One replication: run the model, compute its KPIs; keep its tables if configured.

    Memory: the record tables are views of the model's log (:meth:`sim.records.log.Log.tables`)
    without their key columns (added when they are collected or written: ``scenario`` is a
    string per row),
    the simulation's own state is freed before the KPIs are computed, and the KPIs read those
    tables without copying them whole.  ``step``, when given, is called with the name of each
    step as it ends (the memory benchmark, ``benchmarks/bench_replication_memory.py``).
    """
    county = county if county is not None else build_county(effective_network(cfg))
    res = run_replication(cfg, replication, county)
    # the World (SimPy environment, processes, queues) holds reference cycles: free it now,
    # before the KPIs need memory, not at some later collection of the oldest generation
    gc.collect()
    if step:
        step("simulate + record tables")
    sites = sites_table(county)
    villages = villages_table(county)
    conds = conditions_table(cfg)
    k = compute_kpis(res.tables, res.occupancy, sites, villages, conds, cfg.care.prices,
                     cfg.run.warmup_days, cfg.run.horizon_days, cfg.restructure, levers=cfg.levers,
                     payment=cfg.payment)
    k.insert(0, "replication", np.int32(replication))
    k.insert(0, "scenario", cfg.scenario)
    if step:
        step("KPIs")
    return {"scenario": cfg.scenario, "replication": replication, "kpis": k, "occupancy": res.occupancy,
            "tables": res.tables if cfg.run.keep_patients else None, "info": res.info}
