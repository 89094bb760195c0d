"""The brief sections of a policy search and of a sensitivity analysis, bilingual, offline.

:func:`write_search_brief` reads a search folder (:mod:`sim.search.runner`: candidates,
confirmation, recommendation) and writes ``search_brief.html`` and ``search_brief.zh.html``:
the recommended mix with its cost and every constraint's interval, the runner-up and the paired
difference between them, what would change the recommendation (the binding constraint, and
the limits at which a cheaper candidate would be chosen), the trade-off figure (Pareto front)
and the tables.  :func:`write_sensitivity_brief` does the same for a sensitivity folder
(:mod:`sim.sensitivity.runner`): the tornado, the Morris and Sobol indices, and whether the
sign of a difference between two scenarios holds over the plausible ranges.

Reads saved tables only (no model, no SimPy).  :func:`search_section` and
:func:`sensitivity_section` return the HTML of the section alone, for a page of one's own.
"""

from __future__ import annotations

import html
import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from sim.analysis.registry import REGISTRY, format_value, label, unit_label

__all__ = ["search_section", "write_search_brief", "search_figures", "sensitivity_section",
           "write_sensitivity_brief", "sensitivity_figures", "FILENAMES", "SENSITIVITY_FILENAMES"]

FILENAMES = {"en": "search_brief.html", "zh": "search_brief.zh.html"}
SENSITIVITY_FILENAMES = {"en": "sensitivity_brief.html", "zh": "sensitivity_brief.zh.html"}

_COLORS = {"met": "#0072B2", "uncertain": "#E69F00", "not_met": "#D55E00", "no_data": "#999999",
           "recommended": "#009E73"}

_T: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Policy search", "answer": "The recommendation", "none": "No candidate meets every constraint on "
        "its 95% interval.", "closest": "Closest candidates", "rec": "Recommended mix: {label}",
        "obj": "{name}: {mean} (95% CI {low} – {high})", "n": "judged on {n} replications (common random numbers)",
        "con": "{name} {op} {limit}: {mean} (95% CI {low} – {high}) — {status}",
        "status": {"met": "met", "uncertain": "not met: the mean meets the limit, its interval does not",
                   "not_met": "not met", "no_data": "no cases to judge"},
        "runner": "Runner-up: {label}; {name} {diff} against the recommendation (paired 95% CI {low} – {high}{tie}).",
        "tie": "; the two cannot be told apart", "change": "What would change the recommendation",
        "binding": "The tightest constraint is {name} {op} {limit}: the recommendation's interval clears it by "
                   "{margin}.",
        "cheaper": "{label} ({name} {value}, {gain} against the recommendation) would be chosen if {needs}.",
        "need": "the limit on {name} were {needed} instead of {limit}", "nothing": "No better candidate came "
        "within reach of the constraints.", "figures": "Figures", "front": "Trade-off: {x} against {y}",
        "front_cap": "Each point is one candidate mix (mean and 95% interval over replications); blue: every "
                     "constraint met on its interval; amber: met by the mean only; vermillion: not met; the dashed "
                     "line is the limit, the green star the recommendation.",
        "pareto": "Pareto front: {x} against {y}", "pareto_cap": "Feasible candidates; the front (joined) are those no "
                  "other feasible candidate beats on both objectives.", "confirmed": "Confirmed candidates",
        "confirmed_note": "The best candidates of the screening re-run with {n} replications; the recommendation "
                          "is judged on these.", "all": "All {n} candidates screened ({r} replications each)",
        "mix": "Mix", "feasible": "Constraints met", "yes": "yes", "no": "no", "refused": "refused",
        "methods": "Methods", "methods_text": "Optuna ({sampler}) proposed {trials} trials over {dims}; each candidate "
        "ran {r} replications of {h} days ({w} warm-up) on the {net} network, replication r of every candidate "
        "seeing the same patients (common random numbers). A constraint counts as met only when its whole 95% "
        "interval lies on the allowed side. The best {top} were re-run with {rc} replications. Cost = {cost}.",
    },
    "zh": {
        "title": "政策方案寻优", "answer": "推荐方案", "none": "没有任何方案在95%置信区间上满足全部约束。",
        "closest": "最接近的方案", "rec": "推荐组合:{label}", "obj": "{name}:{mean}(95%置信区间 {low} – {high})",
        "n": "基于{n}次模拟(共同随机数)判断",
        "con": "{name} {op} {limit}:{mean}(95%置信区间 {low} – {high})——{status}",
        "status": {"met": "满足", "uncertain": "未满足:均值达标,但置信区间未全部达标", "not_met": "未满足",
                   "no_data": "无病例,无法判断"},
        "runner": "次优方案:{label};{name}较推荐方案{diff}(配对95%置信区间 {low} – {high}{tie})。",
        "tie": ";两者无法区分", "change": "什么情况下推荐会改变",
        "binding": "最紧的约束是{name} {op} {limit}:推荐方案的置信区间距限值还有{margin}。",
        "cheaper": "若{needs},则会选择{label}({name}{value},较推荐方案{gain})。",
        "need": "{name}的限值由{limit}放宽到{needed}", "nothing": "没有更优的方案接近满足约束。", "figures": "图表",
        "front": "权衡:{x}与{y}", "front_cap": "每个点是一个方案组合(各次模拟的均值及95%置信区间);蓝色:置信区间满足全部约束;"
                                              "橙色:仅均值满足;橙红色:未满足;虚线为限值,绿色星号为推荐方案。",
        "pareto": "帕累托前沿:{x}与{y}", "pareto_cap": "满足约束的方案;连线上的方案在两个目标上都不被其他方案同时超越。",
        "confirmed": "复核的方案", "confirmed_note": "筛选中最优的几个方案以{n}次模拟重新运行;推荐基于复核结果。",
        "all": "筛选过的全部{n}个方案(每个{r}次模拟)", "mix": "方案组合", "feasible": "满足约束", "yes": "是",
        "no": "否", "refused": "配置无效", "methods": "方法说明",
        "methods_text": "由Optuna({sampler})在{dims}上提出{trials}次试验;每个方案在{net}县域网络上模拟{r}次,每次{h}天"
                        "(其中起始{w}天不计入),各方案的第r次模拟使用同一批患者(共同随机数)。只有95%置信区间全部落在允许一侧,"
                        "约束才算满足。筛选出的前{top}个方案以{rc}次模拟复核。成本={cost}。",
    },
}

