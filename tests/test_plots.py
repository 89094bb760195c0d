"""Figures of :mod:`sim.report.plots` from small hand-made tables: the expected traces and values,
and Chinese labels with no untranslated English."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from sim.analysis.kpis import KPI_ZH
from sim.report import plots

SCEN = ("baseline", "more_visits")


def hand_tables(scenario: str = "baseline", replications: int = 2) -> dict[str, pd.DataFrame]:
    """A tiny county: 2 villages with clinics, 2 township centres, a lead hospital, a city
    hospital; per replication five episodes with known paths (times in minutes)."""
    sites = pd.DataFrame({
        "site": ["t1", "t2", "lead", "city", "clinic:v1", "clinic:v2"],
        "tier": [1, 1, 2, 3, 0, 0],
        "kind": ["township", "township", "lead", "tertiary", "village_clinic", "village_clinic"],
        "lead": ["lead", "lead", "", "", "", ""],
        "x_km": [-10.0, 10.0, 0.0, 60.0, -12.0, 12.0],
        "y_km": [0.0, 0.0, 5.0, 0.0, 4.0, -4.0],
        "name": ["Township 1", "Township 2", "County Hospital", "City Hospital", "V1 clinic", "V2 clinic"],
        "name_zh": ["一乡卫生院", "二乡卫生院", "县人民医院", "市医院", "一村卫生室", "二村卫生室"],
        "village": [None, None, None, None, "v1", "v2"],
    })
    villages = pd.DataFrame({"village": ["v1", "v2"], "population": [1000.0, 4000.0], "clinic_doctors": [1, 1],
                             "x_km": [-12.0, 12.0], "y_km": [4.0, -4.0], "home_tier1": ["t1", "t2"]})
    conditions = pd.DataFrame({"name_zh": ["常见小病", "急性心梗"], "min_tier": [0, 2], "admit_prob": [0.0, 1.0],
                               "los_mean_days": [7.0, 7.0], "pathway": ["outpatient", "stemi"],
                               "specialty": ["general", "cardiology"], "incidence_per_1000": [100.0, 1.0]},
                              index=pd.Index(["minor", "stemi"], name="condition"))
    # (condition, exit, [(facility, mode, wait minutes)], onset)
    paths = [
        ("minor", "completed", [("clinic:v1", "self", 5.0)], 100.0),
        ("minor", "completed", [("clinic:v2", "self", 0.0), ("t2", "referral", 12.0)], 200.0),
        ("minor", "transferred_out", [("t1", "self", 20.0), ("lead", "referral", 30.0), ("city", "referral", 0.0)], 300.0),
        ("stemi", "completed", [("lead", "ambulance", 0.0)], 400.0),
        ("minor", "left_untreated", [("t2", "self", float("nan"))], 500.0),
    ]
    prow, vrow, erow = [], [], []
    for r in range(replications):
        for pid, (cond, exit_, visits, onset) in enumerate(paths):
            t = onset
            for fac, mode, wait in visits:
                start = t + wait if not np.isnan(wait) else np.nan
                end = (start if not np.isnan(wait) else t + 60) + 10
                vrow.append((scenario, r, pid, fac, t, start, end, "treated", mode, 0))
                t = end + 30
            prow.append((scenario, r, pid, "v1" if pid % 2 == 0 else "v2", cond, onset, exit_, t,
                         visits[0][0], 10.0, sum(m != "self" for _, m, _ in visits), 0))
            if cond == "stemi":
                erow.append((scenario, r, pid, onset, onset + 20, onset + 60, onset + 20 + 80 + 20 * r, "lead", "lead"))
    patients = pd.DataFrame(prow, columns=["scenario", "replication", "patient", "village", "condition", "onset", "exit",
                                           "exit_time", "first_facility", "travel_min", "up_referrals", "down_referrals"])
    visits = pd.DataFrame(vrow, columns=["scenario", "replication", "patient", "facility", "arrive", "start", "end",
                                         "outcome", "mode", "tests"])
    for c in ("facility", "mode", "outcome"):
        visits[c] = visits[c].astype("category")
    patients["first_facility"] = patients["first_facility"].astype("category")
    emergency = pd.DataFrame(erow, columns=["scenario", "replication", "patient", "call", "fmc", "door", "reperfusion",
                                            "station", "destination"])
    # one non-STEMI emergency row that must not be counted
    emergency.loc[len(emergency)] = (scenario, 0, 2, 300.0, 310.0, 330.0, 335.0, "lead", "lead")
    occ = []
    for r in range(replications):
        for day in range(4):
            for fac, res, use, cap in (("lead", "beds", 10 + day, 20), ("lead", "doctors:general", 2.0, 4),
                                       ("lead", "doctors:cardiology", 1.0, 2), ("t1", "beds", 3, 10),
                                       ("t1", "doctors:general", 1.0 + r, 3), ("lead", "equipment:ct", 0.5, 1)):
                occ.append((scenario, r, fac, res, day, float(use), 0.0, float(cap)))
    occupancy = pd.DataFrame(occ, columns=["scenario", "replication", "facility", "resource", "day", "in_use",
                                           "queue", "capacity"])
    return {"sites": sites, "villages": villages, "conditions": conditions, "patients": patients, "visits": visits,
            "emergency": emergency, "occupancy": occupancy}


def hand_summary() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A hand-made summary and paired-difference table for two KPIs and three scenarios."""
    summary = pd.DataFrame([
        ("baseline", "inpatient_retention", "county", 3, 0.90, 0.01, 0.88, 0.92),
        ("more_visits", "inpatient_retention", "county", 3, 0.93, 0.01, 0.91, 0.95),
        ("remote_dx", "inpatient_retention", "county", 3, 0.89, 0.01, 0.87, 0.91),
        ("baseline", "wait_mean_min", "county", 3, 20.0, 2.0, 15.0, 25.0),
        ("more_visits", "wait_mean_min", "county", 3, 17.0, 2.0, 12.0, 22.0),
        ("remote_dx", "wait_mean_min", "county", 3, 22.0, 2.0, 17.0, 27.0),
        ("baseline", "wait_mean_min", "tier1", 3, 9.0, 2.0, 5.0, 13.0),
    ], columns=["scenario", "metric", "group", "n", "mean", "sd", "ci_low", "ci_high"])
    differences = pd.DataFrame([
        ("more_visits", "baseline", "inpatient_retention", "county", 3, 0.03, 0.01, 0.05, 0.02, 0.05),
        ("remote_dx", "baseline", "inpatient_retention", "county", 3, -0.01, -0.02, -0.005, 0.0075, 0.05),
        ("more_visits", "baseline", "wait_mean_min", "county", 3, -3.0, -7.0, 1.0, 4.0, 8.0),
        ("remote_dx", "baseline", "wait_mean_min", "county", 3, 2.0, 1.0, 3.0, 1.0, 8.0),
    ], columns=["scenario", "baseline", "metric", "group", "n", "mean_diff", "ci_low", "ci_high",
                "paired_half_width", "unpaired_half_width"])
    return summary, differences


