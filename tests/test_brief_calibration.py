"""The brief says whether its county is calibrated (issue 15): a note on the first screen when
it is, a warning when the care file is uncalibrated or fitted to another county, and the
targets and parameters near the end."""

from __future__ import annotations

import re

import pytest

from sim.report import calibration_note as cn

CALIBRATED = {
    "network": {"name": "xianghe"},
    "care": {"name": "xianghe_calibrated", "calibration": {
        "status": "calibrated", "network": "xianghe", "date": "2026-12-01 20:00:00", "loss": 1.2,
        "fit": "response surface on 24 points", "check": "3 replication(s) x 120 days",
        "targets": [
            {"name": "inpatient_retention", "kpi": "inpatient_retention[county]", "observed": 0.87, "tolerance": 0.03,
             "weight": 1.0, "simulated": 0.88, "ci_low": 0.875, "ci_high": 0.885, "met": True, "source": "NHSS 2018"},
            {"name": "lead_mean_stay", "kpi": "mean_stay_days[tier2]", "observed": 8.4, "tolerance": 1.0,
             "weight": 0.5, "simulated": 6.9, "ci_low": 6.8, "ci_high": 7.0, "met": False, "source": "NHC 2023"},
            {"name": "fund_in_county_share", "kpi": "fund_in_county_share[county]", "observed": 0.8, "tolerance": 0.1,
             "weight": 0.0, "simulated": 0.75, "ci_low": None, "ci_high": None, "met": True, "source": "[ASSUMED]"}],
        "parameters": [
            {"name": "beta_lead", "path": "care.choice.beta_tier[2]", "value": 0.9, "identifiability": "identified"},
            {"name": "beta_village", "path": "care.choice.beta_tier[0]", "value": 0.1,
             "identifiability": "not identified"}]}},
}


def _text(h: str) -> str:
    return re.sub(r"<[^>]+>", " ", h)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_calibrated_county_says_how_well_and_what_is_loose(language):
    box = cn.first_screen(CALIBRATED, language)
    assert "calib ok" in box and "warn" not in box
    t = _text(box)
    assert "1" in t and "2" in t                         # 1 of 2 fitted targets (the weight-0 one is not fitted)
    # the unmet target by the registry's name of its KPI at its tier, the loose parameter by its id
    assert cn.target_label({"kpi": "mean_stay_days[tier2]"}, language) in t and "lead_mean_stay" not in t
    assert ("牵头医院出院者平均住院日" if language == "zh" else "Mean length of stay, lead hospitals") in t
    assert "<code>beta_village</code>" in box and "beta_lead" not in t
    sec = cn.section(CALIBRATED, language)
    assert sec.count("<tr>") == 1 + 3 + 1 + 2            # header, 3 targets, header, 2 parameters
    assert "87.0%" in sec and "NHSS 2018" in sec


@pytest.mark.parametrize("language", ["en", "zh"])
def test_an_uncalibrated_care_file_gets_a_warning_on_the_first_screen(language):
    cfg = {"network": {"name": "xianghe"}, "care": {"name": "default", "calibration": {"status": "uncalibrated"}}}
    box = cn.first_screen(cfg, language)
    assert "calib warn" in box and "default" in box
    assert ("Uncalibrated" in box) if language == "en" else ("未校准" in box)
    # a config written before the calibration block existed reads as uncalibrated too
    assert "calib warn" in cn.first_screen({"network": {"name": "x"}, "care": {"name": "old"}}, language)


def test_a_care_file_fitted_to_another_county_is_a_warning():
    cfg = {**CALIBRATED, "network": {"name": "taobei"}}
    st = cn.state_of(cfg)
    assert st.status == "other_network" and st.fitted_network == "xianghe"
    box = cn.first_screen(cfg, "en")
    assert "calib warn" in box and "xianghe" in box and "taobei" in box


def test_the_brief_puts_the_calibration_box_before_the_summary(tmp_path):
    import pandas as pd

    from sim.analysis.kpis import summarise
    from sim.report.brief import FolderData, render_brief

    kpis = pd.DataFrame({"scenario": "baseline", "replication": [0, 1], "metric": "inpatient_retention",
                         "group": "county", "value": [0.9, 0.91]})
    data = FolderData(folder=tmp_path, kind="run", name="baseline", description="", baseline="baseline",
                      scenarios=["baseline"], overrides={"baseline": []}, base_overrides=[],
                      summary=summarise(kpis), differences=pd.DataFrame(), meta={},
                      config={"network": {"name": "toy"}, "care": {"name": "default"}}, runs={})
    page = render_brief(data, "en", figures=[])
    assert page.index("calib warn") < page.index("Keep in mind") < page.index("Indicator by indicator")


def test_target_names_and_fit_lines_read_in_the_brief_language():
    assert cn.target_label({"kpi": "township_visits_per_resident_year"}, "zh") == "乡镇卫生院辖区居民人均年门诊人次"
    assert cn.target_label({"kpi": "inpatient_retention[county]"}, "zh") == "参保人县域内住院人次占比"
    assert cn.target_label({"kpi": "bed_occupancy[tier1]"}, "en") == "Bed occupancy, township centres"
    assert cn.target_label({"name": "mine", "kpi": "no_such_kpi[county]"}, "zh") == "mine"
    fit = ("response surface on 24 Latin-hypercube points, 4 refinement round(s); 28 evaluations of 1 replication(s) "
           "x 56 days (14 warm-up), common random numbers, seed 20261123; 26 min")
    check = "3 replication(s) x 120 days (14 warm-up) at the optimum; the fit's runs differ from it by at most 0.42 tolerance(s)"
    fz, cz = cn._fit_text(fit, check, "zh")
    assert "24 个拉丁超立方设计点" in fz and "26 分钟" in fz and "3 次模拟 × 120 天" in cz and "0.42 个容许误差" in cz
    assert cn._fit_text(fit, check, "en") == (fit, check)
    assert cn._fit_text("something else", "", "zh") == ("", "")     # shown as code, not mistranslated
