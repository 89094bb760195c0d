"""A self-contained HTML policy brief of a study (or of one run) folder.

    python -m sim.report.brief <folder> [--language en|zh] [--export pdf,png,svg|auto]

writes ``brief.html`` (English) and/or ``brief.zh.html`` (Chinese) into the folder: a
plain-language summary generated from the numbers, the KPI table (county-level means with 95%
CIs per scenario and paired differences against the baseline), the figures of
:mod:`sim.report.plots` and a methods box.  plotly.js is embedded once, in the page's head; the page
makes no network request, so it opens offline.  Without ``--language`` both languages are
written; :func:`sim.experiment.study.run_study` calls :func:`write_brief` (both languages) at the end of
every study.

``--export pdf,png,svg`` (any of them, or ``auto``: all this machine can make) also writes
``brief.pdf`` / ``brief.zh.pdf`` for a meeting (headless Chromium's print, CJK fonts embedded)
and every figure to ``figures/<name>[.zh].<ext>`` for papers and slides (kaleido, which needs
a Chromium/Chrome browser too).  A study writes the exports named by ``$SIM_BRIEF_EXPORT``
(default none); see :mod:`sim.report.export`.  Where a tool is missing the HTML brief is still
written and the export fails with a message naming the fix.

Reads only the folder's files (``study.yaml``, ``summary.csv``, ``differences.csv``,
``meta.json``, ``runs/<scenario>/*.parquet`` and ``config.yaml``) with pandas: no model needed.
:func:`write_brief` also writes ``brief.xlsx``, the summary and paired differences for Excel
with Chinese and English headers (:mod:`sim.report.workbook`).
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis import registry
from sim.report import answer, calibration_note, cost_effect, numbers, plots, workbook
from sim.report import export as exports
from sim.report.export import BriefExportError
from sim.report.plots import kpi_label

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["write_brief", "load_folder", "findings", "summary_sentences", "summary_paragraph", "brief_figures",
           "render_brief", "export_figures", "BriefExportError", "main", "FILENAMES"]

#: output file per language.
FILENAMES = {"en": "brief.html", "zh": "brief.zh.html"}
DAY = 1440.0
#: the small tables of a run folder, read whole when the folder is loaded.
_RUN_TABLES = ("sites", "villages", "conditions")

EXPORT_FIX = ("static export needs the optional kaleido package and a Chromium/Chrome browser: "
              "pip install kaleido, and install Chromium (apt-get install chromium) or run plotly_get_chrome")


# --------------------------------------------------------------------------------------------
# loading a folder (pandas only)


@dataclass
class FolderData:
    """What the brief needs from a study or run folder."""

    folder: Path
    kind: str  # "study" or "run"
    name: str
    description: str
    baseline: str
    scenarios: list[str]
    overrides: dict[str, list[str]]
    base_overrides: list[str]
    summary: pd.DataFrame
    differences: pd.DataFrame
    meta: dict
    config: dict
    #: per scenario, its small tables (:data:`_RUN_TABLES`); the per-patient tables are read from
    #: ``run_dirs`` one scenario at a time, only the columns the figures need (a FolderData made
    #: by hand may hold them here as DataFrames instead).
    runs: dict[str, dict[str, pd.DataFrame | None]] = field(default_factory=dict)
    run_dirs: dict[str, Path] = field(default_factory=dict)
    #: scenario display names per language (``study.label_en`` / ``study.label_zh``).
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the study's title and description per language (``study.title_*``, ``study.description_zh``).
    titles: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)

    #: the figures' data reduced from the per-patient tables (:func:`_figure_data`), kept for
    #: the second language.
    figure_data: dict | None = field(default=None, repr=False)

    def label(self, scenario: str, language: str) -> str:
        """A scenario's name in ``language`` (its id where the study declares none)."""
        return (self.labels.get(language) or {}).get(scenario) or scenario


def _read_yaml(path: Path) -> dict:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, pd.errors.EmptyDataError):
        return pd.DataFrame()


#: the per-patient figures (map flows, Sankey, waits, emergency times) are drawn from at most
#: this many replications of each scenario, so that the brief's memory does not grow with the
#: number of replications (a county-year replication holds millions of rows); every number in
#: the text and the KPI tables comes from all replications.
FIGURE_REPLICATIONS = 2
#: the columns each per-patient table is read with (only what the figures use; not the scenario
#: of every patient and visit, a string per row: a run folder holds one scenario).
_FIGURE_COLUMNS = {
    "patients": ("replication", "patient", "onset", "exit", "first_facility", "condition"),
    "visits": ("replication", "patient", "facility", "arrive", "start", "mode"),
    "emergency": ("scenario", "replication", "patient", "fmc", "reperfusion"),
    "occupancy": ("scenario", "replication", "facility", "resource", "day", "in_use", "capacity"),
}


def _run_tables(folder: Path) -> dict[str, pd.DataFrame | None]:
    return {t: pd.read_parquet(folder / f"{t}.parquet") if (folder / f"{t}.parquet").exists() else None
            for t in _RUN_TABLES}


def _table(data: FolderData, scenario: str, name: str, columns: Sequence[str]) -> pd.DataFrame | None:
    """The ``columns`` (those present) of a scenario's per-patient table ``name``, its first
    :data:`FIGURE_REPLICATIONS` replications; None where it was not kept."""
    held = (data.runs.get(scenario) or {}).get(name)
    if isinstance(held, pd.DataFrame):
        return held[[c for c in columns if c in held.columns]]
    d = data.run_dirs.get(scenario)
    path = d / f"{name}.parquet" if d is not None else None
    if path is None or not path.exists():
        return None
    import pyarrow.parquet as pq

    have = set(pq.read_schema(path).names)
    # row groups are written one replication at a time: the filter reads only those needed
    return pd.read_parquet(path, columns=[c for c in columns if c in have],
                           filters=[("replication", "<", FIGURE_REPLICATIONS)] if "replication" in have else None)


def _has_table(data: FolderData, scenario: str, name: str) -> bool:
    if isinstance((data.runs.get(scenario) or {}).get(name), pd.DataFrame):
        return True
    d = data.run_dirs.get(scenario)
    return d is not None and (d / f"{name}.parquet").exists()


def _first_value(data: FolderData, scenario: str, name: str, column: str) -> str | None:
    """The first row's ``column`` of a per-patient table (the figures' titles name the
    scenario as the tables do), without reading the column."""
    held = (data.runs.get(scenario) or {}).get(name)
    if isinstance(held, pd.DataFrame):
        return str(held[column].iloc[0]) if column in held.columns and len(held) else None
    d = data.run_dirs.get(scenario)
    if d is None or not (d / f"{name}.parquet").exists():
        return None
    import pyarrow.parquet as pq

    f = pq.ParquetFile(d / f"{name}.parquet")
    if column not in f.schema_arrow.names or not f.metadata.num_rows:
        return None
    for rg in range(f.metadata.num_row_groups):
        if f.metadata.row_group(rg).num_rows:
            batch = next(f.iter_batches(batch_size=1, row_groups=[rg], columns=[column]))
            return str(batch.column(0)[0].as_py())
    return None


