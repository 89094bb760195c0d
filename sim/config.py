"""Typed configuration schema (Hydra structured configs) and semantic validation.

The dataclasses here are the *only* place where config keys and types are declared;
the values live in YAML under ``scenarios/``.  Hydra merges every YAML file into these
typed nodes, so an unknown key or a wrong type fails at compose time, naming the key.
Semantic checks (negative beds, probabilities above 1, a member naming a lead that does
not exist, ...) run in :func:`validate` and raise :class:`ConfigError` with one clear line.

Time unit inside the model is the **minute**; configs use the unit in the key name
(``_days``, ``_hours``, ``_minutes``).

Glossary of domain terms used in keys
-------------------------------------
- village clinic 村卫生室 (tier 0), township health centre 乡镇卫生院 and community health
  centre 社区卫生服务中心 (tier 1), county lead hospital 牵头医院 (tier 2), out-of-county
  tertiary hospital (tier 3).
- county retention 县域内就诊率, grassroots visit share 基层就诊率, outward transfer 外转.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, cast

__all__ = [
    "ConfigError",
    "Dist",
    "Hours",
    "Facility",
    "Village",
    "Road",
    "NetworkConfig",
    "Condition",
    "ChoiceModel",
    "Behaviour",
    "Emergency",
    "Prices",
    "Profiles",
    "CareConfig",
    "RunConfig",
    "StudyConfig",
    "ExecutorConfig",
    "Operation",
    "RestructureConfig",
    "Config",
    "TIERS",
    "MODALITIES",
    "SPECIALTIES",
    "warn",
    "register_configs",
    "to_config",
    "validate",
]

TIERS = (0, 1, 2, 3)
#: Doctor kinds (``Facility.doctors`` keys, ``Condition.specialty``, expert teams' specialty):
#: general practice, the emergency department, and the lead hospitals' specialties.  A name
#: outside this list is a typo, refused when the config is composed.
SPECIALTIES = ("general", "emergency", "cardiology", "neurology", "surgery", "ortho", "obstetrics",
               "paediatrics", "oncology", "rehab", "ent", "eye", "dental", "tcm")
#: Diagnostic modalities a site may acquire and/or read.  ``cathlab`` is the PCI suite of
#: a chest-pain centre (胸痛中心); ``ct`` is also the stroke centre's scanner.
MODALITIES = ("ecg", "xray", "ct", "lab", "cathlab")
FACILITY_KINDS = ("township", "community", "lead", "tertiary")
DISTRIBUTIONS = ("lognormal", "exponential", "gamma", "fixed")


#: longest message a :class:`ConfigError` carries; longer values inside it are shortened.
_MAX_MESSAGE = 400
_MAX_TOKEN = 60


def shorten(text: str, limit: int = _MAX_MESSAGE) -> str:
    """One line of at most ``limit`` characters: newlines folded, over-long tokens cut.

    >>> shorten("a: " + "x" * 500)[:12], len(shorten("a: " + "x" * 500)) < 100
    ('a: xxxxxxxxx', True)
    """
    words = " ".join(str(text).split()).split(" ")
    out = []
    for i, w in enumerate(words):
        keep = (w.startswith("/") and len(w) <= 250) or (i == 0 and w.endswith(":") and len(w) <= 250)
        if len(w) > _MAX_TOKEN and not keep:  # keep file paths and the leading key
            w = f"{w[:_MAX_TOKEN - 20]}...({len(w)} chars)"
        out.append(w)
    line = " ".join(out)
    return line if len(line) <= limit else line[: limit - 3] + "..."


class ConfigError(ValueError):
    """A user mistake in a config: one line naming the key and what is wrong.

    The message is folded to one line and long values in it are shortened, so that an error
    never echoes a value thousands of characters long.
    """

    def __init__(self, message: object = "") -> None:
        super().__init__(shorten(str(message)))


_WARNED: set[str] = set()


def warn(key: str, message: str) -> None:
    """One line on stderr about a value that is unusual but not wrong (once per process)."""
    import sys

    line = shorten(f"warning: {key}: {message}")
    if line not in _WARNED:
        _WARNED.add(line)
        print(line, file=sys.stderr)


@dataclass
class Dist:
    """A positive random duration: ``dist`` with ``mean`` and coefficient of variation ``cv``.

    ``exponential`` ignores ``cv`` (it is 1 by definition); ``fixed`` ignores it too.
    """

    dist: str = "lognormal"
    mean: float = 1.0
    cv: float = 0.5


@dataclass
class Hours:
    """Outpatient opening hours (门诊时间).  Outside them only ``night_doctors`` work."""

    open_hour: float = 8.0
    close_hour: float = 17.5
    #: days of the week with outpatient clinics, 0 = Monday.
    days: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4, 5, 6])
    #: share of day doctors on duty on Saturday and Sunday (rounded, at least night staff).
    weekend_share: float = 1.0


@dataclass
class Facility:
    """One tier-1/2/3 facility.  Village clinics are declared on their :class:`Village`."""

    name: str = ""
    name_zh: str = ""
    kind: str = "township"
    tier: int = 1
    x_km: float = 0.0
    y_km: float = 0.0
    #: membership: the lead hospital (牵头医院) a tier-1 member belongs to.
    lead: str | None = None
    #: doctors on the day shift by kind ("general" and, at tier 2, specialties).
    doctors: dict[str, int] = field(default_factory=lambda: {"general": 1})
    #: doctors on duty outside outpatient hours (emergencies, inpatients); missing kind = 0.
    night_doctors: dict[str, int] = field(default_factory=dict)
    beds: int = 0
    #: share of beds occupied at time 0 (warm start), with residual stays drawn at random.
    initial_bed_occupancy: float = 0.0
    #: outpatients already waiting at time 0 (warm start of the queues): patients of the
    #: commonest outpatient condition this site manages, from its nearest village, who join
    #: the general doctors' queue when it opens.  They count as arrivals (before any warm-up).
    initial_queue: int = 0
    #: modalities the site can acquire (has the machine and a technician).
    acquire: list[str] = field(default_factory=list)
    #: modalities the site can read (report) itself.
    read: list[str] = field(default_factory=list)
    #: units per acquired modality; a modality not listed has one unit.
    equipment_units: dict[str, int] = field(default_factory=dict)
    hours: Hours = field(default_factory=Hours)
    #: 120 ambulances stationed here.
    ambulances: int = 0
    #: a closed site stays on the map as a road junction but offers no care (set by
    #: ``restructure`` operations, or by hand).
    closed: bool = False


@dataclass
class Village:
    """A village: population, position and its clinic (村卫生室), if any."""

    name: str = ""
    name_zh: str = ""
    x_km: float = 0.0
    y_km: float = 0.0
    population: int = 0
    #: village doctors at the village clinic; 0 means the village has no clinic.
    clinic_doctors: int = 0


@dataclass
class Road:
    """An undirected road.  ``minutes`` null means distance x detour / speed."""

    a: str = ""
    b: str = ""
    minutes: float | None = None


@dataclass
class NetworkConfig:
    """The county: villages, facilities and roads, built into a networkx graph."""

    name: str = "unnamed"
    description: str = ""
    #: where the figures come from (seed file, statistical bulletin) and what is assumed.
    sources: list[str] = field(default_factory=list)
    road_speed_kmh: float = 40.0
    detour_factor: float = 1.3
    #: minutes from a village's homes to its own clinic.
    clinic_access_minutes: float = 5.0
    villages: dict[str, Village] = field(default_factory=dict)
    facilities: dict[str, Facility] = field(default_factory=dict)
    roads: list[Road] = field(default_factory=list)


@dataclass
class Condition:
    """One condition of the case mix (per-episode attributes are drawn at arrival)."""

    name_zh: str = ""
    #: new episodes per 1,000 people per year.
    incidence_per_1000: float = 0.0
    #: lowest tier that can manage it (0 village clinic ... 3 out-of-county only).
    min_tier: int = 1
    #: doctor kind that sees it at tier 2 (falls back to "general" where absent).
    specialty: str = "general"
    #: diagnostics it needs before treatment (from MODALITIES, not cathlab).
    diagnostics: list[str] = field(default_factory=list)
    #: mean consult minutes at tier 0, 1, 2, 3.
    consult_minutes: list[float] = field(default_factory=lambda: [8.0, 10.0, 12.0, 15.0])
    consult_cv: float = 0.6
    consult_dist: str = "lognormal"
    admit_prob: float = 0.0
    los_days: Dist = field(default_factory=lambda: Dist("lognormal", 7.0, 0.7))
    #: queue priority, 0 = most urgent (an emergency: seen first, never balks, and referred up
    #: by 120 ambulance when the first site cannot manage it).
    priority: int = 2
    #: share of episodes that call 120 (the rest present themselves).
    ambulance_prob: float = 0.0
    #: share of discharged inpatients referred down to a tier-1 site near home (下转).
    down_refer_prob: float = 0.0
    #: "outpatient", or an emergency pathway: "stemi", "stroke", "trauma".
    pathway: str = "outpatient"
    #: hour-of-day profile: "outpatient" (day-time) or "emergency" (around the clock).
    profile: str = "outpatient"


@dataclass
class ChoiceModel:
    """Multinomial logit for the first contact (首诊) over reachable facilities.

    Utility = beta_tier[tier] + beta_travel_per_hour * hours + beta_cost_per_100 *
    expected out-of-pocket / 100 + beta_capable * [patient believes the site can manage].
    """

    beta_tier: list[float] = field(default_factory=lambda: [0.6, 0.0, 0.6, -0.4])
    beta_travel_per_hour: float = -2.5
    beta_cost_per_100: float = -0.17
    beta_capable: float = 1.5
    #: patients misjudge which tier their condition needs by this many tiers, at random.
    perception_noise: float = 0.0
    #: number of nearest township/community centres a village considers.
    tier1_options: int = 3
    include_tertiary: bool = True


@dataclass
class Behaviour:
    """Patience, reneging, closed clinics and bed waits."""

    #: mean patience in the doctor queue (hours) by priority 0, 1, 2 (exponential per patient).
    patience_hours: list[float] = field(default_factory=lambda: [1000.0, 8.0, 4.0])
    #: share of those who renege or balk who go up to the lead hospital (the rest go home).
    renege_go_up_prob: float = 0.5
    #: balk (leave on arrival) when this many are already waiting for the same doctors.
    balk_queue: int = 60
    #: "wait" for opening, or go "elsewhere" (next option of the choice model).
    closed_policy: str = "wait"
    #: longest wait for a bed before transfer up (or out of county at tier 2).
    bed_wait_max_hours: float = 6.0
    #: two-way referral under pressure (双向转诊): the share of down-referred hospital inpatients
    #: who need a bed at the tier-1 site near home (the rest get an outpatient follow-up) ...
    down_bed_share: float = 0.5
    #: ... their stay there ...
    down_los_days: float = 7.0
    #: ... and how long they keep the lead-hospital bed waiting for that bed (blocking after
    #: service: delayed-discharge bed-days) before going home with an outpatient follow-up.
    max_block_hours: float = 48.0
    #: share of tier-1 inpatients who deteriorate half-way through their stay and need a lead
    #: bed; they keep the tier-1 bed while waiting ...
    deterioration_prob: float = 0.03
    #: ... at most this long, then go out of county (the rule that resolves circular waits).
    max_up_wait_hours: float = 12.0


@dataclass
class Emergency:
    """The 120 network and emergency pathways (times in minutes)."""

    dispatch_minutes: float = 3.0
    on_scene_minutes: float = 15.0
    #: emergency-department work-up at a receiving hospital before a procedure.
    ed_minutes: float = 20.0
    cathlab_activation_minutes: float = 30.0
    procedure_minutes: float = 60.0
    #: stabilisation at a township centre before an emergency transfer.
    stabilise_minutes: float = 30.0
    #: minutes to hand the patient over and make the ambulance ready again.
    handover_minutes: float = 15.0
    #: 120 ambulances record a 12-lead ECG on scene (first contact to ECG = the ECG's minutes).
    ambulance_ecg: bool = True
    #: pharmaco-invasive STEMI care: a site of these tiers that has a diagnosed STEMI ECG gives
    #: thrombolysis when the expected time to PCI (ambulance to the site, transfer, ED,
    #: cath-lab activation) exceeds ``thrombolysis_threshold_minutes``; empty = never.
    thrombolysis_tiers: list[int] = field(default_factory=lambda: [1])
    thrombolysis_threshold_minutes: float = 120.0
    door_to_needle_minutes: float = 30.0


@dataclass
class Prices:
    """Prices (CNY) by tier 0..3, and reimbursement rates by tier (assumptions, see YAML)."""

    consult: list[float] = field(default_factory=lambda: [7.0, 20.0, 58.0, 120.0])
    bed_day: list[float] = field(default_factory=lambda: [0.0, 150.0, 450.0, 900.0])
    tests: dict[str, float] = field(default_factory=dict)
    ambulance_trip: float = 300.0
    travel_per_hour: float = 20.0
    reimburse_outpatient: list[float] = field(default_factory=lambda: [0.6, 0.5, 0.4, 0.3])
    reimburse_inpatient: list[float] = field(default_factory=lambda: [0.9, 0.8, 0.65, 0.5])


@dataclass
class Profiles:
    """Relative arrival intensity by hour of day (24 values) and day of week (7, Monday first)."""

    outpatient_hourly: list[float] = field(default_factory=lambda: [1.0] * 24)
    emergency_hourly: list[float] = field(default_factory=lambda: [1.0] * 24)
    weekday: list[float] = field(default_factory=lambda: [1.0] * 7)


@dataclass
class CareConfig:
    """Case mix, patient behaviour, emergency pathways and prices."""

    name: str = "unnamed"
    sources: list[str] = field(default_factory=list)
    conditions: dict[str, Condition] = field(default_factory=dict)
    #: mean minutes a diagnostic study takes (acquisition + on-site report), fixed.
    test_minutes: dict[str, float] = field(
        default_factory=lambda: {"ecg": 10.0, "xray": 15.0, "ct": 20.0, "lab": 30.0, "cathlab": 60.0})
    choice: ChoiceModel = field(default_factory=ChoiceModel)
    behaviour: Behaviour = field(default_factory=Behaviour)
    emergency: Emergency = field(default_factory=Emergency)
    prices: Prices = field(default_factory=Prices)
    profiles: Profiles = field(default_factory=Profiles)


@dataclass
class RunConfig:
    """Run length, warm-up, replications and the master seed."""

    name: str = "baseline"
    horizon_days: float = 28.0
    warmup_days: float = 7.0
    replications: int = 2
    seed: int = 20261123
    #: worker processes for replications; 0 means all cores.
    jobs: int = 0
    #: keep the per-patient tables (False keeps KPIs and occupancy only).
    keep_patients: bool = True
    #: where run folders go (relative paths are relative to the working directory).
    output_dir: str = "outputs"
    #: assert patient conservation at the end of every replication.
    check_conservation: bool = True


@dataclass
class Operation:
    """One restructuring operation applied to the network before the run (issue: downsizing).

    ``op`` is one of:

    - ``close``: close facility ``site`` (patients re-choose among what remains);
    - ``merge``: merge ``site`` into ``into``: its doctors, beds, equipment and ambulances move,
      times ``keep_share`` (1 = all move, 0.8 = a fifth are cut), and ``site`` closes;
    - ``scale``: multiply ``resource`` (``doctors``, ``doctors:<kind>``, ``beds``, ``ambulances``,
      ``equipment:<modality>``) by ``factor`` at ``site``, or at every facility of ``tier``;
    - ``move_doctors``: move ``n`` doctors of ``kind`` from lead ``site`` to each member in
      ``to`` (empty = every member of that lead) (下沉);
    - ``convert_to_post``: close township centre ``site`` and staff the clinic of its nearest
      village with ``n`` village doctors (a village-level post);
    - ``hand_over``: member sites ``sites`` now belong to lead ``lead`` (a tertiary hospital
      taking over township centres is modelled by adding that hospital as a lead).
    """

    op: str = ""
    site: str = ""
    into: str = ""
    keep_share: float = 1.0
    resource: str = ""
    tier: int = 0
    factor: float = 1.0
    n: int = 0
    kind: str = "general"
    to: list[str] = field(default_factory=list)
    lead: str = ""
    sites: list[str] = field(default_factory=list)


@dataclass
class RestructureConfig:
    """Downsizing and restructuring: operations applied in order, and their money."""

    operations: list[Operation] = field(default_factory=list)
    #: one-off capital saved (CNY), e.g. a closed centre's building sold or repurposed.
    capital_saved: float = 0.0
    #: yearly running cost per doctor and per bed (CNY) for the running-cost difference.
    cost_per_doctor_year: float = 200000.0
    cost_per_bed_year: float = 60000.0


@dataclass
class StudyConfig:
    """A study: a baseline and alternatives, each a list of Hydra overrides (``scenarios/study/``).

    Empty ``scenarios`` means a plain single-scenario run.
    """

    name: str = ""
    description: str = ""
    baseline: str = ""
    #: overrides applied to every scenario (before the scenario's own).
    base_overrides: list[str] = field(default_factory=list)
    scenarios: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ExecutorConfig:
    """Where replications run: a local process pool, or a Dask cluster."""

    #: "local" (process pool of run.jobs workers) or "dask".
    kind: str = "local"
    #: Dask scheduler address (tcp://host:8786); empty means $DASK_SCHEDULER_ADDRESS, else a
    #: local Dask cluster of run.jobs workers.
    address: str = ""


@dataclass
class ExpertTeam:
    """One rota of lead-hospital specialists sitting in at member sites (专家下沉坐诊).

    A visit day is either every ``every_days`` days from ``first_day`` (day 0 is the first
    Monday) or each of the named ``weekdays`` ("fri", "friday" or "4").  Site ``i`` of
    ``sites`` is shifted by ``i * stagger_days``; with ``rotate`` the team visits only one
    site per visit day, in turn (``offset`` picks the first).  Travel is the graph's road
    time between the lead and the site, each way; the lead loses the specialists for the
    whole trip.  ``source: external`` brings extra specialists from outside the county
    (provincial experts): no travel counted and nobody lost at the lead.
    """

    specialty: str = ""
    #: member sites visited; empty = every tier-1 member of ``lead``.
    sites: list[str] = field(default_factory=list)
    #: the lead hospital the specialists come from; null = the (single) lead of the sites.
    lead: str | None = None
    source: str = "lead"
    every_days: float | None = None
    weekdays: list[str] = field(default_factory=list)
    first_day: int = 0
    stagger_days: int = 0
    rotate: bool = False
    offset: int = 0
    #: specialists per site visit.
    doctors: int = 1
    #: clock time the visit starts on site, and hours on site.
    start_hour: float = 8.5
    hours_on_site: float = 7.0
    #: condition ids covered; empty = every non-emergency condition of ``specialty``.
    conditions: list[str] = field(default_factory=list)


@dataclass
class SkillCurve:
    """Skill transfer (传帮带): per site and specialty a skill level in [0, ceiling].

    Each visit closes ``learn_per_visit`` of the gap to ``ceiling``; without visits the level
    halves every ``half_life_days``.  Without an expert on site a patient of the specialty is
    managed locally when their own uniform is below the current level.
    """

    initial: float = 0.0
    learn_per_visit: float = 0.05
    ceiling: float = 0.5
    half_life_days: float = 120.0


@dataclass
class ExpertConfig:
    enabled: bool = False
    teams: list[ExpertTeam] = field(default_factory=list)
    skill: SkillCurve = field(default_factory=SkillCurve)
    #: mean days a non-urgent patient will wait for the next visit (exponential per patient).
    tolerance_days: float = 7.0
    #: returning patients arrive spread over this share of the visit's hours on site.
    return_spread: float = 0.5
    #: whether first-contact choice sees the schedule (visited sites look capable for the
    #: covered conditions, weighted by the chance of a visit within the mean tolerance).
    choice_sees_schedule: bool = True


@dataclass
class RemoteConsult:
    """Remote consultation (远程会诊, video/phone MDT) with a lead-hospital specialist."""

    enabled: bool = False
    #: condition ids it covers.
    conditions: list[str] = field(default_factory=list)
    #: simultaneous video/phone lines at each lead hospital.
    lines: int = 2
    consult_minutes: float = 15.0
    #: share of covered patients managed locally after the consult (per condition, else default).
    avoid_prob: dict[str, float] = field(default_factory=dict)
    default_avoid_prob: float = 0.4
    #: the patient waits at most this long for a line and the specialist, else is referred.
    max_wait_minutes: float = 120.0


@dataclass
class RemoteConfig:
    """Remote diagnosis (远程诊断): member sites acquire, the lead's reading centre reads."""

    enabled: bool = False
    #: modalities read remotely (from MODALITIES, not cathlab).
    modalities: list[str] = field(default_factory=list)
    #: acquiring sites; empty = every tier-1 member.
    sites: list[str] = field(default_factory=list)
    #: readers at each lead hospital's reading centre, by day (reader hours) and night.
    readers: int = 2
    night_readers: int = 1
    reader_open_hour: float = 8.0
    reader_close_hour: float = 17.5
    #: reading-time distribution per modality (minutes); missing modality: lognormal 10, cv 0.5.
    read_minutes: dict[str, Dist] = field(default_factory=dict)
    transmit_minutes: float = 5.0
    failure_prob: float = 0.02
    #: on a failed study: "repeat" it (up to ``max_repeats``), or "refer" the patient.
    on_failure: str = "repeat"
    max_repeats: int = 1
    #: the patient waits at the site at most this long for every report, else is referred.
    patient_max_wait_minutes: float = 240.0
    #: share of patients whose result lets the centre treat locally: per condition, else the
    #: lowest over the condition's remotely read modalities, else ``default_manageable``.
    manageable: dict[str, float] = field(default_factory=dict)
    manageable_by_modality: dict[str, float] = field(default_factory=dict)
    default_manageable: float = 0.8
    #: tele-ECG for chest pain: a transmitted STEMI ECG pre-activates the cath lab.
    tele_ecg: bool = False
    consult: RemoteConsult = field(default_factory=RemoteConsult)


