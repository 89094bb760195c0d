"""Semantic checks of the policy levers' configs (``levers.*``), one function per lever.

The lever configs' dataclasses are in :mod:`sim.config.schema`; their runtime (SimPy) parts
are in :mod:`sim.levers`.  Nothing here imports SimPy.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim.config.checks import _check, _dist, _finite_nonneg, _prob
from sim.config.errors import ConfigError
from sim.config.schema import MODALITIES, SPECIALTIES

if TYPE_CHECKING:  # pragma: no cover
    from sim.config.schema import Config

__all__ = ["validate_levers", "validate_expert", "validate_remote", "validate_tele_ecg", "validate_green_channel",
           "LEVER_CHECKS",
           "WEEKDAYS", "parse_weekday", "REMOTE_MODALITIES", "team_sites"]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: modalities that can be read remotely (a cath lab is a room, not a study).
REMOTE_MODALITIES = tuple(m for m in MODALITIES if m != "cathlab")


def parse_weekday(x) -> int:
    """``"fri"``, ``"Friday"``, ``"4"`` or ``4`` -> 4 (0 = Monday).

    >>> parse_weekday("Fri"), parse_weekday("saturday"), parse_weekday("0")
    (4, 5, 0)
    """
    s = str(x).strip().lower()
    if s.isdigit() and 0 <= int(s) <= 6:
        return int(s)
    for i, name in enumerate(WEEKDAYS):
        if len(s) >= 3 and name.startswith(s):
            return i
    raise ValueError(s)


def team_sites(cfg: Config, team, key: str) -> list[str]:
    """The team's sites: as listed, else every tier-1 member of ``lead`` (of any lead if null)."""
    facs = cfg.network.facilities
    if team.sites:
        return list(team.sites)
    _check(team.source == "lead", f"{key}.sites", "is empty: external experts need the sites they visit")
    return [fid for fid, f in facs.items() if f.tier == 1 and (team.lead is None or f.lead == team.lead)]


def validate_levers(cfg: Config) -> None:
    """Semantic checks of ``levers`` (called from :func:`sim.config.validate`): each lever's
    check of :data:`LEVER_CHECKS`, in order."""
    for check in LEVER_CHECKS:
        check(cfg)