def load_folder(folder: str | Path) -> FolderData:
    """Read a study folder (``study.yaml``) or a single run folder (``kpis.parquet``)."""
    folder = Path(folder)
    if (folder / "study.yaml").exists():
        spec = _read_yaml(folder / "study.yaml").get("study", {})
        scen_spec = spec.get("scenarios") or {}
        baseline = str(spec.get("baseline") or next(iter(scen_spec), "baseline"))
        runs, run_dirs = {}, {}
        for s in scen_spec:
            d = folder / "runs" / str(s)
            if (d / "kpis.parquet").exists() or (d / "summary.csv").exists():
                runs[str(s)] = _run_tables(d)
                run_dirs[str(s)] = d
        summary = _read_csv(folder / "summary.csv")
        scenarios = [str(s) for s in scen_spec if str(s) in runs or
                     (len(summary) and str(s) in set(summary["scenario"].astype(str)))]
        cfg_dir = folder / "runs" / baseline if (folder / "runs" / baseline).exists() else \
            folder / "runs" / (scenarios[0] if scenarios else baseline)
        return FolderData(
            folder=folder, kind="study", name=str(spec.get("name") or folder.name),
            description=str(spec.get("description") or ""), baseline=baseline, scenarios=scenarios,
            overrides={str(k): [str(o) for o in (v or [])] for k, v in scen_spec.items()},
            base_overrides=[str(o) for o in spec.get("base_overrides") or []]
            + [str(o) for o in _read_yaml(folder / "study.yaml").get("overrides") or []], summary=summary,
            differences=_read_csv(folder / "differences.csv"), meta=_read_json(folder / "meta.json"),
            config=_read_yaml(cfg_dir / "config.yaml"), runs=runs, run_dirs=run_dirs,
            labels={lang: {str(k): str(v) for k, v in (spec.get(f"label_{lang}") or {}).items()}
                    for lang in plots.LANGUAGES},
            titles={lang: str(spec.get(f"title_{lang}") or "") for lang in plots.LANGUAGES},
            descriptions={"en": str(spec.get("description") or ""), "zh": str(spec.get("description_zh") or "")})
    if (folder / "kpis.parquet").exists() or (folder / "summary.csv").exists():
        summary = _read_csv(folder / "summary.csv")
        if not len(summary) and (folder / "kpis.parquet").exists():
            from sim.analysis.kpis import summarise

            summary = summarise(pd.read_parquet(folder / "kpis.parquet"))
        config = _read_yaml(folder / "config.yaml")
        meta = _read_json(folder / "meta.json")
        scen = str(config.get("scenario") or meta.get("scenario") or
                   (summary["scenario"].iloc[0] if len(summary) else folder.name))
        return FolderData(
            folder=folder, kind="run", name=scen, description=str((config.get("network") or {}).get("description", "")),
            baseline=scen, scenarios=[scen], overrides={scen: []}, base_overrides=[], summary=summary,
            differences=pd.DataFrame(), meta=meta, config=config, runs={scen: _run_tables(folder)},
            run_dirs={scen: folder})
    raise FileNotFoundError(f"{folder} is neither a study folder (study.yaml) nor a run folder (kpis.parquet)")


# --------------------------------------------------------------------------------------------
# the summary in words


def _sig(lo: float, hi: float, n: object = numbers.MIN_REPLICATIONS) -> bool:
    """The CI, from at least :data:`sim.report.numbers.MIN_REPLICATIONS` replications, excludes zero."""
    return numbers.significant(lo, hi, n)


def findings(summary: pd.DataFrame, differences: pd.DataFrame, baseline: str,
             metrics: Sequence[str] | None = None, group: str = "county") -> list[dict]:
    """Per KPI with a better direction: which scenario does best against the baseline.

    Each finding: ``metric, better (+1/-1), winner`` (the best alternative when it improves on
    the baseline, else the baseline), ``improves`` (bool), ``scenario`` (the best alternative),
    ``mean_diff, ci_low, ci_high`` (that alternative minus the baseline), ``significant``
    (the CI excludes zero), ``base_mean, scen_mean``.
    """
    if differences is None or not len(differences):
        return []
    d = differences[differences["group"].astype(str) == group]
    s = summary[summary["group"].astype(str) == group] if len(summary) else summary
    metrics = list(metrics) if metrics is not None else [m for m in plots.HEADLINE_KPIS if m in set(d["metric"])]
    out = []
    for m in metrics:
        b = registry.better(m)
        dm = d[(d["metric"] == m) & d["mean_diff"].notna()]
        if not b or not len(dm):
            continue
        best = dm.loc[(dm["mean_diff"] * b).idxmax()]
        sc = str(best["scenario"])

        def mean_of(scen: str, m: str = m) -> float:
            r = s[(s["metric"] == m) & (s["scenario"].astype(str) == scen)] if len(s) else s
            return float(r["mean"].iloc[0]) if len(r) else math.nan

        improves = bool(best["mean_diff"] * b > 0)
        out.append({"metric": m, "better": b, "winner": sc if improves else baseline, "improves": improves,
                    "scenario": sc, "baseline": baseline, "mean_diff": float(best["mean_diff"]),
                    "ci_low": float(best["ci_low"]), "ci_high": float(best["ci_high"]),
                    "n": float(best["n"]) if "n" in best and pd.notna(best["n"]) else math.nan,
                    "significant": _sig(best["ci_low"], best["ci_high"],
                                        best["n"] if "n" in best else numbers.MIN_REPLICATIONS),
                    "base_mean": mean_of(baseline), "scen_mean": mean_of(sc)})
    return out


def _direction(metric: str, language: str) -> str:
    return plots.label("higher_better" if registry.better(metric) > 0 else "lower_better", language)


