"""Config composition, typed-schema errors, semantic validation and the CLI's error line."""

from __future__ import annotations

import copy

import pytest
import yaml

import sim
from sim.config import Road, Village, validate
from sim.county.network import build_county
from tests.conftest import NETWORKS, ROOT, RUN_OPTIONS, compose, run_cli

# ---------------------------------------------------------------------------- every option composes

#: every option of every config group except ``network`` (composed and built below), the
#: ``study`` / ``restructure`` groups, which have their own tests (tests/test_study.py,
#: tests/test_restructure.py) that compose and apply every bundled option, and the ``search`` /
#: ``sensitivity`` configs, which are not scenarios (``python -m sim.search``,
#: ``python -m sim.sensitivity``; tests/test_search.py, tests/test_sensitivity.py).
OWN_TESTS = {"network", "study", "restructure", "search", "sensitivity"}
GROUP_OPTIONS = sorted((d.name, f.stem) for d in (ROOT / "scenarios").iterdir()
                       if d.is_dir() and d.name not in OWN_TESTS for f in d.glob("*.yaml"))


def test_the_bundled_groups_include_the_documented_ones():
    assert {"toy", "taobei", "xianghe", "qingbaijiang"} <= set(NETWORKS)
    assert {"demo", "full", "test"} <= set(RUN_OPTIONS)
    assert {("care", "default"), ("run", "test")} <= set(GROUP_OPTIONS)


def _network_for(group: str, option: str) -> list[str]:
    """Options named after a county (``taobei_heads``) are composed with that county, the
    rest with the small toy county."""
    for net in NETWORKS:
        if option.startswith(net + "_"):
            return [f"network={net}"]
    return ["network=toy"]


@pytest.mark.parametrize("group, option", GROUP_OPTIONS, ids=[f"{g}={o}" for g, o in GROUP_OPTIONS])
def test_every_group_option_composes(group, option):
    cfg = compose(*_network_for(group, option), f"{group}={option}")
    assert isinstance(cfg, sim.Config)


@pytest.mark.parametrize("network", NETWORKS)
def test_every_network_composes_and_builds(network):
    cfg = compose(f"network={network}")
    raw = yaml.safe_load((ROOT / "scenarios" / "network" / f"{network}.yaml").read_text())
    assert isinstance(cfg, sim.Config)
    assert cfg.network.name == raw["name"]
    assert set(cfg.network.villages) == set(raw["villages"])
    assert set(cfg.network.facilities) == set(raw["facilities"])
    county = build_county(cfg.network)
    assert county.n_villages == len(raw["villages"])
    assert sum(int(t) == 3 for t in county.tier) == 1
    # every village reaches a tier-1 and a tier-2 site in finite time
    import numpy as np
    assert np.isfinite(county.travel[:, county.tier == 1].min(axis=1)).all()
    assert np.isfinite(county.travel[:, county.tier == 2].min(axis=1)).all()


@pytest.mark.parametrize("run_option", RUN_OPTIONS)
def test_every_run_option_composes_with_its_values(run_option):
    cfg = compose("network=toy", f"run={run_option}")
    raw = yaml.safe_load((ROOT / "scenarios" / "run" / f"{run_option}.yaml").read_text())
    for key, value in raw.items():
        assert getattr(cfg.run, key) == value, key


def test_the_default_scenario_composes():
    cfg = compose()
    assert cfg.scenario == "baseline"
    assert cfg.network.name and cfg.care.conditions


def test_overrides_reach_the_dataclass():
    cfg = compose("network=toy", "run.horizon_days=3", "run.warmup_days=1", "network.facilities.t1.beds=5",
                  "care.choice.beta_tier=[1,2,3,4]", "scenario=more_beds")
    assert cfg.run.horizon_days == 3.0 and isinstance(cfg.run.horizon_days, float)
    assert cfg.network.facilities["t1"].beds == 5
    assert cfg.care.choice.beta_tier == [1, 2, 3, 4]
    assert cfg.scenario == "more_beds"


# ---------------------------------------------------------------------------- schema errors

@pytest.mark.parametrize("override, names", [
    ("run.horizn=3", "horizn"),                                   # unknown key
    ("network.facilities.t1.bedz=3", "bedz"),                     # unknown nested key
    ("care.choice.beta_travle=1", "beta_travle"),
    ("run.horizon_days=abc", "horizon_days"),                     # wrong type
    ("run.replications=1.5", "replications"),
    ("network.facilities.t1.beds=many", "beds"),
    ("network=nope", "nope"),                                     # no such group option
    ("run.horizon_days", "run.horizon_days"),                     # malformed override
])
def test_schema_errors_raise_config_error_naming_the_key(override, names):
    with pytest.raises(sim.ConfigError) as info:
        sim.compose(["network=toy", override])
    msg = str(info.value)
    assert names in msg
    assert "\n" not in msg.strip()


