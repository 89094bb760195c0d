"""One node's resources (doctors, beds, equipment, ambulances) and its opening hours.

A :class:`Site` owns one :class:`~sim.engine.kernel.Pool` per doctor kind, its beds, its
equipment and its ambulances, and runs the shift schedule that changes their capacity.
"""

from __future__ import annotations

import simpy

from sim.county.calendar import DAY, is_open, next_opening
from sim.engine.kernel import Pool

__all__ = ["Pool", "Site"]


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