def summary_sentences(summary: pd.DataFrame, differences: pd.DataFrame, baseline: str,
                      metrics: Sequence[str] | None = None, group: str = "county", language: str = "en",
                      labels: Mapping[str, str] | None = None) -> list[str]:
    """One sentence per headline KPI: the best scenario, by how much, and whether the 95% CI
    of the paired difference excludes zero ("no significant difference" when it spans zero,
    no verdict from fewer than :data:`sim.report.numbers.MIN_REPLICATIONS` replications).
    ``labels`` maps scenario ids to display names."""
    out = []
    zh = language == "zh"
    lab = dict(labels or {})

    def nm(x: str) -> str:
        return lab.get(x, x)

    bref = (f"基线“{nm(baseline)}”" if baseline != "baseline" or baseline in lab else "基线") if zh else \
        (f"the baseline “{nm(baseline)}”" if baseline != "baseline" or baseline in lab else "the baseline")
    for f in findings(summary, differences, baseline, metrics, group):
        m = f["metric"]
        n = f.get("n", numbers.MIN_REPLICATIONS)
        dd = numbers.difference(m, f["mean_diff"], f["ci_low"], f["ci_high"], n, language)

        def v(x: float, m: str = m) -> str:
            return numbers.level(m, x, language)

        name, dirn = kpi_label(m, language, unit=False), _direction(m, language)
        has_ci = numbers.enough(n) and pd.notna(f["ci_low"]) and pd.notna(f["ci_high"])
        diff = dd.value
        if zh:
            ci = f"95%置信区间{dd.interval}" if has_ci and dd.interval else "" if dd.zero else "模拟次数太少,不给出区间"
            sig = ("差异有统计学意义(95%置信区间不含0)" if f["significant"] else
                   "差异无统计学意义(95%置信区间包含0)" if has_ci else "无法判断差异是否有统计学意义")
            ci_part = f"({ci})" if ci else ""
            if f["improves"] and not dd.zero:
                out.append(f"{name}({dirn}):以“{nm(f['scenario'])}”最佳,为{v(f['scen_mean'])},{bref}为"
                           f"{v(f['base_mean'])},差值{diff}{ci_part},{sig}。")
            else:
                worse = "该方案显著劣于基线" if f["significant"] else sig
                by = "无差异" if dd.zero else f"差值{diff}{ci_part}"
                out.append(f"{name}({dirn}):没有备选方案优于{bref}({v(f['base_mean'])});最接近的"
                           f"“{nm(f['scenario'])}”{by},{worse}。")
        else:
            ci = f"95% CI {dd.interval}" if has_ci and dd.interval else "" if dd.zero else \
                "too few replications for an interval"
            sig = ("the difference is significant (95% CI excludes zero)" if f["significant"] else
                   "no significant difference (95% CI spans zero)" if has_ci else "significance cannot be judged")
            ci_part = f", {ci}" if ci else ""
            if f["improves"] and not dd.zero:
                out.append(f"{name} ({dirn}): best under “{nm(f['scenario'])}”, {v(f['scen_mean'])} against "
                           f"{v(f['base_mean'])} in {bref} (difference {diff}{ci_part}); {sig}.")
            else:
                worse = "significantly worse than the baseline (95% CI excludes zero)" if f["significant"] else sig
                ci_b = f" ({ci})" if ci else ""
                by = "shows no difference" if dd.zero else f"differs by {diff}{ci_b}"
                out.append(f"{name} ({dirn}): no alternative improves on {bref} ({v(f['base_mean'])}); the "
                           f"closest, “{nm(f['scenario'])}”, {by}: {worse}.")
    return out


def _levels_sentences(summary: pd.DataFrame, scenario: str, group: str, language: str) -> list[str]:
    s = summary[(summary["group"].astype(str) == group) & (summary["scenario"].astype(str) == scenario)]
    out = []
    for m in plots.HEADLINE_KPIS:
        r = s[s["metric"] == m]
        if not len(r):
            continue
        r = r.iloc[0]
        val = numbers.level(m, r["mean"], language)
        ci = numbers.level_interval(m, r["ci_low"], r["ci_high"], r.get("n"), language)
        out.append(f"{kpi_label(m, language, unit=False)}{val}(95%置信区间{ci})" if language == "zh"
                   else f"{kpi_label(m, language, unit=False)} {val} (95% CI {ci})")
    return out


def summary_paragraph(data: FolderData, language: str = "en", group: str = "county") -> str:
    """The brief's indicator-by-indicator paragraph (plain text)."""
    cfg_run = data.config.get("run") or {}
    net = (data.config.get("network") or {}).get("name", "")
    reps = data.meta.get("replications") or cfg_run.get("replications")
    if isinstance(reps, list):
        reps = len(reps)
    h, w = cfg_run.get("horizon_days"), cfg_run.get("warmup_days")
    others = [s for s in data.scenarios if s != data.baseline]
    lab = {s: data.label(s, language) for s in data.scenarios}
    if data.kind == "study" and others and len(data.differences):
        if language == "zh":
            intro = (f"本简报在“{net}”县域网络上比较{len(others)}个备选方案({'、'.join(f'“{lab[s]}”' for s in others)})"
                     f"与基线方案“{lab[data.baseline]}”:每个方案模拟{_num(h)}天(开头{_num(w)}天为起始阶段,不计入指标),"
                     f"共模拟{_num(reps)}次;各方案第几次模拟使用同一批患者,差值按同一批患者配对计算。")
        else:
            intro = (f"This brief compares {len(others)} alternative{'s' if len(others) > 1 else ''} "
                     f"({', '.join(f'“{lab[s]}”' for s in others)}) with the baseline “{lab[data.baseline]}” on the "
                     f"“{net}” county network: each ran for {_num(h)} days (the first {_num(w)} days of start-up are "
                     f"not counted), {_num(reps)} times; run r of every alternative sees the same patients, so "
                     f"differences are paired patient batch by patient batch.")
        body = summary_sentences(data.summary, data.differences, data.baseline, group=group, language=language,
                                 labels=lab)
        return " ".join([intro, *body]) if language == "en" else intro + "".join(body)
    scen = data.scenarios[0] if data.scenarios else data.baseline
    lv = _levels_sentences(data.summary, scen, group, language)
    if language == "zh":
        return (f"本简报汇总方案“{data.label(scen, language)}”在“{net}”县域网络上的模拟结果(模拟{_num(h)}天,"
                f"开头{_num(w)}天不计入,共模拟{_num(reps)}次):" + ";".join(lv) + "。")
    return (f"This brief summarises scenario “{data.label(scen, language)}” on the “{net}” county network ({_num(h)} "
            f"days, the first {_num(w)} days of start-up not counted, {_num(reps)} replications): " + "; ".join(lv) + ".")


def _num(x) -> str:
    if x is None:
        return "?"
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    return f"{f:g}"


# --------------------------------------------------------------------------------------------
# figures


def _after_warmup(t: dict[str, pd.DataFrame | None], warmup_min: float) -> dict[str, pd.DataFrame | None]:
    """Episodes with onset after the warm-up, and their visits, admissions and emergency rows.

    A row's episode is looked up on the integer codes of the key columns (replication,
    patient), not by merging."""
    p = t.get("patients")
    if p is None or not warmup_min:
        return t
    keys = [c for c in ("scenario", "replication") if c in p.columns] + ["patient"]
    after = p["onset"].to_numpy() >= warmup_min
    out = dict(t, patients=p[after])
    index = pd.MultiIndex.from_frame(p[keys]) if len(keys) > 1 else pd.Index(p["patient"])
    for name in ("visits", "emergency", "admissions"):
        df = t.get(name)
        if df is not None and all(k in df.columns for k in keys):
            rows = index.get_indexer(pd.MultiIndex.from_frame(df[keys]) if len(keys) > 1 else pd.Index(df["patient"]))
            out[name] = df[np.append(after, False)[np.where(rows < 0, len(after), rows)]]
    return out


