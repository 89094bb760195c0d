"""The output path of a replication keeps one copy of its records (issue #18), and the progress
bar counts what the finished replications simulated."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.kpis import _tiers, labels
from sim.experiment import runner
from sim.experiment.progress import Progress, format_count
from sim.model.world import World

SHORT = ["network=toy", "run=test", "run.horizon_days=2", "run.warmup_days=0.5", "run.jobs=1"]


@pytest.fixture(scope="module")
def world_tables():
    w = World(sim.compose(SHORT), 0)
    w.run()
    return w, w.log.tables(w.site_ids, w.county.village_ids, w.cat.ids, w.specialties)


def test_record_tables_are_views_of_the_log(world_tables):
    w, t = world_tables
    assert len(t["patients"]) and len(t["visits"])
    # numeric columns share the log's buffers: the records are held once, not twice
    assert np.shares_memory(t["patients"]["onset"].to_numpy(), np.frombuffer(w.log.p_onset, dtype=np.float64))
    assert np.shares_memory(t["visits"]["arrive"].to_numpy(), np.frombuffer(w.log.v_arrive, dtype=np.float64))
    assert t["patients"]["patient"].tolist() == list(range(len(t["patients"])))
    # and the log cannot grow under them
    with pytest.raises(BufferError):
        w.log.v_arrive.append(0.0)


def test_record_tables_equal_a_copy_of_the_buffers(world_tables):
    w, t = world_tables
    v = t["visits"]
    assert v["facility"].cat.codes.tolist() == list(w.log.v_facility)
    assert v["start"].to_numpy().tobytes() == w.log.v_start.tobytes()
    assert list(v["facility"].cat.categories) == list(w.site_ids)


@pytest.mark.parametrize("values", [["b", None, "a", "b"], ["x"], []])
def test_labels_are_astype_str(values):
    cat = pd.Series(pd.Categorical(values, categories=["a", "b", "x"]))
    got, want = labels(cat), cat.astype(str).to_numpy()
    assert got.dtype == object and len(got) == len(want)
    assert [x if isinstance(x, str) else "NaN" for x in got] == [x if isinstance(x, str) else "NaN" for x in want]
    plain = pd.Series(values, dtype=object)
    assert list(labels(plain)) == list(plain.astype(str).to_numpy())


def test_labels_share_the_category_strings():
    s = pd.Series(pd.Categorical(["referral"] * 1000 + ["self"] * 1000))
    out = labels(s)
    assert len({id(x) for x in out}) == 2  # one string per category, not per row


def test_tiers_by_code_match_map():
    sites = pd.DataFrame({"site": ["a", "b", "c"], "tier": [0, 2, 3]})
    tier = sites.set_index("site")["tier"]
    s = pd.Series(pd.Categorical(["c", "a", "b", "c"], categories=["a", "b", "c"]))
    assert _tiers(s, tier).tolist() == s.map(tier).astype(np.int64).tolist()
    assert _tiers(s, tier).dtype == np.int8
    missing = pd.Series(pd.Categorical(["a", "z"], categories=["a", "z"]))
    with pytest.raises(ValueError, match="without a tier"):
        _tiers(missing, tier)


def test_format_count():
    assert [format_count(n) for n in (0, 999, 1000, 12_345, 3_100_000, 2 * 10**9)] == \
        ["0", "999", "1k", "12.3k", "3.1M", "2G"]


def test_progress_is_quiet_off_a_terminal():
    out = io.StringIO()  # not a terminal: nothing drawn
    with Progress(3, "demo", file=out) as p:
        p.done({"patients": 10})
    assert out.getvalue() == "" and p.journeys == 10


def test_progress_reports_the_journeys_of_the_finished_replications(monkeypatch):
    bars: list[Progress] = []
    text = io.StringIO()

    def recording(total: int, desc: str) -> Progress:
        bars.append(Progress(total, desc, file=text, enabled=True))
        return bars[-1]

    monkeypatch.setattr(runner, "Progress", recording)
    res = sim.run(sim.compose([*SHORT, "run.replications=2"]), progress=True)
    (bar,) = bars
    simulated = sum(int(i["patients"]) for i in res.meta["replication_info"].values())
    assert bar.replications == 2 and bar.journeys == simulated > 0
    assert simulated == len(res.patients)
    shown = text.getvalue()
    assert "2/2 rep" in shown and f"journeys {format_count(simulated)}" in shown
