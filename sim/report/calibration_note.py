"""What a brief says about its baseline's calibration (校准情况), from the run's config alone.

Every care file carries a ``calibration:`` block (:class:`sim.config.schema.CalibrationInfo`):
``python -m calibration`` writes it into the care files it fits, with the targets it met and
the parameters the targets pin down.  The brief reads it from the run folder's
``config.yaml`` and states, on its first screen, whether the county is calibrated and how
well; a run on an uncalibrated care file (or on one fitted to another county) gets a warning
there, because its levels are not those of any real county.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from typing import Any

from sim.analysis import registry

__all__ = ["CalibrationState", "state_of", "first_screen", "section"]


@dataclass
class CalibrationState:
    """The calibration of a run's care file, as the brief reports it."""

    #: "calibrated", "uncalibrated" or "other_network" (fitted, but to another county).
    status: str
    network: str
    care: str
    fitted_network: str = ""
    date: str = ""
    loss: float | None = None
    fit: str = ""
    check: str = ""
    #: fitted targets (weight > 0) and reported-only ones, each a dict of the care file.
    targets: list[dict] = field(default_factory=list)
    parameters: list[dict] = field(default_factory=list)

    @property
    def fitted_targets(self) -> list[dict]:
        return [t for t in self.targets if float(t.get("weight", 1.0) or 0.0) > 0]

    @property
    def met(self) -> list[dict]:
        return [t for t in self.fitted_targets if t.get("met")]

    @property
    def unmet(self) -> list[dict]:
        return [t for t in self.fitted_targets if not t.get("met")]

    @property
    def not_identified(self) -> list[dict]:
        return [p for p in self.parameters if str(p.get("identifiability", "")) != "identified"]


def state_of(config: dict) -> CalibrationState:
    """The calibration state of a run from its composed config (``config.yaml`` as a dict)."""
    care = config.get("care") or {}
    network = str((config.get("network") or {}).get("name", ""))
    info = care.get("calibration") or {}
    status = str(info.get("status") or "uncalibrated")
    fitted = str(info.get("network") or "")
    if status == "calibrated" and fitted != network:
        status = "other_network"
    return CalibrationState(status=status, network=network, care=str(care.get("name", "")), fitted_network=fitted,
                            date=str(info.get("date") or ""), loss=info.get("loss"), fit=str(info.get("fit") or ""),
                            check=str(info.get("check") or ""), targets=list(info.get("targets") or []),
                            parameters=list(info.get("parameters") or []))


#: the calibration measures that are not KPIs of the registry (calibration/measures.py)
_DERIVED = {
    "township_visits_per_resident_year": ("乡镇卫生院辖区居民人均年门诊人次", "Township-centre visits per catchment resident-year"),
    "township_admissions_per_resident_year": ("乡镇卫生院辖区居民人均年住院人次",
                                              "Township-centre admissions per catchment resident-year"),
    "township_visits_per_year": ("每个乡镇卫生院年门诊人次", "Visits per township centre a year"),
    "township_admissions_per_year": ("每个乡镇卫生院年住院人次", "Admissions per township centre a year"),
}
_GROUPS = {"tier1": ("乡镇卫生院", "township centres"), "tier2": ("牵头医院", "lead hospitals")}
_IDENT = {
    "identified": ("已确定", "identified"),
    "weakly identified (one side only)": ("仅单侧确定", "weakly identified (one side only)"),
    "not identified": ("未确定", "not identified"),
    "not identified; near a bound": ("未确定(接近取值边界)", "not identified; near a bound"),
    "at a bound (fit wants a value beyond it)": ("处于取值边界(拟合倾向于越界)", "at a bound (fit wants a value beyond it)"),
}


def target_label(t: dict, language: str = "en") -> str:
    """A target's display name: the registry's name of its KPI (with the tier it is read at),
    or the calibration measure's own; an unknown one by its name."""
    zh = language == "zh"
    kpi = str(t.get("kpi", "") or t.get("name", ""))
    metric, _, group = kpi.partition("[")
    group = group.rstrip("]")
    if metric in _DERIVED:
        return _DERIVED[metric][0 if zh else 1]
    name = registry.label(metric, language, unit=False)
    if name == metric:     # not a registry KPI
        return str(t.get("name", metric))
    if group in _GROUPS:
        g = _GROUPS[group][0 if zh else 1]
        return f"{g}{name}" if zh else f"{name}, {g}"
    return name