def _figure_data(data: FolderData) -> dict:
    """The per-patient figures' data, reduced one scenario at a time (language-independent).

    Each scenario's tables are read (only the columns needed, :data:`FIGURE_REPLICATIONS`
    replications), cut at the warm-up and reduced to what is drawn (visit counts and referral
    flows for a map, Sankey counts, waiting-time quantiles by tier, STEMI times) before the next
    scenario is read, so the brief's memory is bounded by one scenario, not by their number.
    """
    if data.figure_data is not None:
        return data.figure_data
    warm = float((data.config.get("run") or {}).get("warmup_days") or 0.0) * DAY
    base_id = data.baseline if data.baseline in data.runs else next(iter(data.runs), None)
    base_small = data.runs.get(base_id) or {} if base_id is not None else {}
    base_sites = base_small.get("sites")
    out: dict = {"baseline": base_id, "scenarios": {}}
    for s, small in data.runs.items():
        sites = small.get("sites")
        red: dict = {"sites": sites, "villages": small.get("villages")}
        closed = sites is not None and "status" in sites.columns and \
            bool((sites["status"].fillna("open").astype(str).str.lower() != "open").any())
        t = {name: _table(data, s, name, _FIGURE_COLUMNS[name]) for name in ("patients", "visits", "emergency")}
        t = _after_warmup(t, warm)
        p, v, e = t["patients"], t["visits"], t["emergency"]
        red["has_visits"], red["has_patients"] = v is not None, p is not None
        if v is not None and sites is not None and (s == base_id or closed):
            red["map"] = plots.map_volumes(v)
            red["map_scenario"] = _first_value(data, s, "visits", "scenario")
        if p is not None and v is not None and sites is not None:
            red["sankey"] = plots.sankey_counts(p, v, sites)
        if v is not None and base_sites is not None:
            red["waits"] = plots.wait_stats(v, base_sites)
        if e is not None and p is not None and base_small.get("conditions") is not None:
            red["stemi"] = plots.stemi_times(e, p, base_small["conditions"])
        del t, p, v, e
        if s == base_id:
            red["occupancy"] = _table(data, s, "occupancy", _FIGURE_COLUMNS["occupancy"])
        out["scenarios"][s] = red
    data.figure_data = out
    return out


def infer_lever(data: FolderData) -> tuple[str, dict[str, float]] | None:
    """A lever for a dose-response figure: one override key that every scenario setting it
    sets to a number, and that is the only override of at least three scenarios."""
    vals: dict[str, dict[str, float]] = {}
    for scen, ovs in data.overrides.items():
        if len(ovs) != 1 or "=" not in ovs[0]:
            continue
        key, _, raw = ovs[0].partition("=")
        try:
            vals.setdefault(key.lstrip("+~"), {})[scen] = float(raw)
        except ValueError:
            continue
    best = max(vals.items(), key=lambda kv: len(kv[1]), default=None)
    if best is None or len(best[1]) < 3:
        return None
    return best[0], best[1]


def lonlat(config: Mapping) -> dict[str, tuple[float, float]]:
    """Longitude and latitude of every facility and village that has them in the run's network
    config (an imported county), by id; empty for a synthetic network."""
    net = config.get("network") or {}
    out: dict[str, tuple[float, float]] = {}
    for kind in ("facilities", "villages"):
        for k, v in (net.get(kind) or {}).items():
            if isinstance(v, Mapping) and v.get("lon") is not None and v.get("lat") is not None:
                out[str(k)] = (float(v["lon"]), float(v["lat"]))
    return out


def brief_figures(data: FolderData, language: str = "en") -> list[tuple[str, str, str, go.Figure]]:
    """``(key, heading, caption, figure)`` for every figure of the brief."""
    L = language
    zh = L == "zh"
    out: list[tuple[str, str, str, go.Figure]] = []
    names = {x: data.label(x, L) for x in data.scenarios}

    def named(df: pd.DataFrame) -> pd.DataFrame:
        """``df`` with its scenario (and baseline) column in display names."""
        if df is None or not len(df) or not names:
            return df
        out = df.copy()
        for c in ("scenario", "baseline"):
            if c in out.columns:
                out[c] = out[c].astype(str).map(lambda x: names.get(x, x))
        return out

    diffs = named(data.differences) if len(data.differences) else None
    if len(data.summary):
        out.append(("comparison", "情景比较" if zh else "Scenarios compared",
                    ("左:各情景县域层面指标均值及95%置信区间;右:与基线的配对差值(共同随机数),实心点表示置信区间不含0,"
                     "蓝色为改善,橙红色为变差。" if zh else
                     "Left: county-level mean and 95% CI per scenario. Right: paired difference from the baseline "
                     "(common random numbers); a filled marker's CI excludes zero (blue: better, vermillion: worse).")
                    if diffs is not None else ("各指标均值及95%置信区间。" if zh else "Mean and 95% CI of each KPI."),
                    plots.scenario_comparison(named(data.summary), diffs, baseline=names.get(data.baseline, data.baseline),
                                              language=L)))
    cost_kpi = cost_effect.cost_metric(data.differences)
    if diffs is not None and {"inpatient_retention", cost_kpi} <= set(diffs["metric"]):
        total = cost_kpi == cost_effect.TOTAL
        what_zh = "每年总成本(运行成本加一次性投入年均摊)" if total else "每年运行成本"
        what_en = "yearly total cost (running cost plus annualised capital)" if total else "yearly running cost"
        out.append(("cost-effect", "效果与成本" if zh else "Effect against cost",
                    (f"各方案相对基线的参保人县域内住院人次占比变化(纵轴)与{what_zh}变化(横轴);左上为效果更好且更省钱。"
                     if zh else "Each alternative's change in residents' admissions in the county (up) against its "
                     f"change in {what_en} (right); top left is better and cheaper."),
                    plots.cost_effect(diffs, cost=cost_kpi, min_replications=numbers.MIN_REPLICATIONS, language=L)))
    lever = infer_lever(data) if data.kind == "study" else None
    if lever is not None:
        key, intensity = lever
        for m in ("county_retention", "outward_transfer_rate"):
            if len(data.summary) and m in set(data.summary["metric"]):
                out.append((f"dose-{m}", "剂量-反应关系" if zh else "Dose-response",
                            (f"干预参数 {key} 不同取值下的指标均值及95%置信区间(至少{numbers.MIN_REPLICATIONS}次模拟才画区间)。"
                             if zh else f"The KPI's mean and 95% CI against the value of {key} (an interval only "
                             f"from {numbers.MIN_REPLICATIONS} replications)."),
                            plots.dose_response(named(data.summary), {names.get(k, k): v for k, v in intensity.items()},
                                                m, lever=key, language=L,
                                                min_replications=numbers.MIN_REPLICATIONS)))
    if not data.runs:
        return out
    fd = _figure_data(data)
    runs = fd["scenarios"]
    base = runs.get(data.baseline) or next(iter(runs.values()), None)
    if base is None or base.get("sites") is None:
        return out
    if base.get("has_visits"):
        ll = lonlat(data.config)
        out.append(("map", "县域地图" if zh else "The county",
                    ("基线方案:绿色圆圈为村庄(大小表示人口),方块为牵头医院、圆点为乡镇卫生院和社区卫生服务中心(大小表示就诊量),"
                     "线宽为转诊人次(每次模拟的均值),橙色线转往县外医院;县外医院画在图边,标出与本县的直线距离;×为关闭或合并的机构。"
                     if zh else
                     "Baseline: green circles are villages (size: population), squares the lead hospitals and dots the "
                     "township and community centres (size: visits); line width is the number of referrals per "
                     "replication, orange lines go out of the county; the out-of-county hospital sits at the edge "
                     "of the map with its straight-line distance; X marks a closed or merged site.")
                    + ("" if ll else ("位置为模型中的公里坐标(虚拟县,无经纬度)。" if zh else
                                      " Positions are the model's km (no longitude and latitude in the network).")),
                    plots.county_map(base["sites"], None, base.get("villages"), lonlat=ll,
                                     scenario=base.get("map_scenario"), language=L, volumes=base.get("map"))))
        for s, t in runs.items():
            if s != data.baseline and "map" in t:
                out.append((f"map-{s}", ("县域地图:" if zh else "The county: ") + names.get(s, s), "",
                            plots.county_map(t["sites"], None, t.get("villages"), lonlat=ll, scenario=s,
                                             language=L, volumes=t["map"])))
    if base.get("has_patients") and base.get("has_visits"):
        sankeys = [(names.get(s, s), plots.flow_sankey(None, None, t["sites"], scenario=s, language=L,
                                                       counts=t["sankey"]))
                   for s, t in runs.items() if "sankey" in t]
        for _, fig in sankeys:  # titled with the display name before they are combined
            title = str(fig.layout.title.text or "")
            for sid, name in names.items():
                title = title.replace(f" — {sid}<br>", f" — {name}<br>")
            fig.update_layout(title_text=title)
        if sankeys:
            out.append(("sankey", "患者流向" if zh else "Patient flow",
                        ("首诊层级 → 最高转诊层级 → 结局,按病例计数(前两次模拟合计);右上角选择方案。" if zh else
                         "First-contact tier → highest tier referred to → outcome, counting episodes "
                         "(the first two replications); choose the alternative at the top right."),
                        plots.scenario_selector(sankeys, language=L)))
        waits = {names.get(s, s): t["waits"] for s, t in runs.items() if "waits" in t}
        out.append(("waits", "候诊时间" if zh else "Waiting times",
                    "各层级候诊时间分布(开始接诊减到达时间)。" if zh else
                    "Waiting time (consult start minus arrival) by tier.",
                    plots.waiting_times(None, base["sites"], kind="box" if len(runs) > 1 else "ecdf", language=L,
                                        stats=waits)))
    if base.get("occupancy") is not None:
        site_names = plots._site_names(base["sites"], L)
        full = plots.saturated_sites(base["occupancy"], "beds")
        sat = ("、" if zh else ", ").join(f"{site_names.get(f, f)} {100 * v:.0f}%" for f, v in full.items())
        pct = f"{100 * plots.SATURATION:.0f}%"
        note = ((f"床位平均占用达到或超过{pct}(饱和):{sat}。" if sat else f"没有机构的床位平均占用达到{pct}。") if zh else
                (f"Beds saturated (mean occupancy at or above {pct}): {sat}." if sat else
                 f"No site's mean bed occupancy reaches {pct}."))
        out.append(("occupancy", "资源占用" if zh else "Occupancy",
                    ("基线方案牵头医院及主要乡镇卫生院每日在用床位和医生占容量的百分比(各次模拟均值)。" if zh else
                     "Baseline: daily beds and doctors in use as % of each site's capacity (mean over replications) "
                     "at the lead hospital and the busiest township centres. ") + note,
                    plots.occupancy_timeline(base["occupancy"], base["sites"], language=L, percent=True)))
    ems = [t["stemi"] for t in runs.values() if "stemi" in t]
    if ems:
        out.append(("emergency", "急诊时效" if zh else "Emergency times",
                    "STEMI患者首次医疗接触至再灌注时间分布,虚线为90分钟和120分钟标准。" if zh else
                    "STEMI: first medical contact to reperfusion, with the 90- and 120-minute standards.",
                    plots.emergency_times(None, None, None, language=L, times=pd.concat(ems, ignore_index=True))))
    for _, _, _, fig in out:  # a figure titled with a scenario id gets its display name
        title = str(fig.layout.title.text or "")
        for sid, name in names.items():
            if title.endswith(f" — {sid}") and name != sid:
                fig.update_layout(title_text=title[: -len(sid)] + name)
    return out


