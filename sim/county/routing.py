"""Where a patient goes next: first-contact choice and referral targets.  Pure: no SimPy.

Site indices: ``0 .. F-1`` are the county's facilities (``County.facility_ids``), and
``F + v`` is village ``v``'s own clinic (村卫生室), present when it has village doctors.

First contact (首诊) is a multinomial logit over the options a village considers: its own
clinic, its ``tier1_options`` nearest township/community centres, every lead hospital and
(optionally) the out-of-county tertiary node.  The systematic utility of option *j* is

    beta_tier[tier_j] + b_travel * hours_j + beta_cost_per_100 * visit_oop_j / 100
    + beta_inpatient_cost_per_100 * p * stay_oop_j / 100
    + beta_capable * [tier_j >= perceived lowest tier that can manage the condition]
    + p * (beta_stay_away + outflow_bias) * [tier_j == 3]

with ``p`` the condition's admission probability and ``b_travel`` the mix of the visit's and
the stay's travel coefficients (:func:`utilities`), so bypassing (going straight to the county hospital) emerges from travel, cost and perceived
capability, and responds to closures and levers.  A patient's choice is the inverse CDF of
these probabilities at the patient's own uniform ``u_choice`` (drawn at arrival): when the
options change, each patient moves only as much as the probabilities do.

A lead hospital about to admit a patient loses the stay to the city/provincial hospital with
the probability of a binary logit over the same terms (:func:`out_of_county_probability`):
out-of-county care is mostly inpatient care for serious conditions, and the condition's
``outflow_bias`` says how much residents trust the county with it.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

import sim.numerics as numerics
from sim.config import CareConfig
from sim.config.tariff import inpatient_insurer, outpatient_insurer, stay_cost, visit_cost
from sim.county.network import County
from sim.county.patients import Catalogue

__all__ = ["ChoiceTable", "expected_out_of_pocket", "expected_costs", "out_of_county_probability", "utilities", "logit", "SiteInfo",
           "doctor_kind", "can_manage", "referral_target", "emergency_capable"]


@dataclass(frozen=True)
class SiteInfo:
    """The static facts about a site that routing needs."""

    tier: int
    doctors: frozenset[str]          # kinds with day doctors > 0
    acquire: frozenset[str]
    read: frozenset[str]
    beds: int
    #: conditions it manages below their ``min_tier`` (``Facility.manages``)
    manages: frozenset[str] = frozenset()


def logit(u: np.ndarray) -> np.ndarray:
    """Multinomial-logit probabilities from utilities (numerically stable).

    >>> [round(float(x), 3) for x in logit(np.array([0.0, 0.0, math.log(2)]))]
    [0.25, 0.25, 0.5]
    """
    e = numerics.exp(u - u.max())
    return e / e.sum()


def expected_costs(care: CareConfig, cond_index: int, cat: Catalogue, tier: int, travel_min: float,
                   referred: bool | None = None) -> tuple[float, float]:
    """What a patient expects to pay out of pocket at a site of ``tier``: ``(visit, stay)``.

    ``visit``: consult, drugs and the condition's tests as an outpatient, and the return
    travel; ``stay``: one stay of the condition's mean length at that tier
    (``los_factor_by_tier``), with the tier's deductible, rate and cap (:mod:`sim.config.tariff`),
    before its probability ``admit_prob``.  Out of county (tier 3) the stay is reimbursed at the
    referred rate when ``referred`` (转诊备案), else at the unreferred one (未备案: a patient who
    goes on their own, the default for the first-contact choice).
    """
    cond = cat.conditions[cond_index]
    p = care.prices
    outpatient = float(visit_cost(p, tier)) + sum(p.tests.get(m, 0.0) for m in cond.diagnostics)
    visit = outpatient - float(outpatient_insurer(p, outpatient, tier))
    visit += 2 * travel_min / 60.0 * p.travel_per_hour
    medical = float(stay_cost(p, tier, cond.los_days.mean * care.los_factor_by_tier[tier]))
    ref = (tier != 3) if referred is None else referred
    stay = medical - float(inpatient_insurer(p, medical, tier, referred=ref))
    return visit, stay


def expected_out_of_pocket(care: CareConfig, cond_index: int, cat: Catalogue, tier: int, travel_min: float) -> float:
    """What a patient expects to pay at a site of ``tier`` (first contact: the out-of-county
    stay unreferred): the visit, the likely stay (``admit_prob`` x one stay), return travel."""
    visit, stay = expected_costs(care, cond_index, cat, tier, travel_min)
    return visit + cat.conditions[cond_index].admit_prob * stay


def utilities(care: CareConfig, cat: Catalogue, c: int, tiers: list[int], travel: list[float],
              perceived_min_tier: int, costs: dict[int, tuple[float, float]] | None = None,
              capable: list[float] | None = None) -> np.ndarray:
    """First-contact utilities of the options (tiers and one-way travel minutes).

    An episode is an outpatient visit that leads to a stay with probability ``admit_prob``
    (``p``), so its utility is the expectation over the two: travel weighs
    ``(1 - p) x beta_travel_per_hour + p x beta_travel_per_hour_stay`` per hour (a stay is one
    trip, not one per visit), the visit's cost the outpatient coefficient and the stay's the
    inpatient one, and the tier-3 option gains ``p x (beta_stay_away + outflow_bias)`` (a
    stay away from home, and the city hospital's reputation for this condition).  ``costs``
    (tier -> :func:`expected_costs` at no travel) saves recomputing the tariff per option; the
    travel's cost is added here either way.  ``capable`` (per option, in [0, 1]) raises an
    option's perceived capability (a lever: a visited centre looks capable on visit days).
    """
    ch = care.choice
    cond = cat.conditions[c]
    pa = cond.admit_prob
    b_travel = (1 - pa) * ch.beta_travel_per_hour + pa * ch.beta_travel_per_hour_stay
    u = np.empty(len(tiers))
    per_hour = care.prices.travel_per_hour
    for j, (t, m) in enumerate(zip(tiers, travel)):
        if costs is None:
            visit, stay = expected_costs(care, c, cat, t, m)
        else:
            visit, stay = costs[t]
            visit += 2 * m / 60.0 * per_hour
        u[j] = (ch.beta_tier[t] + b_travel * m / 60.0
                + ch.beta_cost_per_100 * visit / 100.0 + ch.beta_inpatient_cost_per_100 * pa * stay / 100.0
                + ch.beta_capable * max(1.0 if t >= perceived_min_tier else 0.0,
                                        capable[j] if capable is not None else 0.0)
                + (pa * (ch.beta_stay_away + cond.outflow_bias) if t == 3 else 0.0))
    return u


def out_of_county_probability(care: CareConfig, cat: Catalogue, c: int, tier: int, travel_here_min: float,
                              travel_out_min: float, odds_factor: float = 1.0) -> float:
    """Probability that a patient whom a site of ``tier`` would admit goes to the out-of-county
    hospital for the stay instead (binary logit: tier preference, the condition's
    ``outflow_bias``, one trip's travel and one stay's cost, the out-of-county stay with the
    referral's reimbursement, a stay away from home), its odds times ``odds_factor`` (a
    payment lever's response).

    >>> from sim.config import CareConfig, Condition
    >>> care = CareConfig(conditions={"x": Condition(admit_prob=1.0, outflow_bias=0.0)})
    >>> cat = Catalogue.from_config(care)
    >>> p0 = out_of_county_probability(care, cat, 0, 2, 0.0, 120.0)
    >>> p1 = out_of_county_probability(care, cat, 0, 2, 0.0, 120.0, odds_factor=0.5)
    >>> 0 < p1 < p0 < 1
    True
    """
    ch = care.choice
    _, stay_here = expected_costs(care, c, cat, tier, travel_here_min)
    _, stay_out = expected_costs(care, c, cat, 3, travel_out_min, referred=True)
    d = (ch.beta_tier[3] - ch.beta_tier[tier] + ch.beta_stay_away + cat.conditions[c].outflow_bias
         + ch.beta_travel_per_hour_stay * (travel_out_min - travel_here_min) / 60.0
         + ch.beta_inpatient_cost_per_100 * (stay_out - stay_here) / 100.0)
    odds = math.exp(min(d, 700.0)) * odds_factor
    return odds / (1.0 + odds)


class ChoiceTable:
    """Options and cumulative probabilities per (village, condition, worried)."""

    def __init__(self, county: County, cat: Catalogue, care: CareConfig, open_sites: set[int] | None = None):
        F = county.n_facilities
        ch = care.choice
        self.options: list[list[list[int]]] = []
        self.cum: list[list[list[list[float]]]] = []
        tier1 = [f for f in range(F) if county.tier[f] == 1 and (open_sites is None or f in open_sites)]
        tier2 = [f for f in range(F) if county.tier[f] == 2 and (open_sites is None or f in open_sites)]
        self.tier_of = {f: int(county.tier[f]) for f in range(F)}
        # the tariff's part of each option's cost, per condition and tier (travel added per option)
        costs = [{t: expected_costs(care, c, cat, t, 0.0) for t in range(4)} for c in range(cat.n)]
        for v in range(county.n_villages):
            near1 = sorted(tier1, key=lambda f: (county.travel[v, f], f))[: ch.tier1_options]
            base = near1 + tier2 + ([county.tertiary] if ch.include_tertiary else [])
            has_clinic = county.clinic_doctors[v] > 0
            per_c_opts, per_c_cum = [], []
            for c, cond in enumerate(cat.conditions):
                opts = list(base)
                if has_clinic and cond.pathway == "outpatient":
                    opts = [F + v] + opts
                tiers = [0 if o >= F else self.tier_of[o] for o in opts]
                travel = [county.clinic_access_minutes if o >= F else float(county.travel[v, o]) for o in opts]
                cums = []
                for worried in (0, 1):
                    perceived = min(3, cond.min_tier + worried)
                    probs = logit(utilities(care, cat, c, tiers, travel, perceived, costs[c]))
                    cum = np.cumsum(probs).tolist()
                    cum[-1] = 1.0
                    cums.append(cum)
                per_c_opts.append(opts)
                per_c_cum.append(cums)
            self.options.append(per_c_opts)
            self.cum.append(per_c_cum)
        # padded arrays for choosing a whole batch at once
        V, C = county.n_villages, cat.n
        K = max((len(o) for per_c in self.options for o in per_c), default=1)
        self._opts = np.zeros((V, C, K), dtype=np.int64)
        self._cum = np.full((V, C, 2, K), 2.0)
        for v in range(V):
            for c in range(C):
                o = self.options[v][c]
                self._opts[v, c, : len(o)] = o
                for wz in (0, 1):
                    self._cum[v, c, wz, : len(o)] = self.cum[v][c][wz]

    def choose_many(self, v: np.ndarray, c: np.ndarray, u: np.ndarray, worried: np.ndarray) -> np.ndarray:
        """:meth:`choose` for arrays of patients (identical results, vectorised)."""
        cum = self._cum[v, c, worried.astype(np.int64)]
        idx = (cum <= u[:, None]).sum(axis=1)
        return self._opts[v, c, idx]

    def choose(self, v: int, c: int, u: float, worried: bool = False) -> int:
        """The site chosen by a patient with uniform ``u``."""
        cum = self.cum[v][c][1 if worried else 0]
        return self.options[v][c][bisect.bisect_right(cum, u)]

    def choose_among(self, v: int, c: int, u: float, worried: bool, allowed) -> int | None:
        """Like :meth:`choose`, renormalised over the options for which ``allowed(site)`` holds."""
        cum = self.cum[v][c][1 if worried else 0]
        opts = self.options[v][c]
        probs = [cum[0]] + [cum[i] - cum[i - 1] for i in range(1, len(cum))]
        keep = [(o, p) for o, p in zip(opts, probs) if allowed(o)]
        total = sum(p for _, p in keep)
        if not keep or total <= 0:
            return None
        acc = 0.0
        for o, p in keep:
            acc += p / total
            if u < acc:
                return o
        return keep[-1][0]

    def probabilities(self, v: int, c: int, worried: bool = False) -> dict[int, float]:
        cum = self.cum[v][c][1 if worried else 0]
        prev = 0.0
        out = {}
        for o, x in zip(self.options[v][c], cum):
            out[o] = x - prev
            prev = x
        return out


def doctor_kind(site: SiteInfo, specialty: str, emergency: bool) -> str:
    """Which doctors see the condition at a site: the specialty where the site has it,
    the emergency department for emergencies at hospitals that have one, else general.

    >>> s = SiteInfo(2, frozenset({"general", "ent", "emergency"}), frozenset(), frozenset(), 10)
    >>> doctor_kind(s, "ent", False), doctor_kind(s, "eye", False), doctor_kind(s, "cardiology", True)
    ('ent', 'general', 'emergency')
    """
    if emergency and "emergency" in site.doctors:
        return "emergency"
    if specialty in site.doctors:
        return specialty
    if "general" in site.doctors:
        return "general"
    return sorted(site.doctors)[0] if site.doctors else "general"


def can_manage(site: SiteInfo, min_tier: int, diagnostics: list[str], needs_bed: bool = False) -> bool:
    """Whether a site can complete an episode: tier high enough and every study acquired and read.

    >>> s = SiteInfo(1, frozenset({"general"}), frozenset({"ecg", "lab"}), frozenset({"lab"}), 20)
    >>> can_manage(s, 1, ["lab"]), can_manage(s, 1, ["ecg"]), can_manage(s, 2, [])
    (True, False, False)
    """
    if site.tier < min_tier:
        return False
    if needs_bed and site.beds <= 0:
        return False
    return all(d in site.acquire and d in site.read for d in diagnostics)


def referral_target(county: County, site: int, village: int, needed_tier: int) -> int:
    """Up-referral target: own township for a village clinic, then the member's own lead
    hospital, then the out-of-county tertiary node (外转)."""
    F = county.n_facilities
    if site >= F:  # village clinic
        home = int(county.home_tier1[village])
        if needed_tier <= 1:
            return home
        if needed_tier == 2:
            return county.lead_of[home]
        return county.tertiary
    tier = int(county.tier[site])
    if tier == 1 and needed_tier <= 2:
        return county.lead_of[site]
    return county.tertiary


def emergency_capable(site: SiteInfo, pathway: str) -> bool:
    """Definitive emergency care: PCI for STEMI (cath lab), CT read on site for stroke, a lead
    hospital with surgeons for major trauma.

    >>> s = SiteInfo(2, frozenset({"surgery"}), frozenset({"ct", "cathlab"}), frozenset({"ct"}), 100)
    >>> emergency_capable(s, "stemi"), emergency_capable(s, "stroke"), emergency_capable(s, "trauma")
    (True, True, True)
    """
    if pathway == "stemi":
        return "cathlab" in site.acquire and site.tier >= 2
    if pathway == "stroke":
        return "ct" in site.acquire and "ct" in site.read and site.tier >= 2
    if pathway == "trauma":
        return site.tier >= 2 and "surgery" in site.doctors
    return True
