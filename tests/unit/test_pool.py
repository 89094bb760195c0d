"""Specification of :class:`sim.engine.kernel.Pool` on a bare SimPy environment.

A Pool is a counted resource: requests are granted in (priority, arrival) order, a waiting
request can renege, capacity can change during the run without pre-empting a unit in use,
and time-weighted monitors integrate units in use, queue length and capacity.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy

from sim.county.calendar import DAY
from sim.engine.kernel import Environment, Pool, run_until
from tests.unit.pool_processes import arrive_at, customer


def starts(log):
    return {name: t for name, what, t in log if what == "start"}


def start_order(log):
    return [name for name, what, _ in log if what == "start"]


# ---------------------------------------------------------------------------- ordering

def test_fifo_within_the_same_priority():
    env = simpy.Environment()
    pool = Pool(env, 1)
    log = []
    env.process(customer(env, pool, "first", log, 10))
    for i, name in enumerate(["a", "b", "c", "d"]):
        arrive_at(env, 1 + i, customer(env, pool, name, log, 10))
    env.run()
    assert start_order(log) == ["first", "a", "b", "c", "d"]
    assert starts(log) == {"first": 0, "a": 10, "b": 20, "c": 30, "d": 40}


def test_lower_priority_number_is_served_first_regardless_of_arrival():
    env = simpy.Environment()
    pool = Pool(env, 1)
    log = []
    env.process(customer(env, pool, "holder", log, 10))
    arrive_at(env, 1, customer(env, pool, "p2_early", log, 5, priority=2))
    arrive_at(env, 2, customer(env, pool, "p1", log, 5, priority=1))
    arrive_at(env, 3, customer(env, pool, "p2_late", log, 5, priority=2))
    arrive_at(env, 4, customer(env, pool, "p0", log, 5, priority=0))
    env.run()
    assert start_order(log) == ["holder", "p0", "p1", "p2_early", "p2_late"]


def test_a_free_unit_is_granted_immediately_with_value_true():
    env = simpy.Environment()
    pool = Pool(env, 2)
    ev = pool.request()
    env.run(until=0.5)
    assert ev.triggered and ev.value is True
    assert pool.in_use == 1 and pool.waiting == 0


def test_negative_capacity_is_rejected():
    env = simpy.Environment()
    with pytest.raises(ValueError):
        Pool(env, -1, "f", "doctors:general")


# ---------------------------------------------------------------------------- capacity changes

def test_capacity_decrease_does_not_preempt_and_blocks_new_grants():
    env = simpy.Environment()
    pool = Pool(env, 2)
    log = []
    env.process(customer(env, pool, "a", log, 10))
    env.process(customer(env, pool, "b", log, 20))
    arrive_at(env, 1, customer(env, pool, "c", log, 5))

    def cut():
        yield env.timeout(2)
        pool.set_capacity(0)
        assert pool.in_use == 2  # both units keep their patients
    env.process(cut())
    env.run(until=100)
    ends = {n: t for n, w, t in log if w == "end"}
    assert ends["a"] == 10 and ends["b"] == 20  # no pre-emption: both finished on time
    assert "c" not in starts(log)              # capacity 0: nobody new is granted
    assert pool.in_use == 0 and pool.waiting == 1


def test_capacity_decrease_below_in_use_then_release_does_not_grant():
    env = simpy.Environment()
    pool = Pool(env, 3)
    log = []
    for n, s in (("a", 10), ("b", 20), ("c", 30)):
        env.process(customer(env, pool, n, log, s))
    arrive_at(env, 1, customer(env, pool, "d", log, 5))

    def cut():
        yield env.timeout(2)
        pool.set_capacity(1)
    env.process(cut())
    env.run(until=100)
    # a leaves at 10 (in_use 2 > cap 1), b leaves at 20 (in_use 1 == cap), c leaves at 30 -> d
    assert starts(log)["d"] == 30


def test_capacity_increase_resumes_grants():
    env = simpy.Environment()
    pool = Pool(env, 0)
    log = []
    env.process(customer(env, pool, "a", log, 10))

    def open_up():
        yield env.timeout(7)
        pool.set_capacity(1)
    env.process(open_up())
    env.run()
    assert starts(log) == {"a": 7}


def test_capacity_increase_by_two_grants_two_waiters_at_once():
    env = simpy.Environment()
    pool = Pool(env, 1)
    log = []
    env.process(customer(env, pool, "holder", log, 100))
    for i, n in enumerate(["w1", "w2", "w3"]):
        arrive_at(env, 1 + i, customer(env, pool, n, log, 50))

    def grow():
        yield env.timeout(5)
        pool.set_capacity(3)
    env.process(grow())
    env.run()
    s = starts(log)
    assert s["w1"] == 5 and s["w2"] == 5   # both granted at the moment capacity rises
    assert s["w3"] == 55                   # the third waits for the first unit to free (w1 ends 55)


def test_capacity_increase_respects_priority_order():
    env = simpy.Environment()
    pool = Pool(env, 0)
    log = []
    env.process(customer(env, pool, "low", log, 10, priority=2))
    arrive_at(env, 1, customer(env, pool, "high", log, 10, priority=0))

    def grow():
        yield env.timeout(5)
        pool.set_capacity(1)
    env.process(grow())
    env.run()
    assert starts(log) == {"high": 5, "low": 15}


# ---------------------------------------------------------------------------- reneging

def test_renege_removes_the_waiter_with_value_false_and_others_keep_their_turn():
    env = simpy.Environment()
    pool = Pool(env, 1)
    log = []
    env.process(customer(env, pool, "holder", log, 10))
    results = {}

    def waiter(name, leave_at=None):
        ev = pool.request(2)
        if leave_at is not None:
            def leave():
                yield env.timeout(leave_at)
                assert pool.renege(ev) is True
            env.process(leave())
        results[name] = yield ev
        results[name + "_t"] = env.now
        if results[name]:
            yield env.timeout(10)
            pool.release()

    env.process(waiter("quitter", leave_at=3))
    env.process(waiter("stayer"))
    env.run(until=4)
    assert pool.waiting == 1 and pool.reneged == 1
    env.run()
    assert results["quitter"] is False and results["quitter_t"] == 3
    assert results["stayer"] is True and results["stayer_t"] == 10  # took the freed unit at 10
    assert pool.served == 2  # holder + stayer; the reneged request was never served


def test_renege_after_grant_is_refused():
    env = simpy.Environment()
    pool = Pool(env, 1)
    ev = pool.request()
    env.run(until=1)
    assert pool.renege(ev) is False
    assert pool.in_use == 1 and pool.reneged == 0


ENVIRONMENTS = pytest.mark.parametrize("make_env", [simpy.Environment, Environment], ids=["simpy", "kernel"])


@ENVIRONMENTS
def test_request_with_patience_reneges_exactly_at_the_patience_time(make_env):
    env = make_env()
    pool = Pool(env, 1)
    log = []
    env.process(customer(env, pool, "holder", log, 100))
    arrive_at(env, 2, customer(env, pool, "impatient", log, 5, patience=7.5))
    arrive_at(env, 3, customer(env, pool, "patient", log, 5, patience=1000))
    env.run()
    assert ("impatient", "reneged", 9.5) in log
    assert starts(log)["patient"] == 100
    assert pool.reneged == 1


@ENVIRONMENTS
def test_request_with_patience_granted_in_time_is_not_cancelled_later(make_env):
    env = make_env()
    pool = Pool(env, 1)
    log = []
    env.process(customer(env, pool, "holder", log, 4))
    arrive_at(env, 1, customer(env, pool, "w", log, 50, patience=10))
    env.run()
    assert starts(log)["w"] == 4
    assert ("w", "end", 54) in log   # the patience timer at t=11 did not touch the granted unit
    assert pool.reneged == 0 and pool.in_use == 0


@ENVIRONMENTS
def test_infinite_patience_creates_no_timer(make_env):
    env = make_env()
    pool = Pool(env, 0)
    pool.request_with_patience(2, math.inf)
    env.run()
    assert env.now == 0 and pool.waiting == 1


def _impatient_crowd(env, pool, log, n=400, seed=3, service=2.5, patience=4.0):
    """``n`` customers a minute apart on average, of random priority, service (mean
    ``service``) and patience (mean ``patience``; some infinite, some zero); ``log`` gets
    (name, event, time)."""
    rng = np.random.default_rng(seed)
    gaps, service = rng.exponential(1.0, n), rng.exponential(service, n)
    patience = np.where(rng.random(n) < 0.15, math.inf, rng.exponential(patience, n))
    patience[rng.random(n) < 0.05] = 0.0
    prio = rng.integers(0, 3, n)
    t = 0.0
    for i in range(n):
        t += float(gaps[i])
        arrive_at(env, t, customer(env, pool, f"c{i}", log, float(service[i]), int(prio[i]), float(patience[i])))


@pytest.mark.parametrize("horizon", [math.inf, 150.0])
def test_one_renege_call_per_pool_gives_the_trace_of_one_timer_per_request(horizon):
    """On the kernel's environment a pool keeps one renege call scheduled at its queue's
    earliest renege time instead of a timer per queued request (issue #18): every customer
    starts, ends or reneges at the same time as with plain SimPy timers, and the counters and
    monitor areas agree (also when the run stops at a horizon, before some renege times)."""
    runs = []
    for make_env in (simpy.Environment, Environment):
        env = make_env()
        pool = Pool(env, 2)
        log: list = []
        _impatient_crowd(env, pool, log)
        until = 1e6 if horizon == math.inf else horizon  # past every event, or before some
        if isinstance(env, Environment):
            env.horizon = horizon
            run_until(env, until)
        else:
            env.run(until=until)
        pool.close_monitors()
        runs.append((log, pool.requests, pool.served, pool.reneged, pool.waiting, pool.busy_area, pool.queue_area))
    plain, kernel = runs
    assert kernel[0] == plain[0]
    assert kernel[1:] == plain[1:]
    assert plain[3] > 20 and any(what == "reneged" for _, what, _ in plain[0])  # the test reneges


def test_one_renege_call_per_pool_schedules_few_calls(monkeypatch):
    """Customers seen before their patience runs out cost no call each: in a queue where
    most are (load 0.8, patience 10 times the service), the pool's renege calls are far
    fewer than its queued requests with a finite patience."""
    calls = []
    expire = Pool._expire

    def counted(self, arg):
        calls.append(self.env.now)
        expire(self, arg)

    monkeypatch.setattr(Pool, "_expire", counted)
    queued = []
    renege_after = Pool._renege_after
    monkeypatch.setattr(Pool, "_renege_after", lambda self, ev, patience: (queued.append(ev), renege_after(self, ev, patience)))
    env = Environment()
    pool = Pool(env, 2)
    _impatient_crowd(env, pool, [], service=1.6, patience=16.0)
    run_until(env, 1e6)
    assert pool.reneged > 0 and len(queued) > 100
    assert pool.reneged <= len(calls) < len(queued) * 0.5


# ---------------------------------------------------------------------------- monitors

def test_busy_queue_and_capacity_areas_match_the_hand_computed_integrals():
    env = simpy.Environment()
    pool = Pool(env, 2)
    log = []
    env.process(customer(env, pool, "a", log, 10))                 # in use [0, 10)
    arrive_at(env, 2, customer(env, pool, "b", log, 6))            # in use [2, 8)
    arrive_at(env, 4, customer(env, pool, "c", log, 10))           # waits [4, 8), in use [8, 18)

    def change():
        yield env.timeout(12)
        pool.set_capacity(1)                                       # capacity 2 on [0,12), 1 after
    env.process(change())
    env.run(until=20)
    pool.close_monitors()
    # in use: [0,2)=1, [2,8)=2, [8,10)=2, [10,18)=1, [18,20)=0 -> 2 + 12 + 4 + 8 = 26
    assert pool.busy_area == pytest.approx(26.0, abs=1e-12)
    # queue: c waits from 4 to 8 -> 4
    assert pool.queue_area == pytest.approx(4.0, abs=1e-12)
    # capacity: 2 x 12 + 1 x 8 = 32
    assert pool.cap_area == pytest.approx(32.0, abs=1e-12)
    assert sum(pool.day_busy) == pytest.approx(26.0)


def test_day_monitors_split_at_day_boundaries():
    env = simpy.Environment()
    pool = Pool(env, 1)
    log = []
    # busy from 23:00 on day 0 to 02:00 on day 2 (27 h); queue of one from 23:30 day 0 to the end
    arrive_at(env, DAY - 60, customer(env, pool, "long", log, 27 * 60))
    arrive_at(env, DAY - 30, customer(env, pool, "waiter", log, 10_000))
    env.run(until=2 * DAY + 120)
    pool.close_monitors()
    assert len(pool.day_busy) == 3
    assert pool.day_busy[0] == pytest.approx(60.0)
    assert pool.day_busy[1] == pytest.approx(DAY)
    assert pool.day_busy[2] == pytest.approx(120.0)   # "long" holds the unit until 02:00 on day 2
    assert pool.day_queue[0] == pytest.approx(30.0)
    assert pool.day_queue[1] == pytest.approx(DAY)
    assert pool.day_queue[2] == pytest.approx(120.0)  # the waiter is still queueing at the end
    assert pool.day_cap == pytest.approx([DAY, DAY, 120.0])
    assert sum(pool.day_busy) == pytest.approx(pool.busy_area)
    assert sum(pool.day_queue) == pytest.approx(pool.queue_area)


def test_day_monitors_when_a_day_has_no_events_at_all():
    env = simpy.Environment()
    pool = Pool(env, 3)
    ev = pool.request()
    env.run(until=1)
    assert ev.value is True

    def late():
        yield env.timeout(3 * DAY + 100 - env.now)
        pool.release()
    env.process(late())
    env.run(until=4 * DAY)
    pool.close_monitors()
    # one unit in use from 0 to 3 days + 100 min, no event in between
    assert pool.day_busy == pytest.approx([DAY, DAY, DAY, 100.0])
    assert pool.day_cap == pytest.approx([3 * DAY] * 4)
    assert pool.busy_area == pytest.approx(3 * DAY + 100.0)
