"""The realistic-county table: what a run of each bundled county shows against published figures.

Computed from the record tables directly (not from the KPI registry), so that the figures a
county health bureau checks first can be compared across model versions whatever the KPIs
are called.  Run ``python -m calibration.county_table`` (``--days``, ``--reps``, ``--networks``,
``--levers`` for the remote-reading volume); it prints one Markdown table, model per county
against the published figure.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

import numpy as np

from sim import RunResult, run
from sim.analysis.kpis import price

__all__ = ["PUBLISHED", "figures", "table", "main"]

NETWORKS = ("taobei", "xianghe", "qingbaijiang", "liuzhou", "qingdao")
DAY = 1440.0

#: figure id -> (label, published value, source); values as the table prints them.
PUBLISHED: dict[str, tuple[str, str, str]] = {
    "inpatient_retention": ("residents' admissions in the county 参保人县域内住院人次占比", "~87-90%",
                            "NHSS 2018 87.1% treated in county; pilot standard ~90%"),
    "episode_retention": ("episodes completed in the county (model's own)", "-", "[MODEL]"),
    "straight_out": ("episodes going straight out of county", "mostly serious inpatient care", "-"),
    "out_admissions_by_kind": ("out-of-county admissions: share surgical/maternity/medical/cancer", "> 0 each", "-"),
    "t1_admissions_pp": ("township/community admissions per resident-year", "-", "(all residents)"),
    "township_admissions_pp": ("township centre admissions per resident of their catchments, a year", "~0.084",
                               "39.92 M (NHC 2023) / ~477 M rural residents [EST]"),
    "lead_admissions_pp": ("lead-hospital admissions per resident-year", "< 0.174",
                           "hospitals 245 M / 1,410 M (NHC 2023); a county keeps part"),
    "all_admissions_pp": ("all residents' admissions per resident-year", "~0.21", "NHC 2023 301.87 M / 1,410 M [EST]"),
    "t1_visits_pp": ("township/community visits per resident-year", "~2.75", "1.31 bn / ~477 M [EST]"),
    "t1_los": ("township mean stay (days)", "6.5-6.8", "provincial series 2014-22"),
    "lead_los": ("lead-hospital mean stay (days)", "8.8", "NHC 2023 hospitals"),
    "down_per_1000": ("down-referrals per 1,000 people a year", "-", "seed 001: 61 chronic + 56 rehab"),
    "down_non_emergency": ("share of down-referrals for non-emergency conditions", "> 0", "seed 001"),
    "left_untreated": ("left untreated", "< 1%", "patients wait rather than leave"),
    "cost_per_admission": ("medical cost per completed stay, lead hospital (CNY)", "10,315.8", "NHC 2023 hospitals"),
    "cost_per_admission_official": ("参保人县域内住院人均费用, tiers 1-2 (CNY)", "-", "2024 indicator"),
    "remote_per_centre_month": ("remote studies per township centre per month", "~95",
                                "Huarong: > 2,000 a month across 21 centres"),
}


def _years(result: RunResult) -> float:
    r = result.config.run
    return (r.horizon_days - r.warmup_days) / 365.0


def figures(result: RunResult) -> dict[str, float]:
    """The table's figures for one run (means over its replications)."""
    if result.patients is None or result.visits is None or result.admissions is None:
        raise ValueError("the county table needs the per-patient tables (run.keep_patients=true)")
    cfg = result.config
    warm = cfg.run.warmup_days * DAY
    years = _years(result)
    reps = sorted(result.patients["replication"].unique())
    tier = result.sites.set_index("site")["tier"]
    pop = float(result.villages["population"].sum())
    cond = result.conditions
    out: dict[str, list[float]] = {k: [] for k in PUBLISHED}
    for r in reps:
        p = result.patients[(result.patients["replication"] == r) & (result.patients["onset"] >= warm)]
        ids = p["patient"].to_numpy()
        v = result.visits[(result.visits["replication"] == r) & result.visits["patient"].isin(ids)]
        a = result.admissions[(result.admissions["replication"] == r) & result.admissions["patient"].isin(ids)]
        vt = v["facility"].astype(str).map(tier).to_numpy()
        at = a["facility"].astype(str).map(tier).to_numpy()
        adm = a[a["admit"].notna().to_numpy()]
        adm_t = at[a["admit"].notna().to_numpy()]
        # out-of-county admissions: admission rows at tier 3 when the model writes them, else
        # the expected admissions of out-of-county visits (admit_prob of the condition)
        cond_of = p.set_index("patient")["condition"].astype(str)
        out_v = v[vt == 3]
        if (adm_t == 3).any():
            n_out = float((adm_t == 3).sum())
            out_conds = cond_of.reindex(adm[adm_t == 3]["patient"].to_numpy()).to_numpy()
            out_w = np.ones(len(out_conds))
        else:
            out_conds = cond_of.reindex(out_v["patient"].to_numpy()).to_numpy()
            out_w = cond["admit_prob"].reindex(out_conds).to_numpy()
            n_out = float(out_w.sum())
        n_in = float(((adm_t == 1) | (adm_t == 2)).sum())
        out["inpatient_retention"].append(n_in / (n_in + n_out) if n_in + n_out else math.nan)
        ex = p["exit"].astype(str).to_numpy()
        comp, tout = (ex == "completed").sum(), (ex == "transferred_out").sum()
        out["episode_retention"].append(comp / (comp + tout) if comp + tout else math.nan)
        first = p["first_facility"].astype(str).map(tier).to_numpy()
        out["straight_out"].append(float((first == 3).mean()) if len(p) else math.nan)
        kinds = {"surgical": ("surgical", "complex_surgery", "major_trauma"),
                 "maternity": ("maternity", "high_risk_maternity"),
                 "medical": ("medical_admission", "common_acute", "paediatric"), "cancer": ("cancer",)}
        parts = []
        for _k, names in kinds.items():
            parts.append(float(out_w[np.isin(out_conds, names)].sum()) / n_out if n_out else 0.0)
        out["out_admissions_by_kind"].append(min(parts) if parts else math.nan)
        per = pop * years
        out["t1_admissions_pp"].append(float((adm_t == 1).sum()) / per)
        kind = result.sites.set_index("site")["kind"]
        town = adm["facility"].astype(str).map(kind).to_numpy() == "township"
        vill = result.villages
        town_pop = float(vill.loc[vill["home_tier1"].map(kind).to_numpy() == "township", "population"].sum())
        out["township_admissions_pp"].append(float(town.sum()) / (town_pop * years) if town_pop else math.nan)
        out["lead_admissions_pp"].append(float((adm_t == 2).sum()) / per)
        out["all_admissions_pp"].append((n_in + n_out) / per)
        seen = v["start"].notna().to_numpy()
        out["t1_visits_pp"].append(float(((vt == 1) & seen).sum()) / per)
        dis = adm["discharge"].to_numpy()
        stay = (dis - adm["admit"].to_numpy()) / DAY
        for key, t in (("t1_los", 1), ("lead_los", 2)):
            s = stay[(adm_t == t) & ~np.isnan(dis)]
            out[key].append(float(s.mean()) if len(s) else math.nan)
        down = v[v["mode"].astype(str).to_numpy() == "down_referral"]
        out["down_per_1000"].append(len(down) / per * 1000)
        dconds = cond_of.reindex(down["patient"].to_numpy()).to_numpy()
        emerg = set(cond.index[cond["pathway"] != "outpatient"])
        out["down_non_emergency"].append(float(np.mean([c not in emerg for c in dconds])) if len(dconds) else 0.0)
        ended = ex != "in_system"
        out["left_untreated"].append(float((ex == "left_untreated").sum() / max(ended.sum(), 1)))
        # medical cost of the lead hospitals' completed stays (the published figure is per stay)
        priced = price({"visits": v, "admissions": a, "patients": p}, result.sites, cond, cfg.care.prices,
                       cfg.run.horizon_days * DAY)["admissions"]
        done = priced[(priced["tier"].to_numpy() == 2) & a["discharge"].notna().to_numpy()]
        out["cost_per_admission"].append(float(done["medical"].mean()) if len(done) else math.nan)
        k = result.kpis[(result.kpis["replication"] == r) & (result.kpis["group"] == "county")]
        kk = dict(zip(k["metric"], k["value"]))
        out["cost_per_admission_official"].append(float(kk.get("cost_per_admission_in_county", math.nan)))
        rs = result.remote_studies
        n_t1 = int((tier == 1).sum())
        if rs is not None and len(rs):
            rr = rs[(rs["replication"] == r) & (rs["sent"].to_numpy() >= warm)]
            months = years * 12
            out["remote_per_centre_month"].append(len(rr) / max(n_t1, 1) / months)
        else:
            out["remote_per_centre_month"].append(math.nan)
    return {k: float(np.nanmean(x)) if len(x) and not all(math.isnan(y) for y in x) else math.nan
            for k, x in out.items()}


