"""Validation: an open Jackson network, villages -> township centre -> lead hospital.

Three villages (Poisson streams, superposed) send every patient to the township centre: c1 = 2
doctors, exponential consult of 10 minutes (station 1, rho 0.75).  A known fraction p = 0.5
needs a bed; the township has none, so they are referred up to the lead hospital (0 road
minutes, open 24 h with constant staffing).  There a near-zero consult (50 doctors, 0.001
minutes) precedes station 2, the lead's ward: c2 = 2 beds, exponential stays of 18 minutes (rho 0.68),
waiting for a bed without limit.  By Burke's theorem and independent routing (the bed need is
drawn independently of everything else) the ward sees Poisson arrivals at the Jackson rate
p x lambda, and each station is an M/M/c queue at its own rate.  (The lead's ward is used
as station 2, not its doctors: a patient's consult multiplier is the same at every site, so
two consult stations in series would not have the independent service times Jackson needs.)

Per station the mean wait (visits: start - arrive at the township; admissions: admit -
request at the lead) and the mean sojourn (wait + service: end - arrive; discharge - request)
must match the M/M/c values, each in a t interval of 10 replication means at a family-wise
95% level (4 checks, Bonferroni), each interval narrower than +-30% of the wait.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import Dist
from tests.validation.reduction import DAY, condition, erlang_c, per_replication_mean, reduced_config, t_ci, window

VILLAGES = {"v1": 1000, "v2": 2000, "v3": 3000}
C1, SERVICE1 = 2, 10.0
C2, LOS_DAYS = 2, 0.0125       # a short stay (18 minutes): only the ratio to the consult matters
P_BED = 0.5
LAM = 0.15                      # patients per minute in total (rho1 = 0.75)
LEVEL = 1 - 0.05 / 4


def jackson_config():
    # the condition's incidence is per 1,000 people, so each village sends LAM x its population share
    total = sum(VILLAGES.values())
    cond = condition(LAM, town_minutes=SERVICE1, lead_minutes=0.001, admit_prob=P_BED,
                     los=Dist("exponential", LOS_DAYS, 1.0), population=total)
    return reduced_config({"only": cond}, town_doctors=C1, lead_doctors=50, lead_beds=C2, villages=VILLAGES,
                          horizon_days=40, warmup_days=2, replications=10, scenario="jackson")


@pytest.fixture(scope="module")
def jackson(jackson_run):
    return jackson_run


@pytest.mark.slow
def test_routing_follows_the_configured_probability(jackson):
    cfg, r = jackson
    v = r.visits
    town = window(v[v["facility"].astype(str) == "town"], "arrive", cfg)
    referred = (town["outcome"].astype(str) == "referred_up").mean()
    n = len(town)
    assert abs(referred - P_BED) < 4 * np.sqrt(P_BED * (1 - P_BED) / n)
    assert set(town["outcome"].astype(str)) <= {"treated", "referred_up"}
    # the villages' share of patients follows their population
    p = r.patients
    share = p["village"].astype(str).value_counts(normalize=True)
    for vid, pop in VILLAGES.items():
        assert share[vid] == pytest.approx(pop / sum(VILLAGES.values()), abs=0.01)


@pytest.mark.slow
def test_township_station_matches_mmc(jackson):
    cfg, r = jackson
    v = r.visits
    town = window(v[v["facility"].astype(str) == "town"], "arrive", cfg)
    reps = town["replication"].to_numpy()
    wait = (town["start"] - town["arrive"]).to_numpy()
    sojourn = (town["end"] - town["arrive"]).to_numpy()
    assert not np.isnan(sojourn).any()
    _, wq = erlang_c(C1, LAM, 1.0 / SERVICE1)
    for name, values, expected in (("wait", wait, wq), ("sojourn", sojourn, wq + SERVICE1)):
        lo, hi = t_ci(per_replication_mean(reps, values), LEVEL)
        assert lo <= expected <= hi, f"township mean {name} {expected:.2f} outside [{lo:.2f}, {hi:.2f}]"
        assert (hi - lo) / 2 < 0.3 * wq, "the CI is too wide to be informative"


@pytest.mark.slow
def test_lead_ward_matches_mmc_at_the_jackson_rate(jackson):
    cfg, r = jackson
    ad = r.admissions
    lead = window(ad[ad["facility"].astype(str) == "lead"], "request", cfg, tail_days=2)
    assert (lead["outcome"].astype(str) != "no_bed").all()
    assert not lead["admit"].isna().any(), "a bed request in the window was never granted"
    reps = lead["replication"].to_numpy()
    los = LOS_DAYS * DAY
    lam2 = P_BED * LAM
    _, wq = erlang_c(C2, lam2, 1.0 / los)
    wait = (lead["admit"] - lead["request"]).to_numpy()
    done = lead[lead["discharge"].notna()]
    assert len(done) > 0.99 * len(lead)
    sojourn_reps = done["replication"].to_numpy()
    sojourn = (done["discharge"] - done["request"]).to_numpy()
    for name, rr, values, expected in (("wait", reps, wait, wq), ("sojourn", sojourn_reps, sojourn, wq + los)):
        lo, hi = t_ci(per_replication_mean(rr, values), LEVEL)
        assert lo <= expected <= hi, f"lead ward mean {name} {expected:.2f} outside [{lo:.2f}, {hi:.2f}]"
        assert (hi - lo) / 2 < 0.3 * wq, "the CI is too wide to be informative"
