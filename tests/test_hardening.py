"""Bad input and failure: every config mistake is one clear line (exit code 2 on the command
line), a config cannot execute code or write outside its output folder, and long runs can drop
the per-patient tables."""

from __future__ import annotations

import copy
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from omegaconf import OmegaConf

import sim
from sim.config import Config, ConfigError, to_config
from sim.experiment.study import compose_study, load_study, run_study
from tests.conftest import ROOT, compose, run_cli

TOY = ("network=toy", "run=test")


# --------------------------------------------------------------------------- one clear line

#: (override, the key the message must name, a word of the problem)
BAD_OVERRIDES = [
    ("network.facilities.t1.bedz=3", "network.facilities.t1.bedz", "not in"),                 # unknown key
    ("+network.facilities.t1.bedz=3", "network.facilities.t1.bedz", "unknown key"),         # force-added key
    ("run.horizon_days=abc", "run.horizon_days", "could not be converted"),                  # wrong type
    ("network.facilities.lead.beds=1.5", "network.facilities.lead.beds", "Integer"),         # wrong type
    ("network.facilities.t1.beds=-3", "network.facilities.t1.beds", ">= 0"),                 # negative capacity
    ("network.facilities.t1.beds=nan", "network.facilities.t1.beds", "Integer"),             # NaN capacity
    ("network.facilities.t1.doctors.general=-1", "network.facilities.t1.doctors.general", ">= 0"),
    ("network.facilities.lead.ambulances=-2", "network.facilities.lead.ambulances", ">= 0"),
    ("network.facilities.t1.initial_bed_occupancy=nan", "network.facilities.t1.initial_bed_occupancy", "finite"),
    ("care.conditions.minor_illness.admit_prob=1.5", "care.conditions.minor_illness.admit_prob", "probability"),
    ("care.behaviour.renege_go_up_prob=-0.1", "care.behaviour.renege_go_up_prob", "probability"),
    ("care.prices.reimburse_inpatient=[0.9,1.2,0.6,0.5]", "care.prices.reimburse_inpatient[1]", "probability"),
    ("care.conditions.minor_illness.los_days.dist=weibull", "care.conditions.minor_illness.los_days.dist", "one of"),
    ("care.conditions.minor_illness.los_days.mean=-2", "care.conditions.minor_illness.los_days.mean", ">= 0"),
    ("care.conditions.minor_illness.los_days.cv=0", "care.conditions.minor_illness.los_days.cv", "> 0"),
    ("care.conditions.minor_illness.consult_dist=foo", "care.conditions.minor_illness.consult", "one of"),
    ("care.conditions.minor_illness.incidence_per_1000=inf", "care.conditions.minor_illness.incidence_per_1000",
     "finite"),
    ("network.facilities.t1.lead=nowhere", "network.facilities.t1.lead", "not a facility"),     # missing facility
    ("network.roads.0.a=nowhere", "network.roads[0].a", "not a village or facility"),
    ("run.warmup_days=10", "run.warmup_days", "shorter than run.horizon_days"),                # horizon < warm-up
    ("run.horizon_days=nan", "run.horizon_days", "finite"),
    ("network.facilities.t1.kind=hospital", "network.facilities.t1.kind", "one of"),
    ("care.behaviour.closed_policy=maybe", "care.behaviour.closed_policy", "wait or elsewhere"),
    ("network.villages.v1.population=-5", "network.villages.v1.population", ">= 0"),
    ("study.name=empty", "study.scenarios", "empty study"),                                   # an empty study
    ("scenario=../evil", "scenario", "plain name"),
    ("network=nosuchcounty", "network", "nosuchcounty"),                                      # missing file
]


def _one_line(msg: str) -> None:
    assert msg and "\n" not in msg.strip(), f"not one line: {msg!r}"
    assert "Traceback" not in msg


