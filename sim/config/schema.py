"""The typed configuration schema (Hydra structured configs): every config key and its type.

The dataclasses here are the *only* place where config keys and types are declared;
the values live in YAML under ``scenarios/``.  Hydra merges every YAML file into these
typed nodes, so an unknown key or a wrong type fails at compose time, naming the key.
Semantic checks (negative beds, probabilities above 1, a member naming a lead that does
not exist, ...) run in :func:`sim.config.semantics.validate` and raise
:class:`~sim.config.errors.ConfigError` with one clear line.

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

from dataclasses import dataclass, field

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

#: Lifetimes (years) of the capital items, from the government fixed-asset depreciation table
#: (政府固定资产折旧年限表, with 《政府会计准则第3号——固定资产》应用指南, 财会〔2017〕4号): buildings of
#: reinforced concrete 50 years, computer equipment (计算机设备: computers, network, storage,
#: terminals) 6 years, vehicles 8 years, instruments (仪器仪表) 5 years.
LIFETIME_BUILDING_YEARS = 50.0
LIFETIME_COMPUTER_YEARS = 6.0
LIFETIME_VEHICLE_YEARS = 8.0
LIFETIME_INSTRUMENT_YEARS = 5.0


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
    #: longitude and latitude (degrees, WGS-84) of a real site, kept so maps can show the real
    #: county; null for a synthetic network.  ``x_km``/``y_km`` are what the model uses (the
    #: import projects lon/lat to them: ``network.coordinates``).
    lon: float | None = None
    lat: float | None = None
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
    #: condition ids this site manages although their ``min_tier`` is above its tier, where
    #: the county allows it (e.g. a township centre with a delivery room doing low-risk births,
    #: 顺产, ``[maternity]``); its tests must still be acquired and read here.
    manages: list[str] = field(default_factory=list)
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
    #: longitude and latitude (degrees, WGS-84), as on :class:`Facility`; null when synthetic.
    lon: float | None = None
    lat: float | None = None
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
class Coordinates:
    """How a real county's lon/lat became the model's kilometres (set by ``python -m sim.county
    import``; empty for a synthetic network whose x/y were written by hand)."""

    #: datum of the stored ``lon``/``lat``: "" (none stored) or "wgs84".
    datum: str = ""
    #: datum of the coordinates in the planner's files: "wgs84", or "gcj02" (what Chinese web
    #: maps give; converted to WGS-84 on import).
    input_datum: str = ""
    #: the local projection from lon/lat to x/y kilometres (a PROJ string).
    projection: str = ""


@dataclass
class Travel:
    """Road minutes given as a table, and where the network's minutes come from."""

    #: where the minutes come from: "roads" (the hand-written ``roads``: a road's ``minutes``,
    #: else straight-line km x ``detour_factor`` / ``road_speed_kmh``), "matrix" (a planner's
    #: table of origin, destination, minutes), "osm" (shortest paths on an OpenStreetMap
    #: extract), "straight_line" (the crude fallback for every pair), or "mixed" (see ``note``).
    source: str = "roads"
    #: one line: the files read and how (speeds, snapping, pairs filled by the fallback).
    note: str = ""
    #: ``minutes[a][b]``: road minutes between places ``a`` and ``b`` (villages or facilities,
    #: used both ways); each pair is an edge of the referral graph like a road with minutes.
    minutes: dict[str, dict[str, float]] = field(default_factory=dict)
    #: join every village-facility and facility-facility pair that has neither a road nor
    #: ``minutes`` by a straight-line road (km x ``detour_factor`` / ``road_speed_kmh``).
    straight_line_pairs: bool = False


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
    #: road minutes as a table (a planner's matrix, an OpenStreetMap extract) and their source.
    travel: Travel = field(default_factory=Travel)
    #: datum and projection of real coordinates (``lon``/``lat`` on the sites).
    coordinates: Coordinates = field(default_factory=Coordinates)


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
    #: how much residents prefer a city/provincial hospital for a stay with this condition
    #: (utils, added to the tier-3 option in proportion to ``admit_prob`` at first contact, and
    #: to the out-of-county option when a lead hospital admits): cancer and complex surgery
    #: leave the county far more often than a pneumonia does.
    outflow_bias: float = 0.0
    #: multiplies the patience of :attr:`Behaviour.patience_hours` (a patient with a serious
    #: complaint waits longer than one with a cold before giving up).
    patience_factor: float = 1.0
    #: "outpatient", or an emergency pathway: "stemi", "stroke", "trauma".
    pathway: str = "outpatient"
    #: hour-of-day profile: "outpatient" (day-time) or "emergency" (around the clock).
    profile: str = "outpatient"