@pytest.fixture
def t():
    return hand_tables()


# --------------------------------------------------------------------------------------------


def test_referral_flows_counts_previous_facility(t):
    f = plots.referral_flows(t["visits"]).set_index(["source", "target"])["flow"]
    # per replication: v2 clinic -> t2, t1 -> lead, lead -> city (ambulance from home is not a flow)
    assert f.to_dict() == {("clinic:v2", "t2"): 1.0, ("t1", "lead"): 1.0, ("lead", "city"): 1.0}


def test_network_map_traces(t):
    fig = plots.network_map(t["sites"], t["visits"], t["villages"], closed={"t2"})
    assert isinstance(fig, go.Figure)
    names = [tr.name for tr in fig.data]
    lines = [tr for tr in fig.data if tr.mode == "lines"]
    assert len(lines) == 3  # one line per referral flow
    assert {tuple(tr.x) for tr in lines} == {(12.0, 10.0), (-10.0, 0.0), (0.0, 60.0)}
    for tier in (0, 1, 2, 3):
        assert plots.tier_label(tier) in names
    closed = [tr for tr in fig.data if tr.name == "Closed / merged site"]
    assert len(closed) == 1 and closed[0].marker.symbol == "x" and list(closed[0].x) == [10.0]
    tier1 = next(tr for tr in fig.data if tr.name == plots.tier_label(1))
    assert list(tier1.x) == [-10.0]  # the closed t2 is not drawn as open
    # sized by visits per replication: the lead hospital (2 visits/rep) is the biggest marker
    lead = next(tr for tr in fig.data if tr.name == plots.tier_label(2))
    assert lead.marker.size[0] == pytest.approx(max(
        max(np.atleast_1d(tr.marker.size)) for tr in fig.data if tr.name in {plots.tier_label(k) for k in range(4)}))
    assert "2 visits" in lead.text[0]
    assert any(tr.name == "Village (size: population)" for tr in fig.data)
    # a status column works too
    sites = t["sites"].assign(status=["open", "merged", "open", "open", "open", "open"])
    fig2 = plots.network_map(sites, t["visits"], language="zh")
    assert any(tr.name == "已关闭/合并机构" and "已合并" in tr.text[0] for tr in fig2.data)


