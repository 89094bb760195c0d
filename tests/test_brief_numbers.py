"""The brief's numbers and first screen (issue 16): every number in the KPI's unit and in
either language, intervals inside what is possible and only from enough replications, no
significance where the interval covers zero, no "-0.000"; the first screen has one line per
alternative whose every number traces back to the study's tables; the Chinese brief has no
English sentence and the English brief no Chinese; study labels are validated.

One tiny real study (toy county, 3 replications of a week, a baseline and two alternatives)
is run once for the module; everything else is hand-made tables."""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.analysis import registry
from sim.report import answer, brief, numbers

TINY = {
    "name": "tiny", "description": "Toy county: remote reading and expert visits against the baseline",
    "baseline": "baseline", "base_overrides": ["network=toy"],
    "scenarios": {"baseline": [], "remote": ["levers=remote_full"], "experts": ["levers=expert_weekly"]},
    "title_zh": "测试县远程诊断与专家下沉", "title_en": "Test county: remote diagnosis and expert visits",
    "description_zh": "测试用小县:远程阅片、专家下沉与现状比较",
    "label_zh": {"baseline": "现状", "remote": "远程诊断", "experts": "专家下沉"},
    "label_en": {"baseline": "Current situation", "remote": "Remote diagnosis", "experts": "Expert visits"},
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """The tiny study folder, with both briefs written (about 10 s of CPU)."""
    from sim.experiment.study import run_study

    root = tmp_path_factory.mktemp("tiny")
    spec = root / "tiny.yaml"
    spec.write_text(yaml.safe_dump(TINY, allow_unicode=True, sort_keys=False), encoding="utf-8")
    res = run_study(str(spec), ["run=test", "run.replications=3", "run.horizon_days=5", f"run.output_dir={root}"], jobs=1,
                    progress=False)
    return res.folder


def _page(folder: Path, language: str) -> str:
    return (folder / brief.FILENAMES[language]).read_text(encoding="utf-8")


def visible_text(page: str) -> str:
    """What a reader sees: no scripts, styles, code spans, citations (a source stays in the
    language it was published in) or tags."""
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    page = re.sub(r"<cite>.*?</cite>", " ", page, flags=re.S)
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"<code>.*?</code>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def first_screen(page: str) -> str:
    m = re.search(r"<section class='first'>.*?</section>", page, flags=re.S)
    assert m, "the brief has a first screen"
    return m.group(0)


# --------------------------------------------------------------------------------------------
# formatting per unit


@pytest.mark.parametrize(("metric", "value", "en", "zh"), [
    ("share_beyond_30_min", 0.092, "9.2%", "9.2%"),
    ("wait_mean_min", 12.345, "12.3 min", "12.3分钟"),
    ("oop_per_episode", 70.24, "CNY 70.2", "70.2元"),
    ("oop_per_admission", 125_000, "CNY 125,000", "12.5万元"),
    ("running_cost_per_year", 68_000_000, "CNY 68.0 M/yr", "6,800万元/年"),
    ("running_cost_per_year", 680_000_000, "CNY 680.0 M/yr", "6.8亿元/年"),
    ("episodes", 16353.0, "16,353", "16,353"),
    ("door_to_balloon_median_min", math.nan, "no cases", "无病例"),
])
def test_a_level_is_written_in_its_unit(metric, value, en, zh):
    assert numbers.level(metric, value, "en") == en
    assert numbers.level(metric, value, "zh") == zh


def test_a_difference_is_written_to_its_precision_and_never_as_minus_zero():
    d = numbers.difference("inpatient_retention", 0.044, -0.021, 0.109, 3)
    assert (d.value, d.interval, d.verdict) == ("+4.4 pp", "−2.1 pp to +10.9 pp", "none")
    assert numbers.difference("inpatient_retention", 0.044, -0.021, 0.109, 3, "zh").interval == \
        "−2.1个百分点至+10.9个百分点"
    # numerical noise around zero is no difference, in both languages
    for lang in ("en", "zh"):
        z = numbers.difference("self_referral_out_of_county_rate", -1e-18, -2e-18, 1e-18, 3, lang)
        assert z.zero and z.value == numbers.text("no_difference", lang) and z.verdict == "none"
    # the registry never writes a signed zero
    assert registry.format_value("wait_mean_min", -1e-9, diff=True, sign=True, digits=3) == "0.000 min"
    assert registry.format_value("county_retention", 0.0, diff=True, sign=True) == "0.0 pp"
    # yuan differences in 万元 in Chinese
    assert numbers.difference("running_cost_per_year", 1.9e6, 1.7e6, 2.1e6, 3, "zh").value == "+190万元/年"


def test_intervals_stay_within_the_bounds_of_the_quantity():
    assert numbers.level_interval("stemi_within_120_share", -0.169, 0.454, 5) == "0.0%‡ – 45.4%"
    assert numbers.level_interval("inpatient_retention", 0.72, 1.018, 5) == "72.0% – 100.0%‡"
    assert numbers.level_interval("refused_admissions", -7, 33, 5) == "0‡ – 33"
    assert numbers.level_interval("wait_mean_min", -1.0, 3.0, 5, "zh") == "0.0分钟‡ – 3.0分钟"
    # a surplus can be an overrun: not cut
    assert "‡" not in numbers.level_interval("budget_surplus_per_year", -1e6, 2e6, 5)
    assert registry.bounds("fmc_to_ecg_within_10_share") == (0.0, 1.0)


def test_too_few_replications_give_no_interval_and_no_verdict():
    assert numbers.level_interval("inpatient_retention", 0.8, 0.9, 2) == "too few replications for an interval"
    assert numbers.level_interval("inpatient_retention", 0.8, 0.9, 2, "zh") == "模拟次数太少,不给出区间"
    d = numbers.difference("inpatient_retention", 0.03, 0.01, 0.05, 2)
    assert d.verdict == "unknown" and not numbers.significant(0.01, 0.05, 2)
    assert d.interval == "too few replications for an interval"


def _folder(tmp_path: Path, summary: pd.DataFrame, differences: pd.DataFrame) -> brief.FolderData:
    return brief.FolderData(folder=tmp_path, kind="study", name="hand", description="", baseline="baseline",
                            scenarios=["baseline", "alt"], overrides={"baseline": [], "alt": []}, base_overrides=[],
                            summary=summary, differences=differences, meta={"replications": 5},
                            config={"run": {"horizon_days": 30, "warmup_days": 5}}, runs={})


def _hand(diff: tuple[float, float, float], metric: str = "wait_mean_min", n: int = 5,
          levels: tuple[float, float] = (20.0, 19.0)) -> tuple[pd.DataFrame, pd.DataFrame]:
    s = pd.DataFrame([("baseline", metric, "county", n, levels[0], 1.0, levels[0] - 1, levels[0] + 1),
                      ("alt", metric, "county", n, levels[1], 1.0, levels[1] - 1, levels[1] + 1)],
                     columns=["scenario", "metric", "group", "n", "mean", "sd", "ci_low", "ci_high"])
    d = pd.DataFrame([("alt", "baseline", metric, "county", n, *diff, 0.0, 0.0)],
                     columns=["scenario", "baseline", "metric", "group", "n", "mean_diff", "ci_low", "ci_high",
                              "paired_half_width", "unpaired_half_width"])
    return s, d


def test_a_difference_whose_interval_covers_zero_is_never_coloured(tmp_path):
    s, d = _hand((-1.0, -2.5, 0.5))
    cell = brief._kpi_cell("wait_mean_min", "alt", s, d, "baseline", "en")
    assert "better" not in cell and "worse" not in cell and "Δ −1.0 min" in cell
    s, d = _hand((-1.0, -1.5, -0.5))
    assert "class='d better'" in brief._kpi_cell("wait_mean_min", "alt", s, d, "baseline", "en")
    s, d = _hand((-1.0, -1.5, -0.5), n=2)
    cell = brief._kpi_cell("wait_mean_min", "alt", s, d, "baseline", "en")
    assert "better" not in cell and "too few replications" in cell
    # the first screen says so too
    data = _folder(tmp_path, *_hand((0.01, -0.02, 0.04), metric="inpatient_retention", levels=(0.9, 0.91)))
    line = html.unescape(re.search(r"<li data-scenario='alt'>.*?</li>", brief.first_screen(data, "en")).group(0))
    assert "no detectable difference in residents' admissions in the county" in line
    assert "class='n better'" not in line and "class='n worse'" not in line


def test_no_cases_rather_than_zero(tmp_path):
    s = pd.DataFrame([("baseline", "door_to_balloon_median_min", "county", 0, math.nan, math.nan, math.nan,
                       math.nan)], columns=["scenario", "metric", "group", "n", "mean", "sd", "ci_low", "ci_high"])
    cell = brief._kpi_cell("door_to_balloon_median_min", "baseline", s, pd.DataFrame(), "baseline", "zh")
    assert cell == "<td>无病例</td>"


def test_cost_per_admission_kept_needs_a_significant_effect_and_cost():
    s, d = _hand((0.02, 0.01, 0.03), metric="inpatient_retention", levels=(0.90, 0.92))
    s2, d2 = _hand((1.0e6, 0.8e6, 1.2e6), metric="total_cost_per_year", levels=(10e6, 11e6))
    s3, _ = _hand((0, 0, 0), metric="admissions_per_person_year", levels=(0.2, 0.2))
    a = answer.assess(pd.concat([s, s2, s3]), pd.concat([d, d2]), "baseline", ["baseline", "alt"],
                      population=100_000, post_warmup_days=365)[0]
    # 2 pp of 0.2 admissions x 100,000 residents = 400 admissions a year kept, for CNY 1.0 M
    assert a.per_unit["per_adm"] == pytest.approx((2500.0, 400.0))
    d_ns = d.assign(ci_low=-0.01)
    a = answer.assess(pd.concat([s, s2, s3]), pd.concat([d_ns, d2]), "baseline", ["baseline", "alt"],
                      population=100_000, post_warmup_days=365)[0]
    assert "per_adm" not in a.per_unit


def test_ranking_counts_improvements_then_cost():
    a, b, c = answer.Assessment("a"), answer.Assessment("b"), answer.Assessment("c")
    ch = answer.Change("inpatient_retention", 0.02, 0.01, 0.03, 5, 0.9, 0.92, "better")
    a.changes = {"inpatient_retention": ch}
    b.changes = {"inpatient_retention": ch}
    b.cost = answer.Change("running_cost_per_year", -1e6, -2e6, -0.5e6, 5, 1e7, 0.9e7, "better")
    assert [x.scenario for x in answer.rank([c, a, b])] == ["b", "a", "c"]


# --------------------------------------------------------------------------------------------
# the tiny real study


def test_every_brief_number_respects_its_bounds_and_has_no_minus_zero(tiny):
    for lang in ("en", "zh"):
        text = visible_text(_page(tiny, lang))
        assert not re.search(r"[−-]0\.0+(?![\d])", text), re.search(r".{40}[−-]0\.0+(?![\d]).{20}", text)
        assert not re.search(r"\+0\.0+\s*(pp|min|个百分点|分钟)", text)
        assert not re.search(r"[−-]\d[\d.,]*\s*%", text), "no negative share"
        for pct in re.findall(r"(\d[\d,]*\.?\d*)%", text):
            assert float(pct.replace(",", "")) <= 100.0
    # a KPI without cases (a median door-to-balloon time without a PCI case) reads "no cases", not 0.0
    summary = pd.read_csv(tiny / "summary.csv")
    empty = summary[(summary["group"] == "county") & summary["mean"].isna()]
    page = _page(tiny, "en").split("<details class='all'>", 1)[1]
    for metric in empty["metric"].unique():
        row = re.search(rf"<tr data-metric='{metric}'>.*?</tr>", page, flags=re.S)
        assert row and numbers.level(metric, math.nan) in row.group(0) and " 0.0 " not in row.group(0), metric


def test_the_first_screen_has_one_line_per_alternative(tiny):
    for lang in ("en", "zh"):
        fs = first_screen(_page(tiny, lang))
        assert re.findall(r"<li data-scenario='([^']+)'>", fs) == ["remote", "experts"]
        assert re.findall(r"<tr data-scenario='([^']+)'>", fs) and fs.count("<tr data-scenario=") == 2
        # the labels, not the ids
        for sid in ("remote", "experts"):
            assert TINY[f"label_{lang}"][sid] in fs
        assert ("Keep in mind" if lang == "en" else "注意事项") in fs
        # the toy county runs its calibrated care file by default: the caveat says so, with its count
        assert re.search(r"calibrated to this county \(\d+ of \d+ targets met\)" if lang == "en"
                         else r"已按本县统计数据校准（?\(?\d+项目标中达到\d+项", fs), lang


def test_every_number_on_the_first_screen_is_traceable_to_the_tables(tiny):
    summary = pd.read_csv(tiny / "summary.csv")
    diffs = pd.read_csv(tiny / "differences.csv")
    s = summary[summary["group"] == "county"].set_index(["scenario", "metric"])
    d = diffs[diffs["group"] == "county"].set_index(["scenario", "metric"])
    span = re.compile(r"<span class='n[^']*' data-src='(\w+)' data-scenario='([^']*)' data-metric='([^']*)' "
                      r"data-field='(\w+)' data-value='([^']*)'>([^<]*)</span>")
    for lang in ("en", "zh"):
        fs = first_screen(_page(tiny, lang))
        found = span.findall(fs)
        assert found, "the first screen has numbers"
        # no number outside a traceable span, except the caveats' run lengths and the rank
        bare = re.sub(span, " ", fs)
        bare = re.sub(r"<ul class='caveats'>.*?</ul>", " ", bare, flags=re.S)
        bare = re.sub(r"<tr data-scenario='[^']+'><td>\d+</td>", " ", bare)
        bare = visible_text(bare)
        for lab in [*TINY[f"label_{lang}"].values(), *(registry.label(m, lang, unit=False) for m in registry.REGISTRY)]:
            bare = bare.replace(lab, " ").replace(lab[:1].lower() + lab[1:], " ")
        assert not re.findall(r"\d", re.sub(r"95%|置信区间不含0", " ", bare)), bare
        for src, scen, metric, fld, value, text in found:
            v = float(value)
            if src == "diff":
                row = d.loc[(scen, metric)]
                assert v == pytest.approx(abs(row["mean_diff"]) if fld == "mean_diff_abs" else row["mean_diff"])
            elif src == "level":
                scen = scen or "baseline"
                field = "mean"
                assert v == pytest.approx(s.loc[(scen, metric), field])
                assert text == numbers.level(metric, v, lang)
            else:
                assert src == "derived" and metric in ("per_adm", "per_ref", "per_min")
                cost = d.loc[(scen, "total_cost_per_year"), "mean_diff"]
                assert v * cost > 0


#: words allowed in the Chinese brief (units, proper nouns, acronyms); ids of config values and
#: figure traces are checked by the figure tests of tests/test_brief.py.
ZH_ALLOWED = {"STEMI", "Excel", "CT", "ECG", "MDT", "pp", "min", "CNY", "km", "PCI", "X", "N", "t", "r", "toy",
              "toy_calibrated", "default", "care", "calibration", "python", "network", "run", "keep_patients",
              "false", "replications", "care=toy_calibrated", "m", "network=toy", "s"}


def test_the_chinese_brief_has_no_english_sentence_and_the_english_no_chinese(tiny):
    zh = visible_text(_page(tiny, "zh"))
    words = {w for w in re.findall(r"[A-Za-z][A-Za-z_=.:]*", zh) if w.strip(".:") not in ZH_ALLOWED}
    assert not words, sorted(words)[:30]
    assert not re.search(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+", zh), re.search(r".{30}[A-Za-z]+ [A-Za-z]+ [A-Za-z]+.{30}", zh)
    for jargon in ("Hydra", "覆盖参数", "预热期"):
        assert jargon not in first_screen(_page(tiny, "zh"))
    en = visible_text(_page(tiny, "en"))
    assert not re.search(r"[\u4e00-\u9fff]", en), re.search(r".{20}[\u4e00-\u9fff]+.{20}", en)


def test_kpi_names_come_from_the_registry_and_the_long_table_is_collapsed(tiny):
    for lang in ("en", "zh"):
        page = _page(tiny, lang)
        main = page.split("<details class='all'>", 1)
        assert len(main) == 2, "the full table is collapsed"
        body = visible_text(re.sub(r"<script.*?</script>", " ", page, flags=re.S))
        for m in ("inpatient_retention", "wait_mean_min", "share_beyond_30_min", "running_cost_per_year"):
            assert m not in body, m
        assert registry.label("inpatient_retention", lang) in body
        # headline indicators first, then every theme
        head = re.search(r"<table class='kpi'>.*?</table>", page.split("</section>", 1)[1], flags=re.S).group(0)
        rows = re.findall(r"<tr data-metric='([^']+)'>", head)
        assert rows == [m for m in registry.headline() if m in rows] and rows[0] == "inpatient_retention"
        assert registry.THEMES["waiting"][1 if lang == "zh" else 0] in main[1]


# --------------------------------------------------------------------------------------------
# study labels


def test_study_labels_are_validated(tmp_path):
    from sim.config import ConfigError
    from sim.experiment.study import load_study

    for bad, msg in (({"label_en": {"nope": "x"}}, "study.label_en.nope"),
                     ({"label_zh": {"remote": "Remote"}}, "study.label_zh.remote"),
                     ({"label_en": {"remote": " "}}, "non-empty")):
        p = tmp_path / "bad.yaml"
        p.write_text(yaml.safe_dump({**TINY, "label_zh": {}, "label_en": {}, **bad}, allow_unicode=True))
        with pytest.raises(ConfigError, match=re.escape(msg)):
            load_study(str(p))


def test_bundled_studies_name_every_scenario_in_both_languages():
    from sim.config.loading import SCENARIOS_DIR
    from sim.experiment.study import load_study

    for p in sorted((Path(SCENARIOS_DIR) / "study").glob("*.yaml")):
        st = load_study(str(p)) if yaml.safe_load(p.read_text()).get("scenarios") else None
        if st is None:
            continue
        assert set(st.label_zh) == set(st.scenarios) == set(st.label_en), p.name
        assert st.title_zh and st.title_en and st.description_zh, p.name


# --------------------------------------------------------------------------------------------
# the Excel workbook


def test_the_workbook_opens_with_bilingual_headers_and_the_brief_numbers(tiny):
    from openpyxl import load_workbook

    from sim.report import workbook

    wb = load_workbook(tiny / workbook.FILENAME, read_only=True)
    assert wb.sheetnames == list(workbook.SHEETS)
    ws = wb[workbook.SHEETS[0]]
    rows = list(ws.iter_rows(values_only=True))
    zh, en = rows[0], rows[1]
    assert zh[:2] == ("方案编号", "方案") and en[:2] == ("Scenario id", "Scenario")
    assert "均值" in zh and "Mean" in en and "单位" in zh and "Unit" in en
    data = {(r[0], r[3]): r for r in rows[2:]}
    r = data[("remote", "inpatient_retention")]
    assert r[1] == "远程诊断" and r[2] == "Remote diagnosis" and r[4] == "参保人县域内住院人次占比" and r[7] == "%"
    summary = pd.read_csv(tiny / "summary.csv").set_index(["scenario", "metric", "group"])
    assert r[10] == pytest.approx(100 * summary.loc[("remote", "inpatient_retention", "county"), "mean"])
    assert r[11] is None or 0.0 <= r[11] <= r[12] <= 100.0
    d = list(wb[workbook.SHEETS[1]].iter_rows(values_only=True))
    assert d[0][9] == "差值" and d[1][9] == "Difference" and d[1][12] == "Verdict"
    verdicts = {x[13] for x in d[2:]}
    assert verdicts <= {"significantly better", "significantly worse", "significantly different",
                        "no detectable difference", "too few replications to judge"}
    wb.close()
    assert "href='brief.xlsx'" in _page(tiny, "en")


# --------------------------------------------------------------------------------------------
# figures: occupancy as % of capacity, one Sankey with a selector


def test_occupancy_is_a_share_of_each_sites_capacity_with_saturation_flagged():
    from sim.report import plots
    from tests.test_plots import hand_tables

    t = hand_tables()
    occ = t["occupancy"].copy()
    lead_beds = (occ["facility"] == "lead") & (occ["resource"] == "beds")
    occ.loc[lead_beds, "in_use"] = 19.0  # of 20 beds: 95%
    assert plots.saturated_sites(occ) == {"lead": pytest.approx(0.95)}
    fig = plots.occupancy_timeline(occ, t["sites"], percent=True)
    lead = [tr for tr in fig.data if tr.name == "⚠ County Hospital" and tr.yaxis == "y"][0]
    assert list(lead.y) == pytest.approx([95.0] * 4)
    t1 = [tr for tr in fig.data if tr.name == "Township 1" and tr.yaxis == "y"][0]
    assert list(t1.y) == pytest.approx([30.0] * 4)  # 3 of 10 beds, on the same axis as the lead's 95%
    assert {s.y0 for s in fig.layout.shapes} == {100.0, 100 * plots.SATURATION}
    assert "capacity" not in " ".join(tr.name for tr in fig.data)


def test_one_sankey_with_a_scenario_selector():
    from sim.report import plots
    from tests.test_plots import hand_tables

    a, b = hand_tables("baseline"), hand_tables("more_visits")
    figs = [(name, plots.flow_sankey(t["patients"], t["visits"], t["sites"], language="zh"))
            for name, t in (("现状", a), ("专家下沉", b))]
    fig = plots.scenario_selector(figs, language="zh")
    assert len(fig.data) == 2 and [tr.visible for tr in fig.data] == [True, False]
    buttons = fig.layout.updatemenus[0].buttons
    assert [x.label for x in buttons] == ["现状", "专家下沉"]
    assert buttons[1].args[0]["visible"] == [False, True]


def test_the_brief_has_one_sankey_and_occupancy_in_percent(tiny):
    page = html.unescape(_page(tiny, "en"))
    assert page.count("class=\"plotly-graph-div\"") >= 6
    assert "id=\"fig-sankey\"" in page and "fig-sankey-" not in page
    assert "% of each site" in page and ("Beds saturated" in page or "No site's mean bed occupancy" in page)


def test_effect_against_cost_puts_each_alternative_at_its_differences():
    from sim.report import plots

    _, d1 = _hand((0.02, 0.01, 0.03), metric="inpatient_retention", levels=(0.90, 0.92))
    _, d2 = _hand((1.5e6, 1.0e6, 2.0e6), metric="running_cost_per_year", levels=(10e6, 11.5e6))
    d = pd.concat([d1, d2])
    en = plots.cost_effect(d, language="en")
    zh = plots.cost_effect(d, language="zh")
    (p,) = en.data
    assert p.x[0] == pytest.approx(1.5) and p.y[0] == pytest.approx(2.0)   # CNY million, percentage points
    assert zh.data[0].x[0] == pytest.approx(150.0)                           # 万元
    assert p.marker.color == plots.BETTER_COLOR and p.error_y.visible
    few = plots.cost_effect(d.assign(n=2), language="en").data[0]
    assert few.marker.color == "white" and not few.error_y.visible
    assert "万元" in zh.layout.xaxis.title.text


def test_a_significant_change_too_small_to_write_is_negligible_not_a_gain(tmp_path):
    s, d = _hand((-0.01, -0.015, -0.005), metric="travel_mean_min", levels=(14.30, 14.29))
    a = answer.assess(s, d, "baseline", ["baseline", "alt"])[0]
    assert a.changes["travel_mean_min"].verdict == "negligible" and a.count("better") == 0
    line = html.unescape(brief.first_screen(_folder(tmp_path, s, d), "en"))
    assert "changes too small to matter in mean travel time" in line and "no difference (" not in line
    # seen in the Taobei demo: -0.043 min [-0.050, -0.037] is significant and its interval does
    # not round to zero at one decimal, but the change itself writes as "0.0 min": negligible too
    s, d = _hand((-0.0435, -0.0503, -0.0367), metric="travel_mean_min", levels=(13.02, 12.98))
    a = answer.assess(s, d, "baseline", ["baseline", "alt"])[0]
    assert a.changes["travel_mean_min"].verdict == "negligible" and a.count("better") == 0
    line = html.unescape(brief.first_screen(_folder(tmp_path / "b", s, d), "en"))
    assert " 0.0 min (" not in line and "too small to matter in mean travel time" in line


def test_the_first_screen_renders_in_chromium_with_every_figure(tiny):
    """The real study's Chinese brief in headless Chromium: every figure drawn, no error, no
    network request; the first screen (1280 x 900) is kept as a screenshot."""
    from tests.test_brief import ARTIFACTS, find_chromium, render

    if find_chromium() is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    page = tiny / brief.FILENAMES["zh"]
    shot = ARTIFACTS / "brief-first-screen-zh.png"
    res = render(page, screenshot=shot, full_page=False)
    assert res["total"] >= 6 and sorted(res["rendered"]) == sorted(brief_fig_ids(page)), res
    assert res["errors"] == [] and res["requests"] == []
    assert shot.stat().st_size > 10_000


def brief_fig_ids(page: Path) -> list[str]:
    return re.findall(r"<div id=\"(fig-[^\"]+)\" class=\"plotly-graph-div\"", page.read_text(encoding="utf-8"))


def test_a_study_run_on_another_network_says_so_in_its_title(tiny):
    # the tiny study names no network of its own; a study that names one and is run on another does
    data = brief.load_folder(tiny)
    data.base_overrides = ["network=xianghe", "network=toy"]
    data.config = {**data.config, "network": {"name": "toy"}}
    page = brief.render_brief(data, "en", figures=[])
    assert "<h1>Policy brief: Test county: remote diagnosis and expert visits (run on the toy network)</h1>" in page
    assert "(在toy县域网络上运行)" in brief.render_brief(data, "zh", figures=[])
