"""The brief's first screen: what each alternative changes, what it costs, how they rank, and
what to keep in mind (generated from ``summary.csv`` and ``differences.csv``; no result is
written by hand).

For each alternative :func:`assess` gives

- its effect on the indicators a county health bureau is judged by (:data:`ANSWER_KPIS`):
  the significant changes with their size, and the rest as "no detectable difference";
- its yearly cost difference (``total_cost_per_year``: the running cost of the sites' doctors
  and beds and of each lever, plus the levers' and restructuring's capital annualised; a folder
  written before capital was priced falls back on ``running_cost_per_year``), the capital it
  needs once and, for a restructure, the capital it saves;
- the cost per unit of effect (per admission kept in the county, per up-referral avoided, per
  minute of travel saved: :mod:`sim.report.cost_effect`) where both the effect and the cost
  difference are significant and point the right way;
- its main side effect: the indicator it worsens most (a headline indicator first).

:func:`rank` orders the alternatives by headline indicators improved minus worsened, then by
lower yearly cost; :func:`caveats` lists the replications, horizon, calibration status and
assumptions that bound the result.  :func:`render` writes the HTML; every number on it is a
``<span class='n'>`` that names where it comes from (``data-src``: ``level``, ``diff`` or
``derived``; ``data-scenario``, ``data-metric``, ``data-value``), so a test can trace it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from sim.analysis import registry
from sim.report import calibration_note, cost_effect, numbers

__all__ = ["ANSWER_KPIS", "COST_KPI", "Change", "Assessment", "assess", "rank", "caveats", "render"]

#: the indicators of the first screen, in order: residents' admissions in the county
#: (参保人县域内住院人次占比), grassroots share of visits, travel, waiting, left untreated, cost to
#: the patient.
ANSWER_KPIS = ("inpatient_retention", "grassroots_visit_share_official", "travel_mean_min", "wait_mean_min",
               "left_untreated_share", "oop_per_episode")
#: the yearly cost of an alternative: running cost + annualised capital (a folder written before
#: capital was priced has only ``running_cost_per_year``: :func:`sim.report.cost_effect.cost_metric`).
COST_KPI = cost_effect.TOTAL
#: never a side effect: the costs themselves and the patient-by-patient counts against the baseline.
_NOT_SIDE_EFFECTS = frozenset({COST_KPI, cost_effect.RUNNING, cost_effect.CAPITAL, cost_effect.CAPITAL_PER_YEAR,
                               "avoided_referrals", "added_referrals", "kept_in_county_vs_baseline",
                               "lost_to_county_vs_baseline", "unmatched_patients"})
DAYS_PER_YEAR = 365.0

_T = {
    "en": {"no_diff": "no detectable difference in {names}", "negligible": "changes too small to matter in {names}", "few": "too few replications to judge {names}",
           "cost_up": "costs {v} more a year", "cost_down": "costs {v} less a year",
           "cost_none": "no detectable change in yearly cost", "cost_few": "yearly cost {v} (not tested)",
           "capital_needed": "needs {v} of capital once",
           "capital": "saves {v} of capital once", "per_adm": "{v} per admission kept in the county",
           "per_ref": "{v} per up-referral avoided", "per_min": "{v} per minute of travel saved",
           "dominant": "better and cheaper",
           "side": "main side effect: {name} {v}", "no_side": "no indicator significantly worse",
           "rank_head": ["", "Alternative", "Better on", "Worse on", "Cost a year", "Per admission kept in county"],
           "rank_rule": "Ranked by the number of headline indicators significantly better minus significantly worse, "
                        "then by the lower yearly cost.", "none": "–",
           "c_reps": "{n} replications of {days} days each (after {warm} days of start-up left out); yearly figures "
                     "are scaled from these {days} days.",
           "c_few": "Fewer than {min} replications: no interval is shown and no difference is called significant; "
                    "run at least {min} (run.replications) before drawing conclusions.",
           "c_short": "A run shorter than a year does not show seasonal peaks.",
           "c_uncal": "The model is not calibrated to this county's statistics: read the differences between "
                      "alternatives, not the levels.",
           "c_other": "The model is calibrated to another county ({fitted}): read the differences, not the levels.",
           "c_cal": "The model is calibrated to this county ({met} of {n} targets met).",
           "c_synth": "The county is synthetic (plausible positions and populations, not a map).",
           "c_cost": "A year's cost is the running cost of sites and levers plus their capital annualised over its "
                     "lifetime, at the configured prices (most of them assumed); cost per admission kept assumes "
                     "the total number of admissions does not change.",
           "c_net": "Alternatives run on another county network than the baseline: their differences compare "
                    "counties, not policies.",
           "sig": "significant", "better": "better", "worse": "worse"},
    "zh": {"no_diff": "{names}无可检出的差异", "negligible": "{names}变化极小,可忽略", "few": "模拟次数太少,无法判断{names}",
           "cost_up": "每年总成本增加{v}", "cost_down": "每年总成本减少{v}",
           "cost_none": "每年总成本无可检出的变化", "cost_few": "每年总成本变化{v}(未检验)",
           "capital_needed": "需一次性投入{v}",
           "capital": "一次性节省基建资金{v}", "per_adm": "每多留住一人次县域内住院花费{v}",
           "per_ref": "每减少一人次上转花费{v}", "per_min": "患者出行每节省一分钟花费{v}",
           "dominant": "效果更好且更省钱",
           "side": "主要副作用:{name}{v}", "no_side": "无指标显著变差",
           "rank_head": ["", "方案", "改善的指标", "变差的指标", "每年总成本变化", "每多留住一人次县域内住院的成本"],
           "rank_rule": "排序依据:显著改善的核心指标数减去显著变差的核心指标数;相同时每年总成本较低者在前。",
           "none": "–",
           "c_reps": "每个方案模拟{n}次,每次{days}天(不含开头{warm}天的起始阶段);年度数字由这{days}天折算。",
           "c_few": "模拟次数少于{min}次:不给出区间,也不判断差异是否显著;得出结论前请至少模拟{min}次。",
           "c_short": "模拟时长不足一年,未反映季节性高峰。",
           "c_uncal": "模型尚未按本县统计数据校准:请看方案之间的差别,不要引用绝对水平。",
           "c_other": "模型按另一个县({fitted})校准:请看方案之间的差别,不要引用绝对水平。",
           "c_cal": "模型已按本县统计数据校准({n}项目标中达到{met}项)。",
           "c_synth": "县域为虚拟县(机构位置和人口合理但非真实地图)。",
           "c_cost": "每年总成本为机构和各项措施的运行成本,加上设备、房屋等一次性投入按使用年限折算的年均摊,均按设定价格"
                     "(多为假设值)计算;每多留住一人次住院的成本假定住院总人次不变。",
           "c_net": "部分方案与基线不在同一个县域网络上运行:其差值比较的是不同的县,而不是政策。",
           "sig": "显著", "better": "改善", "worse": "变差"},
}


def _t(key: str, language: str) -> str:
    return _T["zh" if language == "zh" else "en"][key]  # type: ignore[return-value]


def _e(x: object) -> str:
    return html.escape(str(x), quote=True)


@dataclass(frozen=True)
class Change:
    """One indicator's paired difference for one alternative."""

    metric: str
    mean: float
    low: float
    high: float
    n: float
    base: float
    value: float
    #: :func:`sim.report.numbers.verdict`, or ``"negligible"``: significant but zero at the
    #: unit's precision (e.g. 0.01 min of travel).
    verdict: str

    @property
    def relative(self) -> float:
        """|difference| relative to the larger of the two levels (0 when both are 0)."""
        ref = max(abs(self.base), abs(self.value)) if not (math.isnan(self.base) or math.isnan(self.value)) else 0.0
        return abs(self.mean) / ref if ref > 0 else 0.0


