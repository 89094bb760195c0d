"""The brief's memory (issue #18): each scenario's per-patient tables are read with only the
columns the figures use, reduced to the figure data and dropped before the next scenario is
read; rows are matched to their episode on codes, with the same result as merging; the figures
are those drawn from the whole tables in memory."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.report import brief, plots
from tests.test_brief import STUDY_SCEN, make_study
from tests.test_plots import hand_tables


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return make_study(tmp_path_factory.mktemp("briefmem") / "hand")


def _figures_json(data: brief.FolderData) -> dict[str, str]:
    return {f"{lang}/{key}": fig.to_json() for lang in ("en", "zh")
            for key, _, _, fig in brief.brief_figures(data, lang)}


def test_figures_from_the_folder_equal_those_from_whole_tables_in_memory(folder):
    lazy = brief.load_folder(folder)
    assert all(set(t) == set(brief._RUN_TABLES) for t in lazy.runs.values())  # no per-patient table held
    whole = brief.load_folder(folder)
    whole.run_dirs = {}
    for s in whole.runs:  # every column, the first FIGURE_REPLICATIONS replications, as the brief read them before
        for t in ("patients", "visits", "emergency", "occupancy"):
            path = folder / "runs" / s / f"{t}.parquet"
            if path.exists():
                df = pd.read_parquet(path)
                whole.runs[s][t] = df[df["replication"] < brief.FIGURE_REPLICATIONS]
    a, b = _figures_json(lazy), _figures_json(whole)
    assert {"en/sankey", "en/waits", "en/emergency", "en/map", "zh/waits"} <= set(a)
    assert a == b


def test_each_scenario_is_read_with_the_needed_columns_and_dropped_before_the_next(folder, monkeypatch):
    data = brief.load_folder(folder)
    read = brief._table
    alive: list[tuple[str, weakref.ref]] = []
    log: list[tuple[str, str, list[str]]] = []

    def tracked(d, scenario, name, columns):
        gc.collect()
        held = [s for s, ref in alive if ref() is not None and s != scenario]
        assert not held, f"{held} still in memory while {scenario} is read"
        df = read(d, scenario, name, columns)
        if df is not None:
            log.append((scenario, name, list(df.columns)))
            if name != "occupancy":
                alive.append((scenario, weakref.ref(df)))
        return df

    cut = brief._after_warmup

    def tracked_cut(t, warm):
        out = cut(t, warm)
        alive.extend((log[-1][0], weakref.ref(df)) for df in out.values() if df is not None)
        return out

    monkeypatch.setattr(brief, "_table", tracked)
    monkeypatch.setattr(brief, "_after_warmup", tracked_cut)
    brief.brief_figures(data, "en")
    assert [s for s, name, _c in log if name == "visits"] == list(STUDY_SCEN)
    cols = {name: c for _, name, c in log}
    assert "scenario" not in cols["visits"] and "scenario" not in cols["patients"]  # a string per row
    assert set(cols["visits"]) == {"replication", "patient", "facility", "arrive", "start", "mode"}
    assert [name for s, name, _ in log if name == "occupancy"] == ["occupancy"]  # the baseline's only
    n = len(log)
    brief.brief_figures(data, "zh")  # the second language reuses the reduction
    assert len(log) == n


def _merge_after_warmup(p: pd.DataFrame, df: pd.DataFrame, warm: float) -> pd.DataFrame:
    """The reference: keep the rows whose (replication, patient) episode starts after ``warm``."""
    keep = p.loc[p["onset"] >= warm, ["replication", "patient"]].assign(_keep=True)
    m = df[["replication", "patient"]].merge(keep, on=["replication", "patient"], how="left")["_keep"].notna()
    return df[m.to_numpy()]


def test_after_warmup_by_codes_equals_the_merge():
    t = hand_tables("baseline", replications=3)
    p, v = t["patients"].drop(columns="scenario"), t["visits"].drop(columns="scenario")
    v = pd.concat([v, v.iloc[:2].assign(patient=99)], ignore_index=True)  # visits of an episode not in patients
    out = brief._after_warmup({"patients": p, "visits": v, "emergency": None}, 250.0)
    pd.testing.assert_frame_equal(out["visits"], _merge_after_warmup(p, v, 250.0))
    assert (out["patients"]["onset"] >= 250.0).all() and len(out["patients"]) == 3 * 3
    assert 99 not in set(out["visits"]["patient"])


def test_reduced_waits_and_stemi_times_are_those_of_the_tables():
    t = {s: hand_tables(s, replications=2) for s in ("baseline", "more")}
    visits = pd.concat([t[s]["visits"] for s in t], ignore_index=True)
    sites = t["baseline"]["sites"]
    stats = {s: plots.wait_stats(t[s]["visits"], sites) for s in t}
    assert json.loads(plots.waiting_times(visits, sites, kind="box").to_json()) == \
        json.loads(plots.waiting_times(None, sites, kind="box", stats=stats).to_json())
    w = (t["baseline"]["visits"]["start"] - t["baseline"]["visits"]["arrive"]).to_numpy()
    tier = t["baseline"]["visits"]["facility"].map(dict(zip(sites["site"], sites["tier"], strict=True))).to_numpy()
    seen = np.isfinite(w) & (tier == 1)
    assert stats["baseline"][1]["n"] == seen.sum()
    assert np.allclose(stats["baseline"][1]["box"], np.percentile(w[seen], [5, 25, 50, 75, 95]))
    st = plots.stemi_times(t["baseline"]["emergency"], t["baseline"]["patients"], t["baseline"]["conditions"])
    e = t["baseline"]["emergency"].merge(t["baseline"]["patients"][["replication", "patient", "condition"]],
                                         on=["replication", "patient"], how="left")
    e = e[e["condition"] == "stemi"]
    assert len(e) < len(t["baseline"]["emergency"])  # the hand tables' non-STEMI emergency is left out
    assert st["minutes"].tolist() == (e["reperfusion"] - e["fmc"]).tolist()
    # a categorical column is mapped through its categories: the same values as per row
    f = t["baseline"]["visits"]["facility"]
    tiers = dict(zip(sites["site"], sites["tier"], strict=True))
    pd.testing.assert_series_equal(plots._mapped(f.astype("category"), tiers).astype(float),
                                   plots._str(f).map(tiers).astype(float))
