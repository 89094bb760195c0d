"""Issue 8 levers: bad lever configs fail with a ConfigError naming the key."""

from __future__ import annotations

import pytest

import sim
from sim.config import ConfigError, ExpertTeam, validate
from sim.model.world import World
from tests.conftest import compose


def _expert(**team):
    cfg = compose("network=toy", "run=test")
    cfg.levers.expert.enabled = True
    t = dict(specialty="ent", sites=["t1"], weekdays=["fri"])
    t.update(team)
    cfg.levers.expert.teams = [ExpertTeam(**t)]
    return cfg


@pytest.mark.parametrize("team, key", [
    (dict(weekdays=["funday"]), "levers.expert.teams[0].weekdays"),
    (dict(every_days=7), "levers.expert.teams[0]"),                       # both schedules
    (dict(weekdays=[]), "levers.expert.teams[0]"),                        # no schedule
    (dict(weekdays=[], every_days=2.5), "levers.expert.teams[0].every_days"),
    (dict(sites=["nowhere"]), "levers.expert.teams[0].sites"),
    (dict(sites=["lead"]), "levers.expert.teams[0].sites"),               # lead specialists visit members
    (dict(specialty="astrology"), "levers.expert.teams[0].specialty"),
    (dict(specialty="ent", doctors=5), "levers.expert.teams[0].specialty"),  # the lead has 1 ENT doctor
    (dict(source="abroad"), "levers.expert.teams[0].source"),
    (dict(hours_on_site=0), "levers.expert.teams[0].hours_on_site"),
    (dict(conditions=["stemi"]), "levers.expert.teams[0].conditions"),
    (dict(conditions=["no_such"]), "levers.expert.teams[0].conditions"),
])
def test_bad_expert_team(team, key):
    with pytest.raises(ConfigError) as e:
        validate(_expert(**team))
    assert str(e.value).startswith(key + ":"), str(e.value)


def test_bad_expert_settings():
    cfg = _expert()
    cfg.levers.expert.skill.ceiling = 1.5
    with pytest.raises(ConfigError, match=r"^levers\.expert\.skill\.ceiling:"):
        validate(cfg)
    cfg = _expert()
    cfg.levers.expert.teams = []
    with pytest.raises(ConfigError, match=r"^levers\.expert\.teams:"):
        validate(cfg)


def test_rota_sending_more_specialists_than_the_lead_has_is_refused():
    cfg = _expert(sites=["t1", "t2"], weekdays=["fri"])  # 2 ENT away on Fridays, the toy lead has 1
    validate(cfg)
    with pytest.raises(ConfigError, match=r"^levers\.expert\.teams\[0\]: .*'ent' specialists"):
        World(cfg, 0)


def _remote(**over):
    cfg = compose("network=toy", "run=test")
    r = cfg.levers.remote
    r.enabled = True
    r.modalities = ["ecg"]
    for k, v in over.items():
        setattr(r, k, v)
    return cfg


@pytest.mark.parametrize("over, key", [
    (dict(modalities=["mri"]), "levers.remote.modalities"),
    (dict(modalities=["cathlab"]), "levers.remote.modalities"),
    (dict(modalities=[]), "levers.remote.modalities"),
    (dict(sites=["lead"]), "levers.remote.sites"),
    (dict(failure_prob=1.2), "levers.remote.failure_prob"),
    (dict(on_failure="pray"), "levers.remote.on_failure"),
    (dict(readers=0, night_readers=0), "levers.remote.readers"),
    (dict(reader_open_hour=18.0), "levers.remote.reader_open_hour"),
    (dict(modalities=["xray"], tele_ecg=True), "levers.remote.tele_ecg"),
    (dict(manageable={"no_such": 0.5}), "levers.remote.manageable.no_such"),
    (dict(default_manageable=-0.1), "levers.remote.default_manageable"),
    (dict(transmit_minutes=-1.0), "levers.remote.transmit_minutes"),
])
def test_bad_remote(over, key):
    with pytest.raises(ConfigError) as e:
        validate(_remote(**over))
    assert str(e.value).startswith((key + ":", key + ".", key + "[")), str(e.value)


def test_bad_remote_consult():
    cfg = _remote()
    cfg.levers.remote.consult.enabled = True
    with pytest.raises(ConfigError, match=r"^levers\.remote\.consult\.conditions:"):
        validate(cfg)
    cfg.levers.remote.consult.conditions = ["specialist_ent"]
    cfg.levers.remote.consult.lines = 0
    with pytest.raises(ConfigError, match=r"^levers\.remote\.consult\.lines:"):
        validate(cfg)


def test_bad_lever_override_through_hydra():
    with pytest.raises(ConfigError, match="levers"):
        sim.compose(["network=toy", "levers=expert_weekly", "levers.expert.teams.0.weekdays=[someday]"])
    with pytest.raises(ConfigError, match="levers"):
        sim.compose(["network=toy", "levers=remote_full", "levers.remote.on_failure=maybe"])


@pytest.mark.parametrize("name", ["none", "expert_monthly", "expert_biweekly", "expert_weekly", "expert_twice_weekly",
                                  "remote_ecg", "remote_ecg_imaging", "remote_full", "remote_half_capacity",
                                  "combined_weekly_full", "xianghe_friday"])
def test_lever_scenarios_compose_on_xianghe(name):
    cfg = sim.compose(["network=xianghe", f"levers={name}"])
    assert cfg.levers.name == name


def test_taobei_scheme_composes():
    cfg = sim.compose(["network=taobei", "levers=taobei_heads"])
    assert len(cfg.levers.expert.teams) == 24