@dataclass
class Assessment:
    """What one alternative does, costs and worsens."""

    scenario: str
    changes: dict[str, Change] = field(default_factory=dict)
    cost: Change | None = None
    #: the KPI of ``cost`` (``total_cost_per_year``, or ``running_cost_per_year`` in an older folder).
    cost_metric: str = COST_KPI
    #: the capital it needs once (the significant difference in ``capital_cost``; NaN: none).
    capital: float = math.nan
    capital_saved: float = math.nan
    #: the side effect: the worst significantly worse indicator (None: nothing worse).
    side_effect: Change | None = None
    #: cost per unit of effect: ``{"per_adm": (value, effect_per_year), ...}`` (``per_ref``, ``per_min``).
    per_unit: dict[str, tuple[float, float]] = field(default_factory=dict)

    def count(self, verdict: str) -> int:
        """Number of first-screen indicators with this verdict."""
        return sum(c.verdict == verdict for c in self.changes.values())

    @property
    def cost_diff(self) -> float:
        """The yearly cost difference (0 where not measured)."""
        return self.cost.mean if self.cost is not None and not math.isnan(self.cost.mean) else 0.0


def _county(df: pd.DataFrame) -> pd.DataFrame:
    if df is None or not len(df):
        return pd.DataFrame(columns=["scenario", "metric", "group"])
    return df[df["group"].astype(str) == "county"]


