"""SimPy processes that move patients and only *record*: arrivals, journeys, transfers.

Every process takes the replication's :class:`~sim.model.world.World` first.  Nothing here
computes a KPI; everything is appended to ``world.log``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.county.calendar import DAY, next_opening_many
from sim.county.patients import (
    A_ADMIT,
    A_AMB,
    A_CHOICE,
    A_CONSULT,
    A_DOWN,
    A_LOS,
    A_OUT,
    A_PATIENCE,
    A_PERC,
    A_RENEGE,
)
from sim.engine.kernel import Journey, Later
from sim.levers.site_rules import DEFER, EV
from sim.records.codes import Admission, Exit, Mode, Outcome, Reperfusion
from sim.records.log import TEST_BIT

if TYPE_CHECKING:
    pass

__all__ = ["arrivals", "care", "release_later"]

# the record codes (sim.records.codes) as plain ints on the hot path
COMPLETED, TRANSFERRED_OUT, LEFT = int(Exit.COMPLETED), int(Exit.TRANSFERRED_OUT), int(Exit.LEFT_UNTREATED)
TREATED, ADMITTED, REFERRED, RENEGED, BALKED, OUT_OF_COUNTY, DOWN, CLOSED = (
    int(Outcome.TREATED), int(Outcome.ADMITTED), int(Outcome.REFERRED_UP), int(Outcome.RENEGED),
    int(Outcome.BALKED), int(Outcome.OUT_OF_COUNTY), int(Outcome.DOWN_REFERRAL), int(Outcome.CLOSED_ELSEWHERE))
PCI, LYSIS, STROKE_NEEDLE = int(Reperfusion.PCI), int(Reperfusion.THROMBOLYSIS), int(Reperfusion.STROKE_THROMBOLYSIS)
ECG_BIT = TEST_BIT["ecg"]
SELF, REFERRAL, AMBULANCE, DOWN_REFERRAL, AFTER_RENEGE = (
    int(Mode.SELF), int(Mode.REFERRAL), int(Mode.AMBULANCE), int(Mode.DOWN_REFERRAL), int(Mode.AFTER_RENEGE))
IN_BED, DISCHARGED, NO_BED = int(Admission.IN_BED), int(Admission.DISCHARGED), int(Admission.NO_BED)
DEFERRED_RETURN, ELSEWHERE = int(Mode.DEFERRED_RETURN), int(Mode.ELSEWHERE)


#: the arrival process wakes at most this often (minutes) and schedules the journeys that
#: start before its next wake-up; fewer events, same patients.
ARRIVAL_TICK = 60.0
#: patients turned into Python lists at a time by :func:`arrivals` (memory only: same results)
ARRIVAL_SLICE = 4096


def arrivals(w):
    """Process: release each pre-drawn patient at its onset time.

    Per weekly batch, the first-contact choice, travel and any wait at home for the chosen
    site to open are computed for all patients at once (vectorised; the choice depends only
    on the patient's own draws and the static choice table).  The journey then starts when
    the patient reaches the chosen site: a non-emergency patient whose site would be closed
    on arrival stays at home and sets off so as to arrive when it opens (that delay shows as
    onset-to-first-contact time, not as a wait).  A resident who lives elsewhere (share
    ``elsewhere_share`` of ``u_out``) gets the episode's care out of county, where they live.
    """
    env = w.env
    log = w.log
    F = w.F
    amb_prob = np.array([c.ambulance_prob if c.pathway != "outpatient" else -1.0 for c in w.conds])
    is_emerg = np.array([c.pathway != "outpatient" for c in w.conds])
    has_station = np.array([bool(st) for st in w.stations_of_village])
    travel = np.asarray(w.county.travel)
    for t, v, c, att in w.arrivals.batches():
        n = len(t)
        emerg = is_emerg[c]
        by_amb = emerg & (att[:, A_AMB] < amb_prob[c]) & has_station[v]
        s = w.choice.choose_many(v, c, att[:, A_CHOICE], att[:, A_PERC] < w.perception_noise)
        away = att[:, A_OUT] < w.elsewhere_share
        s = np.where(away, w.tertiary, s)
        by_amb &= ~away
        minutes = np.where(s >= F, w.clinic_minutes, travel[v, np.minimum(s, F - 1)])
        minutes = np.where(away, 0.0, minutes)
        arrive = t + minutes
        if w.closed_wait:
            defer = ~emerg
            arrive = np.where(defer, next_opening_many(arrive, w.site_open[s], w.site_close[s], w.site_days[s]),
                              arrive)
        first = np.where(by_amb, -1, s)
        minutes = np.where(by_amb, 0.0, minutes)
        pid0 = log.new_patients(v, c, t, first, minutes)
        w.n_arrived += n
        del first, minutes, emerg
        # the patients become Python lists a slice at a time: a whole week's lists (~1 KB a
        # patient) held while the next week is drawn were the largest transient of a county run
        for j0 in range(0, n, ARRIVAL_SLICE):
            j1 = min(n, j0 + ARRIVAL_SLICE)
            tl, vl, cl, al = t[j0:j1].tolist(), v[j0:j1].tolist(), c[j0:j1].tolist(), att[j0:j1].tolist()
            sl, arr, amb, awl = s[j0:j1].tolist(), arrive[j0:j1].tolist(), by_amb[j0:j1].tolist(), away[j0:j1].tolist()
            p = pid0 + j0
            for i in range(j1 - j0):
                now = env.now
                if tl[i] - now > ARRIVAL_TICK:
                    yield env.timeout(tl[i] - now - ARRIVAL_TICK / 2)
                    now = env.now
                if amb[i]:
                    Journey(env, ambulance_call(w, p + i, vl[i], cl[i], al[i]), tl[i] - now)
                else:
                    Journey(env, care(w, p + i, vl[i], cl[i], al[i], sl[i], ELSEWHERE if awl[i] else SELF),
                            arr[i] - now)
            del tl, vl, cl, al, sl, arr, amb, awl
        del t, v, c, att, s, arrive, by_amb, away


def go(w, pid, dest, minutes, emergency):
    """Travel to ``dest`` by own means.  A non-emergency patient whose destination would be
    closed on arrival stays at home and sets off so as to arrive when it opens (the delay is
    not queueing: it shows as onset-to-first-contact time, not as a wait)."""
    env = w.env
    if not emergency and w.closed_wait and dest != w.tertiary:
        site = w.sites[dest]
        arrive = env.now + minutes
        if not site.is_open(arrive):
            yield site.next_opening(arrive) - arrive
    if minutes > 0:
        yield minutes
    w.log.p_travel[pid] += minutes


def care(w, pid, v, c, a, s, mode):
    """Process body: visits from site ``s`` on, following referrals until the episode ends.

    One pass of the loop is one visit, in named steps: arrive (out of county, or at a site
    that gives definitive emergency care: :func:`definitive_emergency`); open the visit; a site
    closed on arrival (:func:`closed_on_arrival`); the levers' decision (expert slot, deferral,
    remote reading: ``sim.levers``); queue for the doctor, or balk / renege
    (:func:`left_queue`); consult; tests; an emergency first contact that must transfer
    (:func:`first_contact_emergency`); the levers' settlement; then admit, treat or refer
    (:func:`after_consult`) and travel to the next site.  The common path (queue, consult,
    treat) stays inline: each named step is a generator, and one per visit per patient costs
    a measurable share of a county run.
    """
    env = w.env
    log = w.log
    cond = w.conds[c]
    prio = cond.priority
    emergency = cond.pathway != "outpatient"
    erow = -1
    queue_doctor = w.hooks.queue_doctor  # a lever's doctor request (green channel), else None
    src = -1  # the site the patient came from
    while True:
        # ---- arrive
        now = env.now
        if s == w.tertiary:
            out_of_county(w, pid, c, a, mode, now)
            return
        site = w.sites[s]
        if emergency and w.em_capable[s][c]:
            if erow < 0:
                erow = log.emergency(pid, log.p_onset[pid], -1)
                log.e_fmc[erow] = now
            log.e_door[erow] = now
            log.e_dest[erow] = s
            yield from definitive_emergency(w, pid, v, c, a, s, mode, erow)
            return
        # ---- open the visit
        row = log.visit(pid, s, now, mode)
        if emergency and erow < 0:
            erow = log.emergency(pid, log.p_onset[pid], -1)
            log.e_fmc[erow] = now
        day = int(now // DAY)
        minute = now - day * DAY
        if not emergency and ((day % 7) not in site.days or minute < site.open_min or minute >= site.close_min):
            alt = yield from closed_on_arrival(w, pid, v, c, a, s, row, now)
            if alt is not None:
                s, mode = alt, SELF
                continue
        # ---- the levers' decision: who sees the patient, or come back for the expert
        rules = w.rules[s]
        rule = None if rules is None else rules[c]
        if rule is None or emergency:
            pool = site.doctors[w.kind[s][c]]
            manage = w.manage[s][c]
            tests = w.local_tests[s][c]
        else:
            how, kind, manage, tests = w.hooks.decide(w, rule, a, env.now, mode)
            if how == DEFER:
                yield from w.hooks.defer(w, rule, pid, v, a, s, row)
                mode = DEFERRED_RETURN
                continue
            pool = site.doctors[kind]
        # ---- queue for the doctor (or balk at a long queue, or renege after waiting)
        if pool.waiting >= w.balk_queue and prio > 0:
            nxt = yield from left_queue(w, pid, v, s, a, row, BALKED, emergency)
            if nxt is None:
                return
            s, mode = nxt, AFTER_RENEGE
            continue
        if queue_doctor is None:
            granted = pool.try_acquire() or (yield pool.request_with_patience(prio, a[A_PATIENCE] * w.patience[c]))
        else:
            granted = queue_doctor(w, pool, pid, s, src, mode, prio, a[A_PATIENCE] * w.patience[c])
            if granted is not True:
                granted = yield granted
        if not granted:
            nxt = yield from left_queue(w, pid, v, s, a, row, RENEGED, emergency)
            if nxt is None:
                return
            s, mode = nxt, AFTER_RENEGE
            continue
        # ---- consult, then the tests the site does itself
        log.v_start[row] = env.now
        yield w.consult[c][site.tier] * a[A_CONSULT]
        pool.release()
        mask = 0
        for m in tests:
            eq = site.equipment[m]
            if not eq.try_acquire():
                yield eq.request(prio)
            yield w.test_minutes[m]
            eq.release()
            mask |= TEST_BIT[m]
        if mask:
            log.v_tests[row] = mask
        if emergency:
            dest = yield from first_contact_emergency(w, pid, c, s, site, rule, row, erow, mask)
            s, mode = dest, AMBULANCE
            continue
        if rule is not None:
            manage = yield from w.hooks.settle(w, rule, how, pid, c, a, s, row, manage, prio)
        # ---- admit, treat, or refer, then travel on
        if manage and a[A_ADMIT] >= cond.admit_prob:
            log.v_end[row] = env.now
            log.v_outcome[row] = TREATED
            log.exit(pid, COMPLETED, env.now)
            return
        nxt = yield from after_consult(w, pid, v, c, a, s, site, row, manage)
        if nxt is None:
            return
        log.p_up[pid] += 1
        if prio == 0:
            yield from ambulance_transfer(w, s, nxt)
            mode = AMBULANCE
        else:
            yield from go(w, pid, nxt, w.site_travel(s, nxt, v), emergency)
            mode = REFERRAL
        src, s = s, nxt


def out_of_county(w, pid, c, a, mode, now, inpatient=None):
    """Step: the patient reaches the out-of-county hospital (tier 3, not simulated further):
    one visit row, and an admission row for a stay there (``inpatient``, or when the patient's
    admission draw says the condition needs one), request = admit = arrival, discharge after
    the condition's tier-3 stay (open when beyond the horizon).  The episode ends here."""
    log = w.log
    s = w.tertiary
    row = log.visit(pid, s, now, mode)
    log.v_start[row] = now
    log.v_end[row] = now
    log.v_outcome[row] = OUT_OF_COUNTY
    if inpatient or (inpatient is None and a[A_ADMIT] < w.conds[c].admit_prob):
        arow = log.admission(pid, s, now)
        log.a_admit[arow] = now
        end = now + w.los[3][c] * a[A_LOS]
        if end <= w.horizon:
            log.a_discharge[arow] = end
            log.a_outcome[arow] = DISCHARGED
        else:
            log.a_outcome[arow] = IN_BED
    log.exit(pid, TRANSFERRED_OUT, now)


