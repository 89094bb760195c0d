"""Plotly figures from the tidy tables (no SimPy, no model: only the record schemas).

Every function takes tidy tables (pandas) and returns a :class:`plotly.graph_objects.Figure`
in one consistent template (fonts, a colour-blind-safe Okabe-Ito palette with one colour per
tier, units in axis titles, hover text with exact values).  Every function takes
``language="en"`` or ``"zh"`` and labels everything in that language (KPI names, units and
better directions from :mod:`sim.analysis.registry`).

Figures
-------
network_map         facilities and villages at their positions, sized by visits, coloured by
                    tier, referral flows as lines whose width is the flow; closed sites as X.
flow_sankey         first-contact tier -> referred tier -> outcome, for one scenario.
scenario_comparison each KPI's mean and 95% CI per scenario, and the paired differences
                    against the baseline (forest plot) with the "better" direction marked.
dose_response       a KPI against a lever's intensity, with its CI band.
waiting_times       waiting time by tier (ECDF, or box plots by scenario).
occupancy_timeline  daily beds and doctors in use at chosen facilities, with capacity lines.
emergency_times     STEMI first-medical-contact-to-reperfusion, with the 90/120-min standards.

Times in the record tables are minutes; ``sites`` has ``site, tier, x_km, y_km, name, name_zh``
(optionally ``status``: ``open``/``closed``/``merged``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from sim.analysis import registry
from sim.analysis.registry import REGISTRY

__all__ = [
    "LANGUAGES", "TIER_COLORS", "KPI_EN", "HEADLINE_KPIS", "PERCENT_KPIS", "label", "kpi_label", "tier_label",
    "scale", "decimals_for", "format_value", "network_map", "county_map", "flow_sankey", "scenario_selector", "SATURATION",
    "cost_effect",
    "saturated_sites", "scenario_comparison", "dose_response",
    "waiting_times", "occupancy_timeline", "emergency_times", "referral_flows",
]

LANGUAGES = registry.LANGUAGES

#: Okabe-Ito (colour-blind safe): village clinic, township centre, county lead hospital, out of county.
TIER_COLORS = {0: "#009E73", 1: "#0072B2", 2: "#E69F00", 3: "#D55E00"}
#: scenario / facility colours (Okabe-Ito, then greys); the baseline is the first scenario.
PALETTE = ["#000000", "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#777777", "#AAAAAA"]
OUTCOME_COLORS = {"completed": "#56B4E9", "transferred_out": "#CC79A7", "left_untreated": "#555555",
                  "in_system": "#F0E442"}
BETTER_COLOR, WORSE_COLOR, NEUTRAL_COLOR = "#0072B2", "#D55E00", "#888888"
#: system fonts only (no web fonts: the brief opens offline); CJK fonts for the Chinese labels.
FONT_FAMILY = ("Helvetica Neue, Arial, Liberation Sans, Noto Sans, Noto Sans CJK SC, Source Han Sans SC, "
               "PingFang SC, Microsoft YaHei, sans-serif")

#: the KPIs of the headline comparison (in this order, where present): a view of the registry.
HEADLINE_KPIS = registry.headline()

#: KPIs that are shares (shown as percentages; differences in percentage points): a view of the registry.
PERCENT_KPIS = registry.shares()

#: English name of every KPI (without its unit; :func:`kpi_label` adds it): a view of the registry.
KPI_EN = {k: v.en for k, v in REGISTRY.items()}

_TEXT = {
    "en": {
        "tier0": "Village clinic", "tier1": "Township / community health centre", "tier2": "County lead hospital",
        "tier3": "Out-of-county tertiary hospital",
        "map_title": "Referral network", "x_km": "East–west position (km)", "y_km": "North–south position (km)",
        "villages": "Village (size: population)", "referral_flow": "Referral flow (line width: patients)",
        "down_flow": "Down-referral flow", "closed": "Closed / merged site", "status_closed": "closed",
        "status_merged": "merged", "visits": "visits", "per_rep": "per replication", "population": "population",
        "referrals": "referrals", "down_referrals": "down-referrals",
        "county_map_title": "The county and its referral flows", "lon": "Longitude (°E)", "lat": "Latitude (°N)",
        "km_away": "{km:,.0f} km away (off the map)", "to_out": "Referral out of the county",
        "sankey_title": "Patient flow", "first_contact": "First contact", "referred_to": "Highest referral",
        "outcome": "Outcome", "not_referred": "Not referred", "episodes": "episodes",
        "replications": "replications", "replication": "replication",
        "completed": "Completed in county", "transferred_out": "Outward transfer", "left_untreated": "Left untreated",
        "in_system": "Still in care at end of run",
        "comparison_title": "Scenarios compared (mean and 95% CI)", "difference": "Paired difference vs",
        "mean_ci": "mean and 95% CI", "higher_better": "higher is better", "lower_better": "lower is better",
        "better_right": "better →", "better_left": "← better", "pp": "percentage points",
        "significant": "95% CI excludes zero", "not_significant": "95% CI spans zero",
        "scenario": "Scenario", "mean": "mean", "ci": "95% CI", "diff": "difference",
        "dose_title": "Dose-response", "intensity": "Lever intensity", "ci_band": "95% CI",
        "ce_title": "Effect against cost", "ce_cost": "Running cost difference (CNY million a year)",
        "ce_total_cost": "Total cost difference, running + annualised capital (CNY million a year)",
        "ce_effect": "Difference in {name}", "ce_note": "filled: effect significant; bars: 95% CI",
        "wait_title": "Waiting time by tier", "wait_min": "Waiting time (minutes)",
        "cum_share": "Share of visits waiting at most this long (%)", "box_note": "box: quartiles; whiskers: 5th–95th percentile",
        "tier": "Tier", "n_visits": "visits",
        "occ_title": "Daily occupancy", "day": "Day of run", "beds": "Beds in use (daily mean)",
        "doctors": "Doctors in use (daily mean)", "capacity": "capacity", "in_use": "in use",
        "occ_pct_sub": "% of each site's capacity; dashed: 100%, dotted: {s}% (saturation); ⚠ mean at or above {s}%",
        "emerg_title": "STEMI: first medical contact to reperfusion",
        "fmc_min": "First medical contact to reperfusion (minutes)", "patients": "Patients",
        "standard": "{m}-min standard", "no_reperfusion": "without reperfusion", "reperfused": "reperfused",
        "no_data": "No data", "no_stemi": "No STEMI patients in these runs",
    },
    "zh": {
        "tier0": "村卫生室", "tier1": "乡镇卫生院/社区卫生服务中心", "tier2": "县级牵头医院", "tier3": "县外三级医院",
        "map_title": "转诊网络", "x_km": "东西向位置(公里)", "y_km": "南北向位置(公里)",
        "villages": "村庄(大小:人口)", "referral_flow": "上转流量(线宽:患者数)", "down_flow": "下转流量",
        "closed": "已关闭/合并机构", "status_closed": "已关闭", "status_merged": "已合并", "visits": "就诊人次",
        "per_rep": "每次模拟", "population": "人口", "referrals": "转诊人次", "down_referrals": "下转人次",
        "county_map_title": "县域地图与转诊流向", "lon": "经度(东经,度)", "lat": "纬度(北纬,度)",
        "km_away": "距本县约{km:,.0f}公里(不在图内)", "to_out": "转往县外",
        "sankey_title": "患者流向", "first_contact": "首诊机构", "referred_to": "最高转诊层级", "outcome": "结局",
        "not_referred": "未转诊", "episodes": "病例", "replications": "次模拟", "replication": "模拟",
        "completed": "县域内完成诊疗", "transferred_out": "外转", "left_untreated": "未就诊离开",
        "in_system": "模拟结束时仍在诊疗",
        "comparison_title": "情景比较(均值及95%置信区间)", "difference": "配对差值,对照",
        "mean_ci": "均值及95%置信区间", "higher_better": "越高越好", "lower_better": "越低越好",
        "better_right": "更优 →", "better_left": "← 更优", "pp": "百分点",
        "significant": "95%置信区间不含0", "not_significant": "95%置信区间包含0",
        "scenario": "情景", "mean": "均值", "ci": "95%置信区间", "diff": "差值",
        "dose_title": "剂量-反应关系", "intensity": "干预强度", "ci_band": "95%置信区间",
        "ce_title": "效果与成本", "ce_cost": "每年运行成本变化(万元)", "ce_total_cost": "每年总成本变化(运行成本+一次性投入年均摊,万元)",
        "ce_effect": "{name}变化",
        "ce_note": "实心:效果显著;误差线:95%置信区间",
        "wait_title": "各层级候诊时间", "wait_min": "候诊时间(分钟)", "cum_share": "候诊时间不超过该值的就诊比例(%)",
        "box_note": "箱体:四分位数;须线:第5–95百分位数", "tier": "层级", "n_visits": "就诊人次",
        "occ_title": "每日资源占用", "day": "模拟天数(天)", "beds": "在用床位(日均)", "doctors": "在岗接诊医生(日均)",
        "capacity": "容量", "in_use": "在用",
        "occ_pct_sub": "占各机构容量的百分比;虚线:100%,点线:{s}%(饱和);⚠ 平均占用达到或超过{s}%",
        "emerg_title": "STEMI:首次医疗接触至再灌注时间", "fmc_min": "首次医疗接触至再灌注时间(分钟)",
        "patients": "患者数", "standard": "{m}分钟标准", "no_reperfusion": "未再灌注", "reperfused": "已再灌注",
        "no_data": "无数据", "no_stemi": "本次模拟无STEMI患者",
    },
}

#: minutes in each language (hover texts of the waiting and emergency figures).
_MIN = {lang: getattr(registry.UNITS["minutes"], lang) for lang in LANGUAGES}


def _lang(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    return language


def label(key: str, language: str = "en") -> str:
    """A fixed label in ``language``.

    >>> label("tier1", "zh")
    '乡镇卫生院/社区卫生服务中心'
    """
    return _TEXT[_lang(language)][key]


def tier_label(tier: int, language: str = "en") -> str:
    """The name of a tier (0 village clinic ... 3 out-of-county tertiary)."""
    return label(f"tier{int(tier)}", language)


def kpi_label(metric: str, language: str = "en", unit: bool = True) -> str:
    """A KPI's display name with its unit in brackets (``unit=False`` drops the unit); see
    :func:`sim.analysis.registry.label`.

    >>> kpi_label("inpatient_retention", "zh")
    '参保人县域内住院人次占比(%)'
    >>> kpi_label("wait_mean_min"), kpi_label("wait_mean_min", "zh", unit=False)
    ('Mean waiting time (min)', '平均候诊时间')
    """
    return registry.label(metric, _lang(language), unit=unit)


def scale(metric: str) -> float:
    """Display factor: 100 for shares (shown in %), else 1."""
    return registry.scale(metric)


def decimals_for(metric: str, *values: float) -> int:
    """Decimals that show about two significant digits of the smallest non-zero magnitude
    among ``values`` (after display scaling), between 0 and 3.

    >>> decimals_for("county_retention", 0.011, 0.004)
    2
    >>> decimals_for("oop_per_episode", 70.2, 3.3)
    1
    """
    return registry.decimals_for(metric, *values)


def format_value(metric: str, value: float, diff: bool = False, language: str = "en", sign: bool = False,
                 digits: int | None = None) -> str:
    """A KPI value (or difference) for text, in the KPI's unit (:func:`sim.analysis.registry.format_value`):
    shares in % (differences in percentage points), minutes, yuan, counts.

    >>> format_value("county_retention", 0.9512)
    '95.1%'
    >>> format_value("county_retention", 0.011, diff=True, sign=True)
    '+1.1 pp'
    >>> format_value("wait_mean_min", 12.345)
    '12.3 min'
    >>> format_value("wait_mean_min", -0.5, diff=True, sign=True, language="zh", digits=2)
    '−0.50分钟'
    >>> format_value("share_beyond_30_min", 0.092, language="zh")
    '9.2%'
    """
    return registry.format_value(metric, value, _lang(language), diff=diff, sign=sign, digits=digits)


def _template() -> go.layout.Template:
    t = go.layout.Template(pio.templates["plotly_white"])
    t.layout.font = dict(family=FONT_FAMILY, size=13, color="#222222")
    t.layout.title = dict(font=dict(size=17), x=0.01, xanchor="left")
    t.layout.colorway = PALETTE
    t.layout.hoverlabel = dict(font=dict(family=FONT_FAMILY, size=12))
    t.layout.legend = dict(bgcolor="rgba(255,255,255,0.8)")
    t.layout.margin = dict(l=70, r=30, t=70, b=60)
    return t


def _figure(fig: go.Figure, title: str, **layout) -> go.Figure:
    fig.update_layout(template=_template(), title_text=title, **layout)
    return fig


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _one_scenario(df: pd.DataFrame | None, scenario: str | None) -> tuple[pd.DataFrame | None, str | None]:
    """Rows of one scenario (the given one, else the first present)."""
    if df is None or "scenario" not in df.columns or not len(df):
        return df, scenario
    if scenario is None:
        scenario = str(df["scenario"].iloc[0])
    return df[df["scenario"].astype(str) == scenario], scenario


def _n_reps(df: pd.DataFrame) -> int:
    if df is None or "replication" not in df.columns or not len(df):
        return 1
    return max(int(df["replication"].nunique()), 1)


def _str(s: pd.Series) -> pd.Series:
    """A string/categorical column as plain Python objects, missing values as None."""
    return s.astype(object).where(s.notna(), None)


def _mapped(s: pd.Series, mapping: Mapping[str, object]) -> pd.Series:
    """``_str(s).map(mapping)``, through the categories of a categorical column (no string per row)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = pd.Series(s.cat.categories.astype(str)).map(mapping).to_numpy()
        codes = s.cat.codes.to_numpy()
        vals = pd.Series(cats).take(np.where(codes < 0, 0, codes)).to_numpy() if len(cats) else np.full(len(s), np.nan)
        out = pd.Series(vals, index=s.index, name=s.name)
        return out.where(codes >= 0)
    return _str(s).map(mapping)


