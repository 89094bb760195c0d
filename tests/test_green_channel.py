"""The green channel (绿色通道, sim/levers/green_channel.py): the kernel's reservation, the lever's
effect under common random numbers, the referred-back path, the lever off, and its config.

The pool tests read like those of tests/unit/test_pool.py, on a bare kernel Environment; the
model tests run the toy county (a 60-bed lead with few specialists, congested enough that the
reservation shows) with the same seed and replication with the lever on and off.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError, validate
from sim.engine.kernel import Environment, Pool, ReservedPool, reserved_units, run_until
from sim.experiment.replication import replicate
from sim.levers import green_channel
from sim.model.world import World
from tests.conftest import compose
from tests.unit.pool_processes import arrive_at, customer

# ---------------------------------------------------------------------------- the kernel's reservation


def _reserved(capacity=4, share=0.25) -> tuple[Environment, ReservedPool]:
    env = Environment()
    pool = Pool(env, capacity, "lead", "doctors:general").reserve(share)
    return env, pool


def test_reserved_units_are_a_ceiling_share_but_leave_one_unit_open():
    assert [reserved_units(0.25, c) for c in (0, 1, 2, 4, 8)] == [0, 0, 1, 1, 2]
    assert reserved_units(0.1, 30) == 3 and reserved_units(0.3, 10) == 3  # no float round-up to 4
    assert reserved_units(1.0, 5) == 4 and reserved_units(0.0, 5) == 0


def test_unflagged_requests_never_hold_the_reserved_unit():
    env, pool = _reserved()
    assert pool.reserved == 1
    log: list = []
    peak = []
    for i in range(8):
        env.process(customer(env, pool, f"u{i}", log, service=10.0))

    def watch():
        while True:
            peak.append(pool.in_use)
            yield env.timeout(1.0)

    env.process(watch())
    env.run(until=100)
    assert max(peak) == 3  # capacity 4, one reserved: never more than 3 unflagged at once
    assert [t for n, what, t in log if what == "start"] == [0, 0, 0, 10, 10, 10, 20, 20]


def test_a_flagged_request_takes_the_reserved_unit_at_once():
    env, pool = _reserved()
    log: list = []
    for i in range(5):
        env.process(customer(env, pool, f"u{i}", log, service=10.0))
    arrive_at(env, 2.0, customer(env, pool, "green", log, service=5.0, flagged=True))
    env.run(until=50)
    starts = {n: t for n, what, t in log if what == "start"}
    assert starts["green"] == 2.0  # while u3, u4 queue for unreserved units
    assert starts["u3"] == starts["u4"] == 10.0
    assert pool.in_use == 0 and pool.waiting == 0


def test_order_among_unflagged_and_among_flagged_requests_is_unchanged():
    """Within each class (priority, arrival) order; the last free unit (the reserved one) goes
    to a flagged request only, and stays idle while only unflagged requests wait."""
    env, pool = _reserved(capacity=3, share=1 / 3)  # two units open to all, the last one reserved
    log: list = []
    env.process(customer(env, pool, "hold1", log, service=10.0))
    env.process(customer(env, pool, "hold2", log, service=10.0))
    for name, prio, t in (("a", 2, 1.0), ("b", 1, 2.0), ("c", 2, 3.0)):
        arrive_at(env, t, customer(env, pool, name, log, service=10.0, priority=prio))
    for name, prio, t in (("g", 2.5, 4.0), ("g2", 2.5, 5.0), ("g3", 1.5, 6.0)):
        arrive_at(env, t, customer(env, pool, name, log, service=10.0, priority=prio, flagged=True))
    env.run(until=100)
    starts = {n: t for n, what, t in log if what == "start"}
    assert [n for n, what, _ in log if what == "start"] == ["hold1", "hold2", "g", "g3", "g2", "b", "a", "c"]
    # g takes the reserved unit at once; at 10 each freed unit is the last free one, so the
    # flagged g3 (priority 1.5) then g2 take them; at 14 the freed unit stays reserved (idle)
    # although a, b, c wait; at 20 two units free: b (priority 1), then a before c (arrival)
    assert starts == {"hold1": 0, "hold2": 0, "g": 4, "g3": 10, "g2": 10, "b": 20, "a": 20, "c": 30}


def test_emergencies_are_never_held_back_and_capacity_changes_move_the_reservation():
    env = Environment()
    pool = Pool(env, 4, "lead", "beds").reserve(0.25, open_priority=0)
    log: list = []
    for i in range(3):
        env.process(customer(env, pool, f"u{i}", log, service=10.0))
    env.process(customer(env, pool, "emergency", log, service=10.0, priority=0))
    env.run(until=1)
    assert pool.in_use == 4
    pool.set_capacity(8)
    assert pool.reserved == 2
    pool.set_capacity(1)
    assert pool.reserved == 0


def test_a_reserved_request_reneges_and_the_monitors_count_every_user():
    env, pool = _reserved(capacity=2, share=0.5)
    log: list = []
    env.process(customer(env, pool, "a", log, service=10.0))
    env.process(customer(env, pool, "g", log, service=10.0, flagged=True))
    env.process(customer(env, pool, "g2", log, service=1.0, flagged=True, patience=3.0))
    env.process(customer(env, pool, "b", log, service=1.0, patience=4.0))
    env.run(until=30)
    assert ("g2", "reneged", 3.0) in log and ("b", "reneged", 4.0) in log
    pool._touch()
    assert pool.busy_area == pytest.approx(20.0) and pool.queue_area == pytest.approx(3.0 + 4.0)
    assert pool.t_out - pool.t_in == pytest.approx(pool.busy_area + pool.queue_area)  # Little, all left


def test_a_plain_pool_keeps_its_class_and_code():
    env = Environment()
    pool = Pool(env, 4)
    assert type(pool) is Pool and Pool.try_acquire is not ReservedPool.try_acquire
    assert pool.reserve(0.5) is pool and type(pool) is ReservedPool


# ---------------------------------------------------------------------------- the lever in the model

# the mechanism checks are sized on the hand-written care file (its volumes and referral rates)
LONG = ("network=toy", "care=default", "run=test", "run.horizon_days=21", "run.warmup_days=0")


def _kpi(out, metric):
    k = out["kpis"]
    return float(k[(k["metric"] == metric) & (k["group"] == "county")]["value"].iloc[0])


@pytest.fixture(scope="module", params=[0, 1], ids=["rep0", "rep1"])
def on_off(request):
    """The toy county with a congested lead ward, the lever off and on, same seed and replication."""
    beds = ("network.facilities.lead.beds=25", "network.facilities.lead.initial_bed_occupancy=0.9")
    off = replicate(compose(*LONG, *beds), request.param)
    on = replicate(compose(*LONG, *beds, "levers.green_channel.enabled=true"), request.param)
    return off, on


def test_referred_patients_wait_less_at_the_lead_and_self_presenting_ones_not_less(on_off):
    off, on = on_off
    assert _kpi(on, "green_channel_patients") > 100 and _kpi(off, "green_channel_patients") == 0
    assert _kpi(on, "lead_wait_referred_mean_min") < _kpi(off, "lead_wait_referred_mean_min")
    assert _kpi(on, "lead_wait_self_mean_min") >= _kpi(off, "lead_wait_self_mean_min")
    assert _kpi(on, "lead_bed_wait_referred_mean_min") < _kpi(off, "lead_bed_wait_referred_mean_min")


def test_the_same_patients_arrive_with_the_lever_on(on_off):
    off, on = on_off
    cols = ["patient", "village", "condition", "onset"]
    a, b = off["tables"]["patients"], on["tables"]["patients"]
    assert len(a) == len(b) > 1000
    pd.testing.assert_frame_equal(a[cols].reset_index(drop=True), b[cols].reset_index(drop=True))


def test_green_channel_events_are_referrals_from_the_leads_own_members(on_off):
    _, on = on_off
    t = on["tables"]
    ev = t["lever_events"]
    g = ev[ev["event"].astype(str) == "green_channel"]
    assert set(g["site"].astype(str)) == {"lead"}
    referrers = {str(ev["site"].cat.categories[int(x)]) for x in g["value"]}
    assert referrers <= {"t1", "t2"} | {f"clinic:v{i}" for i in range(1, 7)} and "t1" in referrers
    v = t["visits"]
    at_lead = v[(v["facility"].astype(str) == "lead") & v["patient"].isin(g["patient"])]
    assert (at_lead["mode"].astype(str) == "referral").any()
    assert not (v[(v["facility"].astype(str) == "lead") & (v["mode"].astype(str) == "self")]["patient"]
                .isin(set(g["patient"]) - set(at_lead[at_lead["mode"].astype(str) == "referral"]["patient"]))).any()


def _run_world_with_far_homes(refer_back: bool):
    """Every village's 'near home' centre set to t2 for the run, so that a down-referral of a
    patient t1 referred shows whether it went back to t1 or to the centre near home."""
    cfg = compose(*LONG, "levers.green_channel.enabled=true", f"levers.green_channel.refer_back={str(refer_back).lower()}")
    for c in cfg.care.conditions.values():
        if c.admit_prob > 0:
            c.down_refer_prob = max(c.down_refer_prob, 0.6)
    w = World(cfg, 0)
    t2 = w.site_ids.index("t2")
    w.home = [t2] * len(w.home)
    w.run()
    return w, w.log.tables(w.site_ids, w.county.village_ids, w.cat.ids, w.specialties)


@pytest.mark.parametrize("refer_back", [True, False], ids=["refer-back", "home"])
def test_green_channel_patients_are_referred_back_to_the_centre_that_referred_them(refer_back):
    w, t = _run_world_with_far_homes(refer_back)
    ev = t["lever_events"]
    g = ev[ev["event"].astype(str) == "green_channel"]
    referrer = {int(p): str(ev["site"].cat.categories[int(x)]) for p, x in zip(g["patient"], g["value"])}
    v = t["visits"]
    down = v[(v["mode"].astype(str) == "down_referral") & v["patient"].isin(list(referrer))]
    by_t1 = down[[referrer[int(p)] == "t1" for p in down["patient"]]]
    assert len(by_t1) >= 5
    if refer_back:
        assert (by_t1["facility"].astype(str) == "t1").all()  # back to the referring centre
    else:
        assert (by_t1["facility"].astype(str) == "t2").all()  # to the centre near home
    others = down[[referrer[int(p)] != "t1" for p in down["patient"]]]
    # a patient t2 referred goes to t2 either way; one a village clinic referred, near home (t2)
    assert (others["facility"].astype(str) == "t2").all()


def test_referred_back_kpi_counts_the_down_referrals_to_the_referrer():
    cfg = compose(*LONG, "levers.green_channel.enabled=true")
    for c in cfg.care.conditions.values():
        if c.admit_prob > 0:
            c.down_refer_prob = max(c.down_refer_prob, 0.6)
    out = replicate(cfg, 0)
    assert _kpi(out, "referred_back") > 10
    assert _kpi(out, "referred_back") <= _kpi(out, "down_referrals")


# ---------------------------------------------------------------------------- the lever off


def test_off_the_lever_changes_nothing_whatever_its_settings():
    base = replicate(compose("network=toy", "run=test"), 0)
    cfg = compose("network=toy", "run=test", "levers.green_channel.reserved_doctor_share=0.9",
                  "levers.green_channel.reserved_bed_share=0.9", "levers.green_channel.sites=[lead]")
    w = World(cfg, 0)
    assert w.hooks.queue_doctor is None and w.hooks.queue_bed is None and w.hooks.down_target is None
    assert all(type(p) is Pool for p in w.pools())
    got = replicate(cfg, 0)
    for name in ("patients", "visits", "admissions", "emergency", "lever_events"):
        pd.testing.assert_frame_equal(got["tables"][name], base["tables"][name])
    pd.testing.assert_frame_equal(got["occupancy"], base["occupancy"])
    assert _kpi(got, "green_channel_patients") == 0 and not math.isnan(_kpi(got, "lead_wait_self_mean_min"))


def test_on_the_lever_reserves_only_at_its_leads():
    w = World(compose("network=toy", "run=test", "levers.green_channel.enabled=true",
                      "levers.green_channel.sites=[lead]"), 0)
    lead = w.sites[w.site_ids.index("lead")]
    assert all(type(p) is ReservedPool for p in lead.doctors.values()) and type(lead.beds) is ReservedPool
    assert lead.doctors["general"].reserved == 0  # at night (t = 0) one general doctor: none reserved
    run_until(w.env, 10 * 60.0)  # Monday 10:00, day staffing
    assert lead.doctors["general"].capacity == 4 and lead.doctors["general"].reserved == 1  # ceil(0.1 x 4)
    assert lead.beds.reserved == 3  # ceil(0.05 x 60)
    for s, site in enumerate(w.sites):
        if site is not None and s != w.site_ids.index("lead"):
            assert all(type(p) is Pool for p in site.pools())
    assert w.hooks.queue_doctor is green_channel.queue_doctor


# ---------------------------------------------------------------------------- config


def _gc(**over):
    cfg = compose("network=toy", "run=test")
    cfg.levers.green_channel.enabled = True
    for k, v in over.items():
        setattr(cfg.levers.green_channel, k, v)
    return cfg


@pytest.mark.parametrize("over, key", [
    (dict(reserved_doctor_share=1.5), "levers.green_channel.reserved_doctor_share"),
    (dict(reserved_doctor_share=-0.1), "levers.green_channel.reserved_doctor_share"),
    (dict(reserved_bed_share=2.0), "levers.green_channel.reserved_bed_share"),
    (dict(reserved_bed_share=-1.0), "levers.green_channel.reserved_bed_share"),
    (dict(reserved_bed_share=math.nan), "levers.green_channel.reserved_bed_share"),
    (dict(sites=["nowhere"]), "levers.green_channel.sites[0]"),
    (dict(sites=["lead", "t1"]), "levers.green_channel.sites[1]"),  # a member, not a lead
])
def test_bad_green_channel_config_is_one_line_naming_the_key(over, key):
    with pytest.raises(ConfigError) as e:
        validate(_gc(**over))
    msg = str(e.value)
    assert msg.startswith(key + ":") and "\n" not in msg, msg


def test_bad_green_channel_override_fails_at_composition():
    with pytest.raises(ConfigError, match=r"^levers\.green_channel\.reserved_doctor_share: must be <= 1"):
        compose("network=toy", "run=test", "levers.green_channel.reserved_doctor_share=1.2")


def test_the_defaults_validate_and_every_lead_is_a_green_channel_lead():
    validate(_gc())
    w = World(_gc(), 0)
    assert [s for s, on in enumerate(w.green.on) if on] == [w.site_ids.index("lead")]
    assert np.array_equal(np.array(w.green.community[:w.F]) >= 0, np.array(w.tier[:w.F]) == 1)
