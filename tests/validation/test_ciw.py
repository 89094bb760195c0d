"""Cross-check against the Ciw library: the Jackson network of ``test_jackson.py`` run in both.

The same network (Poisson arrivals at 0.15 a minute; station 1: 2 servers, exponential
service of 10 minutes; a share 0.5 routed on to station 2: 2 servers, exponential service of
18 minutes) is simulated by Ciw (independently written) for the same number of replications,
horizon and warm-up.  Waits are strongly autocorrelated, so each replication's waits (in
arrival order, arrivals in the window) are cut into consecutive batches whose means are close
to independent (a batch spans many relaxation times), and the two sets of batch means are
compared per station by a two-sample Kolmogorov-Smirnov test, at a family-wise 5% level (two
stations, Bonferroni).  The test has power: scaling the model's waits by 1.2 (a 20% error)
must be rejected at both stations.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tests.validation.reduction import DAY, window
from tests.validation.test_jackson import C1, C2, LAM, LOS_DAYS, P_BED, SERVICE1

ciw = pytest.importorskip("ciw")

ALPHA = 0.05 / 2
BATCH = {"town": 150, "lead": 75}


def batch_means(reps: np.ndarray, arrive: np.ndarray, wait: np.ndarray, size: int) -> np.ndarray:
    out = []
    for r in np.unique(reps):
        sel = reps == r
        w = wait[sel][np.argsort(arrive[sel], kind="stable")]
        n = len(w) // size
        out.append(w[: n * size].reshape(n, size).mean(axis=1))
    return np.concatenate(out)


def model_waits(cfg, result) -> dict[str, tuple]:
    v = result.visits
    town = window(v[v["facility"].astype(str) == "town"], "arrive", cfg)
    ad = result.admissions
    lead = window(ad[ad["facility"].astype(str) == "lead"], "request", cfg, tail_days=2)
    return {"town": (town["replication"].to_numpy(), town["arrive"].to_numpy(),
                     (town["start"] - town["arrive"]).to_numpy()),
            "lead": (lead["replication"].to_numpy(), lead["request"].to_numpy(),
                     (lead["admit"] - lead["request"]).to_numpy())}


def ciw_waits(cfg) -> dict[str, tuple]:
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=LAM), None],
        service_distributions=[ciw.dists.Exponential(rate=1 / SERVICE1),
                               ciw.dists.Exponential(rate=1 / (LOS_DAYS * DAY))],
        routing=[[0.0, P_BED], [0.0, 0.0]],
        number_of_servers=[C1, C2])
    out: dict[str, list] = {"town": [[], [], []], "lead": [[], [], []]}
    lo = cfg.run.warmup_days * DAY
    his = {"town": (cfg.run.horizon_days - 1) * DAY, "lead": (cfg.run.horizon_days - 2) * DAY}
    for r in range(cfg.run.replications):
        ciw.seed(1000 + r)
        q = ciw.Simulation(network)
        q.simulate_until_max_time(cfg.run.horizon_days * DAY)
        for rec in q.get_all_records():
            name = "town" if rec.node == 1 else "lead"
            if lo <= rec.arrival_date < his[name]:
                out[name][0].append(r)
                out[name][1].append(rec.arrival_date)
                out[name][2].append(rec.waiting_time)
    return {k: tuple(np.asarray(x) for x in v) for k, v in out.items()}


@pytest.mark.slow
def test_wait_distributions_match_ciw(jackson_run):
    cfg, result = jackson_run
    ours, theirs = model_waits(cfg, result), ciw_waits(cfg)
    for station, size in BATCH.items():
        a = batch_means(*ours[station], size)
        b = batch_means(*theirs[station], size)
        assert len(a) > 150 and len(b) > 150
        p = stats.ks_2samp(a, b).pvalue
        assert p > ALPHA, f"{station}: model and Ciw batch-mean waits differ (KS p = {p:.4f})"
        reps, arrive, wait = ours[station]
        p_wrong = stats.ks_2samp(batch_means(reps, arrive, 1.2 * wait, size), b).pvalue
        assert p_wrong < ALPHA, f"{station}: the test cannot see a 20% error in the waits (KS p = {p_wrong:.4f})"