def closed_on_arrival(w, pid, v, c, a, s, row, now):
    """Step: the site is closed.  Wait for it to open (``closed_policy: wait``), or go to the
    best open alternative; returns that site, or None once the patient may be seen here."""
    site = w.sites[s]
    if not w.closed_wait:
        alt = w.choice.choose_among(v, c, a[A_CHOICE], a[A_PERC] < w.perception_noise,
                                    lambda o: o == w.tertiary or w.sites[o].is_open(now))
        if alt is not None and alt != s:
            log = w.log
            log.v_end[row] = now
            log.v_outcome[row] = CLOSED
            minutes = w.site_travel(s, alt, v)
            yield minutes
            log.p_travel[pid] += minutes
            return alt
    yield site.next_opening(now) - now
    return None


def left_queue(w, pid, v, s, a, row, outcome, emergency):
    """Step: the patient balked at the queue or reneged in it (``outcome``): up to the lead
    hospital (:meth:`~sim.model.world.World.after_renege_target`) or home untreated (None)."""
    env = w.env
    log = w.log
    log.v_end[row] = env.now
    log.v_outcome[row] = outcome
    nxt = w.after_renege_target(s, v, a[A_RENEGE])
    if nxt is None:
        log.exit(pid, LEFT, env.now)
        return None
    yield from go(w, pid, nxt, w.site_travel(s, nxt, v), emergency)
    return nxt