# --------------------------------------------------------------------------------------------
# HTML


_CSS = """
body{font-family:"Helvetica Neue",Arial,"Liberation Sans","Noto Sans","Noto Sans CJK SC","Source Han Sans SC","PingFang SC",
 "Microsoft YaHei",sans-serif;margin:0;color:#222;background:#f6f6f3;line-height:1.55}
main{max-width:1180px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:1.7em;margin:0.2em 0 0.1em}h2{font-size:1.25em;margin:1.6em 0 0.4em;border-bottom:2px solid #0072B2;
 padding-bottom:4px}.sub{color:#555;margin:0 0 1em}
.summary{background:#eef5fb;border-left:5px solid #0072B2;padding:12px 18px;font-size:1.04em}
table.kpi{border-collapse:collapse;width:100%;font-size:0.9em}table.kpi th,table.kpi td{border-bottom:1px solid #ddd;
 padding:5px 8px;text-align:right;vertical-align:top}table.kpi th:first-child,table.kpi td:first-child{text-align:left}
table.kpi thead th{background:#f0f0ec;position:sticky;top:0}.d{display:block;font-size:0.86em;color:#666}
.better{color:#0072B2;font-weight:600}.worse{color:#D55E00;font-weight:600}.dir{color:#666;text-align:center!important}
.fig{margin:0.5em 0 1.5em}.cap{color:#555;font-size:0.92em;margin:0.2em 0 0.4em}
.methods{background:#f4f4f0;border:1px solid #ddd;padding:10px 18px;font-size:0.9em}
.methods dt{font-weight:600;float:left;clear:left;width:190px}.methods dd{margin:0 0 4px 200px}
code{font-size:0.92em;background:#eee;padding:0 3px}
.calib{padding:8px 16px;margin:0.6em 0 1em;font-size:0.95em}.calib p{margin:0.2em 0}
.calib.ok{background:#eef7ee;border-left:5px solid #009E73}.calib.warn{background:#fdf0e6;border-left:5px solid #D55E00}
ul.answer{background:#eef5fb;border-left:5px solid #0072B2;padding:10px 18px 10px 34px;margin:0.4em 0 1em}
ul.answer li{margin:0.3em 0}ul.caveats{font-size:0.93em;color:#444}table.rank td,table.rank th{text-align:left!important}
details.all{margin:1em 0}details.all summary{cursor:pointer;font-weight:600;color:#0072B2}
.calib-table td.src{font-size:0.82em;color:#666;text-align:left!important;max-width:420px}
@page{size:A4;margin:12mm 10mm}
@media print{body{background:#fff}main{max-width:none;padding:0}.fig{break-inside:avoid}h2,h3{break-after:avoid}
 table.kpi thead th{position:static}table.kpi tr{break-inside:avoid}ul.answer li{break-inside:avoid}}
table.ce td,table.ce th{font-size:0.92em}
html[lang=zh-CN] body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif}
"""