def _fmt(key: str, x: float) -> str:
    if math.isnan(x):
        return "-"
    if key in ("inpatient_retention", "episode_retention", "straight_out", "left_untreated",
               "down_non_emergency", "out_admissions_by_kind"):
        return f"{100 * x:.1f}%"
    if key.endswith("_pp"):
        return f"{x:.3f}"
    if key.startswith("cost_per_admission"):
        return f"{x:,.0f}"
    return f"{x:.1f}"


def table(results: dict[str, RunResult]) -> str:
    """A Markdown table: one row per figure, one column per county, then the published figure."""
    figs = {n: figures(r) for n, r in results.items()}
    head = "| figure | " + " | ".join(results) + " | published | source |"
    lines = [head, "|" + " --- |" * (len(results) + 3)]
    for key, (label, pub, src) in PUBLISHED.items():
        lines.append(f"| {label} | " + " | ".join(_fmt(key, figs[n][key]) for n in results) + f" | {pub} | {src} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m calibration.county_table", description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=90.0, help="horizon in days (default 90)")
    ap.add_argument("--warmup", type=float, default=14.0, help="warm-up days (default 14)")
    ap.add_argument("--reps", type=int, default=2, help="replications per county (default 2)")
    ap.add_argument("--networks", default=",".join(NETWORKS), help="comma-separated networks")
    ap.add_argument("--levers", default="remote_full",
                    help="levers config of a second run for the remote-volume row ('' = skip it)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides for every run")
    args = ap.parse_args(argv)
    results = {}
    for n in args.networks.split(","):
        over = [f"network={n}", f"run.horizon_days={args.days}", f"run.warmup_days={args.warmup}",
                f"run.replications={args.reps}", *args.overrides]
        print(f"running {n} ...", file=sys.stderr, flush=True)
        results[n] = run(over, jobs=args.jobs)
        if args.levers:
            # the remote-reading volume needs the lever on: a second run, one replication
            lever = run([*over, f"levers={args.levers}", "run.replications=1"], jobs=1)
            results[n].remote_studies = lever.remote_studies
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
