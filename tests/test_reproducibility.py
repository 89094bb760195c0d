"""Reproducibility beyond ``test_determinism.py``: byte-identical result *files* across
processes, worker counts and PYTHONHASHSEED; results that say what produced them (config hash,
package versions, seed); and policy levers that never touch the arrival stream."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import textwrap

import pytest
from pandas.testing import assert_frame_equal

import sim
from sim.experiment.replication import config_hash, versions
from tests.conftest import PYTHON, ROOT, compose

TOY2 = ("network=toy", "run=test", "run.replications=2")
BYTE_FILES = ("kpis.parquet", "summary.csv", "occupancy.parquet", "patients.parquet", "visits.parquet",
              "admissions.parquet", "sites.parquet", "config.yaml")

_WRITE = textwrap.dedent("""
    import sys
    import sim
    cfg = sim.compose(["network=toy", "run=test", "run.replications=2"])
    sim.run(cfg, jobs=int(sys.argv[1]), output=sys.argv[2])
""")


def _write_in_subprocess(jobs: int, hashseed: str, folder) -> None:
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    subprocess.run([PYTHON, "-c", _WRITE, str(jobs), str(folder)], cwd=ROOT, env=env, capture_output=True,
                   text=True, timeout=300, check=True)


@pytest.mark.slow
def test_result_files_are_byte_identical_across_processes_workers_and_hashseed(tmp_path):
    a, b = tmp_path / "jobs1_seed1", tmp_path / "jobs2_seed4242"
    _write_in_subprocess(1, "1", a)
    _write_in_subprocess(2, "4242", b)
    for name in BYTE_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), f"{name} differs"
    ma, mb = json.loads((a / "meta.json").read_text()), json.loads((b / "meta.json").read_text())
    for key in ("scenario", "seed", "replications", "config_hash", "versions"):
        assert ma[key] == mb[key], key
    # ... and the same files as this process writes
    c = tmp_path / "here"
    sim.run(compose(*TOY2), jobs=1, output=c)
    assert (a / "kpis.parquet").read_bytes() == (c / "kpis.parquet").read_bytes()


def test_meta_records_config_hash_versions_and_seed(tmp_path):
    cfg = compose("network=toy", "run=test", "run.seed=777")
    result = sim.run(cfg, jobs=1, output=tmp_path / "run")
    meta = json.loads((tmp_path / "run" / "meta.json").read_text())
    assert meta["seed"] == 777
    assert meta["config_hash"] == config_hash(cfg) == result.meta["config_hash"]
    assert len(meta["config_hash"]) == 16
    for pkg in ("python", "simpy", "numpy", "pandas", "networkx", "scipy", "pyarrow", "tiered-care-sim"):
        assert meta["versions"].get(pkg) == versions()[pkg], pkg
    # the written config, loaded back, hashes the same
    assert config_hash(sim.load_run(tmp_path / "run").config) == meta["config_hash"]


def test_config_hash_ignores_workers_and_paths_but_not_results():
    cfg = compose(*TOY2)
    h = config_hash(cfg)
    same = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, jobs=7, output_dir="/elsewhere"))
    assert config_hash(same) == h
    for changed in (dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, seed=cfg.run.seed + 1)),
                    compose(*TOY2, "network.facilities.t1.beds=13"),
                    compose(*TOY2, "levers=expert_weekly"),
                    compose(*TOY2, "care.behaviour.bed_wait_max_hours=2")):
        assert config_hash(changed) != h


ARRIVALS = ["replication", "patient", "village", "condition", "onset"]


@pytest.fixture(scope="module")
def toy_none():
    return sim.run(compose(*TOY2, "levers=none"), jobs=1)


@pytest.mark.parametrize("lever", ["expert_weekly", "remote_full", "combined_weekly_full"])
def test_a_policy_lever_never_changes_the_arrival_stream(toy_none, lever):
    with_lever = sim.run(compose(*TOY2, f"levers={lever}"), jobs=1)
    assert_frame_equal(toy_none.patients[ARRIVALS], with_lever.patients[ARRIVALS], check_exact=True)
    # the lever does act (otherwise the check would be empty)
    assert not with_lever.patients["exit"].equals(toy_none.patients["exit"]) or \
        not with_lever.visits.equals(toy_none.visits) or len(with_lever.lever_events) > 0


@pytest.mark.slow
def test_levers_keep_the_arrival_stream_on_a_bundled_county_and_in_a_study(tmp_path):
    from sim.experiment.study import run_study

    base = ("network=xianghe", "run=test", "run.horizon_days=3", "run.warmup_days=1")
    none = sim.run(compose(*base, "levers=none"), jobs=1)
    weekly = sim.run(compose(*base, "levers=expert_weekly"), jobs=1)
    assert len(none.patients) > 1000
    assert_frame_equal(none.patients[ARRIVALS], weekly.patients[ARRIVALS], check_exact=True)
    # in a study, scenario r sees the same patients as every other scenario's replication r
    spec = tmp_path / "crn.yaml"
    spec.write_text("name: crn\nbaseline: none\nbase_overrides: [network=toy, run=test, run.replications=2]\n"
                    "scenarios:\n  none: [levers=none]\n  weekly: [levers=expert_weekly]\n"
                    "  more_beds: [network.facilities.t1.beds=30]\n")
    study = run_study(str(spec), [f"run.output_dir={tmp_path}"], folder=tmp_path / "study", jobs=1,
                      progress=False, brief=False)
    ref = study.runs["none"].patients[ARRIVALS]
    for name in ("weekly", "more_beds"):
        assert_frame_equal(study.runs[name].patients[ARRIVALS], ref, check_exact=True, obj=name)
