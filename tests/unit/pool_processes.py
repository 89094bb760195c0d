"""The customer processes the pool tests share (tests/unit/test_pool.py, tests/test_green_channel.py)."""

from __future__ import annotations


def customer(env, pool, name, log, service, priority=2, patience=None, flagged=None):
    """Arrive now, wait for a unit, hold it ``service`` minutes; log (name, event, time).

    ``patience``: renege after that many minutes (``request_with_patience``); ``flagged``: a
    flagged request of a reserved pool (``ReservedPool``)."""
    kw = {} if flagged is None else {"flagged": flagged}
    if patience is None:
        ev = pool.request(priority, **kw)
    else:
        ev = pool.request_with_patience(priority, patience, **kw)
    granted = yield ev
    if not granted:
        log.append((name, "reneged", env.now))
        return
    log.append((name, "start", env.now))
    yield env.timeout(service)
    pool.release()
    log.append((name, "end", env.now))


def arrive_at(env, t, gen):
    """Start the process ``gen`` at time ``t``."""
    def proc():
        yield env.timeout(t)
        yield env.process(gen)
    return env.process(proc())
