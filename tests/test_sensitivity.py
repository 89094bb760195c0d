"""Sensitivity analysis (issue 19): Morris and Sobol recover a planted dominant parameter and
rank a parameter with no effect last; the difference between two scenarios; bad configs.

The planted case (``scenarios/sensitivity/toy_travel.yaml``): the mean travel time to first
contact of the toy county depends strongly on the utility of an hour of travel (how far people
go to bypass), a little on the incidence multiplier (other patients, other choices), and not at
all on the yearly cost of a bed, which only the running cost reads.  Every point uses the same
seeds, so the bed cost moves the travel time by exactly nothing.
"""

from __future__ import annotations

import math

import pytest

from sim.config import ConfigError
from sim.sensitivity import load_sensitivity, run_sensitivity
from sim.sensitivity.config import apply_values, parse_path, resolve_parameters

SHORT = ["base_overrides=[network=toy,run=test,run.horizon_days=6,run.warmup_days=1]"]


@pytest.mark.slow
def test_morris_and_sobol_rank_the_planted_parameter_first_and_the_inert_one_last(tmp_path):
    s = load_sensitivity("toy_travel", SHORT)
    res = run_sensitivity(s, folder=tmp_path / "sens", jobs=1, progress=False)
    assert res.ranking()[0] == "beta_travel"
    assert res.ranking()[-1] == "cost_per_bed"
    m = res.morris.set_index("parameter")
    assert m.loc["cost_per_bed", "mu_star"] == 0.0 and m.loc["cost_per_bed", "sigma"] == 0.0
    assert m.loc["beta_travel", "mu_star"] > 5 * m.loc["incidence_scale", "mu_star"]
    t = res.tornado.set_index("parameter")
    assert t.loc["cost_per_bed", "span"] == 0.0 and t.loc["beta_travel", "span"] > 0
    # travelling costs more utility -> patients stay nearer home
    assert t.loc["beta_travel", "low_value"] < t.loc["beta_travel", "high_value"]
    so = res.sobol.set_index("parameter")
    assert list(so.index) == ["beta_travel", "incidence_scale"]  # the top two of the screening
    assert so.loc["beta_travel", "ST"] > so.loc["incidence_scale", "ST"]
    for name in ("points.parquet", "indices.parquet", "indices.csv", "morris.csv", "sobol.csv", "tornado.csv",
                 "sensitivity_brief.html", "sensitivity_brief.zh.html"):
        assert (res.folder / name).exists(), name
    zh = (res.folder / "sensitivity_brief.zh.html").read_text(encoding="utf-8")
    assert "出行时间偏好系数影响最大" in zh and "fig-tornado" in zh and "fig-sobol" in zh
    # a second run reads every point back
    again = run_sensitivity(s, folder=tmp_path / "sens", jobs=1, progress=False, brief=False)
    assert again.meta["replications_run"] == 0
    assert again.ranking() == res.ranking()


@pytest.mark.slow
def test_the_difference_between_two_scenarios(tmp_path):
    s = load_sensitivity("toy_travel", [*SHORT, 'compare.scenario=["restructure.operations=[{op: close, site: t1}]"]',
                                        "compare.label_en='close t1'", "sobol.top=0", "tornado=false",
                                        "morris.trajectories=2", "parameters.incidence_scale.lower=0.99",
                                        "parameters.incidence_scale.upper=1.01"])
    res = run_sensitivity(s, folder=tmp_path / "diff", jobs=1, progress=False)
    assert res.meta["compare"] is True
    # closing t1 lengthens first-contact travel at every point of the ranges: the ranking holds
    assert res.meta["sign"]["positive"] == 1.0 and res.meta["sign"]["negative"] == 0.0
    assert res.morris.set_index("parameter").loc["cost_per_bed", "mu_star"] == 0.0
    assert "the ranking of the two scenarios holds" in (res.folder / "sensitivity_brief.html").read_text()


def test_parameters_resolve_and_apply(make_cfg):
    cfg = make_cfg()
    s = load_sensitivity("toy_travel")
    paths = resolve_parameters(s.parameters, cfg)
    assert len(paths["incidence_scale"]) == len(cfg.care.conditions)
    out = apply_values(cfg, s.parameters, paths, {"incidence_scale": 2.0, "beta_travel": -1.0})
    c = next(iter(cfg.care.conditions))
    assert math.isclose(out.care.conditions[c].incidence_per_1000, 2 * cfg.care.conditions[c].incidence_per_1000)
    assert out.care.choice.beta_travel_per_hour == -1.0 and cfg.care.choice.beta_travel_per_hour != -1.0
    assert parse_path("care.choice.beta_tier[2]") == ["care", "choice", "beta_tier", 2]
    # the calibration space file is read as it is
    s2 = load_sensitivity("toy_travel", ["space=calibration/space.yaml"])
    assert {"beta_lead", "stay_away", "beta_travel"} <= set(s2.parameters)


def test_bad_sensitivity_config_is_one_line_naming_the_key(capsys, make_cfg):
    from sim.sensitivity.__main__ import main

    with pytest.raises(ConfigError, match=r"^sensitivity.kpi: 'travel' is not a KPI"):
        load_sensitivity("toy_travel", ["kpi=travel"])
    with pytest.raises(ConfigError, match=r"^sensitivity.sobol.n: a power of 2"):
        load_sensitivity("toy_travel", ["sobol.n=6"])
    with pytest.raises(ConfigError, match=r"^sensitivity.parameters.cost_per_bed.upper: must be > lower"):
        load_sensitivity("toy_travel", ["parameters.cost_per_bed.upper=1"])
    s = load_sensitivity("toy_travel", ["parameters.cost_per_bed.path=restructure.nosuch"])
    with pytest.raises(ConfigError, match=r"^sensitivity.parameters.cost_per_bed.path: restructure.nosuch is not"):
        resolve_parameters(s.parameters, make_cfg())
    assert main(["sensitivity=toy_travel", "sensitivity.replications=0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: sensitivity.replications: must be >= 1, got 0"
    assert main(["sensitivity=nosuch"]) == 2
    err = capsys.readouterr().err
    assert "available:" in err and "toy_travel" in err
