"""Expert visits (专家下沉坐诊): a lever (:class:`sim.levers.protocol.Lever`) that reads
``levers.expert``.

A team's rota (:class:`~sim.config.ExpertTeam`) is expanded into visits.  Each visit is a
light process: the specialists leave the lead hospital (its pool of that kind loses them,
travel included, via :meth:`~sim.engine.resources.Site.adjust`), travel the graph's road time,
and sit in at the member site, whose pool of that kind (created with capacity 0) gains them.
While they are on site, patients of the covered conditions are seen there by them instead of
being referred up; when the visit ends the specialists work off the queue, then travel back.
Between visits a non-urgent covered patient who would be referred goes home and comes back
for the next visit when it is within their tolerance (drawn per patient), and each visit
raises the site's own skill in the specialty (传帮带), which decays without visits; when no
expert is present a covered patient is managed locally when their own uniform ``u_skill`` is
below the skill level.  First-contact choice sees the schedule: a visited site looks capable
of the covered conditions, weighted by the chance that a visit falls within the mean
tolerance.

Randomness: the per-patient attributes ``tolerance_mult``, ``u_skill`` and ``u_spread``.
Records: ``expert_visits`` (one row per visit) and ``lever_events`` (expert_seen,
expert_avoided, skill_local, deferred).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np

from sim.config.errors import ConfigError
from sim.config.levers import parse_weekday, team_sites, validate_expert
from sim.config.schema import Config
from sim.county.calendar import DAY
from sim.county.patients import A_SKILL, A_SPREAD, A_TOLERANCE
from sim.county.routing import logit, utilities
from sim.engine.kernel import Journey
from sim.engine.resources import Pool
from sim.levers.site_rules import DEFAULT, DEFER, EV, EXPERT, SKILL, Rule, SiteRules
from sim.records.codes import Mode, Outcome

#: the lever protocol's names (sim.levers.protocol.Lever), then the rest
__all__ = ["name", "section", "kpis", "tables", "validate", "enabled", "install",
           "decide", "defer", "settle", "send_ahead", "at_door",
           "queue_doctor", "queue_bed", "down_target",
           "Visit", "Slot", "expand_team", "adjust_choice"]

# ---------------------------------------------------------------- the lever (sim.levers.protocol)
name = "expert"
section = "levers.expert"
kpis = ("expert_visits", "expert_hours_on_site", "expert_hours_lost_lead", "expert_patients",
        "skill_local_treated", "deferred_patients", "deferred_extra_wait_days_mean", "managed_locally_by_levers",
        "local_treatment_share")
tables = ("expert_visits", "lever_events")
validate = validate_expert
send_ahead = None
at_door = None
queue_doctor = queue_bed = down_target = None

DEFERRED_RETURN = int(Mode.DEFERRED_RETURN)  # visit mode
_DEFERRED = int(Outcome.DEFERRED)


def enabled(cfg: Config) -> bool:
    return cfg.levers.expert.enabled


# --------------------------------------------------------------------------- schedules


@dataclass
class Visit:
    team: int
    specialty: str
    site: int            # facility index
    lead: int            # facility index of the lead the specialists leave, -1 for external
    doctors: int
    depart: float
    arrive: float
    end: float
    travel: float


def _period_days(team) -> float:
    """Nominal days between visits to one site (the choice model's view of the schedule)."""
    base = float(team.every_days) if team.every_days is not None else 7.0 / len(set(map(parse_weekday, team.weekdays)))
    return base


def expand_team(team, index: int, site_idx: list[int], lead_idx: list[int], travel: list[float],
                horizon: float) -> list[Visit]:
    """All visits of one team within ``[0, horizon)``: day ``d`` of site ``i`` is a visit day when
    ``(d - i * stagger_days)`` falls on the schedule; with ``rotate`` only one site per visit day
    is visited, in turn.  ``travel[i]`` is lead-to-site minutes (0 for external experts).

    >>> from sim.config import ExpertTeam
    >>> t = ExpertTeam(specialty="ent", weekdays=["fri"], hours_on_site=6, start_hour=8)
    >>> vs = expand_team(t, 0, [5], [0], [30.0], 14 * 1440)
    >>> [(v.depart, v.arrive, v.end) for v in vs]
    [(6210.0, 6240.0, 6600.0), (16290.0, 16320.0, 16680.0)]
    """
    n_days = int(math.ceil(horizon / DAY)) + 1
    start = team.start_hour * 60.0
    dur = team.hours_on_site * 60.0
    weekdays = {parse_weekday(d) for d in team.weekdays}
    every = int(team.every_days) if team.every_days is not None else None

    def on(d: int) -> bool:
        if d < 0:
            return False
        if every is not None:
            return d >= team.first_day and (d - team.first_day) % every == 0
        return (d % 7) in weekdays

    out: list[Visit] = []
    n = len(site_idx)
    if team.rotate:
        k = 0
        for d in range(n_days):
            if on(d):
                i = (team.offset + k) % n
                k += 1
                out.append(_visit(team, index, site_idx[i], lead_idx[i], d, start, dur, travel[i]))
    else:
        for i in range(n):
            shift = i * team.stagger_days
            for d in range(n_days):
                if on(d - shift):
                    out.append(_visit(team, index, site_idx[i], lead_idx[i], d, start, dur, travel[i]))
    out = [v for v in out if v.depart >= 0 and v.arrive < horizon]
    out.sort(key=lambda v: (v.depart, v.site))
    return out


def _visit(team, index, site, lead, d, start, dur, travel) -> Visit:
    arrive = d * DAY + start
    return Visit(index, team.specialty, site, lead, team.doctors, arrive - travel, arrive, arrive + dur, travel)


# --------------------------------------------------------------------------- runtime state


@dataclass
class Slot:
    """An expert specialty at one member site: presence, visit calendar, skill level."""

    site: int
    specialty: str
    pool: Pool
    present: int = 0
    starts: list = field(default_factory=list)
    ends: list = field(default_factory=list)
    skill: float = 0.0
    skill_t: float = 0.0
    half_life: float = 120.0 * DAY
    learn: float = 0.0
    ceiling: float = 0.0

    def skill_at(self, t: float) -> float:
        if self.skill <= 0.0:
            return 0.0
        return self.skill * 0.5 ** ((t - self.skill_t) / self.half_life)

    def learn_visit(self, t: float) -> None:
        s = self.skill_at(t)
        self.skill = s + self.learn * max(0.0, self.ceiling - s)
        self.skill_t = t

    def next_visit(self, t: float) -> int:
        """Index of the first visit starting after ``t`` (len(starts) if none)."""
        return bisect_right(self.starts, t)


# --------------------------------------------------------------------------- install


def install(w, rules: SiteRules) -> None:
    """Expand the rotas, give the visited sites their specialty pools, slots and rules, start
    the visits (light processes) and let first-contact choice see the schedule.  Sets
    ``w.specialties`` (team order, the ``specialty`` categories) and ``w.slots``."""
    cfg = w.cfg
    ex = cfg.levers.expert
    county = w.county
    fidx = {f: i for i, f in enumerate(county.facility_ids)}
    conds = w.conds
    cindex = {c: i for i, c in enumerate(w.cat.ids)}
    specialties: list[str] = []
    visits: list[Visit] = []
    slots: dict[tuple[int, str], Slot] = {}
    for ti, team in enumerate(ex.teams):
        key = f"levers.expert.teams[{ti}]"
        if team.specialty not in specialties:
            specialties.append(team.specialty)
        sites = team_sites(cfg, team, key)
        s_idx = [fidx[s] for s in sites]
        if team.source == "lead":
            l_idx = [fidx[team.lead] if team.lead else county.lead_of[s] for s in s_idx]
            travel = [float(w.ftravel[lead][s]) for lead, s in zip(l_idx, s_idx)]
        else:
            l_idx = [-1] * len(s_idx)
            travel = [0.0] * len(s_idx)
        team_visits = expand_team(team, ti, s_idx, l_idx, travel, w.horizon)
        visits.extend(team_visits)
        covered = ([cindex[c] for c in team.conditions] if team.conditions else
                   [c for c, cond in enumerate(conds) if cond.specialty == team.specialty
                    and cond.pathway == "outpatient"])
        period = _period_days(team) * (len(s_idx) if team.rotate else 1)
        for s in s_idx:
            site = w.sites[s]
            if w.tier[s] == 2:  # external experts at a lead hospital: extra capacity only
                continue
            pool = site.add_kind(w.env, team.specialty)
            sl = slots.get((s, team.specialty))
            if sl is None:
                sk = ex.skill
                sl = Slot(s, team.specialty, pool, skill=sk.initial, half_life=sk.half_life_days * DAY,
                          learn=sk.learn_per_visit, ceiling=sk.ceiling)
                slots[(s, team.specialty)] = sl
            for v in team_visits:
                if v.site == s:
                    sl.starts.append(v.arrive)
                    sl.ends.append(v.end)
            info = w.infos[s]
            for c in covered:
                cond = conds[c]
                if not all(d in info.acquire for d in cond.diagnostics):
                    continue  # the expert cannot do the work-up here
                r = rules.rule(s, c)
                r.slot = sl
                r.expert_kind = team.specialty
                r.expert_tests = tuple(cond.diagnostics)
                r.defer_ok = cond.priority >= 2
                r.tolerance = ex.tolerance_days * DAY
                r.spread = ex.return_spread
                w.choice_weight[(s, c)] = max(w.choice_weight.get((s, c), 0.0),
                                              min(1.0, ex.tolerance_days / period) if ex.choice_sees_schedule else 0.0)
    for sl in slots.values():
        order = sorted(range(len(sl.starts)), key=lambda i: sl.starts[i])
        sl.starts = [sl.starts[i] for i in order]
        sl.ends = [sl.ends[i] for i in order]
    _check_concurrency(w, visits)
    for v in visits:
        Journey(w.env, expert_visit(w, v, slots.get((v.site, v.specialty)), specialties.index(v.specialty)),
                v.depart)
    w.specialties = specialties
    w.slots = slots
    if w.choice_weight:
        adjust_choice(w)


def _check_concurrency(w, visits: list[Visit]) -> None:
    """The lead cannot send more specialists of a kind at once than it has on the day shift."""
    events: dict[tuple[int, str], list] = {}
    for v in visits:
        if v.lead < 0:
            continue
        ret = v.end + v.travel
        events.setdefault((v.lead, v.specialty), []).extend([(v.depart, 1, v.doctors, v.team), (ret, 0, -v.doctors, v.team)])
    for (lead, kind), ev in events.items():
        have = w.sites[lead].day_doctors.get(kind, 0)
        n = 0
        for t, _, d, team in sorted(ev):
            n += d
            if n > have:
                raise ConfigError(f"levers.expert.teams[{team}]: the rota sends {n} {kind!r} specialists away from "
                                  f"{w.county.facility_ids[lead]!r} at once on day {int(t // DAY)}, but it has {have} "
                                  "(use rotate, stagger_days or fewer sites)")


def adjust_choice(w) -> None:
    """First-contact choice sees the visit schedule: a visited member site looks capable of a
    covered condition with weight ``min(1, tolerance_days / days between visits)``."""
    ch = w.choice
    care = w.cfg.care
    county = w.county
    F = w.F
    for v in range(county.n_villages):
        for c, cond in enumerate(w.conds):
            opts = ch.options[v][c]
            weights = [w.choice_weight.get((o, c), 0.0) if o < F else 0.0 for o in opts]
            if not any(weights):
                continue
            tiers = [0 if o >= F else ch.tier_of[o] for o in opts]
            travel = [county.clinic_access_minutes if o >= F else float(county.travel[v, o]) for o in opts]
            for worried in (0, 1):
                perceived = min(3, cond.min_tier + worried)
                # the first-contact utilities of sim.county.routing, with the visits' capability
                u = utilities(care, w.cat, c, tiers, travel, perceived, capable=weights)
                cum = np.cumsum(logit(u)).tolist()
                cum[-1] = 1.0
                ch.cum[v][c][worried] = cum
                ch._cum[v, c, worried, : len(opts)] = cum


# --------------------------------------------------------------------------- processes and hooks


def expert_visit(w, v: Visit, slot: Slot | None, spec_code: int):
    """Process body of one visit: leave the lead, travel, sit in, work off the queue, travel back."""
    env = w.env
    log = w.log
    lead = w.sites[v.lead] if v.lead >= 0 else None
    site = w.sites[v.site]
    row = log.expert_visit(v.team, spec_code, v.site, v.lead, v.doctors, env.now, v.arrive, v.end)
    if lead is not None:
        lead.adjust(v.specialty, -v.doctors, env.now)
    if v.arrive > env.now:
        yield env.timeout(v.arrive - env.now)
    site.adjust(v.specialty, v.doctors, env.now)
    if slot is not None:
        slot.present += 1
    yield env.timeout(v.end - env.now)
    if slot is not None:
        slot.present -= 1
        pool = slot.pool
        while pool.waiting > 0:  # see the patients already registered
            yield env.timeout(5.0)
        slot.learn_visit(env.now)
    site.adjust(v.specialty, -v.doctors, env.now)
    log.x_leave[row] = env.now
    if v.travel > 0:
        yield env.timeout(v.travel)
    if lead is not None:
        lead.adjust(v.specialty, v.doctors, env.now)
    log.x_return[row] = env.now


def decide(w, r: Rule, a, now: float, mode: int):
    """Before the queue: seen by the visiting expert, managed on the site's own skill, deferred
    to the next visit, or the default (the site's static routing).
    Returns ``(how, doctor kind, manage now?, tests)``."""
    sl = r.slot
    if sl is not None:
        if sl.present > 0:
            return EXPERT, r.expert_kind, True, r.expert_tests
        if not r.tier_ok and a[A_SKILL] < sl.skill_at(now):
            return SKILL, r.base_kind, r.diag_local, r.local_tests
        if r.defer_ok and not r.tier_ok and mode != DEFERRED_RETURN:
            i = sl.next_visit(now)
            if i < len(sl.starts) and sl.starts[i] - now <= r.tolerance * a[A_TOLERANCE]:
                return DEFER, r.base_kind, False, ()
    return DEFAULT, r.base_kind, r.static_manage, r.local_tests


def defer(w, r: Rule, pid: int, v: int, a, s: int, row: int):
    """Process body: the patient goes home and comes back for the next visit of ``r.slot``
    (never None when :func:`decide` says DEFER)."""
    env = w.env
    log = w.log
    sl = r.slot
    now = env.now
    i = sl.next_visit(now)
    back = sl.starts[i] + a[A_SPREAD] * r.spread * (sl.ends[i] - sl.starts[i])
    trip = w.travel[v][s]
    log.v_end[row] = now
    log.v_outcome[row] = _DEFERRED
    log.lever_event(pid, s, now, EV["deferred"], (back - now) / DAY)
    log.p_travel[pid] += 2 * trip
    yield env.timeout(back - now)


def settle(w, r: Rule, how: int, pid: int, c: int, a, s: int, row: int, manage: bool, prio: int):
    """After the consult: record what the visit or the skill achieved.  Returns whether the
    site manages (seen by the expert: always); never waits."""
    if how == EXPERT:
        log = w.log
        now = w.env.now
        log.lever_event(pid, s, now, EV["expert_seen"])
        if not r.static_manage:
            log.lever_event(pid, s, now, EV["expert_avoided"])
        return True
    if manage and how == SKILL:
        w.log.lever_event(pid, s, w.env.now, EV["skill_local"])
    return manage
    yield  # a process step, like every settle hook
