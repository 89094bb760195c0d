"""Validation: Erlang-C at high load (rho = 0.95), the case ``test_erlang_c.py`` does not cover.

Same M/M/c reduction (``reduction.py``): c = 2 doctors, exponential consult of 10 minutes,
Poisson arrivals at rho = 0.95.  Near saturation the wait is very sensitive (Wq grows like
1 / (1 - rho): a 1% error in the arrival or service rate moves it by ~20-25%) and its time
average converges slowly (relaxation time ~ 1 / (c mu (1 - sqrt(rho))^2), about 5.5 days
here), so the run is long: 10 replications of 120 days after a 10-day warm-up (~1.8 relaxation
times; ~300,000 patients).  Two checks (Wq and P(wait > 0)), family-wise 95%; the Wq interval
must be narrower than +-25% (it rejects a 1% rate error), the P(wait) one than +-5%.
"""

from __future__ import annotations

import pytest

import sim
from tests.validation.reduction import condition, erlang_c, per_replication_mean, reduced_config, t_ci, visit_waits

LEVEL = 1 - 0.05 / 2


@pytest.mark.slow
def test_mmc_at_rho_095_matches_erlang_c():
    c, rho, service = 2, 0.95, 10.0
    lam = rho * c / service
    cfg = reduced_config({"only": condition(lam, town_minutes=service)}, town_doctors=c, horizon_days=120,
                         warmup_days=10, replications=10, seed=20240611, scenario="mmc_high_load")
    result = sim.run(cfg, jobs=1)
    assert set(result.visits["facility"].astype(str)) == {"town"}
    reps, wait = visit_waits(result, cfg)
    p_wait, wq = erlang_c(c, lam, 1.0 / service)
    mean_wait = per_replication_mean(reps, wait)
    share = per_replication_mean(reps, (wait > 0).astype(float))
    lo, hi = t_ci(mean_wait, LEVEL)
    assert lo <= wq <= hi, f"Erlang-C Wq {wq:.1f} min outside the CI [{lo:.1f}, {hi:.1f}]"
    assert (hi - lo) / 2 < 0.25 * wq, "the CI is too wide to be informative"
    lo, hi = t_ci(share, LEVEL)
    assert lo <= p_wait <= hi, f"Erlang-C P(wait>0) {p_wait:.3f} outside the CI [{lo:.3f}, {hi:.3f}]"
    assert (hi - lo) / 2 < 0.05 * p_wait, "the CI is too wide to be informative"
