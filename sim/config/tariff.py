"""The tariff: who pays what of a medical cost (out of pocket 个人自付, insurer 医保基金).

Pure functions of :class:`~sim.config.schema.Prices`, vectorised over numpy arrays (a scalar
works too).  They are the one place the reimbursement rules live: the pricing of the records
after a run (:func:`sim.analysis.kpis.price`) and the patients' expected out-of-pocket in the
choice model (:func:`sim.county.routing.expected_out_of_pocket`) both use them.

The rules
---------
- Outpatient (门诊统筹): the insurer pays ``reimburse_outpatient[tier]`` of the visit's medical
  cost (no deductible: a simplification).
- Inpatient: the insurer pays ``rate x (medical - deductible[tier])`` when the cost is above the
  deductible (起付线), else nothing, and at most ``cap_per_admission`` (封顶线; the scheme's
  cap is yearly, one per admission is the simplification).  ``rate`` is
  ``reimburse_inpatient[tier]``; out of county (tier 3) it is that rate only for a referred
  stay (转诊备案), and ``reimburse_inpatient_unreferred`` for a patient who went on their own
  (未备案).
- The patient pays the rest: ``oop = medical - insurer``.

>>> from sim.config.schema import Prices
>>> p = Prices(reimburse_inpatient=[0.9, 0.85, 0.75, 0.6], deductible=[0, 200, 500, 1000],
...            reimburse_inpatient_unreferred=0.45)
>>> float(inpatient_insurer(p, 8800.0, 2))       # 0.75 x (8,800 - 500)
6225.0
>>> [float(x) for x in inpatient_insurer(p, np.array([15000.0, 15000.0]), 3, referred=np.array([True, False]))]
[8400.0, 6300.0]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sim.config.schema import Prices

__all__ = ["UNREFERRED_MODES", "is_referred", "inpatient_rate", "inpatient_insurer", "outpatient_insurer",
           "split", "visit_cost", "stay_cost"]

ArrayLike = npt.ArrayLike
#: how a patient came to the out-of-county node that means they went on their own (未备案):
#: their own decision, or after giving up on a queue in the county.  Every other mode (a
#: referral, a 120 transfer, ``elsewhere``: residents living and registered elsewhere, 异地就医
#: 备案) is a referred (registered) stay.
UNREFERRED_MODES = ("self", "after_renege")


def is_referred(mode: ArrayLike) -> np.ndarray:
    """Whether out-of-county care came with a referral registration, from the visit's ``mode``.

    >>> is_referred(np.array(["self", "referral", "ambulance", "after_renege", "elsewhere"])).tolist()
    [False, True, True, False, True]
    """
    return ~np.isin(np.asarray(mode).astype(str), UNREFERRED_MODES)


def inpatient_rate(prices: Prices, tier: ArrayLike, referred: ArrayLike = True) -> np.ndarray:
    """The inpatient reimbursement rate by tier; out of county, the unreferred rate where
    ``referred`` is false.

    >>> p = Prices(reimburse_inpatient=[0.9, 0.85, 0.75, 0.6], reimburse_inpatient_unreferred=0.45)
    >>> inpatient_rate(p, np.array([1, 2, 3, 3]), np.array([False, False, True, False])).tolist()
    [0.85, 0.75, 0.6, 0.45]
    """
    t = np.asarray(tier, dtype=np.int64)
    rate = np.asarray(prices.reimburse_inpatient, dtype=float)[t]
    unref = prices.reimburse_inpatient[3] if prices.reimburse_inpatient_unreferred is None \
        else prices.reimburse_inpatient_unreferred
    return np.where((t == 3) & ~np.asarray(referred, dtype=bool), unref, rate)


def inpatient_insurer(prices: Prices, medical: ArrayLike, tier: ArrayLike, referred: ArrayLike = True) -> np.ndarray:
    """The insurer's part of admissions costing ``medical`` at ``tier``: the rate on the cost
    above the deductible, at most the cap.

    >>> p = Prices(reimburse_inpatient=[0.9, 0.8, 0.7, 0.5], deductible=[0, 300, 600, 1000], cap_per_admission=5000)
    >>> inpatient_insurer(p, np.array([200.0, 1300.0, 20000.0]), np.array([1, 1, 2])).tolist()
    [0.0, 800.0, 5000.0]
    """
    m = np.asarray(medical, dtype=float)
    t = np.asarray(tier, dtype=np.int64)
    ded = np.asarray(prices.deductible, dtype=float)[t]
    ins = inpatient_rate(prices, t, referred) * np.maximum(m - ded, 0.0)
    if prices.cap_per_admission is not None:
        ins = np.minimum(ins, prices.cap_per_admission)
    return ins


def outpatient_insurer(prices: Prices, medical: ArrayLike, tier: ArrayLike) -> np.ndarray:
    """The insurer's part of visits costing ``medical`` at ``tier``.

    >>> outpatient_insurer(Prices(reimburse_outpatient=[0.6, 0.5, 0.4, 0.3]), np.array([10.0, 100.0]),
    ...                    np.array([0, 3])).tolist()
    [6.0, 30.0]
    """
    return np.asarray(medical, dtype=float) * np.asarray(prices.reimburse_outpatient, dtype=float)[
        np.asarray(tier, dtype=np.int64)]


def split(prices: Prices, medical: ArrayLike, tier: ArrayLike, inpatient: ArrayLike,
          referred: ArrayLike = True) -> tuple[np.ndarray, np.ndarray]:
    """``(oop, insurer)`` of medical costs: inpatient rows (deductible, rate, cap) or outpatient.

    >>> p = Prices(reimburse_outpatient=[0.6, 0.5, 0.4, 0.3], reimburse_inpatient=[0.9, 0.8, 0.7, 0.5])
    >>> oop, ins = split(p, np.array([100.0, 1000.0]), np.array([2, 2]), np.array([False, True]))
    >>> oop.tolist(), ins.tolist()
    ([60.0, 300.0], [40.0, 700.0])
    """
    m = np.asarray(medical, dtype=float)
    inp = np.asarray(inpatient, dtype=bool)
    if inp.ndim == 0:  # all rows of one kind: only that kind's part is computed (memory, issue #18)
        part = inpatient_insurer(prices, m, tier, referred) if inp else outpatient_insurer(prices, m, tier)
        ins = np.asarray(part, dtype=float)
        shape = np.broadcast_shapes(m.shape, ins.shape)
        if ins.shape != shape:
            ins = np.broadcast_to(ins, shape).copy()
    else:
        ins = np.where(inp, inpatient_insurer(prices, m, tier, referred), outpatient_insurer(prices, m, tier))
    return m - ins, ins


def visit_cost(prices: Prices, tier: ArrayLike, seen: ArrayLike = True) -> np.ndarray:
    """Medical cost of seen visits before tests and ambulance: consult and drugs by tier.

    >>> visit_cost(Prices(consult=[5, 40, 150, 220], drugs_per_visit=[15, 45, 110, 150]), np.array([0, 2])).tolist()
    [20.0, 260.0]
    """
    t = np.asarray(tier, dtype=np.int64)
    per = np.asarray(prices.consult, dtype=float) + np.asarray(prices.drugs_per_visit, dtype=float)
    return per[t] * np.asarray(seen, dtype=bool)


def stay_cost(prices: Prices, tier: ArrayLike, bed_days: ArrayLike) -> np.ndarray:
    """Medical cost of stays: bed-days x (bed-day incl. nursing and treatment + drugs) by tier.

    >>> stay_cost(Prices(bed_day=[0, 260, 700, 1100], drugs_per_bed_day=[0, 120, 300, 450]), 2, 8.8).round(1).tolist()
    8800.0
    """
    t = np.asarray(tier, dtype=np.int64)
    per = np.asarray(prices.bed_day, dtype=float) + np.asarray(prices.drugs_per_bed_day, dtype=float)
    return per[t] * np.asarray(bed_days, dtype=float)
