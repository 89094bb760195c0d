"""The kernel: the one module that reaches into SimPy's internals, for speed.

- :class:`Wake` and :class:`Journey`: a light timeout and a light process for patient
  journeys (two of the five or so events per patient saved);
- :class:`Environment`: SimPy's environment with the clock as a plain attribute ``now`` and
  the event queue in two heaps (the next ``FAR_AHEAD`` minutes, and the rest), in SimPy's order;
- :func:`run_until`: ``env.run(until=...)`` as one tight loop over SimPy's event queue;
- :class:`Pool`: a priority resource built directly on SimPy events.  Compared with
  ``simpy.PriorityResource`` it adds what the model needs and nothing else: a capacity that
  can change during the run (shift schedules, expert rotas; when capacity drops, a doctor
  already with a patient finishes that patient, no pre-emption); reneging without a
  ``Condition`` per patient (a patience timer is created only when the patient actually has
  to queue); time-weighted monitors (in use, queueing, capacity), in total and per simulated
  day, so utilisation and Little's law can be computed after the run without any event log.
  Requests are served in (priority, arrival) order: lower priority numbers first;
- :class:`ReservedPool`: a :class:`Pool` with a reservation (trunk reservation): the last
  free units of a share of its capacity go only to flagged requests (the green channel's
  up-referred patients, :mod:`sim.levers.green_channel`).  A pool becomes one through
  :meth:`Pool.reserve`, so the plain pool's code, the model's hot path, is untouched.

They rely on SimPy's event protocol (``callbacks``, ``_ok``, ``_value``, ``env.schedule``) and
its environment's ``_queue``, ``_eid`` and ``_now``; ``pyproject.toml`` pins SimPy to the minor versions
this was tested with.  A journey or a :class:`Later` call sits in the queue itself, keyed exactly as
the SimPy timeout it replaces would be, so the order of events is SimPy's (tests/unit/test_kernel.py
compares traces with plain SimPy; ``scripts/record_output_hashes.py --check`` every output table).
"""

from __future__ import annotations

import math
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

import simpy
from simpy.core import SimTime
from simpy.events import NORMAL, PENDING, EventPriority

from sim.county.calendar import DAY

if TYPE_CHECKING:  # pragma: no cover
    from simpy.events import EventCallbacks

__all__ = ["Environment", "Wake", "Journey", "Later", "run_until", "Pool", "ReservedPool", "reserved_units"]


#: minutes ahead beyond which an event waits in the environment's far heap (see
#: :class:`Environment`); any value gives the same order of events, this one only speed.
FAR_AHEAD = 120.0


class Wake:
    """A timeout for patient journeys: what ``simpy.Timeout`` does for a :class:`Journey`,
    as a slotted object (no instance dict).  A journey can also simply yield its delay in
    minutes (a ``float``), which schedules no object at all: :func:`run_until` resumes it."""

    __slots__ = ("callbacks", "_value", "_ok")

    def __init__(self, env, delay: float):
        self.callbacks: EventCallbacks = []
        self._value = None
        self._ok = True
        env.schedule(self, NORMAL, delay)


class Journey:
    """A light process: drives a patient generator on SimPy events and plain delays.

    Unlike ``simpy.Process`` it starts at a chosen time without an ``Initialize`` event and
    schedules no event when it ends (nobody waits on a patient's journey), which saves two
    of the five or so events per patient.  The generator yields either a SimPy event (a
    pool's request; resumed with the event's value) or a delay in minutes, a number >= 0
    (resumed with None after that delay): the journey itself then sits in the event queue,
    keyed exactly as ``env.timeout(delay)`` would be (time, NORMAL, next insertion id), so the
    order of events is SimPy's, with no event, callback list or bound method made per wait
    (see :func:`run_until`).  Model errors propagate and stop the run.
    """

    __slots__ = ("gen", "env")

    def __init__(self, env, gen, delay: float):
        self.gen = gen
        self.env = env
        env.schedule(self, NORMAL, delay)

    def _resume(self, event) -> None:
        """Event callback: send the event's value, then wait on what the generator yields."""
        try:
            nxt = self.gen.send(event._value)
        except StopIteration:
            return
        if nxt.__class__ is float and nxt >= 0.0:  # a delay (the consult after a queue), inline
            self.env.schedule(self, NORMAL, nxt)  # type: ignore[arg-type]  # a journey in the queue
            return
        self._wait(nxt)

    def _wait(self, nxt) -> None:
        """Wait on ``nxt``: an event (resumed by its callback), or a delay (a number >= 0)."""
        if nxt.__class__ is float and nxt >= 0.0:  # a delay, tested first: getattr on a float
            self.env.schedule(self, NORMAL, nxt)  # type: ignore[arg-type]  # raises inside, slowly
            return
        callbacks = getattr(nxt, "callbacks", None)
        if callbacks is not None:
            callbacks.append(self._resume)
            return
        if not nxt >= 0:  # simpy.Timeout's check (a NaN delay passes there too)
            if nxt < 0:
                raise ValueError(f"Negative delay {nxt}")
        self.env.schedule(self, NORMAL, nxt)  # type: ignore[arg-type]  # a journey in the queue


