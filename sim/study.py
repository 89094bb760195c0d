"""Studies: a baseline and alternative scenarios x replications, with common random numbers.

A study config (``scenarios/study/<name>.yaml``) names a baseline and alternatives, each a
list of Hydra overrides.  Replication ``r`` of every scenario uses the same seed and so sees
the same arriving patients (named streams, :mod:`sim.rng`); differences are paired by
replication.

Study folder (``<run.output_dir>/studies/<name>/`` unless given)::

    study.yaml              the study and the overrides it was run with
    replications/<scenario>/r0000/   one finished replication (written atomically)
    replications/<scenario>/r0000.error.txt   a replication that raised
    runs/<scenario>/        each scenario's run folder (see :mod:`sim.io`)
    kpis.parquet            every scenario's KPI table (scenario, replication, metric, group, value)
    summary.csv             mean and 95% CI per scenario and KPI
    differences.csv         paired differences against the baseline, with the paired and the
                            unpaired CI half-widths (the variance reduction of CRN)
    meta.json               seeds, config hashes, versions, wall time, failures

Re-running the same study into the same folder skips every replication already done with the
same config hash and seed, and finishes the rest.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from sim.config import Config, ConfigError, StudyConfig
from sim.experiment import TABLES, RunResult, collect, config_hash, default_jobs, versions
from sim.io import atomic_write_bytes, load_run, safe_child, write_run
from sim.metrics import paired_differences, summarise

__all__ = ["StudyResult", "load_study", "compose_study", "run_study", "load_study_result", "gather_multirun"]


@dataclass
class StudyResult:
    """Every scenario's run plus the study-level tables."""

    study: StudyConfig
    runs: dict[str, RunResult]
    kpis: pd.DataFrame
    summary: pd.DataFrame
    differences: pd.DataFrame
    failures: list[dict] = field(default_factory=list)
    folder: Path | None = None
    meta: dict = field(default_factory=dict)

    @property
    def baseline(self) -> str:
        return self.study.baseline

    def __repr__(self) -> str:
        return (f"StudyResult({self.study.name!r}, scenarios={list(self.runs)}, "
                f"failures={len(self.failures)})")


def load_study(name: str, config_dir: str | Path | None = None) -> StudyConfig:
    """Read ``scenarios/study/<name>.yaml`` (or a path) into a validated :class:`StudyConfig`."""
    from omegaconf import OmegaConf

    from sim import SCENARIOS_DIR

    path = Path(name)
    if not path.suffix:
        path = Path(config_dir or SCENARIOS_DIR) / "study" / f"{name}.yaml"
    if not path.exists():
        raise ConfigError(f"study: no study config {path}")
    try:
        node = OmegaConf.merge(OmegaConf.structured(StudyConfig), OmegaConf.load(path))
        study = OmegaConf.to_object(node)
    except Exception as exc:
        raise ConfigError(f"study ({path.name}): {str(exc).splitlines()[0]}") from None
    _validate_study(study)
    return study


def _validate_study(study: StudyConfig) -> None:
    # the study's name is a folder under <output_dir>/studies/: it must not leave it
    if study.name and ("/" in study.name or "\\" in study.name or ".." in study.name):
        raise ConfigError(f"study.name: must be a plain name (no '/', '\\' or '..'), got {study.name!r}")
    if not study.scenarios:
        raise ConfigError(f"study.scenarios: study {study.name!r} has no scenarios (an empty study)")
    if study.baseline not in study.scenarios:
        raise ConfigError(f"study.baseline: {study.baseline!r} is not one of the study's scenarios "
                          f"({', '.join(study.scenarios)})")