def first_contact_emergency(w, pid, c, s, site, rule, row, erow, mask):
    """Step: an emergency seen first at a site that cannot give definitive care: an ECG (sent
    ahead by tele-ECG where a lever reads it), maybe thrombolysis, stabilise, then transfer by
    ambulance to the definitive-care destination, which is returned."""
    env = w.env
    log = w.log
    cond = w.conds[c]
    if rule is not None and rule.tele_ecg:
        bits = yield from w.hooks.send_ahead(w, rule, pid, s)
        log.v_tests[row] |= bits
    elif cond.pathway == "stemi" and "ecg" in site.equipment and not mask & ECG_BIT:
        eq = site.equipment["ecg"]
        if not eq.try_acquire():
            yield eq.request(0)
        yield w.test_minutes["ecg"]
        eq.release()
        log.v_tests[row] |= ECG_BIT
    if log.v_tests[row] & ECG_BIT and log.e_ecg[erow] != log.e_ecg[erow]:
        log.e_ecg[erow] = env.now
    if cond.pathway == "stemi" and site.tier in w.lysis_tiers and log.v_tests[row] & ECG_BIT \
            and ("ecg" in site.read or (rule is not None and rule.tele_ecg)) \
            and w.expected_time_to_pci(s, c, rule is not None and rule.tele_ecg) > w.lysis_threshold:
        # pharmaco-invasive: thrombolysis here, then transfer for later angiography
        yield w.door_to_needle
        log.e_reperfusion[erow] = env.now
        log.e_kind[erow] = LYSIS
    yield w.stabilise
    log.v_end[row] = env.now
    log.v_outcome[row] = REFERRED
    log.p_up[pid] += 1
    dest = w.em_dest_from_site[s][c]
    yield from ambulance_transfer(w, s, dest)
    return dest