def _isin(s: pd.Series, values: Iterable[str]) -> np.ndarray:
    """``s.astype(str).isin(values)`` as a boolean array, through the categories of a categorical."""
    vals = set(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        hit = np.asarray(s.cat.categories.astype(str).isin(vals), dtype=bool)
        codes = s.cat.codes.to_numpy()
        return np.append(hit, False)[np.where(codes < 0, len(hit), codes)]
    return s.astype(str).isin(vals).to_numpy()


def _site_names(sites: pd.DataFrame, language: str) -> dict[str, str]:
    col = "name_zh" if language == "zh" and "name_zh" in sites.columns else "name"
    out = {}
    for site, name in zip(sites["site"].astype(str), sites[col] if col in sites.columns else sites["site"], strict=False):
        out[site] = str(name) if isinstance(name, str) and name else site
    return out


def _tier_map(sites: pd.DataFrame) -> dict[str, int]:
    return {str(s): int(t) for s, t in zip(sites["site"], sites["tier"], strict=False)}


def _scenario_order(*frames: pd.DataFrame | None, baseline: str | None = None) -> list[str]:
    seen: list[str] = []
    for df in frames:
        if df is not None and "scenario" in df.columns:
            for s in pd.Series(df["scenario"].unique()).astype(str):  # in order of appearance
                if s not in seen:
                    seen.append(s)
    if baseline is not None and baseline in seen:
        seen.remove(baseline)
        seen.insert(0, baseline)
    return seen


def _empty(fig: go.Figure, language: str, key: str = "no_data") -> go.Figure:
    fig.add_annotation(text=label(key, language), x=0.5, y=0.5, xref="paper", yref="paper",
                       showarrow=False, font=dict(size=16, color="#666666"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


# --------------------------------------------------------------------------------------------
# 1. network map


def referral_flows(visits: pd.DataFrame, modes: Iterable[str] = ("referral", "ambulance")) -> pd.DataFrame:
    """Patients moving ``source -> target`` by one of ``modes``, per replication (mean).

    The previous facility of a visit is the patient's visit before it (ordered by arrival)
    in the same replication.

    >>> v = pd.DataFrame({"replication": [0, 0, 0, 0], "patient": [1, 1, 2, 2],
    ...                   "facility": ["a", "b", "a", "b"], "arrive": [0.0, 5.0, 1.0, 9.0],
    ...                   "mode": ["self", "referral", "self", "ambulance"]})
    >>> referral_flows(v).to_dict("records")
    [{'source': 'a', 'target': 'b', 'flow': 2.0}]
    """
    cols = ["source", "target", "flow"]
    if visits is None or not len(visits):
        return pd.DataFrame(columns=cols)
    keys = [c for c in ("scenario", "replication") if c in visits.columns] + ["patient"]
    v = visits[[*keys, "facility", "arrive", "mode"]].copy()
    v["facility"] = _str(v["facility"])
    v["mode"] = v["mode"].astype(str)
    v = v.sort_values([*keys, "arrive"], kind="mergesort")
    v["source"] = v.groupby(keys, sort=False, observed=True)["facility"].shift()
    m = v["mode"].isin(list(modes)) & v["source"].notna() & (v["source"] != v["facility"])
    f = v[m].groupby(["source", "facility"], observed=True).size().rename("flow").reset_index()
    f = f.rename(columns={"facility": "target"})
    f["flow"] = f["flow"] / _n_reps(visits)
    return f[cols].sort_values("flow", ascending=False, kind="mergesort").reset_index(drop=True)


def network_map(sites: pd.DataFrame, visits: pd.DataFrame | None = None, villages: pd.DataFrame | None = None,
                closed: Iterable[str] | None = None, scenario: str | None = None, language: str = "en",
                show_down_referrals: bool = True) -> go.Figure:
    """Facilities and villages at their positions; referral flows as lines.

    Sites are sized by visits (mean per replication) and coloured by tier; villages are open
    circles sized by population; each ``source -> target`` referral (or ambulance) flow is a
    line whose width is the flow, with an arrowhead at its midpoint carrying the exact number.
    Sites in ``closed`` or whose ``status`` column is not ``open`` are drawn as an X.
    """
    _lang(language)
    visits, scenario = _one_scenario(visits, scenario)
    names = _site_names(sites, language)
    tiers = _tier_map(sites)
    pos = {str(s): (float(x), float(y)) for s, x, y in zip(sites["site"], sites["x_km"], sites["y_km"], strict=False)}
    status = {s: "closed" for s in (closed or ())}
    if "status" in sites.columns:
        for s, st in zip(sites["site"].astype(str), sites["status"], strict=False):
            if isinstance(st, str) and st.strip().lower() not in ("", "open"):
                status[s] = "merged" if st.strip().lower() == "merged" else "closed"
    volume: dict[str, float] = {}
    if visits is not None and len(visits):
        vc = _str(visits["facility"]).value_counts() / _n_reps(visits)
        volume = {str(k): float(c) for k, c in vc.items()}
    vmax = max(volume.values(), default=0.0) or 1.0
    fig = go.Figure()

    # flows first (drawn under the markers)
    flow_sets: list[tuple[str, tuple[str, ...], str, str]] = [
        ("referral_flow", ("referral", "ambulance"), "#555555", "solid")]
    if show_down_referrals:
        flow_sets.append(("down_flow", ("down_referral",), "#009E73", "dot"))
    all_flows = {key: referral_flows(visits, modes) if visits is not None else pd.DataFrame(columns=["flow"])
                 for key, modes, _, _ in flow_sets}
    fmax = max([float(f["flow"].max()) for f in all_flows.values() if len(f)], default=0.0) or 1.0
    unit = label("referrals", language)
    for key, _modes, color, dash in flow_sets:
        f = all_flows[key]
        f = f[f["source"].isin(pos) & f["target"].isin(pos)]
        if not len(f):
            continue
        mx, my, ang, hover = [], [], [], []
        for i, r in enumerate(f.itertuples(index=False)):
            (x0, y0), (x1, y1) = pos[r.source], pos[r.target]
            fig.add_trace(go.Scatter(
                x=[x0, x1], y=[y0, y1], mode="lines", line=dict(width=1 + 11 * r.flow / fmax, color=color, dash=dash),
                opacity=0.55, name=label(key, language), legendgroup=key, showlegend=i == 0, hoverinfo="skip"))
            mx.append((x0 + x1) / 2)
            my.append((y0 + y1) / 2)
            ang.append(math.degrees(math.atan2(x1 - x0, y1 - y0)))
            u = label("down_referrals", language) if key == "down_flow" else unit
            hover.append(f"{names.get(r.source, r.source)} → {names.get(r.target, r.target)}<br>"
                         f"{r.flow:.4g} {u} ({label('per_rep', language)})")
        fig.add_trace(go.Scatter(
            x=mx, y=my, mode="markers", marker=dict(symbol="triangle-up", angle=ang, size=11, color=color),
            name=label(key, language), legendgroup=key, showlegend=False, text=hover,
            hovertemplate="%{text}<extra></extra>"))

    if villages is not None and len(villages):
        pop = villages["population"].astype(float).to_numpy()
        pmax = float(pop.max()) or 1.0
        vname = villages["village"].astype(str).tolist()
        fig.add_trace(go.Scatter(
            x=villages["x_km"], y=villages["y_km"], mode="markers", name=label("villages", language),
            marker=dict(symbol="circle-open", size=10 + 26 * np.sqrt(pop / pmax), color="#999999", line=dict(width=1.5)),
            text=[f"{v}<br>{label('population', language)}: {p:,.0f}" for v, p in zip(vname, pop, strict=False)],
            hovertemplate="%{text}<extra></extra>"))

    site_ids = sites["site"].astype(str).tolist()
    for t in sorted(set(tiers.values())):
        ids = [s for s in site_ids if tiers[s] == t and s not in status]
        if not ids:
            continue
        vol = np.array([volume.get(s, 0.0) for s in ids])
        fig.add_trace(go.Scatter(
            x=[pos[s][0] for s in ids], y=[pos[s][1] for s in ids], mode="markers", name=tier_label(t, language),
            marker=dict(size=7 + 38 * np.sqrt(vol / vmax), color=TIER_COLORS.get(t, "#777777"),
                        line=dict(width=1, color="white"), opacity=0.9),
            text=[f"{names[s]} ({s})<br>{tier_label(t, language)}<br>{volume.get(s, 0.0):,.4g} "
                  f"{label('visits', language)} ({label('per_rep', language)})" for s in ids],
            hovertemplate="%{text}<extra></extra>"))
    closed_ids = [s for s in site_ids if s in status]
    if closed_ids:
        fig.add_trace(go.Scatter(
            x=[pos[s][0] for s in closed_ids], y=[pos[s][1] for s in closed_ids], mode="markers",
            name=label("closed", language),
            marker=dict(symbol="x", size=16, color=[TIER_COLORS.get(tiers[s], "#777777") for s in closed_ids],
                        line=dict(width=1.5, color="#222222")),
            text=[f"{names[s]} ({s})<br>{tier_label(tiers[s], language)}: {label('status_' + status[s], language)}"
                  for s in closed_ids],
            hovertemplate="%{text}<extra></extra>"))
    title = label("map_title", language) + (f" — {scenario}" if scenario else "")
    _figure(fig, title, height=620, legend=dict(itemsizing="constant"))
    fig.update_xaxes(title_text=label("x_km", language), zeroline=False)
    fig.update_yaxes(title_text=label("y_km", language), zeroline=False, scaleanchor="x", scaleratio=1)
    return fig


def _edge_point(cx: float, cy: float, tx: float, ty: float, box: tuple[float, float, float, float]) -> tuple[float, float]:
    """Where the ray from the centre (cx, cy) towards (tx, ty) leaves ``box`` (x0, x1, y0, y1).

    >>> _edge_point(0.0, 0.0, 100.0, 0.0, (-10.0, 10.0, -5.0, 5.0))
    (10.0, 0.0)
    """
    x0, x1, y0, y1 = box
    dx, dy = tx - cx, ty - cy
    ts = [t for t in ((x1 - cx) / dx if dx > 0 else (x0 - cx) / dx if dx < 0 else math.inf,
                      (y1 - cy) / dy if dy > 0 else (y0 - cy) / dy if dy < 0 else math.inf) if t > 0]
    t = min(ts) if ts else 0.0
    return cx + t * dx, cy + t * dy


def map_volumes(visits: pd.DataFrame | None) -> tuple[dict[str, float], pd.DataFrame]:
    """What :func:`county_map` draws from ``visits`` (one scenario): visits per facility and
    :func:`referral_flows`, both per replication (mean)."""
    if visits is None or not len(visits):
        return {}, pd.DataFrame(columns=["source", "target", "flow"])
    vc = _str(visits["facility"]).value_counts() / _n_reps(visits)
    return {str(k): float(c) for k, c in vc.items()}, referral_flows(visits, ("referral", "ambulance"))


def county_map(sites: pd.DataFrame, visits: pd.DataFrame | None = None, villages: pd.DataFrame | None = None,
               lonlat: Mapping[str, tuple[float, float]] | None = None, scenario: str | None = None,
               language: str = "en", volumes: tuple[dict[str, float], pd.DataFrame] | None = None) -> go.Figure:
    """The county itself: villages sized by population, centres and hospitals labelled and sized
    by visits, referral flows drawn as lines whose width is the number of patients (mean per
    replication), and each out-of-county hospital as a marker at the edge of the map, in its
    direction, labelled with its straight-line distance from the county's centre (drawn at its
    true position it would squash the county into a corner).

    ``lonlat`` maps site and village ids to (longitude, latitude) for a real county (imported
    networks keep them); when every in-county facility and village has them, the map is drawn
    in degrees (with the north-south scale of the county's latitude), else in the model's km.
    Closed or merged sites are an X.  ``volumes``: :func:`map_volumes` of the visits, computed
    beforehand (then ``visits`` is not read).
    """
    _lang(language)
    visits, scenario = _one_scenario(visits, scenario)
    if volumes is None and visits is not None:
        volumes = map_volumes(visits)
    names = _site_names(sites, language)
    tiers = _tier_map(sites)
    ids = sites["site"].astype(str).tolist()
    km = {s: (float(x), float(y)) for s, x, y in zip(ids, sites["x_km"], sites["y_km"], strict=False)}
    vids = villages["village"].astype(str).tolist() if villages is not None and len(villages) else []
    vkm = ({v: (float(x), float(y)) for v, x, y in zip(vids, villages["x_km"], villages["y_km"], strict=False)}
           if vids and villages is not None else {})
    inside = [s for s in ids if tiers[s] in (1, 2)]
    real = bool(lonlat) and all(s in lonlat for s in inside) and all(v in lonlat for v in vids) if lonlat else False

    def clinic_village(s: str) -> str:
        return s.split(":", 1)[1] if s.startswith("clinic:") else s

    if real:
        assert lonlat is not None
        pos = {s: tuple(map(float, lonlat[clinic_village(s)])) for s in ids if clinic_village(s) in lonlat}
        vpos = {v: tuple(map(float, lonlat[v])) for v in vids}
    else:
        pos, vpos = dict(km), dict(vkm)
    pts = [pos[s] for s in inside if s in pos] + list(vpos.values())
    if not pts:
        return _empty(_figure(go.Figure(), label("county_map_title", language)), language)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    pad = 0.08 * span
    box = (min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad)
    cx, cy = (box[0] + box[1]) / 2, (box[2] + box[3]) / 2
    ckm = (float(np.mean([km[s][0] for s in inside])), float(np.mean([km[s][1] for s in inside]))) if inside else (0.0, 0.0)
    # out-of-county hospitals: at the edge of the map, towards where they are
    off: dict[str, float] = {}
    for s in ids:
        if tiers[s] == 3:
            tx, ty = km[s]
            off[s] = math.hypot(tx - ckm[0], ty - ckm[1])
            if real and s in pos:
                tx, ty = pos[s]
            elif real:  # no lon/lat: its direction in km from the county centre
                tx, ty = cx + (km[s][0] - ckm[0]), cy + (km[s][1] - ckm[1])
            pos[s] = _edge_point(cx, cy, tx, ty, box)
    volume: dict[str, float] = volumes[0] if volumes is not None else {}
    vmax = max((v for k, v in volume.items() if tiers.get(k, 0) > 0), default=0.0) or 1.0
    fig = go.Figure()

    flows = volumes[1] if volumes is not None else pd.DataFrame(columns=["flow"])
    flows = flows[flows["source"].isin(pos) & flows["target"].isin(pos)] if len(flows) else flows
    fmax = float(flows["flow"].max()) if len(flows) else 1.0
    mx, my, ang, hover = [], [], [], []
    shown: set[str] = set()
    for r in flows.sort_values("flow").itertuples(index=False):
        (x0, y0), (x1, y1) = pos[r.source], pos[r.target]
        kind = "to_out" if tiers.get(str(r.target)) == 3 else "referral_flow"
        village = tiers.get(str(r.source)) == 0  # from a village clinic: thin, no arrow (there are many)
        fig.add_trace(go.Scatter(
            x=[x0, x1], y=[y0, y1], mode="lines",
            line=dict(width=(0.5 + 3 * r.flow / fmax) if village else (1 + 11 * r.flow / fmax),
                      color="#D55E00" if kind == "to_out" else "#555555"),
            opacity=0.3 if village else 0.55, name=label(kind, language), legendgroup=kind,
            showlegend=kind not in shown, hoverinfo="skip"))
        shown.add(kind)
        if village:
            continue
        mx.append((x0 + x1) / 2)
        my.append((y0 + y1) / 2)
        ang.append(math.degrees(math.atan2(x1 - x0, y1 - y0)))
        hover.append(f"{names.get(r.source, r.source)} → {names.get(r.target, r.target)}<br>"
                     f"{r.flow:,.4g} {label('referrals', language)} ({label('per_rep', language)})")
    if mx:
        fig.add_trace(go.Scatter(x=mx, y=my, mode="markers", marker=dict(symbol="triangle-up", angle=ang, size=10,
                                                                         color="#333333"),
                                 legendgroup="referral_flow", showlegend=False, text=hover,
                                 hovertemplate="%{text}<extra></extra>"))
    if vids and villages is not None:
        pop = villages["population"].astype(float).to_numpy()
        pmax = float(pop.max()) or 1.0
        fig.add_trace(go.Scatter(
            x=[vpos[v][0] for v in vids], y=[vpos[v][1] for v in vids], mode="markers", name=label("villages", language),
            marker=dict(size=4 + 22 * np.sqrt(pop / pmax), color="rgba(0,158,115,0.25)",
                        line=dict(width=1, color="#009E73")),
            text=[f"{v}<br>{label('population', language)}: {p:,.0f}" for v, p in zip(vids, pop, strict=False)],
            hovertemplate="%{text}<extra></extra>"))
    status = {}
    if "status" in sites.columns:
        status = {s: str(st).strip().lower() for s, st in zip(ids, sites["status"], strict=False)
                  if isinstance(st, str) and st.strip().lower() not in ("", "open")}
    for t in (1, 2):
        tid = [s for s in ids if tiers[s] == t and s not in status and s in pos]
        if not tid:
            continue
        vol = np.array([volume.get(s, 0.0) for s in tid])
        fig.add_trace(go.Scatter(
            x=[pos[s][0] for s in tid], y=[pos[s][1] for s in tid], mode="markers+text", name=tier_label(t, language),
            text=[names[s] for s in tid], textposition="top center",
            textfont=dict(size=11 if t == 2 else 9, color="#222222"),
            marker=dict(size=(10 if t == 2 else 7) + 30 * np.sqrt(vol / vmax), color=TIER_COLORS[t],
                        symbol="square" if t == 2 else "circle", line=dict(width=1, color="white")),
            customdata=[f"{names[s]} ({s})<br>{tier_label(t, language)}<br>{volume.get(s, 0.0):,.4g} "
                        f"{label('visits', language)} ({label('per_rep', language)})" for s in tid],
            hovertemplate="%{customdata}<extra></extra>"))
    if off:
        oid = list(off)
        fig.add_trace(go.Scatter(
            x=[pos[s][0] for s in oid], y=[pos[s][1] for s in oid], mode="markers+text", name=tier_label(3, language),
            text=[f"{names[s]}<br>{label('km_away', language).format(km=off[s])}" for s in oid],
            textposition=["top left" if pos[s][0] >= cx else "top right" for s in oid],
            textfont=dict(size=10, color=TIER_COLORS[3]),
            marker=dict(symbol="star", size=18, color=TIER_COLORS[3], line=dict(width=1, color="white")),
            customdata=[f"{names[s]} ({s})<br>{label('km_away', language).format(km=off[s])}" for s in oid],
            hovertemplate="%{customdata}<extra></extra>"))
    closed = [s for s in ids if s in status and s in pos]
    if closed:
        fig.add_trace(go.Scatter(
            x=[pos[s][0] for s in closed], y=[pos[s][1] for s in closed], mode="markers+text",
            name=label("closed", language), text=[names[s] for s in closed], textposition="bottom center",
            textfont=dict(size=9, color="#555555"),
            marker=dict(symbol="x", size=14, color=[TIER_COLORS.get(tiers[s], "#777777") for s in closed],
                        line=dict(width=1.5, color="#222222")),
            customdata=[f"{names[s]} ({s}): {label('status_merged' if status[s] == 'merged' else 'status_closed', language)}"
                        for s in closed], hovertemplate="%{customdata}<extra></extra>"))
    title = label("county_map_title", language) + (f" — {scenario}" if scenario else "")
    _figure(fig, title, height=680, legend=dict(itemsizing="constant", orientation="h", y=-0.08))
    ratio = 1.0 / max(math.cos(math.radians(cy)), 0.1) if real else 1.0
    fig.update_xaxes(title_text=label("lon" if real else "x_km", language), zeroline=False,
                     range=[box[0] - 0.02 * span, box[1] + 0.02 * span])
    fig.update_yaxes(title_text=label("lat" if real else "y_km", language), zeroline=False, scaleanchor="x",
                     scaleratio=ratio, range=[box[2] - 0.02 * span, box[3] + 0.02 * span])
    return fig


# --------------------------------------------------------------------------------------------
# 2. Sankey


def _episode_paths(patients: pd.DataFrame, visits: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """Per episode: first-contact tier, highest tier reached by referral (-1: none), exit."""
    tiers = _tier_map(sites)
    keys = [c for c in ("scenario", "replication") if c in patients.columns and c in visits.columns] + ["patient"]
    v = visits[[*keys, "facility", "arrive", "mode"]].copy()
    v["tier"] = _mapped(v["facility"], tiers)
    v = v.sort_values([*keys, "arrive"], kind="mergesort")
    first = v.groupby(keys, sort=False, observed=True).head(1).set_index(keys)["tier"]
    later = v[v.duplicated(keys, keep="first").to_numpy() & _isin(v["mode"], ["referral", "ambulance"])]
    ref = later.groupby(keys, sort=False, observed=True)["tier"].max()
    p = patients[[*keys, "exit"] + (["first_facility"] if "first_facility" in patients.columns else [])].copy()
    p = p.set_index(keys)
    ft = pd.Series(np.nan, index=p.index)
    if "first_facility" in p.columns:
        ft = _mapped(p["first_facility"], tiers).astype(float)
    ft = ft.fillna(first.reindex(p.index).astype(float))
    out = pd.DataFrame({"first": ft, "referred": ref.reindex(p.index).astype(float).fillna(-1),
                        "exit": p["exit"].astype(str)})
    return out[out["first"].notna()].astype({"first": int, "referred": int})


def sankey_counts(patients: pd.DataFrame, visits: pd.DataFrame, sites: pd.DataFrame) -> dict:
    """What :func:`flow_sankey` draws (one scenario): episodes per (first tier, highest tier
    referred to) and per (highest tier referred to, exit), the episodes and the replications."""
    paths = _episode_paths(patients, visits, sites)
    return {"first_referred": paths.groupby(["first", "referred"]).size(),
            "referred_exit": paths.groupby(["referred", "exit"]).size(),
            "episodes": len(paths), "replications": _n_reps(patients)}


def flow_sankey(patients: pd.DataFrame | None, visits: pd.DataFrame | None, sites: pd.DataFrame,
                scenario: str | None = None, language: str = "en", counts: dict | None = None) -> go.Figure:
    """First-contact tier -> highest tier referred to -> outcome, counting episodes (all replications).

    ``counts``: :func:`sankey_counts` of the scenario, computed beforehand (then ``patients``
    and ``visits`` are not read)."""
    _lang(language)
    if counts is None:
        patients, scenario = _one_scenario(patients, scenario)
        visits, _ = _one_scenario(visits, scenario)
    fig = go.Figure()
    title = label("sankey_title", language) + (f" — {scenario}" if scenario else "")
    if counts is None and (patients is None or not len(patients)):
        return _empty(_figure(fig, title), language)
    if counts is None:
        assert patients is not None and visits is not None
        counts = sankey_counts(patients, visits, sites)
    fr, rx = counts["first_referred"], counts["referred_exit"]
    if not counts["episodes"]:
        return _empty(_figure(fig, title), language)
    nrep = counts["replications"]
    firsts = sorted(fr.index.get_level_values(0).unique())
    mids = sorted(fr.index.get_level_values(1).unique())
    exits = [e for e in ("completed", "transferred_out", "left_untreated", "in_system")
             if e in set(rx.index.get_level_values(1))]
    labels: list[str] = []
    colors: list[str] = []
    xs: list[float] = []
    idx: dict[tuple, int] = {}
    for t in firsts:
        idx[("f", t)] = len(labels)
        labels.append(tier_label(t, language))
        colors.append(TIER_COLORS.get(t, "#777777"))
        xs.append(0.01)
    for t in mids:
        idx[("m", t)] = len(labels)
        labels.append(label("not_referred", language) if t < 0 else tier_label(t, language))
        colors.append("#BBBBBB" if t < 0 else TIER_COLORS.get(t, "#777777"))
        xs.append(0.5)
    for e in exits:
        idx[("o", e)] = len(labels)
        labels.append(label(e, language))
        colors.append(OUTCOME_COLORS[e])
        xs.append(0.99)
    src, tgt, val, lcol = [], [], [], []
    for (f, m), n in fr.items():
        src.append(idx[("f", f)])
        tgt.append(idx[("m", m)])
        val.append(int(n))
        lcol.append(_rgba(TIER_COLORS.get(f, "#777777"), 0.35))
    for (m, e), n in rx.items():
        src.append(idx[("m", m)])
        tgt.append(idx[("o", e)])
        val.append(int(n))
        lcol.append(_rgba(OUTCOME_COLORS.get(e, "#777777"), 0.45))
    ep = label("episodes", language)
    fig.add_trace(go.Sankey(
        arrangement="snap", valueformat="d",
        node=dict(label=labels, color=colors, pad=18, thickness=18, line=dict(width=0.5, color="#444444"),
                  hovertemplate=f"%{{label}}: %{{value:,d}} {ep}<extra></extra>"),
        link=dict(source=src, target=tgt, value=val, color=lcol,
                  hovertemplate=f"%{{source.label}} → %{{target.label}}: %{{value:,d}} {ep}<extra></extra>")))
    reps = f"{nrep} {label('replications', language)}" if language == "zh" else f"{nrep} {label('replications' if nrep > 1 else 'replication', language)}"
    sub = f"{counts['episodes']:,d} {ep}, {reps}" if language == "en" else f"{counts['episodes']:,d}{ep},{reps}"
    _figure(fig, f"{title}<br><sup>{sub}</sup>", height=520, margin=dict(t=110, l=20, r=20, b=30))
    for x, key, anchor in ((0.0, "first_contact", "left"), (0.5, "referred_to", "center"), (1.0, "outcome", "right")):
        fig.add_annotation(x=x, y=1.06, xref="paper", yref="paper", text=f"<b>{label(key, language)}</b>",
                           showarrow=False, xanchor=anchor)
    return fig


def scenario_selector(figures: Sequence[tuple[str, go.Figure]], language: str = "en") -> go.Figure:
    """One figure from several of the same kind (one per scenario), with a drop-down that shows
    one scenario at a time (its traces and its title); the first is shown first.

    ``figures``: ``(scenario name, figure)`` pairs, e.g. :func:`flow_sankey` per scenario.
    """
    _lang(language)
    if not figures:
        return _empty(_figure(go.Figure(), ""), language)
    first = figures[0][1]
    fig = go.Figure(layout=first.layout)
    owner: list[int] = []
    titles = []
    for i, (_, f) in enumerate(figures):
        for tr in f.data:
            tr = go.Figure(data=[tr]).data[0]
            tr.visible = i == 0
            fig.add_trace(tr)
            owner.append(i)
        titles.append(f.layout.title.text or "")
    buttons = [dict(label=name, method="update",
                    args=[{"visible": [o == i for o in owner]}, {"title.text": titles[i]}])
               for i, (name, _) in enumerate(figures)]
    top = (fig.layout.margin.t or 80) if fig.layout.margin is not None else 80
    fig.update_layout(
        updatemenus=[dict(type="dropdown", buttons=buttons, active=0, x=1.0, xanchor="right", y=1.0, yanchor="bottom",
                          pad=dict(t=0, b=int(top * 0.55)), showactive=True)])
    return fig


# --------------------------------------------------------------------------------------------
# 3. scenario comparison


def _direction_text(metric: str, language: str) -> str:
    b = registry.better(metric)
    if b > 0:
        return "↑ " + label("higher_better", language)
    if b < 0:
        return "↓ " + label("lower_better", language)
    return ""


def _bounded_ci(sm: pd.DataFrame, metric: str, min_replications: int) -> pd.DataFrame:
    """Levels' intervals cut at the quantity's bounds, and none from fewer than ``min_replications``."""
    sm = sm.copy()
    lo_b, hi_b = registry.bounds(metric)
    sm["ci_low"] = sm["ci_low"].clip(lower=lo_b)
    sm["ci_high"] = sm["ci_high"].clip(upper=hi_b)
    if "n" in sm.columns:
        sm.loc[sm["n"].fillna(0) < min_replications, ["ci_low", "ci_high"]] = np.nan
    return sm


def scenario_comparison(summary: pd.DataFrame, differences: pd.DataFrame | None = None,
                        metrics: Sequence[str] | None = None, group: str = "county", baseline: str | None = None,
                        language: str = "en", min_replications: int = 3) -> go.Figure:
    """Each KPI's mean and 95% CI per scenario (left) and, where ``differences`` is given, the
    paired difference from the baseline with its CI (right, a forest plot).

    One row per KPI, one trace per KPI and panel.  The better direction (from the KPI registry) is
    in each row's title and marked on the difference axis; a difference whose CI excludes
    zero is a filled marker (blue when better, vermillion when worse), else an open grey one.
    """
    _lang(language)
    s = summary[summary["group"].astype(str) == group]
    d = None
    if differences is not None and len(differences):
        d = differences[differences["group"].astype(str) == group]
        if baseline is None and "baseline" in d.columns and len(d):
            baseline = str(d["baseline"].iloc[0])
    if metrics is None:
        present = set(s["metric"])
        metrics = [m for m in HEADLINE_KPIS if m in present] or list(dict.fromkeys(s["metric"]))
    metrics = [m for m in metrics if m in set(s["metric"])]
    scen = _scenario_order(s, baseline=baseline)
    colors = {sc: PALETTE[i % len(PALETTE)] for i, sc in enumerate(scen)}
    ncol = 2 if d is not None and len(d) else 1
    if not metrics:
        return _empty(_figure(go.Figure(), label("comparison_title", language)), language)
    titles = []
    for m in metrics:
        titles.append(f"<b>{kpi_label(m, language)}</b>  <span style='color:#666'>{_direction_text(m, language)}</span>")
        if ncol == 2:
            u = label("pp", language) if registry.is_share(m) else registry.unit_label(m, language)
            unit = f" ({u})" if u else ""
            titles.append(f"{label('difference', language)} {baseline}{unit}")
    fig = make_subplots(rows=len(metrics), cols=ncol, subplot_titles=titles, horizontal_spacing=0.2,
                        vertical_spacing=min(0.12, 0.5 / max(len(metrics), 1)))
    for i, m in enumerate(metrics, start=1):
        k = scale(m)
        sm = s[s["metric"] == m].set_index(s[s["metric"] == m]["scenario"].astype(str)).reindex(scen).dropna(subset=["mean"])
        sm = _bounded_ci(sm, m, min_replications)
        mean, lo, hi = sm["mean"] * k, sm["ci_low"] * k, sm["ci_high"] * k
        hover = [f"{sc}<br>{label('mean', language)}: {format_value(m, r['mean'], language=language)}<br>"
                 f"{label('ci', language)}: {format_value(m, r['ci_low'], language=language)} – "
                 f"{format_value(m, r['ci_high'], language=language)}<br>n = {int(r['n']) if pd.notna(r.get('n')) else '–'}"
                 f"<br>({r['mean']:.6g} [{r['ci_low']:.6g}, {r['ci_high']:.6g}])"
                 for sc, r in sm.iterrows()]
        fig.add_trace(go.Scatter(
            x=mean, y=list(sm.index), mode="markers", name=kpi_label(m, language),
            marker=dict(size=11, color=[colors[sc] for sc in sm.index]), showlegend=False,
            error_x=dict(type="data", symmetric=False, array=(hi - mean).fillna(0), arrayminus=(mean - lo).fillna(0),
                         thickness=1.6, width=5, color="#444444"),
            text=hover, hovertemplate="%{text}<extra></extra>"), row=i, col=1)
        fig.update_yaxes(autorange="reversed", row=i, col=1)
        if ncol == 2 and d is not None:  # ncol is 2 only with differences
            dm = d[d["metric"] == m]
            dm = dm.set_index(dm["scenario"].astype(str)).reindex([sc for sc in scen if sc != baseline]).dropna(subset=["mean_diff"])
            if "n" in dm.columns:  # no interval, and no significance, from fewer replications
                dm.loc[dm["n"].fillna(0) < min_replications, ["ci_low", "ci_high"]] = np.nan
            b = registry.better(m)
            sig = (dm["ci_low"] > 0) | (dm["ci_high"] < 0)
            sign = np.sign(dm["mean_diff"]) * b
            col = [(BETTER_COLOR if sg > 0 else WORSE_COLOR if sg < 0 else NEUTRAL_COLOR) if si else NEUTRAL_COLOR
                   for si, sg in zip(sig, sign, strict=False)]
            md, dl, dh = dm["mean_diff"] * k, dm["ci_low"] * k, dm["ci_high"] * k
            hover = [f"{sc} − {baseline}<br>{label('diff', language)}: "
                     f"{format_value(m, r['mean_diff'], diff=True, language=language, sign=True)}<br>"
                     f"{label('ci', language)}: {format_value(m, r['ci_low'], diff=True, language=language, sign=True)} – "
                     f"{format_value(m, r['ci_high'], diff=True, language=language, sign=True)}<br>"
                     f"{label('significant' if si else 'not_significant', language)}"
                     f"<br>({r['mean_diff']:.6g} [{r['ci_low']:.6g}, {r['ci_high']:.6g}])"
                     for (sc, r), si in zip(dm.iterrows(), sig, strict=False)]
            fig.add_trace(go.Scatter(
                x=md, y=list(dm.index), mode="markers", name=kpi_label(m, language), showlegend=False,
                marker=dict(size=11, color=col, symbol=["circle" if si else "circle-open" for si in sig],
                            line=dict(width=2, color=col)),
                error_x=dict(type="data", symmetric=False, array=(dh - md).fillna(0), arrayminus=(md - dl).fillna(0),
                             thickness=1.6, width=5, color="#444444"),
                text=hover, hovertemplate="%{text}<extra></extra>"), row=i, col=2)
            fig.add_vline(x=0, line=dict(color="#888888", dash="dash", width=1), row=i, col=2)
            fig.update_yaxes(autorange="reversed", row=i, col=2)
            span = max([abs(x) for x in [*dl.tolist(), *dh.tolist()] if pd.notna(x)], default=1.0) or 1.0
            fig.update_xaxes(range=[-1.15 * span, 1.15 * span], row=i, col=2)
            if b:
                sp = fig.get_subplot(i, 2)
                xr = sp.xaxis.plotly_name.replace("axis", "")
                yr = sp.yaxis.plotly_name.replace("axis", "")
                fig.add_annotation(text=label("better_right" if b > 0 else "better_left", language),
                                   xref=f"{xr} domain", yref=f"{yr} domain", x=1.0 if b > 0 else 0.0, y=1.0,
                                   xanchor="right" if b > 0 else "left", yanchor="bottom", showarrow=False,
                                   font=dict(size=11, color=BETTER_COLOR))
    height = 90 + len(metrics) * (60 + 26 * max(len(scen), 1))
    _figure(fig, label("comparison_title", language), height=height, margin=dict(l=150, r=30, t=90, b=40))
    fig.update_annotations(font_size=12, selector=dict(showarrow=False, xref="paper"))
    return fig


def cost_effect(differences: pd.DataFrame, metric: str = "inpatient_retention",
                cost: str = "running_cost_per_year", group: str = "county", min_replications: int = 3,
                language: str = "en") -> go.Figure:
    """Each alternative's paired difference in ``metric`` (y, display unit) against its yearly
    running-cost difference (x: CNY million in English, 万元 in Chinese), with 95% CIs as error
    bars from ``min_replications`` on; a filled marker's effect CI excludes zero.  The
    quadrant right of zero and on the better side of the effect is "more effect for more
    money"; left and better is better and cheaper."""
    _lang(language)
    title = label("ce_title", language)
    fig = go.Figure()
    d = differences[differences["group"].astype(str) == group] if differences is not None and len(differences) else None
    if d is None or not len(d):
        return _empty(_figure(fig, title), language)
    x_div = 1e4 if language == "zh" else 1e6
    x_title = label("ce_cost" if cost == "running_cost_per_year" else "ce_total_cost", language)
    sc = registry.scale(metric)
    eff = d[d["metric"] == metric].set_index(d.loc[d["metric"] == metric, "scenario"].astype(str))
    cst = d[d["metric"] == cost].set_index(d.loc[d["metric"] == cost, "scenario"].astype(str))
    better = registry.better(metric)
    for i, scen in enumerate([x for x in eff.index if x in cst.index]):
        e, c = eff.loc[scen], cst.loc[scen]
        ok = pd.notna(e.get("n")) and float(e["n"]) >= min_replications
        sig = ok and pd.notna(e["ci_low"]) and (e["ci_low"] > 0 or e["ci_high"] < 0)
        color = NEUTRAL_COLOR if not sig or not better else \
            (BETTER_COLOR if np.sign(e["mean_diff"]) * better > 0 else WORSE_COLOR)
        ey = dict(type="data", symmetric=False, array=[(e["ci_high"] - e["mean_diff"]) * sc],
                  arrayminus=[(e["mean_diff"] - e["ci_low"]) * sc], visible=bool(ok), color=color, thickness=1.5)
        okc = pd.notna(c.get("n")) and float(c["n"]) >= min_replications
        ex = dict(type="data", symmetric=False, array=[(c["ci_high"] - c["mean_diff"]) / x_div],
                  arrayminus=[(c["mean_diff"] - c["ci_low"]) / x_div], visible=bool(okc), color=color, thickness=1.5)
        fig.add_trace(go.Scatter(
            x=[c["mean_diff"] / x_div], y=[e["mean_diff"] * sc], mode="markers+text", text=[scen],
            textposition="top center", name=scen, error_x=ex, error_y=ey,
            marker=dict(size=13, color=color if sig else "white", line=dict(color=color, width=2),
                        symbol=["circle", "square", "diamond", "triangle-up", "cross", "x"][i % 6]),
            hovertemplate=f"{scen}<br>%{{x:.4g}}<br>%{{y:.3g}}<extra></extra>"))
    fig.add_hline(y=0, line=dict(color="#888888", width=1))
    fig.add_vline(x=0, line=dict(color="#888888", width=1))
    unit = label("pp", language) if registry.is_share(metric) else registry.unit_label(metric, language)
    name = registry.label(metric, language, unit=False)
    ytitle = label("ce_effect", language).format(name=name if language == "zh" else name[:1].lower() + name[1:])
    ytitle += f"({unit})" if language == "zh" else f" ({unit})"
    xs = [float(v) for tr in fig.data for v in tr.x] + [0.0]
    span = (max(xs) - min(xs)) or 1.0
    _figure(fig, f"{title}<br><sup>{label('ce_note', language)}</sup>", height=480, showlegend=False,
            margin=dict(l=90, t=100, r=30), xaxis_title=x_title,
            xaxis_range=[min(xs) - 0.3 * span, max(xs) + 0.3 * span])
    fig.update_yaxes(title_text=ytitle if len(ytitle) <= 40 else ytitle.replace(" in ", " in<br>", 1)
                     if language == "en" else ytitle, automargin=True)
    return fig


# --------------------------------------------------------------------------------------------
# 4. dose-response


def dose_response(summary: pd.DataFrame, intensity: Mapping[str, float], metric: str, group: str = "county",
                  lever: str | None = None, language: str = "en", min_replications: int = 3) -> go.Figure:
    """``metric`` (mean and 95% CI band) against the lever's intensity of each scenario.

    ``intensity`` maps scenario -> intensity (e.g. expert visits per month); scenarios not in
    it are left out.  ``lever`` is the x-axis title (default "Lever intensity").  The band is
    drawn only through the points with at least ``min_replications`` replications (the
    summary's ``n``; an interval from fewer is not shown anywhere in the brief) and cut at the
    bounds of the quantity.
    """
    _lang(language)
    s = summary[(summary["metric"] == metric) & (summary["group"].astype(str) == group)].copy()
    s["scenario"] = s["scenario"].astype(str)
    s = s[s["scenario"].isin(list(intensity))]
    s["x"] = s["scenario"].map(lambda sc: float(intensity[sc]))
    s = s.sort_values("x", kind="mergesort")
    k = scale(metric)
    title = f"{label('dose_title', language)}: {kpi_label(metric, language, unit=False)}"
    fig = go.Figure()
    if not len(s):
        return _empty(_figure(fig, title), language)
    x = s["x"].tolist()
    enough = (s["n"].fillna(0).to_numpy() >= min_replications) if "n" in s.columns else np.ones(len(s), dtype=bool)
    lo_b, hi_b = registry.bounds(metric)
    s["ci_low"] = s["ci_low"].clip(lower=lo_b)
    s["ci_high"] = s["ci_high"].clip(upper=hi_b)
    s.loc[~enough, ["ci_low", "ci_high"]] = np.nan
    band = s[enough & s["ci_low"].notna().to_numpy()]
    if len(band):
        bx = band["x"].tolist()
        lo, hi = (band["ci_low"] * k).tolist(), (band["ci_high"] * k).tolist()
        fig.add_trace(go.Scatter(x=bx + bx[::-1], y=hi + lo[::-1], fill="toself", fillcolor=_rgba("#0072B2", 0.18),
                                 line=dict(color="rgba(0,0,0,0)"), hoverinfo="skip", name=label("ci_band", language)))
    xl = lever or label("intensity", language)
    hover = [f"{sc}<br>{xl}: {xv:.6g}<br>{label('mean', language)}: {format_value(metric, m, language=language)}<br>"
             f"{label('ci', language)}: {format_value(metric, a, language=language)} – {format_value(metric, b, language=language)}"
             f"<br>({m:.6g} [{a:.6g}, {b:.6g}])"
             for sc, xv, m, a, b in zip(s["scenario"], x, s["mean"], s["ci_low"], s["ci_high"], strict=False)]
    fig.add_trace(go.Scatter(x=x, y=(s["mean"] * k).tolist(), mode="lines+markers", name=label("mean", language),
                             line=dict(color="#0072B2", width=2.5), marker=dict(size=9), text=hover,
                             hovertemplate="%{text}<extra></extra>"))
    _figure(fig, title + (f"  ({_direction_text(metric, language)})" if registry.better(metric) else ""), height=440)
    fig.update_xaxes(title_text=xl)
    fig.update_yaxes(title_text=kpi_label(metric, language))
    return fig


# --------------------------------------------------------------------------------------------
# 5. waiting times and occupancy


def _waits(visits: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    tiers = _tier_map(sites)
    w = (visits["start"] - visits["arrive"]).to_numpy(dtype=float)
    out = pd.DataFrame({"scenario": _str(visits["scenario"]) if "scenario" in visits.columns else "",
                        "tier": _mapped(visits["facility"], tiers), "wait": w})
    return out[np.isfinite(out["wait"]) & out["tier"].notna()]


#: the cumulative shares at which :func:`waiting_times` draws its distribution lines.
_ECDF_Q = np.linspace(0.0, 1.0, 201)


def wait_stats(visits: pd.DataFrame | None, sites: pd.DataFrame, tiers: Sequence[int] = (0, 1, 2)) -> dict:
    """What :func:`waiting_times` draws for one scenario's visits, by tier (in tier order):
    ``ecdf`` (the waits at :data:`_ECDF_Q`), ``box`` (5th, 25th, 50th, 75th and 95th
    percentiles), ``mean`` and ``n``."""
    if visits is None or not len(visits):
        return {}
    w = _waits(visits, sites)
    w = w[w["tier"].isin(list(tiers))]
    out = {}
    for t in sorted(w["tier"].unique()):
        x = w.loc[w["tier"] == t, "wait"].to_numpy()
        out[t] = {"ecdf": np.quantile(x, _ECDF_Q), "box": np.percentile(x, [5, 25, 50, 75, 95]),
                  "mean": x.mean(), "n": len(x)}
    return out


def waiting_times(visits: pd.DataFrame | None, sites: pd.DataFrame, scenario: str | None = None, kind: str = "ecdf",
                  tiers: Sequence[int] = (0, 1, 2), language: str = "en",
                  stats: Mapping[str, Mapping] | None = None) -> go.Figure:
    """Waiting time (consult start - arrival) by tier, for visits that were seen.

    ``kind="ecdf"``: one cumulative-distribution line per tier for one scenario (the given one,
    else the first).  ``kind="box"``: box plots per tier, one trace per scenario (quartiles,
    whiskers at the 5th and 95th percentile, mean dashed; computed here, so the figure stays
    small).  ``stats``: ``{scenario: wait_stats(its visits)}`` computed beforehand, in the
    scenarios' order (then ``visits`` is not read; ``ecdf`` draws ``scenario``, else the first).
    """
    _lang(language)
    if kind not in ("ecdf", "box"):
        raise ValueError(f"kind must be 'ecdf' or 'box', got {kind!r}")
    fig = go.Figure()
    title = label("wait_title", language)
    if stats is None:
        if kind == "ecdf":
            visits, scenario = _one_scenario(visits, scenario)
        stats = {}
        if visits is not None and len(visits):
            order = _scenario_order(visits) if "scenario" in visits.columns else [""]
            for sc in ([scenario] if kind == "ecdf" else order):
                one = visits if kind == "ecdf" or "scenario" not in visits.columns else \
                    visits[visits["scenario"].astype(str).to_numpy() == sc]
                stats[sc or ""] = wait_stats(one, sites, tiers)
    stats = {sc: st for sc, st in stats.items() if st}
    if kind == "ecdf":
        if scenario is None or scenario not in stats:
            scenario = next(iter(stats), scenario)
        title += f" — {scenario}" if scenario else ""
    if not stats:
        return _empty(_figure(fig, title), language)
    nv = label("n_visits", language)
    if kind == "ecdf":
        q = _ECDF_Q
        for t, one in stats[scenario or ""].items():
            x, n = one["ecdf"], int(one["n"])
            fig.add_trace(go.Scatter(
                x=x, y=q * 100, mode="lines", line=dict(color=TIER_COLORS[int(t)], width=2.5, shape="hv"),
                name=tier_label(t, language),
                customdata=np.full(len(q), n),
                hovertemplate=(f"{tier_label(t, language)}<br>%{{y:.1f}}% ≤ %{{x:.4g}} {_MIN[language]}"
                               f"<br>n = %{{customdata:,d}} {nv}<extra></extra>")))
        _figure(fig, title, height=440)
        fig.update_xaxes(title_text=label("wait_min", language), rangemode="tozero")
        fig.update_yaxes(title_text=label("cum_share", language), range=[0, 101])
        return fig
    for i, (sc, by_tier) in enumerate(stats.items()):
        ts = list(by_tier)
        st: dict[str, list[float]] = {k: [] for k in ("q1", "median", "q3", "lo", "hi", "mean", "n")}
        for t in ts:
            p5, q1, med, q3, p95 = by_tier[t]["box"]
            for key, val in zip(st, (q1, med, q3, p5, p95, by_tier[t]["mean"], by_tier[t]["n"]), strict=False):
                st[key].append(float(val))
        fig.add_trace(go.Box(
            x=[tier_label(t, language) for t in ts], q1=st["q1"], median=st["median"], q3=st["q3"],
            lowerfence=st["lo"], upperfence=st["hi"], mean=st["mean"], name=sc or label("scenario", language),
            marker_color=PALETTE[i % len(PALETTE)], boxpoints=False, hoverinfo="y+name"))
    _figure(fig, f"{title}<br><sup>{label('box_note', language)}</sup>", height=460, boxmode="group",
            margin=dict(t=90))
    fig.update_xaxes(title_text=label("tier", language))
    fig.update_yaxes(title_text=label("wait_min", language), rangemode="tozero")
    return fig


#: mean occupancy from which a site is flagged as saturated: the 85% bed occupancy beyond which
#: hospitals are commonly found to run short of beds for emergencies (Bagust et al., BMJ 1999)
#: [ASSUMED as the flag for doctors too].
SATURATION = 0.85


def _daily_use(occupancy: pd.DataFrame, resources: Sequence[str]) -> pd.DataFrame:
    """Daily in-use and capacity per facility and resource kind, mean over replications."""
    occ = occupancy.assign(kind=occupancy["resource"].astype(str).str.split(":").str[0],
                           facility=occupancy["facility"].astype(str))
    occ = occ[occ["kind"].isin(list(resources))]
    keys = [c for c in ("replication",) if c in occ.columns]
    g = occ.groupby([*keys, "facility", "kind", "day"], observed=True)[["in_use", "capacity"]].sum().reset_index()
    return g.groupby(["facility", "kind", "day"], observed=True)[["in_use", "capacity"]].mean().reset_index()


def saturated_sites(occupancy: pd.DataFrame, kind: str = "beds", threshold: float = SATURATION) -> dict[str, float]:
    """Facilities whose mean occupancy of ``kind`` over the run (in use / capacity, summed over
    days) reaches ``threshold``: ``{facility: share}``, the fullest first."""
    if occupancy is None or not len(occupancy):
        return {}
    g = _daily_use(occupancy, (kind,)).groupby("facility")[["in_use", "capacity"]].sum()
    g = g[g["capacity"] > 0]
    share = (g["in_use"] / g["capacity"]).sort_values(ascending=False)
    return {str(f): float(v) for f, v in share.items() if v >= threshold}


def occupancy_timeline(occupancy: pd.DataFrame, sites: pd.DataFrame | None = None,
                       facilities: Sequence[str] | None = None, scenario: str | None = None,
                       resources: Sequence[str] = ("beds", "doctors"), max_facilities: int = 6,
                       language: str = "en", percent: bool = False) -> go.Figure:
    """Daily beds and doctors in use (mean over replications) with capacity as dashed lines.

    One panel per resource kind (``beds``; ``doctors`` sums every doctor kind), one colour per
    facility.  Default facilities: the county lead hospital(s) and the busiest township
    centres, ``max_facilities`` in all.  With ``percent`` the panels show use as % of each
    site's capacity (so a 20-bed centre and a 2,000-bed hospital share the axis), with 100%
    and the :data:`SATURATION` line; a site whose mean occupancy reaches it is marked ⚠ in the
    legend.
    """
    _lang(language)
    occ, scenario = _one_scenario(occupancy, scenario)
    title = label("occ_title", language) + (f" — {scenario}" if scenario else "")
    fig = make_subplots(rows=len(resources), cols=1, shared_xaxes=True, vertical_spacing=0.08)
    if occ is None or not len(occ):
        return _empty(_figure(fig, title), language)
    g = _daily_use(occ, resources)
    names = _site_names(sites, language) if sites is not None else {}
    full = {k: saturated_sites(occ, k) for k in resources} if percent else {}
    if facilities is None:
        tiers = _tier_map(sites) if sites is not None else {}
        cand = [f for f in g["facility"].unique()
                if (tiers.get(f) in (1, 2) if tiers else not str(f).startswith("clinic:"))]
        load = g[g["facility"].isin(cand)].groupby("facility")["in_use"].mean()
        order = sorted(cand, key=lambda f: (-(tiers.get(f, 1)), -float(load.get(f, 0.0))))
        facilities = order[:max_facilities]
    facilities = [f for f in facilities if f in set(g["facility"])]
    for j, f in enumerate(facilities):
        color = PALETTE[(j + 1) % len(PALETTE)]
        for i, kind in enumerate(resources, start=1):
            gf = g[(g["facility"] == f) & (g["kind"] == kind)].sort_values("day")
            if not len(gf):
                continue
            nm = names.get(f, f)
            if percent:
                nm_flag = ("⚠ " if any(f in full[k] for k in resources) else "") + nm
                pct = 100 * gf["in_use"] / gf["capacity"].where(gf["capacity"] > 0)
                fig.add_trace(go.Scatter(
                    x=gf["day"], y=pct, mode="lines+markers", marker=dict(size=4), line=dict(color=color, width=2),
                    name=nm_flag, legendgroup=f, showlegend=True,
                    hovertemplate=f"{nm}<br>{label('day', language)}: %{{x}}<br>{label('in_use', language)}: "
                                  f"%{{y:.1f}}%<extra></extra>"), row=i, col=1)
                ytitle = label(kind, language) if kind in ("beds", "doctors") else kind
                fig.update_yaxes(title_text=f"{ytitle} (%)" if language == "en" else f"{ytitle}(%)",
                                 rangemode="tozero", row=i, col=1)
                continue
            fig.add_trace(go.Scatter(
                x=gf["day"], y=gf["in_use"], mode="lines+markers", marker=dict(size=4), line=dict(color=color, width=2),
                name=nm, legendgroup=f, showlegend=True,
                hovertemplate=f"{nm}<br>{label('day', language)}: %{{x}}<br>{label('in_use', language)}: %{{y:.4g}}<extra></extra>"),
                row=i, col=1)
            fig.add_trace(go.Scatter(
                x=gf["day"], y=gf["capacity"], mode="lines", line=dict(color=color, width=1.5, dash="dash"),
                name=f"{nm} {label('capacity', language)}", legendgroup=f, showlegend=False,
                hovertemplate=f"{nm}<br>{label('day', language)}: %{{x}}<br>{label('capacity', language)}: %{{y:.4g}}<extra></extra>"),
                row=i, col=1)
            fig.update_yaxes(title_text=label(kind, language) if kind in ("beds", "doctors") else kind,
                             rangemode="tozero", row=i, col=1)
    # one legend entry per facility
    seen: set[str] = set()
    for tr in fig.data:
        if tr.showlegend and tr.legendgroup in seen:
            tr.showlegend = False
        elif tr.showlegend:
            seen.add(tr.legendgroup)
    fig.update_xaxes(title_text=label("day", language), row=len(resources), col=1)
    if percent:
        for i in range(1, len(resources) + 1):
            fig.add_hline(y=100, line=dict(color="#444444", width=1.2, dash="dash"), row=i, col=1)
            fig.add_hline(y=100 * SATURATION, line=dict(color=WORSE_COLOR, width=1, dash="dot"), row=i, col=1)
        sub = label("occ_pct_sub", language).format(s=f"{100 * SATURATION:.0f}")
        _figure(fig, f"{title}<br><sup>{sub}</sup>", height=260 * len(resources) + 120, margin=dict(t=90))
        return fig
    _figure(fig, f"{title}<br><sup>— {label('in_use', language)}   - - {label('capacity', language)}</sup>",
            height=260 * len(resources) + 120, margin=dict(t=90))
    return fig


# --------------------------------------------------------------------------------------------
# 6. emergency times


def _stemi_times(emergency: pd.DataFrame, patients: pd.DataFrame, conditions: pd.DataFrame) -> pd.DataFrame:
    cond = conditions
    if "condition" in cond.columns:
        cond = cond.set_index("condition")
    stemi = {str(c) for c in cond.index[cond["pathway"].astype(str) == "stemi"]}
    keys = [c for c in ("scenario", "replication") if c in emergency.columns and c in patients.columns] + ["patient"]
    # each emergency's patient row, looked up on the key columns' codes (no merge, no string per row)
    row = pd.MultiIndex.from_frame(patients[keys]).get_indexer(pd.MultiIndex.from_frame(emergency[keys]))
    is_stemi = np.append(_isin(patients["condition"], stemi), False)[np.where(row < 0, len(patients), row)]
    e = emergency[is_stemi & emergency["fmc"].notna().to_numpy()]
    return pd.DataFrame({"scenario": _str(e["scenario"]) if "scenario" in e.columns else "",
                         "minutes": (e["reperfusion"] - e["fmc"]).to_numpy(dtype=float)})


def stemi_times(emergency: pd.DataFrame | None, patients: pd.DataFrame, conditions: pd.DataFrame) -> pd.DataFrame:
    """What :func:`emergency_times` draws: one row per STEMI emergency with a first medical
    contact, ``scenario`` and ``minutes`` to reperfusion (NaN: none)."""
    if emergency is None or not len(emergency):
        return pd.DataFrame({"scenario": pd.Series(dtype=object), "minutes": pd.Series(dtype=float)})
    return _stemi_times(emergency, patients, conditions)


def emergency_times(emergency: pd.DataFrame | None, patients: pd.DataFrame | None, conditions: pd.DataFrame | None,
                    scenario: str | None = None, standards: Sequence[float] = (90, 120), bin_minutes: float = 10,
                    language: str = "en", times: pd.DataFrame | None = None) -> go.Figure:
    """Distribution of STEMI first-medical-contact-to-reperfusion (minutes), one histogram per
    scenario (or only ``scenario``), with the standards drawn as vertical lines.  ``times``:
    :func:`stemi_times`, computed beforehand (then the tables are not read)."""
    _lang(language)
    if scenario is not None and times is None:
        emergency, _ = _one_scenario(emergency, scenario)
        patients, _ = _one_scenario(patients, scenario)
    elif scenario is not None and times is not None:
        times = times[times["scenario"].astype(str) == scenario]
    fig = go.Figure()
    title = label("emerg_title", language)
    t = times if times is not None else (
        _stemi_times(emergency, patients, conditions)
        if emergency is not None and len(emergency) and patients is not None and conditions is not None else None)
    if t is None or not len(t):
        return _empty(_figure(fig, title), language, "no_stemi")
    scen = _scenario_order(t)
    notes = []
    for i, sc in enumerate(scen):
        ts = t[t["scenario"] == sc]["minutes"]
        done = ts[np.isfinite(ts)]
        notes.append((sc, len(done), int((~np.isfinite(ts)).sum())))
        fig.add_trace(go.Histogram(
            x=done, name=sc or label("reperfused", language), xbins=dict(size=bin_minutes),
            marker=dict(color=PALETTE[(i + 1) % len(PALETTE)] if len(scen) > 1 else TIER_COLORS[3],
                        line=dict(width=0.5, color="white")),
            opacity=0.9,
            hovertemplate=f"{sc}<br>%{{x}} {_MIN[language]}: %{{y}} {label('patients', language)}<extra></extra>"))
    for m in standards:
        fig.add_vline(x=m, line=dict(color="#222222", dash="dash", width=1.5),
                      annotation=dict(text=label("standard", language).format(m=f"{m:g}"), textangle=-90,
                                      xanchor="left", yanchor="top", font=dict(size=11)),
                      annotation_position="top right")
    if language == "zh":
        sub = ";".join(f"{sc}:{label('reperfused', language)}{a}例,{label('no_reperfusion', language)}{b}例"
                       for sc, a, b in notes)
    else:
        sub = "; ".join(f"{sc}: {a} {label('reperfused', language)}, {b} {label('no_reperfusion', language)}"
                        for sc, a, b in notes)
    _figure(fig, f"{title}<br><sup>{sub}</sup>", height=440, barmode="group", bargap=0.1, margin=dict(t=90))
    fig.update_xaxes(title_text=label("fmc_min", language), rangemode="tozero")
    fig.update_yaxes(title_text=label("patients", language))
    return fig
