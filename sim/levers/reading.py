"""The lead hospital's remote reading centre (远程影像/心电诊断中心), shared by the remote-reading
lever (:mod:`sim.levers.remote`) and tele-ECG (:mod:`sim.levers.tele_ecg`).

A centre is a :class:`~sim.engine.resources.Pool` of readers on a day/night rota; a study is
transmitted, waits for a reader, is read (a per-modality distribution) and reported or, with
``levers.remote.failure_prob``, fails.  Randomness: the named streams ``remote/read/<lead>``
and ``remote/failure/<lead>``.  Records: one ``remote_studies`` row per study.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Protocol

import simpy

from sim.config.levers import REMOTE_MODALITIES
from sim.config.schema import MODALITIES, Dist
from sim.county.calendar import DAY
from sim.county.patients import dist_multipliers
from sim.engine.resources import Pool
from sim.records.codes import StudyStatus
from sim.rng import stream

__all__ = ["ReadingCentre", "AfterReport", "sending_sites", "read_study", "DEFAULT_READ"]

_REPORTED, _FAILED = int(StudyStatus.REPORTED), int(StudyStatus.FAILED)
#: reading time of a modality without ``levers.remote.read_minutes``.
DEFAULT_READ = Dist("lognormal", 10.0, 0.5)


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

    @classmethod
    def of(cls, w, rules, lead: int, order: tuple) -> ReadingCentre:
        """The centre of ``lead`` (``w.centres``), made on first use and registered with the
        :class:`~sim.levers.site_rules.SiteRules` at position ``order`` (its rota starts
        when the rules are finished)."""
        centres = getattr(w, "centres", None)
        if centres is None:
            centres = w.centres = {}
        centre = centres.get(lead)
        if centre is None:
            centre = centres[lead] = cls(w, lead, w.cfg.levers.remote)
        rules.add_pool(centre.readers, order, centre.shifts)
        return centre

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


def sending_sites(w) -> list[int]:
    """Facility indices of the sites that send studies: ``levers.remote.sites`` as listed,
    else every open tier-1 member, in index order."""
    rm = w.cfg.levers.remote
    if rm.sites:
        fidx = {f: i for i, f in enumerate(w.county.facility_ids)}
        return [fidx[s] for s in rm.sites]
    return [f for f in range(w.F) if w.tier[f] == 1 and w.sites[f] is not None]


class AfterReport(Protocol):
    """What a study's sender does once the report is back and readable (tele-ECG: activate
    the cath lab)."""

    def reported(self, w) -> Generator: ...


def read_study(w, centre: ReadingCentre, pid: int, s: int, m: str, prio: int, done: simpy.Event | None,
               after: AfterReport | None):
    """Process body of one study: transmission, reading-centre queue, reading, report.
    ``done`` (if any) succeeds with whether the study was readable; ``after.reported`` (if
    any) then runs in this process."""
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
    if after is not None and not failed:
        yield from after.reported(w)
