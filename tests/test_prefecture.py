"""A study over several counties at once (``scenarios/study/prefecture.yaml``): each county is a
scenario on its own network; scenarios on another county's network than the baseline's are
reported as levels, never as paired differences (their patients are other people)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.analysis.paired import PAIRED_KPIS
from sim.config import StudyConfig
from sim.experiment.study import compose_study, load_study, run_study

ROOT = Path(__file__).resolve().parent.parent
SHORT = ["run=test", "run.horizon_days=1", "run.warmup_days=0.25", "run.replications=2"]


def test_a_study_across_counties_compares_only_within_the_baselines_county(tmp_path):
    study = StudyConfig(name="two_counties", baseline="toy",
                        scenarios={"toy": ["network=toy"],
                                   "toy_more_doctors": ["network=toy", "network.facilities.t1.doctors.general=6"],
                                   "xianghe": ["network=xianghe"]})
    res = run_study(study, SHORT, folder=tmp_path, jobs=1, progress=False, brief=False)
    # every county's levels are there...
    assert set(res.summary["scenario"].astype(str)) == {"toy", "toy_more_doctors", "xianghe"}
    # ...but a difference only for the scenario on the baseline's network, and no paired KPI for the other county
    assert set(res.differences["scenario"].astype(str)) == {"toy_more_doctors"}
    paired = res.kpis[res.kpis["metric"].astype(str).isin(PAIRED_KPIS)]
    assert set(paired["scenario"].astype(str)) == {"toy", "toy_more_doctors"}
    written = (tmp_path / "differences.csv").read_text()
    assert "xianghe" not in written and "toy_more_doctors" in written


@pytest.mark.slow
def test_the_prefecture_study_has_every_bundled_county_on_its_own_network_and_care():
    counties = sorted(p.stem for p in (ROOT / "scenarios" / "network").glob("*.yaml") if p.stem != "toy")
    study = load_study("prefecture")
    assert sorted(study.scenarios) == counties
    cfgs = compose_study(study, ["run=test"])
    for name, cfg in cfgs.items():
        assert cfg.network.name == name and cfg.care.name == f"{name}_calibrated"
