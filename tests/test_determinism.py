"""Reproducibility: same config and seed -> identical tables, in any process, with any worker
count and any PYTHONHASHSEED; and common random numbers across scenarios."""

from __future__ import annotations

import hashlib
import os
import subprocess
import textwrap

import numpy as np
import pytest
from pandas.testing import assert_frame_equal

import sim
from tests.conftest import PYTHON, ROOT, compose

TOY2 = ("network=toy", "run=test", "run.replications=2")


@pytest.fixture(scope="module")
def toy_twice():
    cfg = compose(*TOY2)
    return sim.run(cfg, jobs=1), sim.run(cfg, jobs=1)


def test_same_config_and_seed_give_identical_tables(toy_twice):
    a, b = toy_twice
    for table in ("kpis", "patients", "visits", "admissions", "emergency", "occupancy", "summary"):
        assert_frame_equal(getattr(a, table), getattr(b, table), check_exact=True, obj=table)
    assert a.meta["config_hash"] == b.meta["config_hash"]


def test_replications_differ_from_each_other(toy_twice):
    a, _ = toy_twice
    p = a.patients
    onset0 = p.loc[p["replication"] == 0, "onset"].to_numpy()
    onset1 = p.loc[p["replication"] == 1, "onset"].to_numpy()
    n = min(len(onset0), len(onset1))
    assert not np.any(onset0[:n] == onset1[:n])


def test_a_different_seed_gives_different_results(toy_twice):
    a, _ = toy_twice
    cfg = compose(*TOY2, "run.seed=12345")
    c = sim.run(cfg, jobs=1)
    with pytest.raises(AssertionError):
        assert_frame_equal(a.patients, c.patients, check_exact=True)
    ka = a.kpis.set_index(["replication", "metric", "group"])["value"]
    kc = c.kpis.set_index(["replication", "metric", "group"])["value"]
    # another seed gives other patients: other counts, or other rows (a group with no events in
    # one of them), or other values
    ka, kc = ka.sort_index(), kc.sort_index()
    assert (ka.loc[(0, "episodes", "county")] != kc.loc[(0, "episodes", "county")]
            or not ka.index.equals(kc.index)
            or not np.allclose(ka.to_numpy(), kc.to_numpy(), equal_nan=True))


def test_one_worker_and_two_workers_give_identical_results(toy_twice):
    a, _ = toy_twice
    cfg = compose(*TOY2)
    b = sim.run(cfg, jobs=2)
    for table in ("kpis", "patients", "visits", "occupancy"):
        assert_frame_equal(getattr(a, table), getattr(b, table), check_exact=True, obj=table)


def test_a_replication_is_the_same_alone_or_among_others(toy_twice):
    """Replication 1 does not depend on replication 0 having run first."""
    from sim.experiment.replication import replicate

    a, _ = toy_twice
    alone = replicate(compose(*TOY2), 1)
    k = a.kpis[a.kpis["replication"] == 1].reset_index(drop=True)
    assert_frame_equal(alone["kpis"], k, check_exact=True)


_SNIPPET = textwrap.dedent("""
    import hashlib, io, sys
    import sim
    cfg = sim.compose(["network=toy", "run=test", "run.replications=2"])
    r = sim.run(cfg, jobs=1)
    h = hashlib.sha256()
    for t in ("kpis", "patients", "visits"):
        h.update(getattr(r, t).to_csv(index=False, float_format="%.17g").encode())
    print(h.hexdigest())
""")


def _digest_in_subprocess(hashseed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    out = subprocess.run([PYTHON, "-c", _SNIPPET], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_results_do_not_depend_on_pythonhashseed(toy_twice):
    a, _ = toy_twice
    here = hashlib.sha256()
    for t in ("kpis", "patients", "visits"):
        here.update(getattr(a, t).to_csv(index=False, float_format="%.17g").encode())
    d1 = _digest_in_subprocess("1")
    d2 = _digest_in_subprocess("987654")
    assert d1 == d2 == here.hexdigest()


# ---------------------------------------------------------------------------- common random numbers

ARRIVAL_COLUMNS = ["replication", "patient", "village", "condition", "onset"]


def test_a_supply_lever_leaves_the_arrival_stream_identical(toy_twice):
    base, _ = toy_twice
    cfg = compose(*TOY2, "network.facilities.t1.doctors.general=6", "network.facilities.lead.beds=20",
                  "care.behaviour.closed_policy=elsewhere")
    lever = sim.run(cfg, jobs=1)
    assert_frame_equal(base.patients[ARRIVAL_COLUMNS], lever.patients[ARRIVAL_COLUMNS], check_exact=True)
    # ... while what happens to those patients does change
    with pytest.raises(AssertionError):
        assert_frame_equal(base.visits, lever.visits, check_exact=True)


def test_a_choice_lever_keeps_the_patients_and_their_draws(toy_twice):
    base, _ = toy_twice
    cfg = compose(*TOY2, "care.choice.beta_travel_per_hour=-6")
    lever = sim.run(cfg, jobs=1)
    assert_frame_equal(base.patients[ARRIVAL_COLUMNS], lever.patients[ARRIVAL_COLUMNS], check_exact=True)
    # first choices move only in one direction per patient (inverse CDF on the same uniform):
    # the share going to the far tertiary node cannot rise
    far_base = (base.patients["first_facility"].astype(str) == "city").sum()
    far_lever = (lever.patients["first_facility"].astype(str) == "city").sum()
    assert far_lever <= far_base


def test_a_demand_lever_changes_the_arrival_stream(toy_twice):
    base, _ = toy_twice
    cfg = compose(*TOY2, "care.conditions.minor_illness.incidence_per_1000=5000")
    more = sim.run(cfg, jobs=1)
    assert len(more.patients) > len(base.patients)
    # other villages' streams are untouched by changing one village's population
    cfg = compose(*TOY2, "network.villages.v1.population=4800")
    bigger = sim.run(cfg, jobs=1)
    others = lambda p: p.loc[p["village"].astype(str) != "v1", ["replication", "village", "condition", "onset"]]  # noqa: E731
    assert_frame_equal(others(base.patients).reset_index(drop=True), others(bigger.patients).reset_index(drop=True),
                       check_exact=True)
    assert (bigger.patients["village"].astype(str) == "v1").sum() > (base.patients["village"].astype(str) == "v1").sum()


def test_kpis_table_shape(toy_twice):
    a, _ = toy_twice
    assert list(a.kpis.columns) == ["scenario", "replication", "metric", "group", "value"]
    assert set(a.kpis["replication"]) == {0, 1}
    assert not a.kpis.duplicated(["scenario", "replication", "metric", "group"]).any()
