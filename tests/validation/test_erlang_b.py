"""Validation: Erlang-B blocking of a bed ward with no waiting room (a loss system).

Every patient is seen at the township centre (many doctors, a near-zero consult: the flow of
bed requests is the Poisson arrival stream itself, the output of an M/G/infinity stage) and
needs a bed there; ``care.behaviour.bed_wait_max_hours: 0`` makes a patient who finds every
bed taken blocked at once (referred up).  Blocking = share of the township's admission
requests (arriving in the window) with outcome ``no_bed``; Erlang-B is insensitive to the
length-of-stay distribution, so it is checked with exponential and lognormal (cv 1.5) stays.
R replications give R blocking shares; Erlang-B must lie in their t interval at a family-wise
95% level (Bonferroni over the cases), and each interval must be narrower than 10% of the
blocking probability.
"""

from __future__ import annotations

import numpy as np
import pytest
import simpy

import sim
from sim.config import Dist
from sim.engine.kernel import Pool
from tests.validation.reduction import DAY, condition, erlang_b, per_replication_mean, reduced_config, t_ci, window

BEDS, LOAD, LOS_DAYS = 4, 3.0, 0.05
CASES = [pytest.param("exponential", 1.0, id="exponential-stay"), pytest.param("lognormal", 1.5, id="lognormal-stay")]
LEVEL = 1 - 0.05 / len(CASES)


def test_erlang_b_formula_known_values():
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)      # (1/2) / (1 + 1 + 1/2)
    assert erlang_b(4, 3.0) == pytest.approx((81 / 24) / (1 + 3 + 4.5 + 4.5 + 81 / 24))


def test_zero_patience_blocks_at_once_and_never_queues():
    """A request with patience 0 that finds no free unit is refused now: a unit released later
    at the same instant is not handed to it, and it never shows in the queue."""
    env = simpy.Environment()
    pool = Pool(env, 1, "town", "beds")
    assert pool.try_acquire()
    got = {}

    def blocked():
        yield env.timeout(5)
        release = env.timeout(0)             # the unit is freed at t = 5, just after the request
        release.callbacks.append(lambda _e: pool.release())
        ev = pool.request_with_patience(2, 0.0)
        assert pool.waiting == 0
        got["blocked"] = yield ev
        got["t"] = env.now

    env.process(blocked())
    env.run(until=6)

    def free():
        got["free"] = yield pool.request_with_patience(2, 0.0)

    env.process(free())
    env.run(until=7)
    pool.close_monitors()
    assert got == {"blocked": False, "t": 5, "free": True}
    assert pool.queue_area == 0.0
    assert (pool.requests, pool.served, pool.reneged) == (3, 2, 1)   # try_acquire counts too


@pytest.mark.slow
@pytest.mark.parametrize("dist, cv", CASES)
def test_bed_blocking_matches_erlang_b(dist, cv):
    lam = LOAD / (LOS_DAYS * DAY)
    cfg = reduced_config({"only": condition(lam, town_minutes=0.001, admit_prob=1.0, los=Dist(dist, LOS_DAYS, cv))},
                         town_doctors=200, town_beds=BEDS, bed_wait_max_hours=0.0, horizon_days=40, warmup_days=1,
                         replications=10, scenario=f"erlang_b_{dist}")
    result = sim.run(cfg, jobs=1)
    ad = result.admissions
    ad = window(ad[ad["facility"].astype(str) == "town"], "request", cfg, tail_days=0)
    outcome = ad["outcome"].astype(str)
    assert not (outcome == "waiting").any(), "with bed_wait_max 0 nobody waits for a bed"
    blocked = (outcome == "no_bed").to_numpy().astype(float)
    share = per_replication_mean(ad["replication"].to_numpy(), blocked)
    assert len(share) == 10
    b = erlang_b(BEDS, LOAD)
    lo, hi = t_ci(share, LEVEL)
    assert lo <= b <= hi, f"Erlang-B {b:.4f} outside the CI [{lo:.4f}, {hi:.4f}]"
    assert (hi - lo) / 2 < 0.1 * b, "the CI is too wide to be informative"
    # a blocked patient was referred up: every no_bed request has a later visit at the lead
    v = result.visits
    lead_patients = set(zip(v.loc[v["facility"].astype(str) == "lead", "replication"],
                            v.loc[v["facility"].astype(str) == "lead", "patient"], strict=True))
    nb = ad[outcome == "no_bed"]
    assert set(zip(nb["replication"], nb["patient"], strict=True)) <= lead_patients
    assert np.all(ad.loc[outcome != "no_bed", "admit"].to_numpy() == ad.loc[outcome != "no_bed", "request"].to_numpy())
