"""The seed figures a validation page reproduces: each published figure against the model.

For every concrete figure the five seed reports (``/work/shared/seeds/000``-``004``) and the
published reference figures (``REFERENCES.md``) give, :data:`FIGURES` holds a
:class:`SeedFigure`: where it is quoted from (the seed file and the Chinese phrase), the
published value, the scenario(s) that should reproduce it on its bundled county (Hydra
overrides), how the model's value is computed from the run(s), and the closeness rule that
decides whether the model reproduces it (with the reason for that rule).  A figure the model
cannot reproduce at all says so, with the reason in one sentence (``reproducible=False``).

:func:`rows` runs each scenario once (common random numbers: replication *r* of every scenario
sees the same arriving patients, so the paired figures are paired by replication) and returns
one row per figure; ``python -m calibration.seed_figures`` prints the table as Markdown (for
``docs/validation.md``)::

    python -m calibration.seed_figures --days 90 --warmup 14 --reps 2 --jobs 2 --out table.md

By default every run uses its network's calibrated care file (the composition default,
``care=<network>_calibrated``): the table says what the model a planner runs reproduces.
``--care default`` (or any care option) passes ``care=<care>`` to every run instead.
``--doc`` also writes the table into ``docs/validation.md`` between the markers
``<!-- seeds:begin -->`` and ``<!-- seeds:end -->``.

Values are means over replications with a t-based 95% interval (:func:`sim.analysis.kpis.mean_ci`);
counts are over the post-warm-up period of each replication (whole weeks of it for weekly
schedules) and scaled to the period the seed states (``[ASSUMED]`` where the seed leaves the
period open).  A figure's verdict is one of

- ``reproduced``: the model's value satisfies the figure's :class:`Closeness` rule;
- ``not reproduced: <known gap>``: it does not, for the reason the figure states
  (``known_gap``: what in the model or its bundled inputs makes the difference);
- ``not reproduced``: it does not, and no reason is known yet (a regression to look at);
- ``cannot be reproduced: <why>``: the model has no mechanism or the seed no comparable
  number (``reproducible=False``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim import RunResult, run
from sim.analysis.kpis import mean_ci

__all__ = ["Closeness", "SeedFigure", "FIGURES", "SCENARIOS", "rows", "markdown", "main"]

DAY = 1440.0
MONTH_DAYS = 365.25 / 12

SEED_000 = "000_52e369a901b02a91.txt"
SEED_001 = "001_3c33e692e4753e2e.txt"
SEED_002 = "002_54d5d1602a1c99f7.txt"
SEED_003 = "003_983c3e9ed0abce92.txt"
SEED_004 = "004_6ec129a230fc9e0e.txt"
REFERENCES = "REFERENCES.md"

#: the bundled counties with a remote-reading comparison (Huarong is not bundled).
NETWORKS = ("taobei", "xianghe", "qingbaijiang", "liuzhou", "qingdao")

# ------------------------------------------------------------------ scenarios

#: scenario name -> its Hydra overrides (without ``care=`` and ``run.*``, which :func:`rows` adds).
SCENARIOS: dict[str, tuple[str, ...]] = {
    # seed 001: the Friday specialist teams and remote reading of Xianghe's county hospital
    "xianghe_friday": ("network=xianghe", "levers=xianghe_friday", "restructure=none"),
    # seed 002: Liubei before the takeover, and the full "3-1" (三一) scheme as in
    # scenarios/study/seed_schemes.yaml (liuzhou_three_one): the takeover, resident experts,
    # remote reading and MDT, and the two centres' 120 ambulances (one each, [ASSUMED] count)
    "liuzhou_baseline": ("network=liuzhou", "levers=none", "restructure=none"),
    "liuzhou_three_one": ("network=liuzhou", "levers=liuzhou_three_one", "restructure=liuzhou_takeover",
                          "network.facilities.t_shibeiping.ambulances=1",
                          "network.facilities.t_chuanshan.ambulances=1"),
    # seed 003: the chest-pain centre with the members' ECGs sent ahead (the seed's STEMI patient
    # had "相关数据" uploaded to the chest-pain centre before the transfer)
    "qingbaijiang_tele_ecg": ("network=qingbaijiang", "levers=remote_ecg", "restructure=none"),
    # seed 000: provincial experts on Saturdays and 19 department heads at grassroots sites
    "taobei_heads": ("network=taobei", "levers=taobei_heads", "restructure=none"),
    # seed 004: the 10 + 9 grassroots expert workstations
    "qingdao_workstations": ("network=qingdao", "levers=qingdao_workstations", "restructure=none"),
    # the Huarong comparison: the full remote-diagnosis rung on each bundled county
    **{f"{n}_remote_full": (f"network={n}", "levers=remote_full", "restructure=none") for n in NETWORKS},
}


# ------------------------------------------------------------------ closeness rules


@dataclass(frozen=True)
class Closeness:
    """When a simulated value reproduces a published one, and why that rule.

    ``kind``:

    - ``relative``: ``|simulated / published - 1| <= tol``;
    - ``absolute``: ``|simulated - published| <= tol`` (e.g. percentage points of a share);
    - ``range``: ``lo <= simulated < hi`` (a figure written "X余", more than X);
    - ``factor``: ``published / tol <= simulated <= published * tol``;
    - ``at_least`` / ``above`` / ``below``: ``simulated >= published`` / ``> published`` /
      ``< published`` (a standard);
    - ``split``: two published counts (``counts``, e.g. 106 and 54 runs of two centres in the
      same trial) against the model's two counts pooled over replications: reproduced when
      Fisher's exact test does not reject the same split at ``level`` (the published counts'
      own sampling noise is part of the test, so few model events cannot reject it).

    >>> Closeness("relative", tol=0.25).ok(1.2, 1.0), Closeness("range", lo=100, hi=200).ok(200, 100)
    (True, False)
    >>> Closeness("factor", tol=2).text()
    'within a factor of 2'
    >>> rule = Closeness("split", counts=(106, 54))
    >>> rule.ok(1.9, 1.96, split=(200, 100)), rule.ok(0.9, 1.96, split=(180, 200))
    (True, False)
    """

    kind: str
    tol: float = 0.0
    lo: float = math.nan
    hi: float = math.nan
    why: str = ""
    counts: tuple[float, float] = (math.nan, math.nan)
    level: float = 0.05

    def p_value(self, split: tuple[float, float]) -> float:
        """Fisher's exact test of the model's pooled ``split`` against the published ``counts``."""
        a, b = (int(round(x)) for x in split)
        c, d = (int(round(x)) for x in self.counts)
        return float(stats.fisher_exact([[a, b], [c, d]]).pvalue)

    def ok(self, value: float, published: float, split: tuple[float, float] | None = None) -> bool:
        if self.kind == "split":
            return split is not None and sum(split) > 0 and self.p_value(split) >= self.level
        if value is None or math.isnan(value):
            return False
        if self.kind == "relative":
            return abs(value / published - 1.0) <= self.tol + 1e-12
        if self.kind == "absolute":
            return abs(value - published) <= self.tol + 1e-12
        if self.kind == "range":
            return self.lo <= value < self.hi
        if self.kind == "factor":
            return published / self.tol <= value <= published * self.tol
        if self.kind == "at_least":
            return value >= published
        if self.kind == "above":
            return value > published
        if self.kind == "below":
            return value < published
        raise ValueError(f"unknown closeness kind {self.kind!r}")

    def text(self) -> str:
        if self.kind == "relative":
            return f"within ±{100 * self.tol:g}%"
        if self.kind == "absolute":
            return f"within ±{self.tol:g}"
        if self.kind == "range":
            return f"in [{self.lo:g}, {self.hi:g})"
        if self.kind == "factor":
            return f"within a factor of {self.tol:g}"
        if self.kind == "at_least":
            return "at least the standard"
        if self.kind == "above":
            return "above the standard"
        if self.kind == "split":
            return f"same split as {self.counts[0]:g} : {self.counts[1]:g} (Fisher's exact test, p >= {self.level:g})"
        if self.kind == "below":
            return "below the standard"
        raise ValueError(f"unknown closeness kind {self.kind!r}")


#: a measure: the runs of the figure's scenarios (in order) -> one value per replication.
Measure = Callable[[Sequence[RunResult]], np.ndarray]


@dataclass(frozen=True)
class SeedFigure:
    """One published figure and how the model reproduces it (or why it cannot)."""

    id: str
    county: str          # the bundled network (or "huarong vs <network>")
    seed: str            # the seed file (or REFERENCES.md) the figure is quoted from
    quote: str           # the short Chinese phrase that states it
    label: str           # what the figure is, in English
    published: float     # the published value (nan where there is none to compare)
    unit: str            # the published value's unit and period, as text
    scenarios: tuple[str, ...] = ()   # names in SCENARIOS; a measure gets their runs in this order
    measure: Measure | None = None
    rule: Closeness | None = None
    reproducible: bool = True
    why: str = ""        # reproducible=False: why not, in one sentence
    known_gap: str = ""  # the model can be compared but currently disagrees: why, in one sentence
    note: str = ""       # how the model's value is computed, assumptions
    split: Callable[[Sequence[RunResult]], tuple[float, float]] | None = None  # pooled counts (split rule)
    ratio: bool = True   # show closeness as simulated / published
    closeness_text: Callable[[float], str] | None = field(default=None, compare=False)


# ------------------------------------------------------------------ table helpers


def _reps(res: RunResult) -> list[int]:
    return sorted(int(r) for r in res.kpis["replication"].unique())


def _post_days(res: RunResult) -> float:
    r = res.config.run
    return float(r.horizon_days - r.warmup_days)


def _warm(res: RunResult) -> float:
    return float(res.config.run.warmup_days) * DAY


def _kpi(res: RunResult, metric: str, group: str = "county") -> np.ndarray:
    s = res.kpi(metric, group)
    return np.array([float(s.get(r, math.nan)) for r in _reps(res)])


def _need(res: RunResult, *tables: str) -> None:
    for t in tables:
        if getattr(res, t) is None:
            raise ValueError(f"seed figures need the per-patient table {t!r} (run.keep_patients=true)")


def _post_patients(res: RunResult, r: int) -> pd.DataFrame:
    assert res.patients is not None
    p = res.patients
    return p[(p["replication"] == r) & (p["onset"] >= _warm(res))]


def _of_rep(df: pd.DataFrame | None, r: int, patients: pd.DataFrame | None = None) -> pd.DataFrame:
    assert df is not None
    d = df[df["replication"] == r]
    if patients is not None:
        d = d[d["patient"].isin(patients["patient"].to_numpy())]
    return d


# ------------------------------------------------------------------ measures


def _week_window(res: RunResult) -> tuple[float, float, float]:
    """The whole weeks after the warm-up: (start, end) in minutes and their length in days, so
    that a weekly or fortnightly schedule is counted without the calendar's remainder (nan
    length when the post-warm-up period is shorter than a week)."""
    weeks = math.floor(_post_days(res) / 7.0)
    start = _warm(res)
    return start, start + weeks * 7 * DAY, (weeks * 7.0 if weeks else math.nan)


def expert_counts(res: RunResult, external: bool | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Specialist visits, doctor-sittings and the patients visiting specialists saw, in the
    whole post-warm-up weeks (:func:`_week_window`), per replication, and the window's days.

    Visits are ``expert_visits`` rows arriving in the window (``external``: only teams with
    ``source: external`` (lead -1), or only lead-hospital teams; None: all); sittings are their
    doctors summed; patients are ``lever_events`` ``expert_seen`` in the window (the KPIs
    ``expert_visits`` / ``expert_patients`` count the same over the whole post-warm-up period).
    Returns (visits, sittings, patients) arrays and the window's length in days.
    """
    _need(res, "expert_visits", "lever_events")
    t0, t1, days = _week_window(res)
    visits, sittings, seen = [], [], []
    for r in _reps(res):
        x = _of_rep(res.expert_visits, r)
        x = x[(x["arrive"].to_numpy() >= t0) & (x["arrive"].to_numpy() < t1)]
        if external is not None:
            x = x[x["lead"].isna().to_numpy() == external]
        visits.append(float(len(x)))
        sittings.append(float(x["doctors"].sum()))
        ev = _of_rep(res.lever_events, r)
        ev = ev[(ev["event"].astype(str).to_numpy() == "expert_seen") & (ev["time"].to_numpy() >= t0)
                & (ev["time"].to_numpy() < t1)]
        seen.append(float(len(ev)))
    return np.array(visits), np.array(sittings), np.array(seen), days


