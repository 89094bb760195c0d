"""Bad input, as a new user gives it: every mistake is a valid run or one clear line naming the
full key (exit code 2 on the command line), never another exception, a traceback, a kill by
the kernel or a silent meaningless run.

Each regression test below failed before its fix (the defects issue lists them); the
property-based tests then generate malformed configs of every kind: wrong types, non-finite
and huge numbers, empty maps, wrong references, duplicate ids, deep nesting, long strings,
and lists through the real command line.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

import sim
from sim.config import ConfigError, to_config, validate
from sim.experiment.sizing import check_fits, expected_episodes
from tests.conftest import ROOT, compose, run_cli

TOY = ("network=toy", "run=test")
SECTIONS = ("scenario", "study", "restructure", "executor", "run", "network", "care", "levers", "payment")
#: the start of an error line: a full dotted key (with [i] list indices) or a file and line
KEY = re.compile(r"^(?P<key>[\w.\[\]\-]+|[^,]+\.yaml, line \d+|-[\w-]+|[\w.]+=\S*): ")


def _one_line_naming_a_key(msg: str) -> str:
    assert msg and "\n" not in msg.strip(), f"not one line: {msg!r}"
    assert "Traceback" not in msg
    assert len(msg) <= 400, f"too long ({len(msg)}): {msg[:200]}..."
    m = KEY.match(msg)
    assert m, f"does not start with a key: {msg!r}"
    key = m.group("key")
    if not key.startswith("-") and ".yaml" not in key and "=" not in key:
        assert key.split(".")[0].split("[")[0] in SECTIONS, f"{key!r} is not a full key: {msg!r}"
    return key


def _error(cfg_or_overrides) -> str:
    with pytest.raises(ConfigError) as exc:
        if isinstance(cfg_or_overrides, list):
            sim.compose(cfg_or_overrides)
        else:
            validate(cfg_or_overrides)
    msg = str(exc.value)
    _one_line_naming_a_key(msg)
    return msg


# --------------------------------------------------------------------------- 1. non-finite numbers

def _float_leaves(obj, path=""):
    """(path, setter) for every float in a composed config, lists and dicts included."""
    if dataclasses.is_dataclass(obj):
        hints = {f.name: f.type for f in dataclasses.fields(obj)}
        for name in hints:
            value = getattr(obj, name)
            key = f"{path}.{name}" if path else name
            if isinstance(value, float):
                yield key, (lambda o=obj, n=name: lambda v: setattr(o, n, v))()
            else:
                yield from _float_leaves(value, key)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, float):
                yield f"{path}.{k}", (lambda d=obj, kk=k: lambda v: d.__setitem__(kk, v))()
            else:
                yield from _float_leaves(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            if isinstance(v, float):
                yield f"{path}[{i}]", (lambda lst=obj, j=i: lambda v: lst.__setitem__(j, v))()
            else:
                yield from _float_leaves(v, f"{path}[{i}]")


def test_every_float_of_the_schema_refuses_inf_and_nan_naming_its_key():
    """One rule for every float: the fuzz test once drew network.detour_factor=inf, which
    validation accepted and the run died on ("cannot convert float NaN to integer")."""
    base = compose(*TOY, "levers=combined_weekly_full")
    paths = [p for p, _ in _float_leaves(base)]
    assert len(paths) > 150 and "network.detour_factor" in paths
    for i, path in enumerate(paths):
        for bad in (math.inf, -math.inf, math.nan):
            cfg = copy.deepcopy(base)
            setter = dict(_float_leaves(cfg))[path]
            setter(bad)
            with pytest.raises(ConfigError) as exc:
                validate(cfg)
            assert str(exc.value).startswith(f"{path}: "), (path, str(exc.value))
            assert "finite" in str(exc.value)
        if i > 400:
            break


def test_detour_factor_inf_is_refused_before_any_run():
    assert _error([*TOY, "network.detour_factor=inf"]).startswith("network.detour_factor: must be a finite")


# --------------------------------------------------------------------------- 3. tracebacks

@pytest.mark.parametrize("override, key", [
    ("care.conditions.minor_illness.incidence_per_1000=1e23", "care.conditions.minor_illness.incidence_per_1000"),
    ("care.conditions.minor_illness.incidence_per_1000=1e9", "care.conditions.minor_illness.incidence_per_1000"),
    ("network.villages.v1.x_km=-inf", "network.villages.v1.x_km"),
    ("network.villages.v1.population=100000000000000000000", "network.villages.v1.population"),
    ("network.villages.v1.population=1000000000", "network.villages.v1.population"),
    ("network.facilities.t1.doctors.general={a:1}", "network.facilities.t1.doctors.general"),
    ("care.conditions.minor_illness.consult_minutes={a:1}", "care.conditions.minor_illness.consult_minutes"),
    ("care.conditions.minor_illness.consult_minutes=[{a:1},1,1,1]", "care.conditions.minor_illness.consult_minutes"),
    ("levers.expert.teams=[{first_day:x}]", "levers.expert.teams[0].first_day"),
    ("network.facilities.t1.hours.days=[0,1,x]", "network.facilities.t1.hours.days[2]"),
])
def test_inputs_that_raised_a_traceback_are_one_line(override, key):
    assert _error([*TOY, override]).startswith(f"{key}")


def test_a_dict_where_numbers_are_expected_names_the_element():
    d = OmegaConf.to_container(OmegaConf.structured(compose(*TOY)))
    d["care"]["conditions"]["minor_illness"]["consult_minutes"] = [{"a": 1}, 1.0, 1.0, 1.0]
    with pytest.raises(ConfigError, match=r"^care\.conditions\.minor_illness\.consult_minutes\[0\]: must be a number"):
        to_config(d)
    d = OmegaConf.to_container(OmegaConf.structured(compose(*TOY)))
    d["care"]["conditions"]["minor_illness"]["consult_minutes"] = {"a": 1}
    with pytest.raises(ConfigError, match=r"^care\.conditions\.minor_illness\.consult_minutes: must be a list"):
        to_config(d)


def test_deeply_nested_junk_is_one_line():
    d = OmegaConf.to_container(OmegaConf.structured(compose(*TOY)))
    junk: dict = {}
    cur = junk
    for _ in range(3000):
        cur["a"] = {}
        cur = cur["a"]
    d["network"]["facilities"]["t1"]["doctors"] = junk
    with pytest.raises(ConfigError) as exc:
        to_config(d)
    msg = str(exc.value)
    assert msg.startswith("network.facilities.t1.doctors.a.a") and "nested" in msg
    _one_line_naming_a_key(msg)


def test_a_300_character_scenario_name_is_refused(tmp_path):
    long = "s" * 300
    assert _error([*TOY, f"scenario={long}"]).startswith("scenario: must be at most 100 characters")
    study = sim.define_study("long", {"base": [], long: ["run.seed=3"]}, base_overrides=list(TOY))
    with pytest.raises(ConfigError, match="at most 100 characters"):
        sim.run_study(study, folder=tmp_path / "s", progress=False, brief=False)
    assert not (tmp_path / "s" / "replications").exists()


def test_errors_never_echo_values_thousands_of_characters_long():
    msg = _error([*TOY, f"network.facilities.t1.kind={'x' * 5000}"])
    assert len(msg) < 400 and "chars" in msg


# --------------------------------------------------------------------------- 4. memory

def test_a_run_too_big_for_memory_is_refused_naming_the_key():
    cfg = compose("network=taobei", "run.horizon_days=3650")
    n = expected_episodes(cfg)
    assert 2e7 < n < 1e8                       # ~500,000 people x 6.8 episodes x 10 years
    with pytest.raises(ConfigError) as exc:
        check_fits(cfg, jobs=2, memory=24 * 2**30)
    msg = str(exc.value)
    assert msg.startswith("run.horizon_days: this run would simulate about")
    assert "run.keep_patients=false" in msg and "GB" in msg
    check_fits(compose("network=taobei", "run=demo"), jobs=2, memory=24 * 2**30)   # the demo fits


def test_a_huge_village_is_named_as_the_driver_of_the_size():
    cfg = compose(*TOY, "network.villages.v3.population=9000000", "run.horizon_days=400")
    with pytest.raises(ConfigError, match=r"^network\.villages\.v3\.population: this run would simulate"):
        check_fits(cfg, jobs=1, memory=8 * 2**30)


def test_the_cli_refuses_a_run_too_big_for_memory(tmp_path):
    proc = run_cli("network=taobei", "run.horizon_days=36000", "run.warmup_days=1", f"run.output_dir={tmp_path}")
    assert proc.returncode == 2, proc.stderr[-800:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: run.horizon_days: this run would simulate"), proc.stderr


# --------------------------------------------------------------------------- 5. the command line

CLI_ERRORS = [
    (["--config-dir", "/nonexistent/dir", *TOY], "--config-dir: /nonexistent/dir is not a folder"),
    (["--multirun", *TOY, "run.seed=1,x"], "run.seed: Value 'x'"),
    (["--frobnicate", *TOY], "--frobnicate: unknown option"),
    ([*TOY, "run.seed=1,2"], "add --multirun"),
    ([*TOY, "network.facilities.t1.hours.days=[0,1,x]"], "network.facilities.t1.hours.days[2]"),
    (["--multirun", "network=toy,nosuch", "run=test"], "network=nosuch: no such network config; available: liuzhou"),
    (["study=nosuch", "run=test"], "study=nosuch: no such study config; available: demo"),
    ([*TOY, "run.seed=[1"], "run.seed=[1: not a valid override"),
]


@pytest.mark.parametrize("args, expected", CLI_ERRORS, ids=[" ".join(a)[:40] for a, _ in CLI_ERRORS])
def test_cli_flags_lists_and_options_give_one_error_line(args, expected, tmp_path):
    proc = run_cli(*args, f"run.output_dir={tmp_path}")
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-800:])
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-800:]
    assert expected in lines[0], lines[0]
    assert not (tmp_path / "runs").exists() and not (tmp_path / "multirun").exists()


def _bad_root(tmp_path, text: str):
    root = tmp_path / "scenarios"
    (root / "network").mkdir(parents=True)
    (root / "network" / "bad.yaml").write_text((sim.SCENARIOS_DIR / "network" / "toy.yaml").read_text() + text)
    return root


def test_a_yaml_duplicate_key_names_the_file_the_line_and_the_key(tmp_path):
    root = _bad_root(tmp_path, "name: again\n")
    line = len((root / "network" / "bad.yaml").read_text().splitlines())
    with pytest.raises(ConfigError) as exc:
        sim.compose(["network=bad", "run=test", f"hydra.searchpath=[file://{root}]"])
    msg = str(exc.value)
    assert msg.endswith(f"bad.yaml, line {line}: duplicate key 'name' (in the mapping at line 14)") or \
        re.search(rf"bad\.yaml, line {line}: duplicate key 'name'", msg), msg
    proc = run_cli("--config-dir", str(root), "network=bad", "run=test", f"run.output_dir={tmp_path}")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"bad.yaml, line {line}: duplicate key 'name'" in lines[0], proc.stderr


def test_a_yaml_syntax_error_names_the_file_and_the_line(tmp_path):
    root = _bad_root(tmp_path, "extra: [1, 2\nmore: : x\n")
    with pytest.raises(ConfigError) as exc:
        sim.compose(["network=bad", "run=test", f"hydra.searchpath=[file://{root}]"])
    assert re.search(r"bad\.yaml, line \d+: ", str(exc.value)), str(exc.value)
    _one_line_naming_a_key(str(exc.value))


def test_a_study_file_with_a_duplicate_key_names_file_line_and_key(tmp_path):
    from sim.experiment.study import load_study

    path = tmp_path / "dup.yaml"
    path.write_text("name: dup\nbaseline: a\nscenarios: {a: []}\nbaseline: b\n")
    with pytest.raises(ConfigError, match=r"dup\.yaml, line 4: duplicate key 'baseline'"):
        load_study(str(path))


def test_help_is_a_short_usage_page():
    proc = run_cli("--help")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert 15 < len(lines) < 60, len(lines)
    text = proc.stdout
    assert text.startswith("usage: python -m sim")
    for group in ("network", "study", "levers", "restructure", "care", "run", "executor"):
        assert re.search(rf"^  {group}\s+\w", text, re.M), group
    assert "taobei" in text and "sim/config/schema.py" in text and "--cfg job" in text
    assert text.count("python -m sim ") >= 4     # the usage line and three examples
    job = run_cli(*TOY, "--cfg", "job")
    assert job.returncode == 0 and "network:" in job.stdout and len(job.stdout.splitlines()) > 200


# --------------------------------------------------------------------------- 7. meaningless values

def test_negative_running_costs_are_refused():
    assert _error([*TOY, "restructure.cost_per_doctor_year=-5"]).startswith(
        "restructure.cost_per_doctor_year: must be >= 0")


def test_an_unknown_specialty_is_refused_with_the_known_ones():
    msg = _error([*TOY, "care.conditions.minor_illness.specialty=cardiolgy"])
    assert msg.startswith("care.conditions.minor_illness.specialty: unknown doctor kind 'cardiolgy'")
    assert "cardiology" in msg
    assert _error([*TOY, "+network.facilities.lead.doctors.cardiolgy=2"]).startswith(
        "network.facilities.lead.doctors.cardiolgy: unknown doctor kind")


def test_remote_modalities_must_be_known_even_when_the_lever_is_off():
    assert _error([*TOY, "levers.remote.modalities=[1]"]).startswith(
        "levers.remote.modalities[0]: unknown modality '1'")


@pytest.mark.parametrize("key", ["network.villages.v1.x_km", "network.facilities.t1.y_km"])
def test_coordinates_far_outside_china_are_refused(key):
    assert _error([*TOY, f"{key}=1e30"]).startswith(f"{key}: must be <= 5,000")


def test_a_lead_hospital_with_no_doctors_is_refused():
    cfg = compose(*TOY)
    cfg.network.facilities["lead"].doctors = {k: 0 for k in cfg.network.facilities["lead"].doctors}
    assert _error(cfg) == "network.facilities.lead.doctors: a lead hospital with no doctors at all cannot run"


def test_an_open_centre_without_doctors_is_a_one_line_warning(capsys):
    cfg = compose(*TOY)
    cfg.network.facilities["t1"].doctors = {"general": 0}
    validate(cfg)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["warning: network.facilities.t1.doctors: an open centre with no day doctors: "
                   "it will refer or turn away every patient"]


# --------------------------------------------------------------------------- 8. the dead key

def test_condition_emergency_is_gone_from_schema_yaml_and_docs():
    assert "emergency" not in {f.name for f in dataclasses.fields(sim.config.Condition)}
    assert _error([*TOY, "+care.conditions.stemi.emergency=true"]).startswith("care.conditions.stemi.emergency")
    for path in (ROOT / "scenarios" / "care").glob("*.yaml"):
        assert not re.search(r"^    emergency:", path.read_text(), re.M), path.name


# --------------------------------------------------------------------------- property-based

def _container() -> dict:
    cfg = compose(*TOY, "run.horizon_days=1.5", "run.warmup_days=0.5", "levers=combined_weekly_full")
    return OmegaConf.to_container(OmegaConf.structured(cfg))


_BASE = _container()


def _leaves(d, path=()):
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield from _leaves(v, (*path, i))
    if path:
        yield path, d


LEAVES = [p for p, v in _leaves(_BASE) if not isinstance(v, (dict, list))]
NUMERIC = [p for p, v in _leaves(_BASE) if isinstance(v, (int, float)) and not isinstance(v, bool)]
MAPS = [p for p, v in _leaves(_BASE) if isinstance(v, dict)]
STRINGS = [p for p, v in _leaves(_BASE) if isinstance(v, str)]
REFERENCES = [("network", "facilities", "t1", "lead"), ("network", "roads", 0, "a"), ("network", "roads", 3, "b"),
              ("levers", "expert", "teams", 0, "sites"), ("levers", "remote", "sites"),
              ("restructure", "operations")]
BAD_NUMBERS = [-1, -0.5, 0, 0.5, 1.5, 1e6, 1e12, 1e30, 10**20, -10**20, math.nan, math.inf, -math.inf]
BAD_VALUES = [{"a": 1}, [1, 2], "x", "", None, True, [{"a": [1]}]]


def _nested(depth: int) -> dict:
    d: dict = {"a": 1}
    for _ in range(depth):
        d = {"a": d}
    return d


def _set(d: dict, path: tuple, value) -> None:
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value


mutations = st.one_of(
    st.tuples(st.just("number"), st.sampled_from(NUMERIC), st.sampled_from(BAD_NUMBERS)),
    st.tuples(st.just("type"), st.sampled_from(LEAVES), st.sampled_from(BAD_VALUES)),
    st.tuples(st.just("empty"), st.sampled_from(MAPS), st.just({})),
    st.tuples(st.just("reference"), st.sampled_from(REFERENCES), st.text(max_size=8)),
    st.tuples(st.just("duplicate"), st.sampled_from(["lead", "t1", "t2", "city"]), st.just(None)),
    st.tuples(st.just("nesting"), st.sampled_from(LEAVES), st.sampled_from([5, 40, 2500])),
    st.tuples(st.just("long"), st.sampled_from(STRINGS + [("scenario",)]), st.sampled_from([150, 400, 30_000])),
    st.tuples(st.just("long_id"), st.sampled_from(["villages", "facilities"]), st.integers(101, 3000)),
)


def _apply(d: dict, kind: str, a, b) -> None:
    if kind in ("number", "type", "empty"):
        _set(d, a, copy.deepcopy(b))
    elif kind == "reference":
        if a == ("restructure", "operations"):
            d["restructure"]["operations"] = [{"op": "close", "site": b}]
        elif a[-1] == "sites":
            _set(d, a, [b])
        else:
            _set(d, a, b)
    elif kind == "duplicate":      # a village with a facility's id
        d["network"]["villages"][a] = copy.deepcopy(d["network"]["villages"]["v1"])
    elif kind == "nesting":
        _set(d, a, _nested(b))
    elif kind == "long":
        _set(d, a, "x" * b)
    elif kind == "long_id":
        section = d["network"][a]
        first = next(iter(section))
        section["q" * b] = section.pop(first)


@given(st.lists(mutations, min_size=1, max_size=3))
def test_any_malformed_config_is_a_run_or_one_line_naming_the_full_key(muts):
    d = copy.deepcopy(_BASE)
    for kind, a, b in muts:
        try:
            _apply(d, kind, a, b)
        except (KeyError, IndexError, TypeError):   # an earlier mutation removed the parent
            continue
    try:
        cfg = to_config(d)
        cfg.run.replications = 1
        check_fits(cfg, memory=2 * 2**30)     # what the CLI and the study check before starting
        result = sim.run(cfg, jobs=1)
    except ConfigError as exc:
        _one_line_naming_a_key(str(exc))
        return
    assert len(result.kpis) > 0


def _cli_value(v) -> str:
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}:{_cli_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_cli_value(x) for x in v) + "]"
    if isinstance(v, str):
        return f"'{v}'" if v else "''"
    return repr(v)


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


cli_overrides = st.one_of(
    st.builds(lambda p, v: f"{_dotted(p)}={_cli_value(v)}", st.sampled_from(NUMERIC), st.sampled_from(BAD_NUMBERS)),
    st.builds(lambda p, v: f"{_dotted(p)}={_cli_value(v)}", st.sampled_from(LEAVES), st.sampled_from(BAD_VALUES)),
    st.builds(lambda p, xs: f"{_dotted(p)}=[{','.join(xs)}]",
              st.sampled_from([("network", "facilities", "t1", "hours", "days"), ("network", "facilities", "t2", "acquire"),
                               ("care", "conditions", "stemi", "diagnostics"), ("levers", "remote", "modalities"),
                               ("care", "prices", "consult")]),
              st.lists(st.sampled_from(["0", "1", "x", "ecg", "-3", "1e9", "nan", "[1]", "{a:1}"]), max_size=5)),
    st.builds(lambda g, o: f"{g}={o}", st.sampled_from(["network", "study", "levers", "care", "restructure"]),
              st.sampled_from(["nosuch", "toy", "x" * 300])),
)


@pytest.mark.slow
@settings(max_examples=10)
@given(st.lists(cli_overrides, min_size=1, max_size=2))
def test_the_real_cli_gives_a_run_or_exit_2_with_one_line(overrides):
    """A sample through the real command line in a subprocess (a few seconds each)."""
    import tempfile

    out = tempfile.mkdtemp()
    try:
        proc = run_cli(*TOY, "run.horizon_days=1", "run.warmup_days=0.25", *overrides, f"run.output_dir={out}",
                       timeout=300)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    assert proc.returncode in (0, 2), (overrides, proc.returncode, proc.stderr[-1500:])
    assert "Traceback" not in proc.stderr, (overrides, proc.stderr[-1500:])
    if proc.returncode == 2:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("warning: ")]
        assert len(lines) == 1 and lines[0].startswith("error: "), (overrides, proc.stderr[-1500:])
        _one_line_naming_a_key(lines[0][len("error: "):])
