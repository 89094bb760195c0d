"""Two-way referral under pressure: blocking after service, circular waits and their resolution."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import sim
from sim.config import Config, Facility, Hours, NetworkConfig, Road, RunConfig, Village
from sim.county.patients import A_ADMIT, A_DOWN, A_LOS, A_RENEGE, ATTRS
from sim.model.flow import Journey, ambulance_call, care
from sim.model.world import World

H24 = Hours(open_hour=0.0, close_hour=24.0, weekend_share=1.0)
DAY = 1440.0


def tiny(t1_beds: int = 1, lead_beds: int = 1, clinic_doctors: int = 0) -> World:
    lead = Facility(kind="lead", tier=2, hours=H24, beds=lead_beds,
                    doctors={"general": 2, "emergency": 2, "cardiology": 1},
                    night_doctors={"general": 2, "emergency": 2, "cardiology": 1},
                    acquire=["ecg", "xray", "lab", "cathlab"], read=["ecg", "xray", "lab", "cathlab"], ambulances=2)
    t1 = Facility(kind="township", tier=1, lead="lead", hours=H24, doctors={"general": 2},
                  night_doctors={"general": 2}, beds=t1_beds, acquire=["xray", "lab"], read=["xray", "lab"])
    net = NetworkConfig(name="tiny", villages={"v": Village(population=1000, clinic_doctors=clinic_doctors)},
                        facilities={"t1": t1, "lead": lead, "city": Facility(kind="tertiary", tier=3)},
                        roads=[Road("v", "t1", 10.0), Road("t1", "lead", 20.0), Road("lead", "city", 60.0)])
    base = sim.compose(["network=toy", "run=test"])
    conds = {k: dataclasses.replace(c, incidence_per_1000=0.0) for k, c in base.care.conditions.items()}
    care_cfg = dataclasses.replace(base.care, conditions=conds,
                                   behaviour=dataclasses.replace(base.care.behaviour, max_up_wait_hours=12.0,
                                                                 max_block_hours=48.0))
    cfg = Config(network=net, care=care_cfg, run=RunConfig(horizon_days=10, warmup_days=0, replications=1, jobs=1))
    return World(cfg, 0)


def inject(w: World, condition: str, t: float, los_days: float, **u) -> int:
    c = w.cat.ids.index(condition)
    a = [0.5] * len(ATTRS)
    a[A_ADMIT] = 0.0
    tier = 2 if u.get("ambulance") else w.tier[w.county.facility_ids.index(u["site"])]
    a[A_LOS] = los_days * DAY / w.los[tier][c]
    a[A_RENEGE] = u.get("renege", 0.99)
    a[A_DOWN] = u.get("down", 0.99)
    pid = w.log.new_patients(np.array([0]), np.array([c]), np.array([t]), np.array([-1]), np.array([0.0]))
    if u.get("ambulance"):
        Journey(w.env, ambulance_call(w, pid, 0, c, a), t)
    else:
        Journey(w.env, care(w, pid, 0, c, a, w.county.facility_ids.index(u["site"]), 0), t)
    return pid


def tables(w):
    return w.log.tables(w.site_ids, w.county.village_ids, w.cat.ids)


def test_circular_wait_is_detected_resolved_and_never_freezes_the_run():
    w = tiny()
    # A: township inpatient (stay 2 days) who deteriorates at day 1 and needs the lead's only bed
    a = inject(w, "medical_admission", 0.0, 2.0, renege=0.0, site="t1")
    # B: STEMI at the lead (stay ~1 day from its admission), referred down for a tier-1 bed
    b = inject(w, "stemi", 10.0, 1.0, down=0.0, ambulance=True)
    w.run()
    t = tables(w)
    ev = t["lever_events"]
    assert (ev["event"].astype(str) == "circular_wait").sum() == 1
    # resolution: A waited max_up_wait (12 h) holding the tier-1 bed, then went out of county ...
    pa = t["patients"].set_index("patient").loc[a]
    assert pa["exit"] == "transferred_out"
    assert (ev[(ev["patient"] == a)]["event"].astype(str) == "deterioration_out").all()
    # ... which freed the bed B had been waiting for, holding the lead bed (blocking after service)
    adm = t["admissions"]
    b_lead = adm[(adm["patient"] == b) & (adm["facility"].astype(str) == "lead")].iloc[0]
    a_t1 = adm[(adm["patient"] == a) & (adm["facility"].astype(str) == "t1")].iloc[0]
    assert b_lead["blocked_min"] == pytest.approx(a_t1["discharge"] - (b_lead["discharge"] - b_lead["blocked_min"]),
                                                  abs=1e-3)
    b_t1 = adm[(adm["patient"] == b) & (adm["facility"].astype(str) == "t1")]
    assert len(b_t1) == 1 and b_t1["admit"].iloc[0] >= a_t1["discharge"]
    assert t["patients"].set_index("patient").loc[b, "down_referrals"] == 1
    # every bed request has its row: B asked for the tier-1 bed when its lead stay ended and
    # got it the moment A freed it; A asked for the lead bed and got none (no_bed)
    b_row = b_t1.iloc[0]
    assert b_row["request"] == pytest.approx(b_lead["discharge"] - b_lead["blocked_min"], abs=1e-3)
    assert b_row["admit"] == a_t1["discharge"]
    a_lead = adm[(adm["patient"] == a) & (adm["facility"].astype(str) == "lead")]
    assert len(a_lead) == 1 and a_lead["outcome"].iloc[0] == "no_bed" and a_lead["admit"].isna().all()
    assert a_lead["request"].iloc[0] < a_t1["discharge"]


def test_down_referral_takes_a_free_tier1_bed_at_once():
    w = tiny(t1_beds=2)
    b = inject(w, "stemi", 10.0, 1.0, down=0.0, ambulance=True)
    w.run()
    adm = tables(w)["admissions"]
    lead = adm[(adm["patient"] == b) & (adm["facility"].astype(str) == "lead")].iloc[0]
    assert lead["blocked_min"] == 0.0
    down = adm[(adm["patient"] == b) & (adm["facility"].astype(str) == "t1")].iloc[0]
    # the tier-1 bed is granted (and held) when the lead bed is left, before the road trip
    assert down["request"] == down["admit"] == lead["discharge"]
    v = tables(w)["visits"]
    arrive = v[(v["patient"] == b) & (v["facility"].astype(str) == "t1")]["arrive"].iloc[0]
    assert arrive == pytest.approx(down["admit"] + 20.0)  # travel lead -> t1
    assert down["discharge"] - arrive == pytest.approx(w.down_los)


def test_deterioration_moves_up_when_the_lead_has_a_bed():
    w = tiny(lead_beds=2)
    a = inject(w, "medical_admission", 0.0, 2.0, renege=0.0, site="t1")
    w.run()
    t = tables(w)
    assert t["patients"].set_index("patient").loc[a, "exit"] == "completed"
    adm = t["admissions"]
    assert set(adm[adm["patient"] == a]["facility"].astype(str)) == {"t1", "lead"}
    assert (t["lever_events"]["event"].astype(str) == "deterioration_up").sum() == 1
    # the lead bed is requested half-way through the tier-1 stay, granted at once and held
    # from then on, through the ambulance transfer: the lead row starts at the grant
    t1 = adm[(adm["patient"] == a) & (adm["facility"].astype(str) == "t1")].iloc[0]
    lead = adm[(adm["patient"] == a) & (adm["facility"].astype(str) == "lead")].iloc[0]
    assert lead["request"] == lead["admit"] == t1["discharge"]
    assert t1["discharge"] - t1["admit"] == pytest.approx(1.0 * DAY)
    v = t["visits"]
    arrive = v[(v["patient"] == a) & (v["facility"].astype(str) == "lead")]["arrive"].iloc[0]
    # the lead's ambulance: dispatch, lead -> t1, handover, t1 -> lead
    assert arrive - lead["admit"] == pytest.approx(w.dispatch + 20.0 + w.handover + 20.0)
    assert lead["discharge"] - arrive == pytest.approx(2.0 * DAY)


def test_pressure_kpis_are_reported():
    cfg = sim.compose(["network=toy", "run=test", "care.behaviour.deterioration_prob=0.5"])
    k = sim.run(cfg).kpis.set_index(["metric", "group"])["value"]
    for m in ("delayed_discharge_bed_days_per_year", "circular_waits", "down_bed_timeouts",
              "deterioration_transfers_up", "deterioration_transfers_out"):
        assert (m, "county") in k.index
    assert k["deterioration_transfers_up", "county"] + k["deterioration_transfers_out", "county"] > 0
