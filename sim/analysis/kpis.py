"""Tables -> KPIs -> summaries with confidence intervals and paired differences.

Pure functions of the record tables (:mod:`sim.records.log`) and the site/village tables; no
SimPy here, so saved outputs can be analysed, and re-priced, without re-running the model.
Every KPI table is long and tidy: ``scenario, replication, metric, group, value`` where
``group`` is ``"county"`` or a tier / facility id.

Every KPI is declared once, with its names, unit, definition and source, in
:mod:`sim.analysis.registry` (the reference table is ``docs/kpis.md``); :data:`KPI_ZH` and
:data:`KPI_BETTER` are views of it.  For example:

- ``county_retention`` 县域内就诊率: of the episodes that received care, the share completed
  inside the county (completed / (completed + out of county)); episodes that ended untreated
  are excluded here and counted by ``left_untreated_share``.
- ``grassroots_share`` 基层就诊率: share of visits at village clinics and township/community centres.
- ``outward_transfer_rate`` 外转率: share of ended episodes referred or transferred out of county.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.registry import REGISTRY
from sim.config import MODALITIES, Prices, RestructureConfig
from sim.records.log import TEST_BIT
from sim.records.result import TABLES, RunResult

__all__ = ["KPI_ZH", "KPI_BETTER", "kpis", "price", "summarise", "paired_differences", "mean_ci"]

DAY = 1440.0

#: Chinese name of every KPI (a view of :data:`sim.analysis.registry.REGISTRY`, where each KPI is declared).
KPI_ZH = {k: v.zh for k, v in REGISTRY.items()}

#: +1 if higher is better, -1 if lower is better, 0 if neither (a view of the registry).
KPI_BETTER = {k: v.better for k, v in REGISTRY.items()}


def _tier_of(sites: pd.DataFrame) -> pd.Series:
    return sites.set_index("site")["tier"]


def price(tables: dict[str, pd.DataFrame], sites: pd.DataFrame, conditions: pd.DataFrame,
          prices: Prices, horizon_min: float) -> dict[str, pd.DataFrame]:
    """Cost of every visit and admission, in CNY, from the records (re-pricing needs no re-run).

    Returns ``visits`` with ``medical, oop, insurer`` columns (outpatient part, incl. tests and
    ambulance) and ``admissions`` with ``bed_days, medical, oop, insurer`` (bed-days from the
    grant of the bed, ``admit``, to ``discharge`` or the horizon: the bed-minutes the bed pools
    integrate, transfers between sites included).  A visit to the
    out-of-county node is priced at a tier-3 consult plus the *expected* tier-3 stay for its
    condition (``admit_prob x mean stay x bed-day``): the model does not simulate care there.
    """
    tier = _tier_of(sites)
    v = tables["visits"]
    a = tables["admissions"]
    p = tables["patients"]
    vt = v["facility"].map(tier).astype(np.int64).to_numpy()
    seen = ~np.isnan(v["start"].to_numpy())
    consult = np.asarray(prices.consult)[vt] * seen
    tests = np.zeros(len(v))
    mask = v["tests"].to_numpy().astype(np.int64)
    for m in MODALITIES:
        tests += ((mask & TEST_BIT[m]) > 0) * prices.tests.get(m, 0.0)
    amb = (v["mode"].astype(str).to_numpy() == "ambulance") * prices.ambulance_trip
    medical = consult + tests + amb
    reimb = np.asarray(prices.reimburse_outpatient)[vt]
    # expected out-of-county stay
    cond_of_patient = p["condition"].to_numpy()
    vc = pd.Categorical(np.asarray(cond_of_patient)[v["patient"].to_numpy()], categories=conditions.index)
    exp_days = (conditions["admit_prob"] * conditions["los_mean_days"]).reindex(vc).to_numpy()
    out = vt == 3
    inpatient_out = np.where(out, exp_days * prices.bed_day[3], 0.0)
    oop = medical * (1 - reimb) + inpatient_out * (1 - prices.reimburse_inpatient[3])
    insurer = medical * reimb + inpatient_out * prices.reimburse_inpatient[3]
    visits = pd.DataFrame({"patient": v["patient"].to_numpy(), "tier": vt, "medical": medical + inpatient_out,
                           "oop": oop, "insurer": insurer})
    at = a["facility"].map(tier).astype(np.int64).to_numpy()
    admit = a["admit"].to_numpy()
    dis = a["discharge"].to_numpy()
    days = np.where(np.isnan(admit), 0.0, (np.where(np.isnan(dis), horizon_min, dis) - np.nan_to_num(admit)) / DAY)
    med_a = days * np.asarray(prices.bed_day)[at]
    r_in = np.asarray(prices.reimburse_inpatient)[at]
    admissions = pd.DataFrame({"patient": a["patient"].to_numpy(), "tier": at, "bed_days": days,
                               "medical": med_a, "oop": med_a * (1 - r_in), "insurer": med_a * r_in,
                               "admitted": ~np.isnan(admit)})
    return {"visits": visits, "admissions": admissions}


def _row(rows: list, metric: str, value: float, group: str = "county") -> None:
    rows.append((metric, group, float(value)))


def kpis(tables: dict[str, pd.DataFrame], occupancy: pd.DataFrame, sites: pd.DataFrame,
         villages: pd.DataFrame, conditions: pd.DataFrame, prices: Prices, warmup_days: float,
         horizon_days: float, restructure: RestructureConfig | None = None) -> pd.DataFrame:
    """All KPIs of one replication after the warm-up cut, as a tidy table.

    Episodes count from their onset after the warm-up; visits and admissions belong to those
    episodes; utilisation uses the post-warm-up days of the occupancy table.
    """
    rows: list = []
    warm = warmup_days * DAY
    years = (horizon_days - warmup_days) / 365.0
    pop = float(villages["population"].sum())
    p = tables["patients"]
    keep = p["onset"].to_numpy() >= warm
    pk = p[keep]
    pids = pk["patient"].to_numpy()
    v = tables["visits"]
    v = v[np.isin(v["patient"].to_numpy(), pids)]
    a = tables["admissions"]
    a = a[np.isin(a["patient"].to_numpy(), pids)]
    tier = _tier_of(sites)
    vt = v["facility"].map(tier).astype(np.int64).to_numpy()
    exit_ = pk["exit"].astype(str).to_numpy()
    ended = exit_ != "in_system"
    n_ended = max(int(ended.sum()), 1)
    n_ep = len(pk)
    _row(rows, "episodes", n_ep)
    _row(rows, "visits_per_person_year", len(v) / pop / years if pop > 0 else math.nan)
    admitted = ~np.isnan(a["admit"].to_numpy())
    # expected out-of-county admissions count too (the model does not simulate tier-3 care)
    cond_of = pd.Series(pk["condition"].to_numpy(), index=pids)
    out_visits = v[vt == 3]
    exp_out_adm = conditions["admit_prob"].reindex(cond_of.reindex(out_visits["patient"].to_numpy()).to_numpy()).sum()
    _row(rows, "admissions_per_person_year", (admitted.sum() + exp_out_adm) / pop / years if pop > 0 else math.nan)
    completed = int((exit_ == "completed").sum())
    out_county = int((exit_ == "transferred_out").sum())
    _row(rows, "county_retention", completed / (completed + out_county) if completed + out_county else math.nan)
    _row(rows, "grassroots_share", (vt <= 1).sum() / max(len(v), 1))
    mode = v["mode"].astype(str).to_numpy()
    out_ref = (vt == 3) & (mode != "self")
    out_self = (vt == 3) & (mode == "self")
    _row(rows, "outward_transfer_rate", out_ref.sum() / n_ended)
    _row(rows, "self_referral_out_of_county_rate", out_self.sum() / n_ended)
    up = int(pk["up_referrals"].sum())
    down = int(pk["down_referrals"].sum())
    _row(rows, "up_referrals", up)
    _row(rows, "up_referral_rate", up / max(n_ep, 1))
    _row(rows, "down_referrals", down)
    at = a["facility"].map(tier).astype(np.int64).to_numpy()
    discharged_t2 = ((at == 2) & ~np.isnan(a["discharge"].to_numpy())).sum()
    _row(rows, "down_referral_rate", down / discharged_t2 if discharged_t2 else math.nan)
    wait = v["start"].to_numpy() - v["arrive"].to_numpy()
    for t in (0, 1, 2):
        w = wait[(vt == t) & ~np.isnan(wait)]
        _row(rows, "wait_mean_min", w.mean() if len(w) else math.nan, f"tier{t}")
        _row(rows, "wait_p90_min", np.percentile(w, 90) if len(w) else math.nan, f"tier{t}")
    w = wait[(vt <= 2) & ~np.isnan(wait)]
    _row(rows, "wait_mean_min", w.mean() if len(w) else math.nan)
    _row(rows, "wait_p90_min", np.percentile(w, 90) if len(w) else math.nan)
    _row(rows, "travel_mean_min", float(pk["travel_min"].mean()) if n_ep else math.nan)
    _row(rows, "left_untreated_share", (exit_ == "left_untreated").sum() / n_ended)

    # utilisation from the daily occupancy after warm-up
    occ = occupancy[occupancy["day"] >= int(math.ceil(warmup_days))]
    if len(occ):
        occ = occ.assign(kind=occ["resource"].str.split(":").str[0],
                         tier=occ["facility"].map(tier).fillna(0).astype(int))
        docs = occ[occ["kind"] == "doctors"]
        g = docs.groupby("facility", observed=True)[["in_use", "capacity"]].sum()
        g = g[g.index.map(tier).fillna(0).astype(int) > 0]
        for fid, r in g.iterrows():
            _row(rows, "doctor_utilisation", r["in_use"] / r["capacity"] if r["capacity"] > 0 else math.nan, str(fid))
        for t in (0, 1, 2):
            d = docs[docs["tier"] == t]
            cap = d["capacity"].sum()
            _row(rows, "doctor_utilisation", d["in_use"].sum() / cap if cap > 0 else math.nan, f"tier{t}")
        beds = occ[occ["kind"] == "beds"]
        g = beds.groupby("facility", observed=True)[["in_use", "capacity"]].sum()
        for fid, r in g.iterrows():
            _row(rows, "bed_occupancy", r["in_use"] / r["capacity"] if r["capacity"] > 0 else math.nan, str(fid))
        for t in (1, 2):
            d = beds[beds["tier"] == t]
            cap = d["capacity"].sum()
            _row(rows, "bed_occupancy", d["in_use"].sum() / cap if cap > 0 else math.nan, f"tier{t}")

    # STEMI: first medical contact to reperfusion
    e = tables["emergency"]
    e = e[np.isin(e["patient"].to_numpy(), pids)]
    stemi_ids = conditions.index[conditions["pathway"] == "stemi"]
    e_cond = cond_of.reindex(e["patient"].to_numpy()).to_numpy()
    es = e[np.isin(e_cond, stemi_ids)]
    es = es[~np.isnan(es["fmc"].to_numpy())]
    if len(es):
        d = es["reperfusion"].to_numpy() - es["fmc"].to_numpy()
        done = d[~np.isnan(d)]
        _row(rows, "stemi_fmc_to_reperfusion_median_min", np.median(done) if len(done) else math.nan)
        _row(rows, "stemi_within_120_share", (np.nan_to_num(d, nan=np.inf) <= 120).mean())
    else:
        _row(rows, "stemi_fmc_to_reperfusion_median_min", math.nan)
        _row(rows, "stemi_within_120_share", math.nan)

    _emergency_standards(rows, e, e_cond, conditions)
    _referral_pressure(rows, a, tables.get("lever_events"), pids, years)
    _access_kpis(rows, pk, e, villages, visits=v, vt=vt, years=years)
    if restructure is not None:
        _cost_kpis(rows, sites, restructure)

    # costs
    priced = price({"visits": v, "admissions": a, "patients": p}, sites, conditions, prices,
                   horizon_days * DAY)
    pv, pa = priced["visits"], priced["admissions"]
    travel_oop = float(pk["travel_min"].sum()) / 60.0 * prices.travel_per_hour
    nv = max(len(pv), 1)
    _row(rows, "oop_per_visit", (pv["oop"].sum() + travel_oop) / nv)
    _row(rows, "insurer_per_visit", pv["insurer"].sum() / nv)
    na = max(int(pa["admitted"].sum()), 1)
    _row(rows, "oop_per_admission", pa["oop"].sum() / na)
    _row(rows, "insurer_per_admission", pa["insurer"].sum() / na)
    _row(rows, "oop_per_episode", (pv["oop"].sum() + pa["oop"].sum() + travel_oop) / max(n_ep, 1))
    _row(rows, "insurer_per_episode", (pv["insurer"].sum() + pa["insurer"].sum()) / max(n_ep, 1))
    _lever_kpis(rows, tables, occupancy, pk, v, vt, conditions, warm, warmup_days)
    return pd.DataFrame(rows, columns=["metric", "group", "value"])


def _referral_pressure(rows: list, a: pd.DataFrame, events: pd.DataFrame | None, pids: np.ndarray,
                       years: float) -> None:
    """Two-way referral under pressure: delayed-discharge bed-days (a hospital bed kept while
    waiting for a tier-1 bed), circular waits, deteriorations moved up or out."""
    blocked = a["blocked_min"].to_numpy(dtype=float) if "blocked_min" in a else np.zeros(0)
    _row(rows, "delayed_discharge_bed_days_per_year", blocked.sum() / DAY / years if years > 0 else math.nan)
    counts = {"circular_wait": 0, "down_bed_timeout": 0, "deterioration_up": 0, "deterioration_out": 0}
    if events is not None and len(events):
        ev = events[np.isin(events["patient"].to_numpy(), pids)]["event"].astype(str).value_counts()
        for k in counts:
            counts[k] = int(ev.get(k, 0))
    _row(rows, "circular_waits", counts["circular_wait"])
    _row(rows, "down_bed_timeouts", counts["down_bed_timeout"])
    _row(rows, "deterioration_transfers_up", counts["deterioration_up"])
    _row(rows, "deterioration_transfers_out", counts["deterioration_out"])


def _emergency_standards(rows: list, e: pd.DataFrame, e_cond: np.ndarray, conditions: pd.DataFrame) -> None:
    """Chest-pain and stroke centre standards: door-to-balloon (<= 90 min), first contact to
    ECG (<= 10 min), the share of STEMI reperfused by thrombolysis, stroke onset-to-needle."""
    if "reperfusion_kind" not in e:
        return
    kind = e["reperfusion_kind"].astype(str).to_numpy()
    stemi = np.isin(e_cond, conditions.index[conditions["pathway"] == "stemi"])
    stroke = np.isin(e_cond, conditions.index[conditions["pathway"] == "stroke"])
    pci = stemi & (kind == "pci")
    d2b = (e["reperfusion"] - e["door"]).to_numpy()[pci]
    _row(rows, "door_to_balloon_median_min", np.median(d2b) if len(d2b) else math.nan)
    _row(rows, "door_to_balloon_within_90_share", (d2b <= 90).mean() if len(d2b) else math.nan)
    f2e = (e["ecg"] - e["fmc"]).to_numpy()[stemi]
    _row(rows, "fmc_to_ecg_within_10_share",
         (np.nan_to_num(f2e, nan=np.inf) <= 10).mean() if len(f2e) else math.nan)
    reperfused = stemi & (kind != "none")
    _row(rows, "stemi_thrombolysis_share",
         (stemi & (kind == "thrombolysis")).sum() / reperfused.sum() if reperfused.any() else math.nan)
    o2n = (e["reperfusion"] - e["call"]).to_numpy()[stroke & (kind == "stroke_thrombolysis")]
    _row(rows, "stroke_onset_to_needle_median_min", np.median(o2n) if len(o2n) else math.nan)


def _access_kpis(rows: list, pk: pd.DataFrame, e: pd.DataFrame, villages: pd.DataFrame, visits: pd.DataFrame,
                 vt: np.ndarray, years: float) -> None:
    """Travel to the first contact (per village and county-wide), 120 response times, and the
    volume each site sees (the measures of downsizing)."""
    called = e.loc[e["station"].notna(), "patient"].to_numpy() if "station" in e else np.zeros(0)
    self_ = pk[pk["first_facility"].notna() & ~np.isin(pk["patient"].to_numpy(), called)]
    ft = self_["first_travel_min"].to_numpy(dtype=float)
    if len(ft):
        _row(rows, "first_contact_travel_mean_min", ft.mean())
        _row(rows, "first_contact_travel_p90_min", np.percentile(ft, 90))
        _row(rows, "share_beyond_30_min", (ft > 30).mean())
        _row(rows, "share_beyond_60_min", (ft > 60).mean())
        g = self_.assign(ft=ft).groupby("village", observed=True)["ft"]
        for vid, m in g.mean().items():
            _row(rows, "first_contact_travel_mean_min", m, str(vid))
        for vid, m in g.quantile(0.9).items():
            _row(rows, "first_contact_travel_p90_min", m, str(vid))
    resp = (e["fmc"] - e["call"]).to_numpy(dtype=float)
    ok = ~np.isnan(resp)
    if ok.any():
        r = resp[ok]
        _row(rows, "emergency_first_contact_mean_min", r.mean())
        _row(rows, "emergency_first_contact_p90_min", np.percentile(r, 90))
        _row(rows, "emergency_share_beyond_30_min", (r > 30).mean())
        _row(rows, "emergency_share_beyond_60_min", (r > 60).mean())
        vil = pk.set_index("patient")["village"].reindex(e["patient"].to_numpy()[ok])
        em = pd.Series(r, index=vil.to_numpy()).groupby(level=0).mean()
        for vid, m in em.items():
            _row(rows, "emergency_first_contact_mean_min", m, str(vid))
    days = years * 365.0
    counts = visits.loc[vt >= 1, "facility"].value_counts()
    for fid, n in counts.items():
        if n:
            _row(rows, "site_visits_per_day", n / days, str(fid))
    _row(rows, "site_visits_per_day", (vt == 0).sum() / days, "tier0")


def _cost_kpis(rows: list, sites: pd.DataFrame, rc: RestructureConfig) -> None:
    """Yearly running cost of the open sites' doctors and beds, and capital saved (CNY)."""
    open_ = sites[~sites["closed"] & (sites["tier"] < 3)] if "closed" in sites else sites[sites["tier"] < 3]
    cost = open_["doctors"].sum() * rc.cost_per_doctor_year + open_["beds"].sum() * rc.cost_per_bed_year
    _row(rows, "running_cost_per_year", float(cost))
    _row(rows, "capital_saved", float(rc.capital_saved))