def after_consult(w, pid, v, c, a, s, site, row, manage):
    """Step: a patient the site cannot send home.  Admit (when the site manages the condition
    and it needs a bed): the stay, then down-referral or discharge, and the episode ends (None);
    or, with no bed in time, no ward, or a condition beyond the site, the site to refer to.  At
    a lead hospital the patient may take the stay out of county instead (``World.p_out``, on
    the patient's ``u_out`` above the share who live elsewhere)."""
    env = w.env
    log = w.log
    cond = w.conds[c]
    if manage:
        p_out = w.p_out[s][c]
        if p_out > 0 and (a[A_OUT] - w.elsewhere_share) < p_out * (1.0 - w.elsewhere_share):
            # the stay goes to the city/provincial hospital (外转), with the lead's referral
            log.v_end[row] = env.now
            log.v_outcome[row] = REFERRED
            return w.tertiary
        if site.beds is not None:
            log.v_end[row] = env.now
            log.v_outcome[row] = ADMITTED
            ok = yield from admit(w, pid, c, a, s, v)
            if ok is None:
                return None
            if ok:
                yield from after_discharge(w, pid, v, c, a, s)
                log.exit(pid, COMPLETED, env.now)
                return None
            # no bed within the limit: transfer up, and out of county from tier 2
            return w.refer_up(s, v, max(cond.min_tier, site.tier + 1))
        log.v_end[row] = env.now
        log.v_outcome[row] = REFERRED
        return w.refer_up(s, v, max(cond.min_tier, site.tier + 1))
    log.v_end[row] = env.now
    log.v_outcome[row] = REFERRED
    return w.refer[s][c]