_T = {
    "en": {"title": "Policy brief", "answer": "The answer", "answer_note":
           "What each alternative changes against the baseline “{base}” on the indicators a county health bureau "
           "is judged by; a change is named only where its 95% interval excludes zero.", "ranked": "Ranked comparison",
           "caveats": "Keep in mind", "summary": "Indicator by indicator",
           "table": "Key indicators (county level)",
           "table_note": "Mean over replications with its 95% confidence interval (cut at what is possible: 0–100% "
                         "for shares, 0 for times, counts and costs; ‡ marks a cut end); below it, the paired "
                         "difference from the baseline and its 95% CI (blue: significantly better, vermillion: "
                         "significantly worse; ↑/↓: higher/lower is better). Fewer than {min} replications give no "
                         "interval.", "kpi": "Indicator", "dir": "Better",
           "all_kpis": "All {n} indicators, by theme", "other": "Other",
           "figures": "Figures", "methods": "Methods", "network": "Network", "horizon": "Horizon",
           "warmup": "Start-up period left out",
           "reps": "Replications", "seed": "Seed", "scenarios": "Alternatives (configuration changes)",
           "base_ovr": "Settings common to all alternatives",
           "versions": "Software versions", "hashes": "Config hashes", "wall": "Wall time", "failures": "Failed replications",
           "stats": "Statistics", "days": "days", "none": "none", "no_patient_tables":
           "Patient-level tables were not kept (run.keep_patients=false), so only the KPI figures are shown.",
           "stats_text": "Each replication simulates the same county with a different batch of patients; every "
                         "alternative sees the same batches (common random numbers), so a difference is measured "
                         "on the same patients and is paired replication by replication. The first days of each "
                         "run, while the hospitals fill up (warm-up), are left out. 95% intervals are t-intervals "
                         "over replications, shown from {min} replications on and cut at the bounds of the "
                         "quantity.", "baseline": "baseline", "source": "Study folder",
           "workbook": "Tables for Excel (summary and differences)",
           "ce": "Cost-effectiveness"},
    "zh": {"title": "政策简报", "answer": "结论", "answer_note":
           "与基线方案“{base}”相比,各方案在县卫生健康部门考核的主要指标上的变化;只有95%置信区间不含0的变化才列出数值。",
           "ranked": "方案排序", "caveats": "注意事项", "summary": "逐项指标说明",
           "table": "主要指标(县域层面)",
           "table_note": "各次模拟的均值及95%置信区间(截断在可能的范围内:比例在0–100%之间,时间、人次和费用不低于0;"
                         "‡表示该端被截断);下方为与基线的配对差值及其95%置信区间(蓝色:显著改善;橙红色:显著变差;"
                         "↑/↓:越高/越低越好)。模拟次数少于{min}次时不给出区间。", "kpi": "指标", "dir": "方向",
           "all_kpis": "全部{n}项指标(按类别)", "other": "其他",
           "figures": "图表", "methods": "方法说明", "network": "县域网络", "horizon": "模拟时长",
           "warmup": "不计入的起始阶段",
           "reps": "模拟次数", "seed": "随机数种子", "scenarios": "各方案(配置改动)", "base_ovr": "各方案共同的设置",
           "versions": "软件版本", "hashes": "配置哈希", "wall": "运行耗时", "failures": "失败的模拟", "stats": "统计方法",
           "days": "天", "none": "无", "no_patient_tables": "未保存患者级数据表(run.keep_patients=false),仅显示指标图表。",
           "stats_text": "每次模拟用一批不同的患者模拟同一个县;各方案使用同样的几批患者(即“共同随机数”),"
                         "因此差值是在同一批患者上比较,按每次模拟配对计算。每次模拟开头医院尚未住满的几天"
                         "(起始阶段)不计入指标。95%置信区间为各次模拟的t区间,至少{min}次模拟才给出,"
                         "并截断在指标可能的范围内。",
           "baseline": "基线", "source": "研究目录", "workbook": "数据表(Excel,含汇总和差值)",
           "ce": "成本效果"},
}

_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                  "toImageButtonOptions": {"format": "png", "scale": 2}}


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _scenario_columns(data: FolderData, s: pd.DataFrame) -> list[str]:
    scen = [x for x in data.scenarios if x in set(s["scenario"].astype(str))] or \
        list(dict.fromkeys(s["scenario"].astype(str)))
    if data.baseline in scen:
        scen = [data.baseline] + [x for x in scen if x != data.baseline]
    return scen


def _kpi_cell(m: str, x: str, s: pd.DataFrame, d: pd.DataFrame, baseline: str, language: str) -> str:
    """One cell: the level with its bounded 95% CI, then the paired difference from the baseline."""
    r = numbers.row(s, x, m)
    if r is None:
        return "<td>–</td>"
    n = r["n"] if "n" in r else numbers.MIN_REPLICATIONS
    lvl = numbers.level(m, r["mean"], language)
    cell = _e(lvl)
    if pd.notna(r["mean"]):
        cell += f"<span class='d'>({_e(numbers.level_interval(m, r['ci_low'], r['ci_high'], n, language))})</span>"
    if len(d) and x != baseline:
        dr = numbers.row(d, x, m)
        if dr is not None and pd.notna(dr["mean_diff"]):
            dd = numbers.difference(m, dr["mean_diff"], dr["ci_low"], dr["ci_high"],
                                    dr["n"] if "n" in dr else numbers.MIN_REPLICATIONS, language)
            cls = dd.verdict if dd.verdict in ("better", "worse") else ""
            ci = f" [{_e(dd.interval)}]" if dd.interval else ""
            cell += f"<span class='d {cls}'>{'' if dd.zero else 'Δ '}{_e(dd.value)}{ci}</span>"
    return f"<td>{cell}</td>"


def _kpi_rows(data: FolderData, metrics: Sequence[str], language: str, group: str = "county") -> str:
    """A KPI table of ``metrics`` (HTML), one column per scenario, the baseline first."""
    T = _T[language]
    s = data.summary
    s = s[s["group"].astype(str) == group]
    d = data.differences
    d = d[d["group"].astype(str) == group] if len(d) else d
    scen = _scenario_columns(data, s)
    def th(x: str) -> str:
        name = data.label(x, language)
        tag = x == data.baseline and len(scen) > 1 and T["baseline"].lower() not in name.lower()
        return f"<th>{_e(name)}{' (' + T['baseline'] + ')' if tag else ''}</th>"

    head = "".join(th(x) for x in scen)
    rows = [f"<thead><tr><th>{T['kpi']}</th><th class='dir'>{T['dir']}</th>{head}</tr></thead><tbody>"]
    for m in metrics:
        b = registry.better(m)
        cells = "".join(_kpi_cell(m, x, s, d, data.baseline, language) for x in scen)
        arrow = "↑" if b > 0 else "↓" if b < 0 else ""
        rows.append(f"<tr data-metric='{_e(m)}'><td>{_e(kpi_label(m, language))}</td><td class='dir'>{arrow}</td>"
                    f"{cells}</tr>")
    return f"<table class='kpi'>{''.join(rows)}</tbody></table>"