_CSS = """
body{font-family:"Helvetica Neue",Arial,"Noto Sans","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
 margin:0;color:#222;background:#f6f6f3;line-height:1.55}
main{max-width:1180px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:1.6em}h2{font-size:1.2em;margin:1.5em 0 0.4em;border-bottom:2px solid #0072B2;padding-bottom:4px}
ul.answer{background:#eef5fb;border-left:5px solid #0072B2;padding:10px 18px 10px 34px}
table.t{border-collapse:collapse;width:100%;font-size:0.88em}table.t th,table.t td{border-bottom:1px solid #ddd;
 padding:4px 7px;text-align:right;vertical-align:top}table.t th:first-child,table.t td:first-child{text-align:left}
.cap{color:#555;font-size:0.92em}.methods{background:#f4f4f0;border:1px solid #ddd;padding:10px 18px;font-size:0.9em}
.met{color:#0072B2}.uncertain{color:#B07800}.not_met{color:#D55E00}
"""

_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def _op(op: str) -> str:
    return {">=": "≥", "<=": "≤"}.get(op, op)


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _kpi(kpi: str) -> str:
    """The registered KPI a value is formatted as (``cost`` is a yearly amount in CNY)."""
    return "running_cost_per_year" if kpi == "cost" or kpi not in REGISTRY else kpi


def _name(kpi: str, language: str) -> str:
    if kpi == "cost":
        return "年成本" if language == "zh" else "Cost per year"
    return label(kpi, language, unit=False) if kpi in REGISTRY else kpi


def _fmt(kpi: str, v, language: str, diff: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return format_value(_kpi(kpi), float(v), language, diff=diff, sign=diff)


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists() or path.stat().st_size <= 1:
        return pd.DataFrame()
    try:
        df = pd.read_csv(path, keep_default_na=True)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    if "refused" in df:
        df["refused"] = ["" if isinstance(x, float) and math.isnan(x) else str(x) for x in df["refused"]]
    return df


def _page(title: str, body: str, language: str) -> str:
    from plotly.offline import get_plotlyjs

    lang = "zh-CN" if language == "zh" else "en"
    return (f"<!DOCTYPE html>\n<html lang='{lang}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{_e(title)}</title>"
            f"<style>{_CSS}</style><script type='text/javascript'>{get_plotlyjs()}</script></head>"
            f"<body><main>{body}</main></body></html>\n")


def _fig_html(key: str, heading: str, caption: str, fig: go.Figure) -> str:
    div = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{key}", config=_PLOTLY_CONFIG,
                      default_width="100%")
    return f"<section class='fig'><h3>{_e(heading)}</h3><p class='cap'>{_e(caption)}</p>{div}</section>"