@dataclass
class ChoiceModel:
    """Multinomial logit for the first contact (首诊) over reachable facilities, and the binary
    choice of an out-of-county hospital for a stay (:mod:`sim.county.routing`).

    Utility = beta_tier[tier] + travel + cost + beta_capable * [patient believes the site can
    manage] (+ the condition's ``outflow_bias`` x admission probability for tier 3), where a
    stay's part weighs travel once per stay and its cost with the inpatient coefficient.
    """

    beta_tier: list[float] = field(default_factory=lambda: [0.6, 0.0, 0.6, -0.4])
    #: per hour of one-way travel to an outpatient visit.
    beta_travel_per_hour: float = -2.5
    #: per hour of one-way travel to a hospital stay (a stay is one trip, not one per visit).
    beta_travel_per_hour_stay: float = -0.3
    #: per 100 CNY out of pocket for an outpatient visit.
    beta_cost_per_100: float = -0.17
    #: per 100 CNY out of pocket for a stay.
    beta_inpatient_cost_per_100: float = -0.02
    #: a stay away from home, out of county (family, carers, an unfamiliar hospital), before
    #: the condition's ``outflow_bias``.
    beta_stay_away: float = 0.0
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
    #: share of insured residents who live, work and get their care elsewhere (异地就医:
    #: migrant workers with a registered 备案): their episodes are care out of county, counted
    #: in the residents' denominators as the insurer counts them.
    elsewhere_share: float = 0.0


@dataclass
class Emergency:
    """The 120 network and emergency pathways (times in minutes)."""

    dispatch_minutes: float = 3.0
    on_scene_minutes: float = 15.0
    #: emergency-department work-up at a receiving hospital before a procedure.
    ed_minutes: float = 20.0
    cathlab_activation_minutes: float = 30.0
    #: minutes the cath lab is held for a PCI, from the patient on the table to the lab free.
    procedure_minutes: float = 60.0
    #: PCI: minutes from the patient on the cath-lab table to the wire crossing the culprit
    #: lesion (导丝通过, the "balloon" of the chest-pain centre standard's door-to-balloon),
    #: within ``procedure_minutes``. [ASSUMED]
    device_minutes: float = 20.0
    #: a STEMI patient whose transmitted ECG pre-activated the cath lab goes from the hospital
    #: door straight to the lab (绕行急诊), in these minutes. [ASSUMED]
    door_to_lab_minutes: float = 10.0
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
class RunningCosts:
    """Yearly running costs of the policy levers (CNY), priced after the run from the records and
    the lever configs (:func:`sim.analysis.kpis.kpis`, ``running_cost_per_year``), so that no
    lever is ever free.  Values with their sources in ``scenarios/care/*.yaml``."""

    #: remote reading (远程影像/心电诊断中心): one reader post's salary and overheads a year
    #: (``levers.remote.readers`` + ``night_readers`` posts at each reading centre) ...
    reader_per_year: float = 0.0
    #: ... the platform (licence, network, storage) per reading centre a year ...
    platform_per_centre_year: float = 0.0
    #: ... and a fee per study read (reported or failed).
    per_study_read: float = 0.0
    #: expert visits (专家下沉): a specialist's doctor-hour (hours away from the lead, travel
    #: included; on-site hours for external experts) ...
    expert_doctor_hour: float = 0.0
    #: ... and travel (car, driver, fares) per visit.
    expert_travel_per_visit: float = 0.0
    #: tele-ECG (远程心电): service and upkeep of the transmitting 12-lead device per sending site a
    #: year (its purchase is capital: ``levers.remote.capital.tele_ecg_device``) ...
    tele_ecg_device_per_year: float = 0.0
    #: ... and a fee per transmitted ECG.
    tele_ecg_per_transmission: float = 0.0
    #: 120 ambulances: one ambulance a year (vehicle, crew, station) ...
    ambulance_per_year: float = 0.0
    #: ... and the variable cost of one run (fuel, consumables).
    ambulance_per_run: float = 0.0
    #: posted doctors (派驻): the allowance per doctor posted down a year (on top of salary).
    posting_allowance_per_year: float = 0.0


