"""Cost-effectiveness of each alternative against the baseline: what it costs a year (running
cost, capital once and annualised, total) and what each yuan buys -- per admission kept in the
county, per up-referral avoided, per minute of patients' travel saved.

Generated from ``summary.csv`` and ``differences.csv`` (county rows).  A cost per unit is given
only where the effect is significant (its 95% interval excludes zero, from
:data:`sim.report.numbers.MIN_REPLICATIONS` replications) and better; otherwise the cell says why
not ("no detectable effect", "effect worse", "too few replications"), and an alternative that is
better and significantly cheaper "saves money".  The cost per unit is the ratio of the mean
differences (no interval).

>>> import pandas as pd
>>> d = pd.DataFrame({"scenario": ["b"] * 2, "metric": ["total_cost_per_year", "up_referrals"],
...                   "group": "county", "mean_diff": [1e6, -10.0], "ci_low": [9e5, -12.0],
...                   "ci_high": [1.1e6, -8.0], "n": 3})
>>> s = pd.DataFrame({"scenario": ["a", "b"], "metric": "episodes", "group": "county", "mean": 1000.0, "n": 3})
>>> r = rows(s, d, "a", ["a", "b"], population=1e4, post_warmup_days=36.5)[0]
>>> r.effects["per_ref"].per_year, r.effects["per_ref"].cost_per_unit, r.effects["per_ref"].status
(100.0, 10000.0, 'value')
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from sim.analysis import registry
from sim.report import numbers

__all__ = ["TOTAL", "RUNNING", "CAPITAL", "CAPITAL_PER_YEAR", "EFFECTS", "SHEET_HEAD", "Effect", "Row", "rows",
           "cost_metric", "render", "sheet_rows"]

TOTAL = "total_cost_per_year"
RUNNING = "running_cost_per_year"
CAPITAL = "capital_cost"
CAPITAL_PER_YEAR = "capital_cost_per_year"
DAYS_PER_YEAR = 365.0
#: the effects priced: key -> the KPI whose paired difference measures it.
EFFECTS = {"per_adm": "inpatient_retention", "per_ref": "up_referrals", "per_min": "travel_mean_min"}


def cost_metric(differences: pd.DataFrame) -> str:
    """The yearly cost to weigh effects against: ``total_cost_per_year`` (running + annualised
    capital) where the study has it, else ``running_cost_per_year`` (a folder written before
    capital was priced)."""
    return TOTAL if differences is not None and len(differences) and TOTAL in set(differences["metric"]) else RUNNING


@dataclass(frozen=True)
class Effect:
    """One effect of one alternative, a year, and its cost per unit."""

    key: str
    #: the effect a year in its unit (admissions, referrals, minutes), positive = better.
    per_year: float
    #: "value" (cost_per_unit is set), "saves" (better and significantly cheaper), "no_cost"
    #: (better, no detectable cost change), "none" (no detectable effect), "worse", "few".
    status: str
    cost_per_unit: float = math.nan


@dataclass
class Row:
    """One alternative's costs (paired differences from the baseline, CNY) and effects."""

    scenario: str
    running: float = math.nan
    capital: float = math.nan
    capital_per_year: float = math.nan
    total: float = math.nan
    #: the verdict of the yearly cost's difference (:func:`sim.report.numbers.verdict`) ...
    cost_verdict: str = "unknown"
    #: ... and its KPI (:func:`cost_metric`).
    cost_metric: str = TOTAL
    effects: dict[str, Effect] = field(default_factory=dict)


def _county(df: pd.DataFrame) -> pd.DataFrame:
    if df is None or not len(df):
        return pd.DataFrame(columns=["scenario", "metric", "group", "mean", "mean_diff", "ci_low", "ci_high", "n"])
    return df[df["group"].astype(str) == "county"]


def _get(d: pd.DataFrame, scenario: str, metric: str) -> pd.Series | None:
    r = d[(d["scenario"].astype(str) == scenario) & (d["metric"] == metric)]
    return r.iloc[0] if len(r) and pd.notna(r["mean_diff"].iloc[0]) else None


def _level(s: pd.DataFrame, scenario: str, metric: str) -> float:
    r = s[(s["scenario"].astype(str) == scenario) & (s["metric"] == metric)]
    return float(r["mean"].iloc[0]) if len(r) and pd.notna(r["mean"].iloc[0]) else math.nan


def _verdict(r: pd.Series) -> str:
    n = float(r["n"]) if "n" in r and pd.notna(r["n"]) else math.nan
    v = numbers.verdict(str(r["metric"]), r["mean_diff"], r["ci_low"], r["ci_high"], n)
    if v in ("better", "worse", "same"):
        dd = numbers.difference(str(r["metric"]), r["mean_diff"], r["ci_low"], r["ci_high"], n)
        if dd.zero or round(float(r["mean_diff"]) * registry.scale(str(r["metric"])), dd.digits) == 0:
            return "none"  # detected but zero at the precision it is written with
    return v