def _write(folder: Path, names: dict[str, str], render, language: str | None) -> Path:
    langs = ["en", "zh"] if language is None else [language]
    out = []
    for lang in langs:
        path = folder / names[lang]
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(render(lang), encoding="utf-8")
        os.replace(tmp, path)
        out.append(path)
    return out[0]


# --- search ---------------------------------------------------------------------------------


def _load_search(folder: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict | None]:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    rec = json.loads((folder / "recommendation.json").read_text(encoding="utf-8"))
    return (meta, _read_csv(folder / "candidates.csv"), _read_csv(folder / "confirmed.csv"),
            _read_csv(folder / "pareto.csv"), rec)


def _label(row, language: str) -> str:
    return str((row.get("label_zh") if language == "zh" else row.get("label_en")) or row.get("label_en") or "")


def _status_of(row, n_cons: int) -> str:
    if str(row.get("refused") or ""):
        return "no_data"
    st = [str(row.get(f"con{i}_status")) for i in range(n_cons)]
    if all(s == "met" for s in st):
        return "met"
    if any(s == "not_met" for s in st):
        return "not_met"
    return "uncertain" if any(s == "uncertain" for s in st) else "no_data"


def search_figures(folder: str | Path, language: str = "en") -> list[tuple[str, str, str, go.Figure]]:
    """The trade-off figures: objective 0 against each constraint KPI (with the limit), and
    with several objectives the Pareto front of the feasible candidates."""
    folder = Path(folder)
    meta, cand, conf, pareto, rec = _load_search(folder)
    T = _T[language]
    objs, cons = meta["objectives"], meta["constraints"]
    figs: list[tuple[str, str, str, go.Figure]] = []
    if not len(cand) or "obj0_mean" not in cand:
        return figs
    pool = cand[cand["refused"] == ""].copy()
    if len(conf):  # the confirmed figures replace their screening ones
        pool = pd.concat([conf, pool[~pool["key"].isin(set(conf["key"]))]], ignore_index=True)
    x_kpi = objs[0]["kpi"]
    rec_key = rec.get("key") if rec and rec.get("status") == "recommended" else None
    for i, c in enumerate(cons):
        fig = go.Figure()
        pool["_status"] = [_status_of(r, len(cons)) for r in pool.to_dict("records")]
        for status in ("met", "uncertain", "not_met"):
            p = pool[pool["_status"] == status]
            if not len(p):
                continue
            sx, sy = _scale(x_kpi), _scale(c["kpi"])
            fig.add_trace(go.Scatter(
                x=p["obj0_mean"] * sx, y=p[f"con{i}_mean"] * sy, mode="markers", name=T["status"][status].split(":")[0],
                marker={"color": _COLORS[status], "size": 10},
                error_x={"type": "data", "symmetric": False, "array": (p["obj0_high"] - p["obj0_mean"]) * sx,
                         "arrayminus": (p["obj0_mean"] - p["obj0_low"]) * sx, "thickness": 1},
                error_y={"type": "data", "symmetric": False, "array": (p[f"con{i}_high"] - p[f"con{i}_mean"]) * sy,
                         "arrayminus": (p[f"con{i}_mean"] - p[f"con{i}_low"]) * sy, "thickness": 1},
                text=[_label(r, language) for r in p.to_dict("records")], hovertemplate="%{text}<extra></extra>"))
        if rec_key is not None:
            r = pool[pool["key"] == rec_key]
            if len(r):
                fig.add_trace(go.Scatter(x=r["obj0_mean"] * _scale(x_kpi), y=r[f"con{i}_mean"] * _scale(c["kpi"]),
                                         mode="markers", name=T["answer"],
                                         marker={"color": _COLORS["recommended"], "size": 18, "symbol": "star"}))
        fig.add_hline(y=c["value"] * _scale(c["kpi"]), line_dash="dash", line_color="#555")
        fig.update_layout(template="plotly_white", height=430, margin={"l": 60, "r": 20, "t": 30, "b": 50},
                          xaxis_title=_axis(x_kpi, language), yaxis_title=_axis(c["kpi"], language))
        heading = T["front"].format(x=_name(x_kpi, language), y=_name(c["kpi"], language))
        figs.append((f"tradeoff-{i}", heading, T["front_cap"], fig))
    if len(objs) > 1 and len(pareto):
        p = pareto.sort_values("obj0_mean")
        y_kpi = objs[1]["kpi"]
        fig = go.Figure(go.Scatter(x=p["obj0_mean"] * _scale(x_kpi), y=p["obj1_mean"] * _scale(y_kpi),
                                   mode="lines+markers", marker={"color": _COLORS["met"], "size": 10},
                                   text=[_label(r, language) for r in p.to_dict("records")],
                                   hovertemplate="%{text}<extra></extra>", name="Pareto"))
        fig.update_layout(template="plotly_white", height=430, xaxis_title=_axis(x_kpi, language),
                          yaxis_title=_axis(y_kpi, language))
        figs.append(("pareto", T["pareto"].format(x=_name(x_kpi, language), y=_name(y_kpi, language)),
                     T["pareto_cap"], fig))
    return figs


