"""Validation against queueing theory: the model reduced to an M/M/c queue.

One village sits at a township centre (road of 0 minutes, no village clinic).  The township
has ``c`` general doctors around the clock (day and night staff equal, open 00:00-24:00 every
day), the choice model always picks it, and the single condition is managed there with an
exponential consult of mean ``1/mu``, no tests, no admission, no balking and (practically)
infinite patience.  Arrivals are Poisson with a flat profile.  The mean wait in queue and the
probability of waiting must then match the Erlang-C formulas, which are computed here from
scratch.

For each case, R independent replications give R means of ``start - arrive`` over the visits
arriving after the warm-up; the analytic value must lie in the t confidence interval of those
means.  There are two checks per case, so the intervals are Bonferroni-adjusted to a
*family-wise* 95% level (each at 1 - 0.05 / number of checks): with plain 95% intervals a
correct model would fail one of the eight checks about a third of the time.  Every interval must
also be narrow enough to reject an error of 30%, so the test has power.  The seed is fixed and
was not tuned.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.config import (
    Behaviour,
    CareConfig,
    ChoiceModel,
    Condition,
    Config,
    Facility,
    Hours,
    NetworkConfig,
    Profiles,
    Road,
    RunConfig,
    Village,
    validate,
)
from tests.validation.reduction import DAY, erlang_c, t_ci


def test_erlang_c_formula_known_values():
    # M/M/1: P(wait) = rho, Wq = rho / (mu - lam)
    p, wq = erlang_c(1, 0.8, 1.0)
    assert p == pytest.approx(0.8) and wq == pytest.approx(4.0)
    # M/M/2 with a = 1 (rho 0.5): C = 1/3, Wq = C / (2 mu - lam) = 1/3
    p, wq = erlang_c(2, 1.0, 1.0)
    assert p == pytest.approx(1 / 3) and wq == pytest.approx(1 / 3)


def mmc_config(c: int, rho: float, service_min: float, horizon_days: float, warmup_days: float,
               replications: int, seed: int) -> Config:
    mu = 1.0 / service_min
    lam_per_hour = rho * c * mu * 60.0
    population = 1000
    incidence = lam_per_hour * 8760.0          # per 1,000 people per year
    always = Hours(open_hour=0.0, close_hour=24.0, days=list(range(7)), weekend_share=1.0)
    net = NetworkConfig(
        name="mmc",
        villages={"v": Village(name="v", x_km=0.0, y_km=0.0, population=population, clinic_doctors=0)},
        facilities={
            "town": Facility(name="town", kind="township", tier=1, x_km=0.0, y_km=0.0, lead="lead",
                             doctors={"general": c}, night_doctors={"general": c}, hours=always),
            "lead": Facility(name="lead", kind="lead", tier=2, x_km=20.0, y_km=0.0, doctors={"general": 1},
                             night_doctors={"general": 1}),
            "city": Facility(name="city", kind="tertiary", tier=3, x_km=100.0, y_km=0.0, doctors={"general": 1}),
        },
        roads=[Road("v", "town", 0.0), Road("town", "lead", 30.0), Road("lead", "city", 60.0)],
    )
    care = CareConfig(
        name="mmc",
        conditions={"only": Condition(incidence_per_1000=incidence, min_tier=0, diagnostics=[],
                                      consult_minutes=[service_min] * 4, consult_dist="exponential",
                                      consult_cv=1.0, admit_prob=0.0, priority=2, profile="outpatient")},
        choice=ChoiceModel(beta_tier=[0.0, 30.0, -30.0, -30.0], beta_travel_per_hour=0.0, beta_cost_per_100=0.0,
                           beta_capable=0.0, perception_noise=0.0, tier1_options=1, include_tertiary=False),
        behaviour=Behaviour(patience_hours=[1e9, 1e9, 1e9], renege_go_up_prob=0.0, balk_queue=0),
        profiles=Profiles(outpatient_hourly=[1.0] * 24, emergency_hourly=[1.0] * 24, weekday=[1.0] * 7),
    )
    cfg = Config(scenario=f"mmc_c{c}_rho{rho}", network=net, care=care,
                 run=RunConfig(name="mmc", horizon_days=horizon_days, warmup_days=warmup_days,
                               replications=replications, seed=seed, jobs=1))
    validate(cfg)
    return cfg


def replication_means(result: sim.RunResult, cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """Per replication: mean wait and share waiting, over visits arriving in [warm-up, horizon - 1 day)."""
    v = result.visits
    assert set(v["facility"].astype(str)) == {"town"}, "the choice model must always pick the township"
    assert (result.patients["exit"].astype(str).isin(["completed", "in_system"])).all()
    lo, hi = cfg.run.warmup_days * DAY, (cfg.run.horizon_days - 1) * DAY
    v = v[(v["arrive"] >= lo) & (v["arrive"] < hi)]
    wait = (v["start"] - v["arrive"]).to_numpy()
    assert not np.isnan(wait).any(), "a visit in the window never started: the window is too close to the end"
    assert (wait >= 0).all()
    g = v.assign(wait=wait, waited=wait > 0).groupby("replication")
    return g["wait"].mean().to_numpy(), g["waited"].mean().to_numpy()


CASES = [
    # c, rho, horizon_days
    pytest.param(1, 0.5, 30, id="c1-rho0.5"),
    pytest.param(1, 0.8, 60, id="c1-rho0.8"),
    pytest.param(2, 0.8, 50, id="c2-rho0.8"),
    pytest.param(4, 0.85, 40, id="c4-rho0.85"),
]
#: two checks (Wq and P(wait > 0)) per case, family-wise 95%
LEVEL = 1 - 0.05 / (2 * len(CASES))


@pytest.mark.parametrize("c, rho, horizon", CASES)
def test_mmc_wait_matches_erlang_c(c, rho, horizon):
    service = 10.0
    reps = 10
    cfg = mmc_config(c, rho, service, horizon_days=horizon, warmup_days=2, replications=reps, seed=20240611)
    result = sim.run(cfg, jobs=1)
    p_wait, wq = erlang_c(c, rho * c / service, 1.0 / service)
    mean_wait, share_waiting = replication_means(result, cfg)
    assert len(mean_wait) == reps

    lo, hi = t_ci(mean_wait, LEVEL)
    assert lo <= wq <= hi, f"Erlang-C Wq {wq:.2f} min outside the CI [{lo:.2f}, {hi:.2f}]"
    assert (hi - lo) / 2 < 0.3 * wq, "the CI is too wide to be informative"
    lo, hi = t_ci(share_waiting, LEVEL)
    assert lo <= p_wait <= hi, f"Erlang-C P(wait>0) {p_wait:.3f} outside the CI [{lo:.3f}, {hi:.3f}]"
    assert (hi - lo) / 2 < 0.3 * p_wait, "the CI is too wide to be informative"
