"""Every seed scheme runs: the seed networks, the Liuzhou "3-1" takeover and 120 scenario, the
Qingdao workstations, and the ``seed_schemes`` study that bundles them (issue "Every seed
scheme runs").  Short: one 4-day replication, everything else is composition."""

from __future__ import annotations

import copy
import importlib.util
import sys
from functools import lru_cache

import numpy as np
import pytest

import sim
from sim.county.network import build_county
from sim.county.restructure import effective_network, network_diff
from sim.experiment.study import compose_study, load_study
from tests.conftest import ROOT

SEED_NETWORKS = ["taobei", "xianghe", "liuzhou", "qingbaijiang", "qingdao"]
TAKEN_OVER = ["t_bailu", "t_huangcun", "t_shibeiping"]  # seed 002: 黄村, 石碑坪, 白露卫生院
JOINED_120 = ["t_shibeiping", "t_chuanshan"]  # seed 002: 石碑坪镇卫生院, 穿山镇中心卫生院


@lru_cache(maxsize=1)
def _composed_study() -> dict[str, sim.Config]:
    """Every scenario of the seed_schemes study (read-only: use :func:`_scenario` to modify)."""
    return compose_study(load_study("seed_schemes"), ["run=test"])


def _scenario(name: str) -> sim.Config:
    """One scenario of the seed_schemes study: the study is composed once (Hydra is slow on the
    big networks) and its configs handed out as deep copies, safe to modify."""
    return copy.deepcopy(_composed_study()[name])


@pytest.mark.parametrize("network", SEED_NETWORKS)
def test_every_seed_network_composes_and_builds(network):
    cfg = _scenario(f"{network}_baseline")  # the study's plain network=<network> scenario
    county = build_county(effective_network(cfg))
    assert cfg.network.name == network
    assert sum(int(t) == 3 for t in county.tier) == 1
    assert np.isfinite(county.travel[:, county.tier == 1].min(axis=1)).all()
    assert np.isfinite(county.travel[:, county.tier == 2].min(axis=1)).all()