def _scale(kpi: str) -> float:
    k = _kpi(kpi)
    return 100.0 if REGISTRY[k].unit == "share" else (1e-4 if REGISTRY[k].unit.startswith("cny") else 1.0)


def _axis(kpi: str, language: str) -> str:
    k = _kpi(kpi)
    unit = REGISTRY[k].unit
    name = _name(kpi, language)
    if unit == "share":
        return f"{name} (%)"
    if unit.startswith("cny"):
        return f"{name} ({'万元' if language == 'zh' else 'CNY 10,000'})"
    u = unit_label(k, language)
    return f"{name} ({u})" if u else name


def _answer(meta: dict, rec: dict | None, language: str) -> str:
    T = _T[language]
    objs, cons = meta["objectives"], meta["constraints"]
    if not rec or rec.get("status") != "recommended":
        items = [f"<li>{_e(T['none'])}</li>"]
        for r in (rec or {}).get("closest", []):
            items.append(f"<li>{_e(T['closest'])}: {_e(_label(r, language))} — " + "; ".join(
                _e(T["con"].format(name=_name(c["kpi"], language), op=_op(c["op"]), limit=_fmt(c["kpi"], c["value"], language),
                                   mean=_fmt(c["kpi"], r[f"con{i}_mean"], language),
                                   low=_fmt(c["kpi"], r[f"con{i}_low"], language),
                                   high=_fmt(c["kpi"], r[f"con{i}_high"], language),
                                   status=T["status"].get(r[f"con{i}_status"], r[f"con{i}_status"])))
                for i, c in enumerate(cons)) + "</li>")
        return f"<h2>{_e(T['answer'])}</h2><ul class='answer'>{''.join(items)}</ul>"
    items = [f"<li><b>{_e(T['rec'].format(label=_label(rec, language)))}</b> ({_e(T['n'].format(n=rec['n']))})</li>"]
    for i, o in enumerate(objs):
        items.append("<li>" + _e(T["obj"].format(name=_name(o["kpi"], language),
                                                 mean=_fmt(o["kpi"], rec[f"obj{i}_mean"], language),
                                                 low=_fmt(o["kpi"], rec[f"obj{i}_low"], language),
                                                 high=_fmt(o["kpi"], rec[f"obj{i}_high"], language))) + "</li>")
    for i, c in enumerate(cons):
        st = rec[f"con{i}_status"]
        items.append(f"<li class='{_e(st)}'>" + _e(T["con"].format(
            name=_name(c["kpi"], language), op=_op(c["op"]), limit=_fmt(c["kpi"], c["value"], language),
            mean=_fmt(c["kpi"], rec[f"con{i}_mean"], language), low=_fmt(c["kpi"], rec[f"con{i}_low"], language),
            high=_fmt(c["kpi"], rec[f"con{i}_high"], language), status=T["status"].get(st, st))) + "</li>")
    ru = rec.get("runner_up")
    if ru:
        d = ru["difference"]
        tie = T["tie"] if not (d["low"] > 0 or d["high"] < 0) else ""
        o = objs[0]["kpi"]
        items.append("<li>" + _e(T["runner"].format(label=_label(ru, language), name=_name(o, language),
                                                    diff=_fmt(o, d["mean"], language, diff=True),
                                                    low=_fmt(o, d["low"], language, diff=True),
                                                    high=_fmt(o, d["high"], language, diff=True), tie=tie)) + "</li>")
    out = [f"<h2>{_e(T['answer'])}</h2><ul class='answer'>{''.join(items)}</ul>", f"<h2>{_e(T['change'])}</h2><ul>"]
    b = rec.get("binding")
    if b:
        out.append("<li>" + _e(T["binding"].format(name=_name(b["kpi"], language), op=_op(b["op"]),
                                                   limit=_fmt(b["kpi"], b["limit"], language),
                                                   margin=_fmt(b["kpi"], abs(b["margin"]), language, diff=True)
                                                   .lstrip("+"))) + "</li>")
    changes = rec.get("would_change") or []
    o = objs[0]["kpi"]
    for w in changes[:3]:
        needs = [T["need"].format(name=_name(n["kpi"], language), limit=_fmt(n["kpi"], n["limit"], language),
                                  needed=_fmt(n["kpi"], n["needed_limit"], language)) for n in w["needs"]]
        joiner = "且" if language == "zh" else " and "
        out.append("<li>" + _e(T["cheaper"].format(label=_label(w, language), name=_name(o, language),
                                                   value=_fmt(o, w["obj0_mean"], language),
                                                   gain=_fmt(o, w["gain"], language, diff=True),
                                                   needs=joiner.join(needs))) + "</li>")
    if not changes:
        out.append(f"<li>{_e(T['nothing'])}</li>")
    out.append("</ul>")
    return "".join(out)


