"""The kernel's Environment keeps SimPy's clock and event order: the same processes give the
same times on it as on a plain ``simpy.Environment``, through SimPy's own ``run`` and through
the kernel's ``run_until``."""

from __future__ import annotations

import simpy

from sim.engine.kernel import FAR_AHEAD, Environment, Journey, Pool, run_until


def _trace(env) -> list[tuple[str, float]]:
    """Three customers on a one-server Pool with interleaved timeouts; (event, time) in order."""
    out: list[tuple[str, float]] = []
    pool = Pool(env, 1)

    def customer(name: str, arrive: float, service: float):
        yield env.timeout(arrive)
        out.append((f"{name} arrives", env.now))
        yield pool.request(2)
        out.append((f"{name} starts", env.now))
        yield env.timeout(service)
        pool.release()
        out.append((f"{name} leaves", env.now))

    for name, arrive, service in (("a", 0.0, 3.0), ("b", 1.0, 2.0), ("c", 1.0, 0.5)):
        env.process(customer(name, arrive, service))
    return out


def test_the_same_trace_as_plain_simpy_through_run():
    plain, kernel = simpy.Environment(), Environment()
    a, b = _trace(plain), _trace(kernel)
    plain.run(until=10)
    kernel.run(until=10)
    assert b == a and kernel.now == plain.now == 10
    assert a[-1] == ("c leaves", 5.5)


def test_run_until_matches_run_and_keeps_simpys_name_for_the_clock():
    plain, kernel = simpy.Environment(), Environment()
    a, b = _trace(plain), _trace(kernel)
    plain.run(until=4)
    run_until(kernel, 4)
    assert b == a and kernel.now == 4
    assert kernel._now == kernel.now  # SimPy's own name reads the same clock


def _journeys(env, plain: bool) -> list[tuple[str, float]]:
    """Patients as kernel Journeys (yielding plain delays) or as SimPy processes (timeouts), with
    waits from minutes to days (both sides of the kernel's FAR_AHEAD) and ties at equal times."""
    out: list[tuple[str, float]] = []
    pool = Pool(env, 2)

    def patient(name: str, service: float, stay: float):
        yield (env.timeout(0.0) if plain else 0.0)
        yield pool.request(2)
        out.append((f"{name} seen", env.now))
        yield (env.timeout(service) if plain else service)
        pool.release()
        yield (env.timeout(stay) if plain else stay)
        out.append((f"{name} home", env.now))

    cases = [(f"p{i}", 10.0 + 37.0 * (i % 5), (i % 4) * 1440.0 + 300.0 * (i % 3)) for i in range(24)]
    for k, (name, service, stay) in enumerate(cases):
        start = 60.0 * (k // 3)  # three patients at each start time: ties broken by insertion order
        if plain:
            def delayed(start=start, name=name, service=service, stay=stay):
                yield env.timeout(start)
                yield from patient(name, service, stay)
            env.process(delayed())
        else:
            Journey(env, patient(name, service, stay), start)
    return out


def test_journeys_and_far_events_keep_simpys_order():
    plain, kernel, stepped = simpy.Environment(), Environment(), Environment()
    a, b, c = _journeys(plain, True), _journeys(kernel, False), _journeys(stepped, False)
    plain.run(until=10 * 1440.0)
    run_until(kernel, 10 * 1440.0)
    stepped.run(until=10 * 1440.0)  # SimPy's own run, through the kernel's step
    assert b == a and c == a and len(a) == 48
    assert max(t for _, t in a) > 3 * 1440.0 > FAR_AHEAD  # the far heap was used


def test_a_call_due_after_the_horizon_is_not_scheduled_and_the_run_is_the_same():
    """A :class:`Later` call due at or after ``env.horizon`` is never made (the run stops before
    it), so it is not queued (issue #18: a patience of 10^9 hours left one timer per queued
    patient in the queue to the end of the run); the calls before it run as before, and a
    county run gives the same records with the horizon known or not."""
    import numpy as np

    import sim
    from sim.engine.kernel import Later
    from sim.model.world import World

    env = Environment()
    env.horizon = 10.0
    made = []
    Later(env, 5.0, made.append, "soon")
    Later(env, 10.0, made.append, "at the horizon")
    Later(env, 1e9, made.append, "never")
    assert len(env._queue) + len(env._far) == 1
    run_until(env, env.horizon)
    assert made == ["soon"]
    bare = Environment()  # no horizon known: every call is queued
    Later(bare, 1e9, made.append, "never")
    assert len(bare._queue) + len(bare._far) == 1

    cfg = sim.compose(["network=toy", "run=test", "run.horizon_days=3", "run.warmup_days=0"])
    runs = []
    for known in (True, False):
        w = World(cfg, 0)
        if not known:
            w.env.horizon = float("inf")
        w.run()
        runs.append(w.log.tables(w.site_ids, w.county.village_ids, w.cat.ids, w.specialties))
    for name, t in runs[0].items():
        if t is not None:
            assert t.equals(runs[1][name]), name
    assert len(runs[0]["visits"]) and np.isfinite(runs[0]["visits"]["arrive"].to_numpy()).all()