def compose_study(study: StudyConfig, overrides: Sequence[str] = (),
                  config_dir: str | Path | None = None) -> dict[str, Config]:
    """One composed, validated config per scenario: base overrides, then the scenario's, then
    ``overrides`` (e.g. ``run.replications=8``), then ``scenario=<name>``."""
    from sim import compose

    _validate_study(study)
    extra = [o for o in overrides if not o.startswith(("study=", "+study=", "scenario="))]
    out = {}
    for name, scen in study.scenarios.items():
        try:
            out[name] = compose([*study.base_overrides, *scen, *extra, f"scenario={name}"], config_dir)
        except ConfigError as exc:
            raise ConfigError(f"study scenario {name!r}: {exc}") from None
    seeds = {c.run.seed for c in out.values()}
    reps = {c.run.replications for c in out.values()}
    if len(seeds) > 1 or len(reps) > 1:
        raise ConfigError("study: every scenario must share run.seed and run.replications "
                          "(common random numbers pair replication r of each scenario)")
    return out


def _rep_dir(folder: Path, scenario: str, r: int) -> Path:
    return safe_child(folder / "replications", scenario) / f"r{r:04d}"


def _save_replication(folder: Path, scenario: str, out: dict, chash: str, seed: int) -> None:
    """Write one replication's tables into a temporary folder, then rename it into place."""
    final = _rep_dir(folder, scenario, out["replication"])
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    out["kpis"].to_parquet(tmp / "kpis.parquet")
    out["occupancy"].to_parquet(tmp / "occupancy.parquet")
    if out.get("tables") is not None:
        for t in TABLES:
            out["tables"][t].to_parquet(tmp / f"{t}.parquet")
    (tmp / "done.json").write_text(json.dumps({"config_hash": chash, "seed": seed,
                                               "replication": out["replication"], "info": out["info"]}))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    err = final.with_name(f"{final.name}.error.txt")
    if err.exists():
        err.unlink()


def _load_replication(folder: Path, scenario: str, r: int, chash: str, seed: int, keep: bool) -> dict | None:
    d = _rep_dir(folder, scenario, r)
    done = d / "done.json"
    if not done.exists():
        return None
    info = json.loads(done.read_text())
    if info.get("config_hash") != chash or info.get("seed") != seed:
        return None
    tables = None
    if keep:
        if not all((d / f"{t}.parquet").exists() for t in TABLES):
            return None
        tables = {t: pd.read_parquet(d / f"{t}.parquet") for t in TABLES}
    return {"replication": r, "kpis": pd.read_parquet(d / "kpis.parquet"),
            "occupancy": pd.read_parquet(d / "occupancy.parquet"), "tables": tables, "info": info["info"]}


def run_study(study: StudyConfig | str, overrides: Sequence[str] = (), folder: str | Path | None = None,
              jobs: int | None = None, progress: bool = True, config_dir: str | Path | None = None,
              brief: bool = True) -> StudyResult:
    """Run (or resume) a study and write its folder.  See the module docstring for the layout."""
    from sim.executor import iter_results

    t0 = time.perf_counter()
    if isinstance(study, str):
        study = load_study(study, config_dir)
    cfgs = compose_study(study, overrides, config_dir)
    first = next(iter(cfgs.values()))
    if folder is None:
        folder = Path(first.run.output_dir) / "studies" / (study.name or "study")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"study": asdict(study), "overrides": list(overrides)}
    atomic_write_bytes(folder / "study.yaml", _yaml(spec).encode())

    reps = list(range(first.run.replications))
    jobs = jobs if jobs is not None else (first.run.jobs or default_jobs())
    hashes = {name: config_hash(c) for name, c in cfgs.items()}
    outs: dict[str, list[dict]] = {name: [] for name in cfgs}
    todo = []
    for name, cfg in cfgs.items():
        for r in reps:
            done = _load_replication(folder, name, r, hashes[name], cfg.run.seed, cfg.run.keep_patients)
            if done is not None:
                outs[name].append(done)
            else:
                todo.append(((name, r), cfg, r))
    bar = None
    if progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=study.name or "study", unit="rep")
    failures = []
    for (name, r), out in iter_results(todo, jobs, first.executor):
        if "error" in out:
            err = _rep_dir(folder, name, r).with_name(f"r{r:04d}.error.txt")
            err.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(err, out["error"].encode())
            failures.append({"scenario": name, "replication": r, "error": out["error"].strip().splitlines()[-1]})
        else:
            _save_replication(folder, name, out, hashes[name], cfgs[name].run.seed)
            if not cfgs[name].run.keep_patients:
                out["tables"] = None
            outs[name].append(out)
        if bar:
            bar.update(1)
    if bar:
        bar.close()

    runs = {}
    for name, cfg in cfgs.items():
        if outs[name]:
            runs[name] = collect(cfg, outs[name], wall=time.perf_counter() - t0)
            write_run(runs[name], safe_child(folder / "runs", name))
    result = _assemble(study, runs, failures, folder)
    result.meta = {"study": study.name, "seed": first.run.seed, "replications": len(reps),
                   "scenarios": list(cfgs), "config_hashes": hashes, "versions": versions(),
                   "wall_s": time.perf_counter() - t0, "jobs": jobs, "executor": first.executor.kind,
                   "failures": failures}
    atomic_write_bytes(folder / "meta.json", json.dumps(result.meta, indent=2, default=str).encode())
    if brief and runs:
        try:
            from sim.brief import write_brief
        except ImportError:  # the brief module is optional until it lands
            pass
        else:
            write_brief(folder)
    return result