def admit(w, pid, c, a, s, v=-1):
    """Process body: wait for a bed (up to the limit), stay, be discharged.

    Returns True when the stay ended in the county, False when no bed came within the limit
    (the caller refers up), None when the patient left the county during the stay (a
    deteriorating tier-1 inpatient who found no lead bed in time; the exit is recorded here).
    A tier-1 inpatient may deteriorate and move up to the lead hospital, holding the tier-1
    bed until a lead bed is free; a hospital inpatient referred down for a tier-1 bed keeps the
    hospital bed until that bed is free (blocking after service).

    Every bed request has its admission row, opened at the request; ``admit`` is the grant,
    from which the bed is held (for a transfer: through the journey to it), and ``discharge``
    the release, so the rows cover exactly the bed-minutes the bed pools integrate.
    """
    env = w.env
    log = w.log
    site = w.sites[s]
    row = log.admission(pid, s, env.now)
    prio = w.conds[c].priority
    queue_bed = w.hooks.queue_bed
    if queue_bed is None:
        ok = site.beds.try_acquire() or (yield site.beds.request_with_patience(prio, w.bed_wait_max))
    else:
        ok = queue_bed(w, pid, s, prio, w.bed_wait_max)
        if ok is not True:
            ok = yield ok
    if not ok:
        log.a_outcome[row] = NO_BED
        return False
    log.a_admit[row] = env.now
    log.a_outcome[row] = IN_BED
    tier = w.tier[s]
    stay = w.los[tier][c] * a[A_LOS]
    if tier == 1 and w.deterioration > 0 and a[A_RENEGE] < w.deterioration:
        # a seen inpatient never reneged, so the renege uniform is free to decide deterioration
        yield stay / 2
        lead = w.county.lead_of[s]
        lrow = yield from wait_bed_holding(w, pid, s, lead, 1, w.max_up_wait)
        site.beds.release()
        log.a_discharge[row] = env.now
        log.a_outcome[row] = DISCHARGED
        log.p_up[pid] += 1
        if lrow < 0:
            log.lever_event(pid, s, env.now, EV["deterioration_out"])
            yield from ambulance_transfer(w, s, w.tertiary)
            out_of_county(w, pid, c, a, AMBULANCE, env.now, inpatient=True)
            return None
        log.lever_event(pid, s, env.now, EV["deterioration_up"])
        yield from ambulance_transfer(w, s, lead)
        vrow = log.visit(pid, lead, env.now, AMBULANCE)
        log.v_start[vrow] = log.v_end[vrow] = env.now
        log.v_outcome[vrow] = ADMITTED
        yield stay
        w.sites[lead].beds.release()
        log.a_discharge[lrow] = env.now
        log.a_outcome[lrow] = DISCHARGED
        return True
    yield stay
    if tier >= 2 and v >= 0 and a[A_DOWN] < w.down_p[c] * w.down_bed_share:
        home = w.home[v] if w.hooks.down_target is None else w.hooks.down_target(w, pid, v)
        hsite = w.sites[home]
        if hsite is not None and hsite.beds is not None:
            t0 = env.now
            drow = yield from wait_bed_holding(w, pid, s, home, 2, w.max_block)
            log.a_blocked[row] = env.now - t0
            site.beds.release()
            log.a_discharge[row] = env.now
            log.a_outcome[row] = DISCHARGED
            if drow < 0:
                log.lever_event(pid, s, env.now, EV["down_bed_timeout"])
                return True  # home, with the outpatient follow-up of after_discharge
            yield from go(w, pid, home, w.site_travel(s, home, v), True)
            log.p_down[pid] += 1
            vrow = log.visit(pid, home, env.now, DOWN_REFERRAL)
            log.v_start[vrow] = log.v_end[vrow] = env.now
            log.v_outcome[vrow] = ADMITTED
            yield w.down_los
            hsite.beds.release()
            log.a_discharge[drow] = env.now
            log.a_outcome[drow] = DISCHARGED
            return True
    site.beds.release()
    log.a_discharge[row] = env.now
    log.a_outcome[row] = DISCHARGED
    return True


