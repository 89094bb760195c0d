"""The green channel (绿色通道) for up-referrals: a policy lever (:class:`sim.levers.protocol.Lever`),
switched on by ``levers.green_channel``.

A patient referred up (visit mode ``referral``) by a tier-0/1 site of a lead hospital's
medical community -- a village clinic or a township/community centre whose lead it is -- is
booked priority at that lead:

- a reserved share of each of the lead's doctor pools and of its beds (trunk reservation,
  :class:`sim.engine.kernel.ReservedPool`): other patients may not take the last
  ``ceil(share x capacity)`` free units (at most ``capacity - 1``); emergencies (priority 0)
  are never held back;
- with ``priority_boost``, a place in the queue ahead of self-presenting patients of the same
  priority (never ahead of a more urgent one);
- with ``refer_back``, after the stay a down-referral (下转) goes back to the tier-1 centre that
  referred the patient (回转), not to the centre near home; a patient referred by a village
  clinic goes to the centre near home as before.

Randomness: none (the lever draws nothing, so every other draw stays where it was).

Records: one ``lever_events`` row ``green_channel`` per green-channel visit at the lead, at the
lead, with the referring site's index as ``value``.
"""

from __future__ import annotations

from sim.config.levers import validate_green_channel
from sim.config.schema import Config
from sim.engine.kernel import ReservedPool
from sim.levers.site_rules import EV, SiteRules
from sim.records.codes import Mode

#: the lever protocol's names (sim.levers.protocol.Lever), then the rest
__all__ = ["name", "section", "kpis", "tables", "validate", "enabled", "install",
           "decide", "defer", "settle", "send_ahead", "at_door",
           "queue_doctor", "queue_bed", "down_target",
           "Green"]

# ---------------------------------------------------------------- the lever (sim.levers.protocol)
name = "green_channel"
section = "levers.green_channel"
kpis = ("lead_wait_referred_mean_min", "lead_wait_self_mean_min", "lead_bed_wait_referred_mean_min",
        "lead_bed_wait_other_mean_min", "green_channel_patients", "referred_back")
tables = ("lever_events",)
validate = validate_green_channel
decide = defer = settle = send_ahead = at_door = None

_REFERRAL = int(Mode.REFERRAL)
_GREEN = EV["green_channel"]
#: a green-channel request's priority is its condition's minus this with ``priority_boost``:
#: ahead of every request of the same (whole-number) priority, behind every more urgent one.
BOOST = 0.5


def enabled(cfg: Config) -> bool:
    return cfg.levers.green_channel.enabled


class Green:
    """The green channel's state in one replication (``world.green``)."""

    __slots__ = ("on", "community", "boost", "refer_back", "patients")

    def __init__(self, n_sites: int, boost: float, refer_back: bool):
        #: per site: whether it is a lead hospital running a green channel
        self.on = [False] * n_sites
        #: per site: the lead of a tier-0/1 site's medical community (-1 for other sites)
        self.community = [-1] * n_sites
        self.boost = boost
        self.refer_back = refer_back
        #: green-channel patient -> the site that referred them
        self.patients: dict[int, int] = {}


def install(w, rules: SiteRules) -> None:
    """Reserve the shares of every doctor pool and of the beds at each green-channel lead, and
    map each member site (village clinics through their village's centre) to its lead."""
    gc = w.cfg.levers.green_channel
    county, F = w.county, w.F
    g = Green(len(w.sites), BOOST if gc.priority_boost else 0.0, gc.refer_back)
    wanted = set(gc.sites)
    for f, fid in enumerate(county.facility_ids):
        site = w.sites[f]
        if site is None or w.tier[f] != 2 or (wanted and fid not in wanted):
            continue
        g.on[f] = True
        for pool in site.doctors.values():
            pool.reserve(gc.reserved_doctor_share, open_priority=0)
        if site.beds is not None:
            site.beds.reserve(gc.reserved_bed_share, open_priority=0)
    for s in range(len(w.sites)):
        if w.sites[s] is None:
            continue
        if s < F and w.tier[s] == 1:
            g.community[s] = county.lead_of[s]
        elif s >= F:
            home = w.home[s - F]
            if 0 <= home < F and w.sites[home] is not None:
                g.community[s] = county.lead_of[home]
    w.green = g


def queue_doctor(w, pool, pid: int, s: int, src: int, mode: int, prio: int, patience: float):
    """The doctor request of every non-emergency visit: a patient referred by a member of this
    lead's community takes the reserved doctors too (and queues ahead with the boost); every
    other patient makes the plain request (which a reserved pool holds off its reserved
    units)."""
    g = w.green
    if mode == _REFERRAL and src >= 0 and g.on[s] and g.community[src] == s and isinstance(pool, ReservedPool):
        g.patients[pid] = src
        w.log.lever_event(pid, s, w.env.now, _GREEN, float(src))
        return pool.try_acquire(True) or pool.request_with_patience(prio - g.boost, patience, True)
    return pool.try_acquire() or pool.request_with_patience(prio, patience)


def queue_bed(w, pid: int, s: int, prio: int, patience: float):
    """The bed request of an admission: a green-channel patient at its lead takes the reserved
    beds too (and queues ahead with the boost); everyone else makes the plain request."""
    beds = w.sites[s].beds
    g = w.green
    if g.on[s] and pid in g.patients and isinstance(beds, ReservedPool):
        return beds.try_acquire(True) or beds.request_with_patience(prio - g.boost, patience, True)
    return beds.try_acquire() or beds.request_with_patience(prio, patience)


def down_target(w, pid: int, v: int) -> int:
    """Where a discharged inpatient of village ``v`` is referred down: with ``refer_back``, a
    green-channel patient goes back to the tier-1 centre that referred them; everyone else
    (and a patient a village clinic referred) to the centre near home."""
    g = w.green
    if g.refer_back:
        src = g.patients.get(pid, -1)
        if src >= 0 and src in w.down_kind:  # a tier-1 centre (down_kind: those that take them)
            return src
    return w.home[v]
