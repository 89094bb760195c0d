"""Real money: the tariff (deductible, rates, cap, referral), pricing of the records contract
(out-of-county stays are tier-3 admission rows), the official indicators of close-knit county
medical communities (2024) on hand-made tables, the levers' running costs, and the payment
levers (global budget, differential reimbursement)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.kpis import kpis, posted_doctors, price
from sim.config import ConfigError, Operation, PaymentConfig, Prices, RestructureConfig, tariff
from sim.config.checks import BOUNDS
from sim.config.schema import RunningCosts
from tests.conftest import compose
from tests.test_metrics import HORIZON, PRICES, WARMUP, hand_made

DEFAULT = compose("network=toy", "run=test").care.prices
NAN_ = math.nan


# ---------------------------------------------------------------------------- the tariff

def test_below_the_deductible_the_insurer_pays_nothing_and_the_cap_binds():
    p = Prices(reimburse_inpatient=[0.9, 0.8, 0.7, 0.5], deductible=[0, 300, 600, 1000], cap_per_admission=5000.0)
    ins = tariff.inpatient_insurer(p, np.array([299.0, 300.0, 1300.0, 20_000.0]), np.array([1, 1, 1, 2]))
    np.testing.assert_allclose(ins, [0.0, 0.0, 0.8 * 1000, 5000.0])
    oop, ins2 = tariff.split(p, np.array([20_000.0]), 2, True)
    assert ins2[0] == 5000.0 and oop[0] == 15_000.0
    # without a cap the same stay costs the insurer 0.7 x (20,000 - 600)
    uncapped = dataclasses.replace(p, cap_per_admission=None)
    assert float(tariff.inpatient_insurer(uncapped, 20_000.0, 2)) == pytest.approx(0.7 * 19_400)


def test_out_of_county_unreferred_stays_are_reimbursed_less():
    stay = 15_000.0
    ref = float(tariff.inpatient_insurer(DEFAULT, stay, 3, referred=True))
    unref = float(tariff.inpatient_insurer(DEFAULT, stay, 3, referred=False))
    assert unref < ref
    assert DEFAULT.reimburse_inpatient[3] - DEFAULT.reimburse_inpatient_unreferred >= 0.1   # 10-20 points lower
    # the referral status only matters out of county
    assert float(tariff.inpatient_insurer(DEFAULT, stay, 2, referred=False)) == float(
        tariff.inpatient_insurer(DEFAULT, stay, 2, referred=True))
    # the modes: self and after_renege are unreferred; elsewhere (registered 异地就医) is referred
    assert tariff.is_referred(np.array(["self", "after_renege", "referral", "ambulance", "elsewhere"])).tolist() == [
        False, False, True, True, True]


def test_vectorised_equals_scalar():
    rng = np.random.default_rng(3)
    med = rng.uniform(0, 200_000, 200)
    tiers = rng.integers(0, 4, 200)
    inp = rng.random(200) < 0.5
    ref = rng.random(200) < 0.5
    oop, ins = tariff.split(DEFAULT, med, tiers, inp, ref)
    for i in range(200):
        o, n = tariff.split(DEFAULT, float(med[i]), int(tiers[i]), bool(inp[i]), bool(ref[i]))
        assert float(o) == pytest.approx(oop[i]) and float(n) == pytest.approx(ins[i])
    np.testing.assert_allclose(oop + ins, med)
    assert (ins >= 0).all() and (oop >= 0).all()


def test_differential_reimbursement_widens_the_gap_between_grassroots_and_hospital():
    """payment=differential: out of pocket falls at the township and rises at the lead hospital."""
    diff = compose("network=toy", "run=test", "payment=differential").care.prices

    def oop(p: Prices, tier: int, medical: float, inpatient: bool) -> float:
        return float(tariff.split(p, medical, tier, inpatient)[0])

    for medical, inpatient in ((100.0, False), (2_500.0, True)):
        gap_default = oop(DEFAULT, 2, medical, inpatient) - oop(DEFAULT, 1, medical, inpatient)
        gap_diff = oop(diff, 2, medical, inpatient) - oop(diff, 1, medical, inpatient)
        assert oop(diff, 1, medical, inpatient) < oop(DEFAULT, 1, medical, inpatient)
        assert gap_diff > gap_default


def test_every_float_of_the_money_config_has_a_declared_range():
    for cls in (Prices, RunningCosts, PaymentConfig):
        for f in dataclasses.fields(cls):
            if f.type in ("float", "list[float]", "float | None", "dict[str, float]"):
                assert (cls.__name__, f.name) in BOUNDS, (cls.__name__, f.name)


@pytest.mark.parametrize("override, key", [
    ("payment.outflow_factor=-0.5", "payment.outflow_factor"),
    ("payment.down_referral_factor=nan", "payment.down_referral_factor"),
    ("payment.surplus_kept_share=1.2", "payment.surplus_kept_share"),
    ("care.prices.deductible=[0,100,-1,0]", "care.prices.deductible[2]"),
    ("care.prices.reimburse_inpatient_unreferred=1.5", "care.prices.reimburse_inpatient_unreferred"),
    ("care.prices.costs.reader_per_year=-1", "care.prices.costs.reader_per_year"),
])
def test_bad_money_config_is_one_line_naming_the_key(override, key):
    with pytest.raises(ConfigError) as exc:
        sim.compose(["network=toy", "run=test", override])
    msg = str(exc.value)
    assert msg.startswith(f"{key}: ") and "\n" not in msg


def test_a_global_budget_needs_a_budget():
    with pytest.raises(ConfigError, match=r"^payment\.budget_per_capita_cny_per_year: "):
        sim.compose(["network=toy", "run=test", "payment=global_budget", "payment.budget_per_capita_cny_per_year=0"])


# ---------------------------------------------------------------------------- pricing

def _one_admission(tier: int, facility: str, days: float, mode: str = "referral") -> dict:
    """A hand-made county (tests.test_metrics) with one extra patient admitted at ``facility``."""
    d = hand_made()
    p = d["tables"]["patients"]
    extra = p.iloc[[2]].copy()
    extra["patient"] = np.uint32(7)
    p = pd.concat([p, extra], ignore_index=True)
    v = d["tables"]["visits"]
    v = pd.concat([v, pd.DataFrame({"patient": np.array([7], dtype=np.uint32), "facility": [facility],
                                    "arrive": [1600.0], "start": [1600.0], "end": [1600.0],
                                    "outcome": ["out_of_county" if tier == 3 else "admitted"], "mode": [mode],
                                    "tests": np.array([0], dtype=np.uint8)})], ignore_index=True)
    a = pd.DataFrame({"patient": np.array([7], dtype=np.uint32), "facility": [facility], "request": [1600.0],
                      "admit": [1600.0], "discharge": [1600.0 + days * 1440.0], "outcome": ["discharged"]})
    d["tables"].update(patients=p, visits=v, admissions=a)
    return d


def test_a_tier3_admission_row_is_priced_by_its_bed_days_at_tier3_prices():
    d = _one_admission(3, "city", 12.0, mode="referral")
    pa = price(d["tables"], d["sites"], d["conditions"], DEFAULT, 100 * 1440.0)["admissions"]
    per_day = DEFAULT.bed_day[3] + DEFAULT.drugs_per_bed_day[3]
    assert pa["tier"].iloc[0] == 3 and pa["bed_days"].iloc[0] == pytest.approx(12.0)
    assert pa["medical"].iloc[0] == pytest.approx(12.0 * per_day)
    assert pa["insurer"].iloc[0] == pytest.approx(
        min(DEFAULT.reimburse_inpatient[3] * (12.0 * per_day - DEFAULT.deductible[3]), DEFAULT.cap_per_admission))
    # the same stay without referral (the patient went on their own) is reimbursed at the unreferred rate
    d = _one_admission(3, "city", 12.0, mode="self")
    pa2 = price(d["tables"], d["sites"], d["conditions"], DEFAULT, 100 * 1440.0)["admissions"]
    assert not bool(pa2["referred"].iloc[0])
    assert pa2["insurer"].iloc[0] == pytest.approx(
        DEFAULT.reimburse_inpatient_unreferred * (12.0 * per_day - DEFAULT.deductible[3]))
    assert pa2["oop"].iloc[0] > pa["oop"].iloc[0]


def test_a_lead_admission_lands_in_the_published_range_and_a_hospital_visit_near_362():
    """NHC bulletin 2023: 10,315.8 CNY per hospital admission (8.8 days, all hospitals, tertiary
    included), 361.6 CNY per hospital outpatient visit."""
    d = _one_admission(2, "lead", 8.8)
    pa = price(d["tables"], d["sites"], d["conditions"], DEFAULT, 100 * 1440.0)["admissions"]
    assert 7_000 <= pa["medical"].iloc[0] <= 11_000
    assert 8_000 <= pa["medical"].iloc[0] <= 10_316
    visit = float(tariff.visit_cost(DEFAULT, 2)) + DEFAULT.tests["lab"]
    assert 300 <= visit <= 420
    assert float(tariff.visit_cost(DEFAULT, 3)) > float(tariff.visit_cost(DEFAULT, 2))
    # drugs are their own component, about 30% of a lead-hospital stay's cost
    assert 0.2 <= DEFAULT.drugs_per_bed_day[2] / (DEFAULT.bed_day[2] + DEFAULT.drugs_per_bed_day[2]) <= 0.4


# ---------------------------------------------------------------------------- official indicators

def _k(d: dict, prices: Prices = PRICES, **kw) -> pd.Series:
    k = kpis(d["tables"], d["occupancy"], d["sites"], d["villages"], d["conditions"], prices, WARMUP, HORIZON, **kw)
    assert not k.duplicated(["metric", "group"]).any()
    return k.set_index(["metric", "group"])["value"]


def test_official_indicators_on_the_hand_made_county():
    """tests.test_metrics' county: seen visits of post-warm-up patients 1-6 are clinic (1), t1 (2, 3),
    lead (2), city (3, 4); patient 5's t1 visit and patient 6's lead visit never started.
    Admissions: patient 2 at the lead (bed-days 2360/1440), patient 3 at the city (to the horizon)."""
    k = _k(hand_made())
    bed = (4000.0 - 1640.0) / 1440.0
    city = (HORIZON * 1440.0 - 1900.0) / 1440.0
    assert k["inpatient_retention", "county"] == pytest.approx(1 / 2)
    # grassroots (clinic + 2 x t1) / in county (clinic + 2 x t1 + lead); the two city visits excluded
    assert k["grassroots_visit_share_official", "county"] == pytest.approx(3 / 4)
    # the model's own grassroots_share keeps the out-of-county visits (and unseen ones) in the denominator
    assert k["grassroots_share", "county"] == pytest.approx(4 / 8)
    ins_grass = 6 + 30 + 10                    # clinic; t1 + lab; t1 (outpatient, reimbursed 0.6 / 0.5)
    ins_in = ins_grass + 20 + bed * 400 * 0.6  # + lead visit + lead stay
    ins_out = 2 * 30 + city * 800 * 0.5        # 2 city consults + the city stay
    assert k["fund_in_county_share", "county"] == pytest.approx(ins_in / (ins_in + ins_out))
    assert k["fund_grassroots_share", "county"] == pytest.approx(ins_grass / ins_in)
    assert k["cost_per_admission_in_county", "county"] == pytest.approx(bed * 400)
    years = (HORIZON - WARMUP) / 365.0
    assert k["insurer_spending_per_year", "county"] == pytest.approx((ins_in + ins_out) / years)
    assert k["insurer_spending_per_year", "out_of_county"] == pytest.approx(ins_out / years)
    med = 10 + 60 + 50 + 20 + 2 * 100 + bed * 400 + city * 800
    assert k["medical_spending_per_year", "county"] == pytest.approx(med / years)
    assert k["oop_share", "county"] == pytest.approx(1 - (ins_in + ins_out) / med)
    assert k["remote_readings_per_10k", "county"] == 0.0 and k["posted_doctors_per_10k", "county"] == 0.0
    assert math.isnan(k["budget_surplus_per_year", "county"])


def test_remote_readings_and_posted_doctors_per_10k_residents():
    d = hand_made()
    d["tables"]["remote_studies"] = pd.DataFrame({
        "patient": np.array([1, 2, 3, 0], dtype=np.uint32), "site": ["t1"] * 4, "centre": ["lead"] * 4,
        "modality": ["ecg", "xray", "ct", "ecg"], "sent": [1600.0, 1700.0, 1800.0, 700.0],
        "start": [1610.0, 1710.0, NAN_, 710.0], "report": [1620.0, 1720.0, 1810.0, 720.0],
        "status": ["reported", "reported", "failed", "reported"]})     # 2 read after warm-up; one failed
    sites = d["sites"].assign(lead=["lead", "", "", ""], closed=False)
    rc = RestructureConfig(operations=[Operation(op="move_doctors", site="lead", n=2)])    # 2 to each member
    d["sites"] = sites
    priced = dataclasses.replace(PRICES, costs=RunningCosts(posting_allowance_per_year=30_000.0))
    k = _k(d, priced, restructure=rc)
    years = (HORIZON - WARMUP) / 365.0
    assert k["remote_readings_per_10k", "county"] == pytest.approx(2 * 1e4 / 2000 / years)
    assert posted_doctors(rc, sites) == 2
    assert k["posted_doctors_per_10k", "county"] == pytest.approx(2 * 1e4 / 2000)
    assert k["running_cost_per_year", "posted"] == pytest.approx(2 * 30_000.0)



def test_outward_transfers_count_per_admission_and_fmc_to_ecg_is_strictly_under_10():
    d = hand_made()
    # patient 4 went to the city on their own: not a transfer; make it an ambulance transfer
    d["tables"]["visits"].loc[6, "mode"] = "ambulance"
    k = _k(d)
    assert k["outward_transfer_rate", "county"] == pytest.approx(2 / 2)     # 2 transfers, 2 admissions
    d["tables"]["visits"].loc[6, "mode"] = "elsewhere"                       # lives elsewhere: not sent
    assert _k(d)["outward_transfer_rate", "county"] == pytest.approx(1 / 2)
    # the chest-pain standard is strictly "< 10 min": an ECG at exactly 10 min does not count
    d = hand_made()
    stemi = pd.DataFrame({"name_zh": ["心梗"], "min_tier": [2], "admit_prob": [1.0], "los_mean_days": [7.0],
                          "pathway": ["stemi"], "specialty": ["cardiology"], "incidence_per_1000": [0.6]},
                         index=["stemi"])
    d["conditions"] = pd.concat([d["conditions"], stemi])
    p = d["tables"]["patients"]
    extra = p.iloc[[1, 1]].copy()
    extra["patient"] = np.array([7, 8], dtype=np.uint32)
    extra["condition"] = "stemi"
    d["tables"]["patients"] = pd.concat([p, extra], ignore_index=True)
    d["tables"]["emergency"] = pd.DataFrame({
        "patient": np.array([7, 8], dtype=np.uint32), "call": [3100.0, 3200.0], "fmc": [3110.0, 3210.0],
        "door": [3150.0, 3250.0], "reperfusion": [NAN_, NAN_], "reperfusion_kind": ["none", "none"],
        "ecg": [3120.0, 3219.5], "station": ["lead"] * 2, "destination": ["lead"] * 2})
    assert _k(d)["fmc_to_ecg_within_10_share", "county"] == pytest.approx(1 / 2)


# ---------------------------------------------------------------------------- payment

def test_global_budget_surplus_is_budget_minus_spending_exactly():
    d = hand_made()
    pay = PaymentConfig(name="gb", global_budget=True, budget_per_capita_cny_per_year=900.0, surplus_kept_share=0.6)
    k = _k(d, payment=pay)
    budget = 900.0 * 2000
    spend = k["insurer_spending_per_year", "county"]
    assert spend == pytest.approx(k["insurer_spending_per_year", "in_county"]
                                  + k["insurer_spending_per_year", "out_of_county"])
    assert k["budget_per_year", "county"] == budget
    assert k["budget_surplus_per_year", "county"] == pytest.approx(budget - spend, rel=0, abs=1e-6)
    assert k["community_retained_per_year", "county"] == pytest.approx(0.6 * (budget - spend), rel=0, abs=1e-6)


def test_payment_scenarios_compose_with_their_behavioural_factors():
    none = compose("network=toy", "run=test")
    assert (none.payment.name, none.payment.down_referral_factor, none.payment.outflow_factor) == ("none", 1.0, 1.0)
    gb = compose("network=toy", "run=test", "payment=global_budget")
    assert gb.payment.global_budget and gb.payment.down_referral_factor > 1 and gb.payment.outflow_factor < 1
    diff = compose("network=toy", "run=test", "payment=differential")
    assert diff.payment.name == "differential" and not diff.payment.global_budget
    assert diff.care.prices.reimburse_inpatient != none.care.prices.reimburse_inpatient


# ---------------------------------------------------------------------------- running costs

@pytest.fixture(scope="module")
def remote_runs():
    base = sim.run(compose("network=toy", "run=test"), jobs=1)
    remote = sim.run(compose("network=toy", "run=test", "levers=remote_ecg_imaging"), jobs=1)
    return base, remote


def _cost(r, group: str = "county") -> float:
    k = r.kpis
    return float(k[(k["metric"] == "running_cost_per_year") & (k["group"] == group)]["value"].mean())


def test_the_remote_lever_is_never_free(remote_runs):
    base, remote = remote_runs
    assert _cost(base, "remote") == 0.0
    assert _cost(remote, "remote") > 0.0
    assert _cost(remote) > _cost(base)
    # the county total is the sum of its items
    k = remote.kpis[(remote.kpis["metric"] == "running_cost_per_year") & (remote.kpis["replication"] == 0)]
    items = k[k["group"] != "county"]["value"].sum()
    assert float(k[k["group"] == "county"]["value"].iloc[0]) == pytest.approx(items)