def wait_bed_holding(w, pid, hold, want, prio, patience):
    """Wait (at most ``patience``) for a bed at ``want`` while holding one at ``hold``.

    The request opens an admission row at ``want`` (``request`` now); the row's ``admit`` is
    the grant, since the bed is held from then on, through the transfer.  Returns the row, or
    -1 when no bed came in time (the row's outcome is then ``no_bed``).

    Records a circular wait when someone holding a bed at ``want`` is at that moment waiting
    for a bed at ``hold``: the bounded waits resolve it (outward transfer or discharge home).
    """
    log = w.log
    key = (hold, want)
    waits = w.bed_waits
    waits[key] = waits.get(key, 0) + 1
    if waits.get((want, hold), 0) > 0:
        log.lever_event(pid, hold, w.env.now, EV["circular_wait"], float(want))
    beds = w.sites[want].beds
    row = log.admission(pid, want, w.env.now)
    got = beds.try_acquire() or (yield beds.request_with_patience(prio, patience))
    waits[key] -= 1
    if not got:
        log.a_outcome[row] = NO_BED
        return -1
    log.a_admit[row] = w.env.now
    log.a_outcome[row] = IN_BED
    return row


def after_discharge(w, pid, v, c, a, s):
    """Down-referral (下转) of a discharged hospital inpatient to the tier-1 site near home."""
    if w.tier[s] < 2 or a[A_DOWN] >= w.down_p[c] or w.log.p_down[pid] > 0:
        return
    env = w.env
    log = w.log
    home = w.home[v] if w.hooks.down_target is None else w.hooks.down_target(w, pid, v)
    yield from go(w, pid, home, w.site_travel(s, home, v), False)
    log.p_down[pid] += 1
    row = log.visit(pid, home, env.now, DOWN_REFERRAL)
    site = w.sites[home]
    if not site.is_open(env.now):
        yield site.next_opening(env.now) - env.now
    pool = site.doctors[w.down_kind[home]]
    yield pool.request(2)
    log.v_start[row] = env.now
    yield w.consult[c][1] * a[A_CONSULT]
    pool.release()
    log.v_end[row] = env.now
    log.v_outcome[row] = DOWN


def _release(pool):
    pool.release()


def release_later(env, pool, delay):
    """``pool`` releases a unit after ``delay`` minutes (nobody waits on it)."""
    Later(env, delay, _release, pool)


def ambulance_call(w, pid, v, c, a):
    """120 call: the nearest station with a free ambulance (else the nearest) sends one;
    first medical contact at the scene; carried to the nearest capable site."""
    env = w.env
    log = w.log
    stations = w.stations_of_village[v]
    st = stations[0]
    for cand in stations:
        p = w.sites[cand].ambulances
        if p.waiting == 0 and p.in_use < p.capacity:
            st = cand
            break
    pool = w.sites[st].ambulances
    erow = log.emergency(pid, env.now, st)
    yield pool.request(0)
    yield w.dispatch + w.travel[v][st]
    log.e_fmc[erow] = env.now
    if w.ambulance_ecg:
        log.e_ecg[erow] = env.now + w.test_minutes["ecg"]
    yield w.on_scene
    dest = w.em_dest_from_village[v][c]
    log.p_first[pid] = dest
    yield w.travel[v][dest]
    release_later(env, pool, w.handover + w.ftravel[dest][st])
    log.e_door[erow] = env.now
    log.e_dest[erow] = dest
    if dest == w.tertiary:
        out_of_county(w, pid, c, a, AMBULANCE, env.now)
        return
    yield from definitive_emergency(w, pid, v, c, a, dest, AMBULANCE, erow)