def _expert_over(period_days: float, what: str, external: bool | None = None) -> Measure:
    """Visits, sittings or patients of the specialist visits scaled to ``period_days``."""
    def measure(runs: Sequence[RunResult]) -> np.ndarray:
        visits, sittings, seen, days = expert_counts(runs[0], external)
        x = {"visits": visits, "sittings": sittings, "patients": seen}[what]
        return x * period_days / days
    return measure


def patients_per_expert_visit(runs: Sequence[RunResult]) -> np.ndarray:
    visits, _, seen, _ = expert_counts(runs[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(visits > 0, seen / visits, math.nan)


def _plain_kpi(metric: str, group: str = "county", scale: float = 1.0) -> Measure:
    def measure(runs: Sequence[RunResult]) -> np.ndarray:
        return _kpi(runs[0], metric, group) * scale
    return measure


def _paired_change(metric: str, group: str) -> Measure:
    """Relative change scenario / baseline - 1 of one KPI, paired by replication (runs: baseline, scenario)."""
    def measure(runs: Sequence[RunResult]) -> np.ndarray:
        base, alt = _kpi(runs[0], metric, group), _kpi(runs[1], metric, group)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(base > 0, alt / base - 1.0, math.nan)
    return measure


def ambulance_runs(res: RunResult, centre: str) -> tuple[np.ndarray, np.ndarray]:
    """Ambulance runs and the patients they carried, from one 120 station, per replication.

    The model has no ambulance-run table, so the runs are counted from the record tables:

    - 120 calls: ``emergency`` rows of post-warm-up episodes whose ``station`` is ``centre``
      (the station that sent the ambulance);
    - inter-facility transfers by that station's ambulance: visits of post-warm-up episodes
      that came by ambulance (mode ``ambulance``) after a visit at ``centre`` itself or at a
      village clinic of its catchment (villages whose ``home_tier1`` is ``centre``).  The model
      sends the station nearest the sending site (``World.stations_of_site``); for a remote
      centre with its own ambulance that is the centre [approximation: a clinic of its
      catchment nearer another station is counted for the centre].

    Returns (runs, distinct patients carried), one value per replication.
    """
    _need(res, "patients", "visits", "emergency")
    vill = res.villages
    sources = {centre, *(f"clinic:{v}" for v in vill.loc[vill["home_tier1"].astype(str) == centre, "village"])}
    runs_, pats = [], []
    for r in _reps(res):
        p = _post_patients(res, r)
        e = _of_rep(res.emergency, r, p)
        calls = e[e["station"].astype(str).to_numpy() == centre]
        v = _of_rep(res.visits, r, p).sort_values(["patient", "arrive"], kind="stable")
        prev = v.groupby("patient", observed=True)["facility"].shift(1).astype(str)
        moved = v[(v["mode"].astype(str).to_numpy() == "ambulance") & prev.isin(sources).to_numpy()]
        runs_.append(float(len(calls) + len(moved)))
        pats.append(float(len(set(calls["patient"].tolist()) | set(moved["patient"].tolist()))))
    return np.array(runs_), np.array(pats)


def _runs_per_30_days(centre: str) -> Measure:
    def measure(runs: Sequence[RunResult]) -> np.ndarray:
        n, _ = ambulance_runs(runs[0], centre)
        return n * 30.0 / _post_days(runs[0])
    return measure


def _runs_ratio(a: str, b: str) -> Measure:
    def measure(runs: Sequence[RunResult]) -> np.ndarray:
        na, _ = ambulance_runs(runs[0], a)
        nb, _ = ambulance_runs(runs[0], b)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(nb > 0, na / nb, math.nan)
    return measure


def _runs_split(a: str, b: str) -> Callable[[Sequence[RunResult]], tuple[float, float]]:
    def split(runs: Sequence[RunResult]) -> tuple[float, float]:
        return float(ambulance_runs(runs[0], a)[0].sum()), float(ambulance_runs(runs[0], b)[0].sum())
    return split


def _patients_per_run(centres: Sequence[str]) -> Measure:
    def measure(runs: Sequence[RunResult]) -> np.ndarray:
        n = p = np.zeros(len(_reps(runs[0])))
        for c in centres:
            rn, rp = ambulance_runs(runs[0], c)
            n, p = n + rn, p + rp
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, p / n, math.nan)
    return measure


def remote_per_centre_month(res: RunResult) -> np.ndarray:
    """Remote studies (KPI ``remote_studies``: sent after the warm-up, reported or failed) per
    open tier-1 centre per month, per replication."""
    s = res.sites
    n_t1 = int(((s["tier"] == 1) & (s["status"].astype(str) == "open")).sum())
    months = _post_days(res) / MONTH_DAYS
    return _kpi(res, "remote_studies") / max(n_t1, 1) / months


def remote_per_sending_centre_month(res: RunResult) -> np.ndarray:
    """Remote studies sent after the warm-up per centre that sent any (``remote_studies`` rows
    by ``site``) per month, per replication (nan where no centre sent one)."""
    _need(res, "remote_studies")
    months = _post_days(res) / MONTH_DAYS
    out = []
    for r in _reps(res):
        x = _of_rep(res.remote_studies, r)
        x = x[x["sent"].to_numpy() >= _warm(res)]
        n = x["site"].astype(str).nunique()
        out.append(len(x) / n / months if n else math.nan)
    return np.array(out)


def _stemi_ids(res: RunResult, r: int) -> tuple[pd.DataFrame, set[int]]:
    cond = res.conditions
    stemi = set(cond.index[cond["pathway"].astype(str) == "stemi"].astype(str))
    p = _post_patients(res, r)
    p = p[p["condition"].astype(str).isin(stemi).to_numpy()]
    return p, set(p["patient"].tolist())


def fmc_to_ecg_median(runs: Sequence[RunResult]) -> np.ndarray:
    """Median minutes from first medical contact to the first ECG over post-warm-up STEMI
    emergency rows with a first medical contact (no ECG counts as beyond any time)."""
    res = runs[0]
    _need(res, "patients", "emergency")
    out = []
    for r in _reps(res):
        p, _ = _stemi_ids(res, r)
        e = _of_rep(res.emergency, r, p)
        e = e[e["fmc"].notna()]
        d = (e["ecg"] - e["fmc"]).to_numpy(dtype=float)
        d = np.where(np.isnan(d), np.inf, d)
        out.append(float(np.median(d)) if len(d) else math.nan)
    return np.array(out)


def _stemi_transported_share(event: str) -> Measure:
    """Share of post-warm-up STEMI episodes reperfused by PCI that reached the PCI site by
    ambulance (120 or inter-facility transfer) with lever event ``event``."""
    def measure(runs: Sequence[RunResult]) -> np.ndarray:
        res = runs[0]
        _need(res, "patients", "visits", "emergency", "lever_events")
        out = []
        for r in _reps(res):
            p, _ = _stemi_ids(res, r)
            e = _of_rep(res.emergency, r, p)
            pci = e[e["reperfusion_kind"].astype(str).to_numpy() == "pci"]
            v = _of_rep(res.visits, r, p)
            v = v[v["mode"].astype(str).to_numpy() == "ambulance"]
            # the PCI site's own visit came by ambulance
            arrived = v.merge(pci[["patient", "destination"]], left_on=["patient", "facility"],
                              right_on=["patient", "destination"])
            ids = set(arrived["patient"].tolist())
            ev = _of_rep(res.lever_events, r, p)
            hit = set(ev.loc[ev["event"].astype(str).to_numpy() == event, "patient"].tolist())
            out.append(len(ids & hit) / len(ids) if ids else math.nan)
        return np.array(out)
    return measure


def expert_sites(runs: Sequence[RunResult]) -> np.ndarray:
    """Distinct grassroots (tier-1) sites a lead hospital's specialists visited in the run."""
    res = runs[0]
    _need(res, "expert_visits")
    tier = res.sites.set_index("site")["tier"]
    out = []
    for r in _reps(res):
        x = _of_rep(res.expert_visits, r)
        x = x[x["lead"].notna().to_numpy()]
        sites = {s for s in x["site"].astype(str) if int(tier.get(s, -1)) == 1}
        out.append(float(len(sites)))
    return np.array(out)


def _structure(what: str) -> Measure:
    """A count of the county's structure (after restructuring), the same in every replication."""
    def measure(runs: Sequence[RunResult]) -> np.ndarray:
        res = runs[0]
        s = res.sites[res.sites["status"].astype(str) == "open"]
        if what == "members":
            n = float((s["tier"] == 1).sum())
        elif what == "townships":
            n = float(((s["tier"] == 1) & (s["kind"].astype(str) == "township")).sum())
        elif what == "communities":
            n = float(((s["tier"] == 1) & (s["kind"].astype(str) == "community")).sum())
        elif what == "leads":
            n = float((s["tier"] == 2).sum())
        elif what == "village_clinics":
            n = float((res.villages["clinic_doctors"] > 0).sum())
        else:
            raise ValueError(what)
        return np.full(len(_reps(res)), n)
    return measure


#: conditions counted as chronic-disease down-referrals (慢性病) for seed 001's 61 : 56; the
#: others (orthopaedic, surgical, rehabilitation, stroke, STEMI, trauma) as rehabilitation (康复).
CHRONIC_CONDITIONS = ("chronic_followup", "common_acute", "medical_admission", "specialist_cardiology",
                      "cancer", "paediatric")


def down_referral_counts(res: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """Down-referral visits (mode ``down_referral``) of post-warm-up episodes of the chronic-disease
    conditions (:data:`CHRONIC_CONDITIONS`) and of the others (rehabilitation), per replication."""
    _need(res, "patients", "visits")
    chronic_n, rehab_n = [], []
    for r in _reps(res):
        p = _post_patients(res, r)
        v = _of_rep(res.visits, r, p)
        v = v[v["mode"].astype(str).to_numpy() == "down_referral"]
        cond = p.set_index("patient")["condition"].astype(str).reindex(v["patient"].to_numpy()).to_numpy()
        chronic = np.isin(cond, CHRONIC_CONDITIONS)
        chronic_n.append(float(chronic.sum()))
        rehab_n.append(float((~chronic).sum()))
    return np.array(chronic_n), np.array(rehab_n)


def down_referral_chronic_to_rehab(runs: Sequence[RunResult]) -> np.ndarray:
    """Chronic-disease down-referrals per rehabilitation one (:func:`down_referral_counts`)."""
    chronic, rehab = down_referral_counts(runs[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rehab > 0, chronic / rehab, math.nan)


def _down_split(runs: Sequence[RunResult]) -> tuple[float, float]:
    chronic, rehab = down_referral_counts(runs[0])
    return float(chronic.sum()), float(rehab.sum())


# ------------------------------------------------------------------ the figures

#: seed 001's period: "2018年以来" up to the report (廊坊日报 2019-05-07) [ASSUMED from 2018-01-01].
XIANGHE_PERIOD_DAYS = float((pd.Timestamp("2019-05-07") - pd.Timestamp("2018-01-01")).days)

_YU = ("the seed writes 'X余' (more than X); read as at least X and below the next round figure, "
       "which the report would otherwise have used")


def _implied_months(count: float) -> Callable[[float], str]:
    def text(per_30_days: float) -> str:
        if not per_30_days or math.isnan(per_30_days):
            return "-"
        return f"{count:g} at this rate = {count / per_30_days * 30 / MONTH_DAYS:.1f} months"
    return text


#: the centres of each network that record X-ray and ECG but cannot read them (network YAMLs,
#: ``read: [lab]``): the only senders of remote studies under levers=remote_full.
WEAK_READERS = {"taobei": "t_deshun and t_houjia", "xianghe": "t_wubaihu", "qingbaijiang": "t_qingquan",
                "liuzhou": "t_huangcun and t_changtang", "qingdao": "t_liuwang"}
#: the networks whose mean per centre the few weak centres lift beyond the rule.
_REMOTE_GAPS = ("xianghe", "qingbaijiang", "liuzhou")
_WEAK_GAP = ("only centres that record but cannot read an X-ray or ECG send studies, and they send all of them "
             "({weak} in network={n}), so the mean per centre is that of its weak centres, not of a platform "
             "every centre uses as in Huarong")

FIGURES: tuple[SeedFigure, ...] = (
    # ---------------------------------------------------------------- seed 001: Xianghe
    SeedFigure(
        "xianghe_expert_visits", "xianghe", SEED_001, "2018年以来…组织到对口单位精准帮扶100余次",
        "Specialist visits to the member township centres since 2018", 100.0,
        f"100+ visits, 2018-01-01 to 2019-05-07 ({XIANGHE_PERIOD_DAYS:.0f} days) [period ASSUMED]",
        ("xianghe_friday",), _expert_over(XIANGHE_PERIOD_DAYS, "visits"), Closeness("range", lo=100, hi=200, why=_YU),
        note="expert_visits rows (one specialist-day at one centre) in whole post-warm-up weeks, scaled to the period",
        known_gap="levers/xianghe_friday.yaml sends all four specialty teams every Friday, 4 centre-visits a week where the seed's 100+ in 16 months is about 1.5 a week (the teams' split over Fridays is [ASSUMED] there)"),
    SeedFigure(
        "xianghe_expert_patients", "xianghe", SEED_001, "诊疗2500余人次",
        "Patients seen by the visiting specialists since 2018", 2500.0,
        f"2,500+ patients, 2018-01-01 to 2019-05-07 ({XIANGHE_PERIOD_DAYS:.0f} days) [period ASSUMED]",
        ("xianghe_friday",), _expert_over(XIANGHE_PERIOD_DAYS, "patients"),
        Closeness("range", lo=2500, hi=3000, why=_YU),
        note="expert_seen events in whole post-warm-up weeks, scaled to the period",
        known_gap="it follows the visit count, four a Friday where the seed has about 1.5 a week (patients per visit are within the seed's range, next row)"),
    SeedFigure(
        "xianghe_patients_per_visit", "xianghe", SEED_001, "帮扶100余次,诊疗2500余人次",
        "Patients per specialist visit (period-free)", 25.0, "~25 patients a visit (2,500+ / 100+)",
        ("xianghe_friday",), patients_per_expert_visit,
        Closeness("range", lo=2500 / 200, hi=3000 / 100,
                  why="the ratio of the two 'X余' ranges: 2,500-3,000 patients over 100-200 visits"),
        note="expert_seen events / expert_visits rows, whole post-warm-up weeks"),
    SeedFigure(
        "langfang_down_chronic_rehab", "xianghe", SEED_001,
        "转诊慢性病患者61人,转…康复患者56人",
        "Down-referrals: chronic-disease patients per rehabilitation patient", 61 / 56,
        "61 chronic : 56 rehab (Guangyang district hospital to two community centres)",
        ("xianghe_friday",), down_referral_chronic_to_rehab,
        Closeness("split", counts=(61, 56), why="a split of two counts; a proxy: Guangyang (廊坊广阳区) is not "
                  "bundled, Xianghe is the same prefecture's county, and which conditions are chronic is [ASSUMED]"),
        split=_down_split,
        known_gap="care=default refers down 15% of chronic-disease stays (medical_admission) but 20-40% of the "
                  "orthopaedic, rehabilitation, stroke, STEMI and trauma ones, so rehabilitation down-referrals "
                  "outnumber chronic ones about 2 : 1 where the seed has 61 : 56",
        note=f"down-referral visits; chronic = {', '.join(CHRONIC_CONDITIONS)}; rehab = the rest"),
    SeedFigure(
        "xianghe_members", "xianghe", SEED_001, "与渠口卫生院等4家乡镇卫生院建立了紧密型医共体",
        "Township centres in the Xianghe medical community", 4.0, "4 centres",
        ("xianghe_friday",), _structure("members"), Closeness("absolute", tol=0, why="a count of the network"),
        note="open tier-1 sites of network=xianghe (an input of the network, checked)"),
    SeedFigure(
        "langfang_neonatal_transfer", "xianghe", SEED_001, "直至转运成功,仅用了2小时40分钟",
        "Cross-province neonatal transfer, Langfang to Beijing", 160.0, "2 h 40 min",
        reproducible=False,
        why="the model ends every out-of-county transfer at the tertiary node and has no neonatal "
            "retrieval team coming from outside the county, so this time cannot arise in it"),
    # ---------------------------------------------------------------- seed 002: Liuzhou
    SeedFigure(
        "liuzhou_shibeiping_runs", "liuzhou", SEED_002, "试运行期间,石碑坪镇卫生院共出动救护车54辆次",
        "Shibeiping centre's ambulance runs in the 120 trial", 54.0, "54 runs (trial length not stated)",
        ("liuzhou_three_one",), _runs_per_30_days("t_shibeiping"), reproducible=False,
        why="the seed does not say how long the trial ran, so its count cannot be compared with a rate; "
            "the model's runs per 30 days are shown with the trial length they imply",
        note="120 calls sent from t_shibeiping + transfers by its ambulance (ambulance_runs), per 30 days",
        ratio=False, closeness_text=_implied_months(54)),
    SeedFigure(
        "liuzhou_chuanshan_runs", "liuzhou", SEED_002, "穿山镇中心卫生院共出诊106次",
        "Chuanshan centre's ambulance call-outs in the 120 trial", 106.0, "106 call-outs (trial length not stated)",
        ("liuzhou_three_one",), _runs_per_30_days("t_chuanshan"), reproducible=False,
        why="the seed does not say how long the trial ran, so its count cannot be compared with a rate; "
            "the model's runs per 30 days are shown with the trial length they imply",
        note="as liuzhou_shibeiping_runs, for t_chuanshan", ratio=False, closeness_text=_implied_months(106)),
    SeedFigure(
        "liuzhou_runs_ratio", "liuzhou", SEED_002, "出动救护车54辆次…出诊106次",
        "Chuanshan's runs per Shibeiping run in the same trial (period-free)", 106 / 54, "106 / 54 = 1.96",
        ("liuzhou_three_one",), _runs_ratio("t_chuanshan", "t_shibeiping"),
        Closeness("split", counts=(106, 54),
                  why="both centres' counts are from the same trial, so their split does not need its length"),
        split=_runs_split("t_chuanshan", "t_shibeiping"),
        note="ambulance_runs(t_chuanshan) / ambulance_runs(t_shibeiping), per replication"),
    SeedFigure(
        "liuzhou_patients_per_run", "liuzhou", SEED_002, "救治病人75人次…救治病人113人次",
        "Patients per ambulance run, both centres", (75 + 113) / (54 + 106), "(75 + 113) / (54 + 106) = 1.18",
        ("liuzhou_three_one",), _patients_per_run(("t_shibeiping", "t_chuanshan")), reproducible=False,
        why="a model ambulance carries one patient per run and treats no one on scene, whereas the seed's "
            "centres treated more patients than they made runs",
        note="distinct patients carried / runs (ambulance_runs)"),
    SeedFigure(
        "liuzhou_bailu_yoy", "liuzhou", SEED_002, "今年4月…该卫生院门诊量…同比增加27.57%",
        "Bailu centre's outpatient visits after the takeover, change on the year before", 0.2757,
        "+27.57% year on year (April 2020)",
        ("liuzhou_baseline", "liuzhou_three_one"), _paired_change("site_visits_per_day", "t_bailu"),
        Closeness("relative", tol=0.25, why="a single centre's month: ±25% of the change (+20.7% to +34.5%)"),
        note="KPI site_visits_per_day at t_bailu, 3-1 scheme / baseline - 1, paired by replication; the full "
             "scheme, since restructure=liuzhou_takeover alone only changes the centre's lead",
        known_gap="the model's 三一 scheme gives Bailu a resident specialist, remote reading and MDT (a few percent more visits), while the seed credits the rise to outreach (clinics moved to neighbourhood committees and village clinics, home visits), which no lever models"),
    SeedFigure(
        "liuzhou_bailu_april_2020", "liuzhou", SEED_002, "该卫生院门诊量不降反升,达到2457人次",
        "Bailu centre's outpatient visits in April 2020 (30 days), 3-1 scheme", 2457.0, "2,457 visits a month",
        ("liuzhou_three_one",), _plain_kpi("site_visits_per_day", "t_bailu", 30.0),
        Closeness("relative", tol=0.25, why="one centre's month, whose catchment and staffing are [ASSUMED]"),
        note="KPI site_visits_per_day at t_bailu x 30",
        known_gap="about three quarters of t_bailu's visits come from the city-centre and Queershan neighbourhoods, which network=liuzhou gives no community centre of their own; its own catchment's visits alone are close to the seed's (about 2,200 a month)"),
    SeedFigure(
        "liuzhou_bailu_april_2019", "liuzhou", SEED_002, "达到2457人次,同比增加27.57%",
        "Bailu centre's outpatient visits in April 2019 (30 days), before: baseline", 2457 / 1.2757,
        "1,926 visits a month [EST: 2,457 / 1.2757]",
        ("liuzhou_baseline",), _plain_kpi("site_visits_per_day", "t_bailu", 30.0),
        Closeness("relative", tol=0.25, why="one centre's month, whose catchment and staffing are [ASSUMED]"),
        note="KPI site_visits_per_day at t_bailu x 30",
        known_gap="about three quarters of t_bailu's visits come from the city-centre and Queershan neighbourhoods, which network=liuzhou gives no community centre of their own; its own catchment's visits alone are close to the seed's (about 2,200 a month)"),
    SeedFigure(
        "liuzhou_huangcun_staff", "liuzhou", SEED_002, "全院49名职工",
        "Huangcun centre's staff", 49.0, "49 staff", reproducible=False,
        why="the model staffs a centre with doctors only (黄村: 14 day and 2 night general doctors), "
            "not the nurses, technicians and public-health workers the seed's 49 staff include"),
    SeedFigure(
        "liuzhou_shibeiping_surplus", "liuzhou", SEED_002, "今年4月首次出现结余40万元",
        "Shibeiping centre's first monthly surplus", 400_000.0, "CNY 400,000 (April 2020)", reproducible=False,
        why="the model prices the patients' care but keeps no revenue and cost account per centre, "
            "so a centre's surplus cannot be computed"),
    # ---------------------------------------------------------------- Huarong: remote reading
    *(SeedFigure(
        f"huarong_remote_{n}", f"huarong vs {n}", REFERENCES, "21 township centres, > 2,000 consultations a month",
        "Remote studies per township/community centre per month, levers=remote_full", 2000 / 21,
        "~95 a centre a month (> 2,000 / 21)",
        (f"{n}_remote_full",), lambda runs: remote_per_centre_month(runs[0]),
        Closeness("factor", tol=2.0, why="Huarong is not bundled: another county, its centres' size and "
                  "case mix unknown, so only the order of magnitude is expected to carry over"),
        known_gap=_WEAK_GAP.format(weak=WEAK_READERS[n], n=n) if n in _REMOTE_GAPS else "",
        note="KPI remote_studies / open tier-1 centres / post-warm-up months") for n in NETWORKS),
    *(SeedFigure(
        f"huarong_remote_sending_{n}", f"huarong vs {n}", REFERENCES, "21 township centres, > 2,000 consultations a month",
        "Remote studies per centre that sends any, per month, levers=remote_full", 2000 / 21,
        "~95 a centre a month (> 2,000 / 21, every centre on the platform)",
        (f"{n}_remote_full",), lambda runs: remote_per_sending_centre_month(runs[0]),
        Closeness("factor", tol=2.0, why="as the row above, counting only the centres that use the platform"),
        known_gap="a model centre sends every X-ray and ECG it records if it cannot read them and none "
                  "if it can, so its senders send hundreds a month each where Huarong's 21 centres send ~95",
        note="remote_studies rows sent after the warm-up / centres that sent any / months") for n in NETWORKS),
    # ---------------------------------------------------------------- seed 003: Qingbaijiang
    SeedFigure(
        "qingbaijiang_d2b_within_90", "qingbaijiang", f"{SEED_003} + {REFERENCES}",
        "向青白江胸痛中心上传相关数据 (chest-pain centre standard)",
        "Door-to-balloon within 90 min, share of PCI", 0.75, ">= 75% (chest-pain centre standard)",
        ("qingbaijiang_tele_ecg",), _plain_kpi("door_to_balloon_within_90_share"),
        Closeness("at_least", why="the accreditation standard the seed's chest-pain centre is held to; "
                  "seed 003 itself states no time"),
        note="KPI door_to_balloon_within_90_share", ratio=False),
    SeedFigure(
        "qingbaijiang_d2b_median", "qingbaijiang", REFERENCES, "National door-to-balloon fell … to 75 min (2020)",
        "Door-to-balloon, median (national 2020)", 75.0, "75 min (national, 2020)",
        ("qingbaijiang_tele_ecg",), _plain_kpi("door_to_balloon_median_min"),
        Closeness("relative", tol=0.25, why="a national median: an accredited district centre should be near it"),
        note="KPI door_to_balloon_median_min",
        known_gap="the model's door-to-balloon is fixed per path unless the cath lab is busy (care.emergency: ED "
                  "work-up 20 + activation 30 + table to wire 20 = 70 min; a tele-ECG patient straight to the "
                  "pre-activated lab 10 + 20 = 30 min): no spread, and the median is the bypassed share's"),
    SeedFigure(
        "qingbaijiang_fmc_to_ecg", "qingbaijiang", REFERENCES, "first medical contact to ECG < 10 min",
        "STEMI with first medical contact to ECG under 10 min", 0.5,
        "< 10 min (chest-pain centre standard), read as the median: more than half",
        ("qingbaijiang_tele_ecg",), _plain_kpi("fmc_to_ecg_within_10_share"),
        Closeness("above", why="the accreditation standard's < 10 min read as the median (a share above one "
                  "half), which a replication's few STEMI patients estimate more steadily than their median; "
                  "seed 003 states no time"),
        note="KPI fmc_to_ecg_within_10_share (no ECG = beyond); fmc_to_ecg_median gives the median itself",
        ratio=False),
    SeedFigure(
        "qingbaijiang_cathlab_direct", "qingbaijiang", REFERENCES,
        ">= 30% of ambulance/transfer STEMI patients straight to the cath lab",
        "STEMI brought by ambulance or transfer going straight to the cath lab", 0.30, ">= 30% (standard)",
        ("qingbaijiang_tele_ecg",), _stemi_transported_share("tele_ecg_bypass"),
        Closeness("at_least", why="the accreditation standard"),
        note="PCI patients arriving by ambulance with a tele_ecg_bypass event / PCI patients arriving by ambulance",
        known_gap='only members that record but cannot read an ECG send it ahead (t_qingquan alone; 姚渡 t_yaodu, whose data the seed uploads, reads its own), and 120 ambulances record an ECG on scene but never transmit it',
        ratio=False),
    SeedFigure(
        "qingbaijiang_ecg_transmitted", "qingbaijiang", f"{SEED_003} + {REFERENCES}",
        "向青白江胸痛中心上传相关数据; >= 30% with the ECG transmitted before arrival",
        "STEMI brought by ambulance or transfer with the ECG transmitted ahead", 0.30, ">= 30% (standard)",
        ("qingbaijiang_tele_ecg",), _stemi_transported_share("tele_ecg_sent"),
        Closeness("at_least", why="the accreditation standard"),
        note="PCI patients arriving by ambulance with a tele_ecg_sent event / PCI patients arriving by ambulance",
        known_gap='only members that record but cannot read an ECG send it ahead (t_qingquan alone; 姚渡 t_yaodu, whose data the seed uploads, reads its own), and 120 ambulances record an ECG on scene but never transmit it',
        ratio=False),
    SeedFigure(
        "qingbaijiang_members", "qingbaijiang", SEED_003, "1家牵头单位、6家成员单位和63家村卫生室",
        "Member centres of the district hospital group", 6.0, "6 members",
        ("qingbaijiang_tele_ecg",), _structure("members"), Closeness("absolute", tol=0, why="a count of the network"),
        note="open tier-1 sites (an input of the network, checked)"),
    SeedFigure(
        "qingbaijiang_village_clinics", "qingbaijiang", SEED_003, "6家成员单位和63家村卫生室",
        "Village clinics of the group", 63.0, "63 clinics",
        ("qingbaijiang_tele_ecg",), _structure("village_clinics"),
        Closeness("absolute", tol=0, why="a count of the network"),
        note="villages with a clinic doctor (an input of the network, checked)"),
    # ---------------------------------------------------------------- seed 000: Taobei
    SeedFigure(
        "taobei_provincial_experts", "taobei", SEED_000, "每年省内知名专家来白城市医院坐诊300余人次",
        "Provincial experts' sittings at the lead hospital a year", 300.0, "300+ a year",
        ("taobei_heads",), _expert_over(365.0, "sittings", external=True), Closeness("range", lo=300, hi=400, why=_YU),
        note="external teams' visits x doctors in whole post-warm-up weeks, a year"),
    SeedFigure(
        "taobei_retention", "taobei", SEED_000, "试点地区县域内就诊率达到90%",
        "County retention (县域内就诊率) of the pilot counties, 2020", 0.90, "90% (pilot areas, national)",
        ("taobei_heads",), _plain_kpi("county_retention"),
        Closeness("absolute", tol=0.05, why="a national average over the pilot areas (Taobei is one of them), "
                  "not Taobei's own figure: ±5 percentage points"),
        note="KPI county_retention (episodes completed in the county)",
        known_gap="the model completes about 97% of Taobei's episodes in the county, most of them minor illness and chronic follow-up that never leave it, above the pilot areas' national 90%"),
    SeedFigure(
        "taobei_members", "taobei", SEED_000, "相继与洮…北区内14家乡镇卫生院、5家社区卫生服务中心",
        "Township and community centres of the 1+N community", 19.0, "14 + 5 = 19 centres",
        ("taobei_heads",), _structure("members"), Closeness("absolute", tol=0, why="a count of the network"),
        note="open tier-1 sites (an input of the network, checked)"),
    # ---------------------------------------------------------------- seed 004: Qingdao
    SeedFigure(
        "qingdao_workstations", "qingdao", SEED_004, "首批10家基层单位博士(科普)团工作站和9家基层单位巡诊工作站",
        "Grassroots sites with an expert workstation", 19.0, "10 + 9 = 19 sites",
        ("qingdao_workstations",), expert_sites, Closeness("absolute", tol=0, why="a count of sites"),
        note="distinct tier-1 sites the lead's specialists visited in the run"),
)


# ------------------------------------------------------------------ running


def _overrides(over: Sequence[str], care: str, days: float, warmup: float, reps: int) -> list[str]:
    chosen = [f"care={care}"] if care else []     # "": the network's own calibrated care (the default)
    return [*over, *chosen, f"run.horizon_days={days:g}", f"run.warmup_days={warmup:g}",
            f"run.replications={reps}"]


def _fmt(x: float) -> str:
    if x is None or math.isnan(x):
        return "-"
    if math.isinf(x):
        return "inf"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def _row(fig: SeedFigure, runs: Sequence[RunResult] | None,
         scenarios: Mapping[str, Sequence[str]] = SCENARIOS) -> dict:
    scen = " vs ".join(" ".join(scenarios[s]) for s in fig.scenarios) if fig.scenarios else "-"
    base = {"id": fig.id, "figure": fig.label, "county": fig.county, "seed": f"{fig.seed}: 「{fig.quote}」",
            "published": fig.unit, "scenario": scen, "computed": fig.note or "-"}
    if fig.measure is None or runs is None:
        return {**base, "simulated": math.nan, "ci_low": math.nan, "ci_high": math.nan, "closeness": "-",
                "rule": "-", "verdict": f"cannot be reproduced: {fig.why}"}
    values = fig.measure(runs)
    m, _sd, lo, hi = mean_ci(np.asarray(values, dtype=float))
    if fig.closeness_text is not None:
        close = fig.closeness_text(m)
    elif fig.ratio and fig.published and not math.isnan(m):
        close = f"{m / fig.published:.2f}x"
    else:
        close = "-"
    split = fig.split(runs) if fig.split is not None else None
    if split is not None and fig.rule is not None and fig.rule.kind == "split" and sum(split) > 0:
        close = f"{close}, pooled {split[0]:g} : {split[1]:g}, p = {fig.rule.p_value(split):.2g}"
    if not fig.reproducible:
        verdict = f"cannot be reproduced: {fig.why}"
    elif fig.rule is not None and fig.rule.ok(m, fig.published, split):
        verdict = "reproduced"
    elif fig.known_gap:
        verdict = f"not reproduced: {fig.known_gap}"
    else:
        verdict = "not reproduced"
    rule = f"{fig.rule.text()}: {fig.rule.why}" if fig.rule is not None else "-"
    return {**base, "simulated": m, "ci_low": lo, "ci_high": hi, "closeness": close, "rule": rule,
            "verdict": verdict}


def rows(days: float = 90.0, warmup: float = 14.0, reps: int = 2, jobs: int | None = 2, care: str = "",
         figures: Iterable[SeedFigure] = FIGURES, progress: bool = False,
         scenarios: Mapping[str, Sequence[str]] = SCENARIOS) -> pd.DataFrame:
    """Run every scenario the figures need once and return one row per figure.

    Parameters
    ----------
    days, warmup : float
        ``run.horizon_days`` and ``run.warmup_days`` of every run.
    reps : int
        Replications per scenario (the CI is over them; 2 or more for an interval).
    jobs : int, optional
        Worker processes per run (``sim.run(jobs=...)``).
    care : str
        The care config passed as ``care=<care>`` to every run; ``""`` (the default) passes none,
        so each network runs its own calibrated care file.
    figures : iterable of SeedFigure
        The figures (default all of :data:`FIGURES`).
    progress : bool
        Print each scenario's name and time to stderr.
    scenarios : mapping of str to overrides
        The scenarios the figures name (default :data:`SCENARIOS`).

    Returns
    -------
    pandas.DataFrame
        ``id, figure, county, seed, published, scenario, simulated, ci_low, ci_high, closeness,
        rule, verdict, computed`` (verdict: ``reproduced``, ``not reproduced[: <known gap>]`` or
        ``cannot be reproduced: <why>``; computed: how the model's value is obtained).
    """
    figs = list(figures)
    missing = {x for f in figs for x in f.scenarios if x not in scenarios}
    if missing:
        raise KeyError(f"figures name scenarios not defined: {', '.join(sorted(missing))}")
    needed = [s for s in scenarios if any(s in f.scenarios for f in figs if f.measure is not None)]
    left = {s: sum(s in f.scenarios for f in figs if f.measure is not None) for s in needed}
    done: dict[str, RunResult] = {}
    out: dict[str, dict] = {f.id: _row(f, None, scenarios) for f in figs if f.measure is None}
    for s in needed:
        t0 = time.perf_counter()
        done[s] = run(_overrides(scenarios[s], care, days, warmup, reps), jobs=jobs)
        if progress:
            print(f"{s}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        for f in figs:
            if f.measure is None or f.id in out or not all(x in done for x in f.scenarios):
                continue
            out[f.id] = _row(f, [done[x] for x in f.scenarios], scenarios)
            for x in f.scenarios:  # free a run once its last figure is computed
                left[x] -= 1
                if left[x] == 0:
                    del done[x]
    cols = ["id", "figure", "county", "seed", "published", "scenario", "simulated", "ci_low", "ci_high",
            "closeness", "rule", "verdict", "computed"]
    return pd.DataFrame([out[f.id] for f in figs], columns=cols)


def markdown(table: pd.DataFrame, header: str = "") -> str:
    """The rows as a Markdown table (numbers formatted; ``|`` in text escaped)."""
    cols = ["figure", "county", "seed", "published", "scenario", "simulated", "95% CI", "closeness", "rule",
            "verdict", "how computed"]
    lines = [header, ""] if header else []
    lines += ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    for _, r in table.iterrows():
        ci = "-" if math.isnan(r["ci_low"]) else f"{_fmt(r['ci_low'])} – {_fmt(r['ci_high'])}"
        scen = f"`{r['scenario']}`" if r["scenario"] != "-" else "-"
        cells = [r["figure"], r["county"], r["seed"], r["published"], scen,
                 _fmt(r["simulated"]), ci, r["closeness"], r["rule"], r["verdict"], r.get("computed", "-")]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m calibration.seed_figures",
                                 description="The seed reports' figures against the model (Markdown table).")
    ap.add_argument("--days", type=float, default=90.0, help="run.horizon_days (default 90)")
    ap.add_argument("--warmup", type=float, default=14.0, help="run.warmup_days (default 14)")
    ap.add_argument("--reps", type=int, default=2, help="replications per scenario (default 2)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes per run (default 2)")
    ap.add_argument("--care", default="", help="care config of every run (default: each network's calibrated one)")
    ap.add_argument("--only", default="", help="comma-separated figure ids (default: all)")
    ap.add_argument("--out", default="", help="also write the Markdown table to this file")
    ap.add_argument("--doc", action="store_true", help="also write it into docs/validation.md (between the seeds markers)")
    args = ap.parse_args(argv)
    figs: Sequence[SeedFigure] = FIGURES
    if args.only:
        want = set(args.only.split(","))
        unknown = want - {f.id for f in FIGURES}
        if unknown:
            print(f"error: --only: no such figure {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        figs = [f for f in FIGURES if f.id in want]
    t0 = time.perf_counter()
    table = rows(args.days, args.warmup, args.reps, args.jobs, args.care, figs, progress=True)
    header = (f"Seed figures against the model: {args.days:g} days after {args.warmup:g} warm-up days, "
              f"{args.reps} replications, "
              f"{f'care={args.care}' if args.care else 'each county on its calibrated care file'} "
              f"({time.perf_counter() - t0:.0f} s on {os.cpu_count()} cores; `python -m calibration.seed_figures`).")
    text = markdown(table, header)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    if args.doc:
        write_doc(text)
    return 0


SEEDS_BEGIN, SEEDS_END = "<!-- seeds:begin -->", "<!-- seeds:end -->"


def write_doc(text: str, doc: Path | None = None) -> None:
    """Put ``text`` (the Markdown table) between the seeds markers of ``docs/validation.md``."""
    doc = doc or Path(__file__).resolve().parent.parent / "docs" / "validation.md"
    page = doc.read_text(encoding="utf-8")
    if SEEDS_BEGIN not in page or SEEDS_END not in page:
        raise SystemExit(f"{doc}: the markers {SEEDS_BEGIN} and {SEEDS_END} are missing")
    head, rest = page.split(SEEDS_BEGIN, 1)
    _, tail = rest.split(SEEDS_END, 1)
    doc.write_text(f"{head}{SEEDS_BEGIN}\n{text}\n{SEEDS_END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