@dataclass
class Prices:
    """Prices (CNY) by tier 0..3, reimbursement rules by tier, and the levers' running costs.

    Every list has four values, tiers 0 (village clinic), 1 (township), 2 (lead hospital) and
    3 (out of county).  The rules that turn a medical cost into out-of-pocket and insurer parts
    are in :mod:`sim.config.tariff`.  Values and sources in the YAML (``care.prices``).
    """

    #: per seen visit: registration, consultation, treatment and materials (not tests, drugs).
    consult: list[float] = field(default_factory=lambda: [7.0, 20.0, 58.0, 120.0])
    #: drugs per seen visit.
    drugs_per_visit: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])
    #: per bed-day: bed, nursing, treatment, inpatient tests (not drugs).
    bed_day: list[float] = field(default_factory=lambda: [0.0, 150.0, 450.0, 900.0])
    #: drugs per bed-day.
    drugs_per_bed_day: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])
    tests: dict[str, float] = field(default_factory=dict)
    ambulance_trip: float = 300.0
    travel_per_hour: float = 20.0
    #: share of an outpatient visit's medical cost the insurer pays (门诊统筹), by tier.
    reimburse_outpatient: list[float] = field(default_factory=lambda: [0.6, 0.5, 0.4, 0.3])
    #: share of an admission's cost above the deductible the insurer pays, by tier; tier 3 is
    #: the out-of-county rate WITH referral registration (转诊备案).
    reimburse_inpatient: list[float] = field(default_factory=lambda: [0.9, 0.8, 0.65, 0.5])
    #: the out-of-county inpatient rate WITHOUT referral registration (未备案: the patient went
    #: on their own); null = the referred rate ``reimburse_inpatient[3]``.
    reimburse_inpatient_unreferred: float | None = None
    #: deductible (起付线) per admission by tier: the insurer pays nothing below it.
    deductible: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])
    #: the most the insurer pays for one admission (封顶线; the scheme's cap is yearly, a
    #: per-admission cap is the simplification); null = no cap.
    cap_per_admission: float | None = None
    #: the levers' running costs (priced after the run).
    costs: RunningCosts = field(default_factory=RunningCosts)
    #: yearly discount rate that annualises capital (``capital_cost_per_year``: an annuity over
    #: each item's lifetime).  [ASSUMED] 5%, the rate China's pharmacoeconomic evaluation
    #: guidelines (中国药物经济学评价指南 2020) recommend for costs, with 0-8% for sensitivity.
    discount_rate: float = 0.05


@dataclass
class Profiles:
    """Relative arrival intensity by hour of day (24 values) and day of week (7, Monday first)."""

    outpatient_hourly: list[float] = field(default_factory=lambda: [1.0] * 24)
    emergency_hourly: list[float] = field(default_factory=lambda: [1.0] * 24)
    weekday: list[float] = field(default_factory=lambda: [1.0] * 7)


@dataclass
class CalibratedTarget:
    """One target of a calibration as the fit's check run met it (``care.calibration.targets``)."""

    name: str = ""
    #: the KPI (``metric[group]``) or derived measure the target compares with.
    kpi: str = ""
    observed: float = 0.0
    tolerance: float = 0.0
    #: 0 = reported only, not fitted.
    weight: float = 1.0
    #: mean of the check run's replications (null where the model could not compute it) ...
    simulated: float | None = None
    #: ... and its 95% confidence interval over replications.
    ci_low: float | None = None
    ci_high: float | None = None
    #: |simulated - observed| <= tolerance.
    met: bool = False
    source: str = ""


@dataclass
class CalibratedParameter:
    """One fitted parameter (``care.calibration.parameters``): its value and what the targets say of it."""

    name: str = ""
    path: str = ""
    value: float = 0.0
    #: "identified", "weakly identified (one side only)", "not identified", "at a bound ..."
    identifiability: str = ""


