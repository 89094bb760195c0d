"""Patient-by-patient comparison of a scenario with its baseline under common random numbers.

Scenarios that do not change demand see exactly the same arriving patients (the same onset,
village and condition, drawn from the same named streams), so each patient of a scenario has
a twin in the baseline.  Comparing twins answers what a KPI count cannot: a lever "avoids" a
referral only for a patient who *was* referred up in the baseline and is not in the scenario;
a patient who would have gone to the lead hospital on their own is not an avoided referral.

Patients are matched on ``(onset, village, condition)``, not on patient numbers (a closed
centre's warm-start queue shifts the numbering).  Patients without a twin (a scenario that
changes demand) are counted as ``unmatched`` and left out of the other counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PAIRED_KPIS", "twins", "versus_baseline"]

DAY = 1440.0

#: the KPIs :func:`versus_baseline` returns (declared in :mod:`sim.analysis.registry`).
PAIRED_KPIS = ("avoided_referrals", "added_referrals", "kept_in_county_vs_baseline", "lost_to_county_vs_baseline",
               "unmatched_patients")

_KEY = ["onset", "village", "condition"]


def _episodes(p: pd.DataFrame, warm: float) -> pd.DataFrame:
    p = p[p["onset"].to_numpy() >= warm]
    return pd.DataFrame({"onset": p["onset"].to_numpy(), "village": p["village"].astype(str).to_numpy(),
                         "condition": p["condition"].astype(str).to_numpy(),
                         "up": p["up_referrals"].to_numpy().astype(np.int64) > 0,
                         "out": p["exit"].astype(str).to_numpy() == "transferred_out"})


def twins(baseline: pd.DataFrame, scenario: pd.DataFrame, warmup_days: float) -> tuple[pd.DataFrame, int]:
    """The post-warm-up episodes of one replication with their baseline twins: columns
    ``up_base, up, out_base, out``; and the number of episodes without a twin (either side)."""
    warm = warmup_days * DAY
    b, s = _episodes(baseline, warm), _episodes(scenario, warm)
    m = b.merge(s, on=_KEY, how="outer", suffixes=("_base", ""), indicator=True)
    both = m[m["_merge"] == "both"]
    unmatched = int((m["_merge"] != "both").sum())
    return both[["up_base", "up", "out_base", "out"]].astype(bool).reset_index(drop=True), unmatched


def versus_baseline(baseline: pd.DataFrame, scenario: pd.DataFrame, warmup_days: float) -> dict[str, float]:
    """Counts for one replication of a scenario against the same replication of the baseline.

    - ``avoided_referrals``: episodes referred up in the baseline and not in the scenario;
    - ``added_referrals``: episodes referred up in the scenario and not in the baseline;
    - ``kept_in_county_vs_baseline``: episodes that left the county in the baseline and not in
      the scenario; ``lost_to_county_vs_baseline`` the other way round;
    - ``unmatched_patients``: episodes without a twin (the scenario changed demand).

    >>> base = pd.DataFrame({"onset": [1e6, 2e6], "village": ["v", "v"], "condition": ["x", "x"],
    ...                      "up_referrals": [1, 0], "exit": ["completed", "completed"]})
    >>> lever = base.assign(up_referrals=[0, 0])
    >>> versus_baseline(base, lever, 0)["avoided_referrals"]
    1.0
    """
    t, unmatched = twins(baseline, scenario, warmup_days)
    return {"avoided_referrals": float((t["up_base"] & ~t["up"]).sum()),
            "added_referrals": float((~t["up_base"] & t["up"]).sum()),
            "kept_in_county_vs_baseline": float((t["out_base"] & ~t["out"]).sum()),
            "lost_to_county_vs_baseline": float((~t["out_base"] & t["out"]).sum()),
            "unmatched_patients": float(unmatched)}
