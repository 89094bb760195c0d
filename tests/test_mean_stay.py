"""出院者平均住院日 (mean_stay_days): its steady-state form agrees with the mean of the stays
that ended, on a run long enough for the difference to vanish, and does not read short on a
short run as that mean does."""

from __future__ import annotations

import numpy as np
import pytest

import sim

DAY = 1440.0


def _completed_mean(res, tier: int, lo_day: float, hi_day: float) -> float:
    a = res.admissions
    t = a["facility"].astype(str).map(res.sites.set_index("site")["tier"]).to_numpy()
    adm, dis = a["admit"].to_numpy(dtype=float), a["discharge"].to_numpy(dtype=float)
    sel = (t == tier) & ~np.isnan(dis) & (adm >= lo_day * DAY) & (adm < hi_day * DAY)
    return float(((dis - adm)[sel] / DAY).mean())


def test_mean_stay_matches_the_completed_stays_of_a_long_run():
    res = sim.run(["network=toy", "care=default", "run=test", "run.horizon_days=150", "run.warmup_days=20",
                   "run.replications=1"], jobs=1)
    k = res.kpis.set_index(["metric", "group"])["value"]
    for tier in (1, 2):
        # stays that began well before the horizon have all ended: their mean is the true mean stay
        ref = _completed_mean(res, tier, 20, 110)
        assert k[("mean_stay_days", f"tier{tier}")] == pytest.approx(ref, rel=0.06)
    assert k[("mean_stay_days", "tier1")] < k[("mean_stay_days", "county")] < k[("mean_stay_days", "tier2")]


def test_mean_stay_does_not_read_short_on_a_short_run():
    long_ = sim.run(["network=toy", "care=default", "run=test", "run.horizon_days=120", "run.warmup_days=14",
                     "run.replications=1"], jobs=1)
    short = sim.run(["network=toy", "care=default", "run=test", "run.horizon_days=24", "run.warmup_days=14",
                     "run.replications=1"], jobs=1)
    ks = short.kpis.set_index(["metric", "group"])["value"]
    kl = long_.kpis.set_index(["metric", "group"])["value"]
    naive = _completed_mean(short, 2, 14, 24)           # the stays that ended within the short run
    truth = kl[("mean_stay_days", "tier2")]
    assert naive < 0.8 * truth                          # the naive mean is biased short ...
    assert ks[("mean_stay_days", "tier2")] == pytest.approx(truth, rel=0.25)   # ... the KPI is not


def test_mean_stay_is_nan_not_an_error_when_nobody_is_admitted():
    # an outpatient-only reduction (the queueing validations) has an empty admissions table
    from tests.validation.reduction import condition, reduced_config

    cfg = reduced_config({"only": condition(0.05, town_minutes=10.0)}, town_doctors=1, horizon_days=6,
                         warmup_days=1, replications=1, scenario="no_admissions")
    res = sim.run(cfg, jobs=1)
    assert len(res.admissions) == 0
    k = res.kpis.set_index(["metric", "group"])["value"]
    for grp in ("tier1", "tier2", "county"):
        assert np.isnan(k[("mean_stay_days", grp)])