def _change(d: pd.DataFrame, s: pd.DataFrame, scenario: str, baseline: str, metric: str) -> Change | None:
    r = numbers.row(d, scenario, metric)
    if r is None or pd.isna(r["mean_diff"]):
        return None

    def level(scen: str) -> float:
        x = numbers.row(s, scen, metric)
        return float(x["mean"]) if x is not None else math.nan

    n = float(r["n"]) if "n" in r and pd.notna(r["n"]) else math.nan
    v = numbers.verdict(metric, r["mean_diff"], r["ci_low"], r["ci_high"], n)
    dd = numbers.difference(metric, r["mean_diff"], r["ci_low"], r["ci_high"], n)
    if v in ("better", "worse", "same") and (dd.zero or round(float(r["mean_diff"]) * registry.scale(metric),
                                                                dd.digits) == 0):
        # detected, but its size is zero at the precision it is written with ("0.0 min"): not a
        # change to name or rank on
        v = "negligible"
    return Change(metric, float(r["mean_diff"]), float(r["ci_low"]), float(r["ci_high"]), n, level(baseline),
                  level(scenario), v)


def assess(summary: pd.DataFrame, differences: pd.DataFrame, baseline: str, scenarios: Sequence[str],
           population: float = math.nan, post_warmup_days: float = math.nan) -> list[Assessment]:
    """An :class:`Assessment` of every alternative (``scenarios`` other than ``baseline``).

    ``population`` (residents) and ``post_warmup_days`` turn the per-person-year admissions and
    the per-run referral counts into yearly effects for the cost per unit of effect.
    """
    s, d = _county(summary), _county(differences)
    cost_kpi = cost_effect.cost_metric(d)
    ce = {r.scenario: r for r in cost_effect.rows(summary, differences, baseline, scenarios, population,
                                                  post_warmup_days)}
    out = []
    for scen in [x for x in scenarios if x != baseline]:
        a = Assessment(scen, cost_metric=cost_kpi)
        for m in ANSWER_KPIS:
            c = _change(d, s, scen, baseline, m)
            if c is not None:
                a.changes[m] = c
        a.cost = _change(d, s, scen, baseline, cost_kpi)
        cap_c = _change(d, s, scen, baseline, cost_effect.CAPITAL)
        if cap_c is not None and cap_c.mean > 0 and numbers.significant(cap_c.low, cap_c.high, cap_c.n):
            a.capital = cap_c.mean
        cap = s[(s["scenario"].astype(str) == scen) & (s["metric"] == "capital_saved")]
        if len(cap) and pd.notna(cap["mean"].iloc[0]) and float(cap["mean"].iloc[0]) != 0:
            a.capital_saved = float(cap["mean"].iloc[0])
        worse = [c for m in d.loc[d["scenario"].astype(str) == scen, "metric"].unique()
                 if m in registry.REGISTRY and m not in _NOT_SIDE_EFFECTS
                 and (c := _change(d, s, scen, baseline, m)) is not None and c.verdict == "worse"]
        head = [c for c in worse if c.metric in ANSWER_KPIS or registry.get(c.metric).headline]
        pool = head or worse
        a.side_effect = max(pool, key=lambda c: c.relative) if pool else None
        for key, e in ce[scen].effects.items():
            if e.status == "value":
                a.per_unit[key] = (e.cost_per_unit, e.per_year)
        out.append(a)
    return out


def rank(assessments: Sequence[Assessment]) -> list[Assessment]:
    """Alternatives ordered by first-screen indicators significantly better minus significantly
    worse, then by the lower yearly cost."""
    return sorted(assessments, key=lambda a: (-(a.count("better") - a.count("worse")), a.cost_diff))


# --------------------------------------------------------------------------------------------
# HTML


def _n(src: str, scenario: str, metric: str, field_: str, value: float, text: str, cls: str = "") -> str:
    """A traceable number."""
    c = f"n {cls}".strip()
    return (f"<span class='{c}' data-src='{src}' data-scenario='{_e(scenario)}' data-metric='{_e(metric)}' "
            f"data-field='{field_}' data-value='{value!r}'>{_e(text)}</span>")