def _ident(text: object, language: str) -> str:
    pair = _IDENT.get(str(text))
    return str(text) if pair is None else pair[0 if language == "zh" else 1]


def _fit_text(fit: str, check: str, language: str) -> tuple[str, str]:
    """The care file's fit and check lines (written in English by calibration/report.py), in
    ``language``: the numbers are taken from them; a line of another shape is shown as code."""
    if language != "zh":
        return fit, check
    f = re.search(r"(\d+) Latin-hypercube points, (\d+) refinement round\(s\); (\d+) evaluations of (\d+) "
                  r"replication\(s\) x ([\d.]+) days \(([\d.]+) warm-up\).*?seed (\d+); (\d+) min", fit, flags=re.S)
    c = re.search(r"(\d+) replication\(s\) x ([\d.]+) days \(([\d.]+) warm-up\).*?at most ([\d.]+) tolerance", check,
                  flags=re.S)
    fz = (f"响应面拟合:{f[1]} 个拉丁超立方设计点,{f[2]} 轮细化,共 {f[3]} 次评估,每次 {f[4]} 次模拟 × {f[5]} 天"
          f"(前 {f[6]} 天为起始阶段,不计入),各次评估使用相同的随机数序列(随机种子 {f[7]}),用时 {f[8]} 分钟"
          if f else "")
    cz = (f"在最优参数处另做 {c[1]} 次模拟 × {c[2]} 天(前 {c[3]} 天不计入)核验;拟合所用的短时模拟与核验结果"
          f"最多相差 {c[4]} 个容许误差" if c else "")
    return fz, cz


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _v(t: dict, key: str) -> str:
    v = t.get(key)
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    v = float(v)
    kpi = str(t.get("kpi", ""))
    share = (abs(v) <= 1.0 and "per" not in kpi and "stay" not in kpi and "visits" not in kpi
             and "admissions" not in kpi)
    if share:
        return f"{100 * v:.1f}%"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


_TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "ok": "Calibrated baseline: the {care} care file was fitted to {network}'s published figures on {date}; "
              "{met} of {n} fitted targets are within tolerance.",
        "unmet": "Not met: {names}.",
        "loose": "Parameters the targets do not pin down (treat their values as assumptions): {names}.",
        "uncal": "Uncalibrated: this run uses the {care} care file, which is not fitted to any county's figures. "
                 "Its levels (retention, volumes, costs) are illustrative; read the differences between scenarios, "
                 "not the levels. For a baseline you can quote, run care={network}_calibrated (fitted by "
                 "python -m calibration network={network}).",
        "other": "Calibrated for another county: the {care} care file was fitted to {fitted}, not to {network}. "
                 "Levels here are not fitted to {network}'s figures; read the differences between scenarios.",
        "heading": "Calibration", "sep": ", ",
        "cols": ("Target", "Observed", "Tolerance", "Simulated (95% CI)", "Met", "Source"),
        "yes": "yes", "no": "no", "report_only": "reported, not fitted",
        "fit": "Fit", "check": "Check run", "params": "Fitted parameters",
        "pcols": ("Parameter", "Config path", "Value", "Pinned down by the targets?"),
        "none_text": "No calibration: the care file carries no fitted targets.",
    },
    "zh": {
        "ok": "基线已校准:{care} 参数文件于 {date} 按{network}的公开数据校准,{n} 项校准目标中 {met} 项落在容许范围内。",
        "unmet": "未达到:{names}。",
        "loose": "校准目标未能确定的参数(其取值应视为假设):{names}。",
        "uncal": "未校准:本次运行使用 {care} 参数文件,未按任何县的实际数据校准。"
                 "其水平值(县域内住院占比、服务量、费用)仅供示意,请看各方案之间的差异而非水平值;"
                 "需要可引用的基线时,请使用 care={network}_calibrated(由 python -m calibration network={network} 校准)。",
        "other": "校准对象不符:{care} 参数文件按{fitted}校准,而非{network}。"
                 "此处水平值未按{network}的数据校准,请看各方案之间的差异。",
        "heading": "校准情况", "sep": "、",
        "cols": ("校准目标", "实际值", "容许误差", "模拟值(95%置信区间)", "是否达到", "来源"),
        "yes": "是", "no": "否", "report_only": "仅报告,未参与校准",
        "fit": "校准方法", "check": "核验运行", "params": "校准参数",
        "pcols": ("参数", "配置路径", "取值", "是否由目标确定"),
        "none_text": "未校准:该参数文件没有校准目标。",
    },
}


