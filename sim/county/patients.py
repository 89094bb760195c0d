"""The condition catalogue and the patients of one replication, drawn at arrival.

Arrivals are non-homogeneous Poisson per village and condition: the hourly rate is
``population / 1000 * incidence / 8760`` times the normalised hour-of-day profile
(outpatient day-time or emergency around the clock) and the day-of-week profile.  They are
drawn week by week from one named stream per village (``arrivals/<village>``), and every
random attribute of a patient is drawn at once from ``attributes/<village>``, so that
re-routing one patient never changes another's draws and scenarios that do not change
demand see exactly the same patients (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import sim.numerics as numerics
from sim.config import CareConfig, Condition, Dist
from sim.county.calendar import DAY
from sim.rng import stream

__all__ = ["Catalogue", "Arrivals", "ATTRS", "dist_multipliers", "mean_of"]

#: Columns of a patient's attribute row (all drawn at arrival).  The first eleven come from
#: ``attributes/<village>``; the lever columns after them (``tolerance_mult``: exponential
#: multiplier of the days a patient will wait for an expert visit; ``u_skill``, ``u_mdt``,
#: ``u_spread``: uniforms) come from their own stream ``lever_attributes/<village>`` and are
#: drawn only when a lever is on, so switching levers on never changes the other columns.
ATTRS = ("u_choice", "consult_mult", "u_admit", "los_mult", "patience_mult", "u_renege",
         "u_down", "u_ambulance", "u_perception", "u_result", "u_out",
         "tolerance_mult", "u_skill", "u_mdt", "u_spread")
#: A patient travels through :mod:`sim.model.flow` as a plain list in ``ATTRS`` order (built by
#: one ``ndarray.tolist()`` per weekly batch).  A slotted object per patient was measured (300k
#: patients, 14 attributes): building it costs ~4-5 us more per patient than the list, about a
#: third of a whole journey's cost, while its reads save under 0.1 us.
#: This module owns the positions: the names below are the only way the flow and the levers
#: read them, derived from ``ATTRS`` so they cannot drift from it.
A_CHOICE, A_CONSULT, A_ADMIT, A_LOS, A_PATIENCE, A_RENEGE, A_DOWN, A_AMB, A_PERC, A_RESULT, A_OUT = (
    ATTRS.index(n) for n in ("u_choice", "consult_mult", "u_admit", "los_mult", "patience_mult", "u_renege",
                             "u_down", "u_ambulance", "u_perception", "u_result", "u_out"))
A_TOLERANCE, A_SKILL, A_MDT, A_SPREAD = (ATTRS.index(n) for n in ("tolerance_mult", "u_skill", "u_mdt", "u_spread"))
N_BASE_ATTRS = ATTRS.index("tolerance_mult")  # the attributes every patient has

WEEK_HOURS = 168


def dist_multipliers(dist: str, cv: float, u: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Multipliers with mean 1 and the given coefficient of variation.

    ``u`` are uniforms and ``z`` standard normals of the same shape (both always drawn, so the
    stream does not depend on the distribution chosen).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> m = dist_multipliers("lognormal", 0.5, rng.random(200000), rng.standard_normal(200000))
    >>> round(float(m.mean()), 2), round(float(m.std() / m.mean()), 1)
    (1.0, 0.5)
    """
    if dist == "fixed":
        return np.ones_like(u)
    if dist == "exponential":
        return -numerics.log1p(-u)
    if dist == "lognormal":
        s2 = math.log1p(cv * cv)
        return numerics.exp(math.sqrt(s2) * z - s2 / 2.0)
    if dist == "gamma":
        from scipy.special import gammaincinv

        k = 1.0 / (cv * cv)
        return gammaincinv(k, u) / k
    raise ValueError(f"unknown distribution {dist!r}")


def mean_of(d: Dist) -> float:
    return float(d.mean)


@dataclass
class Catalogue:
    """Compiled case mix: arrays indexed by condition number, in config order."""

    ids: list[str]
    conditions: list[Condition]
    hourly_weights: np.ndarray  # (C, 168): rate multiplier per hour of the week, mean 1

    @classmethod
    def from_config(cls, care: CareConfig) -> Catalogue:
        ids = list(care.conditions)
        conds = [care.conditions[i] for i in ids]
        out_h = np.asarray(care.profiles.outpatient_hourly, dtype=float)
        em_h = np.asarray(care.profiles.emergency_hourly, dtype=float)
        wk = np.asarray(care.profiles.weekday, dtype=float)
        out_h = out_h / out_h.mean()
        em_h = em_h / em_h.mean()
        wk = wk / wk.mean()
        w = np.empty((len(ids), WEEK_HOURS))
        for c, cond in enumerate(conds):
            hourly = em_h if cond.profile == "emergency" else out_h
            weekly = wk if cond.profile == "outpatient" else np.ones(7)
            w[c] = (weekly[:, None] * hourly[None, :]).ravel()
        return cls(ids=ids, conditions=conds, hourly_weights=w)

    @property
    def n(self) -> int:
        return len(self.ids)