@dataclass
class LeversConfig:
    """Policy levers (issue 8): expert visits and remote diagnosis/consultation."""

    name: str = "none"
    expert: ExpertConfig = field(default_factory=ExpertConfig)
    remote: RemoteConfig = field(default_factory=RemoteConfig)


@dataclass
class Config:
    """A scenario: one composed config."""

    scenario: str = "baseline"
    study: StudyConfig = field(default_factory=StudyConfig)
    restructure: RestructureConfig = field(default_factory=RestructureConfig)
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)
    run: RunConfig = field(default_factory=RunConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    care: CareConfig = field(default_factory=CareConfig)
    levers: LeversConfig = field(default_factory=LeversConfig)


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore (idempotent)."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="schema", node=Config)


def to_config(cfg: Any) -> Config:
    """Turn a composed OmegaConf node (or a :class:`Config`) into plain dataclasses and validate.

    Plain dataclasses are much faster to read than OmegaConf nodes on the model's hot path.
    Junk nested more deeply than Python's recursion limit is a :class:`ConfigError` too, from
    wherever OmegaConf or the checks meet it.
    """
    try:
        return _to_config(cfg)
    except RecursionError:
        raise ConfigError(f"{_deep_key(cfg)}: nested far more deeply than any key of the schema") from None


def _to_config(cfg: Any) -> Config:
    """:func:`to_config` without the recursion guard."""
    if isinstance(cfg, Config):
        out = cfg
    else:
        from omegaconf import OmegaConf

        try:
            if not OmegaConf.is_config(cfg):
                cfg = OmegaConf.merge(OmegaConf.structured(Config), cfg)
            elif OmegaConf.get_type(cfg) is not Config:
                cfg = OmegaConf.merge(OmegaConf.structured(Config), cfg)
            out = cast(Config, OmegaConf.to_object(cfg))  # merged onto the Config schema above
        except ConfigError:
            raise
        except RecursionError:
            raise ConfigError(f"{_deep_key(cfg)}: nested far more deeply than any key of the schema") from None
        except Exception as exc:  # omegaconf errors carry the key in their message
            msg = _omegaconf_message(exc)
            leaf, _, rest = msg.partition(": ")
            if rest and "." not in leaf and "[" not in leaf and leaf not in _type_hints(Config):
                # OmegaConf names a key inside a list element by its leaf only
                found = _locate_leaf(Config, _plain(cfg), "", leaf)
                if found:
                    msg = f"{found.rstrip('?')}: {rest}"
            if not getattr(exc, "full_key", None) and ":" not in msg.split(" ", 1)[0]:
                where = _shape_mismatch(Config, _plain(cfg), "")
                if where:
                    msg = f"{where[0]}: {where[1]} ({msg})"
            raise ConfigError(msg) from None
    _reject_unknown_keys(out, "")
    validate(out)
    return out


def _plain(node: Any) -> Any:
    from omegaconf import OmegaConf

    try:
        return OmegaConf.to_container(node) if OmegaConf.is_config(node) else node
    except Exception:
        return None


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); any other hint -> (hint, False)."""
    import types
    import typing

    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if args:
            return args[0], True
    return hint, False


def _locate_leaf(hint: Any, value: Any, path: str, leaf: str, in_list: bool = False) -> str | None:
    """The full key of field ``leaf`` inside a list element of the schema whose value does not
    have the declared kind (else the first such field)."""
    import dataclasses
    import typing

    hint, _ = _unwrap_optional(hint)
    origin = typing.get_origin(hint)
    first: str | None = None
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        hints = _type_hints(hint)  # type: ignore[arg-type]
        if in_list and leaf in value and leaf in hints:
            want = hints[leaf]
            v = value[leaf]
            kinds = {int: (int,), float: (int, float), str: (str,), bool: (bool,)}.get(want)
            if kinds is not None and (not isinstance(v, kinds) or (want is not bool and isinstance(v, bool))):
                return f"{path}.{leaf}"
            first = f"{path}.{leaf}"
        for k, v in value.items():
            if k in hints:
                found = _locate_leaf(hints[k], v, f"{path}.{k}" if path else str(k), leaf, False)
                if found and not found.endswith("?"):
                    return found
                first = first or (found[:-1] if found else None)
    elif origin is list and isinstance(value, list):
        (item,) = typing.get_args(hint)
        for i, v in enumerate(value):
            found = _locate_leaf(item, v, f"{path}[{i}]", leaf, True)
            if found and not found.endswith("?"):
                return found
            first = first or (found[:-1] if found else None)
    elif origin is dict and isinstance(value, dict):
        _, item = typing.get_args(hint)
        for k, v in value.items():
            found = _locate_leaf(item, v, f"{path}.{k}", leaf, False)
            if found and not found.endswith("?"):
                return found
            first = first or (found[:-1] if found else None)
    return f"{first}?" if first else None


def _shape_mismatch(hint: Any, value: Any, path: str) -> tuple[str, str] | None:
    """The first key where a mapping stands for a list or a list for a mapping (OmegaConf's
    merge names no key for that), with what was expected."""
    import dataclasses
    import typing

    hint, optional = _unwrap_optional(hint)
    if optional and value is None:
        return None
    origin = typing.get_origin(hint)
    key = path or "config"
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            return (key, f"must be a mapping of {cast(type, hint).__name__} keys, got {type(value).__name__}")
        hints = _type_hints(hint)  # type: ignore[arg-type]
        for k, v in value.items():
            if k in hints:
                found = _shape_mismatch(hints[k], v, f"{path}.{k}" if path else str(k))
                if found:
                    return found
        return None
    if origin is list:
        if not isinstance(value, list):
            return (key, f"must be a list, got {type(value).__name__}")
        (item,) = typing.get_args(hint)
        for i, v in enumerate(value):
            found = _shape_mismatch(item, v, f"{key}[{i}]")
            if found:
                return found
        return None
    if origin is dict:
        if not isinstance(value, dict):
            return (key, f"must be a mapping, got {type(value).__name__}")
        _, item = typing.get_args(hint)
        for k, v in value.items():
            found = _shape_mismatch(item, v, f"{key}.{k}")
            if found:
                return found
        return None
    if isinstance(value, (dict, list)):
        return (key, f"must be a single value, got a {'mapping' if isinstance(value, dict) else 'list'}")
    return None


def _deep_key(node: Any, limit: int = 8) -> str:
    """The first key path of ``node`` that goes deeper than ``limit`` levels (iteratively: the
    node may be too deep for recursion), shortened."""
    from omegaconf import DictConfig, ListConfig

    stack: list[tuple[Any, list[str]]] = [(node, [])]
    while stack:
        cur, path = stack.pop()
        if len(path) > limit:
            return ".".join(path[:limit]) + "..."
        try:
            if isinstance(cur, (dict, DictConfig)):
                items = [(str(k), cur._get_node(k) if isinstance(cur, DictConfig) else cur[k]) for k in cur.keys()]
            elif isinstance(cur, (list, ListConfig)):
                items = [(f"[{i}]", cur._get_node(i) if isinstance(cur, ListConfig) else v) for i, v in enumerate(cur)]
            else:
                continue
        except Exception:
            continue
        for k, v in items:
            stack.append((v, [*path, k]))
    return "config"


def _reject_unknown_keys(obj: Any, path: str) -> None:
    """A key added outside the schema (e.g. a ``+network.facilities.t1.bedz=3`` override, which
    Hydra force-adds to a typed node) ends up as a stray attribute: refuse it by name."""
    import dataclasses

    if dataclasses.is_dataclass(obj):
        names = {f.name for f in dataclasses.fields(obj)}
        for k in vars(obj):
            if k not in names:
                raise ConfigError(f"{path}{k}: unknown key (not in the schema of {type(obj).__name__})")
        for name in names:
            _reject_unknown_keys(getattr(obj, name), f"{path}{name}.")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _reject_unknown_keys(v, f"{path}{k}.")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            if dataclasses.is_dataclass(v):
                _reject_unknown_keys(v, f"{path[:-1]}[{i}].")


def _omegaconf_message(exc: BaseException) -> str:
    """One line from an OmegaConf error: the full dotted key, then the first line of the
    problem.  OmegaConf reports keys inside lists of structured nodes (``teams[0]``) relative
    to the list element; its message then carries the full key on a ``full_key:`` line."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    first = lines[0] if lines else type(exc).__name__
    key = getattr(exc, "full_key", None) or ""
    for ln in lines[1:]:
        if ln.startswith("full_key:"):
            full = ln.split(":", 1)[1].strip()
            if len(full) > len(key):
                key = full
    if key:
        # OmegaConf writes a leaf's key first ("first_day: Value 'x' ..."): keep the full key only
        leaf = key.rsplit(".", 1)[-1].split("[", 1)[0]
        for prefix in (f"{key}:", f"{leaf}:"):
            if first.startswith(prefix):
                first = first[len(prefix):].strip()
                break
        first = f"{key}: {first}"
    return first


