"""How the brief writes a number: a KPI level or a paired difference, with its interval, in
the KPI's unit (:mod:`sim.analysis.registry`) and in either language.

The statistics stay as :mod:`sim.analysis.kpis` computed them (``summary.csv``,
``differences.csv``: t-intervals over replications); this module only decides what is fit to
show:

- an interval needs at least :data:`MIN_REPLICATIONS` replications; from fewer the brief says
  "too few replications for an interval" and calls no difference significant;
- an interval of a level is cut at the bounds of the quantity (:func:`sim.analysis.registry.bounds`:
  a share stays in 0-100%, times, counts and costs stay at or above 0); a cut end is marked
  with :data:`CLIPPED_MARK`, since it means the t-interval itself ran past what is possible;
- a difference is written to the precision its interval supports (about two significant digits
  of the half-width, at most :data:`MAX_DIFF_DECIMALS` of the unit); one that rounds to zero
  and whose interval is empty reads "no difference", never ``Δ -0.000``;
- a difference is significant only when its interval, from enough replications, excludes zero;
- a level with no cases (a median door-to-balloon time without a PCI case, NaN in the tables)
  reads "no cases", never ``0.0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.analysis import registry

__all__ = ["row", "MIN_REPLICATIONS", "CLIPPED_MARK", "MAX_DIFF_DECIMALS", "TEXT", "text", "enough", "significant",
           "verdict", "clip_interval", "level", "level_interval", "diff_digits", "is_no_difference", "Diff",
           "difference"]

#: the fewest replications from which the brief shows a 95% interval (and calls a difference
#: significant): with 2 the t-interval is mean +- 12.7 standard errors, which says nothing.
MIN_REPLICATIONS = 3

#: written after an interval end that was cut at the bound of the quantity.
CLIPPED_MARK = "‡"

#: the most decimals a difference is written with, per unit (after display scaling: shares in
#: percentage points); yuan are written by :func:`sim.analysis.registry.format_value`'s rules.
MAX_DIFF_DECIMALS = {"share": 2, "minutes": 1, "hours": 1, "days": 1, "count": 1, "mean_count": 1,
                     "per_day": 1, "per_year": 1, "per_person_year": 2, "per_10k": 1}

TEXT = {
    "en": {"no_cases": "no cases", "not_applicable": "not applicable", "few": "too few replications for an interval", "no_difference": "no difference",
           "to": "to"},
    "zh": {"no_cases": "无病例", "not_applicable": "不适用", "few": "模拟次数太少,不给出区间", "no_difference": "无差异", "to": "至"},
}


#: per-table indexes of :func:`row`: id(table) -> (table, {(scenario, metric): position}); the
#: table is kept so that its id is not reused while the entry lives.
_ROWS: dict[int, tuple[object, dict[tuple[str, str], int]]] = {}


def row(table, scenario: str, metric: str):
    """The first row of a summary or differences table (one group) for ``scenario`` and
    ``metric``, or None: one dictionary lookup, where a boolean mask per cell made a brief's
    KPI table and first screen cost seconds (tens of thousands of masks)."""
    hit = _ROWS.get(id(table))
    if hit is None or hit[0] is not table:
        if len(_ROWS) > 16:
            _ROWS.clear()
        index: dict[tuple[str, str], int] = {}
        if len(table):
            for pos, key in enumerate(zip(table["scenario"].astype(str), table["metric"].astype(str))):
                index.setdefault(key, pos)
        hit = _ROWS[id(table)] = (table, index)
    i = hit[1].get((str(scenario), str(metric)))
    return None if i is None else table.iloc[i]


def text(key: str, language: str) -> str:
    """A fixed phrase of this module in ``language``."""
    return TEXT["zh" if language == "zh" else "en"][key]


def _missing(x: object) -> bool:
    try:
        return x is None or math.isnan(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def enough(n: object) -> bool:
    """Whether ``n`` replications are enough for an interval (:data:`MIN_REPLICATIONS`)."""
    return not _missing(n) and int(float(n)) >= MIN_REPLICATIONS  # type: ignore[arg-type]


def significant(low: object, high: object, n: object) -> bool:
    """The 95% interval, from enough replications, excludes zero.

    >>> significant(0.01, 0.05, 5), significant(-0.01, 0.05, 5), significant(0.01, 0.05, 2)
    (True, False, False)
    """
    if not enough(n) or _missing(low) or _missing(high):
        return False
    return float(low) > 0 or float(high) < 0  # type: ignore[arg-type]


def verdict(metric: str, mean: object, low: object, high: object, n: object) -> str:
    """``"better"`` / ``"worse"`` (significant, in the KPI's better direction or against it),
    ``"same"`` (significant but the KPI has no better direction), ``"none"`` (no detectable
    difference) or ``"unknown"`` (too few replications or no value)."""
    if _missing(mean) or not enough(n) or _missing(low) or _missing(high):
        return "unknown"
    if not significant(low, high, n):
        return "none"
    b = registry.better(metric)
    if not b:
        return "same"
    return "better" if float(mean) * b > 0 else "worse"  # type: ignore[arg-type]


def clip_interval(metric: str, low: float, high: float) -> tuple[float, float, bool, bool]:
    """``(low, high, low_cut, high_cut)``: the interval cut at the KPI's bounds.

    >>> clip_interval("inpatient_retention", 0.72, 1.018)
    (0.72, 1.0, False, True)
    """
    lo_b, hi_b = registry.bounds(metric)
    return max(low, lo_b), min(high, hi_b), low < lo_b, high > hi_b


def level(metric: str, mean: object, language: str = "en") -> str:
    """A KPI level in its unit, or "no cases" where the tables hold none (NaN; "not applicable"
    for a payment KPI without a global budget).

    >>> level("share_beyond_30_min", 0.092), level("door_to_balloon_median_min", float("nan"), "zh")
    ('9.2%', '无病例')
    """
    if _missing(mean):
        k = registry.REGISTRY.get(metric)
        return text("not_applicable" if k is not None and k.theme == "payment" else "no_cases", language)
    return registry.format_value(metric, float(mean), language)  # type: ignore[arg-type]


def level_interval(metric: str, low: object, high: object, n: object, language: str = "en") -> str:
    """The 95% interval of a level, cut at the KPI's bounds, or why there is none.

    >>> level_interval("stemi_within_120_share", -0.169, 0.454, 5)
    '0.0%‡ – 45.4%'
    >>> level_interval("stemi_within_120_share", 0.1, 0.2, 2)
    'too few replications for an interval'
    """
    if not enough(n):
        return text("few", language)
    if _missing(low) or _missing(high):
        return "–"
    lo, hi, lo_cut, hi_cut = clip_interval(metric, float(low), float(high))  # type: ignore[arg-type]
    a = registry.format_value(metric, lo, language) + (CLIPPED_MARK if lo_cut else "")
    b = registry.format_value(metric, hi, language) + (CLIPPED_MARK if hi_cut else "")
    return f"{a} – {b}"


def diff_digits(metric: str, mean: float, low: float | None = None, high: float | None = None) -> int:
    """Decimals of a difference: two significant digits of its interval's half-width (of the
    mean where there is no interval), between 0 and the unit's :data:`MAX_DIFF_DECIMALS`.

    >>> diff_digits("wait_mean_min", 0.011, -0.25, 0.27), diff_digits("inpatient_retention", 1e-17, 0.0, 0.0)
    (1, 2)
    """
    k = registry.REGISTRY.get(metric)
    cap = MAX_DIFF_DECIMALS.get(k.unit if k is not None else "", 2)
    half = (high - low) / 2 if low is not None and high is not None and not (_missing(low) or _missing(high)) else 0.0
    ref = half if half > 0 else abs(mean)
    if not ref or _missing(ref):
        return min(cap, 1)
    return max(0, min(cap, registry.decimals_for(metric, ref)))


def is_no_difference(metric: str, mean: object, low: object, high: object, digits: int) -> bool:
    """The difference rounds to zero and so does its whole interval (or it has none)."""
    if _missing(mean):
        return False
    s = registry.scale(metric)
    vals = [float(mean)] + [float(v) for v in (low, high) if not _missing(v)]  # type: ignore[arg-type]
    return all(round(v * s, digits) == 0 for v in vals)


@dataclass(frozen=True)
class Diff:
    """A paired difference as the brief writes it."""

    #: the difference (``"no difference"`` where it and its interval round to zero).
    value: str
    #: its 95% interval (``""`` for no difference; "too few replications" where so).
    interval: str
    #: :func:`verdict`: better / worse / same / none / unknown.
    verdict: str
    #: decimals used (of the display unit).
    digits: int
    #: the difference and its interval are zero at the unit's precision.
    zero: bool


def difference(metric: str, mean: object, low: object, high: object, n: object, language: str = "en") -> Diff:
    """A paired difference (scenario minus baseline) with its interval, to the precision its
    interval supports.

    >>> d = difference("wait_mean_min", -1e-17, -1e-17, 1e-17, 3)
    >>> d.value, d.verdict, d.zero
    ('no difference', 'none', True)
    >>> difference("inpatient_retention", 0.044, -0.021, 0.109, 3, "zh").value
    '+4.4个百分点'
    """
    if _missing(mean):
        return Diff("–", "", "unknown", 1, False)
    m = float(mean)  # type: ignore[arg-type]
    lo = None if _missing(low) else float(low)  # type: ignore[arg-type]
    hi = None if _missing(high) else float(high)  # type: ignore[arg-type]
    k = registry.REGISTRY.get(metric)
    cny = k is not None and k.unit in ("cny", "cny_per_year")
    d = diff_digits(metric, m, lo, hi)
    if cny:
        d = 0 if max(abs(m), abs(lo or 0.0), abs(hi or 0.0)) >= 100 else 1
    zero = is_no_difference(metric, m, lo if enough(n) else None, hi if enough(n) else None, d)
    v = verdict(metric, m, lo, hi, n)
    if zero:
        return Diff(text("no_difference", language), "", "none" if v != "unknown" else v, d, True)

    def f(x: float) -> str:
        return registry.format_value(metric, x, language, diff=True, sign=True, digits=d)

    if not enough(n):
        ci = text("few", language)
    elif lo is None or hi is None:
        ci = "–"
    else:
        ci = f"{f(lo)}{text('to', language)}{f(hi)}" if language == "zh" else f"{f(lo)} to {f(hi)}"
    return Diff(f(m), ci, v, d, False)