#: lever events that mean "managed at the member site instead of referred up".
AVOIDED_EVENTS = ("expert_avoided", "skill_local", "remote_local", "mdt_local")


def _lever_kpis(rows: list, tables: dict, occupancy: pd.DataFrame, pk: pd.DataFrame, v: pd.DataFrame,
                vt: np.ndarray, conditions: pd.DataFrame, warm: float, warmup_days: float) -> None:
    """KPIs of the policy levers (expert visits, remote diagnosis, tele-ECG; :mod:`sim.levers`).  Emitted
    for every run (zeros when the levers are off) so that a baseline pairs with every lever
    scenario.

    - ``local_treatment_share`` (group = specialty): share of ended non-emergency episodes of
      the specialty's conditions whose treating visit (treated or admitted, the last one) was
      at a village clinic or a member centre (tier <= 1).
    - ``expert_hours_on_site``: doctor-hours specialists spent on site (arrival to departure,
      incl. working off the queue); ``expert_hours_lost_lead``: doctor-hours lead-hospital
      specialists were away from the lead, travel included (visits arriving after warm-up;
      also by specialty).
    - ``deferred_patients`` and ``deferred_extra_wait_days_mean``: patients sent home to wait
      for the next visit, and their extra days.
    - ``remote_studies`` (reported or failed), ``remote_failures``, turnaround (report minus
      sent: transmission + queue + reading) mean and p90 (also by modality),
      ``remote_backlog_mean`` (time-weighted studies waiting for a reader, all centres),
      ``reader_utilisation``.
    - ``avoided_referrals``: patients managed locally thanks to a lever (expert on site for a
      condition the site otherwise refers, skill transfer, remote report, remote consult).
    """
    pids = pk["patient"].to_numpy()
    out = v["outcome"].astype(str).to_numpy()
    treat = np.isin(out, ("treated", "admitted"))
    last_tier = pd.Series(vt[treat], index=v["patient"].to_numpy()[treat])
    last_tier = last_tier[~last_tier.index.duplicated(keep="last")]
    exit_ = pk["exit"].astype(str).to_numpy()
    ended = exit_ != "in_system"
    cond = pk["condition"].astype(str).to_numpy()
    spec = conditions["specialty"].reindex(cond).to_numpy()
    outp = (conditions["pathway"].reindex(cond) == "outpatient").to_numpy()
    tier_of_pat = last_tier.reindex(pids).to_numpy(dtype=float)
    local = (exit_ == "completed") & (np.nan_to_num(tier_of_pat, nan=9.0) <= 1)
    for sp in sorted(set(conditions.loc[conditions["pathway"] == "outpatient", "specialty"])):
        sel = ended & outp & (spec == sp)
        n = int(sel.sum())
        _row(rows, "local_treatment_share", local[sel].sum() / n if n else math.nan, str(sp))

    xv = tables.get("expert_visits")
    if xv is not None and len(xv):
        xv = xv[xv["arrive"].to_numpy() >= warm]
    if xv is None or not len(xv):
        _row(rows, "expert_visits", 0)
        _row(rows, "expert_hours_on_site", 0.0)
        _row(rows, "expert_hours_lost_lead", 0.0)
    else:
        docs = xv["doctors"].to_numpy().astype(float)
        on_site = np.nan_to_num(xv["leave"].to_numpy() - xv["arrive"].to_numpy()) * docs / 60.0
        from_lead = xv["lead"].cat.codes.to_numpy() >= 0
        away = np.where(from_lead, np.nan_to_num(xv["return"].to_numpy() - xv["depart"].to_numpy()) * docs / 60.0, 0.0)
        _row(rows, "expert_visits", len(xv))
        _row(rows, "expert_hours_on_site", on_site.sum())
        _row(rows, "expert_hours_lost_lead", away.sum())
        by = pd.DataFrame({"sp": xv["specialty"].astype(str).to_numpy(), "h": on_site, "a": away}).groupby("sp")
        for sp, g in by:
            _row(rows, "expert_hours_on_site", g["h"].sum(), str(sp))
            _row(rows, "expert_hours_lost_lead", g["a"].sum(), str(sp))

    ev = tables.get("lever_events")
    if ev is not None and len(ev):
        ev = ev[np.isin(ev["patient"].to_numpy(), pids)]
        kind = ev["event"].astype(str).to_numpy()
        val = ev["value"].to_numpy()
    else:
        kind = np.array([], dtype=object)
        val = np.array([])
    _row(rows, "expert_patients", (kind == "expert_seen").sum())
    _row(rows, "skill_local_treated", (kind == "skill_local").sum())
    d = kind == "deferred"
    _row(rows, "deferred_patients", d.sum())
    _row(rows, "deferred_extra_wait_days_mean", float(val[d].mean()) if d.any() else math.nan)
    _row(rows, "avoided_referrals", np.isin(kind, AVOIDED_EVENTS).sum())
    _row(rows, "remote_consults", np.isin(kind, ("mdt_local", "mdt_referred")).sum())
    _row(rows, "tele_ecg_bypass", (kind == "tele_ecg_bypass").sum())

    rs = tables.get("remote_studies")
    if rs is not None and len(rs):
        rs = rs[(rs["sent"].to_numpy() >= warm) & ~np.isnan(rs["report"].to_numpy())]
    if rs is None or not len(rs):
        _row(rows, "remote_studies", 0)
        _row(rows, "remote_failures", 0)
        _row(rows, "remote_turnaround_mean_min", math.nan)
        _row(rows, "remote_turnaround_p90_min", math.nan)
    else:
        ta = rs["report"].to_numpy() - rs["sent"].to_numpy()
        _row(rows, "remote_studies", len(rs))
        _row(rows, "remote_failures", (rs["status"].astype(str).to_numpy() == "failed").sum())
        _row(rows, "remote_turnaround_mean_min", ta.mean())
        _row(rows, "remote_turnaround_p90_min", np.percentile(ta, 90))
        for m, g in pd.DataFrame({"m": rs["modality"].astype(str).to_numpy(), "ta": ta}).groupby("m"):
            _row(rows, "remote_studies", len(g), str(m))
            _row(rows, "remote_turnaround_mean_min", g["ta"].mean(), str(m))
            _row(rows, "remote_turnaround_p90_min", np.percentile(g["ta"], 90), str(m))
    occ = occupancy[(occupancy["day"] >= int(math.ceil(warmup_days))) & (occupancy["resource"] == "readers")]
    if len(occ):
        cap = occ["capacity"].sum()
        _row(rows, "reader_utilisation", occ["in_use"].sum() / cap if cap > 0 else math.nan)
        _row(rows, "remote_backlog_mean", occ.groupby("day")["queue"].sum().mean())
    else:
        _row(rows, "reader_utilisation", math.nan)
        _row(rows, "remote_backlog_mean", math.nan)
    _green_channel_kpis(rows, tables, pk, v, vt, conditions, ev, kind, val)


