"""Opening hours and shifts, named random streams, and the pure routing rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy

from sim.county.calendar import DAY, is_open, next_opening
from sim.county.network import build_county
from sim.county.patients import Catalogue
from sim.county.routing import ChoiceTable, SiteInfo, can_manage, doctor_kind, emergency_capable, logit, referral_target
from sim.engine.resources import Site
from sim.rng import stream
from tests.conftest import compose

ALL_DAYS = frozenset(range(7))
H = 60.0
OPEN, CLOSE = 8 * H, 17.5 * H


# ---------------------------------------------------------------------------- hours

@pytest.mark.parametrize("t, expected", [
    (8 * H - 0.001, False), (8 * H, True), (12 * H, True), (17.5 * H - 0.001, True), (17.5 * H, False),
    (23 * H, False), (DAY + 9 * H, True), (6 * DAY + 9 * H, True), (7 * DAY + 9 * H, True),
])
def test_is_open_every_day(t, expected):
    assert is_open(t, OPEN, CLOSE, ALL_DAYS) is expected


def test_is_open_only_on_listed_weekdays():
    weekdays = frozenset({0, 1, 2, 3, 4})  # Monday..Friday
    assert is_open(4 * DAY + 9 * H, OPEN, CLOSE, weekdays)        # Friday
    assert not is_open(5 * DAY + 9 * H, OPEN, CLOSE, weekdays)    # Saturday
    assert not is_open(6 * DAY + 9 * H, OPEN, CLOSE, weekdays)    # Sunday
    assert is_open(7 * DAY + 9 * H, OPEN, CLOSE, weekdays)        # next Monday (day 7 -> weekday 0)


def test_next_opening_same_day_next_day_and_over_the_weekend():
    weekdays = frozenset({0, 1, 2, 3, 4})
    assert next_opening(9 * H, OPEN, CLOSE, weekdays) == 9 * H             # already open
    assert next_opening(2 * H, OPEN, CLOSE, weekdays) == OPEN              # later the same morning
    assert next_opening(18 * H, OPEN, CLOSE, weekdays) == DAY + OPEN       # after closing: tomorrow
    assert next_opening(4 * DAY + 18 * H, OPEN, CLOSE, weekdays) == 7 * DAY + OPEN  # Friday evening -> Monday
    assert next_opening(5 * DAY + 9 * H, OPEN, CLOSE, weekdays) == 7 * DAY + OPEN   # Saturday -> Monday
    assert next_opening(6 * DAY + 23 * H, OPEN, CLOSE, frozenset({6})) == 13 * DAY + OPEN  # a week later


def test_next_opening_is_open_and_nothing_earlier_is():
    rng = np.random.default_rng(1)
    days = frozenset({1, 3, 6})
    for t in rng.uniform(0, 21 * DAY, 300):
        n = next_opening(t, OPEN, CLOSE, days)
        assert n >= t and is_open(n, OPEN, CLOSE, days)
        # no open minute in between (checked on a 1-minute grid)
        grid = np.arange(math.ceil(t), n, 1.0)
        assert not any(is_open(x, OPEN, CLOSE, days) for x in grid[:-1] if x < n)


def test_next_opening_never_when_no_days():
    assert next_opening(100.0, OPEN, CLOSE, frozenset()) == math.inf


def _site(env, open_hour, close_hour, days, weekend_share=1.0, day=3, night=1):
    s = Site(env, 0, "t", 1, {"general": day}, {"general": night}, 0, [], [], {}, 0, open_hour, close_hour,
             days, weekend_share)
    env.process(s.shifts(env))
    return s


def _capacity_at(env, site, t):
    env.run(until=t)
    return site.doctors["general"].capacity


def test_shifts_day_staff_in_hours_night_staff_outside_and_weekend_share():
    env = simpy.Environment()
    s = _site(env, 8, 17, list(range(7)), weekend_share=0.5, day=4, night=1)
    assert _capacity_at(env, s, 7 * H) == 1                # Monday before opening
    assert _capacity_at(env, s, 9 * H) == 4                # Monday in hours
    assert _capacity_at(env, s, 18 * H) == 1               # Monday evening
    assert _capacity_at(env, s, 5 * DAY + 9 * H) == 2      # Saturday: round(4 x 0.5)
    assert _capacity_at(env, s, 6 * DAY + 20 * H) == 1     # Sunday night
    assert _capacity_at(env, s, 7 * DAY + 9 * H) == 4      # Monday again


def test_shifts_no_day_staff_on_closed_weekdays():
    env = simpy.Environment()
    s = _site(env, 8, 17, [0, 2], day=3, night=1)
    assert _capacity_at(env, s, 10 * H) == 3               # Monday
    assert _capacity_at(env, s, DAY + 10 * H) == 1         # Tuesday: closed
    assert _capacity_at(env, s, 2 * DAY + 10 * H) == 3     # Wednesday


def test_shifts_clinic_open_from_midnight_has_its_day_staff():
    """open_hour 0: the clinic is open from 00:00, so its day doctors must be on duty then."""
    env = simpy.Environment()
    s = _site(env, 0, 24, list(range(7)), day=3, night=1)
    assert s.is_open(60.0)
    assert _capacity_at(env, s, 60.0) == 3
    assert _capacity_at(env, s, DAY + 12 * H) == 3
    env2 = simpy.Environment()
    s2 = _site(env2, 0, 12, list(range(7)), day=3, night=1)
    assert _capacity_at(env2, s2, 2 * DAY + 6 * H) == 3     # open 00:00-12:00
    assert _capacity_at(env2, s2, 2 * DAY + 13 * H) == 1


# ---------------------------------------------------------------------------- random streams

def test_stream_is_reproducible():
    a = stream(42, 3, "arrivals/v1").random(100)
    b = stream(42, 3, "arrivals/v1").random(100)
    np.testing.assert_array_equal(a, b)


def test_streams_differ_by_name_replication_and_seed():
    base = stream(42, 0, "arrivals/v1").random(1000)
    others = [stream(42, 0, "arrivals/v2").random(1000), stream(42, 1, "arrivals/v1").random(1000),
              stream(43, 0, "arrivals/v1").random(1000), stream(42, 0, "attributes/v1").random(1000)]
    for o in others:
        assert not np.any(base == o)
        # and they look independent: correlation well inside +-4 / sqrt(n)
        assert abs(np.corrcoef(base, o)[0, 1]) < 4 / math.sqrt(1000)


def test_creating_other_streams_does_not_shift_a_stream():
    alone = stream(7, 0, "x").random(10)
    for name in ("a", "b", "c"):
        stream(7, 0, name).random(1000)
    np.testing.assert_array_equal(alone, stream(7, 0, "x").random(10))


# ---------------------------------------------------------------------------- logit and choice

def test_logit_known_values_and_stability():
    np.testing.assert_allclose(logit(np.array([0.0, 0.0])), [0.5, 0.5])
    np.testing.assert_allclose(logit(np.array([1.0, 0.0])), [math.e / (1 + math.e), 1 / (1 + math.e)])
    p = logit(np.array([1000.0, 999.0, -1000.0]))   # no overflow
    assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(p[:2] / p[:2].sum(), logit(np.array([1.0, 0.0])))
    np.testing.assert_allclose(logit(np.array([3.0, 1.0, 2.0]) + 50), logit(np.array([3.0, 1.0, 2.0])))


def _choice(cfg):
    county = build_county(cfg.network)
    cat = Catalogue.from_config(cfg.care)
    return county, cat, ChoiceTable(county, cat, cfg.care)


def test_choice_probabilities_sum_to_one_and_match_choose():
    cfg = compose("network=toy")
    county, cat, table = _choice(cfg)
    rng = np.random.default_rng(0)
    for v in range(county.n_villages):
        for c in range(cat.n):
            for worried in (False, True):
                probs = table.probabilities(v, c, worried)
                assert sum(probs.values()) == pytest.approx(1.0, abs=1e-12)
                assert all(p >= 0 for p in probs.values())
                # inverse-CDF sampling reproduces the probabilities
                us = rng.random(4000)
                picks = [table.choose(v, c, u, worried) for u in us]
                for o, p in probs.items():
                    share = picks.count(o) / len(us)
                    assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / len(us)) + 1e-9
            if c > 2:
                break


def test_village_clinic_is_an_option_only_where_there_is_one():
    cfg = compose("network=toy")
    county, cat, table = _choice(cfg)
    F = county.n_facilities
    minor = cat.ids.index("minor_illness")
    for v, vid in enumerate(county.village_ids):
        has_clinic = county.clinic_doctors[v] > 0
        assert ((F + v) in table.options[v][minor]) == has_clinic, vid


def _expected_travel_and_far_share(cfg, village="v1", condition="minor_illness"):
    county, cat, table = _choice(cfg)
    v = county.village_ids.index(village)
    c = cat.ids.index(condition)
    probs = table.probabilities(v, c)
    travel = {o: (county.clinic_access_minutes if o >= county.n_facilities else county.travel[v, o])
              for o in probs}
    far = max(travel, key=travel.get)
    return sum(p * travel[o] for o, p in probs.items()), probs[far]


def test_stronger_travel_aversion_lowers_the_share_choosing_far_sites():
    base = compose("network=toy")
    averse = compose("network=toy", "care.choice.beta_travel_per_hour=-6.0")
    indifferent = compose("network=toy", "care.choice.beta_travel_per_hour=0.0")
    e_base, far_base = _expected_travel_and_far_share(base)
    e_averse, far_averse = _expected_travel_and_far_share(averse)
    e_ind, far_ind = _expected_travel_and_far_share(indifferent)
    assert e_averse < e_base < e_ind
    assert far_averse < far_base < far_ind


def test_higher_cost_aversion_shifts_choice_away_from_the_expensive_tertiary_node():
    base = compose("network=toy", "care.choice.beta_travel_per_hour=0.0")
    stingy = compose("network=toy", "care.choice.beta_travel_per_hour=0.0", "care.choice.beta_cost_per_100=-5.0")
    county, cat, ta = _choice(base)
    _, _, tb = _choice(stingy)
    v = county.village_ids.index("v1")
    c = cat.ids.index("minor_illness")
    assert tb.probabilities(v, c)[county.tertiary] < ta.probabilities(v, c)[county.tertiary]


def test_tier_preference_moves_choice_to_that_tier():
    cfg = compose("network=toy", "care.choice.beta_tier=[0,0,0,0]")
    county, cat, t0 = _choice(cfg)
    cfg.care.choice.beta_tier = [0.0, 0.0, 3.0, 0.0]
    _, _, t1 = _choice(cfg)
    lead = county.findex("lead")
    for v in range(county.n_villages):
        assert t1.probabilities(v, 0)[lead] > t0.probabilities(v, 0)[lead]


def test_choose_among_renormalises_over_allowed_options():
    cfg = compose("network=toy")
    county, cat, table = _choice(cfg)
    v, c = county.village_ids.index("v4"), 0
    probs = table.probabilities(v, c)
    lead = county.findex("lead")
    allowed = lambda o: o != lead  # noqa: E731
    total = sum(p for o, p in probs.items() if allowed(o))
    us = np.linspace(0.0005, 0.9995, 2000)
    picks = [table.choose_among(v, c, u, False, allowed) for u in us]
    assert lead not in picks
    for o, p in probs.items():
        if allowed(o):
            assert picks.count(o) / len(us) == pytest.approx(p / total, abs=2e-3)
    assert table.choose_among(v, c, 0.5, False, lambda o: False) is None


# ---------------------------------------------------------------------------- routing rules

HOSPITAL = SiteInfo(2, frozenset({"general", "ent", "emergency", "surgery"}), frozenset({"ct", "ecg", "cathlab"}),
                    frozenset({"ct", "ecg"}), 60)
TOWNSHIP = SiteInfo(1, frozenset({"general"}), frozenset({"ecg", "xray", "lab"}), frozenset({"lab"}), 12)
SMALL_HOSPITAL = SiteInfo(2, frozenset({"general"}), frozenset({"ct"}), frozenset(), 0)


def test_doctor_kind():
    assert doctor_kind(HOSPITAL, "ent", False) == "ent"
    assert doctor_kind(HOSPITAL, "eye", False) == "general"       # no eye doctor: general
    assert doctor_kind(HOSPITAL, "cardiology", True) == "emergency"
    assert doctor_kind(HOSPITAL, "ent", True) == "emergency"      # emergencies go to the ED first
    assert doctor_kind(TOWNSHIP, "cardiology", True) == "general"  # no ED at a township
    assert doctor_kind(SiteInfo(2, frozenset({"rehab"}), frozenset(), frozenset(), 0), "eye", False) == "rehab"


def test_can_manage():
    assert can_manage(TOWNSHIP, 0, [])
    assert can_manage(TOWNSHIP, 1, ["lab"])                 # acquires and reads lab
    assert not can_manage(TOWNSHIP, 1, ["ecg"])             # acquires ECG but cannot read it
    assert not can_manage(TOWNSHIP, 1, ["ct"])              # no CT at all
    assert not can_manage(TOWNSHIP, 2, [])                  # tier too low
    assert can_manage(HOSPITAL, 2, ["ct", "ecg"])
    assert not can_manage(SMALL_HOSPITAL, 2, ["ct"])        # acquires CT, nobody reads it
    assert not can_manage(SMALL_HOSPITAL, 1, [], needs_bed=True)
    assert can_manage(TOWNSHIP, 1, [], needs_bed=True)


def test_emergency_capable():
    assert emergency_capable(HOSPITAL, "stemi")               # cath lab at tier 2
    assert emergency_capable(HOSPITAL, "stroke")              # CT acquired and read
    assert emergency_capable(HOSPITAL, "trauma")              # surgeons
    assert not emergency_capable(SMALL_HOSPITAL, "stroke")    # CT not read on site
    assert not emergency_capable(SMALL_HOSPITAL, "stemi")
    assert not emergency_capable(SMALL_HOSPITAL, "trauma")
    cathlab_township = SiteInfo(1, frozenset({"surgery"}), frozenset({"cathlab", "ct"}), frozenset({"ct"}), 0)
    assert not emergency_capable(cathlab_township, "stemi")   # tier 1 never gives definitive care
    assert not emergency_capable(cathlab_township, "stroke")
    assert not emergency_capable(cathlab_township, "trauma")
    assert emergency_capable(TOWNSHIP, "outpatient")


def test_referral_target_on_the_toy_county():
    county = build_county(compose("network=toy").network)
    F = county.n_facilities
    t1, t2, lead, city = (county.findex(x) for x in ("t1", "t2", "lead", "city"))
    v1, v4 = county.village_ids.index("v1"), county.village_ids.index("v4")
    assert county.home_tier1[v1] == t1 and county.home_tier1[v4] == t2
    # village clinic: own township, then that township's lead, then out of county
    assert referral_target(county, F + v1, v1, 1) == t1
    assert referral_target(county, F + v4, v4, 1) == t2
    assert referral_target(county, F + v1, v1, 2) == lead
    assert referral_target(county, F + v1, v1, 3) == city
    # township: its lead for tier <= 2, out of county for tier 3
    assert referral_target(county, t1, v1, 2) == lead
    assert referral_target(county, t2, v4, 3) == city
    # lead hospital: only out of county
    assert referral_target(county, lead, v1, 3) == city


def test_referral_goes_to_the_members_own_lead_with_two_leads():
    cfg = compose("network=toy")
    from sim.config import Facility, Road
    cfg.network.facilities["lead_b"] = Facility(name="B", kind="lead", tier=2, x_km=20, y_km=10)
    cfg.network.facilities["t2"].lead = "lead_b"
    cfg.network.roads.append(Road("lead_b", "t2"))
    cfg.network.roads.append(Road("lead_b", "city", 60.0))
    county = build_county(cfg.network)
    t1, t2 = county.findex("t1"), county.findex("t2")
    assert referral_target(county, t2, 0, 2) == county.findex("lead_b")
    assert referral_target(county, t1, 0, 2) == county.findex("lead")
    v4 = county.village_ids.index("v4")
    assert referral_target(county, county.n_facilities + v4, v4, 2) == county.findex("lead_b")