@pytest.mark.parametrize("override, key, problem", BAD_OVERRIDES, ids=[o for o, _, _ in BAD_OVERRIDES])
def test_a_config_mistake_is_one_line_naming_the_key(override, key, problem):
    with pytest.raises(ConfigError) as exc:
        sim.compose([*TOY, override])
    msg = str(exc.value)
    _one_line(msg)
    assert key in msg, f"{msg!r} does not name {key!r}"
    assert problem in msg, f"{msg!r} does not say {problem!r}"


def _drop_village_roads(cfg: Config, village: str) -> Config:
    cfg.network.roads = [r for r in cfg.network.roads if village not in (r.a, r.b)]
    return cfg


def test_a_disconnected_village_is_a_config_error():
    cfg = _drop_village_roads(compose(*TOY), "v2")
    with pytest.raises(ConfigError, match=r"network\.villages\.v2: cannot reach"):
        sim.run(cfg, jobs=1)


def test_an_empty_or_escaping_study_file_is_refused(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("name: empty\nbaseline: a\nscenarios: {}\n")
    with pytest.raises(ConfigError, match="empty study"):
        load_study(str(empty))
    typo = tmp_path / "typo.yaml"
    typo.write_text("name: t\nbaseline: a\nscenarioz: {a: []}\n")
    with pytest.raises(ConfigError, match="scenarioz"):
        load_study(str(typo))
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="nope.yaml"):
        load_study(str(missing))


# the command line: exit code 2, one "error:" line on stderr, no traceback (a few, in subprocesses)
CLI_CASES = [
    ("network.facilities.t1.bedz=3", "network.facilities.t1.bedz"),
    ("run.horizon_days=abc", "run.horizon_days"),
    ("network.facilities.t1.beds=-3", "network.facilities.t1.beds: must be >= 0, got -3"),
    ("run.warmup_days=30", "run.warmup_days"),
]


@pytest.mark.parametrize("override, expected", CLI_CASES, ids=[c for c, _ in CLI_CASES])
def test_the_cli_prints_one_error_line_and_exits_2(override, expected, tmp_path):
    proc = run_cli(*TOY, override, f"run.output_dir={tmp_path}")
    assert proc.returncode == 2, proc.stderr[-1500:]
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert expected in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


# --------------------------------------------------------------------------- property-based

#: numeric fields of the toy config that a user might get wrong: (path, kind), kind in
#: int/float/prob; "demand" fields (populations, incidences) get no huge values: a huge demand
#: is a valid (slow) run, not a malformed one
NUMERIC = [
    ("network.facilities.t1.beds", "int"), ("network.facilities.lead.beds", "int"),
    ("network.facilities.t1.doctors.general", "int"), ("network.facilities.lead.ambulances", "int"),
    ("network.facilities.t2.initial_bed_occupancy", "prob"), ("network.facilities.t1.hours.open_hour", "float"),
    ("network.facilities.t1.hours.weekend_share", "prob"), ("network.road_speed_kmh", "float"),
    ("network.detour_factor", "float"), ("network.clinic_access_minutes", "float"),
    ("network.villages.v3.population", "demand"), ("network.villages.v4.clinic_doctors", "int"),
    ("care.conditions.minor_illness.incidence_per_1000", "demand"),
    ("care.conditions.minor_illness.admit_prob", "prob"), ("care.conditions.medical_admission.los_days.mean", "float"),
    ("care.conditions.medical_admission.los_days.cv", "float"), ("care.conditions.minor_illness.consult_cv", "float"),
    ("care.conditions.stemi.ambulance_prob", "prob"), ("care.behaviour.bed_wait_max_hours", "float"),
    ("care.behaviour.renege_go_up_prob", "prob"), ("care.behaviour.balk_queue", "int"),
    ("care.behaviour.max_block_hours", "float"), ("care.emergency.dispatch_minutes", "float"),
    ("care.choice.beta_travel_per_hour", "float"), ("care.prices.ambulance_trip", "float"),
    ("run.warmup_days", "float"),
]
ENUMS = ["network.facilities.t1.kind", "care.conditions.medical_admission.los_days.dist",
         "care.conditions.minor_illness.consult_dist", "care.conditions.stemi.pathway",
         "care.conditions.minor_illness.profile", "care.behaviour.closed_policy", "executor.kind"]
