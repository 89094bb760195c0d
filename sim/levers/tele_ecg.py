"""Tele-ECG pre-activation for chest pain (远程心电 / 胸痛中心网络): the emergency network's
policy lever (:class:`sim.levers.protocol.Lever`), switched on by ``levers.remote.tele_ecg``.

At a member site that records an ECG but cannot read it, a STEMI patient's ECG is sent
ahead to the lead's reading centre (:mod:`sim.levers.reading`; the patient does not wait for
the report).  Once it is reported, the chest-pain centre the patient will be transferred to
activates its cath lab, so the transferred patient skips the emergency department and the
activation overlaps the transport; the site may also give thrombolysis on the remotely read
ECG (pharmaco-invasive care, ``care.emergency``).

The rest of the emergency network -- 120 ambulances and their stations, the chest-pain and
stroke centres' definitive care, thrombolysis -- is always on and lives in the model
(:mod:`sim.model.flow`, :mod:`sim.model.world`, configured by ``care.emergency`` and the
network's ``ambulances``); this module is only the optional lever on top of it.

Records: one ``remote_studies`` row per ECG, ``lever_events`` tele_ecg_sent and
tele_ecg_bypass.
"""

from __future__ import annotations

import simpy

from sim.config.levers import validate_tele_ecg
from sim.config.schema import Config
from sim.engine.kernel import Journey
from sim.levers.reading import ReadingCentre, read_study, sending_sites
from sim.levers.site_rules import EV, Rule, SiteRules
from sim.records.codes import Reperfusion
from sim.records.log import TEST_BIT

#: the lever protocol's names (sim.levers.protocol.Lever), then the rest
__all__ = ["name", "section", "kpis", "tables", "validate", "enabled", "install",
           "decide", "defer", "settle", "send_ahead", "at_door",
           "queue_doctor", "queue_bed", "down_target",
           "Tele"]

# ---------------------------------------------------------------- the lever (sim.levers.protocol)
name = "tele_ecg"
section = "levers.remote"
kpis = ("tele_ecg_bypass",)
tables = ("remote_studies", "lever_events")
validate = validate_tele_ecg
decide = None
defer = None
settle = None
queue_doctor = queue_bed = down_target = None

_PCI = int(Reperfusion.PCI)
_LYSIS = int(Reperfusion.THROMBOLYSIS)
_ECG_BIT, _CATHLAB_BIT = TEST_BIT["ecg"], TEST_BIT["cathlab"]


def enabled(cfg: Config) -> bool:
    rm = cfg.levers.remote
    return rm.enabled and rm.tele_ecg


class Tele:
    """A STEMI ECG sent ahead: the cath-lab pre-activation, once the report is back."""

    __slots__ = ("dest", "ready", "cancelled")

    def __init__(self, dest: int):
        self.dest = dest
        self.ready: simpy.Event | None = None
        self.cancelled = False

    def reported(self, w):
        """After the report (:func:`~sim.levers.reading.read_study`): the chest-pain centre
        activates its cath lab, then ``ready`` triggers -- unless the patient went elsewhere.
        The lab is held from the request on: released by the patient's PCI (:func:`at_door`),
        or here / in :func:`at_door` when the pre-activation is called off."""
        if self.cancelled:
            return
        self.ready = ready = simpy.Event(w.env)
        lab = w.sites[self.dest].equipment["cathlab"]
        yield lab.request(0)
        yield w.env.timeout(w.cathlab_activation)
        if self.cancelled:  # the patient went elsewhere, or was thrombolysed, while the lab got ready
            lab.release()
            return
        ready.succeed()


def install(w, rules: SiteRules) -> None:
    """Rules for the STEMI conditions at the sending sites that record an ECG but cannot read
    it, with the chest-pain centre to pre-activate (-1 when the patient's destination has no
    cath lab in the county)."""
    county = w.county
    if not hasattr(w, "centres"):
        w.centres = {}
    for p, s in enumerate(sending_sites(w)):
        info = w.infos[s]
        if "ecg" not in info.acquire or "ecg" in info.read:
            continue
        for c, cond in enumerate(w.conds):
            if cond.pathway != "stemi":
                continue
            dest = w.em_dest_from_site[s][c]
            r = rules.rule(s, c)
            r.tele_ecg = True
            r.tele_dest = dest if (dest != w.tertiary and w.sites[dest] is not None
                                   and "cathlab" in w.sites[dest].equipment) else -1
            r.centre = ReadingCentre.of(w, rules, county.lead_of[s], (p, c, 0))


def send_ahead(w, r: Rule, pid: int, s: int):
    """Emergency first contact at a member site: acquire the ECG and send it ahead (the patient
    does not wait for the report).  Returns the tests bit."""
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
    return _ECG_BIT


def at_door(w, pid: int, c: int, s: int, row: int, erow: int):
    """At the door of definitive emergency care (visit ``row``, emergency ``erow``): when this
    STEMI patient's tele-ECG pre-activated this site's cath lab, go straight to it (PCI) and
    return True; else cancel any pre-activation and return False (the usual ED work-up)."""
    tele = w.tele.pop(pid, None) if w.tele else None
    if tele is None:
        return False
    if tele.ready is None or tele.dest != s or w.conds[c].pathway != "stemi" or w.log.e_kind[erow] == _LYSIS:
        # (a patient thrombolysed on the way is reperfused: angiography later, not PCI at the door)
        tele.cancelled = True
        if tele.ready is not None and tele.ready.triggered:
            # the lab was pre-activated for this patient and held since: stand it down (it was
            # held for ever before, and every later STEMI at that centre waited for it)
            w.sites[tele.dest].equipment["cathlab"].release()
        return False
    env = w.env
    log = w.log
    log.v_start[row] = env.now
    log.lever_event(pid, s, env.now, EV["tele_ecg_bypass"])
    yield env.timeout(w.door_to_lab)
    if not tele.ready.triggered:
        yield tele.ready
    yield env.timeout(w.device)
    log.e_reperfusion[erow] = env.now  # door-to-balloon: the door, the way to the lab, the table
    log.e_kind[erow] = _PCI
    yield env.timeout(w.procedure - w.device)
    w.sites[s].equipment["cathlab"].release()
    log.v_tests[row] = _CATHLAB_BIT
    log.v_end[row] = env.now
    return True
