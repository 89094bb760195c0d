"""Scenarios x replications: run them (in parallel) and collect tidy tables.

The unit of work is :func:`replicate`, a pure function of ``(config, replication)``; the
same config and seed give byte-identical tables in any process, with any worker count.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import time
from dataclasses import dataclass, field
from importlib import metadata

import numpy as np
import pandas as pd

from sim import record_schema
from sim.config import Config
from sim.metrics import kpis as compute_kpis
from sim.metrics import summarise
from sim.model import run_replication, site_ids
from sim.network import County, build_county
from sim.restructure import effective_network
from sim.sizing import check_fits

__all__ = ["RunResult", "Deferred", "run", "replicate", "sites_table", "villages_table", "conditions_table",
           "config_hash", "versions", "default_jobs"]

#: the per-patient record tables (declared with their columns in :mod:`sim.record_schema`).
TABLES = record_schema.RECORD_TABLES


def default_jobs() -> int:
    """Worker processes when ``run.jobs`` is 0: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def sites_table(county: County) -> pd.DataFrame:
    """One row per site (facilities, then village clinics): tier, kind, lead, position."""
    g = county.graph
    rows = []
    for fid in county.facility_ids:
        d = g.nodes[fid]
        rows.append((fid, int(d["tier"]), d["kind"], d.get("lead") or "", d["x_km"], d["y_km"], d["name"],
                     d.get("name_zh", ""), None, bool(d.get("closed", False)), int(sum(d["doctors"].values())),
                     int(d["beds"])))
    for vid in county.village_ids:
        d = g.nodes[vid]
        rows.append((f"clinic:{vid}", 0, "village_clinic", "", d["x_km"], d["y_km"], f"{d['name']} clinic",
                     f"{d.get('name_zh', '')}村卫生室", vid, d["clinic_doctors"] == 0, int(d["clinic_doctors"]), 0))
    df = pd.DataFrame(rows, columns=["site", "tier", "kind", "lead", "x_km", "y_km", "name", "name_zh", "village",
                                     "closed", "doctors", "beds"])
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


class Deferred:
    """A table of a :class:`RunResult` still in its run folder: read (and coerced to the record
    schema) on first access."""

    __slots__ = ("path",)

    def __init__(self, path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"Deferred({str(self.path)!r})"


def _read_deferred(result: RunResult, name: str, value: Deferred) -> pd.DataFrame:
    cats = record_schema.categories(result.sites, result.villages, result.conditions, result.config)
    return record_schema.read_table(value.path, name, cats)


class _Table:
    """A table field of :class:`RunResult`: a DataFrame, ``None``, or a :class:`Deferred` loaded
    from disk on first access (and then kept)."""

    def __init__(self, optional: bool = True) -> None:
        self.optional = optional

    def __set_name__(self, owner, name: str) -> None:
        self.name = name
        self.key = f"_{name}"

    def __get__(self, obj, objtype=None):
        if obj is None:
            if self.optional:
                return None  # the dataclass field's default
            raise AttributeError(self.name)  # a field without default
        value = obj.__dict__.get(self.key)
        if isinstance(value, Deferred):
            value = obj.__dict__[self.key] = _read_deferred(obj, self.name, value)
        return value

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.key] = value


@dataclass
class RunResult:
    """The tidy tables of one scenario's replications.

    The per-patient tables and ``occupancy`` of a result loaded from a run folder (a study's
    ``runs[name]``, :func:`sim.io.load_run` with ``lazy=True``) are read on first access; a
    pickled result carries them all (it does not depend on the folder).
    """

    config: Config
    kpis: pd.DataFrame
    summary: pd.DataFrame
    occupancy: pd.DataFrame = _Table(optional=False)
    sites: pd.DataFrame
    villages: pd.DataFrame
    conditions: pd.DataFrame
    patients: pd.DataFrame | None = _Table()
    visits: pd.DataFrame | None = _Table()
    admissions: pd.DataFrame | None = _Table()
    emergency: pd.DataFrame | None = _Table()
    expert_visits: pd.DataFrame | None = _Table()
    remote_studies: pd.DataFrame | None = _Table()
    lever_events: pd.DataFrame | None = _Table()
    meta: dict = field(default_factory=dict)

    @property
    def scenario(self) -> str:
        return self.config.scenario

    def kpi(self, metric: str, group: str = "county") -> pd.Series:
        """One KPI's values by replication."""
        k = self.kpis[(self.kpis["metric"] == metric) & (self.kpis["group"] == group)]
        return k.set_index("replication")["value"]

    def deferred(self) -> list[str]:
        """The tables not read from the run folder yet."""
        return [k[1:] for k, v in self.__dict__.items() if isinstance(v, Deferred)]

    def __getstate__(self) -> dict:
        # a pickle is self-contained: it carries what is still on disk (this result stays lazy)
        return {k: _read_deferred(self, k[1:], v) if isinstance(v, Deferred) else v for k, v in self.__dict__.items()}

    def __setstate__(self, state: dict) -> None:
        for k, v in state.items():  # pickles made before the tables were loadable on demand
            self.__dict__[f"_{k}" if k in _TABLE_FIELDS else k] = v

    def __repr__(self) -> str:
        n = self.kpis["replication"].nunique() if len(self.kpis) else 0
        return f"RunResult(scenario={self.scenario!r}, replications={n})"


