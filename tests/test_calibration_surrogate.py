"""The surrogate fit (issue 15): the response surface, its minimiser, the evaluation store that
makes a fit resumable, and the check run."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from calibration import Parameter, Settings, Target, fit
from calibration.fit import loss_of
from calibration.surrogate import fit_surface, minimise


def _quad(u: np.ndarray) -> np.ndarray:
    """Two 'targets' that are exact quadratics of three parameters (one interaction)."""
    x = np.atleast_2d(u) - 0.5
    a = 1.0 + 2.0 * x[:, 0] - 1.0 * x[:, 1] + 3.0 * x[:, 0] ** 2
    b = 0.5 - 0.7 * x[:, 2] + 1.5 * x[:, 1] * x[:, 2]
    return np.column_stack([a, b])


def test_surface_reproduces_an_exact_quadratic_and_its_minimum():
    from scipy.stats import qmc

    X = qmc.LatinHypercube(d=3, seed=1).random(40)
    s = fit_surface(X, _quad(X), ridge=1e-9)
    assert s.interactions                      # 40 points >= 1.5 x 10 coefficients
    Z = np.random.default_rng(2).random((25, 3))
    assert np.allclose(s.predict(Z), _quad(Z), atol=1e-5)
    assert np.all(s.loo_rmse < 1e-5)
    # the minimiser finds the known optimum of a loss built on it
    truth = np.array([0.3, 0.7, 0.6])
    targets = [Target("a", float(_quad(truth)[0, 0]), 0.01, "x", metric="episodes"),
               Target("b", float(_quad(truth)[0, 1]), 0.01, "x", metric="episodes")]
    u = minimise(lambda v: loss_of(s.predict(v), targets)[0], 3, [np.full(3, 0.5), X[0]])
    assert loss_of(_quad(u)[0], targets)[0] < 1e-3


def test_few_points_drop_interactions_and_noise_gives_an_honest_loo_error():
    rng = np.random.default_rng(3)
    X = rng.random((12, 3))
    Y = _quad(X) + rng.normal(0, 0.05, size=(12, 2))
    s = fit_surface(X, Y)
    assert not s.interactions and s.coef.shape == (7, 2)
    assert np.all(s.loo_rmse > 0.01)           # noise is not fitted away
    # a target the model could not compute at some points is fitted on the others
    Y[0, 1] = math.nan
    s2 = fit_surface(X, Y)
    assert np.isfinite(s2.predict(X[0])).all()


def _tiny(tmp_path, **kw) -> Settings:
    base = dict(network="toy", design_points=5, replications=1, horizon_days=3, warmup_days=1, rounds=1,
                check_replications=2, check_horizon_days=4, check_warmup_days=1, jobs=1, progress=False,
                profile_offsets=[0.2], output_dir=str(tmp_path / "fit"))
    base.update(kw)
    return Settings(**base)


SPACE = [Parameter("beta_lead", "care.choice.beta_tier[2]", -0.5, 2.0),
         Parameter("incidence_scale", "care.conditions.*.incidence_per_1000", 0.7, 1.4, transform="log",
                   mode="scale")]
TARGETS = [Target("grassroots", 0.6, 0.05, "x", metric="grassroots_visit_share_official"),
           Target("visits", 6.8, 0.7, "x", metric="visits_per_person_year"),
           Target("occupancy", 0.5, 0.2, "x", metric="bed_occupancy", group="tier2", weight=0.0)]


def test_surrogate_fit_runs_checks_and_resumes_to_the_same_result(tmp_path):
    """A fit stores every evaluation; a second fit with the same settings and folder runs no
    simulation and gives the same result; the check run reports its own CIs and how far the
    fit's runs were from it; a reported-only target (weight 0) adds nothing to the loss."""
    s = _tiny(tmp_path)
    first = fit(s, targets=TARGETS, space=SPACE)
    store = tmp_path / "fit" / "evaluations.jsonl"
    lines = store.read_text().splitlines()
    # design + surrogate round(s) + the check run, one line each
    assert len(lines) == len(first.evaluations) + 1
    assert len({json.loads(x)["key"] for x in lines}) == 2      # the fit's and the check's settings
    assert first.check is not None and first.check.sims.shape == (2, 3)
    tt = first.targets_table
    assert {"fit_simulated", "fit_vs_check", "ci_low", "ci_high"} <= set(tt.columns)
    assert tt.loc[tt["target"] == "occupancy", "loss_contribution"].iloc[0] == 0.0
    assert first.parameters_table["identifiability"].str.len().gt(0).all()
    again = fit(s, targets=TARGETS, space=SPACE)
    assert again.resumed == len(first.evaluations) and len(store.read_text().splitlines()) == len(lines)
    assert again.fitted == first.fitted
    assert again.targets_table.drop(columns=[]).equals(first.targets_table)
    # another horizon is another key: nothing is reused
    other = fit(_tiny(tmp_path, horizon_days=4, rounds=0, check_replications=0), targets=TARGETS, space=SPACE)
    assert other.resumed == 0


def test_an_interrupted_store_resumes_without_its_cut_line(tmp_path):
    s = _tiny(tmp_path, rounds=0, check_replications=0)
    full = fit(s, targets=TARGETS, space=SPACE)
    store = tmp_path / "fit" / "evaluations.jsonl"
    lines = store.read_text().splitlines()
    # keep two whole evaluations and half of the third, as a killed run leaves it
    store.write_text("\n".join(lines[:2]) + "\n" + lines[2][: len(lines[2]) // 2])
    again = fit(s, targets=TARGETS, space=SPACE)
    assert again.resumed == 2
    assert [e.loss for e in again.evaluations] == pytest.approx([e.loss for e in full.evaluations])
    assert [e.index for e in again.evaluations] == [e.index for e in full.evaluations]


def test_settings_refuse_a_bad_method_and_check_horizon():
    from calibration import CalibrationError

    with pytest.raises(CalibrationError, match="method"):
        Settings(method="grid").validate()
    with pytest.raises(CalibrationError, match="check_horizon_days"):
        Settings(check_replications=2, check_horizon_days=10, check_warmup_days=14).validate()
    assert Settings(network="xianghe").care_out_name == "xianghe_calibrated"
    assert Settings(network="xianghe").targets_name == "county_targets/xianghe.yaml"
