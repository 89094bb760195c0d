"""Study outputs: validation before any work, bounded memory, stale outputs, and one record schema
whether a study ran uninterrupted or was killed and resumed."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest

from sim.config import ConfigError, StudyConfig
from sim.experiment.study import compose_study, load_study_result, run_study

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

TOY = ["network=toy", "run.horizon_days=6", "run.warmup_days=1", "run.replications=2"]
STUDY = StudyConfig(name="t", baseline="base",
                    scenarios={"base": [], "more_doctors": ["network.facilities.t1.doctors.general=6"]})
# the lever tables of `none` are empty, `monthly` has no remote studies: empty tables are covered
LEVERS = StudyConfig(name="levers", baseline="none",
                     scenarios={"none": ["levers=none"], "monthly": ["levers=expert_monthly"],
                                "remote": ["levers=remote_full"]})
LEVERS_ARGS = ["network=toy", "run.horizon_days=10", "run.warmup_days=2", "run.replications=3", "run.jobs=1"]


# --------------------------------------------------------------------------- A: validate up front

BAD = StudyConfig(name="bad", baseline="base",
                  scenarios={"base": [], "also_good": ["network.facilities.t1.doctors.general=6"],
                             "bad_close": ["restructure.operations=[{op: close, site: nowhere}]"]})


def test_a_bad_restructure_in_the_last_scenario_is_refused_before_any_replication(tmp_path, monkeypatch):
    import sim.experiment.executor as experiment

    ran = []
    real = experiment.replicate
    monkeypatch.setattr(experiment, "replicate", lambda cfg, r: ran.append((cfg.scenario, r)) or real(cfg, r))
    folder = tmp_path / "study"
    with pytest.raises(ConfigError, match=r"study scenario 'bad_close': restructure\.operations\[0\]\.site: "
                                          r"names 'nowhere'"):
        run_study(BAD, TOY, folder=folder, jobs=1, progress=False, brief=False)
    assert ran == []
    assert not (folder / "replications").exists() and not (folder / "study.yaml").exists()
    with pytest.raises(ConfigError, match="study scenario 'bad_close'"):
        compose_study(BAD, TOY)


def test_a_scenario_whose_graph_is_invalid_is_refused_when_composed():
    # closing the only tier-1 centre of a village's reach: the county graph refuses it
    study = StudyConfig(name="x", baseline="a",
                        scenarios={"a": [], "b": ["restructure.operations=[{op: close, site: t1}, {op: close, site: t2}]"]})
    with pytest.raises(ConfigError, match="study scenario 'b': network"):
        compose_study(study, TOY)


# --------------------------------------------------------------------------- B: bounded memory

def test_study_runs_load_their_tables_lazily_and_pickle_whole(tmp_path):
    from sim.records.result import Deferred

    res = run_study(STUDY, TOY, folder=tmp_path, jobs=1, progress=False, brief=False)
    run = res.runs["base"]
    assert set(run.deferred()) == {"occupancy", "patients", "visits", "admissions", "emergency", "expert_visits",
                                   "remote_studies", "lever_events"}
    assert isinstance(run.__dict__["_patients"], Deferred)
    patients = run.patients  # read now, then kept
    assert run.patients is patients and "patients" not in run.deferred()
    assert sorted(patients["replication"].unique()) == [0, 1]
    assert isinstance(patients["village"].dtype, pd.CategoricalDtype)
    # a pickle is self-contained: it does not need the folder
    blob = pickle.dumps(res.runs["more_doctors"])
    shutil.rmtree(tmp_path / "runs" / "more_doctors")
    back = pickle.loads(blob)
    assert back.deferred() == [] and len(back.visits) > 0 and len(back.occupancy) > 0
    # a study loaded back is lazy too, and gives the same tables
    again = load_study_result(tmp_path)
    assert "visits" in again.runs["base"].deferred()
    pdt.assert_frame_equal(again.runs["base"].visits, run.visits, check_exact=True)
    pdt.assert_frame_equal(again.runs["base"].occupancy, run.occupancy, check_exact=True)


MEMORY_CHILD = r"""
import json, resource, sys
from sim.config import StudyConfig
from sim.experiment.study import compose_study, run_study
overrides, folder = json.loads(sys.argv[1]), sys.argv[2]
study = StudyConfig(name="mem", baseline="baseline",
                    scenarios={"baseline": [], "expert_weekly": ["levers=expert_weekly"]})
compose_study(study, overrides)
with open("/proc/self/status") as f:
    base = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