def _green_channel_kpis(rows: list, tables: dict, pk: pd.DataFrame, v: pd.DataFrame, vt: np.ndarray,
                        conditions: pd.DataFrame, ev: pd.DataFrame | None, kind: np.ndarray, val: np.ndarray) -> None:
    """KPIs of the green channel (绿色通道, :mod:`sim.levers.green_channel`), for every run: waits
    at the lead hospitals of referred and of self-presenting outpatients, bed waits there of
    referred and other admissions, green-channel patients and those referred back."""
    pids = pk["patient"].to_numpy()
    cond_of = pd.Series(pk["condition"].astype(str).to_numpy(), index=pids)
    vpat = v["patient"].to_numpy()
    outp = (conditions["pathway"].reindex(cond_of.reindex(vpat).to_numpy()) == "outpatient").to_numpy()
    mode = v["mode"].astype(str).to_numpy()
    wait = v["start"].to_numpy() - v["arrive"].to_numpy()
    at_lead = (vt == 2) & outp & ~np.isnan(wait)
    for metric, m in (("lead_wait_referred_mean_min", "referral"), ("lead_wait_self_mean_min", "self")):
        w = wait[at_lead & (mode == m)]
        _row(rows, metric, w.mean() if len(w) else math.nan)
    a = tables["admissions"]
    a = a[np.isin(a["patient"].to_numpy(), pids)]
    fac = v["facility"].astype(str).to_numpy()
    lead_sites = set(fac[vt == 2])
    referred = set(zip(vpat[(vt == 2) & (mode == "referral")].tolist(), fac[(vt == 2) & (mode == "referral")].tolist()))
    afac = a["facility"].astype(str).to_numpy()
    bed_wait = a["admit"].to_numpy() - a["request"].to_numpy()
    granted = np.isin(afac, list(lead_sites)) & ~np.isnan(bed_wait)
    is_ref = np.array([(p, f) in referred for p, f in zip(a["patient"].to_numpy().tolist(), afac.tolist())], dtype=bool)
    for metric, sel in (("lead_bed_wait_referred_mean_min", granted & is_ref),
                        ("lead_bed_wait_other_mean_min", granted & ~is_ref)):
        _row(rows, metric, bed_wait[sel].mean() if sel.any() else math.nan)
    g = kind == "green_channel"
    if ev is None or not g.any():
        _row(rows, "green_channel_patients", 0)
        _row(rows, "referred_back", 0)
        return
    green_pat = ev["patient"].to_numpy()[g]
    names = ev["site"].cat.categories  # the facility categories: site ids in site order
    referrer = dict(zip(green_pat.tolist(), [str(names[int(x)]) for x in val[g]]))
    _row(rows, "green_channel_patients", len(set(green_pat.tolist())))
    down = mode == "down_referral"
    back = sum(1 for p, f in zip(vpat[down].tolist(), fac[down].tolist()) if referrer.get(p) == f)
    _row(rows, "referred_back", back)


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, standard deviation and the t-based confidence interval of replication values.

    >>> m, sd, lo, hi = mean_ci(np.array([1.0, 2.0, 3.0]))
    >>> m, round(lo, 3), round(hi, 3)
    (2.0, -0.484, 4.484)
    """
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan
    m = float(x.mean())
    if n == 1:
        return m, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    h = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return m, sd, m - h, m + h


def summarise(kpi: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean and confidence interval per scenario, metric and group, across replications."""
    rows = []
    for (scen, metric, group), g in kpi.groupby(["scenario", "metric", "group"], sort=False, observed=True):
        m, sd, lo, hi = mean_ci(g["value"].to_numpy(), level)
        rows.append((scen, metric, group, int(g["value"].notna().sum()), m, sd, lo, hi))
    return pd.DataFrame(rows, columns=["scenario", "metric", "group", "n", "mean", "sd", "ci_low", "ci_high"])


