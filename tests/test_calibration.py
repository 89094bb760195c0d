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


NETWORKS = sorted(p.stem for p in (ROOT / "scenarios" / "network").glob("*.yaml"))


@pytest.mark.parametrize("network", NETWORKS)
def test_every_bundled_network_has_valid_targets(network):
    """Each bundled network has its own targets file (extending the national county or urban
    district figures) that composes against it, with the official indicators among them."""
    targets = load_targets(CAL / "county_targets" / f"{network}.yaml")
    cfg = compose(f"network={network}", "run=test")
    # calibrated by default: the network composes with its own fitted care file
    info = cfg.care.calibration
    assert (info.status, info.network) == ("calibrated", network)
    assert Path(info.targets_file).name == f"{network}.yaml"
    assert compose(f"network={network}", "care=default", "run=test").care.calibration.status == "uncalibrated"
    check_targets(targets, cfg, f"county_targets/{network}.yaml")
    names = {t.metric or t.derived for t in targets}
    assert {"inpatient_retention", "grassroots_visit_share_official", "fund_in_county_share",
            "visits_per_person_year", "admissions_per_person_year", "bed_occupancy", "mean_stay_days",
            "township_visits_per_resident_year", "township_admissions_per_resident_year",
            "outward_transfer_rate", "down_referral_rate"} <= names
    assert all(t.source for t in targets)
    # every figure without a published source says so
    for t in targets:
        assert any(w in t.source for w in ("NHC", "NHSS", "National", "seed", "[ASSUMED]", "[EST]", "provincial")), t


def test_district_targets_extend_the_county_ones_and_read_differently():
    county = {t.name: t for t in load_targets(CAL / "county_targets" / "county.yaml")}
    district = {t.name: t for t in load_targets(CAL / "county_targets" / "district.yaml")}
    assert set(county) == set(district)
    assert district["inpatient_retention"].value < county["inpatient_retention"].value
    assert district["visits_per_person_year"] == county["visits_per_person_year"]


def test_targets_extends_replaces_drops_and_refuses_loops(tmp_path):
    base = _write(tmp_path / "base.yaml", "targets", {"a": GOOD_TARGET, "b": {**GOOD_TARGET, "value": 0.5}})
    child = tmp_path / "child.yaml"
    child.write_text(yaml.safe_dump({"extends": "base.yaml", "targets": {"b": None, "c": {**GOOD_TARGET,
                                                                                            "value": 0.7}}}))
    got = {t.name: t.value for t in load_targets(child)}
    assert got == {"a": 0.6, "c": 0.7}
    assert base.is_file()
    loop = tmp_path / "loop.yaml"
    loop.write_text(yaml.safe_dump({"extends": "loop.yaml", "targets": {"a": GOOD_TARGET}}))
    with pytest.raises(CalibrationError, match="loops back"):
        load_targets(loop)
    (tmp_path / "gone.yaml").write_text(yaml.safe_dump({"extends": "nosuch.yaml"}))
    with pytest.raises(CalibrationError, match="nosuch.yaml"):
        load_targets(tmp_path / "gone.yaml")


def test_bundled_space_is_valid():
    space = load_space(CAL / "space.yaml")
    check_space(space, compose("network=toy", "run=test"), "space.yaml")
    paths = " ".join(p.path for p in space)
    assert "care.choice.beta_tier[2]" in paths and "incidence_per_1000" in paths and "beta_stay_away" in paths


@pytest.mark.parametrize("network", NETWORKS)
def test_a_district_frees_the_tertiary_preference_and_a_county_does_not(network):
    """``space: auto`` takes the space a county's targets file names up its ``extends:`` chain:
    the districts' (the county space plus the first-contact preference for the city's grade-3
    hospitals), else the county space."""
    from calibration.spec import declared_space

    found = declared_space(CAL / "county_targets" / f"{network}.yaml")
    space = load_space(found or CAL / "space.yaml")
    check_space(space, compose(f"network={network}", "run=test"), found or "space.yaml")
    names = [p.name for p in space]
    county = [p.name for p in load_space(CAL / "space.yaml")]
    if network in ("liuzhou", "qingdao"):
        assert Path(found).resolve() == (CAL / "space_district.yaml").resolve()
        assert names == [*county, "beta_tertiary"]
        assert space[-1].path == "care.choice.beta_tier[3]"
    else:
        assert found is None and names == county


