"""Content hashes of every output table of a fixed set of runs: the guard rail of refactors.

A refactor must change no result: ``scripts/record_output_hashes.py`` records, for the runs in
:data:`RUNS` (every bundled network, two seeds, a study with every lever, a restructuring),
the SHA-256 of each output table's columns, dtypes and values into
``tests/fixtures/output_hashes.json``; ``tests/test_output_hashes.py`` runs the same again and
compares.  A behaviour change (a fix, a new mechanism) re-records the file in the same commit,
saying why; a refactor never does.

The hash is of the table's content, not of its parquet bytes, so that a writer's metadata
(library versions, timestamps) does not count.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "output_hashes.json"
SHORT = ("run=test", "run.horizon_days=2", "run.warmup_days=0.5", "run.replications=2", "run.jobs=1")
NETWORKS = ("toy", "taobei", "xianghe", "qingbaijiang", "liuzhou", "qingdao")

#: name -> overrides of a plain run
RUNS: dict[str, list[str]] = {
    **{f"{n}_seed1": [f"network={n}", *SHORT, "run.seed=1"] for n in NETWORKS},
    "toy_seed2": ["network=toy", *SHORT, "run.seed=2"],
    "xianghe_seed2": ["network=xianghe", *SHORT, "run.seed=2"],
    "taobei_close_two": ["network=taobei", *SHORT, "restructure=taobei_close_two_smallest"],
    "taobei_doctors_down": ["network=taobei", *SHORT, "restructure=taobei_doctors_down"],
}
#: a study with every lever (expert visits, remote diagnosis with tele-ECG and MDT, both)
STUDY = {"name": "hashes", "baseline": "none",
         "scenarios": {"none": [], "expert": ["levers=expert_weekly"], "remote": ["levers=remote_full"],
                       "combined": ["levers=combined_weekly_full"], "xianghe_friday": ["levers=xianghe_friday",
                                                                                      "network=xianghe"]},
         "base_overrides": ["network=toy", *SHORT]}
TABLES = ("kpis", "summary", "occupancy", "sites", "villages", "conditions", "patients", "visits", "admissions",
          "emergency", "expert_visits", "remote_studies", "lever_events")


def table_digest(df: pd.DataFrame | None) -> str:
    """SHA-256 of a table's column names, dtypes and values (categoricals by codes and
    categories), independent of how it was stored."""
    if df is None:
        return "none"
    h = hashlib.sha256()
    h.update(json.dumps([str(c) for c in df.columns]).encode())
    h.update(json.dumps([str(df.index.name)] + [str(t) for t in df.dtypes]).encode())
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            h.update(json.dumps([str(x) for x in s.cat.categories]).encode())
            h.update(np.ascontiguousarray(s.cat.codes.to_numpy()).tobytes())
        elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            h.update(json.dumps([None if x is None or x != x else str(x) for x in s.tolist()]).encode())
        else:
            h.update(np.ascontiguousarray(s.to_numpy()).tobytes())
    if df.index.name is not None:
        h.update(json.dumps([str(x) for x in df.index.tolist()]).encode())
    return h.hexdigest()


def run_digests(result) -> dict[str, str]:
    return {t: table_digest(getattr(result, t, None)) for t in TABLES}


def compute_all() -> dict[str, dict[str, str]]:
    """Every run's and the study's table digests."""
    import sim

    out: dict[str, dict[str, str]] = {}
    for name, overrides in RUNS.items():
        out[name] = run_digests(sim.run(sim.compose(overrides), jobs=1))
    study = sim.define_study(STUDY["name"], STUDY["scenarios"], baseline=STUDY["baseline"],
                             base_overrides=STUDY["base_overrides"])
    with tempfile.TemporaryDirectory() as tmp:
        res = sim.run_study(study, folder=tmp, progress=False, brief=False)
        out["study"] = {t: table_digest(getattr(res, t)) for t in ("kpis", "summary", "differences")}
        for scen, run in res.runs.items():
            out[f"study/{scen}"] = run_digests(run)
    return out
