"""Shared helpers of the validation tests: the model reduced to queueing systems with known
answers, built directly from the config dataclasses, and the textbook formulas.

The reduction (as in ``test_erlang_c.py``): villages at 0 road minutes from one township
centre that is open around the clock with constant staffing; the choice model always picks
the township; a single condition (or a few) with a flat arrival profile (homogeneous Poisson
arrivals); no tests, balking or (practically) reneging; no deterioration, down-referral,
out-of-county stays (``beta_stay_away`` far below the others) or warm-started beds.  A lead hospital (also open 24 h, 0 minutes away) and the tertiary sink
complete the county.  Everything else is a keyword argument.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from sim.config import (
    Behaviour,
    CareConfig,
    ChoiceModel,
    Condition,
    Config,
    Dist,
    Facility,
    Hours,
    NetworkConfig,
    Profiles,
    Road,
    RunConfig,
    Village,
    validate,
)

DAY = 1440.0
ALWAYS = dict(open_hour=0.0, close_hour=24.0, days=list(range(7)), weekend_share=1.0)
HUGE_PATIENCE = [1e9, 1e9, 1e9]


# --------------------------------------------------------------------------- formulas

def erlang_c(c: int, lam: float, mu: float) -> tuple[float, float]:
    """(P(wait > 0), mean wait in queue) of an M/M/c queue."""
    a = lam / mu
    rho = a / c
    assert rho < 1
    top = a ** c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)
    return p_wait, p_wait / (c * mu - lam)


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of an M/G/c/c loss system with offered load ``a`` (Erlangs).

    >>> round(erlang_b(1, 1.0), 3), round(erlang_b(4, 3.0), 4)
    (0.5, 0.2061)
    """
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def pollaczek_khinchine(lam: float, mean: float, cv: float) -> float:
    """Mean wait in queue of an M/G/1 queue: lam E[S^2] / (2 (1 - rho))."""
    rho = lam * mean
    assert rho < 1
    return lam * mean * mean * (1 + cv * cv) / (2 * (1 - rho))


def t_ci(x, level: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean of independent replication values."""
    x = np.asarray(x, dtype=float)
    m = float(np.mean(x))
    h = float(stats.t.ppf(0.5 + level / 2, len(x) - 1)) * float(np.std(x, ddof=1)) / math.sqrt(len(x))
    return m - h, m + h


# --------------------------------------------------------------------------- configs

def incidence_for(rate_per_minute: float, population: int = 1000) -> float:
    """incidence_per_1000 (per year) giving ``rate_per_minute`` arrivals from ``population``."""
    return rate_per_minute * 60.0 * 8760.0 * 1000.0 / population


def condition(rate_per_minute: float, *, town_minutes: float = 10.0, lead_minutes: float = 10.0,
              consult_dist: str = "exponential", consult_cv: float = 1.0, min_tier: int = 1,
              admit_prob: float = 0.0, los: Dist | None = None, population: int = 1000) -> Condition:
    """A condition arriving at ``rate_per_minute`` from a village of ``population`` people."""
    return Condition(incidence_per_1000=incidence_for(rate_per_minute, population), min_tier=min_tier,
                     diagnostics=[], consult_minutes=[town_minutes, town_minutes, lead_minutes, lead_minutes],
                     consult_dist=consult_dist, consult_cv=consult_cv, admit_prob=admit_prob,
                     los_days=los or Dist("exponential", 1.0, 1.0), priority=2, profile="outpatient",
                     down_refer_prob=0.0, ambulance_prob=0.0)


def reduced_config(conditions: dict[str, Condition], *, town_doctors: int, town_beds: int = 0,
                   lead_doctors: int = 1, lead_beds: int = 0, villages: dict[str, int] | None = None,
                   bed_wait_max_hours: float = 1e6, horizon_days: float = 30, warmup_days: float = 2,
                   replications: int = 10, seed: int = 20240611, scenario: str = "reduction") -> Config:
    """The reduced county described in the module docstring (validated)."""
    villages = villages or {"v": 1000}
    net = NetworkConfig(
        name=scenario,
        villages={vid: Village(name=vid, x_km=float(i), y_km=0.0, population=pop, clinic_doctors=0)
                  for i, (vid, pop) in enumerate(villages.items())},
        facilities={
            "town": Facility(name="town", kind="township", tier=1, lead="lead", doctors={"general": town_doctors},
                             night_doctors={"general": town_doctors}, beds=town_beds, hours=Hours(**ALWAYS)),
            "lead": Facility(name="lead", kind="lead", tier=2, x_km=20.0, doctors={"general": lead_doctors},
                             night_doctors={"general": lead_doctors}, beds=lead_beds, hours=Hours(**ALWAYS)),
            "city": Facility(name="city", kind="tertiary", tier=3, x_km=100.0, doctors={"general": 1}),
        },
        roads=[*(Road(vid, "town", 0.0) for vid in villages), Road("town", "lead", 0.0), Road("lead", "city", 60.0)],
    )
    care = CareConfig(
        name=scenario,
        conditions=conditions,
        choice=ChoiceModel(beta_tier=[0.0, 30.0, -30.0, -30.0], beta_travel_per_hour=0.0, beta_cost_per_100=0.0,
                           beta_capable=0.0, perception_noise=0.0, tier1_options=1, include_tertiary=False,
                           beta_stay_away=-100.0),
        behaviour=Behaviour(patience_hours=HUGE_PATIENCE, renege_go_up_prob=0.0, balk_queue=0,
                            bed_wait_max_hours=bed_wait_max_hours, deterioration_prob=0.0, down_bed_share=0.0),
        profiles=Profiles(outpatient_hourly=[1.0] * 24, emergency_hourly=[1.0] * 24, weekday=[1.0] * 7),
    )
    cfg = Config(scenario=scenario, network=net, care=care,
                 run=RunConfig(name=scenario, horizon_days=horizon_days, warmup_days=warmup_days,
                               replications=replications, seed=seed, jobs=1))
    validate(cfg)
    return cfg


def window(df, column: str, cfg: Config, tail_days: float = 1.0):
    """Rows whose ``column`` time lies in [warm-up, horizon - tail_days)."""
    lo, hi = cfg.run.warmup_days * DAY, (cfg.run.horizon_days - tail_days) * DAY
    return df[(df[column] >= lo) & (df[column] < hi)]


def visit_waits(result, cfg: Config, facility: str = "town", tail_days: float = 1.0):
    """(replication, wait) of the visits at ``facility`` arriving in the window."""
    v = result.visits
    v = window(v[v["facility"].astype(str) == facility], "arrive", cfg, tail_days)
    wait = (v["start"] - v["arrive"]).to_numpy()
    assert not np.isnan(wait).any(), "a visit in the window never started: the window is too close to the end"
    assert (wait >= 0).all()
    return v["replication"].to_numpy(), wait


def per_replication_mean(reps: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = []
    for r in np.unique(reps):
        out.append(float(np.mean(values[reps == r])))
    return np.asarray(out)