def yaml_error_message(exc: BaseException) -> str | None:
    """One line for a YAML error in the chain of ``exc``: the file, the line and the problem
    (a duplicate key names the key), or None when the chain holds no YAML error.

    >>> import yaml
    >>> try:
    ...     yaml.safe_load("a: 1\\nb: [1, 2\\n")
    ... except yaml.YAMLError as exc:
    ...     print(yaml_error_message(exc))
    <text>, line 3: expected ',' or ']', but got '<stream end>' (in the flow sequence at line 2)
    """
    import os

    import yaml

    e: BaseException | None = exc
    for _ in range(10):
        if e is None:
            return None
        if isinstance(e, yaml.MarkedYAMLError):
            break
        e = e.__cause__ or e.__context__
    else:
        return None
    assert isinstance(e, yaml.MarkedYAMLError)
    mark = e.problem_mark or e.context_mark
    name = getattr(mark, "name", "") or "<text>"
    if name.startswith("<"):
        name = "<text>"
    else:
        try:
            rel = os.path.relpath(name)
            name = rel if not rel.startswith("..") else name
        except ValueError:  # pragma: no cover - another drive on Windows
            pass
    line = mark.line + 1 if mark is not None else 0
    problem = (e.problem or "").strip()
    if problem.startswith("found duplicate key"):
        dup = problem[len("found duplicate key"):].strip()
        problem = f"duplicate key {dup!r}"
    context = (e.context or "").strip()
    where = ""
    if e.context_mark is not None and context:
        thing = context.replace("while parsing ", "").replace("while constructing ", "").replace("while scanning ", "")
        thing = thing.replace("a ", "the ", 1) if thing.startswith("a ") else thing
        where = f" (in {thing} at line {e.context_mark.line + 1})"
    return f"{name}, line {line}: {problem or context or type(e).__name__}{where}"


