"""Studies: common random numbers, executors, resumption and failure handling."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest

import sim
from sim.config import ConfigError, StudyConfig
from sim.experiment.study import compose_study, gather_multirun, load_study, load_study_result, run_study

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

TOY = ["network=toy", "run.horizon_days=10", "run.warmup_days=2", "run.replications=3"]
STUDY = StudyConfig(
    name="t", baseline="base",
    scenarios={"base": [], "more_doctors": ["network.facilities.t1.doctors.general=6"]},
)


def _kpis_sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["scenario", "replication", "metric", "group"]).reset_index(drop=True)


def test_replication_r_of_every_scenario_sees_the_same_patients(tmp_path):
    res = run_study(STUDY, TOY, folder=tmp_path, jobs=1, progress=False, brief=False)
    a, b = res.runs["base"].patients, res.runs["more_doctors"].patients
    cols = ["replication", "patient", "village", "condition", "onset"]
    pdt.assert_frame_equal(a[cols].reset_index(drop=True), b[cols].reset_index(drop=True))
    # ...and replications are independent: different arrival streams
    r0 = a[a["replication"] == 0]["onset"].to_numpy()
    r1 = a[a["replication"] == 1]["onset"].to_numpy()
    n = min(len(r0), len(r1))
    assert not (r0[:n] == r1[:n]).any()
    # the lever changed something downstream
    d = res.differences
    w = d[(d["scenario"] == "more_doctors") & (d["metric"] == "wait_mean_min") & (d["group"] == "tier1")]
    assert len(w) == 1 and w["mean_diff"].iloc[0] <= 0


def test_paired_ci_is_narrower_than_unpaired_under_crn(tmp_path):
    res = run_study(STUDY, TOY, folder=tmp_path, jobs=1, progress=False, brief=False)
    d = res.differences
    row = d[(d["metric"] == "visits_per_person_year") & (d["group"] == "county")].iloc[0]
    assert row["paired_half_width"] < row["unpaired_half_width"]


def test_process_pool_and_serial_give_identical_tables(tmp_path):
    serial = run_study(STUDY, TOY, folder=tmp_path / "s", jobs=1, progress=False, brief=False)
    pool = run_study(STUDY, TOY, folder=tmp_path / "p", jobs=2, progress=False, brief=False)
    pdt.assert_frame_equal(_kpis_sorted(serial.kpis), _kpis_sorted(pool.kpis), check_exact=True)
    pdt.assert_frame_equal(serial.runs["base"].patients, pool.runs["base"].patients, check_exact=True)


def _where_finished(key, out):
    """A ``finish`` for iter_results: where it ran, and whether it saw the tables."""
    return {"replication": out["replication"], "pid": os.getpid(), "tables": out.get("tables") is not None}


@pytest.mark.parametrize("jobs", [1, 2])
def test_finish_runs_where_the_replication_ran(jobs):
    """A study writes each replication's tables in the local pool's worker (``finish``): only
    the small record it returns crosses back, never the per-patient tables (issue #18)."""
    from sim.experiment.executor import iter_results

    cfg = sim.compose(["network=toy", "run=test", "run.horizon_days=2", "run.warmup_days=0"])
    got = dict(iter_results([(r, cfg, r) for r in range(2)], jobs, finish=_where_finished))
    assert sorted(got) == [0, 1]
    assert all(o["tables"] and set(o) == {"replication", "pid", "tables"} for o in got.values())
    here = [o["pid"] == os.getpid() for o in got.values()]
    assert all(here) if jobs == 1 else not any(here)


def test_study_folder_layout_and_reload(tmp_path):
    res = run_study(STUDY, TOY, folder=tmp_path, jobs=1, progress=False, brief=False)
    for f in ("study.yaml", "kpis.parquet", "summary.csv", "differences.csv", "meta.json"):
        assert (tmp_path / f).exists(), f
    for s in STUDY.scenarios:
        assert (tmp_path / "runs" / s / "kpis.parquet").exists()
    back = load_study_result(tmp_path)
    pdt.assert_frame_equal(_kpis_sorted(back.kpis), _kpis_sorted(res.kpis))
    assert set(back.differences["scenario"]) == {"more_doctors"}


def test_resume_skips_done_replications_and_reruns_changed_ones(tmp_path):
    first = run_study(STUDY, TOY, folder=tmp_path, jobs=1, progress=False, brief=False)
    done = tmp_path / "replications" / "base" / "r0001" / "done.json"
    stamp = done.stat().st_mtime_ns
    again = run_study(STUDY, TOY, folder=tmp_path, jobs=1, progress=False, brief=False)
    assert done.stat().st_mtime_ns == stamp  # not re-run
    pdt.assert_frame_equal(_kpis_sorted(first.kpis), _kpis_sorted(again.kpis))
    # a changed config (another seed) invalidates the checkpoints
    run_study(STUDY, [*TOY, "run.seed=7"], folder=tmp_path, jobs=1, progress=False, brief=False)
    assert done.stat().st_mtime_ns != stamp


def test_a_failing_replication_is_recorded_and_the_rest_completes(tmp_path, monkeypatch):
    import sim.experiment.executor as experiment

    real = experiment.replicate

    def flaky(cfg, r):
        if cfg.scenario == "more_doctors" and r == 1:
            raise RuntimeError("boom in replication 1")
        return real(cfg, r)

    monkeypatch.setattr(experiment, "replicate", flaky)
    res = run_study(STUDY, TOY, folder=tmp_path, jobs=1, progress=False, brief=False)
    assert res.failures == [{"scenario": "more_doctors", "replication": 1,
                             "error": "RuntimeError: boom in replication 1"}]
    assert (tmp_path / "replications" / "more_doctors" / "r0001.error.txt").exists()
    assert sorted(res.runs["more_doctors"].kpis["replication"].unique()) == [0, 2]
    assert sorted(res.runs["base"].kpis["replication"].unique()) == [0, 1, 2]


def test_empty_study_and_bad_baseline_are_clear_errors():
    with pytest.raises(ConfigError, match="no scenarios"):
        compose_study(StudyConfig(name="x", baseline="a", scenarios={}))
    with pytest.raises(ConfigError, match="study.baseline"):
        compose_study(StudyConfig(name="x", baseline="nope", scenarios={"a": []}))
    with pytest.raises(ConfigError, match="study scenario 'a'.*horizn"):
        compose_study(StudyConfig(name="x", baseline="a", scenarios={"a": ["run.horizn=3"]}))


def test_every_bundled_study_composes():
    for f in sorted((ROOT / "scenarios" / "study").glob("*.yaml")):
        if f.stem == "none":
            continue
        cfgs = compose_study(load_study(f.stem), ["run=test"])
        assert load_study(f.stem).baseline in cfgs


@pytest.mark.slow
def test_interrupted_study_resumes_to_the_uninterrupted_result(tmp_path):
    """Kill a study process after k finished replications, re-run it, compare."""
    args = ["study=remote_diagnosis", "network=toy", "run.horizon_days=14", "run.warmup_days=2",
            "run.replications=3", "run.jobs=1"]
    full = run_study("remote_diagnosis", args, folder=tmp_path / "full", jobs=1, progress=False, brief=False)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONHASHSEED": "3"}
    proc = subprocess.Popen([PY, "-m", "sim", *args, f"run.output_dir={out}"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reps = out / "studies" / "remote_diagnosis" / "replications"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(reps.glob("*/r*/done.json"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    k = len(list(reps.glob("*/r*/done.json")))
    assert 3 <= k < 15, f"expected an interrupted study, found {k} finished replications"
    resumed = run_study("remote_diagnosis", args, folder=out / "studies" / "remote_diagnosis", jobs=1,
                        progress=False, brief=False)
    pdt.assert_frame_equal(_kpis_sorted(full.kpis), _kpis_sorted(resumed.kpis), check_exact=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_dask_cluster_gives_the_same_tables_as_the_local_pool(tmp_path):
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1."""
    bindir = Path(PY).parent
    dask = str(bindir / "dask") if (bindir / "dask").exists() else "dask"
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", ":0", "--no-show"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)]
    try:
        time.sleep(1.0)
        for _ in range(2):
            procs.append(subprocess.Popen([dask, "worker", addr, "--nthreads", "1", "--nworkers", "1",
                                           "--no-dashboard"], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, cwd=ROOT))
        from dask.distributed import Client

        with Client(addr, timeout=60) as c:
            c.wait_for_workers(2, timeout=60)
        local = run_study(STUDY, TOY, folder=tmp_path / "local", jobs=2, progress=False, brief=False)
        remote = run_study(STUDY, [*TOY, "executor=dask", f"executor.address={addr}"], folder=tmp_path / "dask",
                           progress=False, brief=False)
        assert remote.meta["executor"] == "dask"
        pdt.assert_frame_equal(_kpis_sorted(local.kpis), _kpis_sorted(remote.kpis), check_exact=True)
        # ...and byte-identical tables, study and run folders (one record schema, whatever the executor)
        from tests.test_study_outputs import assert_same_outputs

        assert_same_outputs(tmp_path / "local", tmp_path / "dask", lever_tables=False, suffixes=(".parquet", ".csv"))
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_multirun_folder_gathers_into_tidy_kpis(tmp_path):
    r = subprocess.run([PY, "-m", "sim", "--multirun", "network=toy", "run=test", "run.seed=1,2",
                        f"run.output_dir={tmp_path}"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    (mr,) = list((tmp_path / "multirun").iterdir())
    k = gather_multirun(mr)
    assert set(k.columns) >= {"scenario", "replication", "metric", "group", "value", "job", "overrides"}
    assert k["job"].nunique() == 2
    assert sorted(o.split(" run.output_dir")[0] for o in k["overrides"].unique()) == [
        "network=toy run=test run.seed=1", "network=toy run=test run.seed=2"]


def test_compose_is_safe_to_call_repeatedly():
    a = sim.compose(["network=toy"])
    b = sim.compose(["network=xianghe"])
    assert (a.network.name, b.network.name) == ("toy", "xianghe")
