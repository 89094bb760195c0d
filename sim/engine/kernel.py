"""The kernel: the one module that reaches into SimPy's internals, for speed.

- :class:`Wake` and :class:`Journey`: a light timeout and a light process for patient
  journeys (two of the five or so events per patient saved);
- :func:`run_until`: ``env.run(until=...)`` as one tight loop over SimPy's event queue.

They rely on SimPy's event protocol (``callbacks``, ``_ok``, ``_value``, ``env.schedule``) and
its environment's ``_queue`` and ``_now``; ``pyproject.toml`` pins SimPy to the minor versions
this was tested with.
"""

from __future__ import annotations

from heapq import heappop
from typing import TYPE_CHECKING

import simpy
from simpy.events import NORMAL

if TYPE_CHECKING:  # pragma: no cover
    from simpy.events import EventCallbacks

__all__ = ["Wake", "Journey", "run_until"]


class Wake:
    """A timeout for patient journeys: what ``simpy.Timeout`` does for a :class:`Journey`,
    as a slotted object (no instance dict), since a county run creates ~2 per patient."""

    __slots__ = ("callbacks", "_value", "_ok")

    def __init__(self, env, delay: float):
        self.callbacks: EventCallbacks = []
        self._value = None
        self._ok = True
        env.schedule(self, NORMAL, delay)


class Journey:
    """A light process: drives a patient generator on SimPy events.

    Unlike ``simpy.Process`` it starts at a chosen time without an ``Initialize`` event and
    schedules no event when it ends (nobody waits on a patient's journey), which saves two
    of the five or so events per patient.  Model errors propagate and stop the run.
    """

    __slots__ = ("gen",)

    def __init__(self, env, gen, delay: float):
        self.gen = gen
        t = Wake(env, delay)
        t.callbacks.append(self._resume)

    def _resume(self, event) -> None:
        gen = self.gen
        try:
            event = gen.send(event._value)
        except StopIteration:
            return
        event.callbacks.append(self._resume)


def run_until(env: simpy.Environment, horizon: float) -> None:
    """``env.run(until=horizon)`` as one tight loop over SimPy's event queue.

    Same semantics as ``Environment.step`` repeated (every event scheduled before the horizon
    is processed, in SimPy's order; a failed event that nobody handled raises), without a
    method call and an exception frame per event; ~10% of a county run.
    """
    queue = env._queue
    pop = heappop
    while queue and queue[0][0] < horizon:
        env._now, _, _, event = pop(queue)
        # SimPy marks a processed event by callbacks = None, which its own annotation (a list) omits
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc
    env._now = max(env._now, horizon)
