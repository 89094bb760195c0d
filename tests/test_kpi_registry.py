"""The KPI registry (sim/analysis/registry.py): every KPI the model computes is declared, and every
declared KPI is computed; declarations are complete; shares lie in [0, 1]; the old name
tables are views of the registry; values are formatted in their unit (a share is never shown
in minutes); the registry imports nothing heavy; docs/kpis.md is generated from it."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis import registry as kpi_registry
from sim.analysis.paired import PAIRED_KPIS
from sim.analysis.registry import REGISTRY, THEMES, UNITS, format_value, is_share, label, unit_label
from sim.config import MODALITIES
from sim.report import brief, plots
from tests.conftest import compose

ROOT = Path(__file__).resolve().parent.parent

#: configurations that between them compute every KPI: the levers (expert visits, remote
#: diagnosis, remote consults, tele-ECG), the emergency pathways (120 calls, STEMI, stroke)
#: and restructuring (closures, running cost, capital saved).
CONFIGS = {
    "toy": ("network=toy", "run=test"),
    "toy_levers": ("network=toy", "run=test", "levers=combined_weekly_full"),
    "taobei_closures": ("network=taobei", "run=test", "restructure=taobei_close_two_smallest",
                        "run.horizon_days=3", "run.warmup_days=1"),
}

#: KPIs declared but computed only under configurations too slow for the tests: none.
#: computed at study level, scenario against baseline (sim.experiment.study._paired_kpis; tested
#: in tests/test_realistic_county.py), not by sim.analysis.kpis.kpis
NOT_COVERED: frozenset[str] = frozenset(PAIRED_KPIS)


@pytest.fixture(scope="module")
def runs() -> dict[str, sim.RunResult]:
    return {name: sim.run(compose(*ov), jobs=1) for name, ov in CONFIGS.items()}


@pytest.fixture(scope="module")
def all_kpis(runs) -> pd.DataFrame:
    return pd.concat([r.kpis for r in runs.values()], ignore_index=True)


# --------------------------------------------------------------------------------------------
# declared <-> computed


def test_every_computed_kpi_is_declared_and_every_declared_kpi_is_computed(all_kpis):
    computed = set(all_kpis["metric"])
    assert computed - set(REGISTRY) == set(), "computed by sim.analysis.kpis.kpis but not declared in sim/analysis/registry.py"
    assert set(REGISTRY) - computed - NOT_COVERED == set(), "declared but computed by none of the test configurations"


def _group_kind(group: str, r: sim.RunResult) -> str:
    if group == "county":
        return "county"
    if re.fullmatch(r"tier\d", group):
        return "tier"
    if group in set(r.sites["site"].astype(str)):
        return "site"
    if group in set(r.villages["village"].astype(str)):
        return "village"
    if group in set(r.conditions["specialty"].astype(str)):
        return "specialty"
    if group in MODALITIES:
        return "modality"
    if group.startswith("condition:") and group.split(":", 1)[1] in set(r.conditions.index.astype(str)):
        return "condition"
    if group in kpi_registry.COMPONENTS:
        return "component"
    raise AssertionError(f"group {group!r} is of no known kind")


def test_groups_are_the_declared_kinds(runs):
    seen: dict[str, set[str]] = {}
    for r in runs.values():
        for metric, group in r.kpis[["metric", "group"]].drop_duplicates().itertuples(index=False):
            seen.setdefault(metric, set()).add(_group_kind(str(group), r))
    for metric, kinds in seen.items():
        assert kinds == set(REGISTRY[metric].groups), (metric, kinds, REGISTRY[metric].groups)


def test_shares_lie_in_the_unit_interval(all_kpis):
    for metric in sorted(kpi_registry.shares()):
        v = all_kpis.loc[all_kpis["metric"] == metric, "value"].dropna()
        assert ((v >= 0) & (v <= 1)).all(), (metric, v.min(), v.max())


def test_units_follow_the_computation_not_only_the_name(all_kpis):
    for k in REGISTRY.values():
        if k.id.endswith(("_share", "_rate", "_utilisation")):
            assert is_share(k.id), k.id
        if k.id.endswith("_min") and not k.id.startswith(("share_", "emergency_share_")):
            assert k.unit == "minutes", k.id
        if is_share(k.id):
            assert "/" in k.definition, f"{k.id}: a share's definition names its numerator / denominator"
    # the KPIs named ..._min that are shares (the brief used to print them in minutes)
    for m in ("share_beyond_30_min", "share_beyond_60_min", "emergency_share_beyond_30_min",
              "emergency_share_beyond_60_min"):
        assert is_share(m)
    # counts are whole numbers in every run
    for k in REGISTRY.values():
        if k.unit == "count":
            v = all_kpis.loc[all_kpis["metric"] == k.id, "value"].dropna().to_numpy()
            assert np.all(v == np.round(v)) and np.all(v >= 0), k.id


# --------------------------------------------------------------------------------------------
# the declarations


def test_every_declaration_is_complete():
    # the official indicators (2024) head the list; county_retention and grassroots_share are the model's own
    assert list(kpi_registry.headline()) == ["inpatient_retention", "grassroots_visit_share_official",
                                             "outward_transfer_rate",
                                             "left_untreated_share", "wait_mean_min", "travel_mean_min",
                                             "oop_per_episode", "stemi_within_120_share"]
    for kid, k in REGISTRY.items():
        assert kid == k.id and re.fullmatch(r"[a-z][a-z0-9_]*", kid)
        for f in ("zh", "en", "definition", "source"):
            assert getattr(k, f).strip(), (kid, f)
        assert k.unit in UNITS and k.theme in THEMES and k.better in (-1, 0, 1), kid
        assert re.search(r"[\u4e00-\u9fff]", k.zh), f"{kid}: the Chinese name has no Chinese"
        # Chinese names carry no English words (figures in Chinese allow only STEMI), and no
        # name repeats a unit that label() adds
        assert set(re.findall(r"[A-Za-z]{2,}", k.zh)) <= {"STEMI"}, kid
        assert not re.search(r"[(（](min|CNY|%|分钟|元|小时|h)[)）]$", k.zh + k.en), kid
        assert k.definition.endswith("."), f"{kid}: the definition is one sentence"
        assert len(k.en) <= 48, kid


def test_old_tables_are_views_of_the_registry():
    from calibration.spec import RATE_METRICS
    from sim.analysis import kpis as metrics

    assert metrics.KPI_ZH == {k: v.zh for k, v in REGISTRY.items()}
    assert metrics.KPI_BETTER == {k: v.better for k, v in REGISTRY.items()}
    assert plots.KPI_EN == {k: v.en for k, v in REGISTRY.items()}
    assert plots.PERCENT_KPIS == {k for k, v in REGISTRY.items() if v.unit == "share"}
    assert plots.HEADLINE_KPIS == kpi_registry.headline()
    assert sim.KPI_ZH is metrics.KPI_ZH and sim.KPI_BETTER is metrics.KPI_BETTER and sim.KPI_REGISTRY is REGISTRY
    assert RATE_METRICS == set(kpi_registry.shares())
    # no module keeps a hand-written copy of KPI names
    for path in [*(ROOT / "sim").rglob("*.py"), *(ROOT / "calibration").rglob("*.py")]:
        if path.relative_to(ROOT).as_posix() == "sim/analysis/registry.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"[\"']county_retention[\"']\s*:\s*[\"'0-9+-]", text), path


def test_unknown_kpi_in_calibration_targets_names_the_registry(tmp_path):
    from calibration.spec import CalibrationError, load_targets

    p = tmp_path / "targets.yaml"
    p.write_text("targets:\n  t:\n    kpi: {metric: no_such_kpi}\n    value: 1\n    tolerance: 1\n    source: x\n")
    with pytest.raises(CalibrationError, match=r"unknown KPI 'no_such_kpi' .*docs/kpis.md"):
        load_targets(p)
    # a share added to the registry is a rate for the calibration too
    p.write_text("targets:\n  t:\n    kpi: {metric: fmc_to_ecg_within_10_share}\n    value: 80\n    tolerance: 1\n"
                 "    source: x\n")
    with pytest.raises(CalibrationError, match=r"rate and must be in \[0, 1\].*write 0.8"):
        load_targets(p)


# --------------------------------------------------------------------------------------------
# labels and formatting


def test_labels_add_the_unit():
    assert label("county_retention") == "County retention rate, by episode (%)"
    assert label("county_retention", "zh") == "县域内就诊率(按病例)(%)"
    assert label("inpatient_retention", "zh") == "参保人县域内住院人次占比(%)"
    assert label("wait_mean_min", "zh") == "平均候诊时间(分钟)"
    assert label("oop_per_episode") == "Out-of-pocket cost per episode (CNY)"
    assert label("running_cost_per_year", "zh") == "运行成本(元/年)"
    assert label("episodes") == "Episodes of care" and label("visits_per_person_year", "zh") == "人均年就诊人次"
    assert label("wait_mean_min", unit=False) == "Mean waiting time"
    assert label("no_such_kpi", "zh") == "no_such_kpi"
    assert unit_label("share_beyond_30_min") == "%" and unit_label("expert_hours_on_site", "zh") == "小时"
    with pytest.raises(ValueError, match="language"):
        label("county_retention", "fr")


@pytest.mark.parametrize(("kpi", "value", "en", "zh"), [
    ("share_beyond_30_min", 0.092, "9.2%", "9.2%"),
    ("county_retention", 0.9512, "95.1%", "95.1%"),
    ("outward_transfer_rate", 0.00035, "0.035%", "0.035%"),
    ("wait_mean_min", 12.345, "12.3 min", "12.3分钟"),
    ("expert_hours_on_site", 28.0, "28.0 h", "28.0小时"),
    ("deferred_extra_wait_days_mean", 2.5, "2.5 days", "2.5天"),
    ("episodes", 16353.0, "16,353", "16,353"),
    ("up_referrals", 130.5, "130", "130"),           # counts: no decimals (round half to even)
    ("oop_per_episode", 70.24, "CNY 70.2", "70.2元"),
    ("oop_per_admission", 12345.0, "CNY 12,345", "12,345元"),
    ("capital_saved", 125_000.0, "CNY 125,000", "12.5万元"),
    ("capital_saved", 6_000_000.0, "CNY 6.0 M", "600万元"),
    ("capital_saved", 68_000_000.0, "CNY 68.0 M", "6,800万元"),
    ("capital_saved", 680_000_000.0, "CNY 680.0 M", "6.8亿元"),
    ("running_cost_per_year", 10_800_000.0, "CNY 10.8 M/yr", "1,080万元/年"),
    ("visits_per_person_year", 6.19, "6.2", "6.2"),
    ("admissions_per_person_year", 0.1433, "0.14", "0.14"),
    ("no_such_kpi", 3.14159, "3.1", "3.1"),
])
def test_format_value(kpi, value, en, zh):
    assert format_value(kpi, value) == en
    assert format_value(kpi, value, "zh") == zh


def test_format_differences_and_missing_values():
    assert format_value("county_retention", 0.011, diff=True, sign=True) == "+1.1 pp"
    assert format_value("county_retention", -0.011, "zh", diff=True, sign=True) == "−1.1个百分点"
    assert format_value("wait_mean_min", -0.5, "zh", diff=True, sign=True, digits=2) == "−0.50分钟"
    assert format_value("up_referrals", 2.5, diff=True, sign=True) == "+2.5", "a difference of counts keeps decimals"
    assert format_value("capital_saved", -2_400_000.0, "zh", diff=True, sign=True) == "−240万元"
    for missing in (float("nan"), None, np.nan):
        assert format_value("county_retention", missing) == "–"
        assert format_value("capital_saved", missing, "zh") == "–"


def test_a_share_is_never_shown_in_minutes():
    for k in REGISTRY.values():
        for lang in ("en", "zh"):
            text = format_value(k.id, 0.092, lang) + format_value(k.id, 0.011, lang, diff=True, sign=True)
            if k.unit == "share":
                assert "%" in text and ("pp" in text or "百分点" in text), (k.id, text)
                assert "min" not in text and "分钟" not in text, (k.id, text)
            elif k.unit == "minutes":
                assert ("min" if lang == "en" else "分钟") in text, (k.id, text)


def _summary(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["scenario", "metric", "group", "n", "mean", "sd", "ci_low", "ci_high"])


def test_brief_shows_shares_in_percent_not_minutes(tmp_path):
    """The bug this registry fixes: "share_beyond_30_min 0.092 min" / "0.092分钟"."""
    summary = _summary([("baseline", "share_beyond_30_min", "county", 3, 0.092, 0.01, 0.08, 0.10),
                        ("closures", "share_beyond_30_min", "county", 3, 0.150, 0.01, 0.14, 0.16),
                        ("baseline", "capital_saved", "county", 3, 0.0, 0.0, 0.0, 0.0),
                        ("closures", "capital_saved", "county", 3, 68e6, 0.0, 68e6, 68e6)])
    diffs = pd.DataFrame([("closures", "baseline", "share_beyond_30_min", "county", 3, 0.058, 0.05, 0.066, 0.008, 0.02),
                          ("closures", "baseline", "capital_saved", "county", 3, 68e6, 68e6, 68e6, 0.0, 0.0)],
                         columns=["scenario", "baseline", "metric", "group", "n", "mean_diff", "ci_low", "ci_high",
                                  "paired_half_width", "unpaired_half_width"])
    en = brief.summary_sentences(summary, diffs, "baseline", metrics=["share_beyond_30_min"])[0]
    zh = brief.summary_sentences(summary, diffs, "baseline", metrics=["share_beyond_30_min"], language="zh")[0]
    assert "9.2%" in en and "+5.80 pp" in en and "0.092" not in en
    assert "9.2%" in zh and "+5.80个百分点" in zh and "分钟比例(" in zh and "0.092" not in zh
    data = brief.FolderData(folder=tmp_path, kind="study", name="s", description="", baseline="baseline",
                            scenarios=["baseline", "closures"], overrides={}, base_overrides=[], summary=summary,
                            differences=diffs, meta={}, config={})
    for lang, money in (("en", "CNY 68.0 M"), ("zh", "6,800万元")):
        table = brief._kpi_table(data, lang)
        assert "9.2%" in table and "15.0%" in table and money in table
        assert not re.search(r"0\.09\d*\s*(min|分钟)", table)


def test_cli_tables_print_both_names_and_units(toy_result):
    from sim.__main__ import format_comparison, format_kpis

    text = format_kpis(toy_result.summary)
    row = next(line for line in text.splitlines() if line.startswith("county_retention "))
    assert "County retention rate" in row and "县域内就诊率" in row and "%" in row and "min" not in row
    wait = next(line for line in text.splitlines() if line.startswith("wait_mean_min "))
    assert "Mean waiting time" in wait and "平均候诊时间" in wait and " min" in wait
    share = next(line for line in text.splitlines() if line.startswith("share_beyond_30_min "))
    assert "%" in share.split("首诊出行超30分钟比例")[1] and " min" not in share.split("away")[1]
    s = pd.concat([toy_result.summary, toy_result.summary.assign(scenario="alt")], ignore_index=True)
    m = toy_result.summary[toy_result.summary["group"] == "county"]
    d = pd.DataFrame({"scenario": "alt", "baseline": "baseline", "metric": m["metric"], "group": "county", "n": 2,
                      "mean_diff": 0.01, "ci_low": 0.005, "ci_high": 0.015})
    study = types.SimpleNamespace(summary=s, differences=d, runs={"baseline": None, "alt": None}, baseline="baseline")
    text = format_comparison(study)
    row = next(line for line in text.splitlines() if line.startswith("county_retention "))
    assert "县域内就诊率" in row and "+1.0 pp*" in row
    row = next(line for line in text.splitlines() if line.startswith("wait_mean_min "))
    assert "+0.010 min*" in row


# --------------------------------------------------------------------------------------------
# a light module; generated docs


def test_registry_imports_only_the_standard_library():
    """``import sim.analysis.registry`` runs ``sim/__init__``, which imports the model (and SimPy)
    today; so the module file is loaded on its own, and its imports are checked statically."""
    tree = ast.parse((ROOT / "sim" / "analysis" / "registry.py").read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
    code = ("import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('kpi_registry', {str(ROOT / 'sim' / 'analysis' / 'registry.py')!r})\n"
            "m = importlib.util.module_from_spec(spec); sys.modules['kpi_registry'] = m; spec.loader.exec_module(m)\n"
            "assert len(m.REGISTRY) > 60 and m.format_value('share_beyond_30_min', 0.092) == '9.2%'\n"
            "heavy = [x for x in ('simpy', 'sim', 'pandas', 'numpy', 'plotly') if x in sys.modules]\n"
            "assert not heavy, heavy\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr


def test_kpi_docs_are_up_to_date():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "kpi_docs.py"), "--check"], capture_output=True,
                         text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr + "\n(run: python scripts/kpi_docs.py)"
    doc = (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
    for k in REGISTRY.values():
        assert f"`{k.id}`" in doc and k.zh in doc
    assert "kpis.md" in (ROOT / "docs" / "model.md").read_text(encoding="utf-8")


def test_kpi_docs_check_fails_when_stale(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import kpi_docs
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    stale = tmp_path / "kpis.md"
    stale.write_text("# KPI reference\n(old)\n", encoding="utf-8")
    monkeypatch.setattr(kpi_docs, "DOCS", stale)
    monkeypatch.setattr(kpi_docs, "ROOT", tmp_path)
    assert kpi_docs.main(["--check"]) == 1
    assert kpi_docs.main([]) == 0 and kpi_docs.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