def rows(summary: pd.DataFrame, differences: pd.DataFrame, baseline: str, scenarios: Sequence[str],
         population: float = math.nan, post_warmup_days: float = math.nan) -> list[Row]:
    """A :class:`Row` per alternative (``scenarios`` other than ``baseline``).

    ``population`` turns admissions per person-year into admissions a year; ``post_warmup_days``
    turns a replication's counts (referrals, episodes) into counts a year.
    """
    s, d = _county(summary), _county(differences)
    cost = cost_metric(differences)
    per_year = DAYS_PER_YEAR / post_warmup_days if post_warmup_days and post_warmup_days > 0 else math.nan
    out = []
    for scen in [x for x in scenarios if x != baseline]:
        row = Row(scen, cost_metric=cost)
        for attr, m in (("running", RUNNING), ("capital", CAPITAL), ("capital_per_year", CAPITAL_PER_YEAR),
                        ("total", cost)):
            r = _get(d, scen, m)
            if r is not None:
                setattr(row, attr, float(r["mean_diff"]))
        c = _get(d, scen, cost)
        row.cost_verdict = _verdict(c) if c is not None else "unknown"
        # what one unit of each KPI's difference is a year, so that the effect a year (positive =
        # better) is the difference times it
        per_unit_diff = {"per_adm": _level(s, scen, "admissions_per_person_year") * population,
                         "per_ref": -per_year, "per_min": -_level(s, baseline, "episodes") * per_year}
        for key, metric in EFFECTS.items():
            r = _get(d, scen, metric)
            if r is None:
                continue
            amount = float(r["mean_diff"]) * per_unit_diff[key]
            v = _verdict(r)
            if metric == "up_referrals" and v in ("better", "worse", "same"):
                v = "better" if r["mean_diff"] < 0 else "worse"  # fewer up-referrals: avoided
            if v == "unknown" or math.isnan(amount):
                row.effects[key] = Effect(key, amount, "few")
            elif v == "worse":
                row.effects[key] = Effect(key, amount, "worse")
            elif v != "better" or amount <= 0:
                row.effects[key] = Effect(key, amount, "none")
            elif row.cost_verdict in ("better", "worse") and row.total > 0:
                row.effects[key] = Effect(key, amount, "value", row.total / amount)
            elif row.cost_verdict in ("better", "worse") and row.total < 0:
                row.effects[key] = Effect(key, amount, "saves")
            else:
                row.effects[key] = Effect(key, amount, "no_cost")
        out.append(row)
    return out


_T = {
    "en": {"head": ["Alternative", "Running cost a year", "Capital once", "Capital a year", "Total a year",
                    "Admissions kept in the county a year", "Cost per admission kept",
                    "Up-referrals avoided a year", "Cost per referral avoided",
                    "Travel minutes saved a year", "Cost per minute saved"],
           "none": "no detectable effect", "worse": "effect worse", "few": "too few replications",
           "saves": "saves money", "no_cost": "no detectable cost change", "missing": "–",
           "note": "Differences from the baseline. Capital is annualised over each item's lifetime at the configured "
                   "discount rate; the total is running cost plus annualised capital. A cost per unit is the total "
                   "a year divided by the effect a year, given only where the effect is significant (95% interval "
                   "excludes zero, {min}+ replications) and the cost rises significantly; it has no interval. The "
                   "effects a year are shown whether significant or not."},
    "zh": {"head": ["方案", "每年运行成本变化", "一次性投入", "一次性投入年均摊", "每年总成本变化",
                    "每年多留在县域内的住院人次", "每多留住一人次住院的成本",
                    "每年减少的上转人次", "每减少一人次上转的成本",
                    "每年节省的患者出行时间(分钟)", "每节省一分钟出行的成本"],
           "none": "无可检出的效果", "worse": "效果变差", "few": "模拟次数不足", "saves": "更省钱",
           "no_cost": "成本无可检出的变化", "missing": "–",
           "note": "与基线相比的差值。一次性投入按各项设备、房屋的使用年限和设定的贴现率折算为每年均摊;每年总成本为运行成本加"
                   "一次性投入年均摊。单位效果成本=每年总成本变化÷每年效果,仅在效果显著(95%置信区间不含0,至少{min}次模拟)且成本"
                   "显著增加时给出,为点估计,无置信区间。每年效果无论是否显著均列出。"},
}


def _e(x: object) -> str:
    return html.escape(str(x), quote=True)