class Later:
    """A call ``fn(arg)`` scheduled at a time, that nobody waits on (a patience timer, a
    delayed release): keyed like ``env.timeout(delay)``, without the event and callback list.

    A call due at or after the environment's ``horizon`` (:attr:`Environment.horizon`: the run
    stops before it) is not scheduled at all: it could never be made, and the queue would hold
    it, and what it refers to, to the end (a patience of days beyond a year's run; issue #18).
    The other events keep their order: insertion ids only rise."""

    __slots__ = ("fn", "arg")

    def __init__(self, env, delay: float, fn, arg) -> None:
        self.fn = fn
        self.arg = arg
        if env.now + delay < env.horizon:
            env.schedule(self, NORMAL, delay)

    @classmethod
    def at(cls, env: Environment, t: float, fn, arg) -> None:
        """The call ``fn(arg)`` at the time ``t`` exactly (``now + (t - now)`` may round
        away from it); ``t`` is before the horizon and not in the past."""
        call = cls.__new__(cls)
        call.fn = fn
        call.arg = arg
        heappush(env._queue if t < env._bound else env._far, (t, NORMAL, next(env._eid), call))  # type: ignore[misc]


class Environment(simpy.Environment):
    """SimPy's environment with its clock as a plain attribute, ``now``.

    The model reads the clock a few times per event; SimPy's ``now`` is a read-only property
    over ``_now`` (measured: several times the cost of an attribute read).  Here ``now`` *is*
    the clock: :meth:`schedule` (SimPy's hot reader of ``_now``) is redefined on it, and
    ``_now`` becomes a view of ``now``, so SimPy's own ``step`` and ``run`` keep it right, so the rest of the model reads
    ``env.now`` and never touches a private name.  Event order is SimPy's: (time, priority,
    insertion id).  :meth:`step` also runs what the kernel puts in the queue besides SimPy
    events (a waiting :class:`Journey`, a :class:`Later` call), so SimPy's ``run`` works too.
    """

    now = 0.0  # shadows SimPy's read-only property; set per instance
    #: the end of the run, when the owner knows it (:class:`sim.model.world.World`): a
    #: :class:`Later` call due at or after it is never made, so it is not scheduled
    horizon = math.inf

    def __init__(self, initial_time: float = 0.0) -> None:
        super().__init__(initial_time)
        self.now = float(initial_time)
        #: the queue in two heaps: ``_queue`` (SimPy's) holds the events before ``_bound``, ``_far``
        #: those at or after it (hospital stays, patience timers); ``_far`` moves into ``_queue``
        #: when ``_queue`` runs dry.  Every ``_queue`` key is below every ``_far`` key, so the
        #: head of ``_queue`` is the next event, in SimPy's order; the heap the model pops
        #: every event from stays a few hundred entries (a county-year holds thousands of
        #: inpatients' discharges at once).
        self._far: list[Any] = []
        self._bound = self.now + FAR_AHEAD

    @property  # type: ignore[override]
    def _now(self) -> float:  # SimPy's name for the clock, kept right for any code reading it
        return self.now

    @_now.setter
    def _now(self, value: float) -> None:
        self.now = value

    def schedule(self, event: simpy.Event, priority: EventPriority = NORMAL, delay: SimTime = 0) -> None:
        """Schedule ``event`` with ``priority`` after ``delay`` (SimPy's ``schedule``)."""
        t = self.now + delay
        heappush(self._queue if t < self._bound else self._far, (t, priority, next(self._eid), event))

    def _refill(self) -> None:
        """``_queue`` is empty: move the next ``FAR_AHEAD`` minutes of ``_far`` into it."""
        far, queue = self._far, self._queue
        self._bound = bound = far[0][0] + FAR_AHEAD
        while far and far[0][0] < bound:
            heappush(queue, heappop(far))

    def peek(self) -> SimTime:
        """The time of the next event (SimPy's ``peek``), ``inf`` when there is none."""
        if self._queue:
            return self._queue[0][0]
        return self._far[0][0] if self._far else math.inf

    def step(self) -> None:
        """Process the next event (SimPy's ``step``), or resume a journey / make a call."""
        queue: list[Any] = self._queue  # type: ignore[assignment]  # holds journeys and calls too
        if not queue and self._far:
            self._refill()
        head = queue[0][3] if queue else None
        cls = head.__class__
        if cls is Journey or cls is Later:
            self.now, _, _, item = heappop(queue)
            if cls is Later:
                item.fn(item.arg)
                return
            try:
                nxt = item.gen.send(None)
            except StopIteration:
                return
            item._wait(nxt)
            return
        super().step()


