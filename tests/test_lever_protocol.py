"""The lever protocol (sim/levers/protocol.py) is what the model uses: every registered lever
implements it, declares KPIs that exist and are computed and tables that exist, validates its
config without SimPy; and a lever added to the registry is installed and its hooks called by
the flow, with no other change."""

from __future__ import annotations

import dataclasses
import inspect
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.analysis.registry import REGISTRY
from sim.config import Config
from sim.config.levers import LEVER_CHECKS
from sim.levers import registry
from sim.levers.protocol import HOOKS, Hooks, Lever, default_decide, default_settle
from sim.levers.registry import LEVERS
from sim.levers.site_rules import DEFAULT
from sim.model.world import World
from sim.records.schema import RECORD_TABLES
from tests.conftest import compose

ROOT = Path(__file__).resolve().parent.parent
#: every lever on (expert visits, remote reading with tele-ECG and consultation, green channel)
ALL_ON = ("network=toy", "run=test", "run.horizon_days=7", "run.warmup_days=0", "levers=combined_weekly_full",
          "levers.green_channel.enabled=true")


@pytest.mark.parametrize("lever", LEVERS, ids=lambda lv: lv.name)
def test_every_registered_lever_implements_the_protocol(lever):
    assert isinstance(lever, Lever)
    for hook in HOOKS:
        fn = getattr(lever, hook)
        assert fn is None or callable(fn), f"{lever.name}.{hook}"
    if lever.settle is not None:
        assert inspect.isgeneratorfunction(lever.settle), "settle is a process step"
    if lever.defer is not None:
        assert lever.decide is not None, "defer runs when the lever's own decide says DEFER"
    # the section it reads is a config path
    node: object = Config()
    for part in lever.section.split("."):
        assert dataclasses.is_dataclass(node) and hasattr(node, part), lever.section
        node = getattr(node, part)


def test_lever_names_are_unique_and_hooks_resolve_for_all_levers_together():
    assert len({lv.name for lv in LEVERS}) == len(LEVERS)
    hooks = Hooks(LEVERS)  # no two levers claim a hook that belongs to one
    assert hooks.decide is not default_decide and hooks.settle is not default_settle


@pytest.mark.parametrize("lever", LEVERS, ids=lambda lv: lv.name)
def test_declared_kpis_and_tables_exist(lever):
    assert lever.kpis, f"{lever.name} declares no KPI"
    assert set(lever.kpis) <= set(REGISTRY), "declare them in sim/analysis/registry.py"
    assert set(lever.tables) <= set(RECORD_TABLES), "declare them in sim/records/schema.py"


def test_every_lever_kpi_belongs_to_a_lever():
    declared = {k for lv in LEVERS for k in lv.kpis}
    assert {k for k, kpi in REGISTRY.items() if kpi.theme == "levers"} <= declared


@pytest.fixture(scope="module")
def all_on() -> sim.RunResult:
    return sim.run(compose(*ALL_ON), jobs=1)


def test_the_config_turns_every_lever_on():
    assert [lv.name for lv in registry.enabled_levers(compose(*ALL_ON))] == [lv.name for lv in LEVERS]


@pytest.mark.parametrize("lever", LEVERS, ids=lambda lv: lv.name)
def test_declared_kpis_are_computed_and_tables_written(lever, all_on):
    computed = set(all_on.kpis["metric"])
    assert set(lever.kpis) <= computed
    for t in lever.tables:
        assert len(getattr(all_on, t)) > 0, f"{lever.name} writes {t}, empty with every lever on"


def test_the_config_layer_runs_every_lever_check_in_registry_order():
    assert LEVER_CHECKS == tuple(lv.validate for lv in LEVERS)


