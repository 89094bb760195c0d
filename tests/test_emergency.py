"""The emergency network (胸痛中心 / 卒中中心 / 120) on hand-built cases with known times."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import sim
from sim.config import Config, Facility, Hours, NetworkConfig, Road, RunConfig, Village
from sim.county.patients import ATTRS
from sim.model.flow import Journey, ambulance_call, care
from sim.model.world import World

H24 = Hours(open_hour=0.0, close_hour=24.0, weekend_share=1.0)


def line_network(township_reads_ecg: bool = False, lead_ambulances: int = 1, far: float = 40.0) -> NetworkConfig:
    """v --10-- t1 --far-- lead --60-- city; the lead has a cath lab and the ambulances."""
    lead = Facility(kind="lead", tier=2, hours=H24, beds=50,
                    doctors={"general": 4, "emergency": 2, "cardiology": 2, "neurology": 1, "surgery": 2},
                    night_doctors={"general": 4, "emergency": 2, "cardiology": 2, "neurology": 1, "surgery": 2},
                    acquire=["ecg", "ct", "lab", "cathlab"], read=["ecg", "ct", "lab", "cathlab"],
                    ambulances=lead_ambulances)
    t1 = Facility(kind="township", tier=1, lead="lead", hours=H24, doctors={"general": 2},
                  night_doctors={"general": 2}, beds=10, acquire=["ecg", "lab"],
                  read=["ecg", "lab"] if township_reads_ecg else ["lab"])
    return NetworkConfig(
        name="line", villages={"v": Village(population=1000)},
        facilities={"t1": t1, "lead": lead, "city": Facility(kind="tertiary", tier=3)},
        roads=[Road("v", "t1", 10.0), Road("t1", "lead", far), Road("lead", "city", 60.0)])


def quiet_world(net: NetworkConfig) -> World:
    """A world with the default care but no random arrivals: patients are injected by hand."""
    base = sim.compose(["network=toy", "run=test"])
    conds = {k: dataclasses.replace(c, incidence_per_1000=0.0) for k, c in base.care.conditions.items()}
    care = dataclasses.replace(base.care, conditions=conds)
    cfg = Config(network=net, care=care, run=RunConfig(horizon_days=3, warmup_days=0, replications=1, jobs=1))
    return World(cfg, 0)


def inject(w: World, condition: str, t: float, by_ambulance: bool, site: str | None = None) -> int:
    c = w.cat.ids.index(condition)
    a = [0.5] * len(ATTRS)
    a[2] = 0.0  # u_admit: admitted
    a[3] = 1.0  # length-of-stay multiplier
    a[6] = 0.99  # no down-referral
    pid = w.log.new_patients(np.array([0]), np.array([c]), np.array([t]), np.array([-1]), np.array([0.0]))
    if by_ambulance:
        Journey(w.env, ambulance_call(w, pid, 0, c, a), t)
    else:
        s = w.county.facility_ids.index(site)
        Journey(w.env, care(w, pid, 0, c, a, s, 0), t)
    return pid


def emergency_row(w: World, pid: int) -> dict:
    e = w.log.tables(w.site_ids, w.county.village_ids, w.cat.ids)["emergency"]
    return e[e["patient"] == pid].iloc[0].to_dict()


def test_stemi_by_ambulance_equals_the_analytic_sum_when_resources_are_free():
    w = quiet_world(line_network())
    em = w.cfg.care.emergency
    pid = inject(w, "stemi", 100.0, by_ambulance=True)
    w.run()
    row = emergency_row(w, pid)
    lead_to_v = 10.0 + 40.0
    assert row["fmc"] == pytest.approx(100.0 + em.dispatch_minutes + lead_to_v)
    d2b = em.ed_minutes + em.cathlab_activation_minutes + em.device_minutes  # door to wire crossing
    assert row["reperfusion"] - row["fmc"] == pytest.approx(em.on_scene_minutes + lead_to_v + d2b)
    assert row["reperfusion"] - row["door"] == pytest.approx(d2b)
    assert row["reperfusion_kind"] == "pci"
    assert row["ecg"] - row["fmc"] == pytest.approx(w.cfg.care.test_minutes["ecg"])


def test_with_one_ambulance_the_second_simultaneous_call_waits():
    w = quiet_world(line_network(lead_ambulances=1))
    em = w.cfg.care.emergency
    first = inject(w, "stemi", 100.0, by_ambulance=True)
    second = inject(w, "stemi", 100.0, by_ambulance=True)
    w.run()
    a, b = emergency_row(w, first), emergency_row(w, second)
    # the ambulance hands the first patient over at the lead, is ready again, then drives out
    back = a["door"] + em.handover_minutes + 0.0  # the station is the lead itself
    assert b["fmc"] == pytest.approx(back + em.dispatch_minutes + 50.0)
    assert b["fmc"] - b["call"] > a["fmc"] - a["call"] + 60


def test_two_ambulances_serve_simultaneous_calls_at_once():
    w = quiet_world(line_network(lead_ambulances=2))
    first = inject(w, "stemi", 100.0, by_ambulance=True)
    second = inject(w, "stemi", 100.0, by_ambulance=True)
    w.run()
    assert emergency_row(w, first)["fmc"] == emergency_row(w, second)["fmc"]


def test_pharmaco_invasive_thrombolysis_when_transfer_is_too_long():
    # a township that reads ECGs, 90 min from the PCI centre: expected time to balloon is
    # dispatch + 90 (ambulance to the township) + 90 + ED + activation > 120 -> thrombolysis
    w = quiet_world(line_network(township_reads_ecg=True, far=90.0))
    em = w.cfg.care.emergency
    pid = inject(w, "stemi", 100.0, by_ambulance=False, site="t1")
    w.run()
    row = emergency_row(w, pid)
    assert row["reperfusion_kind"] == "thrombolysis"
    # first contact at the township door; consult, ECG, then the needle
    assert row["reperfusion"] - row["fmc"] < 120
    assert row["reperfusion"] - row["ecg"] == pytest.approx(em.door_to_needle_minutes)


def test_no_thrombolysis_when_pci_is_near_or_the_ecg_cannot_be_read():
    near = quiet_world(line_network(township_reads_ecg=True, far=5.0))
    pid = inject(near, "stemi", 100.0, by_ambulance=False, site="t1")
    near.run()
    assert emergency_row(near, pid)["reperfusion_kind"] == "pci"
    unread = quiet_world(line_network(township_reads_ecg=False, far=90.0))
    pid = inject(unread, "stemi", 100.0, by_ambulance=False, site="t1")
    unread.run()
    row = emergency_row(unread, pid)
    assert row["reperfusion_kind"] == "pci"
    assert not math.isnan(row["ecg"])  # acquired at the township even though not read there


def test_emergency_kpis_reported():
    cfg = sim.compose(["network=toy", "run.horizon_days=120", "run.warmup_days=0", "run.replications=1",
                       "care.conditions.stemi.incidence_per_1000=30", "care.conditions.stroke.incidence_per_1000=20"])
    res = sim.run(cfg, jobs=1)
    k = res.kpis.set_index(["metric", "group"])["value"]
    assert 0 < k["door_to_balloon_median_min", "county"] < 200
    assert 0 <= k["door_to_balloon_within_90_share", "county"] <= 1
    assert 0 < k["fmc_to_ecg_within_10_share", "county"] <= 1
    assert k["stroke_onset_to_needle_median_min", "county"] > 0
