"""Policy levers (issue 8): expert visits (专家下沉坐诊) and remote diagnosis / consultation
(远程诊断 / 远程会诊).  Every lever changes the simulation through a mechanism; nothing here
multiplies a KPI.

Expert visits
    A team's rota (:class:`~sim.config.ExpertTeam`) is expanded into visits.  Each visit is a
    light process: the specialists leave the lead hospital (its pool of that kind loses them,
    travel included, via :meth:`~sim.engine.resources.Site.adjust`), travel the graph's road time,
    and sit in at the member site, whose pool of that kind (created with capacity 0) gains
    them.  While they are on site, patients of the covered conditions are seen there by them
    instead of being referred up; when the visit ends the specialists work off the queue,
    then travel back.  Between visits a non-urgent covered patient who would be referred
    goes home and comes back for the next visit when it is within their tolerance (drawn per
    patient), and each visit raises the site's own skill in the specialty (传帮带), which
    decays without visits; when no expert is present a covered patient is managed locally
    when their own uniform ``u_skill`` is below the skill level.  First-contact choice sees
    the schedule: a visited site looks capable of the covered conditions, weighted by the
    chance that a visit falls within the mean tolerance.

Remote diagnosis
    A member site that acquires a modality but cannot read it sends the study to its lead
    hospital's reading centre (a :class:`~sim.engine.resources.Pool` of readers on a day/night
    rota): transmission delay, queue, reading time, and a failure probability (the study is
    repeated or the patient referred).  The patient waits at the site (up to a limit); a
    negative or manageable result (the patient's ``u_result`` below the configured share)
    lets the centre treat locally, the rest are referred.  Tele-ECG for chest pain: a
    STEMI ECG read remotely pre-activates the receiving cath lab, so the transferred
    patient skips the emergency department and the activation overlaps the transport.
    Remote consultation (MDT by video/phone) takes a line and the lead specialist's time and
    lets the site manage a share of the covered conditions it would otherwise refer.

Randomness: per-patient attributes (``tolerance_mult``, ``u_skill``, ``u_mdt``, ``u_spread``,
``u_result``) and the named streams ``remote/read/<lead>`` and ``remote/failure/<lead>``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np
import simpy
from simpy.events import PENDING

from sim.config.errors import ConfigError
from sim.config.levers import REMOTE_MODALITIES, WEEKDAYS, parse_weekday, team_sites, validate_levers
from sim.config.schema import MODALITIES, Config, Dist
from sim.county.calendar import DAY
from sim.county.patients import A_MDT, A_RESULT, A_SKILL, A_SPREAD, A_TOLERANCE, dist_multipliers
from sim.engine.kernel import Journey
from sim.engine.resources import Pool, Site
from sim.records.codes import Mode, Outcome, StudyStatus
from sim.records.log import LEVER_EVENT, TEST_BIT
from sim.rng import stream

__all__ = ["validate_levers", "levers_on", "install", "expand_team", "WEEKDAYS", "parse_weekday",
           "Rule", "decide", "settle", "defer", "tele_ecg", "EXPERT", "SKILL", "DEFER", "DEFAULT"]

EV = {v: k for k, v in LEVER_EVENT.items()}
# decisions before the queue
DEFAULT, EXPERT, SKILL, DEFER = 0, 1, 2, 3
DEFERRED_RETURN = int(Mode.DEFERRED_RETURN)  # visit mode
_DEFERRED, _REPORTED, _FAILED = int(Outcome.DEFERRED), int(StudyStatus.REPORTED), int(StudyStatus.FAILED)
DEFAULT_READ = Dist("lognormal", 10.0, 0.5)


def levers_on(cfg: Config) -> bool:
    lv = getattr(cfg, "levers", None)
    return lv is not None and (lv.expert.enabled or lv.remote.enabled)


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


class ReadingCentre:
    """The lead hospital's remote reading centre (远程影像/心电诊断中心)."""

    def __init__(self, w, lead: int, rm):
        fid = w.county.facility_ids[lead]
        self.lead = lead
        self.readers = Pool(w.env, rm.night_readers, fid, "readers")
        self.day = rm.readers
        self.night = rm.night_readers
        self.open_min = rm.reader_open_hour * 60.0
        self.close_min = rm.reader_close_hour * 60.0
        self.read = {m: rm.read_minutes.get(m, DEFAULT_READ) for m in REMOTE_MODALITIES}
        self.read_rng = stream(w.cfg.run.seed, w.replication, f"remote/read/{fid}")
        self.fail_rng = stream(w.cfg.run.seed, w.replication, f"remote/failure/{fid}")
        self.fail_p = rm.failure_prob
        self.transmit = rm.transmit_minutes

    def read_minutes(self, m: str) -> float:
        d = self.read[m]
        u = self.read_rng.random(1)
        z = self.read_rng.standard_normal(1)
        return float(d.mean * dist_multipliers(d.dist, d.cv, u, z)[0])

    def shifts(self, env):
        while True:
            now = env.now
            day = int(now // DAY)
            open_at, close_at = day * DAY + self.open_min, day * DAY + self.close_min
            if now < open_at:
                self.readers.set_capacity(self.night)
                yield env.timeout(open_at - now)
            elif now < close_at:
                self.readers.set_capacity(self.day)
                yield env.timeout(close_at - now)
            else:
                self.readers.set_capacity(self.night)
                yield env.timeout((day + 1) * DAY - now)


@dataclass
class Mdt:
    lines: Pool
    specialist: Pool
    minutes: float
    avoid: float
    max_wait: float


class Rule:
    """What the levers change for one (member site, condition)."""

    __slots__ = ("slot", "expert_kind", "expert_tests", "base_kind", "static_manage", "local_tests",
                 "tier_ok", "diag_local", "remote_mods", "remote_ok", "centre", "manageable", "mdt",
                 "tele_ecg", "tele_dest", "defer_ok", "tolerance", "spread")

    #: the lead's reading centre: set by :func:`install` together with ``remote_mods`` or
    #: ``tele_ecg``, the only cases in which it is read (unset, not None, otherwise)
    centre: ReadingCentre

    def __init__(self) -> None:
        self.slot: Slot | None = None
        self.expert_kind: str | None = None
        self.expert_tests: tuple[str, ...] = ()
        self.base_kind = "general"
        self.static_manage = False
        self.local_tests: tuple[str, ...] = ()
        self.tier_ok = False
        self.diag_local = False
        self.remote_mods: tuple[str, ...] = ()
        self.remote_ok = False
        self.manageable = 1.0
        self.mdt: Mdt | None = None
        self.tele_ecg = False
        self.tele_dest = -1
        self.defer_ok = False
        self.tolerance = 0.0
        self.spread = 0.0


class Tele:
    """A STEMI ECG sent ahead: the cath-lab pre-activation, once the report is back."""

    __slots__ = ("dest", "ready", "cancelled")

    def __init__(self, dest: int):
        self.dest = dest
        self.ready: simpy.Event | None = None
        self.cancelled = False


# --------------------------------------------------------------------------- install


def install(w) -> None:
    """Build the lever state of one replication's :class:`~sim.model.world.World` and start its
    processes (rotas, reader shifts)."""
    cfg = w.cfg
    lv = cfg.levers
    county = w.county
    F = w.F
    fids = county.facility_ids
    fidx = {f: i for i, f in enumerate(fids)}
    conds = w.conds
    cids = w.cat.ids
    cindex = {c: i for i, c in enumerate(cids)}
    rules: list[list[Rule | None] | None] = [None] * len(w.sites)

    def rule(s: int, c: int) -> Rule:
        of_site = rules[s]
        if of_site is None:
            of_site = rules[s] = [None] * len(conds)
        r = of_site[c]
        if r is None:
            r = Rule()
            info = w.infos[s]
            cond = conds[c]
            r.base_kind = w.kind[s][c]
            r.static_manage = w.manage[s][c]
            r.local_tests = w.local_tests[s][c]
            r.tier_ok = info.tier >= cond.min_tier
            r.diag_local = all(d in info.acquire and d in info.read for d in cond.diagnostics)
            of_site[c] = r
        return r

    # ---- expert visits
    specialties: list[str] = []
    visits: list[Visit] = []
    slots: dict[tuple[int, str], Slot] = {}
    ex = lv.expert
    if ex.enabled:
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
                    r = rule(s, c)
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
        _check_concurrency(w, visits, ex)
        for v in visits:


            Journey(w.env, expert_visit(w, v, slots.get((v.site, v.specialty)), specialties.index(v.specialty)),
                    v.depart)
    w.specialties = specialties
    w.slots = slots

    # ---- remote diagnosis and consultation
    rm = lv.remote
    if rm.enabled:
        centres: dict[int, ReadingCentre] = {}
        mdts: dict[tuple[int, str], Mdt] = {}
        lines: dict[int, Pool] = {}
        remote_sites = [fidx[s] for s in rm.sites] if rm.sites else [f for f in range(F) if w.tier[f] == 1
                                                                     and w.sites[f] is not None]
        mods = set(rm.modalities)
        mc = rm.consult
        mdt_conds = {cindex[c] for c in mc.conditions} if mc.enabled else set()
        for s in remote_sites:
            info = w.infos[s]
            lead = county.lead_of[s]
            for c, cond in enumerate(conds):
                remote = tuple(d for d in cond.diagnostics if d in info.acquire and d not in info.read and d in mods)
                ok = all(d in info.acquire and (d in info.read or d in mods) for d in cond.diagnostics)
                if cond.pathway == "stemi":
                    if rm.tele_ecg and "ecg" in info.acquire and "ecg" not in info.read:
                        dest = w.em_dest_from_site[s][c]
                        r = rule(s, c)
                        r.tele_ecg = True
                        r.tele_dest = dest if (dest != w.tertiary and w.sites[dest] is not None
                                               and "cathlab" in w.sites[dest].equipment) else -1
                        r.centre = _centre(w, centres, lead, rm)
                    continue
                if cond.pathway != "outpatient":
                    continue
                use_remote = bool(remote) and ok
                use_mdt = c in mdt_conds and (ok or not cond.diagnostics)
                if not (use_remote or use_mdt):
                    continue
                r = rule(s, c)
                if use_remote:
                    r.remote_mods = remote
                    r.remote_ok = True
                    r.centre = _centre(w, centres, lead, rm)
                    cid = cids[c]
                    r.manageable = (rm.manageable[cid] if cid in rm.manageable else
                                    min(rm.manageable_by_modality.get(m, rm.default_manageable) for m in remote))
                else:
                    r.remote_ok = r.diag_local
                if use_mdt:
                    if lead not in lines:
                        lines[lead] = Pool(w.env, mc.lines, fids[lead], "mdt_lines")
                        w.lever_pools.append(lines[lead])
                    kind = w.kind[lead][c]
                    k = (lead, kind)
                    if k not in mdts:
                        mdts[k] = Mdt(lines[lead], w.sites[lead].doctors[kind], mc.consult_minutes, 0.0,
                                      mc.max_wait_minutes)
                    m = mdts[k]
                    r.mdt = Mdt(m.lines, m.specialist, m.minutes, mc.avoid_prob.get(cids[c], mc.default_avoid_prob),
                                m.max_wait)
        for centre in centres.values():
            w.env.process(centre.shifts(w.env))
        w.centres = centres
    w.rules = rules
    if w.choice_weight:
        adjust_choice(w)


def _centre(w, centres, lead, rm) -> ReadingCentre:
    if lead not in centres:
        centres[lead] = ReadingCentre(w, lead, rm)
        w.lever_pools.append(centres[lead].readers)
    return centres[lead]


def _check_concurrency(w, visits: list[Visit], ex) -> None:
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
    from sim.county.routing import expected_out_of_pocket, logit

    ch = w.choice
    care = w.cfg.care
    chm = care.choice
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
                u = np.empty(len(opts))
                for j, (t, m) in enumerate(zip(tiers, travel)):
                    capable = max(1.0 if t >= perceived else 0.0, weights[j])
                    u[j] = (chm.beta_tier[t] + chm.beta_travel_per_hour * m / 60.0
                            + chm.beta_cost_per_100 * expected_out_of_pocket(care, c, w.cat, t, m) / 100.0
                            + chm.beta_capable * capable)
                cum = np.cumsum(logit(u)).tolist()
                cum[-1] = 1.0
                ch.cum[v][c][worried] = cum
                ch._cum[v, c, worried, : len(opts)] = cum


# --------------------------------------------------------------------------- expert visits


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


def defer(w, r: Rule, sl: Slot, pid: int, v: int, a, s: int, row: int):
    """Process body: the patient goes home and comes back for the next visit of ``sl``
    (``r.slot``, never None when :func:`decide` says DEFER)."""
    env = w.env
    log = w.log
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
    """After the consult: record the expert/skill decision, or try remote reading and remote
    consultation for a patient the site would refer.  Returns whether the site manages."""
    log = w.log
    env = w.env
    if how == EXPERT:
        log.lever_event(pid, s, env.now, EV["expert_seen"])
        if not r.static_manage:
            log.lever_event(pid, s, env.now, EV["expert_avoided"])
        return True
    if manage:
        if how == SKILL:
            log.lever_event(pid, s, env.now, EV["skill_local"])
        return True
    tier_ok = r.tier_ok or how == SKILL
    if r.remote_mods and (tier_ok or r.mdt is not None):
        ok = yield from remote_read(w, r, pid, s, row, prio)
        if not ok:
            return False
        if a[A_RESULT] >= r.manageable:
            log.lever_event(pid, s, env.now, EV["remote_referred"])
            return False
        if tier_ok:
            log.lever_event(pid, s, env.now, EV["skill_local"] if how == SKILL else EV["remote_local"])
            return True
    elif not r.remote_ok:
        return False
    if tier_ok:  # diagnostics read locally, skill managed: nothing else stood in the way
        return True
    mdt = r.mdt
    if mdt is not None:
        return (yield from remote_consult(w, mdt, pid, c, a, s, prio))
    return False


def remote_read(w, r: Rule, pid: int, s: int, row: int, prio: int):
    """Acquire the studies here, send them, wait for the reports.  True when every report is back
    in time and readable."""
    env = w.env
    log = w.log
    site = w.sites[s]
    centre = r.centre
    deadline = env.now + w.cfg.levers.remote.patient_max_wait_minutes
    rm = w.cfg.levers.remote
    pending = []
    for m in r.remote_mods:
        ev = yield from _acquire_and_send(w, site, centre, pid, s, m, prio)
        log.v_tests[row] |= TEST_BIT[m]
        pending.append((m, ev, 0))
    while pending:
        m, ev, tries = pending.pop(0)
        if ev._value is PENDING:
            left = deadline - env.now
            if left <= 0:
                log.lever_event(pid, s, env.now, EV["remote_timeout"])
                return False
            yield env.any_of([ev, env.timeout(left)])
            if ev._value is PENDING:
                log.lever_event(pid, s, env.now, EV["remote_timeout"])
                return False
        if not ev._value:  # failed study
            if rm.on_failure == "repeat" and tries < rm.max_repeats:
                ev2 = yield from _acquire_and_send(w, site, centre, pid, s, m, prio)
                pending.append((m, ev2, tries + 1))
                continue
            log.lever_event(pid, s, env.now, EV["remote_failed"])
            return False
    return True


def _acquire_and_send(w, site: Site, centre: ReadingCentre, pid: int, s: int, m: str, prio: int):
    env = w.env
    eq = site.equipment[m]
    if not eq.try_acquire():
        yield eq.request(prio)
    yield env.timeout(w.test_minutes[m])
    eq.release()
    ev = simpy.Event(env)


    Journey(env, read_study(w, centre, pid, s, m, prio, ev, None), 0.0)
    return ev


def read_study(w, centre: ReadingCentre, pid: int, s: int, m: str, prio: int, done, tele: Tele | None):
    """Process body of one study: transmission, reading-centre queue, reading, report."""
    env = w.env
    log = w.log
    row = log.remote_study(pid, s, centre.lead, MODALITIES.index(m), prio, env.now)
    if centre.transmit > 0:
        yield env.timeout(centre.transmit)
    pool = centre.readers
    if not pool.try_acquire():
        yield pool.request(prio)
    log.r_start[row] = env.now
    yield env.timeout(centre.read_minutes(m))
    pool.release()
    log.r_report[row] = env.now
    failed = centre.fail_rng.random() < centre.fail_p
    log.r_status[row] = _FAILED if failed else _REPORTED
    if done is not None:
        done.succeed(not failed)
    if tele is not None and not failed and not tele.cancelled:
        tele.ready = ready = simpy.Event(env)
        yield from _preactivate(w, tele.dest, ready)


def _preactivate(w, dest: int, ready: simpy.Event):
    """The chest-pain centre ``dest`` activates its cath lab on the tele-ECG report, then
    triggers ``ready`` (the :class:`Tele`'s)."""
    env = w.env
    lab = w.sites[dest].equipment["cathlab"]
    yield lab.request(0)
    yield env.timeout(w.cathlab_activation)
    ready.succeed()


def tele_ecg(w, r: Rule, pid: int, s: int):
    """Emergency at a member site: acquire the ECG and send it ahead (the patient does not wait
    for the report).  Returns the tests bit."""
    env = w.env
    site = w.sites[s]
    eq = site.equipment["ecg"]
    if not eq.try_acquire():
        yield eq.request(0)
    yield env.timeout(w.test_minutes["ecg"])
    eq.release()
    w.log.lever_event(pid, s, env.now, EV["tele_ecg_sent"])
    tele = None
    if r.tele_dest >= 0:
        tele = Tele(r.tele_dest)
        w.tele[pid] = tele


    Journey(env, read_study(w, r.centre, pid, s, "ecg", 0, None, tele), 0.0)
    return TEST_BIT["ecg"]


def remote_consult(w, m: Mdt, pid: int, c: int, a, s: int, prio: int):
    """Video/phone consultation with the lead's specialist (``m``, the rule's MDT): a line, then
    the specialist."""
    env = w.env
    log = w.log
    t0 = env.now
    line = m.lines
    if not (line.try_acquire() or (yield line.request_with_patience(prio, m.max_wait))):
        log.lever_event(pid, s, env.now, EV["mdt_timeout"])
        return False
    doc = m.specialist
    left = m.max_wait - (env.now - t0)
    if not (doc.try_acquire() or (yield doc.request_with_patience(prio, max(left, 0.0)))):
        line.release()
        log.lever_event(pid, s, env.now, EV["mdt_timeout"])
        return False
    yield env.timeout(m.minutes)
    doc.release()
    line.release()
    if a[A_MDT] < m.avoid:
        log.lever_event(pid, s, env.now, EV["mdt_local"], env.now - t0)
        return True
    log.lever_event(pid, s, env.now, EV["mdt_referred"], env.now - t0)
    return False