BAD_NUMBERS = [-1, -0.5, -1e-9, 0, 0.5, 1.5, 1e6, float("nan"), float("inf"), -float("inf")]


def _base_container() -> dict:
    cfg = compose(*TOY, "run.horizon_days=1.5", "run.warmup_days=0.5")
    cfg.network.facilities["t1"].beds = 6
    return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)


_BASE = None


def _get_parent(d: dict, path: str):
    *head, last = path.split(".")
    for k in head:
        d = d[k]
    return d, last


mutation = st.one_of(
    st.tuples(st.just("number"), st.sampled_from(NUMERIC), st.sampled_from(BAD_NUMBERS)),
    st.tuples(st.just("enum"), st.sampled_from(ENUMS), st.text(max_size=8)),
    st.tuples(st.just("lead"), st.sampled_from(["t1", "t2"]), st.text(max_size=6)),
    st.tuples(st.just("drop_roads"), st.integers(0, 40), st.integers(1, 4)),
    st.tuples(st.just("road_minutes"), st.integers(0, 40), st.sampled_from(BAD_NUMBERS)),
)


@given(st.lists(mutation, min_size=1, max_size=3))
def test_malformed_configs_give_a_run_or_a_config_error(mutations):
    global _BASE
    if _BASE is None:
        _BASE = _base_container()
    d = copy.deepcopy(_BASE)
    for kind, a, b in mutations:
        if kind == "number":
            (path, ftype), value = a, b
            if ftype == "demand" and (value > 1e4 or math.isinf(value)):
                value = -1.0
            parent, key = _get_parent(d, path)
            parent[key] = value
        elif kind == "enum":
            parent, key = _get_parent(d, a)
            parent[key] = b
        elif kind == "lead":
            d["network"]["facilities"][a]["lead"] = b
        elif kind == "drop_roads":
            roads = d["network"]["roads"]
            if roads:
                start = a % len(roads)
                del roads[start:start + b]
        elif kind == "road_minutes":
            roads = d["network"]["roads"]
            if roads:
                roads[a % len(roads)]["minutes"] = b
    try:
        cfg = to_config(OmegaConf.create(d))
        cfg.run.replications = 1
        result = sim.run(cfg, jobs=1)
    except ConfigError as exc:
        _one_line(str(exc))
        assert re.match(r"^[\w\[\]\.\-: '()]+", str(exc)), str(exc)
        return
    assert len(result.kpis) > 0


# --------------------------------------------------------------------------- no code from configs

