"""Downsizing and restructuring transforms (applied to the network before the run)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import sim
from sim.config import (
    Config,
    ConfigError,
    Facility,
    NetworkConfig,
    Operation,
    RestructureConfig,
    Road,
    RunConfig,
    Village,
)
from sim.county.network import build_county
from sim.county.restructure import apply_operations, effective_network, network_diff, running_cost


def line_network() -> NetworkConfig:
    """v -- 10 min -- t1 -- 30 min -- lead -- 60 -- city;  v -- 25 min -- t2 -- 20 -- lead."""
    lead = Facility(kind="lead", tier=2, doctors={"general": 4}, beds=20)
    return NetworkConfig(
        name="line",
        villages={"v": Village(population=1000, clinic_doctors=0)},
        facilities={
            "t1": Facility(kind="township", tier=1, lead="lead", doctors={"general": 2}, beds=10),
            "t2": Facility(kind="township", tier=1, lead="lead", doctors={"general": 3}, beds=8),
            "lead": lead,
            "city": Facility(kind="tertiary", tier=3, doctors={"general": 1}),
        },
        roads=[Road("v", "t1", 10.0), Road("t1", "lead", 30.0), Road("v", "t2", 25.0), Road("t2", "lead", 20.0),
               Road("lead", "city", 60.0)],
    )


def test_closing_a_site_gives_the_exact_new_travel_times():
    net = line_network()
    before = build_county(net)
    v = before.village_ids.index("v")
    assert before.facility_ids[before.home_tier1[v]] == "t1"
    after_net = apply_operations(net, RestructureConfig([Operation(op="close", site="t1")]))
    after = build_county(after_net)
    # the home centre is now t2, 25 minutes away; t1 remains a road junction, so the lead is
    # still 10 + 30 = 40 minutes away (not 25 + 20 = 45)
    assert after.facility_ids[after.home_tier1[v]] == "t2"
    assert after.travel[v, after.facility_ids.index("t2")] == 25.0
    assert after.travel[v, after.facility_ids.index("lead")] == 40.0
    assert not after.is_open[after.facility_ids.index("t1")]


def test_closure_changes_first_contact_in_the_model_to_what_remains():
    net = line_network()
    care = sim.compose(["network=toy"]).care
    cfg = Config(network=net, care=care, run=RunConfig(horizon_days=14, warmup_days=0, replications=1, jobs=1))
    cfg = dataclasses.replace(cfg, restructure=RestructureConfig([Operation(op="close", site="t1")]))
    res = sim.run(cfg)
    p = res.patients
    assert "t1" not in set(p["first_facility"].dropna().astype(str))
    assert not (res.visits["facility"].astype(str) == "t1").any()
    t2 = p[p["first_facility"].astype(str) == "t2"]
    assert len(t2) > 0 and np.allclose(t2["first_travel_min"], 25.0)


def test_merge_moves_capacity_exactly_or_cuts_as_configured():
    net = line_network()
    full = apply_operations(net, RestructureConfig([Operation(op="merge", site="t1", into="t2")]))
    assert full.facilities["t2"].doctors["general"] == 5 and full.facilities["t2"].beds == 18
    assert full.facilities["t1"].closed
    cut = apply_operations(net, RestructureConfig([Operation(op="merge", site="t1", into="t2", keep_share=0.5)]))
    assert cut.facilities["t2"].doctors["general"] == 3 + 1 and cut.facilities["t2"].beds == 8 + 5
    # the input config is never modified
    assert not net.facilities["t1"].closed and net.facilities["t2"].beds == 8


def test_scale_move_handover_and_post():
    net = line_network()
    ops = [Operation(op="scale", tier=1, resource="beds", factor=2.0),
           Operation(op="move_doctors", site="lead", kind="general", n=1),
           Operation(op="convert_to_post", site="t1", n=2)]
    out = apply_operations(net, RestructureConfig(ops))
    assert out.facilities["t1"].beds == 20 and out.facilities["t2"].beds == 16
    assert out.facilities["lead"].doctors["general"] == 2
    assert out.facilities["t2"].doctors["general"] == 4
    assert out.facilities["t1"].closed and out.villages["v"].clinic_doctors == 2
    net2 = line_network()
    net2.facilities["lead2"] = Facility(kind="lead", tier=2, doctors={"general": 2}, beds=5)
    net2.roads.append(Road("lead2", "t2", 15.0))
    out2 = apply_operations(net2, RestructureConfig([Operation(op="hand_over", lead="lead2", sites=["t2"])]))
    assert out2.facilities["t2"].lead == "lead2"
    county = build_county(out2)
    assert county.facility_ids[county.lead_of[county.facility_ids.index("t2")]] == "lead2"


def test_no_village_loses_access_without_a_clear_error():
    net = line_network()
    out = apply_operations(net, RestructureConfig([Operation(op="close", site="t1"),
                                                   Operation(op="close", site="t2")]))
    with pytest.raises(ConfigError, match="network.villages.v: cannot reach any open tier-1"):
        build_county(out)


@pytest.mark.parametrize("op, match", [
    (Operation(op="demolish", site="t1"), r"operations\[0\].op"),
    (Operation(op="close", site="nowhere"), r"operations\[0\].site: names 'nowhere'"),
    (Operation(op="close", site="lead"), "still has members"),
    (Operation(op="merge", site="t1", into="t1"), "into itself"),
    (Operation(op="merge", site="lead", into="t1"), "cannot merge tier 2"),
    (Operation(op="merge", site="t1", into="t2", keep_share=1.5), "keep_share"),
    (Operation(op="scale", site="t1", resource="nurses", factor=2), "resource"),
    (Operation(op="scale", site="t1", resource="beds", factor=-1), "factor"),
    (Operation(op="move_doctors", site="lead", kind="general", n=5), "has 4"),
    (Operation(op="hand_over", lead="city", sites=["t1"]), "out-of-county"),
])
def test_bad_operations_are_clear_errors(op, match):
    with pytest.raises(ConfigError, match=match):
        apply_operations(line_network(), RestructureConfig([op]))


def test_network_diff_and_running_cost():
    net = line_network()
    rc = RestructureConfig([Operation(op="merge", site="t1", into="t2")], cost_per_doctor_year=1.0,
                           cost_per_bed_year=10.0)
    out = apply_operations(net, rc)
    d = network_diff(net, out)
    rows = {(r.site, r.attribute): (r.before, r.after) for r in d.itertuples()}
    assert rows[("t1", "closed")] == ("False", "True")
    assert rows[("t2", "doctors:general")] == ("3", "5")
    assert rows[("t2", "beds")] == ("8", "18")
    # doctors 2+3+4 = 9, beds 10+8+20 = 38: merging keeps both, so running cost is unchanged
    assert running_cost(net, rc) == running_cost(out, rc) == 9 + 380


def test_closing_a_site_never_lowers_mean_travel_for_its_villages():
    """Common random numbers: the same patients, with and without toy's township t1."""
    base = sim.compose(["network=toy", "run.horizon_days=14", "run.warmup_days=0", "run.replications=3"])
    closed = dataclasses.replace(base, restructure=RestructureConfig([Operation(op="close", site="t1")]))
    a, b = sim.run(base, jobs=1), sim.run(closed, jobs=1)
    county = build_county(effective_network(base))
    users = [v for i, v in enumerate(county.village_ids) if county.facility_ids[county.home_tier1[i]] == "t1"]
    assert users
    for r in range(3):
        for v in users:
            ka = a.kpis[(a.kpis.metric == "first_contact_travel_mean_min") & (a.kpis.group == v) & (a.kpis.replication == r)]
            kb = b.kpis[(b.kpis.metric == "first_contact_travel_mean_min") & (b.kpis.group == v) & (b.kpis.replication == r)]
            assert kb["value"].iloc[0] >= ka["value"].iloc[0] - 1e-9, (v, r)
    # ... and the patients are the same ones (CRN)
    assert a.patients[["onset", "village", "condition"]].equals(b.patients[["onset", "village", "condition"]])


def test_bundled_restructure_scenarios_compose_and_apply():
    for name in ("taobei_close_two_smallest", "taobei_merge_neighbours", "taobei_doctors_down", "taobei_post"):
        cfg = sim.compose(["network=taobei", f"restructure={name}"])
        net = effective_network(cfg)
        build_county(net)
        assert len(network_diff(cfg.network, net)) > 0
