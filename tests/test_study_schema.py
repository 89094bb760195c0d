"""The record schema (sim/records/schema.py): declared once, matching what the model writes, and
enforced on write and read-back."""

from __future__ import annotations

import ast
import copy
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

import sim
from sim.county.network import build_county
from sim.experiment.replication import replicate, sites_table
from sim.records import schema as rs
from sim.records.result import TABLES

ROOT = Path(__file__).resolve().parent.parent


@cache
def _fresh(levers: str):
    cfg = sim.compose(["network=toy", "run=test", "run.horizon_days=4", f"levers={levers}"])
    return cfg, sim.run(cfg, jobs=1)


def _cats(result) -> rs.Categories:
    return rs.categories(result.sites, result.villages, result.conditions, result.config)


def test_every_output_table_is_declared_once():
    assert set(rs.SCHEMA) == {*TABLES, "kpis", "occupancy"}
    assert TABLES is rs.RECORD_TABLES


def test_the_schema_module_imports_no_simpy():
    tree = ast.parse((ROOT / "sim" / "records" / "schema.py").read_text())
    mods = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    mods |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert mods <= {"__future__", "collections.abc", "dataclasses", "pathlib", "typing", "numpy", "pandas",
                    "pyarrow", "pyarrow.parquet", "sim.config", "sim.records.codes"}, mods


@pytest.mark.parametrize("levers", ["none", "expert_weekly", "remote_full"])
def test_fresh_tables_already_have_the_declared_schema(levers):
    """What the model writes (records.Log.tables, occupancy, KPIs) is what the schema declares,
    column for column and category for category (then coercing is free: the same frame)."""
    _, res = _fresh(levers)
    cats = _cats(res)
    for t in (*TABLES, "kpis", "occupancy"):
        df = getattr(res, t)
        assert rs.coerce(df, t, cats) is df, t
    one = replicate(copy.deepcopy(res.config), 0)
    for t in TABLES:
        # held without the key columns (memory); with them, exactly the schema
        assert not set(rs.KEY_COLUMNS) & set(one["tables"][t].columns), t
        got = rs.with_keys(one["tables"][t], one["scenario"], one["replication"])
        want = rs.dtypes(t, cats)
        assert list(got.columns) == list(want), t
        for c, dt in want.items():
            if isinstance(dt, pd.CategoricalDtype):
                assert list(got[c].cat.categories) == list(dt.categories), (t, c)
            else:
                assert got[c].dtype == dt, (t, c)


EXPERT_LEVERS = [("toy", "expert_weekly"), ("toy", "combined_weekly_full"), ("xianghe", "xianghe_friday"),
                 ("taobei", "taobei_heads"), ("qingdao", "qingdao_workstations"), ("liuzhou", "liuzhou_three_one")]


def test_expert_specialties_follow_the_model_for_the_bundled_expert_levers():
    """The ``specialty`` categories (from the config) are those the model numbers its teams by."""
    from sim.model.world import World

    for f in (ROOT / "scenarios" / "levers").glob("*.yaml"):
        if "expert:\n  enabled: true" in f.read_text() and not f.stem.startswith("expert_"):
            assert f.stem in {lev for _, lev in EXPERT_LEVERS}, f"add {f.stem} to EXPERT_LEVERS"
    for network, levers in EXPERT_LEVERS:
        extra = ["restructure=liuzhou_takeover"] if network == "liuzhou" else []
        cfg = sim.compose([f"network={network}", f"levers={levers}", "run=test", *extra])
        assert list(rs.expert_specialties(cfg)) == World(cfg, 0).specialties, levers
        assert rs.expert_specialties(cfg)


def test_empty_tables_keep_their_categories_through_parquet(tmp_path):
    _, res = _fresh("none")
    cats = _cats(res)
    assert len(res.expert_visits) == 0
    path = tmp_path / "x.parquet"
    res.expert_visits.to_parquet(path)             # the old way: categories are lost
    assert len(pd.read_parquet(path)["site"].cat.categories) == 0
    back = rs.read_table(path, "expert_visits", cats)  # read back with the schema
    pdt.assert_frame_equal(back, rs.coerce(res.expert_visits, "expert_visits", cats))
    assert list(back["site"].cat.categories) == list(res.sites["site"])
    # parquet keeps no dictionary for an empty column: the schema, applied on read, does
    rs.write_table(res.expert_visits, path, "expert_visits", cats)
    pdt.assert_frame_equal(rs.read_table(path, "expert_visits", cats), back)


def test_coerce_recodes_strings_and_other_category_orders_and_refuses_unknown_values():
    _, res = _fresh("remote_full")
    cats = _cats(res)
    df = res.remote_studies
    assert len(df) > 0
    as_text = df.assign(site=df["site"].astype(object), status=df["status"].astype(str),
                        priority=df["priority"].astype(np.int64))
    pdt.assert_frame_equal(rs.coerce(as_text, "remote_studies", cats), df)
    shuffled = df.assign(centre=df["centre"].cat.reorder_categories(list(df["centre"].cat.categories)[::-1]))
    pdt.assert_frame_equal(rs.coerce(shuffled, "remote_studies", cats), df)
    pdt.assert_frame_equal(rs.coerce(df[df.columns[::-1]], "remote_studies", cats), df)
    bad = df.assign(site=df["site"].astype(object).where(df.index != df.index[0], "atlantis"))
    with pytest.raises(ValueError, match=r"remote_studies\.site.*atlantis"):
        rs.coerce(bad, "remote_studies", cats)
    with pytest.raises(ValueError, match="missing column 'status'"):
        rs.coerce(df.drop(columns="status"), "remote_studies", cats)
    with pytest.raises(ValueError, match="undeclared column 'extra'"):
        rs.coerce(df.assign(extra=1), "remote_studies", cats)


def test_categories_come_from_the_run_folder_as_from_memory(tmp_path):
    cfg, res = _fresh("expert_weekly")
    sim.write_run(res, tmp_path)
    back = sim.load_run(tmp_path)
    assert _cats(back) == _cats(res)
    assert _cats(res).facility == tuple(sites_table(build_county(cfg.network))["site"])
    for t in (*TABLES, "kpis", "occupancy"):
        pdt.assert_frame_equal(getattr(back, t), getattr(res, t), check_exact=True)