def _table(df: pd.DataFrame, meta: dict, language: str) -> str:
    T = _T[language]
    objs, cons = meta["objectives"], meta["constraints"]
    head = [T["mix"], "n"] + [_name(o["kpi"], language) for o in objs] + \
        [f"{_name(c['kpi'], language)} {_op(c['op'])} {_fmt(c['kpi'], c['value'], language)}" for c in cons] + [T["feasible"]]
    rows = []
    for r in df.to_dict("records"):
        if str(r.get("refused") or ""):
            rows.append(f"<tr><td>{_e(_label(r, language))}</td><td colspan='{len(head) - 1}'>{_e(T['refused'])}: "
                        f"{_e(r['refused'])}</td></tr>")
            continue
        cells = [_e(_label(r, language)), str(int(r.get("n", 0)))]
        for i, o in enumerate(objs):
            cells.append(f"{_e(_fmt(o['kpi'], r[f'obj{i}_mean'], language))}<br><small>"
                         f"{_e(_fmt(o['kpi'], r[f'obj{i}_low'], language))} – "
                         f"{_e(_fmt(o['kpi'], r[f'obj{i}_high'], language))}</small>")
        for i, c in enumerate(cons):
            st = str(r[f"con{i}_status"])
            cells.append(f"<span class='{_e(st)}'>{_e(_fmt(c['kpi'], r[f'con{i}_mean'], language))}</span><br><small>"
                         f"{_e(_fmt(c['kpi'], r[f'con{i}_low'], language))} – "
                         f"{_e(_fmt(c['kpi'], r[f'con{i}_high'], language))}</small>")
        cells.append(T["yes"] if bool(r["feasible"]) else T["no"])
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (f"<table class='t'><thead><tr>{''.join(f'<th>{_e(h)}</th>' for h in head)}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def search_section(folder: str | Path, language: str = "en") -> str:
    """The search's brief section (HTML without the page around it)."""
    folder = Path(folder)
    meta, cand, conf, _, rec = _load_search(folder)
    T = _T[language]
    parts = [_answer(meta, rec, language)]
    figs = search_figures(folder, language)
    if figs:
        parts.append(f"<h2>{_e(T['figures'])}</h2>")
        parts += [_fig_html(*f) for f in figs]
    if len(conf):
        parts.append(f"<h2>{_e(T['confirmed'])}</h2><p class='cap'>"
                     f"{_e(T['confirmed_note'].format(n=meta['confirm_replications']))}</p>{_table(conf, meta, language)}")
    if len(cand):
        parts.append(f"<details><summary>{_e(T['all'].format(n=len(cand), r=meta['replications']))}</summary>"
                     f"{_table(cand, meta, language)}</details>")
    dims = meta.get("dimensions", {})
    dim_names = ("、" if language == "zh" else ", ").join(
        d["label_zh"] if language == "zh" else d["label_en"] for d in dims.values())
    cost = " + ".join(_name(k, language) for k in meta.get("cost", []))
    parts.append(f"<h2>{_e(T['methods'])}</h2><div class='methods'>" + _e(T["methods_text"].format(
        sampler=meta.get("sampler", "TPE/NSGA-II"), trials=meta["trials_finished"], dims=dim_names,
        r=meta["replications"], h=f"{meta['horizon_days']:g}", w=f"{meta['warmup_days']:g}", net=meta["network"],
        top=len(conf), rc=meta["confirm_replications"], cost=cost)) + "</div>")
    return "".join(parts)


def write_search_brief(folder: str | Path, language: str | None = None) -> Path:
    """Write ``search_brief.html`` and ``search_brief.zh.html`` (or one ``language``)."""
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))

    def render(lang: str) -> str:
        T = _T[lang]
        title = meta.get(f"title_{lang}") or meta["search"]
        desc = meta.get("description_zh") if lang == "zh" else meta.get("description")
        head = f"<h1>{_e(T['title'])}{':' if lang == 'zh' else ': '}{_e(title)}</h1>"
        if desc:
            head += f"<p class='cap'>{_e(desc)}</p>"
        return _page(f"{T['title']}: {title}", head + search_section(folder, lang), lang)

    return _write(folder, FILENAMES, render, language)


