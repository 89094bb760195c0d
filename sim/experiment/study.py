"""Studies: a baseline and alternative scenarios x replications, with common random numbers.

A study config (``scenarios/study/<name>.yaml``) names a baseline and alternatives, each a
list of Hydra overrides.  Replication ``r`` of every scenario uses the same seed and so sees
the same arriving patients (named streams, :mod:`sim.rng`); differences are paired by
replication.

Study folder (``<run.output_dir>/studies/<name>/`` unless given)::

    study.yaml              the study and the overrides it was run with
    replications/<scenario>/r0000/   one finished replication (written atomically)
    replications/<scenario>/r0000.error.txt   a replication that raised
    runs/<scenario>/        each scenario's run folder (see :mod:`sim.analysis.io`)
    kpis.parquet            every scenario's KPI table (scenario, replication, metric, group, value)
    summary.csv             mean and 95% CI per scenario and KPI
    differences.csv         paired differences against the baseline, with the paired and the
                            unpaired CI half-widths (the variance reduction of CRN)
    meta.json               seeds, config hashes, versions, wall time, failures
    brief.html, brief.zh.html   the policy brief (:mod:`sim.report.brief`)
    stale-<UTC time>/       study-level outputs of an earlier run with other config hashes

Every scenario is composed, restructured and its county graph built before the first
replication starts, so a bad override or restructuring operation in any scenario is refused at
once (a :class:`ConfigError` naming the scenario and the key) and nothing is written.

Each finished replication is written to its folder as it completes and its per-patient tables
are dropped from memory at once; the scenario run folders are then streamed from the
replication folders one replication at a time (:func:`sim.analysis.io.assemble_run`), and the study
tables come from the KPI tables only, so a study's memory does not grow with its replications.
Every table has the columns and dtypes of :mod:`sim.records.schema`, whether its replications
ran now, were read back from a checkpoint, or came from Dask.

Re-running the same study into the same folder skips every replication already done with the
same config hash and seed, and finishes the rest; nothing else is moved.  When the folder's
study-level outputs (``brief.html``, ``brief.zh.html``, ``brief.xlsx``, ``summary.csv``, ``differences.csv``,
``kpis.parquet``, ``meta.json``, ``runs/``, ``figures/``, with their ``study.yaml``) were written
by a run with other config hashes (``meta.json``'s ``config_hashes``: another study, horizon,
seed, number of replications...), or their provenance is unknown (no readable ``meta.json``),
they are moved into ``stale-<UTC time>/`` (one line on stderr says so) before anything new is
written, so a brief never describes other replications than those beside it.
``replications/`` stays where it is: every replication folder records its own config hash and
seed (``done.json``), one of other hashes is never used, and it is overwritten when this study
runs that replication.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim.analysis.io import assemble_run, atomic_write_bytes, load_run, safe_child, write_table
from sim.analysis.kpis import paired_differences, summarise
from sim.analysis.paired import PAIRED_KPIS, versus_baseline
from sim.config import Config, ConfigError, StudyConfig
from sim.config.semantics import check_study_labels
from sim.county.network import County, build_county
from sim.county.restructure import effective_network
from sim.experiment.progress import Progress
from sim.experiment.replication import (
    conditions_table,
    config_hash,
    default_jobs,
    sites_table,
    versions,
    villages_table,
)
from sim.experiment.runner import Saver as _Saver
from sim.experiment.runner import replication_dir as _rep_dir
from sim.experiment.runner import run_meta
from sim.experiment.sizing import check_fits
from sim.records import schema as record_schema
from sim.records.result import TABLES, RunResult

__all__ = ["StudyResult", "load_study", "compose_study", "run_study", "load_study_result", "gather_multirun",
           "move_stale_outputs", "same_county", "STUDY_OUTPUTS"]


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

    from sim.config.loading import SCENARIOS_DIR

    path = Path(name)
    if not path.suffix:
        path = Path(config_dir or SCENARIOS_DIR) / "study" / f"{name}.yaml"
    if not path.exists():
        raise ConfigError(f"study: no study config {path}")
    try:
        node = OmegaConf.merge(OmegaConf.structured(StudyConfig), OmegaConf.load(path))
        study = OmegaConf.to_object(node)
    except Exception as exc:
        from sim.config.errors import _omegaconf_message, yaml_error_message

        raise ConfigError(yaml_error_message(exc) or f"study ({path.name}): {_omegaconf_message(exc)}") from None
    assert isinstance(study, StudyConfig)  # to_object of a structured StudyConfig node builds one
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
    check_study_labels(study)


def compose_study(study: StudyConfig, overrides: Sequence[str] = (),
                  config_dir: str | Path | None = None) -> dict[str, Config]:
    """One composed, validated config per scenario: base overrides, then the scenario's, then
    ``overrides`` (e.g. ``run.replications=8``), then ``scenario=<name>``.

    Every scenario's restructuring is applied and its county graph built here, so a bad site
    in any scenario raises a :class:`ConfigError` naming the scenario and the key before any
    replication of any scenario runs."""
    return _compose(study, overrides, config_dir)[0]


def _compose(study: StudyConfig, overrides: Sequence[str] = (),
             config_dir: str | Path | None = None) -> tuple[dict[str, Config], dict[str, County]]:
    from sim.config.loading import compose

    _validate_study(study)
    extra = [o for o in overrides if not o.startswith(("study=", "+study=", "scenario="))]
    out, counties = {}, {}
    for name, scen in study.scenarios.items():
        try:
            out[name] = compose([*study.base_overrides, *scen, *extra, f"scenario={name}"], config_dir)
            counties[name] = build_county(effective_network(out[name]))
        except ConfigError as exc:
            raise ConfigError(f"study scenario {name!r}: {exc}") from None
    seeds = {c.run.seed for c in out.values()}
    reps = {c.run.replications for c in out.values()}
    if len(seeds) > 1 or len(reps) > 1:
        raise ConfigError("study: every scenario must share run.seed and run.replications "
                          "(common random numbers pair replication r of each scenario)")
    return out, counties


#: study-level outputs, moved aside together when another run (other config hashes) wrote them.
STUDY_OUTPUTS = ("brief.html", "brief.zh.html", "brief.xlsx", "summary.csv", "differences.csv", "kpis.parquet", "meta.json",
                 "runs", "figures")


def _read_meta(folder: Path) -> dict:
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def move_stale_outputs(folder: Path, hashes: dict[str, str]) -> Path | None:
    """Move the study-level outputs of ``folder`` into ``folder/stale-<UTC time>/`` unless its
    ``meta.json`` records exactly these config hashes; returns where they went (``None``: nothing
    moved).  ``replications/`` is never moved (each replication records its own hash)."""
    present = [n for n in STUDY_OUTPUTS if (folder / n).exists()]
    if not present or _read_meta(folder).get("config_hashes") == hashes:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dest, i = folder / f"stale-{stamp}", 1
    while dest.exists():
        i += 1
        dest = folder / f"stale-{stamp}-{i}"
    dest.mkdir()
    for n in ("study.yaml", *present):
        if (folder / n).exists():
            os.replace(folder / n, dest / n)
    return dest


def _clean_temporaries(folder: Path) -> None:
    """Remove the temporary files and folders (``.<name>.tmp-<pid>``) a killed run left behind."""
    for area in (folder, folder / "runs", folder / "replications"):
        if not area.is_dir():
            continue
        paths = area.glob(".*.tmp-*") if area == folder else area.glob("**/.*.tmp-*")
        for p in list(paths):
            try:
                pid = int(p.name.rsplit("-", 1)[1])
            except ValueError:
                continue
            if pid == os.getpid() or _alive(pid):
                continue
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, not ours
        return True
    return True


def _done_info(folder: Path, scenario: str, r: int, chash: str, seed: int, keep: bool) -> dict | None:
    """The ``info`` of a finished replication with this config hash and seed, else ``None``."""
    d = _rep_dir(folder, scenario, r)
    try:
        done = json.loads((d / "done.json").read_text())
    except (OSError, ValueError):
        return None
    if done.get("config_hash") != chash or done.get("seed") != seed:
        return None
    need = ("kpis", "occupancy", *(TABLES if keep else ()))
    if not all((d / f"{t}.parquet").exists() for t in need):
        return None
    return done.get("info", {})


def run_study(study: StudyConfig | str, overrides: Sequence[str] = (), folder: str | Path | None = None,
              jobs: int | None = None, progress: bool = True, config_dir: str | Path | None = None,
              brief: bool = True) -> StudyResult:
    """Run (or resume) a study and write its folder.  See the module docstring for the layout.

    ``runs[name]`` of the result is the scenario's run folder: its per-patient tables (and
    occupancy) are read from ``runs/<name>/`` on first access."""
    from sim.experiment.executor import iter_results

    t0 = time.perf_counter()
    if isinstance(study, str):
        study = load_study(study, config_dir)
    cfgs, counties = _compose(study, overrides, config_dir)  # every scenario validated: nothing written yet
    first = next(iter(cfgs.values()))
    njobs = jobs if jobs is not None else (first.run.jobs or default_jobs())
    for cfg in cfgs.values():  # finished replications stream to disk: only the running ones count
        check_fits(cfg, jobs=njobs, keep_in_memory=False, scenarios=len(cfgs))
    if folder is None:
        folder = Path(first.run.output_dir) / "studies" / (study.name or "study")
    folder = Path(folder)
    hashes = {name: config_hash(c) for name, c in cfgs.items()}
    folder.mkdir(parents=True, exist_ok=True)
    stale = move_stale_outputs(folder, hashes)
    if stale is not None:
        print(f"study {study.name or 'study'}: {folder} held the outputs of a run with other config hashes; "
              f"moved them to {stale}", file=sys.stderr)
    _clean_temporaries(folder)
    spec = {"study": asdict(study), "overrides": list(overrides)}
    atomic_write_bytes(folder / "study.yaml", _yaml(spec).encode())

    reps = list(range(first.run.replications))
    jobs = jobs if jobs is not None else (first.run.jobs or default_jobs())
    tables = {name: (sites_table(counties[name]), villages_table(counties[name]), conditions_table(cfg))
              for name, cfg in cfgs.items()}
    cats = {name: record_schema.categories(*tables[name], cfgs[name]) for name in cfgs}
    done: dict[str, dict[int, dict]] = {name: {} for name in cfgs}
    todo = []
    for name, cfg in cfgs.items():
        for r in reps:
            info = _done_info(folder, name, r, hashes[name], cfg.run.seed, cfg.run.keep_patients)
            if info is not None:
                done[name][r] = info
            else:
                todo.append(((name, r), cfg, r))
    bar = Progress(len(todo), study.name or "study") if progress and todo else None
    failures = []
    saver = _Saver(folder, hashes, {name: cfg.run.seed for name, cfg in cfgs.items()}, cats)
    for (name, r), out in iter_results(todo, jobs, first.executor, finish=saver):
        if "error" in out:
            err = _rep_dir(folder, name, r).with_name(f"r{r:04d}.error.txt")
            err.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(err, out["error"].encode())
            failures.append({"scenario": name, "replication": r, "error": out["error"].strip().splitlines()[-1]})
        else:
            done[name][r] = out["info"]
        if bar:
            bar.done(out.get("info"))
        del out  # its folder is written (by the worker; on Dask by iter_results, here): nothing kept
        gc.collect()  # and its simulation's reference cycles (run in this process when jobs=1)
    if bar:
        bar.close()
    order = list(cfgs)
    failures.sort(key=lambda f: (order.index(f["scenario"]), f["replication"]))

    meta = {"study": study.name, "seed": first.run.seed, "replications": len(reps), "scenarios": list(cfgs),
            "config_hashes": hashes, "versions": versions()}
    # the folder's provenance before any study-level output is (re)written
    atomic_write_bytes(folder / "meta.json", json.dumps({**meta, "status": "assembling"}, indent=2).encode())
    runs = {}
    for name, cfg in cfgs.items():
        run_dir = safe_child(folder / "runs", name)
        if not done[name]:
            shutil.rmtree(run_dir, ignore_errors=True)  # no replication of this study to show
            continue
        rs = sorted(done[name])
        runs[name] = assemble_run(cfg, *tables[name], [_rep_dir(folder, name, r) for r in rs], run_dir,
                                  run_meta(cfg, rs, done[name], time.perf_counter() - t0))
    result = _assemble(study, runs, failures, folder)
    result.meta = {**meta, "wall_s": time.perf_counter() - t0, "jobs": jobs, "executor": first.executor.kind,
                   "failures": failures, "status": "complete"}
    atomic_write_bytes(folder / "meta.json", json.dumps(result.meta, indent=2, default=str).encode())
    if brief and runs:
        try:
            from sim.report.brief import write_brief
        except ImportError:  # the brief module is optional until it lands
            pass
        else:
            write_brief(folder)
    return result


#: the patients' columns the paired comparison reads
PAIRED_COLUMNS = ["onset", "village", "condition", "up_referrals", "exit"]


def _paired_kpis(study: StudyConfig, runs: dict[str, RunResult], folder: Path) -> pd.DataFrame:
    """Each scenario's episodes against their baseline twins, replication by replication
    (:mod:`sim.analysis.paired`: referrals avoided and added, stays kept in and lost to the
    county), read from the per-replication files one pair at a time; the baseline's own rows
    are 0 by definition.  Empty when the per-patient tables were not kept."""
    base = study.baseline
    same = same_county(runs, base)
    rows = []
    for name, res in runs.items():
        if name not in same:
            continue
        warm = res.config.run.warmup_days
        for r in sorted(res.kpis["replication"].unique()):
            b = _rep_dir(folder, base, int(r)) / "patients.parquet"
            f = _rep_dir(folder, name, int(r)) / "patients.parquet"
            if not (b.exists() and f.exists()):
                continue
            if name == base:
                counts = dict.fromkeys(PAIRED_KPIS, 0.0)
            else:
                counts = versus_baseline(pd.read_parquet(b, columns=PAIRED_COLUMNS),
                                         pd.read_parquet(f, columns=PAIRED_COLUMNS), warm)
            rows += [(name, int(r), k, "county", v) for k, v in counts.items()]
    return pd.DataFrame(rows, columns=["scenario", "replication", "metric", "group", "value"])


def same_county(runs: dict[str, RunResult], baseline: str) -> list[str]:
    """The scenarios on the baseline's county network (``network.name``; restructured or not):
    only they are compared with the baseline.  A scenario on another county's network (a
    prefecture study, ``scenarios/study/prefecture.yaml``) sees other villages and other
    patients, so its "paired difference" would be one county minus another, not the effect
    of a policy: none is computed (no rows in ``differences.csv``, no paired KPIs)."""
    if baseline not in runs:
        return []
    net = runs[baseline].config.network.name
    return [name for name, res in runs.items() if res.config.network.name == net]


def _assemble(study: StudyConfig, runs: dict[str, RunResult], failures: list[dict], folder: Path | None,
              kpis: pd.DataFrame | None = None) -> StudyResult:
    """The study-level tables, written into ``folder`` when given: the scenarios' KPIs and the
    paired KPIs from the per-replication files (or ``kpis`` as read back from a study folder)."""
    if kpis is None:
        kpis = pd.concat([r.kpis for r in runs.values()], ignore_index=True) if runs else pd.DataFrame()
        if folder is not None and study.baseline in runs:
            paired = _paired_kpis(study, runs, folder)
            if len(paired):
                kpis = pd.concat([kpis, paired], ignore_index=True)
        if len(kpis):
            kpis = record_schema.coerce(kpis, "kpis", None)
        write = folder is not None
    else:
        write = False
    summary = summarise(kpis) if len(kpis) else pd.DataFrame()
    diffs = (paired_differences(kpis[kpis["scenario"].astype(str).isin(same_county(runs, study.baseline))],
                                study.baseline) if study.baseline in runs else pd.DataFrame())
    if folder is not None and write:
        if len(kpis):
            write_table(kpis, folder / "kpis.parquet", "kpis", None)
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
            runs[name] = load_run(runs_dir / name, lazy=True)
    meta = json.loads((folder / "meta.json").read_text()) if (folder / "meta.json").exists() else {}
    kpis_file = folder / "kpis.parquet"
    kpis = record_schema.read_table(kpis_file, "kpis") if kpis_file.exists() else None
    res = _assemble(study, runs, meta.get("failures", []), None, kpis=kpis)
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