@dataclass
class CalibrationInfo:
    """Where a care file's numbers come from (校准): written by ``python -m calibration`` into the
    care files it generates, read by the brief (which says whether its county is calibrated,
    which targets are met, and which parameters the targets do not pin down).  A hand-written
    care file (``care=default``) is ``status: uncalibrated``."""

    #: "calibrated" (fitted to ``network``'s targets) or "uncalibrated".
    status: str = "uncalibrated"
    #: the network the fit ran on; a calibrated care file used on another network is reported
    #: as not calibrated for it.
    network: str = ""
    date: str = ""
    #: weighted squared error of the check run, in tolerance units.
    loss: float | None = None
    targets_file: str = ""
    #: one line each: how the fit ran, and the check run that measured the targets below.
    fit: str = ""
    check: str = ""
    targets: list[CalibratedTarget] = field(default_factory=list)
    parameters: list[CalibratedParameter] = field(default_factory=list)


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
    #: mean stay multiplier by tier 0..3 (township inpatients are milder cases of the same
    #: conditions, so their stays are shorter).
    los_factor_by_tier: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0, 1.0])
    #: provenance: calibrated to which county's targets, and how well (see CalibrationInfo).
    calibration: CalibrationInfo = field(default_factory=CalibrationInfo)


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
    #: one-off capital the restructuring needs (CNY; ``capital_cost``): ward space for every bed
    #: a site gains (a ``merge`` moving beds in, a ``scale`` of beds by more than 1), a refit
    #: or an extension.  [ASSUMED] ~150,000 a bed: ~50 m2 of building a township-centre bed
    #: (the 乡镇卫生院建设标准 order of size) at ~3,000 CNY/m2 built and fitted.
    capital_per_bed_added: float = 150000.0
    #: ... the fit-out of each village-level post a ``convert_to_post`` opens (consulting and
    #: treatment rooms, basic equipment).  [ASSUMED] ~200,000.
    capital_per_post: float = 200000.0
    #: ... and any other one-off the plan names (a new building, moving costs), CNY.
    capital_other: float = 0.0
    #: [SOURCE] buildings of reinforced concrete 50 years (LIFETIME_BUILDING_YEARS).
    capital_lifetime_years: float = LIFETIME_BUILDING_YEARS


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
    #: the study's title in the brief, in Chinese and in English (empty: ``name``).
    title_zh: str = ""
    title_en: str = ""
    #: ``description`` in Chinese, for the Chinese brief (empty: none shown there).
    description_zh: str = ""
    #: each scenario's name as a planner says it, in Chinese and in English (keys: scenario ids
    #: of ``scenarios``; a scenario without one is shown by its id).
    label_zh: dict[str, str] = field(default_factory=dict)
    label_en: dict[str, str] = field(default_factory=dict)


@dataclass
class ExecutorConfig:
    """Where replications run: a local process pool, or a Dask cluster."""

    #: "local" (process pool of run.jobs workers) or "dask".
    kind: str = "local"
    #: Dask scheduler address (tcp://host:8786); empty means $DASK_SCHEDULER_ADDRESS, else a
    #: local Dask cluster of run.jobs workers.
    address: str = ""


@dataclass
class ExpertCapital:
    """One-off (capital) cost of expert visits (CNY), annualised over ``lifetime_years`` at
    ``care.prices.discount_rate`` into ``capital_cost_per_year`` (:func:`sim.analysis.kpis.kpis`).

    The specialists' hours and the car trips are running costs (``care.prices.costs``); what
    needs buying once is the specialty equipment a visited centre lacks for the visiting
    specialist to work (an ENT treatment unit, a slit lamp, a dental chair unit), and any
    vehicle the lead dedicates to the rota.
    """

    #: equipment bought at each visited site per specialty visiting it (a site visited by two
    #: teams of one specialty buys once); a specialty not listed needs none (cardiology and
    #: ortho work with the centre's ECG and X-ray).  [ASSUMED] mid-range county-market prices
    #: of one unit: ENT treatment unit 耳鼻喉综合治疗台 ~60,000; slit lamp 裂隙灯 with
    #: ophthalmoscope ~50,000; dental chair unit 牙科综合治疗台 ~80,000; no tender price list
    #: was at hand.
    equipment_per_site: dict[str, float] = field(
        default_factory=lambda: {"ent": 60000.0, "eye": 50000.0, "dental": 80000.0})
    #: vehicles the lead buys for the rota (0: pool cars, priced per visit as running cost) ...
    vehicles: int = 0
    #: ... at this price each.  [ASSUMED] a 7-seat van for a county hospital, ~150,000.
    vehicle_price: float = 150000.0
    #: [SOURCE] instruments 5 years (LIFETIME_INSTRUMENT_YEARS); vehicles use 8.
    lifetime_years: float = LIFETIME_INSTRUMENT_YEARS


