"""Validation: Little's law on every resource of a bundled county run.

For every pool (doctors by kind, beds, diagnostic equipment, ambulances, lever pools such as
reading centres), over the run [0, T]: the time-average number in the pool (in use plus
queueing, from the pool's time-weighted monitors ``busy_area + queue_area``) equals the
arrival rate (requests, plus the beds warm-started occupied, over T) times the mean time in
the pool (request to release or renege, the users still inside at T counted up to T, from
the per-request entry/exit sums ``t_in``/``t_out``).  On a finite horizon with the censored
times counted this is an exact sample-path identity, so the tolerance is floating-point
only: it fails if any path through the model changes ``in_use``/``waiting`` without a
matching request, release or renege (a leaked or doubly released unit, a lost reneger).

A second check ties the monitors to the per-patient records: with no warm-started beds, the
beds in use integrated over [0, T] at each facility equal the admissions table's bed-minutes
(admit to discharge, or to T), and the bed-days :func:`sim.analysis.kpis.price` charges for; the
table has exactly one row per bed request and one admission per grant.  The identity is
exact (floating-point tolerance) with the bed transfers on as well as off: a deteriorating
tier-1 inpatient's lead bed and a down-referred inpatient's tier-1 bed are held from the
grant, through the ambulance or road transfer, and their admission rows start at the grant
(``admit``), with ``request`` when the wait for that bed began while the patient still held
the bed they were leaving.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis.kpis import price
from sim.county.calendar import DAY
from sim.experiment.replication import conditions_table, sites_table
from sim.model.world import World, occupancy_table
from tests.conftest import compose

RUNS = [pytest.param(("network=toy", "run=test", "run.horizon_days=14"), id="toy"),
        pytest.param(("network=toy", "run=test", "run.horizon_days=14", "levers=combined_weekly_full"),
                     id="toy-levers"),
        pytest.param(("network=toy", "run=test", "run.horizon_days=14", "levers.green_channel.enabled=true",
                      "network.facilities.lead.beds=25"), id="toy-green-channel"),  # reserved pools
        pytest.param(("network=xianghe", "run=test", "run.horizon_days=4"), id="xianghe")]


def run_world(*overrides: str, cfg=None) -> World:
    cfg = cfg or compose(*overrides)
    w = World(cfg, 0)
    w.run()
    return w


@pytest.mark.slow
@pytest.mark.parametrize("overrides", RUNS)
def test_littles_law_on_every_pool(overrides):
    w = run_world(*overrides)
    T = w.horizon
    assert w.env.now == T
    pools = w.pools()
    assert len(pools) > 5
    checked = 0
    for p in pools:
        p._touch()
        granted = p.requests - p.reneged - p.waiting
        warm = p.served - granted
        assert warm >= 0, f"{p.facility}.{p.resource}: more grants than requests"
        if warm:
            assert p.resource == "beds", f"{p.facility}.{p.resource}: units in use without a request"
        entered = p.requests + warm
        inside = p.in_use + p.waiting
        assert 0 <= inside <= entered
        total_time = p.t_out + inside * T - p.t_in       # warm-started beds entered at t = 0
        L = (p.busy_area + p.queue_area) / T
        lam = entered / T
        W = total_time / entered if entered else 0.0
        assert L == pytest.approx(lam * W, rel=1e-9, abs=1e-9), \
            f"{p.facility}.{p.resource}: L = {L:.6f} but lambda W = {lam * W:.6f}"
        checked += entered > 0
    assert checked > 5
    # the daily occupancy table integrates to the same areas
    occ = occupancy_table(w)
    length = np.minimum(DAY, T - occ["day"].to_numpy() * DAY)
    area = ((occ["in_use"] + occ["queue"]) * length).groupby([occ["facility"], occ["resource"]]).sum()
    for p in pools:
        assert area[(p.facility, p.resource)] == pytest.approx(p.busy_area + p.queue_area, rel=1e-9, abs=1e-6)


#: bed transfers at meaningful rates: a fifth of tier-1 inpatients deteriorate and move up to
#: the lead (holding the tier-1 bed while they wait for a lead bed), and every down-referred
#: hospital inpatient needs a tier-1 bed (holding the hospital bed while waiting for it)
TRANSFERS_ON = ("care.behaviour.deterioration_prob=0.2", "care.behaviour.down_bed_share=1.0",
                "care.behaviour.max_up_wait_hours=4", "care.behaviour.max_block_hours=12")
DOWN_REFER_PROB = 0.5


@pytest.mark.slow
@pytest.mark.parametrize("transfers, green", [(False, False), (True, False), (True, True)],
                         ids=["transfers-off", "transfers-on", "transfers-on-green-channel"])
def test_bed_monitors_agree_with_the_admissions_records(transfers, green):
    cfg = compose("network=toy", "run=test", "run.horizon_days=14", *(TRANSFERS_ON if transfers else ()),
                  *(("levers.green_channel.enabled=true",) if green else ()))
    for f in cfg.network.facilities.values():
        f.initial_bed_occupancy = 0.0
    if transfers:
        for c in cfg.care.conditions.values():
            if c.admit_prob > 0:
                c.down_refer_prob = max(c.down_refer_prob, DOWN_REFER_PROB)
    else:
        cfg.care.behaviour.deterioration_prob = 0.0
        cfg.care.behaviour.down_bed_share = 0.0
    w = run_world(cfg=cfg)
    T = w.horizon
    tables = w.log.tables(w.site_ids, w.county.village_ids, w.cat.ids, w.specialties)
    ad = tables["admissions"]
    # bed-days as sim.analysis.kpis prices them (admit to discharge, or to T, per row)
    county = w.county
    priced = price(tables, sites_table(county), conditions_table(cfg), cfg.care.prices, T)["admissions"]
    bed_days = priced.groupby(ad["facility"].astype(str).to_numpy())["bed_days"].sum()
    seen = 0
    for site in w.sites:
        if site is None or site.beds is None:
            continue
        p = site.beds
        p._touch()
        rows = ad[ad["facility"].astype(str) == site.fid]
        admitted = rows[rows["admit"].notna()]
        bed_minutes = (admitted["discharge"].fillna(T).clip(upper=T) - admitted["admit"]).sum()
        assert p.busy_area == pytest.approx(bed_minutes, rel=1e-9, abs=1e-6), site.fid
        assert p.busy_area / DAY == pytest.approx(bed_days.get(site.fid, 0.0), rel=1e-9, abs=1e-9), site.fid
        # one row per bed request (granted, refused or still waiting), one admission per grant
        assert len(admitted) == p.served, site.fid
        assert len(rows) == p.requests, site.fid
        assert (rows["outcome"].astype(str) == "waiting").sum() == p.waiting, site.fid
        assert (admitted["discharge"].isna()).sum() == p.in_use, site.fid
        seen += len(admitted) > 0
    assert seen >= 2
    if transfers:
        # the transfers did happen, so the identity is tested on them
        ev = tables["lever_events"]["event"].astype(str)
        assert (ev == "deterioration_up").sum() >= 3
        tier = dict(zip(w.site_ids, w.tier, strict=True))
        down = tables["visits"][tables["visits"]["mode"].astype(str) == "down_referral"]
        to_bed = down[down["outcome"].astype(str) == "admitted"]
        assert len(to_bed) >= 3 and {tier[f] for f in to_bed["facility"].astype(str)} == {1}
        assert (ev == "deterioration_out").sum() + (ev == "down_bed_timeout").sum() >= 1