def first_screen(config: dict, language: str = "en") -> str:
    """The calibration box at the top of the brief: a note, or a warning (HTML)."""
    T = _TEXT[language]
    st = state_of(config)
    if st.status == "calibrated" and st.fitted_targets:
        parts = [T["ok"].format(care=st.care, network=st.network, date=st.date[:10], met=len(st.met),
                                n=len(st.fitted_targets))]
        if st.unmet:
            parts.append(T["unmet"].format(names=T["sep"].join(target_label(t, language) for t in st.unmet)))
        if st.not_identified:
            parts.append(T["loose"].format(names="\x00" + "\x00, \x00".join(str(p.get("name")) for p in st.not_identified)
                                           + "\x00"))
        # parameter names are config identifiers: shown as code
        body = re.sub("\x00([^\x00]*)\x00", r"<code>\1</code>", _e(" ".join(parts)))
        body = body.replace(f"{_e(st.care)} ", f"<code>{_e(st.care)}</code> ", 1) if st.care else body
        return f"<div class='calib ok'><p>{body}</p></div>"
    if st.status == "other_network":
        msg = T["other"].format(care=st.care, fitted=st.fitted_network, network=st.network)
    else:
        msg = T["uncal"].format(care=st.care or "?", network=st.network or "<network>")
    # the care file and the commands to run are code, not prose (the Chinese brief has no English sentence)
    body = re.sub(r"(care=[\w.-]+|python -m calibration network=[\w.&;-]+)", r"<code>\1</code>", _e(msg))
    if st.care:
        body = body.replace(f" {_e(st.care)} ", f" <code>{_e(st.care)}</code> ", 1)
    return f"<div class='calib warn' role='alert'><p><b>⚠</b> {body}</p></div>"


def section(config: dict, language: str = "en") -> str:
    """The calibration section near the end of the brief: targets vs simulated, parameters."""
    T = _TEXT[language]
    st = state_of(config)
    out = [f"<h2>{_e(T['heading'])}</h2>", first_screen(config, language)]
    if not st.targets:
        out.append(f"<p class='cap'>{_e(T['none_text'])}</p>")
        return "".join(out)
    fit, check = _fit_text(st.fit, st.check, language)
    for key, text, raw in (("fit", fit, st.fit), ("check", check, st.check)):
        if raw:
            shown = _e(text) if text else f"<code>{_e(raw)}</code>"
            out.append(f"<p class='cap'><b>{_e(T[key])}:</b> {shown}</p>")
    rows = []
    for t in st.targets:
        fitted = float(t.get("weight", 1.0) or 0.0) > 0
        met = (T["yes"] if t.get("met") else T["no"]) if fitted else T["report_only"]
        cls = "" if not fitted else (" class='better'" if t.get("met") else " class='worse'")
        sim = f"{_v(t, 'simulated')} ({_v(t, 'ci_low')}–{_v(t, 'ci_high')})"
        # the source is a citation, kept in the language it was published in
        rows.append(f"<tr><td>{_e(target_label(t, language))}</td><td>{_e(_v(t, 'observed'))}</td>"
                    f"<td>±{_e(_v(t, 'tolerance'))}</td><td>{_e(sim)}</td><td{cls}>{_e(met)}</td>"
                    f"<td class='src'><cite>{_e(t.get('source', ''))}</cite></td></tr>")
    head = "".join(f"<th>{_e(c)}</th>" for c in T["cols"])
    out.append(f"<table class='kpi calib-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    if st.parameters:
        prow = "".join(f"<tr><td><code>{_e(p.get('name'))}</code></td><td><code>{_e(p.get('path'))}</code></td>"
                       f"<td>{float(p.get('value', 0.0)):.4g}</td><td>{_e(_ident(p.get('identifiability'), language))}</td></tr>"
                       for p in st.parameters)
        phead = "".join(f"<th>{_e(c)}</th>" for c in T["pcols"])
        out.append(f"<h3>{_e(T['params'])}</h3><table class='kpi'><thead><tr>{phead}</tr></thead>"
                   f"<tbody>{prow}</tbody></table>")
    return "".join(out)