def run_until(env: Environment, horizon: float) -> None:
    """``env.run(until=horizon)`` as one tight loop over the event queue.

    Same semantics as :meth:`Environment.step` repeated (every event scheduled before the
    horizon is processed, in SimPy's order; a failed event that nobody handled raises), without
    a method call and an exception frame per event.  A :class:`Journey` waiting out a delay is
    resumed here, inline (most of a county run's events); a :class:`Later` call is made.
    """
    queue: list[Any] = env._queue  # type: ignore[assignment]  # holds journeys and calls too
    far = env._far
    pop = heappop
    push = heappush
    eid = env._eid
    while True:
        if not queue:
            if not far:
                break
            env._refill()
        if queue[0][0] >= horizon:
            break
        now, _, _, event = pop(queue)
        env.now = now
        cls = event.__class__
        if cls is Journey:
            try:
                nxt = event.gen.send(None)
            except StopIteration:
                continue
            if nxt.__class__ is float and nxt >= 0.0:
                t = now + nxt
                push(queue if t < env._bound else far, (t, NORMAL, next(eid), event))
            else:
                event._wait(nxt)
            continue
        if cls is Later:
            event.fn(event.arg)
            continue
        # SimPy marks a processed event by callbacks = None, which its own annotation (a list) omits
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc
    env.now = max(env.now, horizon)