# --------------------------------------------------------------------------- validation


def _check(cond: bool, key: str, problem: str) -> None:
    if not cond:
        raise ConfigError(f"{key}: {problem}")


def _finite_nonneg(value: float, key: str) -> None:
    _check(value is not None and not math.isnan(value) and not math.isinf(value), key,
           f"must be a finite number, got {value!r}")
    _check(value >= 0, key, f"must be >= 0, got {value!r}")


def _prob(value: float, key: str) -> None:
    _check(value is not None and not math.isnan(value) and 0.0 <= value <= 1.0, key,
           f"must be a probability in [0, 1], got {value!r}")


def _dist(d: Dist, key: str) -> None:
    _check(d.dist in DISTRIBUTIONS, f"{key}.dist", f"must be one of {', '.join(DISTRIBUTIONS)}, got {d.dist!r}")
    _finite_nonneg(d.mean, f"{key}.mean")
    _check(d.mean > 0, f"{key}.mean", f"must be > 0, got {d.mean!r}")
    _finite_nonneg(d.cv, f"{key}.cv")
    if d.dist in ("lognormal", "gamma"):
        _check(d.cv > 0, f"{key}.cv", f"must be > 0 for a {d.dist} distribution, got {d.cv!r}")


def _tier_list(values: list[float], key: str, nonneg: bool = True) -> None:
    _check(len(values) == 4, key, f"needs 4 values (tiers 0, 1, 2, 3), got {len(values)}")
    for i, v in enumerate(values):
        if nonneg:
            _finite_nonneg(v, f"{key}[{i}]")
        else:
            _check(not math.isnan(v) and not math.isinf(v), f"{key}[{i}]", f"must be finite, got {v!r}")