# --- sensitivity ----------------------------------------------------------------------------

_S: dict[str, dict[str, Any]] = {
    "en": {"title": "Sensitivity analysis", "answer": "What drives the answer", "figures": "Figures",
           "tornado": "Tornado: {kpi} at each parameter's low and high end",
           "tornado_cap": "Each parameter moved alone from the low to the high end of its plausible range, the others "
                          "at their base values; the line is the base value.",
           "morris": "Morris screening: mean absolute elementary effect (μ*)",
           "morris_cap": "μ* with its 95% bootstrap interval; σ (spread) large against μ* means the effect depends "
                         "on the other parameters.", "sobol": "Sobol indices: first order (S1) and total (ST)",
           "sobol_cap": "Share of the variance of the result each parameter explains alone (S1) and with its "
                        "interactions (ST), over the plausible ranges of the parameters screened in.",
           "rank": "Ranked by Morris μ*: {ranks}.", "top": "{p} matters most (μ* = {mu}).",
           "flat": "{p} has no detectable effect (μ* = {mu}).",
           "sign": "Over {n} points of the plausible ranges, the difference ({diff}) is positive at {pos}% and negative "
                   "at {neg}%: {verdict}.", "robust": "the ranking of the two scenarios holds",
           "fragile": "the ranking of the two scenarios depends on assumptions that cannot be checked",
           "table": "Indices", "param": "Parameter", "range": "Range", "source": "Source",
           "methods": "Methods",
           "methods_text": "Morris screening ({traj} trajectories, {levels} levels) over {k} parameters, then Sobol "
                           "indices (Saltelli sampling, N = {N}) on the {top} with the largest μ*; each point ran {r} "
                           "replications of {h} days on the {net} network, every point with the same seeds (common "
                           "random numbers).", "result": "{kpi}"},
    "zh": {"title": "敏感性分析", "answer": "哪些假设左右结论", "figures": "图表",
           "tornado": "龙卷风图:各参数取低端和高端时的{kpi}",
           "tornado_cap": "每次只把一个参数从其合理范围的低端移到高端,其余参数取基准值;竖线为基准值。",
           "morris": "Morris筛选:基本效应绝对值的均值(μ*)",
           "morris_cap": "μ*及其95%自助法置信区间;σ(离散程度)相对μ*较大,说明该参数的影响取决于其他参数。",
           "sobol": "Sobol指数:一阶(S1)与总效应(ST)",
           "sobol_cap": "在筛选出的参数的合理范围内,各参数单独(S1)及连同交互作用(ST)解释的结果方差比例。",
           "rank": "按Morris μ*排序:{ranks}。", "top": "{p}影响最大(μ* = {mu})。", "flat": "{p}没有可检测到的影响(μ* = {mu})。",
           "sign": "在合理范围内的{n}个点上,差值({diff})为正的占{pos}%,为负的占{neg}%:{verdict}。",
           "robust": "两个方案的排序稳定", "fragile": "两个方案的排序取决于无法核实的假设", "table": "指数",
           "param": "参数", "range": "范围", "source": "来源", "methods": "方法说明",
           "methods_text": "先对{k}个参数做Morris筛选({traj}条轨迹,{levels}个水平),再对μ*最大的{top}个参数计算Sobol指数"
                           "(Saltelli抽样,N = {N});每个点在{net}县域网络上模拟{r}次,每次{h}天,所有点使用相同的随机数种子"
                           "(共同随机数)。", "result": "{kpi}"},
}


