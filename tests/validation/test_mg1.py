"""Validation: M/G/1 mean wait (Pollaczek-Khinchine) with a lognormal consult.

One doctor (c = 1), consult lognormal with mean 10 minutes and cv 1.5, Poisson arrivals at
rho = 0.7: Wq = lam E[S^2] / (2 (1 - rho)) = rho m (1 + cv^2) / (2 (1 - rho)) = 37.9 minutes,
against 23.3 for an exponential consult.  The t interval of 10 replication means (80 days
after a 3-day warm-up each) must hold the P-K value at 95%, be narrower than +-20%, and
exclude the M/M/1 value (the check sees the consult's variability, not just its mean).
"""

from __future__ import annotations

import pytest

import sim
from tests.validation.reduction import (
    condition,
    erlang_c,
    per_replication_mean,
    pollaczek_khinchine,
    reduced_config,
    t_ci,
    visit_waits,
)


def test_pollaczek_khinchine_reduces_to_mm1():
    assert pollaczek_khinchine(0.08, 10.0, 1.0) == pytest.approx(erlang_c(1, 0.08, 0.1)[1])
    assert pollaczek_khinchine(0.08, 10.0, 0.0) == pytest.approx(erlang_c(1, 0.08, 0.1)[1] / 2)


@pytest.mark.slow
def test_mg1_lognormal_consult_matches_pollaczek_khinchine():
    rho, service, cv = 0.7, 10.0, 1.5
    lam = rho / service
    cfg = reduced_config({"only": condition(lam, town_minutes=service, consult_dist="lognormal", consult_cv=cv)},
                         town_doctors=1, horizon_days=80, warmup_days=3, replications=10, scenario="mg1")
    result = sim.run(cfg, jobs=1)
    reps, wait = visit_waits(result, cfg)
    mean_wait = per_replication_mean(reps, wait)
    wq = pollaczek_khinchine(lam, service, cv)
    lo, hi = t_ci(mean_wait, 0.95)
    assert lo <= wq <= hi, f"P-K Wq {wq:.1f} min outside the CI [{lo:.1f}, {hi:.1f}]"
    assert (hi - lo) / 2 < 0.2 * wq, "the CI is too wide to be informative"
    mm1 = erlang_c(1, lam, 1.0 / service)[1]
    assert not lo <= mm1 <= hi, "the CI cannot tell a lognormal consult from an exponential one"