def paired_differences(kpi: pd.DataFrame, baseline: str, level: float = 0.95) -> pd.DataFrame:
    """Scenario minus baseline, paired by replication (common random numbers), with CIs.

    Also reports the half-width an unpaired (Welch) comparison of the same runs would give,
    so the variance reduction from CRN is visible.
    """
    base = kpi[kpi["scenario"] == baseline].set_index(["metric", "group", "replication"])["value"]
    rows = []
    for scen in [s for s in kpi["scenario"].unique() if s != baseline]:
        other = kpi[kpi["scenario"] == scen].set_index(["metric", "group", "replication"])["value"]
        joined = pd.concat({"b": base, "s": other}, axis=1, join="inner")
        for (metric, group), g in joined.groupby(level=[0, 1], sort=False):
            d = (g["s"] - g["b"]).to_numpy()
            m, sd, lo, hi = mean_ci(d, level)
            mb, sdb, _, _ = mean_ci(g["b"].to_numpy(), level)
            ms, sds, _, _ = mean_ci(g["s"].to_numpy(), level)
            n = int((~np.isnan(d)).sum())
            unpaired = math.nan
            if n > 1 and not (math.isnan(sdb) or math.isnan(sds)):
                se = math.sqrt(sdb ** 2 / n + sds ** 2 / n)
                dof = n - 1 if se == 0 else max(1.0, se ** 4 / ((sdb ** 2 / n) ** 2 / (n - 1) + (sds ** 2 / n) ** 2 / (n - 1)))
                unpaired = float(stats.t.ppf(0.5 + level / 2, dof)) * se
            rows.append((scen, baseline, metric, group, n, m, lo, hi, (hi - lo) / 2 if n > 1 else math.nan, unpaired))
    return pd.DataFrame(rows, columns=["scenario", "baseline", "metric", "group", "n", "mean_diff", "ci_low", "ci_high",
                                       "paired_half_width", "unpaired_half_width"])


