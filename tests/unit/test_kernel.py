"""The kernel's Environment keeps SimPy's clock and event order: the same processes give the
same times on it as on a plain ``simpy.Environment``, through SimPy's own ``run`` and through
the kernel's ``run_until``."""

from __future__ import annotations

import simpy

from sim.engine.kernel import Environment, Pool, run_until


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