run_study(study, overrides, folder=folder, jobs=1, progress=False, brief=False)
print(json.dumps({"base": base, "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _study_memory_kib(tmp_path: Path, reps: int) -> int:
    overrides = ["network=xianghe", "run.horizon_days=14", "run.warmup_days=2", f"run.replications={reps}",
                 "run.jobs=1"]
    r = subprocess.run([PY, "-c", MEMORY_CHILD, json.dumps(overrides), str(tmp_path / f"r{reps}")], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    return out["peak"] - out["base"]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_peak_memory_of_a_study_does_not_grow_with_replications(tmp_path):
    """Peak resident memory the study adds to its process (replications run in it, jobs=1), with
    1 and with 4 replications of 2 scenarios on Xianghe.  Holding every replication's tables
    (before) made it grow ~1.8x from 1 to 4 replications (113 -> 202 MiB, ~30 MiB a replication);
    written and dropped at once, streamed into the run folders, it stays within allocator noise
    (126 -> 141 MiB, 1.12x, and flat from 3 replications on)."""
    one = _study_memory_kib(tmp_path, 1)
    four = _study_memory_kib(tmp_path, 4)
    assert four <= 1.3 * one, f"peak grew from {one / 1024:.0f} MiB (1 replication) to {four / 1024:.0f} MiB (4)"


# --------------------------------------------------------------------------- C: stale outputs

def test_a_study_with_other_config_hashes_moves_the_old_outputs_aside(tmp_path, capsys):
    first = run_study(STUDY, TOY, folder=tmp_path, jobs=1, progress=False, brief=False)
    (tmp_path / "brief.html").write_text("<html>the first study</html>")
    (tmp_path / "brief.zh.html").write_text("<html>the first study</html>")
    capsys.readouterr()
    second = run_study(STUDY, [*TOY, "run.seed=7"], folder=tmp_path, jobs=1, progress=False, brief=False)
    err = capsys.readouterr().err
    (stale,) = list(tmp_path.glob("stale-*"))
    assert stale.name.startswith("stale-") and stale.name.endswith("Z")
    assert [line for line in err.splitlines() if "stale-" in line] == [
        f"study t: {tmp_path} held the outputs of a run with other config hashes; moved them to {stale}"]
    for name in ("brief.html", "brief.zh.html", "summary.csv", "differences.csv", "kpis.parquet", "meta.json",
                 "study.yaml", "runs"):
        assert (stale / name).exists(), name
    assert not (tmp_path / "brief.html").exists() and not (tmp_path / "brief.zh.html").exists()
    assert json.loads((stale / "meta.json").read_text())["config_hashes"] == first.meta["config_hashes"]
    assert json.loads((tmp_path / "meta.json").read_text())["config_hashes"] == second.meta["config_hashes"]
    assert first.meta["config_hashes"] != second.meta["config_hashes"]
    # the moved study still loads as what it was
    old = load_study_result(stale)
    pdt.assert_frame_equal(old.kpis, first.kpis)
    assert (stale / "runs" / "base" / "patients.parquet").exists()
    # replications/ stays: the new study's checkpoints replaced those it re-ran
    done = json.loads((tmp_path / "replications" / "base" / "r0000" / "done.json").read_text())
    assert done["config_hash"] == second.meta["config_hashes"]["base"]


def test_resuming_the_same_study_moves_nothing_and_skips_what_is_done(tmp_path, capsys):
    run_study(STUDY, TOY, folder=tmp_path, jobs=1, progress=False, brief=False)
    (tmp_path / "brief.html").write_text("<html>this study</html>")
    done = tmp_path / "replications" / "base" / "r0001" / "done.json"
    stamp = done.stat().st_mtime_ns
    shutil.rmtree(tmp_path / "replications" / "more_doctors" / "r0001")  # an unfinished one
    capsys.readouterr()
    res = run_study(STUDY, [*TOY, "run.jobs=2"], folder=tmp_path, jobs=1, progress=False, brief=False)  # jobs: same hash
    assert "stale" not in capsys.readouterr().err
    assert not list(tmp_path.glob("stale-*"))
    assert done.stat().st_mtime_ns == stamp
    assert (tmp_path / "brief.html").read_text() == "<html>this study</html>"
    assert sorted(res.runs["more_doctors"].kpis["replication"].unique()) == [0, 1]


def test_outputs_of_unknown_provenance_are_moved_aside(tmp_path):
    (tmp_path / "summary.csv").write_text("scenario,metric\nold,x\n")  # no meta.json: who wrote it?
    run_study(STUDY, TOY, folder=tmp_path, jobs=1, progress=False, brief=False)
    (stale,) = list(tmp_path.glob("stale-*"))
    assert (stale / "summary.csv").read_text() == "scenario,metric\nold,x\n"
    assert "old" not in (tmp_path / "summary.csv").read_text()


# --------------------------------------------------------------------------- D: one schema, any path

def _normalised_json(path: Path):
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in ("wall_s", "jobs")}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    return strip(json.loads(path.read_text()))


def _outputs(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith("brief") and "stale-" not in p.as_posix()}


def assert_same_outputs(a: Path, b: Path, lever_tables: bool = True, suffixes: tuple[str, ...] = ()) -> None:
    """Every output file of two study folders (or those ending in ``suffixes``) is byte-identical
    (JSON: up to wall times and the number of worker processes)."""
    fa, fb = _outputs(a), _outputs(b)
    if suffixes:
        fa = {k: v for k, v in fa.items() if k.endswith(suffixes)}
        fb = {k: v for k, v in fb.items() if k.endswith(suffixes)}
    assert sorted(fa) == sorted(fb)
    assert any(k.startswith("runs/") and k.endswith("patients.parquet") for k in fa)
    if lever_tables:
        assert any(k.startswith("runs/") and k.endswith("lever_events.parquet") for k in fa)
    for rel, pa in fa.items():
        pb = fb[rel]
        if rel.endswith(".json"):
            assert _normalised_json(pa) == _normalised_json(pb), rel
        else:
            assert pa.read_bytes() == pb.read_bytes(), rel


def test_resumed_replications_write_the_same_tables_as_fresh_ones(tmp_path):
    """The quick version: a resume that reads most replications back from their checkpoints."""
    a, b = tmp_path / "a", tmp_path / "b"
    full = run_study(LEVERS, LEVERS_ARGS, folder=a, jobs=1, progress=False, brief=False)
    shutil.copytree(a / "replications", b / "replications")
    for gone in ("none/r0002", "monthly/r0000", "remote/r0001"):
        shutil.rmtree(b / "replications" / gone)
    resumed = run_study(LEVERS, LEVERS_ARGS, folder=b, jobs=1, progress=False, brief=False)
    assert_same_outputs(a, b)
    for name in LEVERS.scenarios:
        for t in ("expert_visits", "remote_studies", "lever_events", "patients", "occupancy"):
            x, y = getattr(full.runs[name], t), getattr(resumed.runs[name], t)
            pdt.assert_frame_equal(x, y, check_exact=True)
    none = resumed.runs["none"]
    assert len(none.expert_visits) == 0 and isinstance(none.expert_visits["site"].dtype, pd.CategoricalDtype)
    assert len(none.remote_studies) == 0 and isinstance(none.remote_studies["modality"].dtype, pd.CategoricalDtype)


KILL_CHILD = r"""
import json, os, signal, sys, time
import sim.experiment.runner as rn
import sim.experiment.study as st
from sim.config import StudyConfig
spec, args, folder, stop = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
study = StudyConfig(**spec)
if stop == "assembly":   # die while the run folders are being written
    real = st.assemble_run
    calls = []
    def assemble(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*a, **k)
    st.assemble_run = assemble
else:                    # wait to be killed once N replications are done
    real = rn.save_replication
    saved = []
    def save(*a, **k):
        real(*a, **k)
        saved.append(1)
        if len(saved) == int(stop):
            time.sleep(120)
    rn.save_replication = save
st.run_study(study, args, folder=folder, jobs=1, progress=False, brief=False)
"""


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["4", "assembly"])
def test_a_killed_and_resumed_study_writes_byte_identical_outputs(tmp_path, stop):
    """Issue 20: kill a study (SIGKILL) after 4 replications have their done.json, or while it
    writes the run folders; run it again: every table, csv and parquet, is byte-identical to an
    uninterrupted run's (categorical columns of empty lever tables included)."""
    from dataclasses import asdict

    a, b = tmp_path / "a", tmp_path / "b"
    run_study(LEVERS, LEVERS_ARGS, folder=a, jobs=1, progress=False, brief=False)
    proc = subprocess.Popen([PY, "-c", KILL_CHILD, json.dumps(asdict(LEVERS)), json.dumps(LEVERS_ARGS), str(b), stop],
                            cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "5"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    if stop != "assembly":
        deadline = time.time() + 120
        while time.time() < deadline and len(list(b.glob("replications/*/r*/done.json"))) < int(stop):
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    k = len(list(b.glob("replications/*/r*/done.json")))
    if stop == "assembly":
        assert k == 9 and (b / "runs" / "none" / "meta.json").exists()
        assert json.loads((b / "meta.json").read_text())["status"] == "assembling"
    else:
        assert k == int(stop) and not (b / "runs").exists()
    run_study(LEVERS, LEVERS_ARGS, folder=b, jobs=1, progress=False, brief=False)
    assert not list(b.glob("stale-*"))  # the same study resumed: nothing moved aside
    assert_same_outputs(a, b)


def test_pool_and_serial_write_byte_identical_study_folders(tmp_path):
    run_study(STUDY, TOY, folder=tmp_path / "serial", jobs=1, progress=False, brief=False)
    run_study(STUDY, TOY, folder=tmp_path / "pool", jobs=2, progress=False, brief=False)
    assert_same_outputs(tmp_path / "serial", tmp_path / "pool", lever_tables=False)