# ---------------------------------------------------------------------------- semantic errors

@pytest.mark.parametrize("overrides, key", [
    (["network.facilities.t1.beds=-1"], "network.facilities.t1.beds"),
    (["network.facilities.t2.doctors.general=-2"], "network.facilities.t2.doctors.general"),
    (["care.conditions.minor_illness.admit_prob=1.5"], "care.conditions.minor_illness.admit_prob"),
    (["network.facilities.lead.initial_bed_occupancy=1.2"], "network.facilities.lead.initial_bed_occupancy"),
    (["care.behaviour.renege_go_up_prob=-0.1"], "care.behaviour.renege_go_up_prob"),
    (["network.facilities.t1.lead=nowhere"], "network.facilities.t1.lead"),
    (["network.facilities.t1.lead=t2"], "network.facilities.t1.lead"),        # not a tier-2 hospital
    (["run.warmup_days=10", "run.horizon_days=10"], "run.warmup_days"),
    (["run.warmup_days=12", "run.horizon_days=10"], "run.warmup_days"),
    (["run.horizon_days=0"], "run.horizon_days"),
    (["care.choice.beta_tier=[1,2]"], "care.choice.beta_tier"),
    (["network.facilities.t1.hours.open_hour=18"], "network.facilities.t1.hours"),
    (["network.facilities.t1.tier=2"], "network.facilities.t1.tier"),
    (["care.profiles.weekday=[1,1,1]"], "care.profiles.weekday"),
    (["care.conditions.minor_illness.diagnostics=[mri]"], "care.conditions.minor_illness.diagnostics"),
])
def test_semantic_errors_name_the_key(overrides, key):
    with pytest.raises(sim.ConfigError) as info:
        sim.compose(["network=toy", *overrides])
    assert str(info.value).startswith(key), str(info.value)


def test_validate_on_a_modified_dataclass():
    cfg = compose("network=toy")
    validate(cfg)  # the bundled toy is valid
    bad = copy.deepcopy(cfg)
    bad.network.facilities["lead"].beds = -3
    with pytest.raises(sim.ConfigError, match=r"network\.facilities\.lead\.beds"):
        validate(bad)
    bad = copy.deepcopy(cfg)
    bad.network.roads.append(Road("v1", "nowhere"))
    with pytest.raises(sim.ConfigError, match=r"network\.roads\[\d+\]\.b"):
        validate(bad)
    bad = copy.deepcopy(cfg)
    del bad.network.facilities["city"]
    bad.network.roads = [r for r in bad.network.roads if "city" not in (r.a, r.b)]
    with pytest.raises(sim.ConfigError, match="network.facilities"):
        validate(bad)


def test_a_village_with_no_road_is_an_error_naming_the_village():
    cfg = compose("network=toy", "run=test")
    cfg.network.villages["v7"] = Village(name="Lonely", x_km=40.0, y_km=40.0, population=500)
    with pytest.raises(sim.ConfigError, match=r"network\.villages\.v7"):
        build_county(cfg.network)
    with pytest.raises(sim.ConfigError, match=r"network\.villages\.v7"):
        sim.run(cfg, jobs=1)


def test_a_village_cut_off_from_its_township_is_an_error_naming_it():
    cfg = compose("network=toy")
    cfg.network.roads = [r for r in cfg.network.roads if {r.a, r.b} != {"v2", "t1"}]
    with pytest.raises(sim.ConfigError, match=r"network\.villages\.v2"):
        build_county(cfg.network)


def test_a_lead_without_a_road_out_of_county_is_an_error_naming_it():
    cfg = compose("network=toy")
    cfg.network.roads = [r for r in cfg.network.roads if {r.a, r.b} != {"lead", "city"}]
    with pytest.raises(sim.ConfigError, match=r"network\.facilities\.lead"):
        build_county(cfg.network)


# ---------------------------------------------------------------------------- CLI

def _one_error_line(proc):
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error:")
    return lines[0]


def test_cli_unknown_key_exits_2_with_one_error_line(tmp_path):
    proc = run_cli("network=toy", "run.horizn=3", f"run.output_dir={tmp_path}")
    assert "horizn" in _one_error_line(proc)
    assert not any(tmp_path.iterdir())  # nothing was run or written


def test_cli_unreachable_village_exits_2_with_one_error_line(tmp_path):
    roads = "[{a:v1,b:t1},{a:v3,b:t1},{a:v4,b:t2},{a:v5,b:t2},{a:v6,b:t2},{a:t1,b:lead},{a:t2,b:lead}," \
            "{a:lead,b:city,minutes:90}]"   # v2's road is missing
    proc = run_cli("network=toy", "run=test", f"run.output_dir={tmp_path}", f"network.roads={roads}")
    assert "network.villages.v2" in _one_error_line(proc)