class Arrivals:
    """Week-by-week arrival batches for the whole county, merged and sorted by time.

    Each batch is ``(times, village, condition, attributes)`` with ``attributes`` an
    ``(n, len(ATTRS))`` float array.  Patient numbers follow the sorted order.
    """

    def __init__(self, catalogue: Catalogue, population: np.ndarray, village_ids: list[str],
                 seed: int, replication: int, horizon: float, lever_attributes: bool = False):
        self.cat = catalogue
        self.horizon = horizon
        incid = np.array([c.incidence_per_1000 for c in catalogue.conditions])
        # hourly rate per village and condition of the week: (V, C, 168)
        base = population[:, None] / 1000.0 * incid[None, :] / 8760.0
        self.rates = base[:, :, None] * catalogue.hourly_weights[None, :, :]
        self.arr_rng = [stream(seed, replication, f"arrivals/{v}") for v in village_ids]
        self.att_rng = [stream(seed, replication, f"attributes/{v}") for v in village_ids]
        self.lever_rng = ([stream(seed, replication, f"lever_attributes/{v}") for v in village_ids]
                          if lever_attributes else None)
        conds = catalogue.conditions
        self._consult = [(c.consult_dist, c.consult_cv) for c in conds]
        self._los = [(c.los_days.dist, c.los_days.cv) for c in conds]

    def batches(self):
        """Yield one sorted batch per week until the horizon.

        Each village's streams draw its week (counts, times, then its patients' uniforms and
        normals); the draws are turned into attributes once for the whole week (per condition,
        over every village at once: the same values, a few numpy calls a week instead of a few
        per village and week, which were a tenth of a county run; issue #18)."""
        n_weeks = int(np.ceil(self.horizon / (7 * DAY)))
        V, C, H = self.rates.shape
        for w in range(n_weeks):
            t0 = w * 7 * DAY
            ts, vs, cs, us, zs, ls = [], [], [], [], [], []
            for v in range(V):
                counts = self.arr_rng[v].poisson(self.rates[v])  # per hour bin (C, 168)
                total = int(counts.sum())
                if total == 0:
                    continue
                flat = np.repeat(np.arange(C * H), counts.ravel())
                cond = flat // H
                hour = flat % H
                t = t0 + hour * 60.0 + self.arr_rng[v].random(total) * 60.0
                keep = t < self.horizon
                ts.append(t[keep])
                cs.append(cond[keep])
                vs.append(np.full(int(keep.sum()), v, dtype=np.int64))
                u, z = self._draws(self.att_rng[v], total)
                us.append(u[keep])
                zs.append(z[keep])
                if self.lever_rng is not None:
                    ls.append(self.lever_rng[v].random((total, len(ATTRS) - N_BASE_ATTRS))[keep])
            if not ts:
                continue
            t = np.concatenate(ts)
            vil = np.concatenate(vs)
            c = np.concatenate(cs)
            a = self._transform(np.concatenate(us), np.concatenate(zs), c)
            if ls:
                a = np.concatenate([a, self._lever_transform(np.concatenate(ls))], axis=1)
            order = np.lexsort((c, vil, t))
            out = t[order], vil[order], c[order], a[order]
            del t, vil, c, a, ts, vs, cs, us, zs, ls, order  # not held while the week is simulated
            yield out
            del out

    @staticmethod
    def _lever_attributes(rng: np.random.Generator, n: int) -> np.ndarray:
        return Arrivals._lever_transform(rng.random((n, len(ATTRS) - N_BASE_ATTRS)))

    @staticmethod
    def _lever_transform(u: np.ndarray) -> np.ndarray:
        """The lever attributes from their uniforms (in place)."""
        u[:, 0] = -numerics.log1p(-u[:, 0])  # tolerance multiplier, exponential with mean 1
        return u

    @staticmethod
    def _draws(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The random numbers of ``n`` patients' attributes, in the stream's order."""
        return rng.random((n, N_BASE_ATTRS)), rng.standard_normal((n, 2))

    def _attributes(self, rng: np.random.Generator, cond: np.ndarray) -> np.ndarray:
        return self._transform(*self._draws(rng, cond.shape[0]), cond)

    def _transform(self, u: np.ndarray, z: np.ndarray, cond: np.ndarray) -> np.ndarray:
        """Patients' attributes from their uniforms ``u`` and normals ``z`` (elementwise, per
        condition ``cond``: the values do not depend on how patients are batched)."""
        out = u.copy()
        out[:, A_PATIENCE] = -numerics.log1p(-u[:, A_PATIENCE])
        for c in np.unique(cond):
            sel = cond == c
            d, cv = self._consult[c]
            out[sel, A_CONSULT] = dist_multipliers(d, cv, u[sel, A_CONSULT], z[sel, 0])
            d, cv = self._los[c]
            out[sel, A_LOS] = dist_multipliers(d, cv, u[sel, A_LOS], z[sel, 1])
        return out
