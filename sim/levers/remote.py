"""Remote diagnosis and consultation (远程诊断 / 远程会诊): a lever
(:class:`sim.levers.protocol.Lever`) that reads ``levers.remote``.

Remote reading
    A member site that acquires a modality but cannot read it sends the study to its lead
    hospital's reading centre (:class:`~sim.levers.reading.ReadingCentre`): transmission
    delay, queue, reading time, and a failure probability (the study is repeated or the
    patient referred).  The patient waits at the site (up to a limit); a negative or
    manageable result (the patient's ``u_result`` below the configured share) lets the centre
    treat locally, the rest are referred.

Remote consultation
    MDT by video/phone takes a line and the lead specialist's time and lets the site manage a
    share (``u_mdt``) of the covered conditions it would otherwise refer.

Tele-ECG for chest pain uses the same reading centres but is its own lever
(:mod:`sim.levers.tele_ecg`).  Randomness: the per-patient attributes ``u_result`` and
``u_mdt`` and the reading centres' streams.  Records: ``remote_studies`` and ``lever_events``
(remote_local, remote_referred, remote_timeout, remote_failed, mdt_local, mdt_referred,
mdt_timeout).
"""

from __future__ import annotations

from dataclasses import dataclass

import simpy

from sim.config.levers import validate_remote
from sim.config.schema import Config
from sim.county.patients import A_MDT, A_RESULT
from sim.engine.kernel import Journey
from sim.engine.resources import Pool, Site
from sim.levers.reading import ReadingCentre, read_study, sending_sites
from sim.levers.site_rules import EV, SKILL, Rule, SiteRules
from sim.records.log import TEST_BIT

#: the lever protocol's names (sim.levers.protocol.Lever), then the rest
__all__ = ["name", "section", "kpis", "tables", "validate", "enabled", "install",
           "decide", "defer", "settle", "send_ahead", "at_door",
           "queue_doctor", "queue_bed", "down_target",
           "Mdt"]

# ---------------------------------------------------------------- the lever (sim.levers.protocol)
name = "remote"
section = "levers.remote"
kpis = ("remote_studies", "remote_failures", "remote_turnaround_mean_min", "remote_turnaround_p90_min",
        "remote_backlog_mean", "reader_utilisation", "remote_consults", "managed_locally_by_levers",
        "local_treatment_share", "remote_readings_per_10k")
tables = ("remote_studies", "lever_events")
validate = validate_remote
decide = None
defer = None
send_ahead = None
at_door = None
queue_doctor = queue_bed = down_target = None


def enabled(cfg: Config) -> bool:
    return cfg.levers.remote.enabled


@dataclass
class Mdt:
    lines: Pool
    specialist: Pool
    minutes: float
    avoid: float
    max_wait: float


def install(w, rules: SiteRules) -> None:
    """Rules for the outpatient conditions a sending site can have read remotely or discussed
    with the lead (MDT); the reading centres and consultation lines they use."""
    rm = w.cfg.levers.remote
    county = w.county
    fids = county.facility_ids
    conds = w.conds
    cids = w.cat.ids
    cindex = {c: i for i, c in enumerate(cids)}
    mdts: dict[tuple[int, str], Mdt] = {}
    lines: dict[int, Pool] = {}
    mods = set(rm.modalities)
    mc = rm.consult
    mdt_conds = {cindex[c] for c in mc.conditions} if mc.enabled else set()
    if not hasattr(w, "centres"):
        w.centres = {}
    for p, s in enumerate(sending_sites(w)):
        info = w.infos[s]
        lead = county.lead_of[s]
        for c, cond in enumerate(conds):
            if cond.pathway != "outpatient":
                continue
            remote = tuple(d for d in cond.diagnostics if d in info.acquire and d not in info.read and d in mods)
            ok = all(d in info.acquire and (d in info.read or d in mods) for d in cond.diagnostics)
            use_remote = bool(remote) and ok
            use_mdt = c in mdt_conds and (ok or not cond.diagnostics)
            if not (use_remote or use_mdt):
                continue
            r = rules.rule(s, c)
            if use_remote:
                r.remote_mods = remote
                r.remote_ok = True
                r.centre = ReadingCentre.of(w, rules, lead, (p, c, 0))
                cid = cids[c]
                r.manageable = (rm.manageable[cid] if cid in rm.manageable else
                                min(rm.manageable_by_modality.get(m, rm.default_manageable) for m in remote))
            else:
                r.remote_ok = r.diag_local
            if use_mdt:
                if lead not in lines:
                    lines[lead] = Pool(w.env, mc.lines, fids[lead], "mdt_lines")
                    rules.add_pool(lines[lead], (p, c, 1))
                kind = w.kind[lead][c]
                k = (lead, kind)
                if k not in mdts:
                    mdts[k] = Mdt(lines[lead], w.sites[lead].doctors[kind], mc.consult_minutes, 0.0,
                                  mc.max_wait_minutes)
                m = mdts[k]
                r.mdt = Mdt(m.lines, m.specialist, m.minutes, mc.avoid_prob.get(cids[c], mc.default_avoid_prob),
                            m.max_wait)


def settle(w, r: Rule, how: int, pid: int, c: int, a, s: int, row: int, manage: bool, prio: int):
    """After the consult, for a patient the site would refer: try remote reading, then remote
    consultation.  Returns whether the site manages."""
    if manage:
        return True
    log = w.log
    env = w.env
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
        if not ev.triggered:
            left = deadline - env.now
            if left <= 0:
                log.lever_event(pid, s, env.now, EV["remote_timeout"])
                return False
            yield env.any_of([ev, env.timeout(left)])
            if not ev.triggered:
                log.lever_event(pid, s, env.now, EV["remote_timeout"])
                return False
        if not ev.value:  # failed study
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
