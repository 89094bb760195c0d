"""One node's SimPy resources (doctors, beds, equipment, ambulances) and its opening hours.

:class:`Pool` is a priority resource built on SimPy events.  Compared with
``simpy.PriorityResource`` it adds what the model needs and nothing else:

- a capacity that can change during the run (shift schedules, expert rotas); when capacity
  drops, a doctor already with a patient finishes that patient (no pre-emption);
- reneging without a ``Condition`` per patient (a patience timer is created only when the
  patient actually has to queue);
- time-weighted monitors (in use, queueing, capacity), in total and per simulated day, so
  utilisation and Little's law can be computed after the run without any event log.

Requests are served in (priority, arrival) order: lower priority numbers first.
"""

from __future__ import annotations

import math
from heapq import heappop, heappush

import simpy
from simpy.events import PENDING

from sim.county.calendar import DAY, is_open, next_opening

__all__ = ["Pool", "Site"]



class Pool:
    """A counted resource with priority queueing, reneging, variable capacity and monitors."""

    __slots__ = ("env", "facility", "resource", "capacity", "in_use", "waiting", "_heap", "_seq",
                 "_last", "_day", "_day_end",
                 "day_busy", "day_queue", "day_cap", "_db", "_dq", "_dc", "requests",
                 "served", "reneged", "t_in", "t_out")

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

    # ------------------------------------------------------------------ monitors
    def _touch(self) -> None:
        """Add the time since the last change to today's integrals (in use, queue, capacity)."""
        now = self.env._now
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
        self.t_in += self.env._now
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
        if self.waiting == 0 and self.in_use < self.capacity:
            self._touch()
            self.in_use += 1
            self.served += 1
            self.requests += 1
            self.t_in += self.env._now
            return True
        return False

    def renege(self, ev: simpy.Event) -> bool:
        """Withdraw a waiting request: it succeeds with value False.  False if already granted."""
        if ev._value is not PENDING:
            return False
        self._touch()
        self.waiting -= 1
        self.reneged += 1
        self.t_out += self.env._now
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
            ev = simpy.Event(self.env)
            self.requests += 1
            self.reneged += 1
            now = self.env._now
            self.t_in += now
            self.t_out += now
            ev._ok = True
            ev._value = False
            self.env.schedule(ev)
            return ev
        ev = self.request(priority)
        if ev._value is PENDING and patience < math.inf:
            timer = self.env.timeout(patience)

            # a def, not a lambda, so the callback returns None as SimPy's type says; left
            # unannotated since annotations would be built anew each time a patient queues
            def on_timeout(_timer, ev=ev):
                self.renege(ev)

            timer.callbacks.append(on_timeout)
        return ev

    def release(self) -> None:
        self._touch()
        self.in_use -= 1
        self.t_out += self.env._now
        if self.waiting:
            self._grant()

    def set_capacity(self, capacity: int) -> None:
        """Change capacity now.  Units above the new capacity finish their current user first."""
        if capacity == self.capacity:
            return
        self._touch()
        self.capacity = capacity
        self._grant()

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