def validate_expert(cfg: Config) -> None:
    """Semantic checks of ``levers.expert`` (专家下沉坐诊)."""
    facs = cfg.network.facilities
    conds = cfg.care.conditions
    ex = cfg.levers.expert
    for kind in ex.capital.equipment_per_site:
        _check(kind in SPECIALTIES, f"levers.expert.capital.equipment_per_site.{kind}",
               f"unknown doctor kind {kind!r}; known: {', '.join(SPECIALTIES)}")
    if ex.enabled:
        _check(len(ex.teams) > 0, "levers.expert.teams", "expert visits are enabled but no team is configured")
        _finite_nonneg(ex.tolerance_days, "levers.expert.tolerance_days")
        _prob(ex.return_spread, "levers.expert.return_spread")
        sk = ex.skill
        _prob(sk.ceiling, "levers.expert.skill.ceiling")
        _prob(sk.learn_per_visit, "levers.expert.skill.learn_per_visit")
        _prob(sk.initial, "levers.expert.skill.initial")
        _check(sk.initial <= sk.ceiling, "levers.expert.skill.initial",
               f"({sk.initial}) must not exceed levers.expert.skill.ceiling ({sk.ceiling})")
        _check(sk.half_life_days > 0, "levers.expert.skill.half_life_days", f"must be > 0, got {sk.half_life_days}")
        for i, t in enumerate(ex.teams):
            key = f"levers.expert.teams[{i}]"
            _check(bool(t.specialty), f"{key}.specialty", "is empty: name a doctor kind, e.g. ent")
            _check(t.source in ("lead", "external"), f"{key}.source", f"must be lead or external, got {t.source!r}")
            _check((t.every_days is None) != (not t.weekdays), key,
                   "give exactly one of every_days (every N days) or weekdays (e.g. [fri])")
            if t.every_days is not None:
                _check(t.every_days >= 1 and math.isfinite(t.every_days) and float(t.every_days).is_integer(),
                       f"{key}.every_days", f"must be a whole number of days >= 1, got {t.every_days!r}")
            for d in t.weekdays:
                try:
                    parse_weekday(d)
                except ValueError:
                    raise ConfigError(f"{key}.weekdays: unknown weekday {d!r} (use mon..sun, monday..sunday or 0..6)") from None
            _check(t.first_day >= 0, f"{key}.first_day", f"must be >= 0, got {t.first_day}")
            _check(t.stagger_days >= 0, f"{key}.stagger_days", f"must be >= 0, got {t.stagger_days}")
            _check(t.offset >= 0, f"{key}.offset", f"must be >= 0, got {t.offset}")
            _check(t.doctors >= 1, f"{key}.doctors", f"must be >= 1, got {t.doctors}")
            _check(0 <= t.start_hour < 24, f"{key}.start_hour", f"must be in [0, 24), got {t.start_hour}")
            _check(0 < t.hours_on_site <= 24, f"{key}.hours_on_site", f"must be in (0, 24], got {t.hours_on_site}")
            if t.lead is not None:
                _check(t.lead in facs and facs[t.lead].tier == 2, f"{key}.lead",
                       f"names {t.lead!r}, which is not a tier-2 lead hospital")
            sites = team_sites(cfg, t, key)
            _check(len(sites) > 0, f"{key}.sites", "no site to visit")
            for s in sites:
                _check(s in facs, f"{key}.sites", f"names {s!r}, which is not a facility")
                f = facs[s]
                if t.source == "lead":
                    _check(f.tier == 1, f"{key}.sites", f"{s!r} is not a tier-1 member (lead specialists visit members)")
                    lead = t.lead or f.lead
                    if lead is None or f.lead != lead:  # None: a member without a lead (an unvalidated network)
                        raise ConfigError(f"{key}.sites: {s!r} is not a member of lead {lead!r}")
                    _check(facs[lead].doctors.get(t.specialty, 0) >= t.doctors, f"{key}.specialty",
                           f"lead {lead!r} has {facs[lead].doctors.get(t.specialty, 0)} day doctors of kind "
                           f"{t.specialty!r}, fewer than doctors={t.doctors}")
                else:
                    _check(f.tier in (1, 2), f"{key}.sites", f"{s!r} is not a tier-1 or tier-2 facility")
                    if f.tier == 2:
                        _check(f.doctors.get(t.specialty, 0) > 0, f"{key}.specialty",
                               f"external experts at {s!r} join its {t.specialty!r} doctors, but it has none")
            for c in t.conditions:
                _check(c in conds, f"{key}.conditions", f"names {c!r}, which is not a condition in care.conditions")
                _check(conds[c].pathway == "outpatient", f"{key}.conditions", f"{c!r} is an emergency pathway")
            if t.source == "lead" and not t.conditions:
                _check(any(c.specialty == t.specialty and c.pathway == "outpatient" for c in conds.values()),
                       f"{key}.specialty", f"no outpatient condition has specialty {t.specialty!r}; "
                       "list the covered conditions in conditions")
    for i, t in enumerate(ex.teams):  # names are checked even while the lever is off
        _check(t.specialty in SPECIALTIES or not t.specialty, f"levers.expert.teams[{i}].specialty",
               f"unknown doctor kind {t.specialty!r} (known: {', '.join(SPECIALTIES)})")


