"""Semantic checks a type system cannot express (negative beds, a member naming a lead that
does not exist, ...): :func:`validate` raises :class:`~sim.config.errors.ConfigError`.
"""

from __future__ import annotations

import math

from sim.config.checks import _check, _dist, _finite_nonneg, _prob, _tier_list, check_name, check_numbers
from sim.config.errors import ConfigError, warn
from sim.config.levers import validate_levers
from sim.config.schema import FACILITY_KINDS, MODALITIES, SPECIALTIES, TIERS, Config, Dist, StudyConfig

__all__ = ["validate", "check_study_labels"]


def validate(cfg: Config) -> None:
    """Semantic checks that a type system cannot express.  Raises :class:`ConfigError`.

    The network's graph-level checks (every village reaches a tier-1 and a tier-2 site, ...)
    run when the graph is built, in :func:`sim.county.network.build_graph`.
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
        check_study_labels(st)
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
    _travel(n, nodes)

    c = cfg.care
    _check(len(c.conditions) > 0, "care.conditions", "the case mix has no conditions")
    for fid, f in n.facilities.items():
        for cid in f.manages:
            _check(cid in c.conditions, f"network.facilities.{fid}.manages",
                   f"names {cid!r}, which is not a condition of care.conditions")
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
        _check(math.isfinite(cond.outflow_bias), f"{key}.outflow_bias", f"must be finite, got {cond.outflow_bias!r}")
        _finite_nonneg(cond.patience_factor, f"{key}.patience_factor")
        _check(cond.patience_factor > 0, f"{key}.patience_factor", "must be > 0")
        _check(cond.pathway in ("outpatient", "stemi", "stroke", "trauma"), f"{key}.pathway",
               f"must be outpatient, stemi, stroke or trauma, got {cond.pathway!r}")
        _check(cond.profile in ("outpatient", "emergency"), f"{key}.profile",
               f"must be outpatient or emergency, got {cond.profile!r}")
    for m, v in c.test_minutes.items():
        _check(m in MODALITIES, f"care.test_minutes.{m}", f"unknown modality (known: {', '.join(MODALITIES)})")
        _finite_nonneg(v, f"care.test_minutes.{m}")
    ch = c.choice
    _tier_list(ch.beta_tier, "care.choice.beta_tier", nonneg=False)
    for k in ("beta_travel_per_hour", "beta_travel_per_hour_stay", "beta_cost_per_100",
              "beta_inpatient_cost_per_100", "beta_stay_away", "beta_capable", "perception_noise"):
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
    _prob(b.elsewhere_share, "care.behaviour.elsewhere_share")
    _check(b.elsewhere_share < 1, "care.behaviour.elsewhere_share", "must be < 1 (someone must live in the county)")
    _tier_list(c.los_factor_by_tier, "care.los_factor_by_tier")
    _check(all(v > 0 for v in c.los_factor_by_tier), "care.los_factor_by_tier", "must be > 0")
    for k in ("down_los_days", "max_block_hours", "max_up_wait_hours"):
        _finite_nonneg(getattr(b, k), f"care.behaviour.{k}")
    for k, v in vars(c.emergency).items():
        if isinstance(v, float):
            _finite_nonneg(v, f"care.emergency.{k}")
    for t in c.emergency.thrombolysis_tiers:
        _check(t in (1, 2), "care.emergency.thrombolysis_tiers", f"tiers are 1 or 2, got {t}")
    _check(c.emergency.device_minutes <= c.emergency.procedure_minutes, "care.emergency.device_minutes",
           f"the wire crosses within the procedure: must be <= care.emergency.procedure_minutes "
           f"({c.emergency.procedure_minutes:g}), got {c.emergency.device_minutes:g}")
    p = c.prices
    for k in ("consult", "drugs_per_visit", "bed_day", "drugs_per_bed_day", "deductible"):
        _tier_list(getattr(p, k), f"care.prices.{k}")
    for k in ("reimburse_outpatient", "reimburse_inpatient"):
        _tier_list(getattr(p, k), f"care.prices.{k}")
        for i, v in enumerate(getattr(p, k)):
            _prob(v, f"care.prices.{k}[{i}]")
    if p.reimburse_inpatient_unreferred is not None:
        _prob(p.reimburse_inpatient_unreferred, "care.prices.reimburse_inpatient_unreferred")
    if p.cap_per_admission is not None:
        _finite_nonneg(p.cap_per_admission, "care.prices.cap_per_admission")
    for k, v in vars(p.costs).items():
        _finite_nonneg(v, f"care.prices.costs.{k}")
    for m, v in p.tests.items():
        _check(m in MODALITIES, f"care.prices.tests.{m}", "unknown modality")
        _finite_nonneg(v, f"care.prices.tests.{m}")
    _finite_nonneg(p.ambulance_trip, "care.prices.ambulance_trip")
    _finite_nonneg(p.travel_per_hour, "care.prices.travel_per_hour")
    _calibration_info(c.calibration)
    pr = c.profiles
    for k, n_expected in (("outpatient_hourly", 24), ("emergency_hourly", 24), ("weekday", 7)):
        vals = getattr(pr, k)
        _check(len(vals) == n_expected, f"care.profiles.{k}", f"needs {n_expected} values, got {len(vals)}")
        for i, v in enumerate(vals):
            _finite_nonneg(v, f"care.profiles.{k}[{i}]")
        _check(sum(vals) > 0, f"care.profiles.{k}", "all values are zero")
    validate_levers(cfg)
    pay = cfg.payment
    check_name(pay.name, "payment.name")
    for k in ("budget_per_capita_cny_per_year", "down_referral_factor", "outflow_factor"):
        _finite_nonneg(getattr(pay, k), f"payment.{k}")
    _prob(pay.surplus_kept_share, "payment.surplus_kept_share")
    if pay.global_budget:
        _check(pay.budget_per_capita_cny_per_year > 0, "payment.budget_per_capita_cny_per_year",
               f"a global budget needs a budget > 0, got {pay.budget_per_capita_cny_per_year!r}")


#: where a network's minutes may come from (``network.travel.source``).
TRAVEL_SOURCES = ("roads", "matrix", "osm", "straight_line", "mixed")


def _travel(n, nodes: set[str]) -> None:
    """``network.travel`` and ``network.coordinates``: known sources, pairs of known places."""
    t = n.travel
    _check(t.source in TRAVEL_SOURCES, "network.travel.source",
           f"must be one of {', '.join(TRAVEL_SOURCES)}, got {t.source!r}")
    for a, row in t.minutes.items():
        _check(a in nodes, f"network.travel.minutes.{a}", "is not a village or facility")
        for b in row:
            _check(b in nodes, f"network.travel.minutes.{a}.{b}", "is not a village or facility")
            _check(a != b, f"network.travel.minutes.{a}.{b}", "a trip must join two different places")
    c = n.coordinates
    _check(c.datum in ("", "wgs84"), "network.coordinates.datum", f"must be wgs84 or empty, got {c.datum!r}")
    _check(c.input_datum in ("", "wgs84", "gcj02", "bd09"), "network.coordinates.input_datum",
           f"must be wgs84, gcj02, bd09 or empty, got {c.input_datum!r}")
    for group, places in (("villages", n.villages), ("facilities", n.facilities)):
        for pid, p in places.items():
            _check((p.lon is None) == (p.lat is None), f"network.{group}.{pid}",
                   "gives only one of lon and lat")


def check_study_labels(st: StudyConfig) -> None:
    """A study's ``label_zh`` / ``label_en`` name only its scenarios, each with a non-empty
    label; ``label_zh`` is written in Chinese (a brief's scenario names are read by planners)."""
    for lang in ("zh", "en"):
        labels = getattr(st, f"label_{lang}") or {}
        for key, text in labels.items():
            _check(key in st.scenarios, f"study.label_{lang}.{key}",
                   f"names a scenario the study does not have (scenarios: {', '.join(st.scenarios)})")
            _check(isinstance(text, str) and bool(text.strip()), f"study.label_{lang}.{key}",
                   "must be a non-empty label")
            if lang == "zh":
                _check(any("\u4e00" <= c <= "\u9fff" for c in text), f"study.label_zh.{key}",
                       f"must be written in Chinese, got {text!r}")


def _calibration_info(ci) -> None:
    """``care.calibration``: the provenance block a calibrated care file carries."""
    _check(ci.status in ("calibrated", "uncalibrated"), "care.calibration.status",
           f"must be calibrated or uncalibrated, got {ci.status!r}")
    if ci.status == "calibrated":
        _check(bool(ci.network), "care.calibration.network", "a calibrated care file names the network it was fitted on")
    if ci.loss is not None:
        _finite_nonneg(ci.loss, "care.calibration.loss")
    for i, t in enumerate(ci.targets):
        key = f"care.calibration.targets[{i}]"
        _check(bool(t.name), f"{key}.name", "must not be empty")
        _check(math.isfinite(t.observed), f"{key}.observed", f"must be finite, got {t.observed!r}")
        _check(math.isfinite(t.tolerance) and t.tolerance > 0, f"{key}.tolerance", f"must be > 0, got {t.tolerance!r}")
        _finite_nonneg(t.weight, f"{key}.weight")
        for k in ("simulated", "ci_low", "ci_high"):
            v = getattr(t, k)
            if v is not None:
                _check(math.isfinite(v), f"{key}.{k}", f"must be finite or null, got {v!r}")
    for i, q in enumerate(ci.parameters):
        _check(bool(q.name), f"care.calibration.parameters[{i}].name", "must not be empty")
        _check(math.isfinite(q.value), f"care.calibration.parameters[{i}].value", f"must be finite, got {q.value!r}")