@lru_cache(maxsize=1)
def _make_networks():
    """``scripts/make_networks.py`` as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("make_networks", ROOT / "scripts" / "make_networks.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.modules.pop(spec.name, None)
    return mod


@pytest.mark.parametrize("network", SEED_NETWORKS)
def test_the_generator_reproduces_the_new_network_files(network):
    mod = _make_networks()
    assert sorted(mod.networks()) == sorted(SEED_NETWORKS)  # one source per bundled network
    assert mod.build(network) == (ROOT / "scenarios" / "network" / f"{network}.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("    population: 22000\n", "", "members.t_bailu: missing key 'population'"),
        ("    population: 22000\n", "    populaton: 22000\n", "members.t_bailu.populaton: unknown key"),
        ("  beds: 600\n", "  beds: many\n", "lead.beds: expected int"),
        ("  t_bailu:\n", "  t_huangcun:\n", "duplicate key 't_huangcun'"),
    ],
)
def test_a_malformed_network_source_fails_with_one_line_naming_file_and_key(tmp_path, capsys, old, new, key):
    mod = _make_networks()
    for src in (ROOT / "scripts" / "networks").glob("*.yaml"):
        (tmp_path / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    text = (tmp_path / "liuzhou.yaml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "liuzhou.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(mod.SourceError, match="liuzhou.yaml: "):
        mod.load_source(tmp_path / "liuzhou.yaml")
    assert mod.main(["--check", "--sources", str(tmp_path), "--out", str(tmp_path), "liuzhou"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path / "liuzhou.yaml") in err and key in err, err


def test_liuzhou_has_two_leads_and_the_takeover_moves_the_three_centres():
    cfg = _scenario("liuzhou_takeover")
    facs = cfg.network.facilities
    assert {f for f, x in facs.items() if x.tier == 2} == {"liuzhou_tcm", "liubei_district"}
    assert all(facs[s].lead == "liubei_district" for s in TAKEN_OVER)
    after = effective_network(cfg)
    diff = network_diff(cfg.network, after)
    leads = diff[diff["attribute"] == "lead"]
    assert sorted(leads["site"]) == TAKEN_OVER
    assert set(leads["before"]) == {"liubei_district"} and set(leads["after"]) == {"liuzhou_tcm"}
    assert set(diff["attribute"]) == {"lead"}  # staff, beds and equipment stay as they were
    # the district hospital keeps members of its own
    assert any(f.lead == "liubei_district" for f in after.facilities.values() if f.tier == 1)
    build_county(after)


def test_liuzhou_120_scenario_puts_ambulances_at_township_centres():
    cfgs = _composed_study()
    for name in ("liuzhou_takeover_120", "liuzhou_three_one"):
        facs = cfgs[name].network.facilities
        for s in JOINED_120:
            assert facs[s].tier == 1 and facs[s].ambulances >= 1, (name, s)
    base = cfgs["liuzhou_takeover"].network.facilities
    assert all(f.ambulances == 0 for f in base.values() if f.tier == 1)


def test_qingdao_workstations_cover_the_19_grassroots_sites():
    cfg = _scenario("qingdao_workstations")
    facs = cfg.network.facilities
    tier1 = {f for f, x in facs.items() if x.tier == 1}
    assert len(tier1) == 19  # seed 004: 10 + 9 workstations
    assert {"c_fuan", "t_jiaolai", "c_wanggezhuang"} <= tier1
    assert cfg.levers.expert.enabled
    visited = {s for t in cfg.levers.expert.teams for s in t.sites}
    assert visited == tier1


def test_the_qingdao_full_scheme_is_the_workstations_with_the_green_channel():
    full, ws = _scenario("qingdao_green_channel"), _scenario("qingdao_workstations")
    assert full.levers.expert == ws.levers.expert and full.levers.remote == ws.levers.remote
    gc = full.levers.green_channel
    assert gc.enabled and gc.sites == ["qingdao_municipal"] and gc.refer_back and gc.priority_boost
    assert not ws.levers.green_channel.enabled
    full.run.horizon_days, full.run.warmup_days, full.run.check_conservation = 3.0, 1.0, True
    k = sim.run(full, jobs=1).kpis
    assert k[k["metric"] == "green_channel_patients"]["value"].iloc[0] > 0


def test_every_seed_scheme_scenario_composes_on_its_own_network():
    study = load_study("seed_schemes")
    assert study.base_overrides == []
    cfgs = _composed_study()
    assert set(cfgs) == set(study.scenarios)
    networks = {name: c.network.name for name, c in cfgs.items()}
    assert set(networks.values()) == set(SEED_NETWORKS)
    for name, net in networks.items():
        assert name.startswith(net + "_"), (name, net)  # every scenario names its own network
    assert cfgs["taobei_1_plus_n"].levers.name == "taobei_heads"
    assert cfgs["xianghe_friday"].levers.name == "xianghe_friday"
    assert cfgs["xianghe_remote_full"].levers.name == "remote_full"
    assert cfgs["qingdao_workstations"].levers.name == "qingdao_workstations"
    assert len(cfgs["liuzhou_takeover"].restructure.operations) == 1
    assert "cathlab" in cfgs["qingbaijiang_baseline"].network.facilities["qingbaijiang_peoples"].acquire
    for c in cfgs.values():
        build_county(effective_network(c))


def test_the_liuzhou_takeover_with_120_runs_and_conserves_patients():
    cfg = _scenario("liuzhou_takeover_120")
    cfg.run.horizon_days = 4.0
    cfg.run.warmup_days = 1.0
    cfg.run.check_conservation = True
    result = sim.run(cfg, jobs=1)
    p = result.patients
    info = result.meta["replication_info"]["0"]
    assert info["patients"] == len(p) > 0
    assert set(p["exit"].astype(str)) <= {"completed", "transferred_out", "left_untreated", "in_system"}
    kpis = result.kpis
    assert kpis[kpis["metric"] == "episodes"]["value"].iloc[0] > 0