def _diff_html(c: Change, scenario: str, language: str, with_levels: bool = True, first: bool = False) -> str:
    dd = numbers.difference(c.metric, c.mean, c.low, c.high, c.n, language)
    cls = c.verdict if c.verdict in ("better", "worse") else ""
    name = _name(c.metric, language, first=first)
    out = f"{_e(name)} " + _n("diff", scenario, c.metric, "mean_diff", c.mean, dd.value, cls)
    if with_levels and not (math.isnan(c.base) or math.isnan(c.value)):
        arrow = "→"
        out += (f" ({_n('level', '', c.metric, 'baseline', c.base, numbers.level(c.metric, c.base, language))}"
                f"{arrow}{_n('level', scenario, c.metric, 'mean', c.value, numbers.level(c.metric, c.value, language))})")
    return out


def _money(v: float, language: str) -> str:
    """Yuan without "/yr", whole yuan from 100."""
    digits = 0 if abs(v) >= 100 else 1
    return registry.format_value(cost_effect.CAPITAL, v, language, digits=digits)


def _name(metric: str, language: str, first: bool = False) -> str:
    """A KPI's name for the middle of an English sentence (lower-case initial unless an acronym)."""
    s = registry.label(metric, language, unit=False)
    if language == "en" and not first and len(s) > 1 and s[0].isupper() and s[1].islower():
        s = s[0].lower() + s[1:]
    return s


def _cost_html(a: Assessment, language: str) -> list[str]:
    parts = []
    if a.cost is not None:
        c = a.cost
        dd = numbers.difference(a.cost_metric, c.mean, c.low, c.high, c.n, language)
        if c.verdict in ("better", "worse"):
            key = "cost_up" if c.mean > 0 else "cost_down"
            txt = _money(abs(c.mean), language)
            span = _n("diff", a.scenario, a.cost_metric, "mean_diff_abs", abs(c.mean), txt, c.verdict)
            parts.append(_e(_t(key, language)).replace("{v}", span))
        elif c.verdict == "unknown" and not dd.zero:
            txt = ("+" if c.mean > 0 else "−") + _money(abs(c.mean), language)
            span = _n("diff", a.scenario, a.cost_metric, "mean_diff", c.mean, txt.replace("+CNY ", "CNY +")
                      .replace("−CNY ", "CNY −"))
            parts.append(_e(_t("cost_few", language)).replace("{v}", span))
        else:
            parts.append(_e(_t("cost_none", language)))
    if not math.isnan(a.capital):
        span = _n("diff", a.scenario, cost_effect.CAPITAL, "mean_diff", a.capital, _money(a.capital, language))
        parts.append(_e(_t("capital_needed", language)).replace("{v}", span))
    if not math.isnan(a.capital_saved):
        span = _n("level", a.scenario, "capital_saved", "mean", a.capital_saved,
                  registry.format_value("capital_saved", a.capital_saved, language))
        parts.append(_e(_t("capital", language)).replace("{v}", span))
    for key, (v, _) in a.per_unit.items():
        span = _n("derived", a.scenario, key, "cost_per_unit", v, _money(v, language))
        parts.append(_e(_t(key, language)).replace("{v}", span))
    if a.cost is not None and a.cost.verdict == "better" and a.count("better") > a.count("worse"):
        parts.append(_e(_t("dominant", language)))
    return parts


def _line(a: Assessment, label: str, language: str) -> str:
    zh = language == "zh"
    sep = ";" if zh else "; "
    sig = [c for c in a.changes.values() if c.verdict in ("better", "worse")]
    none = [_name(c.metric, language) for c in a.changes.values() if c.verdict == "none"]
    few = [_name(c.metric, language) for c in a.changes.values() if c.verdict == "unknown"]
    tiny = [_name(c.metric, language) for c in a.changes.values() if c.verdict == "negligible"]
    parts = [_diff_html(c, a.scenario, language, first=i == 0) for i, c in enumerate(sig)]
    join = "、" if zh else ", "
    if none:
        parts.append(_e(_t("no_diff", language).format(names=join.join(none))))
    if tiny:
        parts.append(_e(_t("negligible", language).format(names=join.join(tiny))))
    if few:
        parts.append(_e(_t("few", language).format(names=join.join(few))))
    parts += _cost_html(a, language)
    if a.side_effect is not None:
        c = a.side_effect
        dd = numbers.difference(c.metric, c.mean, c.low, c.high, c.n, language)
        span = _n("diff", a.scenario, c.metric, "mean_diff", c.mean, dd.value, "worse")
        side = _e(_t("side", language).format(name=_name(c.metric, language), v="\0"))
        parts.append(side.replace("\0", (" " if not zh else "") + span))
    elif any(c.verdict != "unknown" for c in a.changes.values()):
        parts.append(_e(_t("no_side", language)))
    colon = ":" if zh else ": "
    end = "。" if zh else "."
    return f"<li data-scenario='{_e(a.scenario)}'><b>{_e(label)}</b>{colon}{sep.join(parts)}{end}</li>"


