"""Calibration (issue 5): target/space validation, the CLI's errors, the written care file,
and recovery of known parameters from their own simulated KPIs."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

import sim
from calibration import CalibrationError, Parameter, Settings, Target, fit, load_space, load_targets, loss_of
from calibration.fit import base_config
from calibration.report import write_outputs
from calibration.spec import apply_parameters, check_space, check_targets, expand_path, get_path, parse_path
from tests.conftest import compose

ROOT = Path(__file__).resolve().parent.parent
CAL = ROOT / "calibration"


def _write(path: Path, key: str, entries: dict) -> Path:
    path.write_text(yaml.safe_dump({key: entries}), encoding="utf-8")
    return path


GOOD_TARGET = {"kpi": {"metric": "grassroots_share", "group": "county"}, "value": 0.6, "tolerance": 0.05,
               "source": "NHC bulletin 2021"}


# ------------------------------------------------------------------ bundled files


def test_bundled_targets_and_space_are_valid():
    targets = load_targets(CAL / "targets.yaml")
    space = load_space(CAL / "space.yaml")
    cfg = compose("network=toy", "run=test")
    check_targets(targets, cfg, "targets.yaml")
    check_space(space, cfg, "space.yaml")
    names = {t.metric or t.derived for t in targets}
    assert {"county_retention", "grassroots_share", "outward_transfer_rate", "bed_occupancy",
            "township_visits_per_year", "township_admissions_per_year"} <= names
    assert all(t.source for t in targets)
    paths = " ".join(p.path for p in space)
    assert "care.choice" in paths and "incidence_per_1000" in paths and "renege_go_up_prob" in paths


# ------------------------------------------------------------------ bad targets / space


@pytest.mark.parametrize("entry, words", [
    ({**GOOD_TARGET, "value": 90}, ["'share'", "rate", "[0, 1]", "0.9"]),
    ({k: v for k, v in GOOD_TARGET.items() if k != "source"}, ["'share'", "source"]),
    ({**GOOD_TARGET, "kpi": {"metric": "no_such_kpi"}}, ["'share'", "no_such_kpi"]),
    ({**GOOD_TARGET, "tolerance": 0}, ["'share'", "tolerance"]),
])
def test_bad_target_is_a_clear_error(tmp_path, entry, words):
    f = _write(tmp_path / "bad_targets.yaml", "targets", {"share": entry})
    with pytest.raises(CalibrationError) as exc:
        load_targets(f)
    msg = str(exc.value)
    assert "bad_targets.yaml" in msg and "\n" not in msg
    for w in words:
        assert w in msg, msg
    assert isinstance(exc.value, sim.ConfigError)


def test_target_group_must_exist_in_network(tmp_path):
    f = _write(tmp_path / "t.yaml", "targets", {"occ": {**GOOD_TARGET, "kpi": {"metric": "bed_occupancy",
                                                                               "group": "nowhere"}}})
    with pytest.raises(CalibrationError, match="target 'occ': group 'nowhere'"):
        check_targets(load_targets(f), compose("network=toy", "run=test"), f)


@pytest.mark.parametrize("entry, words", [
    ({"path": "care.choice.beta_nope", "lower": 0, "upper": 1}, ["'ghost'", "care.choice.beta_nope", "beta_nope"]),
    ({"path": "care.choice.beta_tier[7]", "lower": 0, "upper": 1}, ["'ghost'", "beta_tier[7]"]),
    ({"path": "care.conditions.{stemi,nope}.incidence_per_1000", "lower": 0.5, "upper": 2, "mode": "scale"},
     ["'ghost'", "nope"]),
    ({"path": "care.choice.beta_capable", "lower": 1, "upper": 0}, ["'ghost'", "lower < upper"]),
    ({"path": "care.choice.beta_capable", "lower": 0, "upper": 1, "transform": "log"}, ["'ghost'", "log"]),
    ({"path": "care.name", "lower": 0, "upper": 1}, ["'ghost'", "not a number"]),
])
def test_bad_parameter_is_a_clear_error(tmp_path, entry, words):
    f = _write(tmp_path / "bad_space.yaml", "parameters", {"ghost": entry})
    with pytest.raises(CalibrationError) as exc:
        check_space(load_space(f), compose("network=toy", "run=test"), f)
    msg = str(exc.value)
    assert "bad_space.yaml" in msg and "\n" not in msg
    for w in words:
        assert w in msg, msg


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calibration", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_cli_bad_target_exits_2_with_one_line(tmp_path):
    f = _write(tmp_path / "bad_targets.yaml", "targets", {"retention": {**GOOD_TARGET, "value": 1.4,
                                                                         "kpi": "county_retention"}})
    p = _cli(f"targets={f}", f"output_dir={tmp_path / 'out'}", "care_out=none")
    assert p.returncode == 2, p.stderr
    lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("error:") and "'retention'" in lines[0] and "bad_targets.yaml" in lines[0]
    assert "Traceback" not in p.stderr + p.stdout


def test_cli_bad_parameter_exits_2_with_one_line(tmp_path):
    f = _write(tmp_path / "bad_space.yaml", "parameters",
               {"ghost": {"path": "care.choice.no_such_beta", "lower": 0, "upper": 1}})
    p = _cli(f"space={f}", f"output_dir={tmp_path / 'out'}", "care_out=none")
    assert p.returncode == 2, p.stderr
    lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "'ghost'" in lines[0] and "no_such_beta" in lines[0], p.stderr
    assert "Traceback" not in p.stderr


# ------------------------------------------------------------------ paths, loss


def test_paths_wildcards_and_scale():
    cfg = compose("network=toy", "run=test")
    assert parse_path("care.choice.beta_tier[2]") == ["care", "choice", "beta_tier", 2]
    every = expand_path(cfg, parse_path("care.conditions.*.incidence_per_1000"))
    assert len(every) == len(cfg.care.conditions)
    two = expand_path(cfg, parse_path("care.conditions.{stemi,stroke}.incidence_per_1000"))
    assert [t[2] for t in two] == ["stemi", "stroke"]
    space = [Parameter("b", "care.choice.beta_tier[2]", -1, 2),
             Parameter("s", "care.conditions.{stemi,stroke}.incidence_per_1000", 0.5, 2, mode="scale")]
    check_space(space, cfg)
    new = apply_parameters(cfg, space, [1.5, 2.0])
    assert new.care.choice.beta_tier == [cfg.care.choice.beta_tier[i] if i != 2 else 1.5 for i in range(4)]
    assert new.care.conditions["stemi"].incidence_per_1000 == 2 * cfg.care.conditions["stemi"].incidence_per_1000
    assert new.care.conditions["minor_illness"].incidence_per_1000 == cfg.care.conditions["minor_illness"].incidence_per_1000
    assert get_path(cfg, ["care", "choice", "beta_tier", 2]) != 1.5  # the base is untouched
    p = Parameter("x", "care.choice.beta_capable", 0.5, 2.0, transform="log")
    assert math.isclose(p.from_unit(p.to_unit(1.3)), 1.3)


def test_loss_is_weighted_squared_tolerance_units():
    ts = [Target("a", 0.5, 0.1, "s", metric="grassroots_share"),
          Target("b", 10.0, 2.0, "s", metric="visits_per_person_year", weight=0.5)]
    loss, parts = loss_of([0.7, 14.0], ts)
    assert parts == pytest.approx([4.0, 2.0]) and loss == pytest.approx(6.0)
    assert loss_of([float("nan"), 10.0], ts)[0] > 50  # an undefined KPI is penalised, not ignored


# ------------------------------------------------------------------ outputs and the committed file


def test_small_fit_writes_report_and_care_file(tmp_path):
    s = Settings(network="toy", design_points=2, replications=1, horizon_days=4, warmup_days=1, iterations=1,
                 profile_offsets=[0.25], jobs=1, progress=False)
    space = [Parameter("beta_lead", "care.choice.beta_tier[2]", -0.5, 2.0)]
    targets = load_targets(CAL / "targets.yaml")  # includes a derived measure that needs the tables
    res = fit(s, targets=targets, space=space)
    paths = write_outputs(res, tmp_path / "fit", care_out=str(tmp_path / "mine.yaml"))
    for name in ("targets.csv", "parameters.csv", "trace.csv", "profile.csv", "report.md", "report.html",
                 "fit.html", "calibrated.yaml"):
        assert (tmp_path / "fit" / name).stat().st_size > 0, name
    report = (tmp_path / "fit" / "report.md").read_text()
    assert "Identifiability" in report and "beta_lead" in report
    assert res.targets_table["simulated"].notna().all()
    text = paths["care"].read_text()
    assert text.startswith("# Calibrated care config") and "Fit date:" in text and "Loss" in text
    care = OmegaConf.load(paths["care"])
    cfg = sim.config.to_config(OmegaConf.merge(OmegaConf.structured(compose("network=toy", "run=test")),
                                               {"care": care}))
    assert cfg.care.choice.beta_tier[2] == pytest.approx(res.fitted["beta_lead"], abs=1e-5)


def test_committed_calibrated_care_composes_and_runs():
    path = sim.SCENARIOS_DIR / "care" / "calibrated.yaml"
    assert path.is_file()
    head = path.read_text().splitlines()[:5]
    assert any("Fit date" in ln for ln in head)
    cfg = sim.compose(["care=calibrated", "network=toy", "run=test", "run.horizon_days=3"])
    assert cfg.care.name == "calibrated"
    res = sim.run(cfg, jobs=1)
    assert res.kpi("visits_per_person_year").iloc[0] > 0


# ------------------------------------------------------------------ recovery


@pytest.mark.slow
def test_recovers_known_parameters():
    """Simulate toy with known beta_tier[2] and incidence multiplier, fit from elsewhere.

    grassroots_share identifies the lead-hospital preference, visits_per_person_year the
    incidence multiplier.  Tolerance: 0.15 on beta_tier[2] (range 2.5), 0.05 on the multiplier.
    """
    s = Settings(network="toy", design_points=0, replications=2, horizon_days=14, warmup_days=3, iterations=30,
                 profile_offsets=[0.1], jobs=2, progress=False, start={"beta_lead": 0.0, "incidence_scale": 1.25})
    space = [Parameter("beta_lead", "care.choice.beta_tier[2]", -0.5, 2.0),
             Parameter("incidence_scale", "care.conditions.*.incidence_per_1000", 0.6, 1.5, transform="log",
                       mode="scale")]
    truth = {"beta_lead": 1.2, "incidence_scale": 0.8}
    base = base_config(s, keep_patients=False)
    check_space(space, base)
    known = sim.run(apply_parameters(base, space, [truth["beta_lead"], truth["incidence_scale"]]), jobs=2)
    targets = [Target("grassroots", known.kpi("grassroots_share").mean(), 0.01, "simulated truth",
                      metric="grassroots_share"),
               Target("visits", known.kpi("visits_per_person_year").mean(), 0.1, "simulated truth",
                      metric="visits_per_person_year")]
    res = fit(s, targets=targets, space=space)
    assert res.fitted["beta_lead"] == pytest.approx(truth["beta_lead"], abs=0.15), res.parameters_table
    assert res.fitted["incidence_scale"] == pytest.approx(truth["incidence_scale"], abs=0.05), res.parameters_table
    # both are pinned down by these targets
    assert (res.parameters_table["identifiability"] == "identified").all(), res.parameters_table