def _load_sens(folder: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    return (meta, _read_csv(folder / "morris.csv"), _read_csv(folder / "sobol.csv"),
            _read_csv(folder / "tornado.csv"), _read_csv(folder / "parameters.csv"))


def _result_name(meta: dict, language: str) -> str:
    kpi = meta["kpi"]
    name = _name(kpi, language)
    if meta.get("compare"):
        return (f"{name}差值({meta['compare_label_zh']})" if language == "zh"
                else f"difference in {name} ({meta['compare_label_en']})")
    return name


def sensitivity_figures(folder: str | Path, language: str = "en") -> list[tuple[str, str, str, go.Figure]]:
    """The tornado, the Morris μ* bars and the Sobol S1 / ST bars."""
    folder = Path(folder)
    meta, morris, sobol, tornado, params = _load_sens(folder)
    S = _S[language]
    kpi = meta["kpi"]
    diff = bool(meta.get("compare"))
    sc = _scale(kpi)
    names = _param_names(params, language)
    figs = []
    if len(tornado):
        t = tornado.assign(span=(tornado["high_value"] - tornado["low_value"]).abs()).sort_values("span")
        base = float(meta["base_value"]) * sc
        fig = go.Figure()
        fig.add_trace(go.Bar(y=[names.get(p, p) for p in t["parameter"]], x=(t["low_value"] * sc - base), base=base,
                             orientation="h", name="low" if language == "en" else "低端", marker_color="#56B4E9"))
        fig.add_trace(go.Bar(y=[names.get(p, p) for p in t["parameter"]], x=(t["high_value"] * sc - base), base=base,
                             orientation="h", name="high" if language == "en" else "高端", marker_color="#0072B2"))
        fig.add_vline(x=base, line_color="#333")
        fig.update_layout(template="plotly_white", barmode="overlay", height=120 + 40 * len(t),
                          xaxis_title=_result_name(meta, language) + (" (%)" if REGISTRY[_kpi(kpi)].unit == "share" else ""))
        figs.append(("tornado", S["tornado"].format(kpi=_result_name(meta, language)), S["tornado_cap"], fig))
    if len(morris):
        m = morris.sort_values("mu_star")
        fig = go.Figure(go.Bar(y=[names.get(p, p) for p in m["parameter"]], x=m["mu_star"] * sc, orientation="h",
                               error_x={"type": "data", "array": m["mu_star_conf"] * sc}, marker_color="#0072B2",
                               name="μ*"))
        fig.add_trace(go.Scatter(y=[names.get(p, p) for p in m["parameter"]], x=m["sigma"] * sc, mode="markers",
                                 name="σ", marker={"color": "#D55E00", "size": 9}))
        fig.update_layout(template="plotly_white", height=120 + 40 * len(m), xaxis_title=f"μ*, σ ({_result_name(meta, language)})")
        figs.append(("morris", S["morris"], S["morris_cap"], fig))
    if len(sobol):
        s = sobol.sort_values("ST")
        fig = go.Figure()
        fig.add_trace(go.Bar(y=[names.get(p, p) for p in s["parameter"]], x=s["S1"], orientation="h", name="S1",
                             error_x={"type": "data", "array": s["S1_conf"]}, marker_color="#56B4E9"))
        fig.add_trace(go.Bar(y=[names.get(p, p) for p in s["parameter"]], x=s["ST"], orientation="h", name="ST",
                             error_x={"type": "data", "array": s["ST_conf"]}, marker_color="#0072B2"))
        fig.update_layout(template="plotly_white", barmode="group", height=140 + 50 * len(s))
        figs.append(("sobol", S["sobol"], S["sobol_cap"], fig))
    _ = diff
    return figs


def _param_names(params: pd.DataFrame, language: str) -> dict[str, str]:
    if not len(params):
        return {}
    col = "label_zh" if language == "zh" else "label_en"
    return {r["parameter"]: str(r.get(col) or r.get("label_en") or r["parameter"]) if isinstance(r.get(col), str)
            else r["parameter"] for r in params.to_dict("records")}


def sensitivity_section(folder: str | Path, language: str = "en") -> str:
    """The sensitivity analysis's brief section (HTML without the page around it)."""
    folder = Path(folder)
    meta, morris, sobol, tornado, params = _load_sens(folder)
    S = _S[language]
    kpi = meta["kpi"]
    names = _param_names(params, language)
    items = []
    if len(morris):
        m = morris.sort_values("mu_star", ascending=False)
        sep = "、" if language == "zh" else ", "
        items.append(S["rank"].format(ranks=sep.join(names.get(p, p) for p in m["parameter"])))
        top = m.iloc[0]
        items.append(S["top"].format(p=names.get(top["parameter"], top["parameter"]),
                                     mu=_fmt(kpi, top["mu_star"], language, diff=True).lstrip("+")))
        low = m.iloc[-1]
        if low["mu_star"] <= low["mu_star_conf"] or low["mu_star"] == 0:
            items.append(S["flat"].format(p=names.get(low["parameter"], low["parameter"]),
                                          mu=_fmt(kpi, low["mu_star"], language, diff=True).lstrip("+")))
    sign = meta.get("sign")
    if sign:
        verdict = S["robust"] if min(sign["positive"], sign["negative"]) == 0 else S["fragile"]
        items.append(S["sign"].format(n=sign["points"], diff=_result_name(meta, language),
                                      pos=f"{100 * sign['positive']:.0f}", neg=f"{100 * sign['negative']:.0f}",
                                      verdict=verdict))
    parts = [f"<h2>{_e(S['answer'])}</h2><ul class='answer'>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"]
    figs = sensitivity_figures(folder, language)
    if figs:
        parts.append(f"<h2>{_e(S['figures'])}</h2>")
        parts += [_fig_html(*f) for f in figs]
    if len(params):
        idx = morris.set_index("parameter") if len(morris) else pd.DataFrame()
        sob = sobol.set_index("parameter") if len(sobol) else pd.DataFrame()
        head = [S["param"], S["range"], "μ*", "σ", "S1", "ST", S["source"]]
        rows = []
        for r in params.to_dict("records"):
            p = r["parameter"]
            mu = idx.loc[p] if p in idx.index else None
            so = sob.loc[p] if p in sob.index else None
            src = r.get("source")
            texts = [f"{r['lower']:g} – {r['upper']:g}" + (" ×" if r.get("mode") == "scale" else ""),
                     _fmt(kpi, mu["mu_star"], language, diff=True).lstrip("+") if mu is not None else "–",
                     _fmt(kpi, mu["sigma"], language, diff=True).lstrip("+") if mu is not None else "–",
                     f"{so['S1']:.2f}" if so is not None else "–", f"{so['ST']:.2f}" if so is not None else "–",
                     src if isinstance(src, str) else ""]
            first = f"{_e(names.get(p, p))}<br><small><code>{_e(r['path'])}</code></small>"
            rows.append(f"<tr><td>{first}</td>" + "".join(f"<td>{_e(t)}</td>" for t in texts) + "</tr>")
        parts.append(f"<h2>{_e(S['table'])}</h2><table class='t'><thead><tr>"
                     f"{''.join(f'<th>{_e(h)}</th>' for h in head)}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    parts.append(f"<h2>{_e(S['methods'])}</h2><div class='methods'>" + _e(S["methods_text"].format(
        traj=meta["morris"]["trajectories"], levels=meta["morris"]["levels"], k=len(params),
        N=meta["sobol"]["n"], top=len(sobol), r=meta["replications"], h=f"{meta['horizon_days']:g}",
        net=meta["network"])) + "</div>")
    return "".join(parts)


def write_sensitivity_brief(folder: str | Path, language: str | None = None) -> Path:
    """Write ``sensitivity_brief.html`` and ``sensitivity_brief.zh.html`` (or one ``language``)."""
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))

    def render(lang: str) -> str:
        S = _S[lang]
        title = meta.get(f"title_{lang}") or meta["name"]
        head = f"<h1>{_e(S['title'])}{':' if lang == 'zh' else ': '}{_e(title)}</h1>"
        return _page(f"{S['title']}: {title}", head + sensitivity_section(folder, lang), lang)

    return _write(folder, SENSITIVITY_FILENAMES, render, language)