def _kpi_table(data: FolderData, language: str, group: str = "county") -> str:
    """The headline indicators (shown), then every indicator grouped by theme (collapsed)."""
    T = _T[language]
    s = data.summary
    if not len(s):
        return ""
    present = list(dict.fromkeys(s.loc[s["group"].astype(str) == group, "metric"]))
    head = [m for m in plots.HEADLINE_KPIS if m in present]
    out = [f"<h2>{T['table']}</h2><p class='cap'>{_e(T['table_note'].format(min=numbers.MIN_REPLICATIONS))}</p>"]
    if head:
        out.append(_kpi_rows(data, head, language, group))
    themes: dict[str, list[str]] = {}
    for m in present:
        k = registry.REGISTRY.get(m)
        themes.setdefault(k.theme if k is not None else "", []).append(m)
    order = [t for t in registry.THEMES if t in themes] + [t for t in themes if t not in registry.THEMES]
    parts = []
    for t in order:
        name = registry.THEMES[t][1 if language == "zh" else 0] if t in registry.THEMES else T["other"]
        parts.append(f"<h3>{_e(name)}</h3>" + _kpi_rows(data, themes[t], language, group))
    out.append(f"<details class='all'><summary>{_e(T['all_kpis'].format(n=len(present)))}</summary>"
               f"{''.join(parts)}</details>")
    return "".join(out)


def _methods(data: FolderData, language: str) -> str:
    T = _T[language]
    cfg_run = data.config.get("run") or {}
    net = data.config.get("network") or {}
    meta = data.meta
    reps = meta.get("replications") or cfg_run.get("replications")
    if isinstance(reps, list):
        reps = len(reps)
    items = [(T["source"], f"<code>{_e(data.folder.name)}</code>"),
             (T["workbook"], f"<a href='{workbook.FILENAME}'><code>{workbook.FILENAME}</code></a>"),
             (T["network"], f"<code>{_e(net.get('name', '?'))}</code>" + (_e(f" — {net.get('description')}")
                                                                          if net.get("description") and language == "en"
                                                                          else "")),
             (T["horizon"], _e(f"{_num(cfg_run.get('horizon_days'))} {T['days']}")),
             (T["warmup"], _e(f"{_num(cfg_run.get('warmup_days'))} {T['days']}")),
             (T["reps"], _e(_num(reps))), (T["seed"], _e(meta.get("seed", cfg_run.get("seed", "?"))))]
    if data.kind == "study":
        if data.base_overrides:
            items.append((T["base_ovr"], " ".join(f"<code>{_e(o)}</code>" for o in data.base_overrides)))
        items.append((T["scenarios"], "<br>".join(
            f"<b>{_e(data.label(s, language))}</b> (<code>{_e(s)}</code>): "
            + (" ".join(f"<code>{_e(o)}</code>" for o in data.overrides.get(s, [])) or T["none"])
            for s in data.scenarios)))
    items.append((T["stats"], _e(T["stats_text"].format(min=numbers.MIN_REPLICATIONS))))
    vers = dict(meta.get("versions") or {})
    try:
        import plotly

        vers.setdefault("plotly", plotly.__version__)
    except ImportError:  # pragma: no cover
        pass
    items.append((T["versions"], f"<code>{_e(', '.join(f'{k} {v}' for k, v in vers.items()))}</code>"))
    hashes = meta.get("config_hashes") or ({data.name: meta["config_hash"]} if meta.get("config_hash") else {})
    if hashes:
        items.append((T["hashes"], f"<code>{_e(', '.join(f'{k}: {v}' for k, v in hashes.items()))}</code>"))
    if meta.get("wall_s") is not None:
        items.append((T["wall"], _e(f"{float(meta['wall_s']):.1f} {'秒' if language == 'zh' else 's'}")))
    fails = meta.get("failures") or []
    items.append((T["failures"], "; ".join(f"<code>{_e(f.get('scenario'))} r{_e(f.get('replication'))}: "
                                           f"{_e(f.get('error'))}</code>" for f in fails) or _e(T["none"])))
    return "<dl class='methods'>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def _population(data: FolderData) -> float:
    t = data.runs.get(data.baseline) or {}
    v = t.get("villages")
    return float(v["population"].sum()) if v is not None and "population" in v.columns else math.nan


def _post_warmup_days(data: FolderData) -> float:
    cfg_run = data.config.get("run") or {}
    return float(cfg_run.get("horizon_days") or math.nan) - float(cfg_run.get("warmup_days") or 0.0)


def cost_effectiveness(data: FolderData) -> list[cost_effect.Row]:
    """The cost-effectiveness rows of a study (none for a single run)."""
    if data.kind != "study" or not len(data.differences) or len(data.scenarios) < 2:
        return []
    return cost_effect.rows(data.summary, data.differences, data.baseline, data.scenarios,
                            population=_population(data), post_warmup_days=_post_warmup_days(data))


def _cost_effect_section(data: FolderData, language: str) -> str:
    rows = cost_effectiveness(data)
    if not rows:
        return ""
    labels = {x: data.label(x, language) for x in data.scenarios}
    return (f"<section class='ce'><h2>{_T[language]['ce']}</h2>"
            f"{cost_effect.render(rows, labels, language)}</section>")


def first_screen(data: FolderData, language: str = "en") -> str:
    """The answer (HTML): a line per alternative, the ranked comparison and the caveats
    (:mod:`sim.report.answer`); for a single run, the caveats only."""
    T = _T[language]
    cfg_run = data.config.get("run") or {}
    reps = data.meta.get("replications") or cfg_run.get("replications")
    if isinstance(reps, list):
        reps = len(reps)
    cav = answer.caveats(data.config, reps, data.overrides, data.baseline, language)
    others = [x for x in data.scenarios if x != data.baseline]
    if data.kind != "study" or not others or not len(data.differences):
        return (f"<h2>{T['caveats']}</h2><ul class='caveats'>" + "".join(f"<li>{_e(c)}</li>" for c in cav)
                + "</ul>")
    ass = answer.assess(data.summary, data.differences, data.baseline, data.scenarios,
                        population=_population(data), post_warmup_days=_post_warmup_days(data))
    labels = {x: data.label(x, language) for x in data.scenarios}
    html_ = answer.render(ass, labels, cav, language)
    lines, rest = html_.split("</ul>", 1)
    table, cavs = rest.split("<ul class='caveats'>", 1)
    return (f"<section class='first'><h2>{T['answer']}</h2>"
            f"<p class='cap'>{_e(T['answer_note'].format(base=labels[data.baseline]))}</p>{lines}</ul>"
            f"<h3>{T['ranked']}</h3>{table}<h3>{T['caveats']}</h3><ul class='caveats'>{cavs}</section>")


