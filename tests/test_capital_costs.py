"""Capital (one-off) costs: every lever and restructuring that buys something is priced, the
price is annualised over a stated lifetime at a stated discount rate, and the total yearly cost
is running + annualised capital (``capital_cost``, ``capital_cost_per_year``,
``total_cost_per_year``)."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

import sim
from sim.analysis.kpis import _capital_costs, annuity_factor
from sim.config import ConfigError, LeversConfig, Operation, Prices, RestructureConfig
from sim.config.checks import BOUNDS
from sim.config.schema import (
    LIFETIME_VEHICLE_YEARS,
    ExpertCapital,
    ExpertConfig,
    ExpertTeam,
    RemoteCapital,
    RemoteConfig,
)
from tests.conftest import compose


def _sites() -> pd.DataFrame:
    """A lead with three township members (t3 closed) and the out-of-county node."""
    return pd.DataFrame({"site": ["lead", "t1", "t2", "t3", "city"], "tier": [2, 1, 1, 1, 3],
                         "lead": ["", "lead", "lead", "lead", ""], "closed": [False, False, False, True, False],
                         "beds": [500, 20, 31, 40, 0]})


def _capital(lv: LeversConfig | None = None, rc: RestructureConfig | None = None,
             prices: Prices | None = None) -> tuple[pd.Series, float]:
    rows: list = []
    per_year = _capital_costs(rows, _sites(), rc or RestructureConfig(), lv or LeversConfig(), prices or Prices())
    k = pd.DataFrame(rows, columns=["metric", "group", "value"]).set_index(["metric", "group"])["value"]
    return k, per_year


def test_the_annuity_repays_the_capital_with_interest():
    # 1 CNY repaid over 6 years at 5%: the payments' present value is 1
    a = annuity_factor(0.05, 6)
    assert sum(a / 1.05 ** t for t in range(1, 7)) == pytest.approx(1.0)
    assert annuity_factor(0.0, 4) == 0.25
    assert annuity_factor(0.05, 6) > 1 / 6   # discounting costs more than straight-line


def test_nothing_bought_costs_nothing():
    k, per_year = _capital(rc=RestructureConfig(operations=[Operation(op="close", site="t2")]))
    assert k["capital_cost", "county"] == 0 and per_year == 0


def test_remote_diagnosis_buys_workstations_a_centre_links_and_tele_ecg_devices():
    cap = RemoteCapital(workstation_per_seat=10.0, centre_setup=1000.0, sending_site_setup=100.0,
                        tele_ecg_device=7.0, lifetime_years=6.0, tele_ecg_lifetime_years=5.0)
    lv = LeversConfig(remote=RemoteConfig(enabled=True, modalities=["ecg"], readers=4, night_readers=2,
                                          tele_ecg=True, capital=cap))
    k, per_year = _capital(lv)
    # one centre (one lead), 4 seats (the night readers use the day seats), 2 open members send
    assert k["capital_cost", "remote"] == 1000 + 4 * 10 + 2 * 100
    assert k["capital_cost", "tele_ecg"] == 2 * 7
    assert k["capital_cost", "county"] == 1240 + 14
    assert k["capital_cost_per_year", "remote"] == pytest.approx(1240 * annuity_factor(0.05, 6))
    assert k["capital_cost_per_year", "tele_ecg"] == pytest.approx(14 * annuity_factor(0.05, 5))
    assert per_year == pytest.approx(k["capital_cost_per_year", "county"])
    # named sending sites only
    k2, _ = _capital(dataclasses.replace(lv, remote=dataclasses.replace(lv.remote, sites=["t1"])))
    assert k2["capital_cost", "tele_ecg"] == 7


def test_expert_visits_equip_each_visited_site_once_per_specialty():
    cap = ExpertCapital(equipment_per_site={"ent": 60.0, "dental": 80.0}, vehicles=1, vehicle_price=1000.0,
                        lifetime_years=5.0)
    teams = [ExpertTeam(specialty="ent", every_days=7.0),                     # every open member: t1, t2
             ExpertTeam(specialty="ent", sites=["t1"], every_days=14.0),     # t1 already has its ENT unit
             ExpertTeam(specialty="dental", sites=["t2"], every_days=7.0),
             ExpertTeam(specialty="ortho", every_days=7.0)]                   # needs nothing
    k, _ = _capital(LeversConfig(expert=ExpertConfig(enabled=True, teams=teams, capital=cap)))
    assert k["capital_cost", "expert"] == 2 * 60 + 80 + 1000
    assert k["capital_cost_per_year", "expert"] == pytest.approx(
        200 * annuity_factor(0.05, 5) + 1000 * annuity_factor(0.05, LIFETIME_VEHICLE_YEARS))


def test_restructuring_pays_for_the_beds_a_site_gains_and_the_posts_it_opens():
    rc = RestructureConfig(operations=[Operation(op="merge", site="t3", into="t1", keep_share=0.8),
                                       Operation(op="convert_to_post", site="t2")],
                           capital_per_bed_added=100.0, capital_per_post=5000.0, capital_other=7.0,
                           capital_lifetime_years=50.0)
    k, _ = _capital(rc=rc)
    assert k["capital_cost", "restructure"] == 32 * 100 + 5000 + 7   # 40 beds x 0.8 moved
    assert k["capital_cost_per_year", "restructure"] == pytest.approx(8207 * annuity_factor(0.05, 50))
    # a higher discount rate costs more a year, the same once
    k_hi, _ = _capital(rc=rc, prices=Prices(discount_rate=0.08))
    assert k_hi["capital_cost", "county"] == k["capital_cost", "county"]
    assert k_hi["capital_cost_per_year", "county"] > k["capital_cost_per_year", "county"]
    # scaling beds up at a site pays for the added beds: 31 = round(20 x 1.55)
    k_s, _ = _capital(rc=RestructureConfig(operations=[Operation(op="scale", site="t2", resource="beds", factor=1.55)],
                                           capital_per_bed_added=1.0))
    assert k_s["capital_cost", "restructure"] == 31 - 20


def test_every_capital_field_has_a_declared_range_and_a_bad_one_names_its_key():
    for cls in (ExpertCapital, RemoteCapital):
        for f in dataclasses.fields(cls):
            assert (cls.__name__, f.name) in BOUNDS, (cls.__name__, f.name)
    for f in ("capital_per_bed_added", "capital_per_post", "capital_other", "capital_lifetime_years"):
        assert ("RestructureConfig", f) in BOUNDS
    assert ("Prices", "discount_rate") in BOUNDS
    for override, key in [("levers.remote.capital.workstation_per_seat=-1", "levers.remote.capital.workstation_per_seat"),
                          ("care.prices.discount_rate=1.5", "care.prices.discount_rate"),
                          ("restructure.capital_lifetime_years=0", "restructure.capital_lifetime_years")]:
        with pytest.raises(ConfigError) as exc:
            sim.compose(["network=toy", "run=test", override])
        assert str(exc.value).startswith(key + ":"), str(exc.value)


@pytest.fixture(scope="module")
def runs():
    base = sim.run(compose("network=toy", "run=test"), jobs=1)
    remote = sim.run(compose("network=toy", "run=test", "levers=remote_full"), jobs=1)
    return base, remote


def _v(r, metric: str, group: str = "county") -> float:
    k = r.kpis
    return float(k[(k["metric"] == metric) & (k["group"] == group)]["value"].mean())


def test_a_run_reports_capital_and_total_cost(runs):
    base, remote = runs
    assert _v(base, "capital_cost") == 0 and _v(base, "capital_cost_per_year") == 0
    assert _v(remote, "capital_cost") > 0 and _v(remote, "capital_cost", "tele_ecg") > 0
    for r in runs:
        assert _v(r, "total_cost_per_year") == pytest.approx(_v(r, "running_cost_per_year")
                                                             + _v(r, "capital_cost_per_year"))
        k = r.kpis[(r.kpis["metric"] == "capital_cost") & (r.kpis["replication"] == 0)]
        assert float(k[k["group"] == "county"]["value"].iloc[0]) == pytest.approx(k[k["group"] != "county"]["value"].sum())
    assert not math.isnan(_v(remote, "total_cost_per_year"))


def test_a_misspelt_specialty_in_the_expert_equipment_prices_is_refused():
    from sim.config import ConfigError
    from sim.config.loading import compose

    with pytest.raises(ConfigError, match=r"^levers\.expert\.capital\.equipment_per_site\.entt: unknown doctor kind"):
        compose(["network=toy", "care=default", "+levers.expert.capital.equipment_per_site.entt=60000"])