#: Ranges of numbers, declared once per schema field: (class, field) -> (low, high, why).
#: For a list or dict field the range applies to every element.  Every other number only has
#: to be finite (see :func:`check_numbers`); the semantic checks below add what a range cannot.
_MAP_KM = (-5_000, 5_000, "km from the map origin: China spans about 5,000 km")
BOUNDS: dict[tuple[str, str], tuple[float, float, str]] = {
    ("Village", "population"): (0, 10_000_000, "more people than any village or subdistrict"),
    ("Village", "clinic_doctors"): (0, 1_000, "more doctors than any village clinic"),
    ("Village", "x_km"): _MAP_KM,
    ("Village", "y_km"): _MAP_KM,
    ("Facility", "x_km"): _MAP_KM,
    ("Facility", "y_km"): _MAP_KM,
    ("Facility", "doctors"): (0, 100_000, "more doctors than any hospital"),
    ("Facility", "night_doctors"): (0, 100_000, "more doctors than any hospital"),
    ("Facility", "beds"): (0, 100_000, "more beds than any hospital"),
    ("Facility", "initial_queue"): (0, 100_000, "more patients waiting than any clinic"),
    ("Facility", "ambulances"): (0, 10_000, "more ambulances than any city"),
    ("Facility", "equipment_units"): (0, 10_000, "more units than any hospital"),
    ("NetworkConfig", "road_speed_kmh"): (0, 300, "faster than any road"),
    ("NetworkConfig", "detour_factor"): (1, 100, "road distance / straight-line distance"),
    ("NetworkConfig", "clinic_access_minutes"): (0, 24 * 60, "minutes"),
    ("Road", "minutes"): (0, 7 * 24 * 60, "a road of more than a week"),
    ("Condition", "incidence_per_1000"): (0, 100_000_000, "episodes per 1,000 people per year"),
    ("Condition", "consult_minutes"): (0, 24 * 60, "a consultation of more than a day"),
    ("Dist", "mean"): (0, 1_000_000, "far longer than any stay or service"),
    ("Dist", "cv"): (0, 100, "coefficient of variation"),
    ("Behaviour", "balk_queue"): (0, 1_000_000, "patients"),
    ("RunConfig", "horizon_days"): (0, 36_500, "days (100 years)"),
    ("RunConfig", "warmup_days"): (0, 36_500, "days (100 years)"),
    ("RunConfig", "replications"): (1, 100_000, "replications"),
    ("RunConfig", "jobs"): (0, 4_096, "worker processes"),
    ("RunConfig", "seed"): (0, 2**63 - 1, "a seed"),
    ("RestructureConfig", "capital_saved"): (0, 1e12, "CNY"),
    ("RestructureConfig", "cost_per_doctor_year"): (0, 1e9, "CNY a year"),
    ("RestructureConfig", "cost_per_bed_year"): (0, 1e9, "CNY a year"),
    ("Prices", "tests"): (0, 1e9, "CNY"),
    ("Prices", "ambulance_trip"): (0, 1e9, "CNY"),
    ("Prices", "travel_per_hour"): (0, 1e9, "CNY"),
}
#: names that become folder names (scenarios, studies): plain and short.
NAME_MAX = 100
_TEXT_MAX = 20_000
_INT_MAX = 2**63 - 1


