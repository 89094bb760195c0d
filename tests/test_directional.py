"""Directional checks under common random numbers: levers move KPIs the right way.

Each comparison pairs replication r of the lever with replication r of the baseline (same
seed, so the same patients arrive with the same draws).
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.config import Road
from sim.county.network import build_county
from tests.conftest import compose

DAY = 1440.0
RUN = ("network=toy", "run.horizon_days=14", "run.warmup_days=2", "run.replications=6", "run.jobs=1")


def mean_wait_at(result: sim.RunResult, facility: str) -> np.ndarray:
    """Per replication: mean wait of visits at ``facility`` that arrived after the warm-up and started."""
    v = result.visits
    warm = result.config.run.warmup_days * DAY
    v = v[(v["facility"].astype(str) == facility) & (v["arrive"] >= warm) & v["start"].notna()]
    w = (v["start"] - v["arrive"]).groupby(v["replication"]).mean()
    return w.reindex(range(result.config.run.replications)).to_numpy()


@pytest.fixture(scope="module")
def baseline() -> sim.RunResult:
    return sim.run(compose(*RUN), jobs=1)


def test_the_chosen_township_is_busy_in_the_baseline(baseline):
    util = baseline.kpis[(baseline.kpis["metric"] == "doctor_utilisation") & (baseline.kpis["group"] == "t1")]
    assert util["value"].mean() > 0.15
    assert np.all(mean_wait_at(baseline, "t1") > 1.0)   # minutes


def test_more_doctors_at_a_township_never_raise_its_mean_wait(baseline):
    more = sim.run(compose(*RUN, "network.facilities.t1.doctors.general=5"), jobs=1)
    before, after = mean_wait_at(baseline, "t1"), mean_wait_at(more, "t1")
    diff = after - before
    assert np.all(np.isfinite(diff))
    assert diff.mean() < 0
    assert (diff <= 0).sum() >= len(diff) - 1          # at most one replication not better
    assert after.mean() < 0.7 * before.mean()          # and the effect is material


def test_fewer_doctors_at_a_township_raise_its_mean_wait(baseline):
    fewer = sim.run(compose(*RUN, "network.facilities.t1.doctors.general=2"), jobs=1)
    diff = mean_wait_at(fewer, "t1") - mean_wait_at(baseline, "t1")
    assert diff.mean() > 0
    assert (diff >= 0).sum() >= len(diff) - 1


def close_township(cfg: sim.Config, closed: str) -> sim.Config:
    """Remove a township and its roads; its villages get a road to the nearest other tier-1 site."""
    net = cfg.network
    others = [f for f, fac in net.facilities.items() if fac.tier == 1 and f != closed]
    cut_off = sorted({(r.b if r.a == closed else r.a) for r in net.roads if closed in (r.a, r.b)} & set(net.villages))
    net.roads = [r for r in net.roads if closed not in (r.a, r.b)]
    del net.facilities[closed]
    for vid in cut_off:
        v = net.villages[vid]
        nearest = min(others, key=lambda f: (net.facilities[f].x_km - v.x_km) ** 2 + (net.facilities[f].y_km - v.y_km) ** 2)
        net.roads.append(Road(vid, nearest))
    sim.config.validate(cfg)
    return cfg


def test_closing_a_township_raises_travel_for_the_villages_that_used_it(baseline):
    closed_cfg = close_township(compose(*RUN), "t1")
    county = build_county(closed_cfg.network)
    assert "t1" not in county.facility_ids
    closed = sim.run(closed_cfg, jobs=1)
    assert not (closed.visits["facility"].astype(str) == "t1").any()

    p = baseline.patients
    share_t1 = (p["first_facility"].astype(str) == "t1").groupby(p["village"].astype(str)).mean()
    users = sorted(share_t1[share_t1 >= 0.2].index)
    assert users, "some villages must use t1 as first contact in the baseline"
    assert set(users) <= {"v1", "v2", "v3"}

    def travel(result):
        q = result.patients
        q = q[q["village"].astype(str).isin(users) & (q["onset"] >= 2 * DAY)]
        return q.groupby("replication")["travel_min"].mean().to_numpy()

    before, after = travel(baseline), travel(closed)
    assert np.all(after > before)
    # villages far from t1 are (nearly) unaffected: no new travel burden on them
    def travel_far(result):
        q = result.patients
        q = q[q["village"].astype(str).isin(["v4", "v5", "v6"]) & (q["onset"] >= 2 * DAY)]
        return q.groupby("replication")["travel_min"].mean().to_numpy()

    assert np.abs(travel_far(closed) - travel_far(baseline)).mean() < 0.25 * (after - before).mean()


def test_closing_a_township_preserves_the_arrival_stream(baseline):
    closed = sim.run(close_township(compose(*RUN), "t1"), jobs=1)
    cols = ["replication", "village", "condition", "onset"]
    a = baseline.patients[cols].astype({"village": str, "condition": str}).reset_index(drop=True)
    b = closed.patients[cols].astype({"village": str, "condition": str}).reset_index(drop=True)
    assert a.equals(b)
