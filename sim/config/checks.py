"""Number and name checks declared once for every schema field: the right kind, finite, within
the field's range (:data:`BOUNDS`), and the small helpers the semantic checks share.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, cast

from sim.config.errors import ConfigError
from sim.config.schema import DISTRIBUTIONS, Dist

__all__ = ["BOUNDS", "NAME_MAX", "check_name", "check_numbers"]


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
    ("Village", "lon"): (-180, 180, "degrees of longitude"),
    ("Village", "lat"): (-90, 90, "degrees of latitude"),
    ("Facility", "lon"): (-180, 180, "degrees of longitude"),
    ("Facility", "lat"): (-90, 90, "degrees of latitude"),
    ("Travel", "minutes"): (0, 7 * 24 * 60, "a trip of more than a week"),
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
    ("Prices", "consult"): (0, 1e7, "CNY a visit"),
    ("Prices", "drugs_per_visit"): (0, 1e7, "CNY a visit"),
    ("Prices", "bed_day"): (0, 1e7, "CNY a bed-day"),
    ("Prices", "drugs_per_bed_day"): (0, 1e7, "CNY a bed-day"),
    ("Prices", "reimburse_outpatient"): (0, 1, "a probability: the share of the cost reimbursed"),
    ("Prices", "reimburse_inpatient"): (0, 1, "a probability: the share of the cost reimbursed"),
    ("Prices", "reimburse_inpatient_unreferred"): (0, 1, "a probability: the share of the cost reimbursed"),
    ("Prices", "deductible"): (0, 1e8, "CNY an admission"),
    ("Prices", "cap_per_admission"): (0, 1e10, "CNY an admission"),
    ("RunningCosts", "reader_per_year"): (0, 1e9, "CNY a year"),
    ("RunningCosts", "platform_per_centre_year"): (0, 1e10, "CNY a year"),
    ("RunningCosts", "per_study_read"): (0, 1e7, "CNY a study"),
    ("RunningCosts", "expert_doctor_hour"): (0, 1e7, "CNY a doctor-hour"),
    ("RunningCosts", "expert_travel_per_visit"): (0, 1e8, "CNY a visit"),
    ("RunningCosts", "tele_ecg_device_per_year"): (0, 1e9, "CNY a year"),
    ("RunningCosts", "tele_ecg_per_transmission"): (0, 1e7, "CNY an ECG"),
    ("RunningCosts", "ambulance_per_year"): (0, 1e9, "CNY a year"),
    ("RunningCosts", "ambulance_per_run"): (0, 1e8, "CNY a run"),
    ("RunningCosts", "posting_allowance_per_year"): (0, 1e9, "CNY a year"),
    ("Prices", "discount_rate"): (0, 1, "a yearly discount rate (0.05 = 5%)"),
    ("ExpertCapital", "equipment_per_site"): (0, 1e9, "CNY of equipment a site"),
    ("ExpertCapital", "vehicles"): (0, 10_000, "vehicles"),
    ("ExpertCapital", "vehicle_price"): (0, 1e8, "CNY a vehicle"),
    ("ExpertCapital", "lifetime_years"): (0.5, 100, "years of use"),
    ("RemoteCapital", "workstation_per_seat"): (0, 1e8, "CNY a workstation"),
    ("RemoteCapital", "centre_setup"): (0, 1e10, "CNY a reading centre"),
    ("RemoteCapital", "sending_site_setup"): (0, 1e9, "CNY a sending site"),
    ("RemoteCapital", "lifetime_years"): (0.5, 100, "years of use"),
    ("RemoteCapital", "tele_ecg_device"): (0, 1e8, "CNY a device"),
    ("RemoteCapital", "tele_ecg_lifetime_years"): (0.5, 100, "years of use"),
    ("RestructureConfig", "capital_per_bed_added"): (0, 1e9, "CNY a bed"),
    ("RestructureConfig", "capital_per_post"): (0, 1e9, "CNY a post"),
    ("RestructureConfig", "capital_other"): (0, 1e12, "CNY"),
    ("RestructureConfig", "capital_lifetime_years"): (0.5, 200, "years of use"),
    ("PaymentConfig", "budget_per_capita_cny_per_year"): (0, 1e7, "CNY per resident a year"),
    ("PaymentConfig", "surplus_kept_share"): (0, 1, "a share of the surplus"),
    ("PaymentConfig", "down_referral_factor"): (0, 1e6, "a multiplier of the down-referral propensity"),
    ("PaymentConfig", "outflow_factor"): (0, 1e6, "a multiplier of the odds of admission out of county"),
    ("GreenChannelConfig", "reserved_doctor_share"): (0, 1, "a share of the lead's doctors"),
    ("GreenChannelConfig", "reserved_bed_share"): (0, 1, "a share of the lead's beds"),
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


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); any other hint -> (hint, False)."""
    import types
    import typing

    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if args:
            return args[0], True
    return hint, False


def _type_hints(cls: type) -> dict[str, Any]:
    import typing

    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


_HINTS: dict[type, dict[str, Any]] = {}


def _check_value(value: Any, hint: Any, key: str, bound: tuple[float, float, str] | None) -> None:
    """``value`` against its declared type ``hint``: the right kind, finite, within ``bound``."""
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

    >>> from sim.config.schema import Village
    >>> check_numbers(Village(population=10**20), "network.villages.v1")
    Traceback (most recent call last):
    ...
    sim.config.ConfigError: network.villages.v1.population: must be <= 10,000,000 (more people than any village or subdistrict), got 1e+20
    """

    cls = type(obj)
    hints = _type_hints(cls)
    for f in dataclasses.fields(obj):
        key = f"{path}.{f.name}" if path else f.name
        _check_value(getattr(obj, f.name), hints[f.name], key, BOUNDS.get((cls.__name__, f.name)))