def check_name(name: object, key: str) -> None:
    """A scenario or study name: it becomes a folder, so plain, short and printable.

    >>> check_name("weekly_experts", "scenario")
    >>> check_name("a" * 300, "scenario")
    Traceback (most recent call last):
    ...
    sim.config.ConfigError: scenario: must be at most 100 characters, got 300
    """
    _check(isinstance(name, str) and bool(name), key, f"must be a non-empty name, got {name!r}")
    assert isinstance(name, str)
    _check(len(name) <= NAME_MAX, key, f"must be at most {NAME_MAX} characters, got {len(name)}")
    _check("/" not in name and "\\" not in name and ".." not in name, key,
           f"must be a plain name (no '/', '\\' or '..'), got {name!r}")
    _check(name.isprintable() and name.strip() == name, key,
           f"must be printable with no leading or trailing space, got {name!r}")


def _type_hints(cls: type) -> dict[str, Any]:
    import typing

    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


_HINTS: dict[type, dict[str, Any]] = {}


def _check_value(value: Any, hint: Any, key: str, bound: tuple[float, float, str] | None) -> None:
    """``value`` against its declared type ``hint``: the right kind, finite, within ``bound``."""
    import dataclasses
    import typing

    hint, optional = _unwrap_optional(hint)
    if optional and value is None:
        return
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        _check(dataclasses.is_dataclass(value), key, f"must be a mapping of {cast(type, hint).__name__} keys, "
               f"got {type(value).__name__}")
        check_numbers(value, key)
        return
    if origin is list:
        _check(isinstance(value, list), key, f"must be a list, got {type(value).__name__}")
        (item,) = typing.get_args(hint)
        for i, v in enumerate(value):
            _check_value(v, item, f"{key}[{i}]", bound)
        return
    if origin is dict:
        _check(isinstance(value, dict), key, f"must be a mapping, got {type(value).__name__}")
        _, item = typing.get_args(hint)
        for k, v in value.items():
            _check(isinstance(k, str) and 0 < len(k) <= NAME_MAX and k.isprintable(), f"{key}",
                   f"has a key that is not a short printable name: {str(k)!r}")
            _check_value(v, item, f"{key}.{k}", bound)
        return
    if hint is bool:
        _check(isinstance(value, bool), key, f"must be true or false, got {value!r}")
        return
    if hint is str:
        _check(isinstance(value, str), key, f"must be text, got {type(value).__name__}")
        _check(len(value) <= _TEXT_MAX, key, f"is {len(value)} characters long (at most {_TEXT_MAX:,})")
        return
    if hint in (int, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        _check(ok, key, f"must be a number, got {type(value).__name__} {value!r}")
        if hint is int:
            _check(isinstance(value, int), key, f"must be a whole number, got {value!r}")
        _check(math.isfinite(value), key, f"must be a finite number, got {value!r}")
        if bound is None and hint is int:
            _check(abs(value) <= _INT_MAX, key, f"is too large ({value:.3g})")
        if bound is not None:
            lo, hi, why = bound
            shown = repr(value) if abs(value) < 1e6 else f"{value:.3g}"
            _check(value >= lo, key, f"must be >= {lo:g}, got {shown}")
            top = f"{hi:,.0f}" if float(hi).is_integer() and hi < 1e13 else f"{hi:.3g}"
            _check(value <= hi, key, f"must be <= {top} ({why}), got {shown}")


def check_numbers(obj: Any, path: str = "") -> None:
    """One rule for every value of the schema: each has its declared kind, every number is
    finite, and numbers with a declared range (:data:`BOUNDS`) are inside it.

    Runs before the semantic checks, so that those can rely on finite numbers of the right
    kind.  Raises :class:`ConfigError` naming the full dotted key.

    >>> check_numbers(Village(population=10**20), "network.villages.v1")
    Traceback (most recent call last):
    ...
    sim.config.ConfigError: network.villages.v1.population: must be <= 10,000,000 (more people than any village or subdistrict), got 1e+20
    """
    import dataclasses

    cls = type(obj)
    hints = _type_hints(cls)
    for f in dataclasses.fields(obj):
        key = f"{path}.{f.name}" if path else f.name
        _check_value(getattr(obj, f.name), hints[f.name], key, BOUNDS.get((cls.__name__, f.name)))


def validate(cfg: Config) -> None:
    """Semantic checks that a type system cannot express.  Raises :class:`ConfigError`.

    The network's graph-level checks (every village reaches a tier-1 and a tier-2 site, ...)
    run when the graph is built, in :func:`sim.network.build_graph`.
    """
    check_numbers(cfg)
    r = cfg.run
    _check(r.horizon_days > 0 and math.isfinite(r.horizon_days), "run.horizon_days",
           f"must be > 0, got {r.horizon_days!r}")
    _finite_nonneg(r.warmup_days, "run.warmup_days")
    _check(r.warmup_days < r.horizon_days, "run.warmup_days",
           f"({r.warmup_days}) must be shorter than run.horizon_days ({r.horizon_days})")
    _check(r.replications >= 1, "run.replications", f"must be >= 1, got {r.replications}")
    _check(r.seed >= 0, "run.seed", f"must be >= 0, got {r.seed}")
    _check(r.jobs >= 0, "run.jobs", f"must be >= 0 (0 = all cores), got {r.jobs}")
    check_name(cfg.scenario, "scenario")

    _check(cfg.executor.kind in ("local", "dask"), "executor.kind",
           f"must be local or dask, got {cfg.executor.kind!r}")
    st = cfg.study
    if st.scenarios:
        _check(st.baseline in st.scenarios, "study.baseline",
               f"names {st.baseline!r}, which is not one of study.scenarios ({', '.join(st.scenarios)})")
        for name in st.scenarios:
            check_name(name, f"study.scenarios.{name}")
        if st.name:
            check_name(st.name, "study.name")
    elif st.name:
        raise ConfigError("study.scenarios: the study has no scenarios (an empty study)")

    n = cfg.network
    _check(n.road_speed_kmh > 0, "network.road_speed_kmh", f"must be > 0, got {n.road_speed_kmh}")
    _check(n.detour_factor >= 1, "network.detour_factor", f"must be >= 1, got {n.detour_factor}")
    _finite_nonneg(n.clinic_access_minutes, "network.clinic_access_minutes")
    _check(len(n.villages) > 0, "network.villages", "the network has no villages")
    for vid, village in n.villages.items():
        key = f"network.villages.{vid}"
        _check(village.population >= 0, f"{key}.population", f"must be >= 0, got {village.population}")
        _check(village.clinic_doctors >= 0, f"{key}.clinic_doctors", f"must be >= 0, got {village.clinic_doctors}")
        _check(vid not in n.facilities, key, "a village and a facility share this id")
    for fid, f in n.facilities.items():
        key = f"network.facilities.{fid}"
        _check(f.kind in FACILITY_KINDS, f"{key}.kind", f"must be one of {', '.join(FACILITY_KINDS)}, got {f.kind!r}")
        _check(f.tier in (1, 2, 3), f"{key}.tier", f"must be 1, 2 or 3, got {f.tier}")
        expected = {"township": 1, "community": 1, "lead": 2, "tertiary": 3}[f.kind]
        _check(f.tier == expected, f"{key}.tier", f"a {f.kind} is tier {expected}, got {f.tier}")
        for field_name in ("doctors", "night_doctors"):
            for kind in getattr(f, field_name):
                _check(kind in SPECIALTIES, f"{key}.{field_name}.{kind}",
                       f"unknown doctor kind (known: {', '.join(SPECIALTIES)})")
        day_doctors = sum(f.doctors.values())
        if f.tier == 2 and not f.closed:
            _check(day_doctors > 0, f"{key}.doctors", "a lead hospital with no doctors at all cannot run")
        elif f.tier == 1 and not f.closed and day_doctors == 0:
            warn(f"{key}.doctors", "an open centre with no day doctors: it will refer or turn away every patient")
        _check(f.beds >= 0, f"{key}.beds", f"must be >= 0, got {f.beds}")
        _prob(f.initial_bed_occupancy, f"{key}.initial_bed_occupancy")
        _check(f.initial_queue >= 0, f"{key}.initial_queue", f"must be >= 0, got {f.initial_queue}")
        _check(f.ambulances >= 0, f"{key}.ambulances", f"must be >= 0, got {f.ambulances}")
        for m in f.acquire + f.read + list(f.equipment_units):
            _check(m in MODALITIES, f"{key}", f"unknown modality {m!r} (known: {', '.join(MODALITIES)})")
        for m, units in f.equipment_units.items():
            _check(units >= 0, f"{key}.equipment_units.{m}", f"must be >= 0, got {units}")
        h = f.hours
        _check(0 <= h.open_hour < h.close_hour <= 24, f"{key}.hours",
               f"needs 0 <= open_hour < close_hour <= 24, got {h.open_hour}-{h.close_hour}")
        _check(all(0 <= d <= 6 for d in h.days), f"{key}.hours.days", "days are 0 (Monday) to 6")
        _prob(h.weekend_share, f"{key}.hours.weekend_share")
        if f.tier == 1:
            _check(f.lead is not None, f"{key}.lead", "a tier-1 member must name its lead hospital")
        if f.lead is not None:
            _check(f.lead in n.facilities, f"{key}.lead", f"names {f.lead!r}, which is not a facility")
            _check(n.facilities[f.lead].tier == 2, f"{key}.lead", f"{f.lead!r} is not a tier-2 lead hospital")
    tiers = {f.tier for f in n.facilities.values()}
    _check(1 in tiers, "network.facilities", "needs at least one tier-1 facility")
    _check(2 in tiers, "network.facilities", "needs at least one tier-2 lead hospital")
    _check(sum(1 for f in n.facilities.values() if f.tier == 3) == 1, "network.facilities",
           "needs exactly one tier-3 (out-of-county) node")
    nodes = set(n.villages) | set(n.facilities)
    for i, road in enumerate(n.roads):
        key = f"network.roads[{i}]"
        _check(road.a in nodes, f"{key}.a", f"names {road.a!r}, which is not a village or facility")
        _check(road.b in nodes, f"{key}.b", f"names {road.b!r}, which is not a village or facility")
        _check(road.a != road.b, key, "a road must join two different places")
        if road.minutes is not None:
            _finite_nonneg(road.minutes, f"{key}.minutes")

    c = cfg.care
    _check(len(c.conditions) > 0, "care.conditions", "the case mix has no conditions")
    for cid, cond in c.conditions.items():
        key = f"care.conditions.{cid}"
        _finite_nonneg(cond.incidence_per_1000, f"{key}.incidence_per_1000")
        _check(cond.min_tier in TIERS, f"{key}.min_tier", f"must be 0, 1, 2 or 3, got {cond.min_tier}")
        if cond.incidence_per_1000 > 100_000:
            warn(f"{key}.incidence_per_1000", f"{cond.incidence_per_1000:,.0f} episodes per 1,000 people a year "
                 "(more than 100 per person): only a synthetic test county has that")
        _check(cond.specialty in SPECIALTIES, f"{key}.specialty",
               f"unknown doctor kind {cond.specialty!r} (known: {', '.join(SPECIALTIES)})")
        for m in cond.diagnostics:
            _check(m in MODALITIES and m != "cathlab", f"{key}.diagnostics",
                   f"unknown diagnostic {m!r} (known: ecg, xray, ct, lab)")
        _tier_list(cond.consult_minutes, f"{key}.consult_minutes")
        _check(all(v > 0 for v in cond.consult_minutes), f"{key}.consult_minutes", "must be > 0")
        _dist(Dist(cond.consult_dist, 1.0, cond.consult_cv), f"{key}.consult")
        _prob(cond.admit_prob, f"{key}.admit_prob")
        _dist(cond.los_days, f"{key}.los_days")
        _check(cond.priority in (0, 1, 2), f"{key}.priority", f"must be 0, 1 or 2, got {cond.priority}")
        _prob(cond.ambulance_prob, f"{key}.ambulance_prob")
        _prob(cond.down_refer_prob, f"{key}.down_refer_prob")
        _check(cond.pathway in ("outpatient", "stemi", "stroke", "trauma"), f"{key}.pathway",
               f"must be outpatient, stemi, stroke or trauma, got {cond.pathway!r}")
        _check(cond.profile in ("outpatient", "emergency"), f"{key}.profile",
               f"must be outpatient or emergency, got {cond.profile!r}")
    for m, v in c.test_minutes.items():
        _check(m in MODALITIES, f"care.test_minutes.{m}", f"unknown modality (known: {', '.join(MODALITIES)})")
        _finite_nonneg(v, f"care.test_minutes.{m}")
    ch = c.choice
    _tier_list(ch.beta_tier, "care.choice.beta_tier", nonneg=False)
    for k in ("beta_travel_per_hour", "beta_cost_per_100", "beta_capable", "perception_noise"):
        v = getattr(ch, k)
        _check(math.isfinite(v), f"care.choice.{k}", f"must be finite, got {v!r}")
    _check(ch.tier1_options >= 1, "care.choice.tier1_options", f"must be >= 1, got {ch.tier1_options}")
    b = c.behaviour
    _check(len(b.patience_hours) == 3, "care.behaviour.patience_hours", "needs 3 values (priority 0, 1, 2)")
    for i, v in enumerate(b.patience_hours):
        _finite_nonneg(v, f"care.behaviour.patience_hours[{i}]")
        _check(v > 0, f"care.behaviour.patience_hours[{i}]", "must be > 0")
    _prob(b.renege_go_up_prob, "care.behaviour.renege_go_up_prob")
    _check(b.balk_queue >= 0, "care.behaviour.balk_queue", f"must be >= 0, got {b.balk_queue}")
    _check(b.closed_policy in ("wait", "elsewhere"), "care.behaviour.closed_policy",
           f"must be wait or elsewhere, got {b.closed_policy!r}")
    _finite_nonneg(b.bed_wait_max_hours, "care.behaviour.bed_wait_max_hours")
    _prob(b.down_bed_share, "care.behaviour.down_bed_share")
    _prob(b.deterioration_prob, "care.behaviour.deterioration_prob")
    for k in ("down_los_days", "max_block_hours", "max_up_wait_hours"):
        _finite_nonneg(getattr(b, k), f"care.behaviour.{k}")
    for k, v in vars(c.emergency).items():
        if isinstance(v, float):
            _finite_nonneg(v, f"care.emergency.{k}")
    for t in c.emergency.thrombolysis_tiers:
        _check(t in (1, 2), "care.emergency.thrombolysis_tiers", f"tiers are 1 or 2, got {t}")
    p = c.prices
    for k in ("consult", "bed_day"):
        _tier_list(getattr(p, k), f"care.prices.{k}")
    for k in ("reimburse_outpatient", "reimburse_inpatient"):
        _tier_list(getattr(p, k), f"care.prices.{k}")
        for i, v in enumerate(getattr(p, k)):
            _prob(v, f"care.prices.{k}[{i}]")
    for m, v in p.tests.items():
        _check(m in MODALITIES, f"care.prices.tests.{m}", "unknown modality")
        _finite_nonneg(v, f"care.prices.tests.{m}")
    _finite_nonneg(p.ambulance_trip, "care.prices.ambulance_trip")
    _finite_nonneg(p.travel_per_hour, "care.prices.travel_per_hour")
    pr = c.profiles
    for k, n_expected in (("outpatient_hourly", 24), ("emergency_hourly", 24), ("weekday", 7)):
        vals = getattr(pr, k)
        _check(len(vals) == n_expected, f"care.profiles.{k}", f"needs {n_expected} values, got {len(vals)}")
        for i, v in enumerate(vals):
            _finite_nonneg(v, f"care.profiles.{k}[{i}]")
        _check(sum(vals) > 0, f"care.profiles.{k}", "all values are zero")
    if getattr(cfg, "levers", None) is not None:
        from sim.levers import validate_levers

        validate_levers(cfg)
