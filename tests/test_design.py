"""Warm-up (MSER-5) and the replications method."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.experiment.design import mser5, replications_needed, warmup_figure, warmup_from_occupancy


def test_mser5_finds_the_end_of_a_known_transient():
    rng = np.random.default_rng(0)
    y = np.r_[np.linspace(50, 100, 30), np.full(170, 100.0)] + rng.normal(0, 2, 200)
    cut, curve = mser5(y)
    # the transient ends at 30; MSER's curve is flat just after it, so allow a margin
    assert 25 <= cut <= 60
    assert curve[cut // 5] == curve.min()


def test_mser5_keeps_everything_for_a_stationary_series():
    rng = np.random.default_rng(1)
    cut, _ = mser5(rng.normal(10, 1, 300))
    assert cut <= 30


def test_mser5_refuses_too_short_series():
    with pytest.raises(ValueError):
        mser5(np.ones(10))


def test_warmup_from_occupancy_and_figure():
    days = np.arange(60)
    occ = pd.DataFrame({"facility": "lead", "resource": "beds", "day": np.tile(days, 2),
                        "in_use": np.tile(np.minimum(days * 5.0, 100.0), 2) + np.r_[np.zeros(60), np.ones(60)]})
    d, series = warmup_from_occupancy(occ, "lead")
    assert 15 <= d <= 25
    assert len(series) == 60
    fig = warmup_figure(series, d)
    assert fig.data[0].type == "scatter"


def test_replications_method_stops_at_the_requested_precision():
    cfg = sim.compose(["network=toy", "run.horizon_days=10", "run.warmup_days=2"])
    loose = replications_needed(cfg, "visits_per_person_year", rel_precision=0.2, jobs=1, max_replications=10)
    assert loose.reached and loose.replications == 3
    tight = replications_needed(cfg, "visits_per_person_year", rel_precision=0.01, jobs=1, max_replications=8)
    assert tight.replications >= loose.replications
    last = tight.trace.iloc[-1]
    assert (last["relative_precision"] <= 0.01) == tight.reached