class Pool:
    """A counted resource with priority queueing, reneging, variable capacity and monitors."""

    __slots__ = ("env", "facility", "resource", "capacity", "in_use", "waiting", "_heap", "_seq",
                 "_last", "_day", "_day_end",
                 "day_busy", "day_queue", "day_cap", "_db", "_dq", "_dc", "requests",
                 "served", "reneged", "t_in", "t_out", "_deadlines", "_timers",
                 # set only by reserve() (ReservedPool); a plain pool never reads them
                 "share", "reserved", "open_priority", "_flagged")

    def __init__(self, env: simpy.Environment, capacity: int, facility: str = "", resource: str = ""):
        if capacity < 0:
            raise ValueError(f"{facility}.{resource}: capacity must be >= 0, got {capacity}")
        self.env = env
        self.facility = facility
        self.resource = resource
        self.capacity = int(capacity)
        self.in_use = 0
        self.waiting = 0
        self._heap: list[tuple] = []
        self._seq = 0
        self._last = env.now
        self._day = int(env.now // DAY)
        self._day_end = (self._day + 1) * DAY
        self.day_busy: list[float] = []
        self.day_queue: list[float] = []
        self.day_cap: list[float] = []
        self._db = self._dq = self._dc = 0.0
        self.requests = 0
        self.served = 0
        self.reneged = 0
        #: sums of the minutes at which requests entered and at which users left (release or
        #: renege): with the users still inside at the end they give the total time spent in
        #: the pool, which must equal busy_area + queue_area (Little's law, tests/validation).
        self.t_in = 0.0
        self.t_out = 0.0
        #: the queued requests' renege times, (time, sequence, event), and the times at which
        #: this pool's renege call is scheduled (see :meth:`_renege_after`)
        self._deadlines: list[tuple] = []
        self._timers: list[float] = []

    # ------------------------------------------------------------------ monitors
    def _touch(self) -> None:
        """Add the time since the last change to today's integrals (in use, queue, capacity)."""
        now = self.env.now
        if now > self._day_end:
            self._roll(now)
        dt = now - self._last
        if dt:
            self._db += self.in_use * dt
            self._dq += self.waiting * dt
            self._dc += self.capacity * dt
            self._last = now

    def _roll(self, now: float) -> None:
        """Close the days that ended before ``now``."""
        last = self._last
        u, q, c = self.in_use, self.waiting, self.capacity
        while now > self._day_end:
            dt = self._day_end - last
            self.day_busy.append(self._db + u * dt)
            self.day_queue.append(self._dq + q * dt)
            self.day_cap.append(self._dc + c * dt)
            self._db = self._dq = self._dc = 0.0
            last = self._day_end
            self._day_end += DAY
        self._last = last

    @property
    def busy_area(self) -> float:
        """Integral of units in use over the run so far (unit-minutes)."""
        return sum(self.day_busy) + self._db

    @property
    def queue_area(self) -> float:
        """Integral of the queue length over the run so far."""
        return sum(self.day_queue) + self._dq

    @property
    def cap_area(self) -> float:
        """Integral of the capacity over the run so far."""
        return sum(self.day_cap) + self._dc

    def close_monitors(self) -> None:
        """Bring the monitors up to ``env.now`` and flush the current (partial) day."""
        self._touch()
        self.day_busy.append(self._db)
        self.day_queue.append(self._dq)
        self.day_cap.append(self._dc)
        self._db = self._dq = self._dc = 0.0

    # ------------------------------------------------------------------ requests
    def request(self, priority: int = 2) -> simpy.Event:
        """An event that succeeds (value True) when a unit is granted."""
        ev = simpy.Event(self.env)
        self.requests += 1
        self.t_in += self.env.now
        if self.waiting == 0 and self.in_use < self.capacity:
            self._touch()
            self.in_use += 1
            self.served += 1
            ev._ok = True
            ev._value = True
            self.env.schedule(ev)
        else:
            self._touch()
            self.waiting += 1
            # (priority, sequence, event): a reneged event is skipped lazily when popped, so the
            # queue holds no reference cycle (the model runs with the cyclic GC paused).
            heappush(self._heap, (priority, self._seq, ev))
            self._seq += 1
        return ev

    def try_acquire(self) -> bool:
        """Take a unit now if one is free and nobody is queueing (no event needed)."""
        in_use = self.in_use
        if self.waiting == 0 and in_use < self.capacity:
            # _touch, inline (the model's hottest pool call)
            now = self.env.now
            if now > self._day_end:
                self._roll(now)
            dt = now - self._last
            if dt:
                self._db += in_use * dt
                self._dq += self.waiting * dt
                self._dc += self.capacity * dt
                self._last = now
            self.in_use = in_use + 1
            self.served += 1
            self.requests += 1
            self.t_in += now
            return True
        return False

    def renege(self, ev: simpy.Event) -> bool:
        """Withdraw a waiting request: it succeeds with value False.  False if already granted."""
        if ev._value is not PENDING:
            return False
        self._touch()
        self.waiting -= 1
        self.reneged += 1
        self.t_out += self.env.now
        ev._ok = True
        ev._value = False
        self.env.schedule(ev)
        return True

    def request_with_patience(self, priority: int, patience: float) -> simpy.Event:
        """Like :meth:`request`, but the request reneges (value False) after ``patience`` minutes.

        ``patience <= 0`` means no waiting at all (a loss system, e.g. ``bed_wait_max_hours: 0``):
        a request that finds no free unit is refused at once and never joins the queue, so a
        unit freed later at the same instant is not handed to it (nor does it hold up others).
        """
        if patience <= 0 and not (self.waiting == 0 and self.in_use < self.capacity):
            return self._refused()
        ev = self.request(priority)
        if ev._value is PENDING and patience < math.inf:
            self._renege_after(ev, patience)
        return ev

    def _refused(self) -> simpy.Event:
        """A request refused at once (no waiting allowed, no free unit): counted as arriving and
        reneging now, its event succeeds with False."""
        ev = simpy.Event(self.env)
        self.requests += 1
        self.reneged += 1
        now = self.env.now
        self.t_in += now
        self.t_out += now
        ev._ok = True
        ev._value = False
        self.env.schedule(ev)
        return ev

    def _renege_after(self, ev: simpy.Event, patience: float) -> None:
        """The queued request ``ev`` reneges after ``patience`` minutes unless granted first.

        On the kernel's environment the pool keeps one call scheduled, at the earliest renege
        time of its queue (:meth:`_expire`), rather than a timer per queued request: most
        queued patients are seen before their patience runs out, and each timer was two or
        three heap operations for nothing (issue #18).  A patient still reneges at exactly
        their renege time; among requests due at the same time, in the order they queued.
        """
        env = self.env
        if isinstance(env, Environment):
            t = env.now + patience
            if t >= env.horizon:  # the run ends first
                return
            heappush(self._deadlines, (t, self._seq, ev))
            timers = self._timers
            if not timers or t < timers[0]:
                heappush(timers, t)
                Later.at(env, t, self._expire, None)
            return
        timer = env.timeout(patience)

        # a def, not a lambda, so the callback returns None as SimPy's type says; left
        # unannotated since annotations would be built anew each time a patient queues
        def on_timeout(_timer, ev=ev):
            self.renege(ev)

        timer.callbacks.append(on_timeout)

    def _expire(self, _arg: None) -> None:
        """The pool's renege call: the queued requests due now renege; the call is then
        scheduled again at the earliest renege time of a request still queueing."""
        heappop(self._timers)  # this call: the pool's earliest
        now = self.env.now
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            self.renege(heappop(deadlines)[2])  # False (nothing done) if granted meanwhile
        while deadlines and deadlines[0][2]._value is not PENDING:  # granted: no call needed
            heappop(deadlines)
        if deadlines:
            t = deadlines[0][0]
            timers = self._timers
            if not timers or t < timers[0]:
                heappush(timers, t)
                Later.at(self.env, t, self._expire, None)  # type: ignore[arg-type]  # the kernel's

    def release(self) -> None:
        # _touch, inline
        now = self.env.now
        if now > self._day_end:
            self._roll(now)
        in_use = self.in_use
        dt = now - self._last
        if dt:
            self._db += in_use * dt
            self._dq += self.waiting * dt
            self._dc += self.capacity * dt
            self._last = now
        self.in_use = in_use - 1
        self.t_out += now
        if self.waiting:
            self._grant()

    def set_capacity(self, capacity: int) -> None:
        """Change capacity now.  Units above the new capacity finish their current user first."""
        if capacity == self.capacity:
            return
        self._touch()
        self.capacity = capacity
        self._grant()

    def reserve(self, share: float, open_priority: int = -1) -> ReservedPool:
        """Reserve :func:`reserved_units` of the capacity for flagged requests, from now on:
        this pool becomes a :class:`ReservedPool` (the same object, so every reference to it,
        the monitors and the occupancy table stay as they are).  Requests of priority
        ``<= open_priority`` count as flagged (emergencies are never held back).  Call it
        before anyone queues."""
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{self.facility}.{self.resource}: reserved share must be in [0, 1], got {share}")
        if self.waiting:
            raise RuntimeError(f"{self.facility}.{self.resource}: reserve() while requests are queueing")
        self.__class__ = ReservedPool
        self.share = share
        self.open_priority = open_priority
        self._flagged: list[tuple] = []
        self.reserved = reserved_units(share, self.capacity)
        return self  # type: ignore[return-value]  # its class is ReservedPool now

    def _grant(self) -> None:
        heap = self._heap
        while self.waiting and self.in_use < self.capacity:
            ev = heappop(heap)[2]
            if ev._value is not PENDING:  # reneged while queueing
                continue
            self.waiting -= 1
            self.in_use += 1
            self.served += 1
            ev._ok = True
            ev._value = True
            self.env.schedule(ev)


def reserved_units(share: float, capacity: int) -> int:
    """Units of a pool of ``capacity`` reserved for flagged requests: ``ceil(share x capacity)``,
    but at most ``capacity - 1``, so that one unit always stays open to everyone (a night shift
    of one doctor is never closed to walk-ins).

    >>> reserved_units(0.25, 4), reserved_units(0.2, 4), reserved_units(0.3, 10), reserved_units(0.5, 1)
    (1, 1, 3, 0)
    """
    if capacity <= 1 or share <= 0:
        return 0
    return min(capacity - 1, math.ceil(share * capacity - 1e-9))


class ReservedPool(Pool):
    """A :class:`Pool` with a reservation: ``reserved`` units (:func:`reserved_units` of the
    current capacity, recomputed when it changes) that only flagged requests may take.

    An unflagged request is granted while more than ``reserved`` units are free; a flagged one
    while any unit is free (it takes an unreserved unit first, like everyone).  Flagged and
    unflagged requests queue in two heaps, each in (priority, arrival) order; a freed unit
    goes to the first of the two heads in that order, except that an unflagged head may not
    take a reserved unit, which then goes to the flagged head.  The monitors count every user,
    flagged or not.  Made from a plain pool by :meth:`Pool.reserve`.
    """

    __slots__ = ()

    share: float
    reserved: int
    open_priority: int
    _flagged: list[tuple]

    def request(self, priority: float = 2, flagged: bool = False) -> simpy.Event:  # type: ignore[override]
        """An event that succeeds (value True) when a unit is granted; ``flagged``: a unit
        reserved for flagged requests may be granted."""
        ev = simpy.Event(self.env)
        self.requests += 1
        self.t_in += self.env.now
        self._touch()
        self.waiting += 1
        heap = self._flagged if flagged or priority <= self.open_priority else self._heap
        heappush(heap, (priority, self._seq, ev))
        self._seq += 1
        self._grant()  # granted at once (scheduled now) when a unit it may take is free
        return ev

    def try_acquire(self, flagged: bool = False) -> bool:
        """Take a unit now if one this request may take is free and nobody is queueing."""
        limit = self.capacity if flagged else self.capacity - self.reserved
        if self.waiting == 0 and self.in_use < limit:
            self._touch()
            self.in_use += 1
            self.served += 1
            self.requests += 1
            self.t_in += self.env.now
            return True
        return False

    def request_with_patience(self, priority: float, patience: float,  # type: ignore[override]
                              flagged: bool = False) -> simpy.Event:
        """:meth:`Pool.request_with_patience`, for a flagged or unflagged request."""
        flagged = flagged or priority <= self.open_priority
        limit = self.capacity if flagged else self.capacity - self.reserved
        if patience <= 0 and not (self.waiting == 0 and self.in_use < limit):
            return self._refused()
        ev = self.request(priority, flagged)
        if ev._value is PENDING and patience < math.inf:
            self._renege_after(ev, patience)
        return ev

    def set_capacity(self, capacity: int) -> None:
        """Change capacity (and with it the reserved units) now; no pre-emption."""
        if capacity == self.capacity:
            return
        self._touch()
        self.capacity = capacity
        self.reserved = reserved_units(self.share, capacity)
        self._grant()

    def _grant(self) -> None:
        plain, flagged = self._heap, self._flagged
        while self.waiting and self.in_use < self.capacity:
            while plain and plain[0][2]._value is not PENDING:  # reneged while queueing
                heappop(plain)
            while flagged and flagged[0][2]._value is not PENDING:
                heappop(flagged)
            if plain and self.in_use < self.capacity - self.reserved and (not flagged or plain[0] < flagged[0]):
                ev = heappop(plain)[2]
            elif flagged:
                ev = heappop(flagged)[2]
            else:  # only unflagged requests wait, and only reserved units are free
                break
            self.waiting -= 1
            self.in_use += 1
            self.served += 1
            ev._ok = True
            ev._value = True
            self.env.schedule(ev)