def test_flow_sankey_counts(t):
    fig = plots.flow_sankey(t["patients"], t["visits"], t["sites"])
    assert len(fig.data) == 1 and isinstance(fig.data[0], go.Sankey)
    s = fig.data[0]
    labels = list(s.node.label)
    flows = {(labels[a], labels[b]): v for a, b, v in zip(s.link.source, s.link.target, s.link.value, strict=False)}
    # first contact -> highest referral (2 replications, counts summed)
    assert flows[("Village clinic", "Not referred")] == 2
    assert flows[("Village clinic", "Township / community health centre")] == 2
    assert flows[("Township / community health centre", "Out-of-county tertiary hospital")] == 2
    assert flows[("Township / community health centre", "Not referred")] == 2  # left untreated at t2
    assert flows[("County lead hospital", "Not referred")] == 2
    assert flows[("Out-of-county tertiary hospital", "Outward transfer")] == 2
    assert flows[("Not referred", "Left untreated")] == 2
    assert sum(v for (a, b), v in flows.items() if b in ("Completed in county", "Outward transfer",
                                                         "Left untreated")) == 10
    assert "10 episodes" in fig.layout.title.text


def test_scenario_comparison_traces_and_direction():
    summary, differences = hand_summary()
    fig = plots.scenario_comparison(summary, differences, metrics=["inpatient_retention", "wait_mean_min"])
    assert len(fig.data) == 4  # means and differences for each KPI
    means, diffs = fig.data[0], fig.data[1]
    assert list(means.y) == ["baseline", "more_visits", "remote_dx"]
    assert list(means.x) == pytest.approx([90.0, 93.0, 89.0])  # shares in %
    assert list(means.error_x.array) == pytest.approx([2.0, 2.0, 2.0])
    assert list(diffs.x) == pytest.approx([3.0, -1.0])  # percentage points
    assert list(diffs.marker.color) == [plots.BETTER_COLOR, plots.WORSE_COLOR]
    wait = fig.data[3]
    assert list(wait.marker.symbol) == ["circle-open", "circle"]  # first CI spans zero
    assert list(wait.marker.color) == [plots.NEUTRAL_COLOR, plots.WORSE_COLOR]
    texts = [a.text for a in fig.layout.annotations]
    assert "better →" in texts and "← better" in texts
    assert any("higher is better" in x for x in texts) and any("lower is better" in x for x in texts)
    # without differences: one column
    fig1 = plots.scenario_comparison(summary, metrics=["wait_mean_min"])
    assert len(fig1.data) == 1 and list(fig1.data[0].x) == [20.0, 17.0, 22.0]


def test_dose_response_band_and_line():
    summary, _ = hand_summary()
    fig = plots.dose_response(summary, {"baseline": 0, "more_visits": 4, "remote_dx": 2}, "wait_mean_min",
                              lever="Expert visits per month")
    assert len(fig.data) == 2
    band, line = fig.data
    assert band.fill == "toself" and list(band.x) == [0, 2, 4, 4, 2, 0]
    assert list(band.y) == [25.0, 27.0, 22.0, 12.0, 17.0, 15.0]
    assert list(line.x) == [0, 2, 4] and list(line.y) == [20.0, 22.0, 17.0]
    assert fig.layout.xaxis.title.text == "Expert visits per month"


def test_waiting_times_ecdf_and_box(t):
    fig = plots.waiting_times(t["visits"], t["sites"])
    assert [tr.name for tr in fig.data] == [plots.tier_label(k) for k in (0, 1, 2)]
    tier1 = fig.data[1]  # waits 12 (t2), 20 (t1) in each replication; the untreated visit is left out
    assert tier1.x[0] == 12.0 and tier1.x[-1] == 20.0 and tier1.y[-1] == 100.0
    assert fig.layout.xaxis.title.text == "Waiting time (minutes)"
    both = pd.concat([t["visits"], hand_tables("more_visits")["visits"]])
    box = plots.waiting_times(both, t["sites"], kind="box")
    assert [tr.name for tr in box.data] == list(SCEN)
    assert list(box.data[0].median) == [2.5, 16.0, 15.0]


def test_occupancy_timeline_sums_doctors(t):
    fig = plots.occupancy_timeline(t["occupancy"], t["sites"])
    names = [tr.name for tr in fig.data]
    assert names.count("County Hospital") == 2 and names.count("County Hospital capacity") == 2
    lead_doctors = [tr for tr in fig.data if tr.name == "County Hospital" and tr.yaxis == "y2"][0]
    assert list(lead_doctors.y) == [3.0] * 4  # general + cardiology
    t1_doctors = [tr for tr in fig.data if tr.name == "Township 1" and tr.yaxis == "y2"][0]
    assert list(t1_doctors.y) == [1.5] * 4  # mean over replications
    cap = [tr for tr in fig.data if tr.name == "County Hospital capacity" and tr.yaxis == "y"][0]
    assert cap.line.dash == "dash" and list(cap.y) == [20.0] * 4
    assert sum(1 for tr in fig.data if tr.showlegend) == 2