def _rank_table(ranked: Sequence[Assessment], labels: Mapping[str, str], language: str) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in _T["zh" if language == "zh" else "en"]["rank_head"])
    rows = []
    join = "、" if language == "zh" else ", "
    for i, a in enumerate(ranked, 1):
        better = join.join(_name(c.metric, language, first=j == 0) for j, c in
                           enumerate(x for x in a.changes.values() if x.verdict == "better")) or _t("none", language)
        worse = join.join(_name(c.metric, language, first=j == 0) for j, c in
                          enumerate(x for x in a.changes.values() if x.verdict == "worse")) or _t("none", language)
        cost = "–"
        if a.cost is not None:
            dd = numbers.difference(a.cost_metric, a.cost.mean, a.cost.low, a.cost.high, a.cost.n, language)
            cls = a.cost.verdict if a.cost.verdict in ("better", "worse") else ""
            cost = _n("diff", a.scenario, a.cost_metric, "mean_diff", a.cost.mean, dd.value.replace("/yr", "")
                      .replace("/年", ""), cls)
        pu = a.per_unit.get("per_adm")
        per = _n("derived", a.scenario, "per_adm", "cost_per_unit", pu[0], _money(pu[0], language)) if pu else "–"
        rows.append(f"<tr data-scenario='{_e(a.scenario)}'><td>{i}</td><td>{_e(labels.get(a.scenario, a.scenario))}</td>"
                    f"<td>{_e(better)}</td><td>{_e(worse)}</td><td>{cost}</td><td>{per}</td></tr>")
    return (f"<table class='kpi rank'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p class='cap'>{_e(_t('rank_rule', language))}</p>")


def caveats(config: Mapping, replications: object, overrides: Mapping[str, Sequence[str]], baseline: str,
            language: str = "en") -> list[str]:
    """The caveats of the first screen (plain text): replications and horizon, calibration
    status, synthetic county, cost assumptions, and alternatives on another network."""
    run = config.get("run") or {}
    net = config.get("network") or {}
    h = float(run.get("horizon_days") or math.nan)
    w = float(run.get("warmup_days") or 0.0)
    days = h - w
    n = int(str(replications)) if replications is not None and str(replications).isdigit() else None
    out = [_t("c_reps", language).format(n=n if n is not None else "?", days=f"{days:g}", warm=f"{w:g}")]
    if language == "en" and w == 1:
        out[0] = out[0].replace("after 1 days", "after 1 day")
    if n is not None and n < numbers.MIN_REPLICATIONS:
        out.append(_t("c_few", language).format(min=numbers.MIN_REPLICATIONS))
    if days < DAYS_PER_YEAR:
        out.append(_t("c_short", language))
    st = calibration_note.state_of(dict(config))
    if st.status == "calibrated" and st.fitted_targets:
        out.append(_t("c_cal", language).format(met=len(st.met), n=len(st.fitted_targets)))
    elif st.status == "other_network":
        out.append(_t("c_other", language).format(fitted=st.fitted_network))
    else:
        out.append(_t("c_uncal", language))
    if "synthetic" in (str(net.get("description", "")) + " ".join(str(x) for x in net.get("sources") or [])).lower():
        out.append(_t("c_synth", language))
    out.append(_t("c_cost", language))

    def network_of(ovs: Sequence[str]) -> str | None:
        return next((o.split("=", 1)[1] for o in ovs if o.startswith("network=")), None)

    nets = {s: network_of(o) for s, o in overrides.items()}
    if any(v is not None and v != nets.get(baseline) for v in nets.values()):
        out.append(_t("c_net", language))
    return out


def render(assessments: Sequence[Assessment], labels: Mapping[str, str], caveat_lines: Sequence[str],
           language: str = "en") -> str:
    """The first screen (HTML): one line per alternative, the ranked table, the caveats."""
    lines = "".join(_line(a, labels.get(a.scenario, a.scenario), language) for a in assessments)
    ranked = rank(assessments)
    cav = "".join(f"<li>{_e(c)}</li>" for c in caveat_lines)
    return (f"<ul class='answer'>{lines}</ul>{_rank_table(ranked, labels, language)}"
            f"<ul class='caveats'>{cav}</ul>")