def ambulance_transfer(w, src, dest):
    """Inter-facility emergency transfer by the ambulance of the station nearest ``src``.

    ``src`` may be a village clinic (site ``F + v``): it is at village ``v``'s node, so the
    ambulance drives station -> village and village -> ``dest`` (``World.transfer_legs``)."""
    env = w.env
    st = w.stations_of_site[src]
    to_src, leg = w.transfer_legs(src, st, dest)
    if st < 0:  # no ambulance anywhere: self transport
        yield leg
        return
    pool = w.sites[st].ambulances
    yield pool.request(0)
    yield w.dispatch + to_src + w.handover
    yield leg
    release_later(env, pool, w.handover + w.ftravel[dest][st])


def definitive_emergency(w, pid, v, c, a, s, mode, erow):
    """Emergency department work-up, then PCI (STEMI), CT + thrombolysis (stroke) or surgery
    (trauma), then admission.  Records reperfusion time."""
    env = w.env
    log = w.log
    cond = w.conds[c]
    site = w.sites[s]
    row = log.visit(pid, s, env.now, mode)
    at_door = w.hooks.at_door
    if at_door is not None and (yield from at_door(w, pid, c, s, row, erow)):
        # a lever gave the definitive care (tele-ECG: the cath lab was pre-activated, no ED)
        yield from _after_definitive(w, pid, v, c, a, s, cond, row, site)
        return
    mask = 0
    pool = site.doctors[w.kind[s][c]]
    if log.e_ecg[erow] != log.e_ecg[erow] and cond.pathway == "stemi":
        log.e_ecg[erow] = env.now + w.test_minutes["ecg"]  # the ECG of the ED work-up
    yield pool.request(0)
    log.v_start[row] = env.now
    yield w.ed_minutes
    pool.release()
    lysed = log.e_kind[erow] == LYSIS
    if cond.pathway == "stemi" and "cathlab" in site.equipment and not lysed:
        lab = site.equipment["cathlab"]
        yield lab.request(0)
        yield w.cathlab_activation + w.device
        log.e_reperfusion[erow] = env.now  # the wire crosses the lesion: door-to-balloon ends
        log.e_kind[erow] = PCI
        yield w.procedure - w.device
        lab.release()
        mask |= TEST_BIT["cathlab"]
    elif cond.pathway == "stroke" and "ct" in site.equipment:
        ct = site.equipment["ct"]
        yield ct.request(0)
        yield w.test_minutes["ct"]
        ct.release()
        log.e_reperfusion[erow] = env.now
        log.e_kind[erow] = STROKE_NEEDLE
        mask |= TEST_BIT["ct"]
    elif cond.pathway == "trauma":
        yield w.procedure
    log.v_tests[row] = mask
    log.v_end[row] = env.now
    yield from _after_definitive(w, pid, v, c, a, s, cond, row, site)


def _after_definitive(w, pid, v, c, a, s, cond, row, site):
    """Admission (or out-of-county transfer when no bed) after definitive emergency care."""
    env = w.env
    log = w.log
    if a[A_ADMIT] < cond.admit_prob and site.beds is not None:
        log.v_outcome[row] = ADMITTED
        ok = yield from admit(w, pid, c, a, s, v)
        if ok is None:
            return
        if not ok:
            log.p_up[pid] += 1
            yield from ambulance_transfer(w, s, w.tertiary)
            out_of_county(w, pid, c, a, AMBULANCE, env.now, inpatient=True)
            return
        yield from after_discharge(w, pid, v, c, a, s)
    else:
        log.v_outcome[row] = TREATED
    log.exit(pid, COMPLETED, env.now)