def validate_remote(cfg: Config) -> None:
    """Semantic checks of ``levers.remote`` (remote reading 远程诊断 and consultation 远程会诊)."""
    facs = cfg.network.facilities
    conds = cfg.care.conditions
    rm = cfg.levers.remote
    for i, m in enumerate(rm.modalities):
        _check(m in REMOTE_MODALITIES, f"levers.remote.modalities[{i}]",
               f"unknown modality {m!r} (known: {', '.join(REMOTE_MODALITIES)})")
    if rm.enabled:
        _check(len(rm.modalities) > 0 or rm.consult.enabled, "levers.remote.modalities",
               "remote diagnosis is enabled but no modality is read remotely and remote consultation is off")
        for s in rm.sites:
            _check(s in facs and facs[s].tier == 1, "levers.remote.sites", f"{s!r} is not a tier-1 member")
        _check(rm.readers >= 0, "levers.remote.readers", f"must be >= 0, got {rm.readers}")
        _check(rm.night_readers >= 0, "levers.remote.night_readers", f"must be >= 0, got {rm.night_readers}")
        _check(rm.readers + rm.night_readers > 0 or not rm.modalities, "levers.remote.readers",
               "the reading centre has no readers by day or night")
        _check(0 <= rm.reader_open_hour < rm.reader_close_hour <= 24, "levers.remote.reader_open_hour",
               f"needs 0 <= reader_open_hour < reader_close_hour <= 24, got {rm.reader_open_hour}-{rm.reader_close_hour}")
        for m, read in rm.read_minutes.items():
            _check(m in REMOTE_MODALITIES, f"levers.remote.read_minutes.{m}", "unknown modality")
            _dist(read, f"levers.remote.read_minutes.{m}")
        _finite_nonneg(rm.transmit_minutes, "levers.remote.transmit_minutes")
        _prob(rm.failure_prob, "levers.remote.failure_prob")
        _check(rm.failure_prob < 1, "levers.remote.failure_prob", "must be < 1 (every study would fail)")
        _check(rm.on_failure in ("repeat", "refer"), "levers.remote.on_failure",
               f"must be repeat or refer, got {rm.on_failure!r}")
        _check(rm.max_repeats >= 0, "levers.remote.max_repeats", f"must be >= 0, got {rm.max_repeats}")
        _finite_nonneg(rm.patient_max_wait_minutes, "levers.remote.patient_max_wait_minutes")
        for c, p in rm.manageable.items():
            _check(c in conds, f"levers.remote.manageable.{c}", "not a condition in care.conditions")
            _prob(p, f"levers.remote.manageable.{c}")
        for m, p in rm.manageable_by_modality.items():
            _check(m in REMOTE_MODALITIES, f"levers.remote.manageable_by_modality.{m}", "unknown modality")
            _prob(p, f"levers.remote.manageable_by_modality.{m}")
        _prob(rm.default_manageable, "levers.remote.default_manageable")
        mc = rm.consult
        if mc.enabled:
            _check(len(mc.conditions) > 0, "levers.remote.consult.conditions", "remote consultation covers no condition")
            for c in mc.conditions:
                _check(c in conds, "levers.remote.consult.conditions", f"names {c!r}, which is not a condition")
                _check(conds[c].pathway == "outpatient", "levers.remote.consult.conditions", f"{c!r} is an emergency pathway")
            _check(mc.lines >= 1, "levers.remote.consult.lines", f"must be >= 1, got {mc.lines}")
            _finite_nonneg(mc.consult_minutes, "levers.remote.consult.consult_minutes")
            _check(mc.consult_minutes > 0, "levers.remote.consult.consult_minutes", "must be > 0")
            _finite_nonneg(mc.max_wait_minutes, "levers.remote.consult.max_wait_minutes")
            for c, p in mc.avoid_prob.items():
                _check(c in conds, f"levers.remote.consult.avoid_prob.{c}", "not a condition in care.conditions")
                _prob(p, f"levers.remote.consult.avoid_prob.{c}")
            _prob(mc.default_avoid_prob, "levers.remote.consult.default_avoid_prob")


def validate_tele_ecg(cfg: Config) -> None:
    """Semantic checks of tele-ECG pre-activation (``levers.remote.tele_ecg``)."""
    rm = cfg.levers.remote
    if rm.enabled and rm.tele_ecg:
        _check("ecg" in rm.modalities, "levers.remote.tele_ecg", "needs ecg in levers.remote.modalities")


def validate_green_channel(cfg: Config) -> None:
    """Semantic checks of ``levers.green_channel`` (绿色通道): its sites are lead hospitals
    (checked even while the lever is off, like the other levers' names), its shares are
    shares."""
    facs = cfg.network.facilities
    gc = cfg.levers.green_channel
    for i, s in enumerate(gc.sites):
        _check(s in facs, f"levers.green_channel.sites[{i}]", f"names {s!r}, which is not a facility")
        _check(facs[s].tier == 2, f"levers.green_channel.sites[{i}]",
               f"{s!r} is a tier-{facs[s].tier} facility, not a lead hospital (tier 2)")
    _prob(gc.reserved_doctor_share, "levers.green_channel.reserved_doctor_share")
    _prob(gc.reserved_bed_share, "levers.green_channel.reserved_bed_share")


#: the config check of every lever, in the order of :data:`sim.levers.registry.LEVERS` (whose
#: levers name them as their ``validate``; the config layer cannot import the levers, so a
#: test holds the two lists equal).
LEVER_CHECKS = (validate_expert, validate_remote, validate_tele_ecg, validate_green_channel)
