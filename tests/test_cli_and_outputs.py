"""The command line writes a complete run folder; the folder loads back into the same results."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal

import sim
from sim.analysis.kpis import KPI_ZH
from tests.conftest import compose, run_cli

REQUIRED_FILES = {"config.yaml", "kpis.parquet", "summary.csv", "patients.parquet", "occupancy.parquet",
                  "meta.json", "visits.parquet", "sites.parquet", "villages.parquet", "conditions.parquet"}
DOCUMENTED_COUNTY_KPIS = {"episodes", "county_retention", "grassroots_share", "outward_transfer_rate",
                          "wait_mean_min", "wait_p90_min", "travel_mean_min", "left_untreated_share",
                          "visits_per_person_year", "admissions_per_person_year", "oop_per_visit",
                          "insurer_per_episode"}


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    proc = run_cli("network=toy", "run=test", f"run.output_dir={out}", "scenario=clitest")
    folders = [p for p in (out / "runs").glob("*") if p.is_dir()] if (out / "runs").exists() else []
    return proc, folders


def test_cli_exits_0_and_writes_one_run_folder(cli_run):
    proc, folders = cli_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert len(folders) == 1
    assert folders[0].name.endswith("_clitest")


def test_the_run_folder_holds_every_table(cli_run):
    _, (folder,) = cli_run
    names = {p.name for p in folder.iterdir()}
    assert REQUIRED_FILES <= names
    assert not any(n.startswith(".") and ".tmp-" in n for n in names), "leftover temporary files"


def test_the_cli_prints_the_kpi_table(cli_run):
    proc, (folder,) = cli_run
    assert "county_retention" in proc.stdout and "县域内就诊率" in proc.stdout
    assert str(folder) in proc.stdout


def test_meta_and_config_describe_the_run(cli_run):
    _, (folder,) = cli_run
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["scenario"] == "clitest"
    assert meta["replications"] == [0]
    assert meta["seed"] == compose("network=toy", "run=test").run.seed
    assert "simpy" in meta["versions"] and "python" in meta["versions"]
    cfg = yaml.safe_load((folder / "config.yaml").read_text())
    assert cfg["network"]["name"] == "toy" and cfg["run"]["horizon_days"] == 7


def test_load_run_gives_back_what_the_cli_computed(cli_run):
    _, (folder,) = cli_run
    loaded = sim.load_run(folder)
    assert_frame_equal(loaded.kpis, pd.read_parquet(folder / "kpis.parquet"), check_exact=True)
    # the same scenario run in this process: identical KPIs and patients (written and read back intact)
    fresh = sim.run(compose("network=toy", "run=test", "scenario=clitest"), jobs=1)
    assert_frame_equal(loaded.kpis, fresh.kpis, check_exact=True)
    assert_frame_equal(loaded.patients, fresh.patients, check_exact=True)
    assert_frame_equal(loaded.occupancy, fresh.occupancy, check_exact=True)
    assert loaded.config.network.name == "toy" and loaded.config.scenario == "clitest"
    assert loaded.meta["config_hash"] == fresh.meta["config_hash"]
    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary.columns) == list(fresh.summary.columns)
    pd.testing.assert_series_equal(summary["mean"], fresh.summary["mean"], check_exact=False, rtol=1e-12,
                                   check_dtype=False)


def test_the_cli_streams_replications_into_the_same_folder_as_write_run(tmp_path):
    """Issue 18: ``python -m sim`` writes each replication where it ran and assembles the run
    folder from them (sim.experiment.runner.run_to_folder), never holding the tables twice; its
    folder holds the same tables as write_run(run(cfg)), and no working folder is left."""
    from sim.records.result import TABLES
    from tests.output_hashes import table_digest

    args = ("network=toy", "run=test", "run.replications=2", "scenario=stream")
    proc = run_cli(*args, "run.jobs=2", f"hydra.run.dir={tmp_path / 'cli'}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    written = sim.write_run(sim.run(compose(*args), jobs=1), tmp_path / "mem")
    a, b = sim.load_run(tmp_path / "cli"), sim.load_run(written)
    for t in ("kpis", "occupancy", *TABLES):
        assert table_digest(getattr(a, t)) == table_digest(getattr(b, t)), t
    assert (tmp_path / "cli" / "summary.csv").read_bytes() == (written / "summary.csv").read_bytes()
    assert a.meta["replications"] == [0, 1] and a.meta["config_hash"] == b.meta["config_hash"]
    assert not (tmp_path / "cli" / ".replications").exists()


def test_a_failed_replication_is_named_and_the_finished_ones_are_kept(tmp_path, monkeypatch):
    """A replication that raises stops the run with an error naming it and its exception, after
    the others have run: in memory (``sim.run``) and streamed (``run_to_folder``, whose finished
    replications stay in ``<folder>/.replications/``)."""
    from sim.experiment import executor, runner

    real = executor.replicate

    def flaky(cfg, r, *a, **k):
        if r == 1:
            raise ValueError("a broken replication")
        return real(cfg, r, *a, **k)

    monkeypatch.setattr(executor, "replicate", flaky)
    cfg = compose("network=toy", "run=test", "run.replications=3", "run.horizon_days=2", "run.warmup_days=0.5")
    with pytest.raises(RuntimeError, match=r"1 replication\(s\) failed \(1\): ValueError: a broken replication"):
        sim.run(cfg, jobs=1)
    with pytest.raises(RuntimeError, match=r"failed \(1\)"):
        runner.run_to_folder(cfg, tmp_path / "run", jobs=1)
    kept = sorted(p.name for p in (tmp_path / "run" / ".replications" / "replications").glob("*/r*"))
    assert kept == ["r0000", "r0002"]
    assert not (tmp_path / "run" / "kpis.parquet").exists()


def test_write_run_and_load_run_round_trip_in_process(tmp_path, toy_result):
    folder = sim.write_run(toy_result, tmp_path / "rt")
    back = sim.load_run(folder)
    for t in ("kpis", "patients", "visits", "admissions", "emergency", "occupancy", "sites", "villages"):
        a, b = getattr(back, t), getattr(toy_result, t)
        if len(b) == 0:
            # parquet cannot keep the categories of an empty categorical column: compare the shape
            assert list(a.columns) == list(b.columns) and len(a) == 0, t
            continue
        assert_frame_equal(a, b, check_exact=True, obj=t)
    assert_frame_equal(back.conditions, toy_result.conditions, check_exact=True)
    assert back.config == toy_result.config


def test_the_kpi_table_has_the_documented_metrics(toy_result):
    k = toy_result.kpis
    assert list(k.columns) == ["scenario", "replication", "metric", "group", "value"]
    county = set(k.loc[k["group"] == "county", "metric"])
    assert DOCUMENTED_COUNTY_KPIS <= county
    assert set(k["metric"]) <= set(KPI_ZH), "every KPI has a Chinese name"
    for group in ("tier0", "tier1", "tier2"):
        assert ((k["metric"] == "wait_mean_min") & (k["group"] == group)).any()
    for share in ("county_retention", "grassroots_share", "outward_transfer_rate", "left_untreated_share"):
        v = toy_result.kpi(share).iloc[0]
        assert 0.0 <= v <= 1.0, share
    assert toy_result.kpi("episodes").iloc[0] == (toy_result.patients["onset"] >= 1440.0).sum()


def test_summary_has_a_ci_per_metric(toy_result):
    s = toy_result.summary
    assert {"scenario", "metric", "group", "n", "mean", "ci_low", "ci_high"} <= set(s.columns)
    assert len(s) == len(toy_result.kpis.drop_duplicates(["metric", "group"]))


@pytest.mark.parametrize("overrides", [
    ["network=taobei"],
    ["network=toy", "levers=remote_full"],
    ["network=qingdao", "levers=qingdao_workstations"],
    ["network=liuzhou", "restructure=liuzhou_takeover", "levers=liuzhou_three_one"],
    ["network=toy", "run=test", "run.horizon_days=3.5", "scenario='洮北 试点'"],
])
def test_the_run_folders_config_yaml_is_omegaconfs_and_reads_back(overrides):
    """``config.yaml`` is written without OmegaConf's typed node tree (speed), and is exactly the
    YAML OmegaConf writes of the typed config, which composes back into the same config."""
    from omegaconf import OmegaConf

    from sim.analysis.io import config_yaml
    from sim.config import to_config

    cfg = sim.compose(overrides)
    text = config_yaml(cfg)
    assert text == OmegaConf.to_yaml(OmegaConf.structured(cfg))
    assert to_config(OmegaConf.create(text)) == cfg