def _money(v: float, language: str) -> str:
    if v is None or math.isnan(v):
        return "–"
    digits = 0 if abs(v) >= 100 or v == 0 else 1
    sign = "+" if v > 0 else "−" if v < 0 else ""
    txt = registry.format_value(CAPITAL, abs(v), language, digits=digits)
    return sign + txt if language == "zh" else txt.replace("CNY ", "CNY " + sign)


def _amount(v: float) -> str:
    if v is None or math.isnan(v):
        return "–"
    a = abs(v)
    txt = f"{a:,.0f}" if a >= 10 else f"{a:.2g}"
    return ("−" if v < 0 else "") + txt


def _n(scenario: str, metric: str, field_: str, value: float, text: str) -> str:
    """A traceable number (as :func:`sim.report.answer._n`): a paired difference or a derived one."""
    src = "diff" if field_ == "mean_diff" else "derived"
    return (f"<span class='n' data-src='{src}' data-scenario='{_e(scenario)}' data-metric='{_e(metric)}' "
            f"data-field='{field_}' data-value='{value!r}'>{_e(text)}</span>")


def render(table: Sequence[Row], labels: Mapping[str, str], language: str = "en") -> str:
    """The cost-effectiveness table (HTML)."""
    T = _T["zh" if language == "zh" else "en"]
    head = "".join(f"<th>{_e(h)}</th>" for h in T["head"])
    body = []
    for r in table:
        cells = [f"<td>{_e(labels.get(r.scenario, r.scenario))}</td>"]
        for metric, v in ((RUNNING, r.running), (CAPITAL, r.capital), (CAPITAL_PER_YEAR, r.capital_per_year),
                          (r.cost_metric, r.total)):
            cells.append(f"<td>{_n(r.scenario, metric, 'mean_diff', v, _money(v, language)) if not math.isnan(v) else '–'}"
                         "</td>")
        for key in EFFECTS:
            e = r.effects.get(key)
            if e is None:
                cells += ["<td>–</td>", "<td>–</td>"]
                continue
            cells.append(f"<td>{_n(r.scenario, key, 'effect_per_year', e.per_year, _amount(e.per_year))}</td>")
            if e.status == "value":
                txt = _money(e.cost_per_unit, language).lstrip("+").replace("CNY +", "CNY ")
                cells.append(f"<td>{_n(r.scenario, key, 'cost_per_unit', e.cost_per_unit, txt)}</td>")
            else:
                cls = " class='better'" if e.status == "saves" else " class='worse'" if e.status == "worse" else ""
                cells.append(f"<td{cls}>{_e(T[e.status])}</td>")
        body.append(f"<tr data-scenario='{_e(r.scenario)}'>{''.join(cells)}</tr>")
    return (f"<table class='kpi ce'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<p class='cap'>{_e(str(T['note']).format(min=numbers.MIN_REPLICATIONS))}</p>")


#: the workbook sheet's header: (Chinese, English with unit) per column.
SHEET_HEAD = (
    ("方案编号", "Scenario id"), ("方案", "Scenario"), ("", "Scenario (English)"),
    ("每年运行成本变化(元/年)", "Running cost a year (CNY/yr)"), ("一次性投入(元)", "Capital once (CNY)"),
    ("一次性投入年均摊(元/年)", "Capital a year (CNY/yr)"), ("每年总成本变化(元/年)", "Total a year (CNY/yr)"),
    ("每年多留在县域内的住院人次", "Admissions kept in the county a year"), ("每多留住一人次住院的成本(元)",
                                                                 "Cost per admission kept (CNY)"),
    ("每年减少的上转人次", "Up-referrals avoided a year"), ("每减少一人次上转的成本(元)", "Cost per referral avoided (CNY)"),
    ("每年节省的患者出行时间(分钟)", "Travel minutes saved a year"), ("每节省一分钟出行的成本(元)",
                                                           "Cost per minute saved (CNY)"),
)


def sheet_rows(table: Sequence[Row], labels: Mapping[str, Mapping[str, str]]) -> list[list]:
    """The workbook sheet's rows (columns of :data:`SHEET_HEAD`): a cost per unit where given, the
    reason in both languages where not."""
    out = []
    for r in table:
        vals: list[object] = [r.scenario, (labels.get("zh") or {}).get(r.scenario) or r.scenario,
                              (labels.get("en") or {}).get(r.scenario) or r.scenario]
        vals += [None if math.isnan(v) else v for v in (r.running, r.capital, r.capital_per_year, r.total)]
        for key in EFFECTS:
            e = r.effects.get(key)
            if e is None:
                vals += [None, None]
            else:
                vals.append(None if math.isnan(e.per_year) else e.per_year)
                vals.append(e.cost_per_unit if e.status == "value" else f"{_T['zh'][e.status]} {_T['en'][e.status]}")
        out.append(vals)
    return out
