"""Build one replication's world and run it.

:func:`run_replication` is the unit of work of every study: a pure function of
``(config, replication)`` returning tidy tables, so it can run in any process (local pool or
Dask worker) and give byte-identical results.
"""

from __future__ import annotations

import gc
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.config import Condition, Config, NetworkConfig
from sim.county.calendar import DAY
from sim.county.network import County, build_county
from sim.county.patients import ATTRS, Arrivals, Catalogue
from sim.county.restructure import effective_network
from sim.county.routing import (
    ChoiceTable,
    SiteInfo,
    can_manage,
    doctor_kind,
    emergency_capable,
    out_of_county_probability,
    referral_target,
)
from sim.engine.kernel import Environment, Journey, run_until
from sim.engine.resources import Pool, Site
from sim.levers.protocol import Hooks
from sim.levers.registry import install as install_levers
from sim.levers.registry import levers_on
from sim.model.flow import arrivals, care, release_later
from sim.records.log import Log
from sim.rng import stream

__all__ = ["World", "ReplicationResult", "build_world", "run_replication", "site_ids"]


def site_ids(county: County) -> list[str]:
    """Ids of every site: the facilities, then one clinic id per village (``clinic:<village>``)."""
    return list(county.facility_ids) + [f"clinic:{v}" for v in county.village_ids]