def test_lever_validation_runs_without_simpy():
    """Each lever's ``validate`` is a SimPy-free function: run them on a config with every lever
    on in a fresh process that never imports the engine, the model or the levers."""
    fns = [(lv.validate.__module__, lv.validate.__name__) for lv in LEVERS]
    assert all(m.startswith("sim.config") for m, _ in fns)
    code = ("import importlib, sys\n"
            "from sim.config.loading import compose\n"
            f"cfg = compose({list(ALL_ON)!r})\n"
            f"for mod, fn in {fns!r}:\n"
            "    getattr(importlib.import_module(mod), fn)(cfg)\n"
            "bad = sorted(m for m in sys.modules if m == 'simpy' or m.startswith(('simpy.', 'sim.engine', "
            "'sim.model', 'sim.levers')))\nprint(bad)\nsys.exit(1 if bad else 0)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_levers_off_leave_the_default_hooks():
    w = World(compose("network=toy", "run=test", "run.horizon_days=1", "run.warmup_days=0"), 0)
    assert w.rules == [None] * len(w.sites) and w.hooks.at_door is None and w.hooks.decide is default_decide


# --------------------------------------------------------------------------------------------
# a lever added to the registry is what the model uses


class Dummy:
    """A toy lever: a rule for every outpatient condition at every township centre; decides the
    default; its settle keeps the consult's decision, or manages everyone (``manage_all``)."""

    section = "levers"
    kpis = ("managed_locally_by_levers",)
    tables = ("lever_events",)
    defer = None
    send_ahead = None
    at_door = None
    queue_doctor = queue_bed = down_target = None

    def __init__(self, manage_all: bool = False):
        self.name = "dummy"
        self.manage_all = manage_all
        self.calls: Counter[str] = Counter()

    def validate(self, cfg) -> None:
        self.calls["validate"] += 1

    def enabled(self, cfg) -> bool:
        return True

    def install(self, w, rules) -> None:
        self.calls["install"] += 1
        for s in range(w.F):
            if w.sites[s] is not None and w.tier[s] == 1:
                for c, cond in enumerate(w.conds):
                    if cond.pathway == "outpatient":
                        rules.rule(s, c)

    def decide(self, w, r, a, now, mode):
        self.calls["decide"] += 1
        return default_decide(w, r, a, now, mode)

    def settle(self, w, r, how, pid, c, a, s, row, manage, prio):
        self.calls["settle"] += 1
        assert how == DEFAULT
        return True if self.manage_all else manage
        yield


def _tables(w: World) -> dict[str, pd.DataFrame]:
    w.run()
    return w.log.tables(w.site_ids, w.county.village_ids, w.cat.ids, w.specialties)


def test_a_registered_lever_is_installed_and_its_hooks_called(monkeypatch):
    cfg = compose("network=toy", "run=test", "run.horizon_days=3", "run.warmup_days=0")
    base = _tables(World(cfg, 0))
    dummy = Dummy()
    monkeypatch.setattr(registry, "LEVERS", (dummy,))
    assert isinstance(dummy, Lever)
    w = World(cfg, 0)
    assert dummy.calls["install"] == 1 and w.hooks.decide == dummy.decide and w.hooks.settle == dummy.settle
    got = _tables(w)
    assert dummy.calls["decide"] > 50 and dummy.calls["settle"] > 50
    # a lever that decides the default and keeps the consult's decision changes nothing
    for t in ("patients", "visits", "admissions", "emergency"):
        pd.testing.assert_frame_equal(got[t], base[t])


def test_a_registered_lever_changes_the_flow_through_its_hooks(monkeypatch):
    cfg = compose("network=toy", "run=test", "run.horizon_days=3", "run.warmup_days=0")
    monkeypatch.setattr(registry, "LEVERS", (Dummy(manage_all=True),))
    t = _tables(World(cfg, 0))
    v = t["visits"]
    cond = t["patients"]["condition"].astype(str).to_numpy()[v["patient"].to_numpy()]
    pathway = {cid: c.pathway for cid, c in cfg.care.conditions.items()}
    tier1 = v["facility"].astype(str).isin([f for f, fac in cfg.network.facilities.items() if fac.tier == 1])
    outpatient = pd.Series([pathway[c] == "outpatient" for c in cond], index=v.index)
    sel = tier1 & outpatient & (v["mode"].astype(str) != "deferred_return")
    assert sel.sum() > 50
    assert (v.loc[sel, "outcome"].astype(str) != "referred_up").all()  # every one of them managed


def test_hooks_that_belong_to_one_lever_are_not_claimed_twice():
    a, b = Dummy(), Dummy()
    b.name = "other"
    with pytest.raises(ValueError, match="'decide' hook"):
        Hooks([a, b])


def test_several_settle_hooks_run_in_registry_order():
    order: list[str] = []

    def step(tag, result):
        def settle(w, r, how, pid, c, a, s, row, manage, prio):
            order.append(f"{tag}:{manage}")
            return result
            yield
        return settle

    first, second = Dummy(), Dummy()
    first.name, second.name = "first", "second"
    first.decide = None  # type: ignore[method-assign]
    first.settle, second.settle = step("first", True), step("second", False)  # type: ignore[method-assign]
    hooks = Hooks([first, second])
    gen = hooks.settle(None, None, DEFAULT, 0, 0, None, 0, 0, False, 1)
    with pytest.raises(StopIteration) as done:
        next(gen)
    assert done.value.value is False and order == ["first:False", "second:True"]


def test_pools_are_published_in_order_of_first_use_whichever_lever_used_them_first():
    """Tele-ECG installs after remote reading but uses the reading centre at an earlier (site,
    condition) than remote consultation uses its lines: the centre's readers come first, as
    when one module installed both (occupancy rows and the rotas' event order unchanged)."""
    w = World(compose("network=toy", "run=test", "run.horizon_days=2", "run.warmup_days=0", "levers=remote_full",
                      "levers.remote.modalities=[ecg]", "levers.remote.consult.conditions=[complex_beyond_county]",
                      "care.conditions.specialist_cardiology.diagnostics=[]"), 0)
    assert [p.resource for p in w.lever_pools] == ["readers", "mdt_lines"]