def recompute(result: RunResult, warmup_days: float | None = None, prices: Prices | None = None) -> pd.DataFrame:
    """A run's KPI table recomputed from its record tables (no re-run), with another warm-up
    cut or other prices: the work behind :func:`sim.kpis`, documented there."""
    if result.patients is None:
        raise ValueError("this run kept no per-patient tables (run.keep_patients=false): "
                         "its KPIs cannot be recomputed")
    cfg = result.config
    warm = cfg.run.warmup_days if warmup_days is None else float(warmup_days)
    pr = cfg.care.prices if prices is None else prices
    frames = []
    for r in sorted(result.kpis["replication"].unique()) if len(result.kpis) else sorted(
            result.patients["replication"].unique()):
        tables = {}
        for t in TABLES:
            df = getattr(result, t)
            if df is not None:
                tables[t] = df[df["replication"] == r].reset_index(drop=True)
        occ = result.occupancy[result.occupancy["replication"] == r].reset_index(drop=True)
        k = kpis(tables, occ, result.sites, result.villages, result.conditions, pr, warm,
                         cfg.run.horizon_days, cfg.restructure)
        k.insert(0, "replication", np.int32(r))
        k.insert(0, "scenario", cfg.scenario)
        frames.append(k)
    return pd.concat(frames, ignore_index=True)