class World:
    """One replication's world: its parts declared here, built once, then read on the hot path.

    The attributes are flat (one attribute lookup per read in :mod:`sim.model.flow`, the
    hottest code of the model) but declared, typed and grouped by part; ``__slots__`` makes an
    undeclared attribute (a lever writing something new) an error rather than a silent addition.
    Per-site lists are indexed by site (facilities, then village clinics at ``F + village``);
    per-(site, condition) lists by ``[site][condition]``; times are in minutes.
    """

    # ---- the replication
    cfg: Config
    replication: int
    env: Environment
    log: Log                                 # the append-only record tables
    horizon: float
    n_arrived: int                           # patients released so far (conservation check)
    # ---- the county (from sim.county): graph, travel times, catalogue
    net: NetworkConfig                       # the network after restructuring
    county: County
    cat: Catalogue
    conds: list[Condition]
    F: int                                   # number of facilities; clinics are sites F..F+V-1
    tertiary: int                            # the out-of-county sink's index
    tier: list[int]
    travel: list[list[float]]                # [village][facility] road minutes
    ftravel: list[list[float]]               # [facility][facility] road minutes
    home: list[int]                          # [village] its tier-1 centre
    clinic_minutes: float                    # village to its clinic
    site_ids: list[str]
    # ---- resources (sim.engine): one Site per simulated node, and its opening hours
    sites: list[Site | None]
    infos: list[SiteInfo | None]
    site_open: np.ndarray
    site_close: np.ndarray
    site_days: np.ndarray
    # ---- routing per (site, condition)
    kind: list[list[str]]                    # doctor kind who sees the condition there
    manage: list[list[bool]]                 # whether the site can manage it
    local_tests: list[list[tuple[str, ...]]]  # tests it acquires and reads itself
    refer: list[list[int]]                   # where it refers the condition up
    em_capable: list[list[bool]]
    down_kind: dict[int, str]                # tier-1 site -> doctor kind taking down-referrals
    choice: ChoiceTable                      # first-contact choice (logit) table
    # ---- the emergency network (120)
    em_dest_from_village: list[list[int]]
    em_dest_from_site: list[list[int]]
    stations_of_village: list[list[int]]
    stations_of_site: list[int]
    dispatch: float
    on_scene: float
    ed_minutes: float
    cathlab_activation: float
    procedure: float
    device: float
    door_to_lab: float
    stabilise: float
    handover: float
    ambulance_ecg: bool
    lysis_tiers: frozenset[int]
    lysis_threshold: float
    door_to_needle: float
    # ---- patients' behaviour and care times
    perception_noise: float
    patience: list[float]                    # [condition] mean patience (minutes) in a doctor queue
    renege_up: float
    balk_queue: float
    closed_wait: bool
    bed_wait_max: float
    down_bed_share: float
    down_los: float
    max_block: float
    deterioration: float
    max_up_wait: float
    bed_waits: dict[tuple[int, int], int]    # (site holding a bed, site awaited) -> patients
    consult: list[list[float]]
    los: list[list[float]]                   # [tier][condition] mean stay (minutes)
    p_out: list[list[float]]                 # [site][condition] a lead's admission goes out of county
    down_p: list[float]                      # [condition] a discharged hospital inpatient is referred down
    elsewhere_share: float                   # residents who get their care elsewhere (异地就医)
    test_minutes: dict[str, float]
    arrivals: Arrivals
    # ---- policy levers (sim.levers): what they install
    rules: list                              # [site] per-condition lever rules, or None
    hooks: Hooks                             # the levers' per-patient hooks the flow calls
    tele: dict
    lever_pools: list[Pool]
    specialties: list[str]
    choice_weight: dict
    centres: dict
    slots: dict
    green: object                            # the green channel's state (sim.levers.green_channel)

    __slots__ = tuple(__annotations__)

    def __init__(self, cfg: Config, replication: int, county: County | None = None):
        self.cfg = cfg
        self.replication = replication
        self.env = Environment()
        self.log = Log()
        self.n_arrived = 0
        care = cfg.care
        self.net = effective_network(cfg)
        county = county or build_county(self.net)
        self.county = county
        self.cat = Catalogue.from_config(care)
        self.conds = self.cat.conditions
        F, V = county.n_facilities, county.n_villages
        self.F = F
        self.tertiary = county.tertiary
        self.tier = [int(t) for t in county.tier] + [0] * V
        self.travel = county.travel.tolist()
        self.ftravel = county.ftravel.tolist()
        self.home = [int(h) for h in county.home_tier1]
        self.clinic_minutes = county.clinic_access_minutes
        self.site_ids = site_ids(county)
        self.horizon = cfg.run.horizon_days * DAY
        self.env.horizon = self.horizon  # the run stops before it: no call scheduled past it
        self._build_sites()
        self._build_routing()
        self._build_emergency()
        self._build_behaviour()
        self._build_hours()
        self._install_levers()
        # ---- the processes: warm-started beds and queues, shift schedules, arrivals
        self._warm_start()
        for maybe_site in self.sites:
            if maybe_site is not None:
                self.env.process(maybe_site.shifts(self.env))
        self.env.process(arrivals(self))

    def _build_sites(self) -> None:
        """Sites: the facilities (tier 3 is a sink, not simulated), then one clinic per village."""
        county, env, F = self.county, self.env, self.F
        env = self.env
        self.sites = []
        infos: list[SiteInfo | None] = []
        for i, fid in enumerate(county.facility_ids):
            f = self.net.facilities[fid]
            if f.tier == 3 or f.closed:
                self.sites.append(None)
                infos.append(SiteInfo(3, frozenset(f.doctors), frozenset(f.acquire), frozenset(f.read), 0))
                continue
            site = Site(env, i, fid, f.tier, f.doctors, f.night_doctors, f.beds, f.acquire, f.read,
                        f.equipment_units, f.ambulances, f.hours.open_hour, f.hours.close_hour,
                        f.hours.days, f.hours.weekend_share)
            self.sites.append(site)
            infos.append(SiteInfo(f.tier, frozenset(k for k, n in f.doctors.items() if n > 0),
                                  frozenset(f.acquire), frozenset(f.read), f.beds, frozenset(f.manages)))
        for v, vid in enumerate(county.village_ids):
            n = int(county.clinic_doctors[v])
            if n > 0:
                site = Site(env, F + v, f"clinic:{vid}", 0, {"general": n}, {"general": 0}, 0, [], [], {}, 0,
                            8.0, 17.5, list(range(7)), 1.0)
                self.sites.append(site)
                infos.append(SiteInfo(0, frozenset({"general"}), frozenset(), frozenset(), 0))
            else:
                self.sites.append(None)
                infos.append(None)
        self.infos = infos

    def _build_routing(self) -> None:
        """Per (site, condition): doctor kind, whether it manages, local tests, referral target."""
        county, infos, F, V = self.county, self.infos, self.F, self.county.n_villages
        self.kind = []
        self.manage = []
        self.local_tests = []
        self.refer = []
        self.em_capable = []
        for s, info in enumerate(infos):
            if info is None or self.sites[s] is None:
                self.kind.append([])
                self.manage.append([])
                self.local_tests.append([])
                self.refer.append([])
                self.em_capable.append([])
                continue
            kinds, man, tests, ref, emc = [], [], [], [], []
            for cid, cond in zip(self.cat.ids, self.conds):
                emergency = cond.pathway != "outpatient"
                kinds.append(doctor_kind(info, cond.specialty, emergency))
                # a site allowed to manage the condition below its min_tier (Facility.manages)
                min_tier = min(cond.min_tier, info.tier) if cid in info.manages else cond.min_tier
                ok = can_manage(info, min_tier, cond.diagnostics)
                man.append(ok)
                tests.append(tuple(m for m in cond.diagnostics if m in info.acquire and m in info.read))
                needed = cond.min_tier if ok else max(cond.min_tier, info.tier + 1)
                # a village clinic refers to its village's township; other sites need no village
                ref.append(referral_target(county, s, s - F if s >= F else 0, needed) if s < F else -1)
                emc.append(emergency_capable(info, cond.pathway))
            self.kind.append(kinds)
            self.manage.append(man)
            self.local_tests.append(tests)
            self.refer.append(ref)
            self.em_capable.append(emc)
        for s in range(F, F + V):
            if self.sites[s] is not None:
                v = s - F
                self.refer[s] = [referral_target(county, s, v, cond.min_tier if self.manage[s][c]
                                                 else max(cond.min_tier, 1)) for c, cond in enumerate(self.conds)]
        self.down_kind = {}
        for s in range(F):
            info = infos[s]
            if self.sites[s] is None or self.tier[s] != 1:
                continue
            assert info is not None, "every facility has a SiteInfo (only clinics' may be None)"
            self.down_kind[s] = "rehab" if "rehab" in info.doctors else doctor_kind(info, "general", False)

    def _build_emergency(self) -> None:
        """Emergency destinations per village and site, and the 120 stations nearest each."""
        F, V, C = self.F, self.county.n_villages, self.cat.n
        def nearest_capable(dist_row: list[float], c: int) -> int:
            cands = [f for f in range(F) if self.sites[f] is not None and self.em_capable[f][c]
                     and self.tier[f] >= 2]
            if not cands:
                return self.tertiary
            return min(cands, key=lambda f: (dist_row[f], f))

        self.em_dest_from_village = [[nearest_capable(self.travel[v], c) for c in range(C)] for v in range(V)]
        # a village clinic (site F + v) is at its village's node: the village's destinations
        self.em_dest_from_site = [[nearest_capable(self.ftravel[s], c) for c in range(C)] if s < F
                                  else self.em_dest_from_village[s - F] for s in range(F + V)]
        stations = [f for f, fac in enumerate(self.sites[:F]) if fac is not None and fac.ambulances is not None]
        self.stations_of_village = [sorted(stations, key=lambda f: (self.travel[v][f], f)) for v in range(V)]
        self.stations_of_site = [min(stations, key=lambda f: (self.ftravel[s][f], f)) if stations and s < F else
                                 (min(stations, key=lambda f: (self.travel[s - F][f], f)) if stations else -1)
                                 for s in range(F + V)]

    def _build_behaviour(self) -> None:
        """The first-contact choice table, patients' behaviour and the care times (minutes)."""
        county, care, F = self.county, self.cfg.care, self.F
        b, e = care.behaviour, care.emergency
        self.choice = ChoiceTable(county, self.cat, care,
                                  open_sites={i for i in range(F) if county.is_open[i]})
        self.perception_noise = care.choice.perception_noise
        self.patience = [b.patience_hours[cond.priority] * 60.0 * cond.patience_factor for cond in self.conds]
        self.renege_up = b.renege_go_up_prob
        self.balk_queue = b.balk_queue if b.balk_queue > 0 else math.inf
        self.closed_wait = b.closed_policy == "wait"
        self.bed_wait_max = b.bed_wait_max_hours * 60.0
        self.down_bed_share = b.down_bed_share
        self.down_los = b.down_los_days * DAY
        self.max_block = b.max_block_hours * 60.0
        self.deterioration = b.deterioration_prob
        self.max_up_wait = b.max_up_wait_hours * 60.0
        #: (site holding a bed, site whose bed is awaited) -> patients waiting so: a cycle
        #: of such waits between two sites is a circular wait, recorded when it forms.
        self.bed_waits = {}
        self.consult = [list(cond.consult_minutes) for cond in self.conds]
        self.los = [[cond.los_days.mean * DAY * f for cond in self.conds] for f in care.los_factor_by_tier]
        self.elsewhere_share = b.elsewhere_share
        self.p_out = self._out_of_county_table()
        # a payment lever (a global budget: 医保打包付费) moves down-referral and outflow
        self.down_p = [min(1.0, cond.down_refer_prob * self.cfg.payment.down_referral_factor) for cond in self.conds]
        self.test_minutes = dict(care.test_minutes)
        for m in ("ecg", "xray", "ct", "lab", "cathlab"):
            self.test_minutes.setdefault(m, 15.0)
        self.dispatch = e.dispatch_minutes
        self.on_scene = e.on_scene_minutes
        self.ed_minutes = e.ed_minutes
        self.cathlab_activation = e.cathlab_activation_minutes
        self.procedure = e.procedure_minutes
        self.device = e.device_minutes
        self.door_to_lab = e.door_to_lab_minutes
        self.stabilise = e.stabilise_minutes
        self.handover = e.handover_minutes
        self.ambulance_ecg = e.ambulance_ecg
        self.lysis_tiers = frozenset(e.thrombolysis_tiers)
        self.lysis_threshold = e.thrombolysis_threshold_minutes
        self.door_to_needle = e.door_to_needle_minutes

    def _out_of_county_table(self) -> list[list[float]]:
        """Per (site, condition): the probability that a lead hospital's admission goes to the
        out-of-county hospital instead (0 elsewhere and for emergencies), its odds times the
        payment lever's ``outflow_factor`` (a medical community that keeps its budget's surplus
        works to keep stays in the county)."""
        care, F = self.cfg.care, self.F
        table = []
        for s in range(len(self.sites)):
            if s >= F or self.sites[s] is None or self.tier[s] != 2 or self.tertiary < 0:
                table.append([0.0] * self.cat.n)
                continue
            out_min = self.ftravel[s][self.tertiary]
            table.append([0.0 if cond.pathway != "outpatient" or cond.admit_prob <= 0 else
                          out_of_county_probability(care, self.cat, c, 2, 0.0, out_min,
                                                    odds_factor=self.cfg.payment.outflow_factor)
                          for c, cond in enumerate(self.conds)])
        return table

    def _build_hours(self) -> None:
        """Opening hours per site as arrays (always open where there is no site: tertiary sink)."""
        S = len(self.sites)
        self.site_open = np.zeros(S)
        self.site_close = np.full(S, DAY)
        self.site_days = np.ones((S, 7), dtype=bool)
        for i, maybe_site in enumerate(self.sites):
            if maybe_site is not None:
                self.site_open[i] = maybe_site.open_min
                self.site_close[i] = maybe_site.close_min
                self.site_days[i] = [d in maybe_site.days for d in range(7)]

    def _install_levers(self) -> None:
        """Patients' draws (with the levers' extra attributes when any lever is on), then the levers
        (:mod:`sim.levers`): per-(site, condition) rules, rotas, reading centres."""
        cfg, county = self.cfg, self.county
        on = levers_on(cfg)
        self.rules = [None] * len(self.sites)
        self.hooks = Hooks()
        self.tele = {}
        self.lever_pools = []
        self.specialties = []
        self.choice_weight = {}
        self.green = None
        self.arrivals = Arrivals(self.cat, county.population, county.village_ids, cfg.run.seed,
                                 self.replication, self.horizon, lever_attributes=on)
        if on:
            install_levers(self)

    # ------------------------------------------------------------------ helpers used by flow
    def site_travel(self, a: int, b: int, village: int) -> float:
        """Minutes between two sites (a village clinic counts as its village)."""
        F = self.F
        if a >= F and b >= F:
            return 0.0
        if a >= F:
            return self.travel[a - F][b] + self.clinic_minutes
        if b >= F:
            return self.travel[b - F][a] + self.clinic_minutes
        return self.ftravel[a][b]

    def expected_time_to_pci(self, s: int, c: int, bypass: bool = False) -> float:
        """Minutes from now to balloon if site ``s`` transfers a STEMI patient: ambulance to
        ``s`` (dispatch + drive), the transfer, the ED work-up and cath-lab activation, with
        every resource free, and the minutes on the table to the wire crossing (the rule a
        chest-pain network uses to choose thrombolysis).  ``bypass``: the ECG was sent ahead
        (tele-ECG), so the lab is activated while the patient travels and the patient goes from
        the door straight to it (no ED work-up, no activation wait)."""
        dest = self.em_dest_from_site[s][c]
        st = self.stations_of_site[s]
        to_site, leg = self.transfer_legs(s, st, dest)
        return self.dispatch + (to_site if st >= 0 else 0.0) + leg + (
            self.door_to_lab if bypass else self.ed_minutes + self.cathlab_activation) + self.device

    def transfer_legs(self, src: int, st: int, dest: int) -> tuple[float, float]:
        """Minutes of an inter-facility transfer from site ``src`` to facility ``dest``: station
        ``st`` -> ``src`` (``nan`` when ``st < 0``), then ``src`` -> ``dest``.  A village clinic
        (``src >= F``) is at its village's node, so it uses the village's road times."""
        if src < self.F:
            ft = self.ftravel
            return (ft[st][src] if st >= 0 else math.nan), ft[src][dest]
        row = self.travel[src - self.F]
        return (row[st] if st >= 0 else math.nan), row[dest]

    def refer_up(self, s: int, village: int, needed_tier: int) -> int:
        return referral_target(self.county, s, village, needed_tier)

    def after_renege_target(self, s: int, village: int, u: float) -> int | None:
        """Where a patient who reneged or balked goes: up to the lead hospital (share
        ``renege_go_up_prob``) when not already at one, else home untreated."""
        if u >= self.renege_up or self.tier[s] >= 2:
            return None
        if s >= self.F:
            return self.county.lead_of[self.home[village]]
        return self.county.lead_of[s]

    def _warm_start(self) -> None:
        """Beds partly occupied at time 0 by earlier inpatients, with residual stays drawn from
        ``warmstart/<facility>`` (exponential around the case mix's mean stay)."""
        weights = np.array([c.incidence_per_1000 * c.admit_prob for c in self.conds])
        los = np.array([c.los_days.mean for c in self.conds])
        mean_los = float((weights * los).sum() / weights.sum()) if weights.sum() > 0 else 5.0
        for f, fid in enumerate(self.county.facility_ids):
            site = self.sites[f]
            if site is None or site.beds is None:
                continue
            occ = self.net.facilities[fid].initial_bed_occupancy
            n = int(round(occ * site.beds.capacity))
            if n <= 0:
                continue
            rng = stream(self.cfg.run.seed, self.replication, f"warmstart/{fid}")
            residual = rng.exponential(mean_los * DAY, n)
            site.beds.in_use = n
            site.beds.served += n
            for d in residual.tolist():
                release_later(self.env, site.beds, d)
        self._warm_queues()

    def _warm_queues(self) -> None:
        """Outpatients waiting at time 0 (``initial_queue``): real patients with onset 0, drawn
        from ``warmstart_queue/<facility>``, who start their visit at the site at time 0."""
        outpatient = [c for c, cond in enumerate(self.conds) if cond.pathway == "outpatient"]
        by_volume = sorted(outpatient, key=lambda c: -self.conds[c].incidence_per_1000)
        for f, fid in enumerate(self.county.facility_ids):
            n = self.net.facilities[fid].initial_queue
            site = self.sites[f]
            if n <= 0 or site is None:
                continue
            managed = [c for c in by_volume if self.manage[f][c]]
            if not managed:
                continue
            c = managed[0]
            v = int(np.argmin(self.county.travel[:, f]))
            rng = stream(self.cfg.run.seed, self.replication, f"warmstart_queue/{fid}")
            cond = np.full(n, c, dtype=np.int64)
            att = self.arrivals._attributes(rng, cond)
            if att.shape[1] < len(ATTRS):
                att = np.concatenate([att, Arrivals._lever_attributes(rng, n)], axis=1)
            pid0 = self.log.new_patients(np.full(n, v), cond, np.zeros(n), np.full(n, f), np.zeros(n))
            self.n_arrived += n
            for i, a in enumerate(att.tolist()):
                Journey(self.env, care(self, pid0 + i, v, c, a, f, 0), 0.0)

    def run(self) -> None:
        """Run to the horizon.

        The model creates no reference cycles (patients' generators, events and queues free
        themselves by reference counting), so the cyclic GC is paused during the run, which
        makes it ~40% faster; the memory benchmark and a test watch that this stays true.
        """
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            run_until(self.env, self.horizon)
        finally:
            if gc_was_enabled:
                gc.enable()

    def pools(self) -> list[Pool]:
        return [p for s in self.sites if s is not None for p in s.pools()] + self.lever_pools


