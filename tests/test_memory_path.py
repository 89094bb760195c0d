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


# --------------------------------------------------------------------------- session 7 (issue #18)

def test_arrivals_released_in_slices_give_the_same_run(monkeypatch):
    """The weekly batch becomes Python lists a slice at a time (memory): the slice size changes
    nothing, down to one patient at a time."""
    from sim.model import flow
    from tests.output_hashes import run_digests

    cfg = ["network=toy", "run=test", "run.horizon_days=9", "run.warmup_days=1", "run.replications=1",
           "levers=combined_weekly_full"]
    want = run_digests(sim.run(sim.compose(cfg), jobs=1))
    for size in (1, 37):
        monkeypatch.setattr(flow, "ARRIVAL_SLICE", size)
        assert run_digests(sim.run(sim.compose(cfg), jobs=1)) == want, size


def test_tables_are_held_without_key_columns_and_written_with_them(tmp_path, monkeypatch):
    """A replication's tables carry no scenario/replication column (a string per row); written in
    row groups of ROW_GROUP rows, each slice gets them, and the file reads back as the whole frame
    with its keys would."""
    from sim.experiment.replication import replicate
    from sim.records import schema as rs

    out = replicate(sim.compose(SHORT), 3)
    v = out["tables"]["visits"]
    assert not set(rs.KEY_COLUMNS) & set(v.columns)
    res = sim.run(sim.compose(SHORT), jobs=1)
    cats = rs.categories(res.sites, res.villages, res.conditions, res.config)
    whole = rs.coerce(rs.with_keys(v, out["scenario"], 3), "visits", cats)
    assert list(whole.columns[:2]) == ["scenario", "replication"] and set(whole["replication"]) == {3}
    monkeypatch.setattr(rs, "ROW_GROUP", 7)
    rs.write_table(v, tmp_path / "v.parquet", "visits", cats, keys=(out["scenario"], 3))
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(tmp_path / "v.parquet").metadata
    assert meta.num_row_groups == -(-len(v) // 7) and meta.num_rows == len(v)
    pd.testing.assert_frame_equal(rs.read_table(tmp_path / "v.parquet", "visits", cats), whole.reset_index(drop=True))
    # a frame that has its keys is written as it is
    rs.write_table(whole, tmp_path / "w.parquet", "visits", cats)
    pd.testing.assert_frame_equal(rs.read_table(tmp_path / "w.parquet", "visits", cats), whole.reset_index(drop=True))


def test_the_kpis_trace_less_than_their_bound_per_journey():
    """The KPI step's own allocations (tracemalloc: numpy and pandas buffers included) above the
    record tables, per journey, on a 21-day Xianghe replication (73 B, measured 2026-12-03; a run
    this short is dominated by its fixed costs).  Measured on Taobei: 60 days 191 B (a copy of the
    kept patients, a string per visit in the referral test, hash tables of patient ids) -> 115 B
    (2026-12-02); a county-year 120 B (2026-12-02) -> 48 B (visits read a column at a time,
    grouped quantiles a few villages at a time) -> 35 B (2026-12-03: visits priced per price key,
    last rows found a chunk at a time, no string per episode, no index on masked Series).  The
    bound leaves room for allocator and size effects."""
    import tracemalloc

    from sim.analysis.kpis import kpis
    from sim.experiment import replication as R
    from sim.model.world import run_replication

    cfg = sim.compose(["network=xianghe", "run=test", "run.horizon_days=21", "run.warmup_days=3"])
    county = R.build_county(R.effective_network(cfg))
    res = run_replication(cfg, 0, county)
    n = len(res.tables["patients"])
    args = (res.tables, res.occupancy, R.sites_table(county), R.villages_table(county), R.conditions_table(cfg),
            cfg.care.prices, cfg.run.warmup_days, cfg.run.horizon_days, cfg.restructure)
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        kpis(*args, levers=cfg.levers, payment=cfg.payment)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    per = (peak - base) / n
    print(f"KPIs traced {per:.0f} B per journey over {n:,} journeys")
    assert n > 20_000 and per < 110, f"the KPIs traced {per:.0f} B per journey over {n:,} journeys"


def test_last_rows_read_in_chunks_are_the_last_rows_of_all():
    """``_last_tier_at_most`` reads its rows a chunk at a time (memory): any chunk size gives the
    answer of a plain reading, row by row, of every patient's last row (ids sorted or not,
    repeated, or without rows)."""
    from sim.analysis.kpis import _last_tier_at_most

    rng = np.random.default_rng(7)
    for _ in range(400):
        n, m = int(rng.integers(0, 30)), int(rng.integers(0, 12))
        pat = rng.integers(0, 15, n).astype(np.uint32)
        tier = rng.integers(0, 4, n).astype(np.int8)
        patients = rng.integers(0, 17, m)
        if rng.random() < 0.5:
            patients = np.unique(patients)
        last: dict[int, int] = {}
        for p, t in zip(pat.tolist(), tier.tolist()):
            last[p] = t
        want = [p in last and last[p] <= 1 for p in patients.tolist()]
        for chunk in (1, 2, 5, 1 << 19):
            assert _last_tier_at_most(pat, tier, patients, 1, chunk=chunk).tolist() == want


def test_priced_visits_looked_up_by_key_equal_the_per_visit_prices(world_tables):
    """The KPIs price the visits once per price key (tier, seen, ambulance, tests) and look the
    prices up (memory): every visit's medical cost, out-of-pocket and insurer parts are exactly
    (bit for bit) what the tariff gives computed visit by visit."""
    from sim.analysis.kpis import _isin, _tests_cost, price
    from sim.config import tariff
    from sim.experiment.replication import sites_table

    w, t = world_tables
    prices = w.cfg.care.prices
    sites = sites_table(w.county)
    v = t["visits"]
    vt = _tiers(v["facility"], sites.set_index("site")["tier"])
    medical = tariff.visit_cost(prices, vt, ~np.isnan(v["start"].to_numpy()))
    medical += _tests_cost(prices, v["tests"].to_numpy())
    medical += _isin(v["mode"], ("ambulance",)) * prices.ambulance_trip
    oop, insurer = tariff.split(prices, medical, vt, False)
    assert (v["tests"].to_numpy() > 0).any() and (medical > 0).any()
    for lean in (False, True):
        pv = price(t, sites, None, prices, 2 * 1440.0, lean=lean)["visits"]
        assert len(pv) == len(v)
        for col, want in (("medical", medical), ("oop", oop), ("insurer", insurer)):
            np.testing.assert_array_equal(pv[col].to_numpy(), want)
        np.testing.assert_array_equal(pv["tier"].to_numpy(), vt)


def test_a_single_replication_is_moved_into_the_run_folder_and_a_study_keeps_its_checkpoints(tmp_path):
    """``stream_tables(move=True)`` renames a lone source with the declared schema (a one-
    replication run wrote its tables twice, issue #18); a source of another schema is still
    read, coerced and copied, and without ``move`` (a study's checkpoints) nothing is consumed.
    The table is the same either way."""
    from sim.analysis.io import stream_tables
    from sim.experiment.replication import replicate
    from sim.records import schema as rs

    res = sim.run(sim.compose(SHORT), jobs=1)
    cats = rs.categories(res.sites, res.villages, res.conditions, res.config)
    out = replicate(sim.compose(SHORT), 0)
    v = out["tables"]["visits"]
    expect = rs.coerce(rs.with_keys(v, out["scenario"], 0), "visits", cats).reset_index(drop=True)
    declared, other, recoded = (tmp_path / f"{n}.parquet" for n in ("declared", "other", "recoded"))
    rs.write_table(v, declared, "visits", cats, keys=(out["scenario"], 0))
    expect.astype({"replication": "int64"}).to_parquet(other)  # another schema
    # the declared schema, but other dictionaries: the facilities' codes in reverse order
    fac = expect["facility"]
    expect.assign(facility=fac.cat.reorder_categories(list(fac.cat.categories)[::-1])).to_parquet(recoded)
    import pyarrow.parquet as pq

    assert pq.read_schema(recoded).equals(rs.arrow_schema("visits", cats), check_metadata=False)
    stream_tables([declared], tmp_path / "kept.parquet", "visits", cats)
    assert declared.exists()
    stream_tables([declared], tmp_path / "moved.parquet", "visits", cats, move=True)
    assert not declared.exists()
    for src, name in ((other, "copied"), (recoded, "recoded_copy")):
        stream_tables([src], tmp_path / f"{name}.parquet", "visits", cats, move=True)
        assert src.exists()
    for name in ("kept", "moved", "copied", "recoded_copy"):
        pd.testing.assert_frame_equal(rs.read_table(tmp_path / f"{name}.parquet", "visits", cats), expect)


def test_a_one_replication_run_folder_equals_the_in_memory_run(tmp_path):
    """``run_to_folder`` (tables moved from its replication folder) writes the tables that
    ``sim.run`` computes in memory, and leaves no replication folder behind."""
    from sim.analysis.io import load_run
    from sim.experiment.runner import run_to_folder

    cfg = sim.compose(SHORT)
    run_to_folder(cfg, tmp_path / "run", jobs=1)
    back, mem = load_run(tmp_path / "run"), sim.run(cfg, jobs=1)
    for t in ("kpis", "occupancy", "patients", "visits", "admissions"):
        pd.testing.assert_frame_equal(getattr(back, t), getattr(mem, t), check_like=False)
    assert not (tmp_path / "run" / ".replications").exists()