class Site:
    """Runtime state of one facility (or village clinic): its pools and its hours."""

    __slots__ = ("index", "fid", "tier", "doctors", "day_doctors", "night_doctors", "weekend_share",
                 "beds", "equipment", "acquire", "read", "ambulances", "open_min", "close_min",
                 "days", "bed_capacity", "delta")

    def __init__(self, env: simpy.Environment, index: int, fid: str, tier: int,
                 day_doctors: dict[str, int], night_doctors: dict[str, int], beds: int,
                 acquire: list[str], read: list[str], equipment_units: dict[str, int],
                 ambulances: int, open_hour: float, close_hour: float, days: list[int],
                 weekend_share: float):
        self.index = index
        self.fid = fid
        self.tier = tier
        self.day_doctors = {k: int(v) for k, v in day_doctors.items()}
        self.night_doctors = {k: int(night_doctors.get(k, 0)) for k in self.day_doctors}
        self.weekend_share = weekend_share
        self.open_min = open_hour * 60.0
        self.close_min = close_hour * 60.0
        self.days = frozenset(days)
        # t = 0 is Monday 00:00: night staffing until the clinic opens.
        self.doctors = {k: Pool(env, self.night_doctors[k], fid, f"doctors:{k}") for k in self.day_doctors}
        self.bed_capacity = int(beds)
        self.beds = Pool(env, beds, fid, "beds") if beds > 0 else None
        self.acquire = frozenset(acquire)
        self.read = frozenset(read)
        self.equipment = {m: Pool(env, int(equipment_units.get(m, 1)), fid, f"equipment:{m}") for m in acquire}
        self.ambulances = Pool(env, ambulances, fid, "ambulances") if ambulances > 0 else None
        #: doctors added (visiting experts) or removed (specialists away) by a rota, per kind;
        #: the shift schedule adds it to the day or night staffing.
        self.delta: dict[str, int] = {}

    def add_kind(self, env: simpy.Environment, kind: str) -> Pool:
        """A doctors pool for a kind the site has no staff of (visiting experts): capacity 0
        until a rota adds doctors with :meth:`adjust`."""
        if kind not in self.doctors:
            self.day_doctors[kind] = 0
            self.night_doctors[kind] = 0
            self.doctors[kind] = Pool(env, 0, self.fid, f"doctors:{kind}")
        return self.doctors[kind]

    def staffing(self, kind: str, t: float) -> int:
        """Doctors of ``kind`` the shift schedule puts on duty at minute ``t`` (without rotas)."""
        if self.is_open(t):
            return self.day_capacity(kind, int(t // DAY) % 7)
        return self.night_doctors[kind]

    def adjust(self, kind: str, change: int, t: float) -> None:
        """A rota adds (``change`` > 0) or removes doctors of ``kind`` from now on."""
        self.delta[kind] = self.delta.get(kind, 0) + change
        self.doctors[kind].set_capacity(max(0, self.staffing(kind, t) + self.delta[kind]))

    def pools(self) -> list[Pool]:
        out = list(self.doctors.values()) + list(self.equipment.values())
        if self.beds is not None:
            out.append(self.beds)
        if self.ambulances is not None:
            out.append(self.ambulances)
        return out

    def is_open(self, t: float) -> bool:
        return is_open(t, self.open_min, self.close_min, self.days)

    def next_opening(self, t: float) -> float:
        return next_opening(t, self.open_min, self.close_min, self.days)

    def day_capacity(self, kind: str, weekday: int) -> int:
        day = self.day_doctors[kind]
        if weekday >= 5:
            day = max(self.night_doctors[kind], int(round(day * self.weekend_share)))
        return day

    def shifts(self, env: simpy.Environment):
        """Process: day staffing during outpatient hours, night staffing outside them."""
        while True:
            now = env.now
            day = int(now // DAY)
            weekday = day % 7
            open_at = day * DAY + self.open_min
            close_at = day * DAY + self.close_min
            if weekday in self.days and now < open_at:
                yield env.timeout(open_at - now)
                delta = self.delta
                for k, pool in self.doctors.items():
                    pool.set_capacity(max(0, self.day_capacity(k, weekday) + delta.get(k, 0)))
                continue
            if weekday in self.days and now < close_at:
                # already open (e.g. a clinic open from midnight at t = 0): day staffing now;
                # a no-op when the opening above has just set it
                delta = self.delta
                for k, pool in self.doctors.items():
                    pool.set_capacity(max(0, self.day_capacity(k, weekday) + delta.get(k, 0)))
                yield env.timeout(close_at - now)
                delta = self.delta
                for k, pool in self.doctors.items():
                    pool.set_capacity(max(0, self.night_doctors[k] + delta.get(k, 0)))
                continue
            yield env.timeout((day + 1) * DAY - now)