@dataclass
class ReplicationResult:
    """Tables of one replication: the record tables without their key columns (``scenario`` and
    ``replication`` are this result's; :func:`sim.records.schema.with_keys` adds them), the
    occupancy table with them."""

    scenario: str
    replication: int
    tables: dict[str, pd.DataFrame]
    occupancy: pd.DataFrame
    info: dict = field(default_factory=dict)


def occupancy_table(w: World) -> pd.DataFrame:
    """Time-weighted daily occupancy of every pool: mean in use, mean queue, mean capacity."""
    rows = []
    for p in w.pools():
        p.close_monitors()
        n = len(p.day_busy)
        for d in range(n):
            length = min(DAY, w.horizon - d * DAY)
            if length <= 0:
                continue
            rows.append((p.facility, p.resource, d, p.day_busy[d] / length, p.day_queue[d] / length,
                         p.day_cap[d] / length))
    df = pd.DataFrame(rows, columns=["facility", "resource", "day", "in_use", "queue", "capacity"])
    df["day"] = df["day"].astype(np.int32)
    return df


def build_world(cfg: Config, replication: int = 0, county: County | None = None) -> World:
    return World(cfg, replication, county)


def run_replication(cfg: Config, replication: int, county: County | None = None) -> ReplicationResult:
    """Run one replication to the horizon and return its tables."""
    t0 = time.perf_counter()
    w = World(cfg, replication, county)
    w.run()
    log = w.log
    n_rows = len(log.p_onset)
    in_system = sum(1 for x in log.p_exit if x == 0)
    if cfg.run.check_conservation:
        if n_rows != w.n_arrived or in_system != log.active:
            raise AssertionError(f"patient conservation failed: {w.n_arrived} arrived, {n_rows} recorded, "
                                 f"{in_system} in system vs {log.active} active")
    cat_ids = w.cat.ids
    tables = log.tables(w.site_ids, w.county.village_ids, cat_ids, w.specialties)
    occ = occupancy_table(w)
    wall = time.perf_counter() - t0
    info = {"wall_s": wall, "patients": n_rows, "visits": len(log.v_arrive), "record_bytes": log.nbytes(),
            "in_system": in_system}
    # the record tables stay views of the log, without the key columns (a string per row):
    # they are added when the tables are collected or written (sim.records.schema.with_keys)
    occ.insert(0, "replication", np.int32(replication))
    occ.insert(0, "scenario", cfg.scenario)
    return ReplicationResult(cfg.scenario, replication, tables, occ, info)