def test_the_package_never_instantiates_objects_from_configs():
    for path in list((ROOT / "sim").glob("*.py")) + list((ROOT / "calibration").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "instantiate" not in text, f"{path.name} uses hydra.utils.instantiate"
        assert "_target_" not in text, f"{path.name} mentions _target_"
        assert not re.search(r"yaml\.(unsafe_)?load\((?![^)]*Loader=yaml\.SafeLoader)", text), \
            f"{path.name} loads YAML unsafely"
        assert "yaml.Loader" not in text and "UnsafeLoader" not in text and "FullLoader" not in text
    for path in (ROOT / "scenarios").rglob("*.yaml"):
        assert "_target_" not in path.read_text(encoding="utf-8"), f"{path} has a _target_"


PAYLOAD = "!!python/object/apply:os.system ['touch {marker}']"


def test_a_yaml_with_a_python_tag_is_rejected_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    # a study file
    study = tmp_path / "evil_study.yaml"
    study.write_text(f"name: evil\nbaseline: a\ndescription: {PAYLOAD.format(marker=marker)}\nscenarios: {{a: []}}\n")
    with pytest.raises(ConfigError):
        load_study(str(study))
    # a scenario file in a config group (a copy of the config root with one evil network)
    root = tmp_path / "scenarios"
    import shutil

    shutil.copytree(sim.SCENARIOS_DIR, root)
    (root / "network" / "evil.yaml").write_text(
        (root / "network" / "toy.yaml").read_text(encoding="utf-8")
        + f"\ndescription: {PAYLOAD.format(marker=marker)}\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        sim.compose(["network=evil", "run=test"], config_dir=root)
    # a run folder's config.yaml
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text(f"scenario: {PAYLOAD.format(marker=marker)}\n")
    import yaml

    with pytest.raises(yaml.YAMLError):          # OmegaConf's loader is a SafeLoader
        sim.load_run(tmp_path / "run")
    assert not marker.exists(), "a YAML tag executed code"


# --------------------------------------------------------------------------- output paths

@pytest.mark.parametrize("name", ["../evil", "a/../../b", "/abs/path", ".."])
def test_a_scenario_name_cannot_leave_the_output_folder(name):
    with pytest.raises(ConfigError, match="scenario"):
        sim.compose([*TOY, f"scenario='{name}'"])


def test_a_study_scenario_or_study_name_cannot_leave_the_output_folder(tmp_path):
    out = tmp_path / "out"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nbaseline: base\nbase_overrides: [network=toy, run=test]\n"
                   "scenarios:\n  base: []\n  ../../escape: []\n")
    with pytest.raises(ConfigError, match="escape"):
        run_study(str(bad), [f"run.output_dir={out}"], progress=False, brief=False)
    named = tmp_path / "named.yaml"
    named.write_text("name: ../../escape\nbaseline: base\nbase_overrides: [network=toy, run=test]\n"
                     "scenarios:\n  base: []\n")
    with pytest.raises(ConfigError, match="study.name"):
        run_study(str(named), [f"run.output_dir={out}"], progress=False, brief=False)
    with pytest.raises(ConfigError):
        compose_study(load_study(str(named)))
    assert not (tmp_path / "escape").exists() and not (tmp_path.parent / "escape").exists()
    assert not list(tmp_path.rglob("escape*"))


def test_safe_child_refuses_escaping_names(tmp_path):
    from sim.analysis.io import safe_child

    assert safe_child(tmp_path, "ok") == (tmp_path / "ok").resolve()
    for name in ("../x", "a/../../x", "/etc"):
        with pytest.raises(ValueError):
            safe_child(tmp_path, name)


# --------------------------------------------------------------------------- bounded memory

def test_keep_patients_false_keeps_only_kpis_and_occupancy(tmp_path):
    full = sim.run(compose(*TOY), jobs=1)
    lean = sim.run(compose(*TOY, "run.keep_patients=false"), jobs=1, output=tmp_path / "lean")
    for t in ("patients", "visits", "admissions", "emergency", "expert_visits", "remote_studies", "lever_events"):
        assert getattr(lean, t) is None, t
        assert not (tmp_path / "lean" / f"{t}.parquet").exists()
    assert (tmp_path / "lean" / "kpis.parquet").exists() and (tmp_path / "lean" / "occupancy.parquet").exists()
    from pandas.testing import assert_frame_equal

    assert_frame_equal(lean.kpis, full.kpis, check_exact=True)
    assert_frame_equal(lean.occupancy, full.occupancy, check_exact=True)
    # what a replication hands back to the parent process carries no per-patient table
    from sim.experiment.replication import replicate

    out = replicate(compose(*TOY, "run.keep_patients=false"), 0)
    assert out["tables"] is None and set(out) == {"scenario", "replication", "kpis", "occupancy", "tables", "info"}
    loaded = sim.load_run(tmp_path / "lean")
    assert loaded.patients is None and len(loaded.kpis) == len(full.kpis)