@dataclass
class RemoteCapital:
    """One-off (capital) cost of remote diagnosis (CNY), annualised over the lifetimes below at
    ``care.prices.discount_rate`` (:func:`sim.analysis.kpis.kpis`, ``capital_cost_per_year``).

    The readers' salaries, the platform's licence and the per-study fees are running costs
    (``care.prices.costs``).  Bought once: a reading workstation per reader seat, the reading
    centre's servers and storage (PACS/ECG system set-up), a link and upload terminal at each
    sending site, and with tele-ECG a transmitting 12-lead ECG at each sending site.
    """

    #: a diagnostic reading workstation (PC, two medical-grade grey-scale monitors, PACS and
    #: ECG clients), one per seat: ``max(readers, night_readers)`` seats per reading centre.
    #: [ASSUMED] ~80,000 (a pair of 3-megapixel diagnostic monitors is most of it).
    workstation_per_seat: float = 80000.0
    #: set-up of each reading centre (servers, storage, PACS/RIS integration, one-off licence).
    #: [ASSUMED] ~1,000,000 for a county-level regional imaging/ECG centre.
    centre_setup: float = 1000000.0
    #: each sending site's link and upload terminal (DICOM gateway, PC, network installation).
    #: [ASSUMED] ~30,000.
    sending_site_setup: float = 30000.0
    #: [SOURCE] computer equipment 6 years (LIFETIME_COMPUTER_YEARS).
    lifetime_years: float = LIFETIME_COMPUTER_YEARS
    #: tele-ECG: one transmitting 12-lead ECG per sending site.  [ASSUMED] ~30,000 (its yearly
    #: upkeep is ``care.prices.costs.tele_ecg_device_per_year``) ...
    tele_ecg_device: float = 30000.0
    #: ... over [SOURCE] instruments 5 years (LIFETIME_INSTRUMENT_YEARS).
    tele_ecg_lifetime_years: float = LIFETIME_INSTRUMENT_YEARS


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
    #: one-off cost: equipment at the visited sites, vehicles (see ExpertCapital).
    capital: ExpertCapital = field(default_factory=ExpertCapital)


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
    #: one-off cost: workstations, the reading centre, sending sites, tele-ECG devices.
    capital: RemoteCapital = field(default_factory=RemoteCapital)


@dataclass
class GreenChannelConfig:
    """Green channel (绿色通道) for up-referrals: a patient referred by a tier-0/1 member of a
    lead hospital's medical community is booked priority at that lead (a reserved share of its
    doctors and beds, and a place ahead of self-presenting patients of the same priority), and
    after the stay a down-referral goes back to the referring centre (回转).

    Seed 004 (青岛, /work/shared/seeds/004_6ec129a230fc9e0e.txt) reports the green channel only
    as a practice (a member's critically ill patient and two children with pneumonia
    "第一时间通过转诊'绿色通道'" to the hospital's ICU and paediatric wards); seed 000 (白城) and 002
    (柳州) name it too.  None gives a share, so the numbers are [ASSUMED].
    """

    enabled: bool = False
    #: lead hospitals (tier 2) that run one; empty = every lead.
    sites: list[str] = field(default_factory=list)
    #: share of each doctor pool at the lead held for green-channel patients: others may not
    #: take the last ceil(share x capacity) free doctors (at most capacity - 1, so one stays
    #: open to all).  [ASSUMED] one in ten: a specialist's day of ~30 appointments keeps ~3
    #: for referrals; no seed gives a share.
    reserved_doctor_share: float = 0.1
    #: the same for the lead's beds.  [ASSUMED] one bed in twenty: a ward keeps one or two
    #: beds for referred admissions; no seed gives a share.
    reserved_bed_share: float = 0.05
    #: green-channel patients queue ahead of self-presenting patients of the same priority
    #: (never ahead of a more urgent one).  [ASSUMED] on: seed 004's "第一时间" (at once).
    priority_boost: bool = True
    #: after the stay, a green-channel patient with a down-referral goes back to the tier-1
    #: centre that referred them (instead of the one near home).  [ASSUMED] on: the seeds'
    #: "双向转诊" and "康复回基层/回社区" (seed 000, 004).
    refer_back: bool = True


@dataclass
class LeversConfig:
    """Policy levers (issue 8): expert visits, remote diagnosis/consultation, green channel."""

    name: str = "none"
    expert: ExpertConfig = field(default_factory=ExpertConfig)
    remote: RemoteConfig = field(default_factory=RemoteConfig)
    green_channel: GreenChannelConfig = field(default_factory=GreenChannelConfig)


@dataclass
class PaymentConfig:
    """How the insurer pays the county medical community (``scenarios/payment/``).

    Under a global budget (医保基金总额付费 / 打包付费) the insurer pays the community a fixed
    budget per insured resident a year; the community keeps ``surplus_kept_share`` of what it
    does not spend (结余留用) and bears that share of an overrun (合理超支分担).  The two
    behavioural factors are read by the model (:mod:`sim.model`); 1 means no response.
    """

    name: str = "none"
    global_budget: bool = False
    #: the budget per resident a year (CNY), with a global budget.
    budget_per_capita_cny_per_year: float = 0.0
    #: share of the surplus (or of the overrun) the community keeps (or bears).
    surplus_kept_share: float = 0.0
    #: multiplies discharged inpatients' down-referral propensity (下转).
    down_referral_factor: float = 1.0
    #: multiplies the odds that a lead-hospital patient is admitted out of county (外转).
    outflow_factor: float = 1.0


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
    payment: PaymentConfig = field(default_factory=PaymentConfig)