def test_emergency_times_stemi_only(t):
    fig = plots.emergency_times(t["emergency"], t["patients"], t["conditions"])
    assert len(fig.data) == 1
    assert sorted(fig.data[0].x) == [80.0, 100.0]  # reperfusion - fmc; the non-STEMI row is excluded
    assert sorted(sh.x0 for sh in fig.layout.shapes) == [90, 120]
    assert {a.text for a in fig.layout.annotations} >= {"90-min standard", "120-min standard"}
    empty = plots.emergency_times(t["emergency"].iloc[:0], t["patients"], t["conditions"])
    assert len(empty.data) == 0


def test_unknown_language_is_refused(t):
    with pytest.raises(ValueError, match="language"):
        plots.network_map(t["sites"], t["visits"], language="fr")


# --------------------------------------------------------------------------------------------
# Chinese labels

_ALLOWED = {"STEMI", "P90"}


def figure_labels(fig: go.Figure) -> list[str]:
    """Every user-visible label of a figure: title, axis titles, legend names, annotations,
    Sankey node labels and hover templates."""
    out = [fig.layout.title.text or ""]
    for ax in fig.layout:
        if ax.startswith(("xaxis", "yaxis")) and fig.layout[ax].title.text:
            out.append(fig.layout[ax].title.text)
    out += [a.text for a in fig.layout.annotations if a.text]
    for tr in fig.data:
        if tr.name and tr.showlegend is not False:
            out.append(tr.name)
        if isinstance(tr, go.Sankey):
            out += list(tr.node.label)
            out += [tr.node.hovertemplate or "", tr.link.hovertemplate or ""]
        elif getattr(tr, "hovertemplate", None):
            out.append(tr.hovertemplate)
    return out


def english_words(texts: list[str], ids: set[str]) -> set[str]:
    words = set()
    for s in texts:
        s = re.sub(r"<[^>]+>", " ", s)  # markup
        s = re.sub(r"%\{[^}]*\}", " ", s)  # plotly placeholders
        s = re.sub(r"style='[^']*'", " ", s)
        for w in re.findall(r"[A-Za-z][A-Za-z_:0-9]+", s):
            w = w.rstrip(":")
            if w not in ids and w not in _ALLOWED:
                words.add(w)
    return words


def zh_figures(t: dict) -> list[go.Figure]:
    summary, differences = hand_summary()
    both = pd.concat([t["visits"], hand_tables("more_visits")["visits"]])
    return [
        plots.network_map(t["sites"], t["visits"], t["villages"], closed={"t2"}, language="zh"),
        plots.flow_sankey(t["patients"], t["visits"], t["sites"], language="zh"),
        plots.scenario_comparison(summary, differences, language="zh"),
        plots.dose_response(summary, {"baseline": 0, "more_visits": 4, "remote_dx": 2}, "inpatient_retention",
                            language="zh"),
        plots.waiting_times(t["visits"], t["sites"], language="zh"),
        plots.waiting_times(both, t["sites"], kind="box", language="zh"),
        plots.occupancy_timeline(t["occupancy"], t["sites"], language="zh"),
        plots.emergency_times(t["emergency"], t["patients"], t["conditions"], language="zh"),
    ]


def test_chinese_figures_have_no_untranslated_labels(t):
    ids = {"baseline", "more_visits", "remote_dx", "t1", "t2", "lead", "city", "clinic:v1", "clinic:v2", "v1", "v2",
           "n", "extra"}
    for fig in zh_figures(t):
        texts = figure_labels(fig)
        assert texts[0], "every figure has a title"
        assert not english_words(texts, ids), (fig.layout.title.text, english_words(texts, ids))
    comp = zh_figures(t)[2]
    joined = " ".join(figure_labels(comp))
    assert KPI_ZH["inpatient_retention"] in joined and "平均候诊时间" in joined
    assert "越高越好" in joined and "更优 →" in joined


def test_english_figures_are_labelled(t):
    for fig in [plots.network_map(t["sites"], t["visits"], t["villages"]),
                plots.emergency_times(t["emergency"], t["patients"], t["conditions"])]:
        assert fig.layout.xaxis.title.text and "(" in fig.layout.xaxis.title.text  # units in axis titles
        assert fig.layout.font.family == plots.FONT_FAMILY or fig.layout.template.layout.font.family == plots.FONT_FAMILY
