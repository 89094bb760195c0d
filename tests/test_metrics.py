"""KPIs, pricing and summaries on small hand-made tables with hand-computed answers.

The county has one village clinic (tier 0), one township ``t1`` (tier 1), one lead hospital
(tier 2) and the out-of-county node ``city`` (tier 3).  Warm-up 1 day, horizon 3 days.

Patients (the ``patient`` column is the row number, as in the model's tables)::

    0  onset day 0.5 (warm-up: excluded)  clinic visit, completed
    1  minor    clinic 1500-1510-1520 treated                    completed   travel 5
    2  acute    t1 1530-1550-1560 referred up (lab test);
                lead 1600-1630-1640 admitted, bed 1640..4000     completed   travel 30
    3  complex  t1 1700-1730-1740 referred up; city 1900 (referral) transferred_out travel 100;
                admitted at city 1900 (request = admit = arrival), still in at the horizon
    4  complex  city 2100 (self)                                 transferred_out travel 90
    5  minor    t1 arrives 2510, reneges 2600                    left_untreated  travel 20
    6  minor    lead arrives 3010, still waiting                 in_system       travel 40
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.kpis import kpis, mean_ci, paired_differences, price, summarise
from sim.config import Prices
from sim.records.log import TEST_BIT

NAN = math.nan
SITES = ["t1", "lead", "city", "clinic:v1"]
PRICES = Prices(consult=[10.0, 20.0, 50.0, 100.0], bed_day=[0.0, 100.0, 400.0, 800.0], tests={"lab": 40.0},
                ambulance_trip=300.0, travel_per_hour=20.0, reimburse_outpatient=[0.6, 0.5, 0.4, 0.3],
                reimburse_inpatient=[0.9, 0.8, 0.6, 0.5])
WARMUP, HORIZON = 1.0, 3.0


def hand_made(categorical: bool = False) -> dict:
    sites = pd.DataFrame({"site": SITES, "tier": [1, 2, 3, 0], "kind": ["township", "lead", "tertiary", "village_clinic"]})
    villages = pd.DataFrame({"village": ["v1", "v2"], "population": [1200, 800]})
    conditions = pd.DataFrame({"name_zh": ["小病", "急性病", "疑难"], "min_tier": [0, 1, 3],
                               "admit_prob": [0.0, 0.3, 0.7], "los_mean_days": [1.0, 5.0, 10.0],
                               "pathway": ["outpatient"] * 3, "specialty": ["general"] * 3,
                               "incidence_per_1000": [100.0, 10.0, 1.0]},
                              index=pd.Index(["minor", "acute", "complex"], name="condition"))
    patients = pd.DataFrame({
        "patient": np.arange(7, dtype=np.uint32),
        "village": ["v1", "v1", "v2", "v2", "v1", "v2", "v1"],
        "condition": ["minor", "minor", "acute", "complex", "complex", "minor", "minor"],
        "onset": [720.0, 1490.0, 1520.0, 1640.0, 2000.0, 2500.0, 3000.0],
        "exit": ["completed", "completed", "completed", "transferred_out", "transferred_out", "left_untreated",
                 "in_system"],
        "exit_time": [735.0, 1520.0, 4000.0, 1900.0, 2100.0, 2600.0, NAN],
        "first_facility": ["clinic:v1", "clinic:v1", "t1", "t1", "city", "t1", "lead"],
        "travel_min": np.array([5, 5, 30, 100, 90, 20, 40], dtype=np.float32),
        "first_travel_min": np.array([5, 5, 30, 30, 90, 20, 40], dtype=np.float32),
        "up_referrals": np.array([0, 0, 1, 1, 0, 0, 0], dtype=np.uint8),
        "down_referrals": np.zeros(7, dtype=np.uint8),
    })
    visits = pd.DataFrame({
        "patient": np.array([0, 1, 2, 2, 3, 3, 4, 5, 6], dtype=np.uint32),
        "facility": ["clinic:v1", "clinic:v1", "t1", "lead", "t1", "city", "city", "t1", "lead"],
        "arrive": [725.0, 1500.0, 1530.0, 1600.0, 1700.0, 1900.0, 2100.0, 2510.0, 3010.0],
        "start": [725.0, 1510.0, 1550.0, 1630.0, 1730.0, 1900.0, 2100.0, NAN, NAN],
        "end": [735.0, 1520.0, 1560.0, 1640.0, 1740.0, 1900.0, 2100.0, 2600.0, NAN],
        "outcome": ["treated", "treated", "referred_up", "admitted", "referred_up", "out_of_county", "out_of_county",
                    "reneged", "in_progress"],
        "mode": ["self", "self", "self", "referral", "self", "referral", "self", "self", "self"],
        "tests": np.array([0, 0, TEST_BIT["lab"], 0, 0, 0, 0, 0, 0], dtype=np.uint8),
    })
    # the records contract for out-of-county care: a stay is an admission row at the tier-3 node with
    # request = admit = arrival (patient 3); outpatient care there has no admission row (patient 4)
    admissions = pd.DataFrame({"patient": np.array([2, 3], dtype=np.uint32), "facility": ["lead", "city"],
                               "request": [1640.0, 1900.0], "admit": [1640.0, 1900.0], "discharge": [4000.0, NAN],
                               "outcome": ["discharged", "in_bed"]})
    emergency = pd.DataFrame({"patient": np.array([], dtype=np.uint32), "call": [], "fmc": [], "door": [],
                              "reperfusion": [], "station": pd.Series([], dtype=object),
                              "destination": pd.Series([], dtype=object)})
    occ_rows = []
    for fid, res, per_day, cap in (("t1", "doctors:general", [9.0, 1.0, 0.5], 2.0),
                                   ("lead", "doctors:general", [9.0, 3.0, 1.0], 4.0),
                                   ("clinic:v1", "doctors:general", [9.0, 0.2, 0.4], 1.0),
                                   ("lead", "beds", [60.0, 30.0, 45.0], 60.0)):
        for day, used in enumerate(per_day):
            occ_rows.append((fid, res, day, used, 0.0, cap))
    occupancy = pd.DataFrame(occ_rows, columns=["facility", "resource", "day", "in_use", "queue", "capacity"])
    if categorical:
        for df, cols in ((patients, {"village": ["v1", "v2"], "condition": list(conditions.index),
                                     "first_facility": SITES}),
                         (visits, {"facility": SITES}), (admissions, {"facility": SITES}),
                         (occupancy, {"facility": SITES})):
            for col, cats in cols.items():
                df[col] = pd.Categorical(df[col], categories=cats)
        patients["exit"] = pd.Categorical(patients["exit"],
                                          categories=["in_system", "completed", "transferred_out", "left_untreated"])
    tables = {"patients": patients, "visits": visits, "admissions": admissions, "emergency": emergency}
    return {"tables": tables, "occupancy": occupancy, "sites": sites, "villages": villages, "conditions": conditions}


def compute(categorical: bool = False) -> pd.Series:
    d = hand_made(categorical)
    k = kpis(d["tables"], d["occupancy"], d["sites"], d["villages"], d["conditions"], PRICES, WARMUP, HORIZON)
    assert not k.duplicated(["metric", "group"]).any()
    return k.set_index(["metric", "group"])["value"]


# hand-computed figures -----------------------------------------------------------------------
ENDED = 5                    # patients 1-5 (patient 0 is in the warm-up, 6 is still in the system)
VISITS = 8                   # visits of patients 1-6
YEARS = (HORIZON - WARMUP) / 365.0
POP = 2000.0
BED_DAYS = (4000.0 - 1640.0) / 1440.0
CITY_DAYS = (HORIZON * 1440.0 - 1900.0) / 1440.0     # the out-of-county stay, cut at the horizon
CITY_OOP = CITY_INSURER = CITY_DAYS * 800 * 0.5       # tier-3 bed-day, referred rate 0.5
VISIT_OOP = 4 + 30 + 30 + 10 + 2 * 70     # clinic, t1+lab, lead, t1, 2 x city consult
VISIT_INSURER = 6 + 30 + 20 + 10 + 2 * 30
TRAVEL_OOP = (5 + 30 + 100 + 90 + 20 + 40) / 60.0 * 20.0


@pytest.mark.parametrize("categorical", [False, True], ids=["plain", "categorical"])
def test_kpis_on_hand_made_tables(categorical):
    k = compute(categorical)
    assert k["episodes", "county"] == 6
    assert k["grassroots_share", "county"] == pytest.approx(4 / VISITS)     # clinic + 3 x t1
    assert k["outward_transfer_rate", "county"] == pytest.approx(1 / 2)  # patient 3 (referred) per admission
    assert k["self_referral_out_of_county_rate", "county"] == pytest.approx(1 / ENDED)  # patient 4
    assert k["left_untreated_share", "county"] == pytest.approx(1 / ENDED)
    assert k["up_referrals", "county"] == 2
    assert k["up_referral_rate", "county"] == pytest.approx(2 / 6)
    assert k["down_referrals", "county"] == 0
    assert k["down_referral_rate", "county"] == 0.0                          # 1 tier-2 discharge, none down
    # waits: clinic 10; t1 20 and 30 (the reneged visit never started); lead 30 (the waiting one excluded)
    assert k["wait_mean_min", "tier0"] == pytest.approx(10.0)
    assert k["wait_mean_min", "tier1"] == pytest.approx(25.0)
    assert k["wait_mean_min", "tier2"] == pytest.approx(30.0)
    assert k["wait_mean_min", "county"] == pytest.approx((10 + 20 + 30 + 30) / 4)
    assert k["wait_p90_min", "tier1"] == pytest.approx(29.0)
    assert k["travel_mean_min", "county"] == pytest.approx((5 + 30 + 100 + 90 + 20 + 40) / 6)
    if ("first_contact_travel_mean_min", "county") in k.index:   # travel to the first contact only
        assert k["first_contact_travel_mean_min", "county"] == pytest.approx((5 + 30 + 30 + 90 + 20 + 40) / 6)
    assert k["visits_per_person_year", "county"] == pytest.approx(VISITS / POP / YEARS)
    # one admission in county + one admission row out of county
    assert k["admissions_per_person_year", "county"] == pytest.approx(2 / POP / YEARS)
    # utilisation over the post-warm-up days 1 and 2
    assert k["doctor_utilisation", "t1"] == pytest.approx(1.5 / 4)
    assert k["doctor_utilisation", "lead"] == pytest.approx(4 / 8)
    assert k["doctor_utilisation", "tier0"] == pytest.approx(0.6 / 2)
    assert k["doctor_utilisation", "tier1"] == pytest.approx(1.5 / 4)
    assert k["bed_occupancy", "lead"] == pytest.approx(75 / 120)
    assert math.isnan(k["stemi_fmc_to_reperfusion_median_min", "county"])
    # costs
    assert k["oop_per_visit", "county"] == pytest.approx((VISIT_OOP + TRAVEL_OOP) / VISITS)
    assert k["insurer_per_visit", "county"] == pytest.approx(VISIT_INSURER / VISITS)
    assert k["oop_per_admission", "county"] == pytest.approx(BED_DAYS * 400 * 0.4)
    assert k["insurer_per_admission", "county"] == pytest.approx(BED_DAYS * 400 * 0.6)
    assert k["oop_per_episode", "county"] == pytest.approx((VISIT_OOP + BED_DAYS * 400 * 0.4 + CITY_OOP + TRAVEL_OOP) / 6)
    assert k["insurer_per_episode", "county"] == pytest.approx((VISIT_INSURER + BED_DAYS * 400 * 0.6 + CITY_INSURER) / 6)


def test_an_episode_that_ends_untreated_is_not_retained_in_the_county():
    """county_retention (县域内就诊率) is completed / (completed + out of county): a patient who
    reneged and went home untreated was not cared for in the county, so turning a completed
    in-county episode into a left-untreated one must lower retention."""
    before = compute()["county_retention", "county"]
    exits = hand_made()["tables"]["patients"].query("onset >= @WARMUP * 1440")["exit"].astype(str)
    completed, out = (exits == "completed").sum(), (exits == "transferred_out").sum()
    d = hand_made()
    p = d["tables"]["patients"]
    p.loc[1, "exit"] = "left_untreated"     # patient 1 leaves the clinic untreated instead
    v = d["tables"]["visits"]
    v.loc[1, ["start", "outcome"]] = [NAN, "reneged"]
    k = kpis(d["tables"], d["occupancy"], d["sites"], d["villages"], d["conditions"], PRICES, WARMUP, HORIZON)
    after = k.set_index(["metric", "group"])["value"]["county_retention", "county"]
    assert after < before
    assert before == pytest.approx(completed / (completed + out))
    assert after == pytest.approx((completed - 1) / (completed - 1 + out))


def test_county_retention_ignores_episodes_still_in_the_system():
    d = hand_made()
    p = d["tables"]["patients"]
    p.loc[6, "exit"] = "completed"          # the waiting patient now completes in county
    p.loc[6, "exit_time"] = 3100.0
    d["tables"]["visits"].loc[8, ["start", "end", "outcome"]] = [3050.0, 3100.0, "treated"]
    k = kpis(d["tables"], d["occupancy"], d["sites"], d["villages"], d["conditions"], PRICES, WARMUP, HORIZON)
    k = k.set_index(["metric", "group"])["value"]
    before = compute()
    # one more ended episode, not transferred out: retention rises, outward rate falls
    assert k["county_retention", "county"] > before["county_retention", "county"]
    assert k["outward_transfer_rate", "county"] == pytest.approx(1 / 2)   # per admission: unchanged


def test_stemi_times_from_first_medical_contact():
    d = hand_made()
    stemi = pd.DataFrame({"name_zh": ["心梗"], "min_tier": [2], "admit_prob": [1.0], "los_mean_days": [7.0],
                          "pathway": ["stemi"], "specialty": ["cardiology"], "incidence_per_1000": [0.6]},
                         index=["stemi"])
    conditions = pd.concat([d["conditions"], stemi])
    conditions.index.name = "condition"
    p = d["tables"]["patients"]
    extra = pd.DataFrame({"patient": np.array([7, 8, 9], dtype=np.uint32), "village": ["v1"] * 3,
                          "condition": ["stemi"] * 3, "onset": [3100.0, 3300.0, 3400.0],
                          "exit": ["completed", "in_system", "completed"], "exit_time": [3500.0, NAN, 3700.0],
                          "first_facility": ["lead"] * 3, "travel_min": np.zeros(3, dtype=np.float32),
                          "first_travel_min": np.zeros(3, dtype=np.float32),
                          "up_referrals": np.zeros(3, dtype=np.uint8), "down_referrals": np.zeros(3, dtype=np.uint8)})
    d["tables"]["patients"] = pd.concat([p, extra], ignore_index=True)
    d["tables"]["emergency"] = pd.DataFrame({
        "patient": np.array([7, 8, 9], dtype=np.uint32), "call": [3100.0, 3300.0, 3400.0],
        "fmc": [3120.0, 3310.0, 3420.0], "door": [3150.0, 3340.0, 3450.0],
        "reperfusion": [3200.0, NAN, 3570.0],          # 80 min, not yet, 150 min
        "station": ["lead"] * 3, "destination": ["lead"] * 3})
    k = kpis(d["tables"], d["occupancy"], d["sites"], d["villages"], conditions, PRICES, WARMUP, HORIZON)
    k = k.set_index(["metric", "group"])["value"]
    assert k["stemi_fmc_to_reperfusion_median_min", "county"] == pytest.approx((80 + 150) / 2)
    assert k["stemi_within_120_share", "county"] == pytest.approx(1 / 3)


# ---------------------------------------------------------------------------- pricing

def test_price_on_hand_made_tables():
    d = hand_made()
    priced = price(d["tables"], d["sites"], d["conditions"], PRICES, HORIZON * 1440)
    v, a = priced["visits"], priced["admissions"]
    # no expected-stay surcharge any more: a tier-3 visit is a tier-3 consult
    np.testing.assert_allclose(v["medical"], [10, 10, 60, 50, 20, 100, 100, 0, 0])
    np.testing.assert_allclose(v["oop"], [4, 4, 30, 30, 10, 70, 70, 0, 0])
    np.testing.assert_allclose(v["insurer"], [6, 6, 30, 20, 10, 30, 30, 0, 0])
    np.testing.assert_allclose(v["oop"] + v["insurer"], v["medical"])
    assert a["bed_days"].iloc[0] == pytest.approx(BED_DAYS)
    assert a["medical"].iloc[0] == pytest.approx(BED_DAYS * 400)
    assert bool(a["admitted"].iloc[0])
    # the out-of-county admission row is priced by its bed-days at tier-3 prices
    assert a["tier"].iloc[1] == 3 and a["bed_days"].iloc[1] == pytest.approx(CITY_DAYS)
    assert a["medical"].iloc[1] == pytest.approx(CITY_DAYS * 800)
    assert a["insurer"].iloc[1] == pytest.approx(CITY_INSURER) and bool(a["referred"].iloc[1])


def test_an_ambulance_visit_is_charged_the_trip_and_a_bed_still_occupied_counts_to_the_horizon():
    d = hand_made()
    d["tables"]["visits"].loc[3, "mode"] = "ambulance"
    d["tables"]["admissions"].loc[0, "discharge"] = NAN
    priced = price(d["tables"], d["sites"], d["conditions"], PRICES, HORIZON * 1440)
    assert priced["visits"]["medical"].iloc[3] == pytest.approx(50 + 300)
    assert priced["admissions"]["bed_days"].iloc[0] == pytest.approx((HORIZON * 1440 - 1640) / 1440)


def test_repricing_changes_costs_without_rerunning(toy_result):
    tables = {t: getattr(toy_result, t) for t in ("patients", "visits", "admissions")}
    horizon = toy_result.config.run.horizon_days * 1440
    base = toy_result.config.care.prices
    a = price(tables, toy_result.sites, toy_result.conditions, base, horizon)
    # every price, deductible and cap doubled doubles every cost (the tariff is homogeneous)
    dbl = lambda xs: [2 * x for x in xs]  # noqa: E731
    doubled = dataclasses.replace(base, consult=dbl(base.consult), drugs_per_visit=dbl(base.drugs_per_visit),
                                  bed_day=dbl(base.bed_day), drugs_per_bed_day=dbl(base.drugs_per_bed_day),
                                  tests={m: 2 * x for m, x in base.tests.items()},
                                  ambulance_trip=2 * base.ambulance_trip, deductible=dbl(base.deductible),
                                  cap_per_admission=None if base.cap_per_admission is None
                                  else 2 * base.cap_per_admission)
    b = price(tables, toy_result.sites, toy_result.conditions, doubled, horizon)
    assert a["visits"]["medical"].sum() > 0
    for t in ("visits", "admissions"):
        for col in ("medical", "oop", "insurer"):
            np.testing.assert_allclose(b[t][col], 2 * a[t][col], rtol=1e-12)
    # full reimbursement moves every yuan to the insurer, and the medical total is unchanged
    free = dataclasses.replace(base, reimburse_outpatient=[1.0] * 4, reimburse_inpatient=[1.0] * 4,
                               reimburse_inpatient_unreferred=1.0, deductible=[0.0] * 4, cap_per_admission=None)
    c = price(tables, toy_result.sites, toy_result.conditions, free, horizon)
    np.testing.assert_allclose(c["visits"]["medical"], a["visits"]["medical"])
    assert c["visits"]["oop"].abs().max() == 0 and c["admissions"]["oop"].abs().max() == 0
    np.testing.assert_allclose(c["visits"]["insurer"], a["visits"]["medical"])


# ---------------------------------------------------------------------------- summaries

def test_mean_ci_matches_scipy():
    x = np.array([3.1, 4.7, 2.2, 5.9, 4.4, 3.3, 6.1, 2.8, 4.0, 5.2])
    m, sd, lo, hi = mean_ci(x)
    slo, shi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert m == pytest.approx(x.mean()) and sd == pytest.approx(x.std(ddof=1))
    assert lo == pytest.approx(slo) and hi == pytest.approx(shi)
    _, _, lo90, hi90 = mean_ci(x, level=0.90)
    assert (lo90, hi90) == pytest.approx(stats.t.interval(0.90, len(x) - 1, loc=x.mean(), scale=stats.sem(x)))
    # NaN replications are dropped; one value has no interval
    m2, _, lo2, _ = mean_ci(np.append(x, np.nan))
    assert m2 == pytest.approx(m) and lo2 == pytest.approx(lo)
    m1, sd1, lo1, hi1 = mean_ci(np.array([7.0]))
    assert m1 == 7.0 and all(math.isnan(v) for v in (sd1, lo1, hi1))


def _kpi_table(values: dict[str, list[float]], metric: str = "wait_mean_min") -> pd.DataFrame:
    rows = [(scen, r, metric, "county", v) for scen, vals in values.items() for r, v in enumerate(vals)]
    return pd.DataFrame(rows, columns=["scenario", "replication", "metric", "group", "value"])


BASE = [10.0, 12.0, 8.0, 15.0, 11.0]
LEVER = [9.0, 10.0, 7.0, 12.0, 10.0]          # differences -1, -2, -1, -3, -1: strongly correlated


def test_summarise_per_scenario_metric_and_group():
    s = summarise(_kpi_table({"base": BASE, "lever": LEVER}))
    row = s[s["scenario"] == "base"].iloc[0]
    m, sd, lo, hi = mean_ci(np.array(BASE))
    assert row["n"] == 5 and row["mean"] == pytest.approx(m)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi))


def test_paired_differences_exact_and_tighter_than_unpaired():
    k = _kpi_table({"base": BASE, "lever": LEVER})
    out = paired_differences(k, baseline="base")
    assert len(out) == 1
    r = out.iloc[0]
    d = np.array(LEVER) - np.array(BASE)
    assert r["scenario"] == "lever" and r["baseline"] == "base" and r["n"] == 5
    assert r["mean_diff"] == pytest.approx(-1.6)
    h = stats.t.ppf(0.975, 4) * d.std(ddof=1) / math.sqrt(5)
    assert r["paired_half_width"] == pytest.approx(h)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((-1.6 - h, -1.6 + h))
    sb, sl = np.std(BASE, ddof=1), np.std(LEVER, ddof=1)
    se = math.sqrt(sb ** 2 / 5 + sl ** 2 / 5)
    dof = se ** 4 / ((sb ** 2 / 5) ** 2 / 4 + (sl ** 2 / 5) ** 2 / 4)
    assert r["unpaired_half_width"] == pytest.approx(stats.t.ppf(0.975, dof) * se)
    assert r["paired_half_width"] < r["unpaired_half_width"]
    assert r["ci_high"] < 0 < -1.6 + r["unpaired_half_width"]   # only the paired CI excludes 0


def test_paired_differences_pair_by_replication_not_row_order():
    k = _kpi_table({"base": BASE, "lever": LEVER})
    shuffled = pd.concat([k[k["scenario"] == "base"], k[k["scenario"] == "lever"].iloc[::-1]], ignore_index=True)
    extra = pd.DataFrame([("lever", 5, "wait_mean_min", "county", 99.0)], columns=k.columns)  # no baseline pair
    out = paired_differences(pd.concat([shuffled, extra], ignore_index=True), baseline="base").iloc[0]
    assert out["n"] == 5
    assert out["mean_diff"] == pytest.approx(-1.6)


def test_paired_differences_with_several_scenarios_and_metrics():
    k = pd.concat([_kpi_table({"base": BASE, "a": LEVER, "b": [x + 1 for x in BASE]}),
                   _kpi_table({"base": [0.5] * 5, "a": [0.6] * 5, "b": [0.4] * 5}, metric="county_retention")],
                  ignore_index=True)
    out = paired_differences(k, baseline="base").set_index(["scenario", "metric"])
    assert set(out.index) == {("a", "wait_mean_min"), ("b", "wait_mean_min"), ("a", "county_retention"),
                              ("b", "county_retention")}
    assert out.loc[("b", "wait_mean_min"), "mean_diff"] == pytest.approx(1.0)
    assert out.loc[("b", "wait_mean_min"), "paired_half_width"] == pytest.approx(0.0)
    assert out.loc[("a", "county_retention"), "mean_diff"] == pytest.approx(0.1)
    assert out.loc[("b", "county_retention"), "mean_diff"] == pytest.approx(-0.1)
