"""A county that behaves like a real one: stays lost to the city hospital at the rate the choice
model says, residents cared for elsewhere, down-referral of chronic and rehab patients, township
centres that read their own studies, patients who wait.

Rates are checked against the model's own probabilities with binomial tolerances (4 standard
errors), and directions under common random numbers (same seed, same patients).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from sim.config import Condition, Config, Dist, Facility, Hours, NetworkConfig, Road, RunConfig, Village
from sim.county.patients import Catalogue
from sim.county.routing import out_of_county_probability
from sim.model.world import World, run_replication

ROOT = Path(__file__).resolve().parent.parent
H24 = Hours(open_hour=0.0, close_hour=24.0, weekend_share=1.0)
DAY = 1440.0


def county(conditions: dict[str, Condition], days: float = 60.0, population: int = 20000, seed: int = 7,
           **care_changes) -> Config:
    """One village beside a township centre and a roomy lead hospital; the city hospital 2 h away."""
    lead = Facility(kind="lead", tier=2, hours=H24, beds=400, doctors={"general": 20, "emergency": 4, "rehab": 2},
                    night_doctors={"general": 20, "emergency": 4, "rehab": 2},
                    acquire=["ecg", "xray", "lab", "ct"], read=["ecg", "xray", "lab", "ct"], ambulances=2)
    t1 = Facility(kind="township", tier=1, lead="lead", hours=H24, doctors={"general": 10},
                  night_doctors={"general": 10}, beds=200, acquire=["xray", "lab"], read=["xray", "lab"])
    net = NetworkConfig(name="test", villages={"v": Village(population=population, clinic_doctors=0)},
                        facilities={"t1": t1, "lead": lead, "city": Facility(kind="tertiary", tier=3)},
                        roads=[Road("v", "t1", 10.0), Road("v", "lead", 30.0), Road("t1", "lead", 20.0),
                               Road("lead", "city", 120.0)])
    base = sim.compose(["network=toy", "care=default", "run=test"])   # the hand-written care file
    care = dataclasses.replace(base.care, conditions=conditions)
    for part, changes in care_changes.items():
        care = dataclasses.replace(care, **{part: dataclasses.replace(getattr(care, part), **changes)})
    return Config(network=net, care=care,
                  run=RunConfig(horizon_days=days, warmup_days=0, replications=1, jobs=1, seed=seed))


def inpatient(**kw) -> Condition:
    base = dict(incidence_per_1000=400.0, min_tier=2, admit_prob=1.0, priority=1,
                los_days=Dist("lognormal", 4.0, 0.5), consult_minutes=[5.0, 5.0, 5.0, 5.0])
    base.update(kw)
    return Condition(**base)


def tables(cfg: Config):
    return run_replication(cfg, 0).tables


def lead_decisions(t) -> tuple[int, int]:
    """Patients whose lead-hospital consult ended in a decision to admit: (went out, all)."""
    v = t["visits"]
    lead = v[(v["facility"].astype(str) == "lead") & v["start"].notna()]
    decided = lead[lead["outcome"].astype(str).isin(["admitted", "referred_up"])]
    out = v[(v["facility"].astype(str) == "city") & (v["mode"].astype(str) == "referral")]
    return int(out["patient"].isin(decided["patient"]).sum()), int(decided["patient"].nunique())


def within(k: int, n: int, p: float, z: float = 4.0) -> bool:
    return abs(k / n - p) <= z * math.sqrt(p * (1 - p) / n) + 1.0 / n


def test_a_lead_hospital_loses_stays_at_the_rate_the_choice_model_says():
    cfg = county({"x": inpatient(outflow_bias=1.0)}, choice={"include_tertiary": False},
                 behaviour={"elsewhere_share": 0.0})
    w = World(cfg, 0)
    lead, c = w.county.facility_ids.index("lead"), 0
    p = w.p_out[lead][c]
    assert p == pytest.approx(out_of_county_probability(cfg.care, Catalogue.from_config(cfg.care), c, 2, 0.0,
                                                        w.ftravel[lead][w.tertiary]))
    assert 0.05 < p < 0.95
    out, n = lead_decisions(tables(cfg))
    assert n > 1000
    assert within(out, n, p), (out, n, p)


def test_the_outflow_bias_of_a_condition_drives_its_outflow():
    cfg = county({"low": inpatient(outflow_bias=-1.0), "high": inpatient(outflow_bias=2.0)})
    w = World(cfg, 0)
    lead = w.county.facility_ids.index("lead")
    assert w.p_out[lead][1] > w.p_out[lead][0]
    t = tables(cfg)
    a = t["admissions"]
    cond = t["patients"].set_index("patient")["condition"].astype(str)
    out = a[a["facility"].astype(str) == "city"]
    by = cond.reindex(out["patient"]).value_counts()
    assert by.get("high", 0) > 2 * by.get("low", 0) > 0


def test_better_out_of_county_reimbursement_raises_outflow_patient_by_patient():
    """Under common random numbers the same patients arrive; a better tier-3 reimbursement only
    ever moves patients out of county (each patient's choice is the inverse CDF at their own draw)."""
    def out_patients(rate: float) -> set[int]:
        prices = sim.compose(["network=toy", "run=test"]).care.prices
        reimb = list(prices.reimburse_inpatient)
        reimb[3] = rate
        cfg = county({"x": inpatient(outflow_bias=0.5)}, prices={"reimburse_inpatient": reimb})
        t = tables(cfg)
        v = t["visits"]
        return set(v[v["facility"].astype(str) == "city"]["patient"]), len(t["patients"])

    low, n_low = out_patients(0.3)
    high, n_high = out_patients(0.9)
    assert n_low == n_high
    assert len(high) > len(low)
    assert low <= high


def test_down_referrals_for_chronic_and_rehab_patients_at_the_configured_rate():
    cfg = county({"chronic": inpatient(down_refer_prob=0.3, min_tier=2),
                  "rehab": inpatient(down_refer_prob=0.5, min_tier=2, specialty="rehab")},
                 choice={"include_tertiary": False, "beta_stay_away": -50.0}, behaviour={"elsewhere_share": 0.0})
    t = tables(cfg)
    p = t["patients"]
    a = t["admissions"]
    lead_done = a[(a["facility"].astype(str) == "lead") & a["discharge"].notna()]["patient"].unique()
    done = p[p["patient"].isin(lead_done)]
    for cond, rate in (("chronic", 0.3), ("rehab", 0.5)):
        d = done[done["condition"].astype(str) == cond]
        k, n = int((d["down_referrals"] > 0).sum()), len(d)
        assert n > 500
        assert within(k, n, rate), (cond, k, n)
    v = t["visits"]
    down = v[v["mode"].astype(str) == "down_referral"]
    assert set(down["facility"].astype(str)) == {"t1"}


def test_residents_who_live_elsewhere_get_their_care_out_of_county():
    share = 0.1
    cfg = county({"x": inpatient(admit_prob=0.5, min_tier=1)}, behaviour={"elsewhere_share": share})
    t = tables(cfg)
    v = t["visits"]
    first = v.groupby("patient").head(1)
    away = first[first["mode"].astype(str) == "elsewhere"]
    assert within(len(away), len(first), share)
    assert (away["facility"].astype(str) == "city").all()
    # their whole episode is out of county: no other visit, and a stay there when admitted
    assert not v[v["patient"].isin(away["patient"]) & (v["facility"].astype(str) != "city")].size
    a = t["admissions"]
    stays = a[a["patient"].isin(away["patient"])]
    assert (stays["facility"].astype(str) == "city").all()
    assert within(len(stays), len(away), 0.5)
    none = tables(county({"x": inpatient(admit_prob=0.5, min_tier=1)}, behaviour={"elsewhere_share": 0.0}))
    assert not (none["visits"]["mode"].astype(str) == "elsewhere").any()


def test_an_out_of_county_stay_is_an_admission_row_of_the_tier3_stay():
    factor = [1.0, 1.0, 1.0, 1.5]
    cfg = county({"x": inpatient(outflow_bias=1.0, los_days=Dist("fixed", 4.0, 0.0))},
                 behaviour={"elsewhere_share": 0.0})
    cfg = dataclasses.replace(cfg, care=dataclasses.replace(cfg.care, los_factor_by_tier=factor))
    t = tables(cfg)
    a = t["admissions"]
    city = a[a["facility"].astype(str) == "city"]
    assert len(city) > 100
    assert (city["request"] == city["admit"]).all()
    done = city[city["discharge"].notna()]
    np.testing.assert_allclose(done["discharge"] - done["admit"], 4.0 * 1.5 * DAY)
    assert (city["outcome"].astype(str).isin(["discharged", "in_bed"])).all()
    # every out-of-county visit of this always-admitted condition has its stay
    v = t["visits"]
    assert set(v[v["facility"].astype(str) == "city"]["patient"]) == set(city["patient"])
    # and the episode ended on arrival there
    p = t["patients"].set_index("patient")
    assert (p.loc[city["patient"], "exit"].astype(str) == "transferred_out").all()


def test_township_stays_are_shorter_by_the_tier_factor():
    cond = {"x": inpatient(min_tier=1, los_days=Dist("fixed", 5.0, 0.0), incidence_per_1000=300.0)}
    cfg = county(cond, choice={"include_tertiary": False})
    cfg = dataclasses.replace(cfg, care=dataclasses.replace(cfg.care, los_factor_by_tier=[1.0, 0.6, 1.0, 1.0]))
    t = tables(cfg)
    a = t["admissions"]
    t1 = a[(a["facility"].astype(str) == "t1") & a["discharge"].notna()]
    assert len(t1) > 50
    stays = (t1["discharge"] - t1["admit"]) / DAY
    # deterioration halves a few stays; every other township stay is exactly 0.6 x 5 days
    assert (np.isclose(stays, 3.0) | (stays < 3.0)).all()
    assert np.isclose(stays, 3.0).mean() > 0.9


def test_patients_with_more_patience_renege_less_under_common_random_numbers():
    def reneged(factor: float) -> int:
        cond = {"minor": Condition(incidence_per_1000=20000.0, min_tier=1, consult_minutes=[120.0] * 4,
                                   patience_factor=factor)}
        cfg = county(cond, days=14, population=10000, choice={"include_tertiary": False},
                     behaviour={"patience_hours": [1000.0, 24.0, 0.5], "renege_go_up_prob": 0.0})
        v = tables(cfg)["visits"]
        return int((v["outcome"].astype(str) == "reneged").sum())

    impatient, patient = reneged(1.0), reneged(4.0)
    assert impatient > 50
    assert patient < impatient


def test_bundled_township_centres_read_their_own_ecg_and_xray_except_a_few_weak_ones():
    for path in sorted((ROOT / "scenarios" / "network").glob("*.yaml")):
        if path.stem == "toy":
            continue
        net = yaml.safe_load(path.read_text(encoding="utf-8"))
        t1 = [f for f in net["facilities"].values() if f["tier"] == 1]
        reads = [set(f["read"]) >= {"ecg", "xray", "lab"} for f in t1]
        assert sum(reads) >= 2 / 3 * len(t1), path.stem
        assert not all(reads), f"{path.stem}: the generator keeps a few weak centres (reads lab only)"


def test_avoided_referrals_count_only_patients_the_baseline_referred(tmp_path):
    """Twin by twin under common random numbers: a lever avoids a referral only for a patient the
    baseline referred up; the lever's own count of local decisions includes more."""
    from sim.analysis.paired import twins, versus_baseline
    from sim.experiment.study import run_study

    study = sim.define_study("paired", {"baseline": [], "remote": ["levers=remote_full"]})
    res = run_study(study, ["network=toy", "run=test", "run.horizon_days=10", "run.replications=2"], folder=tmp_path,
                    jobs=1, progress=False, brief=False)
    k = res.kpis[res.kpis["group"] == "county"].set_index(["scenario", "replication", "metric"])["value"]
    for r in (0, 1):
        assert k[("baseline", r, "avoided_referrals")] == 0
        assert k[("remote", r, "unmatched_patients")] == 0  # a lever does not change demand
        assert k[("remote", r, "avoided_referrals")] > 0
        # recomputed from the two runs' patient tables
        base, rem = res.runs["baseline"].patients, res.runs["remote"].patients
        warm = res.runs["baseline"].config.run.warmup_days
        counts = versus_baseline(base[base["replication"] == r], rem[rem["replication"] == r], warm)
        assert counts["avoided_referrals"] == k[("remote", r, "avoided_referrals")]
        up_base = base[(base["replication"] == r) & (base["onset"] >= warm * DAY)]["up_referrals"].gt(0).sum()
        assert counts["avoided_referrals"] <= up_base
    # a scenario that changes demand has patients without twins
    b0 = base[base["replication"] == 0]
    t, unmatched = twins(b0, b0[b0["patient"] % 2 == 0], 0.0)
    assert unmatched > 0 and len(t) > 0


def test_a_global_budget_moves_down_referral_and_outflow_as_configured():
    """The payment lever's behavioural factors act through the model under common random numbers:
    more down-referrals, fewer stays lost to the city hospital, the same patients."""
    def run_with(down: float, outflow: float):
        cfg = county({"chronic": inpatient(down_refer_prob=0.2, outflow_bias=1.0)}, behaviour={"elsewhere_share": 0.0})
        cfg = dataclasses.replace(cfg, payment=dataclasses.replace(cfg.payment, down_referral_factor=down,
                                                                   outflow_factor=outflow))
        w = World(cfg, 0)
        lead = w.county.facility_ids.index("lead")
        t = tables(cfg)
        p = t["patients"]
        out = set(t["visits"][t["visits"]["facility"].astype(str) == "city"]["patient"])
        return w.p_out[lead][0], int((p["down_referrals"] > 0).sum()), out, len(p)

    p0, down0, out0, n0 = run_with(1.0, 1.0)
    p1, down1, out1, n1 = run_with(2.0, 0.5)
    assert n0 == n1
    assert p1 == pytest.approx(p0 * 0.5 / (1 - p0 + p0 * 0.5))  # the odds halve
    assert len(out1) < len(out0) and out1 <= out0  # each patient who stays in county stays with the budget
    assert down1 > 1.5 * down0


def test_unmet_need_counts_refused_admissions_and_untreated_patients_by_condition():
    """A short-bedded township refuses admissions (then transfers the patient up): the KPI counts
    exactly the no-bed rows; left-untreated counts by condition add up to the county's."""
    from sim.experiment.replication import replicate

    cfg = county({"x": inpatient(min_tier=1, incidence_per_1000=2000.0, los_days=Dist("fixed", 3.0, 0.0)),
                  "minor": Condition(incidence_per_1000=20000.0, min_tier=1, consult_minutes=[60.0] * 4)},
                 days=20, population=5000, choice={"include_tertiary": False},
                 behaviour={"bed_wait_max_hours": 1.0, "patience_hours": [1000.0, 24.0, 0.5],
                            "renege_go_up_prob": 0.0})
    cfg = dataclasses.replace(cfg, network=dataclasses.replace(
        cfg.network, facilities={**cfg.network.facilities,
                                 "t1": dataclasses.replace(cfg.network.facilities["t1"], beds=5)}))
    out = replicate(cfg, 0)
    k = out["kpis"].set_index(["metric", "group"])["value"]
    a = out["tables"]["admissions"]
    tier = {"t1": 1, "lead": 2, "city": 3}
    warm = cfg.run.warmup_days * DAY
    p = out["tables"]["patients"]
    keep = set(p[p["onset"] >= warm]["patient"])
    rows = a[a["patient"].isin(keep) & (a["outcome"].astype(str) == "no_bed")]
    t1 = int((rows["facility"].astype(str).map(tier) == 1).sum())
    assert t1 > 10
    assert k[("refused_admissions", "tier1")] == t1
    assert k[("refused_admissions", "county")] == int(rows["facility"].astype(str).map(tier).between(1, 2).sum())
    left = k[("left_untreated", "county")]
    assert left > 0
    assert k[("left_untreated", "condition:x")] + k[("left_untreated", "condition:minor")] == left


def test_a_township_allowed_to_do_births_admits_them_and_others_refer_them_up():
    births = {"birth": inpatient(min_tier=2, specialty="obstetrics", incidence_per_1000=60.0,
                                 los_days=Dist("fixed", 3.0, 0.0))}

    def t1_stays(manages: list[str]) -> tuple[int, int]:
        cfg = county(births, days=30, choice={"include_tertiary": False}, behaviour={"elsewhere_share": 0.0})
        fac = {**cfg.network.facilities, "t1": dataclasses.replace(cfg.network.facilities["t1"], manages=manages)}
        cfg = dataclasses.replace(cfg, network=dataclasses.replace(cfg.network, facilities=fac))
        sim.config.validate(cfg)
        t = tables(cfg)
        a, v = t["admissions"], t["visits"]
        at_t1 = a[(a["facility"].astype(str) == "t1") & a["admit"].notna()]
        referred = v[(v["facility"].astype(str) == "t1") & (v["outcome"].astype(str) == "referred_up")]
        return len(at_t1), len(referred)

    allowed, not_allowed = t1_stays(["birth"]), t1_stays([])
    assert allowed[0] > 20 and allowed[1] == 0
    assert not_allowed[0] == 0 and not_allowed[1] > 20
    bad = county(births)
    bad.network.facilities["t1"].manages = ["brith"]
    with pytest.raises(sim.ConfigError, match=r"^network\.facilities\.t1\.manages: names 'brith'"):
        sim.config.validate(bad)


def test_the_expert_levers_choice_is_the_base_choice_model_with_the_visits_capability():
    """adjust_choice recomputes visited options with routing.utilities: a weight on an option the
    patient already sees as capable changes nothing, so the table equals the base one."""
    from sim.levers.expert import adjust_choice

    w = World(sim.compose(["network=toy", "run=test"]), 0)
    before = [[[list(x) for x in per_c] for per_c in per_v] for per_v in w.choice.cum]
    c = w.cat.ids.index("common_acute")  # min tier 1: a township is capable to the unworried
    t1 = [f for f in range(w.F) if w.tier[f] == 1]
    w.choice_weight.clear()
    w.choice_weight.update({(f, c): 1.0 for f in t1})
    adjust_choice(w)
    for v in range(w.county.n_villages):
        np.testing.assert_allclose(w.choice.cum[v][c][0], before[v][c][0], rtol=0, atol=1e-12)
    # and the worried (who think it needs the lead) now see the township as capable: more go there
    v = 0
    opts = w.choice.options[v][c]
    j = next(i for i, o in enumerate(opts) if o in t1)
    share = lambda cum: cum[j] - (cum[j - 1] if j else 0.0)  # noqa: E731
    assert share(w.choice.cum[v][c][1]) > share(before[v][c][1])