def _assemble(study: StudyConfig, runs: dict[str, RunResult], failures: list[dict], folder: Path | None) -> StudyResult:
    kpis = pd.concat([r.kpis for r in runs.values()], ignore_index=True) if runs else pd.DataFrame()
    summary = summarise(kpis) if len(kpis) else pd.DataFrame()
    diffs = paired_differences(kpis, study.baseline) if study.baseline in runs else pd.DataFrame()
    if folder is not None:
        if len(kpis):
            kpis.to_parquet(folder / "kpis.parquet")
        atomic_write_bytes(folder / "summary.csv", summary.to_csv(index=False).encode())
        atomic_write_bytes(folder / "differences.csv", diffs.to_csv(index=False).encode())
    return StudyResult(study=study, runs=runs, kpis=kpis, summary=summary, differences=diffs,
                       failures=failures, folder=folder)


def load_study_result(folder: str | Path) -> StudyResult:
    """Load a study folder back (no model needed)."""
    import yaml

    folder = Path(folder)
    spec = yaml.safe_load((folder / "study.yaml").read_text())
    study = StudyConfig(**spec["study"])
    runs = {}
    runs_dir = folder / "runs"
    for name in study.scenarios:
        if (runs_dir / name / "kpis.parquet").exists():
            runs[name] = load_run(runs_dir / name)
    meta = json.loads((folder / "meta.json").read_text()) if (folder / "meta.json").exists() else {}
    res = _assemble(study, runs, meta.get("failures", []), None)
    res.folder = folder
    res.meta = meta
    return res


def gather_multirun(folder: str | Path) -> pd.DataFrame:
    """Gather the KPI tables of a Hydra ``--multirun`` folder into one tidy table.

    Each job's run folder holds ``kpis.parquet``; the result has one ``scenario`` per job
    (the job's ``scenario`` name, suffixed with the job number when names repeat) and a
    ``job`` column with the job's overrides.
    """
    folder = Path(folder)
    frames = []
    for kp in sorted(folder.glob("*/kpis.parquet")):
        df = pd.read_parquet(kp)
        job = kp.parent.name
        ovr = kp.parent / ".hydra" / "overrides.yaml"
        overrides = ""
        if ovr.exists():
            import yaml

            overrides = " ".join(yaml.safe_load(ovr.read_text()) or [])
        df = df.assign(job=job, overrides=overrides)
        frames.append(df)
    if not frames:
        raise FileNotFoundError(f"no run folders with kpis.parquet under {folder}")
    out = pd.concat(frames, ignore_index=True)
    if out.groupby("scenario")["job"].nunique().max() > 1:
        out["scenario"] = out["scenario"] + "#" + out["job"].str.split("_").str[0]
    return out


def _yaml(obj: dict) -> str:
    import yaml

    return yaml.safe_dump(obj, allow_unicode=True, sort_keys=False)
