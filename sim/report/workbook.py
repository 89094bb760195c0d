"""An Excel workbook of a study's numbers for people who work in spreadsheets: the county-level
summary and the paired differences, with Chinese and English headers and units.

Sheets (each with a Chinese header row, then an English one, then the data):

- ``指标 Summary``: per scenario and indicator the mean and its 95% interval;
- ``差值 Differences``: per alternative and indicator the paired difference from the baseline,
  its 95% interval and the verdict (better / worse / no detectable difference / too few
  replications);
- ``成本效果 Cost-effectiveness``: per alternative its running, capital and total cost
  differences and the cost per admission kept in the county, per up-referral avoided and per
  minute of travel saved, where the effect is significant (:mod:`sim.report.cost_effect`);
- ``说明 Notes``: what the columns mean.

Values are in the display unit of :mod:`sim.analysis.registry` (shares in %, differences of
shares in percentage points, times in minutes, money in yuan) and follow the brief's rules
(:mod:`sim.report.numbers`): an interval is cut at the bounds of the quantity and left empty
from fewer than :data:`sim.report.numbers.MIN_REPLICATIONS` replications.  The unrounded
tables stay in ``summary.csv`` and ``differences.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from sim.analysis import registry
from sim.report import cost_effect, numbers

__all__ = ["FILENAME", "SHEETS", "write_workbook"]

#: the workbook's file name in the study folder.
FILENAME = "brief.xlsx"
#: sheet names.
SHEETS = ("指标 Summary", "差值 Differences", "成本效果 Cost-effectiveness", "说明 Notes")

_SUMMARY_HEAD = (
    ("方案编号", "Scenario id"), ("方案", "Scenario"), ("", "Scenario (English)"), ("指标编号", "Indicator id"),
    ("指标", "Indicator"), ("", "Indicator (English)"), ("类别", "Theme"), ("单位", "Unit"), ("越高越好/越低越好", "Better"),
    ("模拟次数", "Replications"), ("均值", "Mean"), ("95%置信区间下限", "95% CI low"), ("95%置信区间上限", "95% CI high"),
    ("区间被截断", "CI cut at bound"),
)
_DIFF_HEAD = (
    ("方案编号", "Scenario id"), ("方案", "Scenario"), ("", "Scenario (English)"), ("基线", "Baseline"),
    ("指标编号", "Indicator id"), ("指标", "Indicator"), ("", "Indicator (English)"), ("单位", "Unit"),
    ("模拟次数", "Replications"), ("差值", "Difference"), ("95%置信区间下限", "95% CI low"),
    ("95%置信区间上限", "95% CI high"), ("结论", "Verdict"), ("", "Verdict (English)"),
)
_VERDICT = {"better": ("显著改善", "significantly better"), "worse": ("显著变差", "significantly worse"),
            "same": ("有显著差异", "significantly different"), "none": ("无可检出的差异", "no detectable difference"),
            "unknown": ("模拟次数太少,无法判断", "too few replications to judge")}
_NOTES = (
    ("数值单位见“单位”列:比例为百分数,比例的差值为百分点,时间为分钟,费用为元。",
     "Values are in the unit of the Unit column: shares in %, differences of shares in percentage points, "
     "times in minutes, money in yuan."),
    (f"置信区间截断在指标可能的范围内(比例0–100%,时间、人次和费用不低于0);少于{numbers.MIN_REPLICATIONS}次模拟时不给出区间。",
     f"Intervals are cut at what is possible (shares 0-100%, times, counts and costs at 0); fewer than "
     f"{numbers.MIN_REPLICATIONS} replications give none."),
    ("差值为方案减基线,按同一批患者配对计算;只有95%置信区间不含0时才判为显著。",
     "A difference is the alternative minus the baseline on the same patients; it is significant only when its "
     "95% interval excludes zero."),
    ("一次性投入按各项的使用年限和贴现率折算为每年均摊;每年总成本=运行成本+一次性投入年均摊。单位效果成本=每年总成本变化÷每年效果,"
     "仅在效果显著且成本显著增加时给出。",
     "Capital is annualised over each item's lifetime at the discount rate; the total a year is running cost plus "
     "annualised capital. A cost per unit is the total a year over the effect a year, given only where the effect "
     "is significant and the cost rises significantly."),
    ("未取整的原始数据见研究目录中的 summary.csv 和 differences.csv。",
     "The unrounded tables are summary.csv and differences.csv in the study folder."),
)


def _unit(metric: str, language: str, diff: bool = False) -> str:
    k = registry.REGISTRY.get(metric)
    if k is None:
        return ""
    if k.unit == "share":
        return ("百分点" if language == "zh" else "percentage points") if diff else "%"
    return registry.UNITS[k.unit].zh if language == "zh" else registry.UNITS[k.unit].en


def _num(x: object) -> float | None:
    try:
        f = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _scaled(metric: str, x: object) -> float | None:
    f = _num(x)
    return None if f is None else f * registry.scale(metric)


def _label(labels: Mapping[str, Mapping[str, str]], scenario: str, language: str) -> str:
    return (labels.get(language) or {}).get(scenario) or scenario


def summary_rows(summary: pd.DataFrame, labels: Mapping[str, Mapping[str, str]]) -> list[list]:
    """The rows of the summary sheet (county level)."""
    rows = []
    s = summary[summary["group"].astype(str) == "county"] if len(summary) else summary
    for r in s.itertuples(index=False):
        m, scen = str(r.metric), str(r.scenario)
        k = registry.REGISTRY.get(m)
        lo = hi = None
        cut = ""
        if numbers.enough(r.n) and _num(r.ci_low) is not None and _num(r.ci_high) is not None:
            a, b, ca, cb = numbers.clip_interval(m, float(r.ci_low), float(r.ci_high))
            lo, hi = _scaled(m, a), _scaled(m, b)
            cut = "是 yes" if ca or cb else ""
        b_ = registry.better(m)
        rows.append([scen, _label(labels, scen, "zh"), _label(labels, scen, "en"), m, registry.label(m, "zh", False),
                     registry.label(m, "en", False),
                     f"{registry.THEMES[k.theme][1]} {registry.THEMES[k.theme][0]}" if k is not None else "",
                     _unit(m, "zh") or _unit(m, "en"),
                     "越高越好 higher" if b_ > 0 else "越低越好 lower" if b_ < 0 else "", _num(r.n),
                     _scaled(m, r.mean), lo, hi, cut])
    return rows


def difference_rows(differences: pd.DataFrame, labels: Mapping[str, Mapping[str, str]]) -> list[list]:
    """The rows of the differences sheet (county level)."""
    rows = []
    d = differences[differences["group"].astype(str) == "county"] if len(differences) else differences
    for r in d.itertuples(index=False):
        m, scen = str(r.metric), str(r.scenario)
        ok = numbers.enough(r.n)
        v = numbers.verdict(m, r.mean_diff, r.ci_low, r.ci_high, r.n)
        rows.append([scen, _label(labels, scen, "zh"), _label(labels, scen, "en"), str(r.baseline), m,
                     registry.label(m, "zh", False), registry.label(m, "en", False), _unit(m, "zh", diff=True),
                     _num(r.n), _scaled(m, r.mean_diff), _scaled(m, r.ci_low) if ok else None,
                     _scaled(m, r.ci_high) if ok else None, _VERDICT[v][0], _VERDICT[v][1]])
    return rows


def write_workbook(folder: str | Path, summary: pd.DataFrame, differences: pd.DataFrame,
                   labels: Mapping[str, Mapping[str, str]] | None = None,
                   cost_effectiveness: list[cost_effect.Row] | None = None) -> Path:
    """Write ``folder/brief.xlsx`` (see the module docstring); returns its path.

    ``cost_effectiveness``: the rows of :func:`sim.report.cost_effect.rows` (none: an empty sheet
    with its headers)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    labels = labels or {}
    wb = Workbook()
    sheets = [(SHEETS[0], _SUMMARY_HEAD, summary_rows(summary, labels)),
              (SHEETS[1], _DIFF_HEAD, difference_rows(differences, labels) if len(differences) else []),
              (SHEETS[2], cost_effect.SHEET_HEAD, cost_effect.sheet_rows(cost_effectiveness or [], labels))]
    first = True
    for name, head, rows in sheets:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = name
        ws.append([zh for zh, _ in head])
        ws.append([en for _, en in head])
        for row in rows:
            ws.append(row)
        for cell in list(ws[1]) + list(ws[2]):
            cell.font = Font(bold=True)
        ws.freeze_panes = "A3"
        for col, (zh, en) in zip(ws.columns, head, strict=False):
            ws.column_dimensions[col[0].column_letter].width = max(10, min(40, max(2 * len(zh) + 2, len(en) + 4)))
    ws = wb.create_sheet(SHEETS[3])
    ws.append(["说明", "Notes"])
    ws["A1"].font = ws["B1"].font = Font(bold=True)
    for zh, en in _NOTES:
        ws.append([zh, en])
    ws.column_dimensions["A"].width = 80
    ws.column_dimensions["B"].width = 80
    path = Path(folder) / FILENAME
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path