def render_brief(data: FolderData, language: str = "en",
                 figures: list[tuple[str, str, str, go.Figure]] | None = None) -> str:
    """The brief as one self-contained HTML string."""
    from plotly.offline import get_plotlyjs

    plots._lang(language)
    T = _T[language]
    figures = brief_figures(data, language) if figures is None else figures
    parts = []
    for key, heading, caption, fig in figures:
        div = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{key}", config=_PLOTLY_CONFIG,
                          default_width="100%")
        parts.append(f"<section class='fig'><h3>{_e(heading)}</h3><p class='cap'>{_e(caption)}</p>{div}</section>")
    no_tables = not any(_has_table(data, s, "patients") for s in data.runs)
    name = data.titles.get(language) or data.name
    net = str((data.config.get("network") or {}).get("name") or "")
    study_net = next((o.split("=", 1)[1] for o in data.base_overrides if o.startswith("network=")), "")
    if data.titles.get(language) and net and study_net and net != study_net:
        # the study's title names its county; the command line ran it on another network
        name += f"(在{net}县域网络上运行)" if language == "zh" else f" (run on the {net} network)"
    title = f"{T['title']}:{name}" if language == "zh" else f"{T['title']}: {name}"
    body = [f"<h1>{_e(title)}</h1>"]
    desc = data.descriptions.get(language, data.description if language == "en" else "") if data.descriptions \
        else (data.description if language == "en" else "")
    if desc:
        body.append(f"<p class='sub'>{_e(desc)}</p>")
    # first screen: is this county's baseline calibrated, and how well (a warning if not)
    body.append(calibration_note.first_screen(data.config, language))
    body.append(first_screen(data, language))
    body.append(_cost_effect_section(data, language))
    body.append(f"<details class='all'><summary>{T['summary']}</summary><div class='summary'>"
                f"<p>{_e(summary_paragraph(data, language))}</p></div></details>")
    table = _kpi_table(data, language)
    if table:
        body.append(table)
    body.append(f"<h2>{T['figures']}</h2>")
    if no_tables:
        body.append(f"<p class='cap'>{_e(T['no_patient_tables'])}</p>")
    body.extend(parts)
    body.append(calibration_note.section(data.config, language))
    body.append(f"<h2>{T['methods']}</h2>{_methods(data, language)}")
    lang_attr = "zh-CN" if language == "zh" else "en"
    return (f"<!DOCTYPE html>\n<html lang='{lang_attr}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_e(title)}</title><style>{_CSS}</style>"
            f"<script type='text/javascript'>{get_plotlyjs()}</script></head>"
            f"<body><main>{''.join(body)}</main></body></html>\n")


def export_figures(figures: list[tuple[str, str, str, go.Figure]], folder: Path, fmt: str, language: str) -> list[Path]:
    """Write every figure to ``folder/figures/<key>[.zh].<fmt>`` with kaleido."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"export must be png or svg, got {fmt!r}")
    try:
        import kaleido  # noqa: F401
    except ImportError:
        raise BriefExportError(f"cannot export {fmt}: the kaleido package is not installed; {EXPORT_FIX}") from None
    chromium = exports.chromium_path()
    if chromium and not os.environ.get("BROWSER_PATH"):
        os.environ["BROWSER_PATH"] = chromium  # kaleido drives the system Chromium (offline), not a download
    out_dir = folder / "figures"
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = ".zh" if language == "zh" else ""
    paths = [out_dir / f"{key}{suffix}.{fmt}" for key, _, _, _ in figures]
    if not paths:
        return paths
    import plotly.io as pio

    figs = [fig for _, _, _, fig in figures]
    heights = [int(fig.layout.height or 500) for fig in figs]
    last: Exception | None = None
    for _attempt in range(2):  # one browser for all the figures; a flaky start is retried once
        for path in paths:
            path.unlink(missing_ok=True)
        try:
            pio.write_images(figs, paths, format=fmt, width=1100, height=heights, scale=2 if fmt == "png" else 1)
        except Exception as exc:  # kaleido raises its own types when Chrome is missing or fails
            last = exc
            continue
        missing = [path.name for path in paths if not path.exists() or path.stat().st_size == 0]
        if not missing:
            return paths
        last = RuntimeError(f"kaleido wrote no {', '.join(missing)}")
    assert last is not None
    first = str(last).splitlines()[0][:200] if str(last) else ""
    raise BriefExportError(f"cannot export {fmt} ({type(last).__name__}: {first}); {EXPORT_FIX}") from last


def write_brief(folder: str | Path, language: str | Sequence[str] | None = None,
                export: str | Sequence[str] | None = None) -> Path:
    """Write the brief of a study or run folder; returns the path of the (first) HTML file.

    ``language``: ``"en"`` (``brief.html``), ``"zh"`` (``brief.zh.html``), or ``None`` for both.
    ``export``: ``"pdf"``, ``"png"``, ``"svg"``, a comma list or list of them, ``"auto"`` (all
    this machine can make, skipping the rest with a warning) or ``"none"``; ``None`` reads
    ``$SIM_BRIEF_EXPORT`` (unset: none).  Raises :class:`BriefExportError` (after the HTML is
    written) where a requested export cannot run.
    """
    folder = Path(folder)
    langs = list(plots.LANGUAGES) if language is None else [language] if isinstance(language, str) else list(language)
    for lang in langs:
        plots._lang(lang)
    try:
        formats, auto = export_formats(export)
    except ValueError as exc:
        if export is not None:
            raise
        print(f"warning: {exc}; no export", file=sys.stderr)
        formats, auto = [], False
    data = load_folder(folder)
    written: list[Path] = []
    figs_by_lang = {}
    for lang in langs:
        figs = brief_figures(data, lang)
        figs_by_lang[lang] = figs
        path = folder / FILENAMES[lang]
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(render_brief(data, lang, figs), encoding="utf-8")
        os.replace(tmp, path)
        written.append(path)
    if len(data.summary):
        workbook.write_workbook(folder, data.summary, data.differences, data.labels, cost_effectiveness(data))
    for fmt in formats:
        try:
            for lang in langs:
                if fmt == "pdf":
                    exports.write_pdf(folder / FILENAMES[lang], folder / exports.PDF_NAMES[lang])
                else:
                    export_figures(figs_by_lang[lang], folder, fmt, lang)
        except BriefExportError as exc:
            if not auto:
                raise
            print(f"warning: {exc}", file=sys.stderr)
    return written[0]


def export_formats(value: str | Sequence[str] | None) -> tuple[list[str], bool]:
    """:func:`sim.report.exports.parse_formats` (``None``: ``$SIM_BRIEF_EXPORT``)."""
    return exports.parse_formats(value)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.report.brief", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", help="a study folder (with study.yaml) or a run folder (with kpis.parquet)")
    ap.add_argument("--language", choices=plots.LANGUAGES, default=None,
                    help="en writes brief.html, zh writes brief.zh.html (default: both)")
    ap.add_argument("--export", default="none", metavar="pdf,png,svg|auto",
                    help="also write brief.pdf (Chromium) and/or every figure as png/svg (kaleido + Chromium); "
                         "auto: all this machine can make (default: none, whatever $SIM_BRIEF_EXPORT says)")
    args = ap.parse_args(argv)
    try:
        formats, _ = export_formats(args.export)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        langs = [args.language] if args.language else list(plots.LANGUAGES)
        write_brief(args.folder, args.language, export=args.export)
        folder = Path(args.folder)
        for lang in langs:
            print(f"brief: {folder / FILENAMES[lang]}")
            if "pdf" in formats and (folder / exports.PDF_NAMES[lang]).exists():
                print(f"pdf: {folder / exports.PDF_NAMES[lang]}")
        for fmt in (f for f in formats if f != "pdf"):
            n = len(list((folder / "figures").glob(f"*.{fmt}"))) if (folder / "figures").exists() else 0
            print(f"figures: {n} {fmt} files in {folder / 'figures'}")
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BriefExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