_TABLE_FIELDS = frozenset(n for n, v in vars(RunResult).items() if isinstance(v, _Table))


def replicate(cfg: Config, replication: int) -> dict:
    """One replication: run the model, compute its KPIs; keep its tables if configured."""
    county = build_county(effective_network(cfg))
    res = run_replication(cfg, replication, county)
    sites = sites_table(county)
    villages = villages_table(county)
    conds = conditions_table(cfg)
    k = compute_kpis(res.tables, res.occupancy, sites, villages, conds, cfg.care.prices,
                     cfg.run.warmup_days, cfg.run.horizon_days, cfg.restructure)
    k.insert(0, "replication", np.int32(replication))
    k.insert(0, "scenario", cfg.scenario)
    return {"replication": replication, "kpis": k, "occupancy": res.occupancy,
            "tables": res.tables if cfg.run.keep_patients else None, "info": res.info}


def run(cfg: Config, replications: list[int] | None = None, jobs: int | None = None,
        progress: bool = False) -> RunResult:
    """Run a scenario's replications on the configured executor (local pool or Dask).

    Raises ``RuntimeError`` naming the failed replications if any raised.
    """
    from sim.executor import iter_results

    t0 = time.perf_counter()
    reps = list(range(cfg.run.replications)) if replications is None else list(replications)
    jobs = jobs if jobs is not None else (cfg.run.jobs or default_jobs())
    county = build_county(effective_network(cfg))  # validates the graph before any work starts
    check_fits(cfg, jobs=jobs, replications=len(reps))  # refuses, naming the key, what cannot fit in memory
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(reps), desc=f"{cfg.scenario}", unit="rep")
    outs: list[dict] = []
    errors = []
    for _, out in iter_results([(r, cfg, r) for r in reps], jobs, cfg.executor):
        if "error" in out:
            errors.append(out)
        else:
            outs.append(out)
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    if errors:
        first = errors[0]["error"].strip().splitlines()[-1]
        raise RuntimeError(f"{len(errors)} replication(s) failed "
                           f"({', '.join(str(e['replication']) for e in errors)}): {first}")
    return collect(cfg, outs, county, time.perf_counter() - t0)


def collect(cfg: Config, outs: list[dict], county: County | None = None, wall: float = 0.0) -> RunResult:
    """Assemble replication outputs into one :class:`RunResult` (in replication order), every
    table coerced to its record schema (:mod:`sim.record_schema`).

    This concatenates in memory: a study builds its run folders by streaming instead
    (:func:`sim.io.assemble_run`)."""
    county = county or build_county(effective_network(cfg))
    outs = sorted(outs, key=lambda o: o["replication"])
    sites, villages, conds = sites_table(county), villages_table(county), conditions_table(cfg)
    cats = record_schema.categories(sites, villages, conds, cfg)

    def cat(frames: list[pd.DataFrame], table: str) -> pd.DataFrame:
        frames = [record_schema.coerce(f, table, cats) for f in frames]
        return record_schema.coerce(pd.concat(frames, ignore_index=True), table, cats)

    k = cat([o["kpis"] for o in outs], "kpis")
    occ = cat([o["occupancy"] for o in outs], "occupancy")
    tables: dict[str, pd.DataFrame | None] = {t: None for t in TABLES}
    if all(o["tables"] is not None for o in outs):
        for t in TABLES:
            tables[t] = cat([o["tables"][t] for o in outs], t)
    meta = run_meta(cfg, [o["replication"] for o in outs], {o["replication"]: o["info"] for o in outs}, wall)
    return RunResult(config=cfg, kpis=k, summary=summarise(k), occupancy=occ, sites=sites, villages=villages,
                     conditions=conds, meta=meta, **tables)


def run_meta(cfg: Config, replications: list[int], info: dict[int, dict], wall: float) -> dict:
    """A run folder's ``meta.json``: seed, replications, config hash, versions, wall time."""
    return {"scenario": cfg.scenario, "seed": cfg.run.seed, "replications": list(replications),
            "config_hash": config_hash(cfg), "versions": versions(), "wall_s": wall,
            "replication_info": {str(r): info[r] for r in replications}}
