"""Scenarios x replications: run them (in parallel) and collect tidy tables, in memory
(:func:`run`, the Python API) or streamed into a run folder (:func:`run_to_folder`, the CLI).

The unit of work is :func:`replicate`, a pure function of ``(config, replication)``; the
same config and seed give byte-identical tables in any process, with any worker count.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from sim.analysis.io import assemble_run, safe_child
from sim.analysis.kpis import summarise
from sim.config import Config
from sim.county.network import County, build_county
from sim.county.restructure import effective_network
from sim.experiment.executor import Finish, iter_results
from sim.experiment.progress import Progress
from sim.experiment.replication import (
    conditions_table,
    config_hash,
    default_jobs,
    sites_table,
    versions,
    villages_table,
)
from sim.experiment.sizing import check_fits
from sim.records import schema as record_schema
from sim.records.result import TABLES, RunResult

__all__ = ["run", "run_to_folder", "collect", "run_meta", "replication_dir", "save_replication", "Saver"]



def run(cfg: Config, replications: list[int] | None = None, jobs: int | None = None,
        progress: bool = False) -> RunResult:
    """Run a scenario's replications on the configured executor (local pool or Dask).

    Raises ``RuntimeError`` naming the failed replications if any raised.
    """
    t0 = time.perf_counter()
    reps = list(range(cfg.run.replications)) if replications is None else list(replications)
    jobs = jobs if jobs is not None else (cfg.run.jobs or default_jobs())
    county = build_county(effective_network(cfg))  # validates the graph before any work starts
    check_fits(cfg, jobs=jobs, replications=len(reps))  # refuses, naming the key, what cannot fit in memory
    outs = list(_finished(cfg, [(r, cfg, r) for r in reps], jobs, progress))
    return collect(cfg, outs, county, time.perf_counter() - t0)


def _finished(cfg: Config, tasks: list, jobs: int, progress: bool, finish: Finish | None = None) -> Iterator[dict]:
    """The outputs of the replications that succeeded, as they finish (:func:`iter_results`),
    counted on the progress bar; then, if any failed, ``RuntimeError`` naming them."""
    bar = Progress(len(tasks), cfg.scenario) if progress else None
    errors = []
    try:
        for _, out in iter_results(tasks, jobs, cfg.executor, finish=finish):
            if "error" in out:
                errors.append(out)
            else:
                yield out
            if bar:
                bar.done(out.get("info"))
            del out
    finally:
        if bar:
            bar.close()
    if errors:
        first = errors[0]["error"].strip().splitlines()[-1]
        raise RuntimeError(f"{len(errors)} replication(s) failed "
                           f"({', '.join(str(e['replication']) for e in errors)}): {first}")


def run_to_folder(cfg: Config, folder: str | Path, replications: list[int] | None = None, jobs: int | None = None,
                  progress: bool = False) -> RunResult:
    """Run a scenario's replications and write its run folder (what ``python -m sim`` does),
    streaming: each finished replication's tables are written where it ran, into
    ``<folder>/.replications/``, and the folder is then assembled from them one table of one
    replication at a time (:func:`sim.analysis.io.assemble_run`), so that memory does not grow
    with the number of replications and the tables are never held twice (issue #18).  The run
    folder holds the same tables as ``write_run(run(cfg), folder)``; the result's per-patient
    tables are read from it on first access.

    Raises ``RuntimeError`` naming the failed replications if any raised (the finished ones stay
    in ``<folder>/.replications/``).
    """
    t0 = time.perf_counter()
    folder = Path(folder)
    reps = list(range(cfg.run.replications)) if replications is None else list(replications)
    jobs = jobs if jobs is not None else (cfg.run.jobs or default_jobs())
    county = build_county(effective_network(cfg))  # validates the graph before any work starts
    check_fits(cfg, jobs=jobs, replications=len(reps), keep_in_memory=False)
    sites, villages, conds = sites_table(county), villages_table(county), conditions_table(cfg)
    cats = record_schema.categories(sites, villages, conds, cfg)
    work = folder / ".replications"
    shutil.rmtree(work, ignore_errors=True)
    saver = Saver(work, {cfg.scenario: config_hash(cfg)}, {cfg.scenario: cfg.run.seed}, {cfg.scenario: cats})
    info = {out["replication"]: out["info"]
            for out in _finished(cfg, [((cfg.scenario, r), cfg, r) for r in reps], jobs, progress, finish=saver)}
    done = sorted(info)
    result = assemble_run(cfg, sites, villages, conds, [replication_dir(work, cfg.scenario, r) for r in done],
                          folder, run_meta(cfg, done, info, time.perf_counter() - t0), move=True)
    shutil.rmtree(work, ignore_errors=True)
    return result


def collect(cfg: Config, outs: list[dict], county: County | None = None, wall: float = 0.0) -> RunResult:
    """Assemble replication outputs into one :class:`RunResult` (in replication order), every
    table coerced to its record schema (:mod:`sim.records.schema`).

    This concatenates in memory: a study builds its run folders by streaming instead
    (:func:`sim.analysis.io.assemble_run`)."""
    county = county or build_county(effective_network(cfg))
    outs = sorted(outs, key=lambda o: o["replication"])
    sites, villages, conds = sites_table(county), villages_table(county), conditions_table(cfg)
    cats = record_schema.categories(sites, villages, conds, cfg)

    def cat(frames: list[pd.DataFrame], table: str) -> pd.DataFrame:
        frames = [record_schema.coerce(f, table, cats) for f in frames]
        if len(frames) == 1:  # one replication: its frame as it is (a concatenation would copy it)
            f = frames[0]
            return f if isinstance(f.index, pd.RangeIndex) and f.index.start == 0 and f.index.step == 1 \
                else f.reset_index(drop=True)
        return record_schema.coerce(pd.concat(frames, ignore_index=True), table, cats)

    k = cat([o["kpis"] for o in outs], "kpis")
    occ = cat([o["occupancy"] for o in outs], "occupancy")
    tables: dict[str, pd.DataFrame | None] = {t: None for t in TABLES}
    if all(o["tables"] is not None for o in outs):
        for t in TABLES:
            tables[t] = cat([record_schema.with_keys(o["tables"][t], cfg.scenario, o["replication"]) for o in outs], t)
    meta = run_meta(cfg, [o["replication"] for o in outs], {o["replication"]: o["info"] for o in outs}, wall)
    return RunResult(config=cfg, kpis=k, summary=summarise(k), occupancy=occ, sites=sites, villages=villages,
                     conditions=conds, meta=meta, **tables)


def run_meta(cfg: Config, replications: list[int], info: dict[int, dict], wall: float) -> dict:
    """A run folder's ``meta.json``: seed, replications, config hash, versions, wall time."""
    return {"scenario": cfg.scenario, "seed": cfg.run.seed, "replications": list(replications),
            "config_hash": config_hash(cfg), "versions": versions(), "wall_s": wall,
            "replication_info": {str(r): info[r] for r in replications}}


def replication_dir(folder: Path, scenario: str, r: int) -> Path:
    return safe_child(folder / "replications", scenario) / f"r{r:04d}"


def save_replication(folder: Path, scenario: str, out: dict, chash: str, seed: int,
                      cats: record_schema.Categories) -> None:
    """Write one replication's tables (with their record schema) into a temporary folder, then
    rename it into place."""
    final = replication_dir(folder, scenario, out["replication"])
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    record_schema.write_table(out["kpis"], tmp / "kpis.parquet", "kpis", cats)
    record_schema.write_table(out["occupancy"], tmp / "occupancy.parquet", "occupancy", cats)
    if out.get("tables") is not None:
        for t in TABLES:
            record_schema.write_table(out["tables"][t], tmp / f"{t}.parquet", t, cats, keys=(scenario, out["replication"]))
    (tmp / "done.json").write_text(json.dumps({"config_hash": chash, "seed": seed,
                                               "replication": out["replication"], "info": out["info"]}))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    err = final.with_name(f"{final.name}.error.txt")
    if err.exists():
        err.unlink()


class Saver:
    """Writes a finished replication's folder where the replication ran (``finish`` of
    :func:`sim.experiment.executor.iter_results`) and returns only its ``replication`` and
    ``info``: the per-patient tables of a county-year (hundreds of MB) are then never pickled
    back to the process that runs the study (:mod:`sim.experiment.study`) or the run
    (:func:`run_to_folder`), which holds one small record per replication."""

    def __init__(self, folder: Path, hashes: dict[str, str], seeds: dict[str, int],
                 cats: dict[str, record_schema.Categories]) -> None:
        self.folder, self.hashes, self.seeds, self.cats = folder, hashes, seeds, cats

    def __call__(self, key: tuple[str, int], out: dict) -> dict:
        name = key[0]
        save_replication(self.folder, name, out, self.hashes[name], self.seeds[name], self.cats[name])
        return {"replication": out["replication"], "info": out["info"]}