def test_space_extends_drops_refuses_loops_and_a_bad_space_key(tmp_path):
    from calibration.spec import declared_space

    entry = {"path": "care.choice.beta_tier[2]", "lower": -1.0, "upper": 1.0}
    _write(tmp_path / "base_space.yaml", "parameters", {"a": entry, "b": {**entry, "path": "care.choice.beta_tier[0]"}})
    (tmp_path / "child_space.yaml").write_text(yaml.safe_dump(
        {"extends": "base_space.yaml", "parameters": {"a": None, "c": {**entry, "path": "care.choice.beta_tier[3]"}}}))
    assert [p.name for p in load_space(tmp_path / "child_space.yaml")] == ["b", "c"]
    (tmp_path / "loop_space.yaml").write_text(yaml.safe_dump({"extends": "loop_space.yaml", "parameters": {"a": entry}}))
    with pytest.raises(CalibrationError, match="loops back"):
        load_space(tmp_path / "loop_space.yaml")
    # a targets file names its space; a child inherits it unless it names its own
    (tmp_path / "kind.yaml").write_text(yaml.safe_dump({"space": "child_space.yaml", "targets": {"t": GOOD_TARGET}}))
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump({"extends": "kind.yaml"}))
    assert Path(declared_space(tmp_path / "mine.yaml")).name == "child_space.yaml"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"space": "nosuch.yaml", "targets": {"t": GOOD_TARGET}}))
    with pytest.raises(CalibrationError, match=r"bad.yaml: 'space' names 'nosuch.yaml'"):
        declared_space(tmp_path / "bad.yaml")
    assert Settings().space == "auto"


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
    s = Settings(network="toy", method="direct", design_points=2, replications=1, horizon_days=4, warmup_days=1,
                 iterations=1, profile_offsets=[0.25], jobs=1, progress=False, check_replications=0, resume=False)
    space = [Parameter("beta_lead", "care.choice.beta_tier[2]", -0.5, 2.0)]
    targets = load_targets(CAL / "county_targets" / "county.yaml")  # includes a derived measure that needs the tables
    res = fit(s, targets=targets, space=space)
    paths = write_outputs(res, tmp_path / "fit", care_out=str(tmp_path / "mine.yaml"))
    for name in ("targets.csv", "parameters.csv", "trace.csv", "profile.csv", "report.md", "report.html",
                 "fit.html", "calibrated.yaml"):
        assert (tmp_path / "fit" / name).stat().st_size > 0, name
    report = (tmp_path / "fit" / "report.md").read_text()
    assert "Identifiability" in report and "beta_lead" in report
    tt = res.targets_table
    assert tt.loc[tt["weight"] > 0, "simulated"].notna().all()      # a 4-day run may have no down-referral yet
    text = paths["care"].read_text()
    assert text.startswith("# Calibrated care config") and "Fit date:" in text and "Loss" in text
    care = OmegaConf.load(paths["care"])
    cfg = sim.config.to_config(OmegaConf.merge(OmegaConf.structured(compose("network=toy", "run=test")),
                                               {"care": care}))
    assert cfg.care.choice.beta_tier[2] == pytest.approx(res.fitted["beta_lead"], abs=1e-5)


def test_committed_calibrated_care_composes_and_runs():
    path = sim.SCENARIOS_DIR / "care" / "toy_calibrated.yaml"
    assert path.is_file()
    head = path.read_text().splitlines()[:5]
    assert any("Fit date" in ln for ln in head)
    cfg = sim.compose(["care=toy_calibrated", "network=toy", "run=test", "run.horizon_days=3"])
    assert cfg.care.name == "toy_calibrated"
    info = cfg.care.calibration
    assert info.status == "calibrated" and info.network == "toy" and info.targets and info.parameters
    assert all(t.simulated is not None for t in info.targets if t.weight > 0)
    res = sim.run(cfg, jobs=1)
    assert res.kpi("visits_per_person_year").iloc[0] > 0


# ------------------------------------------------------------------ recovery


@pytest.mark.slow
def test_recovers_known_parameters_on_a_real_size_county():
    """Simulate Xianghe (162,000 residents, 66 villages) with known parameters, then fit from the
    default surrogate method to the figures they produced, and recover them.

    The lead-hospital preference moves the grassroots share, the readiness to be admitted out
    of county the residents' inpatient retention, and the incidence multiplier the visits per
    person: the fit must find each within its identifiable interval (the report's
    ``approx_low``-``approx_high``) and close to the truth, and call each identified.
    """
    s = Settings(network="xianghe", method="surrogate", design_points=10, rounds=3, replications=1,
                 horizon_days=21, warmup_days=7, check_replications=0, profile_offsets=[0.1, 0.25], jobs=2,
                 progress=False, resume=False)
    space = [Parameter("beta_lead", "care.choice.beta_tier[2]", -0.5, 2.0),
             Parameter("stay_away", "care.choice.beta_stay_away", -1.5, 1.5),
             Parameter("incidence_scale", "care.conditions.*.incidence_per_1000", 0.7, 1.4, transform="log",
                       mode="scale")]
    truth = {"beta_lead": 1.1, "stay_away": -0.6, "incidence_scale": 0.85}
    base = base_config(s, keep_patients=False)
    check_space(space, base)
    known = sim.run(apply_parameters(base, space, list(truth.values())), jobs=2)
    targets = [Target("grassroots", known.kpi("grassroots_visit_share_official").mean(), 0.01, "simulated truth",
                      metric="grassroots_visit_share_official"),
               Target("retention", known.kpi("inpatient_retention").mean(), 0.01, "simulated truth",
                      metric="inpatient_retention"),
               Target("visits", known.kpi("visits_per_person_year").mean(), 0.1, "simulated truth",
                      metric="visits_per_person_year")]
    res = fit(s, targets=targets, space=space)
    pt = res.parameters_table.set_index("parameter")
    tol = {"beta_lead": 0.2, "stay_away": 0.25, "incidence_scale": 0.05}
    for name, value in truth.items():
        assert res.fitted[name] == pytest.approx(value, abs=tol[name]), pt
        lo, hi = pt.loc[name, "approx_low"], pt.loc[name, "approx_high"]
        assert lo - tol[name] <= value <= hi + tol[name], pt
    assert (pt["identifiability"] == "identified").all(), pt
    assert res.loss < 3.0, res.targets_table


# ------------------------------------------------------------------ the validation page and calibrated defaults


def test_validation_page_is_up_to_date_with_the_committed_care_files():
    from calibration import validation

    assert validation.update(check=True), "run: python -m calibration.validation"
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    for n in validation.NETWORKS:
        assert f"### {n}" in text


def test_a_network_without_a_calibrated_care_file_is_one_clear_line():
    with pytest.raises(sim.ConfigError) as err:
        sim.compose(["network=toy", "care=nosuch_calibrated"])
    msg = str(err.value)
    assert "\n" not in msg and "network=nosuch" in msg and "python -m calibration network=nosuch" in msg
    assert "care=default" in msg
