"""Tables -> KPIs -> summaries with confidence intervals and paired differences.

Pure functions of the record tables (:mod:`sim.records.log`) and the site/village tables; no
SimPy here, so saved outputs can be analysed, and re-priced, without re-running the model.
Every KPI table is long and tidy: ``scenario, replication, metric, group, value`` where
``group`` is ``"county"`` or a tier / facility id.

Every KPI is declared once, with its names, unit, definition and source, in
:mod:`sim.analysis.registry` (the reference table is ``docs/kpis.md``); :data:`KPI_ZH` and
:data:`KPI_BETTER` are views of it.  For example:

- ``inpatient_retention`` 参保人县域内住院人次占比 (the official retention indicator, 2024):
  residents' admissions at county facilities / all their admissions, out of county included.
- ``grassroots_visit_share_official`` 县域内基层医疗卫生机构诊疗人次数占比: seen visits at tiers 0-1
  / seen visits in the county (tiers 0-2).
- ``county_retention`` 县域内就诊率(按病例), the model's own: of the episodes that received care,
  the share completed inside the county; ``grassroots_share``, the model's own: grassroots
  visits / all visits, out of county included.
- ``outward_transfer_rate`` 外转率: out-of-county visits the county sent, per admission.
- Money: :func:`price` (the rules in :mod:`sim.config.tariff`), yearly spending, the official
  fund shares, the running cost by item (no lever is free) and the global budget.
"""

from __future__ import annotations

import math
from typing import TypeAlias

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.registry import REGISTRY
from sim.config import MODALITIES, LeversConfig, PaymentConfig, Prices, RemoteConfig, RestructureConfig, tariff
from sim.config.schema import LIFETIME_VEHICLE_YEARS
from sim.records.log import TEST_BIT
from sim.records.result import TABLES, RunResult

__all__ = ["KPI_ZH", "KPI_BETTER", "kpis", "price", "summarise", "paired_differences", "mean_ci"]

DAY = 1440.0

#: Chinese name of every KPI (a view of :data:`sim.analysis.registry.REGISTRY`, where each KPI is declared).
KPI_ZH = {k: v.zh for k, v in REGISTRY.items()}

#: +1 if higher is better, -1 if lower is better, 0 if neither (a view of the registry).
KPI_BETTER = {k: v.better for k, v in REGISTRY.items()}


def _tier_of(sites: pd.DataFrame) -> pd.Series:
    return sites.set_index("site")["tier"]


def labels(s: pd.Series) -> np.ndarray:
    """The values of a column as an object array of ``str`` (missing values as NaN), as
    ``s.astype(str).to_numpy()`` gives them, without one Python string per row for a
    categorical column: its rows point at the category names.

    >>> labels(pd.Series(pd.Categorical(["b", None, "a", "b"])))
    array(['b', nan, 'a', 'b'], dtype=object)
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        names = np.asarray(s.cat.categories.astype(str), dtype=object)
        return np.append(names, np.nan)[s.cat.codes.to_numpy()]  # code -1 (missing) -> the NaN after them
    return s.astype(str).to_numpy()


def _by_code(s: pd.Series, values: pd.Series) -> np.ndarray:
    """``values`` (indexed by label) of each row of ``s``, as ``values.reindex(labels(s)).to_numpy()``
    gives them (NaN where a label has none), as an object array: looked up once per category of a
    categorical column, so the rows point at a few shared values.

    >>> s = pd.Series(pd.Categorical(["stroke", "cold", "stroke"]))
    >>> _by_code(s, pd.Series({"stroke": "stroke", "cold": "outpatient"})).tolist()
    ['stroke', 'outpatient', 'stroke']
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        table = values.reindex(s.cat.categories.astype(str)).to_numpy(dtype=object, na_value=np.nan)
        return np.append(table, np.nan)[s.cat.codes.to_numpy()]
    return values.reindex(labels(s)).to_numpy(dtype=object, na_value=np.nan)


def _tiers(s: pd.Series, tier: pd.Series) -> np.ndarray:
    """The tier of each row's site (``s``: a facility column), as ``s.map(tier)`` gives it, in one
    byte per row: looked up by category code for a categorical column."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        by_code = tier.reindex(s.cat.categories.astype(str)).to_numpy()
        if len(by_code) and np.isnan(by_code.astype(float)).any():
            raise ValueError(f"sites without a tier: {list(s.cat.categories[np.isnan(by_code.astype(float))])[:5]}")
        return by_code.astype(np.int8)[s.cat.codes.to_numpy()]
    return s.map(tier).astype(np.int64).to_numpy().astype(np.int8)


class _Kept:
    """The patients kept after the warm-up cut, and which rows of another table are theirs."""

    def __init__(self, patients: pd.DataFrame, keep: np.ndarray) -> None:
        ids = patients["patient"].to_numpy()
        self.keep = keep
        self._ids = ids  # the kept ids (``ids[keep]``) are made only where needed (memory)
        # the record tables number patients by row: then a row's patient is looked up in ``keep``
        self.by_row = bool(np.array_equal(ids, np.arange(len(ids), dtype=ids.dtype)))
        # patients are numbered in onset order, so the kept ones are usually the rows from one on
        first = int(np.argmax(keep)) if keep.any() else len(keep)
        self.suffix = first if not keep[:first].any() and keep[first:].all() else None

    def take(self, df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        """The kept rows of the patients table ``df`` (``df.loc[keep, columns]``): a view of its
        columns when the kept rows are the last ones (no copy), else a copy of those rows."""
        if self.suffix is not None:
            return df.iloc[self.suffix:][columns]
        return df.loc[self.keep, columns]

    def lookup(self, df: pd.DataFrame, column: str, patients: np.ndarray):
        """``column`` of the patients table ``df`` for each of ``patients`` (ids): by row number
        when the table numbers patients by row, else through an index of the ids."""
        if self.by_row:
            return df[column].array[np.asarray(patients, dtype=np.int64)]
        return df.set_index("patient")[column].reindex(patients).array

    def rows(self, df: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows of ``df`` whose patient is kept (``np.isin`` on the ids)."""
        pat = df["patient"].to_numpy()
        if self.by_row and (not len(pat) or int(pat.max()) < len(self.keep)):
            return self.keep[pat]
        return np.isin(pat, self._ids[self.keep])


class _KeptRows:
    """The kept rows of a long table (the visits), read one column at a time: ``rows[col]`` is
    that column's kept rows as a Series (a fresh one, freed after use), so that the KPIs never
    hold a copy of the whole table beside it (memory, issue #18: a copy of the visits' read
    columns is ~30 B per visit)."""

    def __init__(self, df: pd.DataFrame, mask: np.ndarray) -> None:
        self._df = df
        self._mask = mask
        self._n = int(mask.sum())

    def __len__(self) -> int:
        return self._n

    def __contains__(self, column: str) -> bool:
        return column in self._df

    def __getitem__(self, column: str) -> pd.Series:
        return pd.Series(self._df[column].array[self._mask], name=column, copy=False)

    def values(self, column: str, where: np.ndarray | None = None) -> np.ndarray:
        """``self[column].to_numpy()[where]`` (``where``: a mask of the kept rows; none: all of
        them) as a fresh array, without the kept column in between."""
        rows = self._mask
        if where is not None:
            rows = rows.copy()
            rows[rows] = where
        return self._df[column].to_numpy()[rows]


def _values(v: Visits, column: str, where: np.ndarray | None = None) -> np.ndarray:
    """A column's values (of the kept rows of a :class:`_KeptRows`), of the rows in ``where``."""
    if isinstance(v, _KeptRows):
        return v.values(column, where)
    x = v[column].to_numpy()
    return x if where is None else x[where]


#: the visits the KPIs read: a table, or the kept rows of one (:class:`_KeptRows`)
Visits: TypeAlias = "pd.DataFrame | _KeptRows"


def _waits(v: Visits) -> np.ndarray:
    """``start - arrive`` of each row (of the kept ones), with no third column beside the two."""
    if isinstance(v, _KeptRows):
        w = v.values("start")  # a fresh array: subtracted in place
        w -= v.values("arrive")
        return w
    return v["start"].to_numpy() - v["arrive"].to_numpy()


def price(tables: dict[str, pd.DataFrame], sites: pd.DataFrame, conditions: pd.DataFrame | None,
          prices: Prices, horizon_min: float, *, lean: bool = False) -> dict[str, pd.DataFrame]:
    """Cost of every visit and admission, in CNY, from the records (re-pricing needs no re-run).

    Returns ``visits`` with ``tier, medical, oop, insurer, referred`` (the outpatient part: consult
    and drugs of a seen visit by tier, tests, ambulance) and ``admissions`` with ``tier, bed_days,
    medical, oop, insurer, referred, admitted`` (bed-days from the grant of the bed, ``admit``, to
    ``discharge`` or the horizon, priced at the tier's bed-day and drugs per bed-day).  Who pays
    what follows :mod:`sim.config.tariff`: outpatient rates; inpatient deductible, rate and cap
    per admission row.

    Out-of-county care follows the records contract: a stay is an admission row at the tier-3
    node (request = admit = arrival, discharge = arrival + stay), priced like any admission at
    tier-3 prices; the visit there is a tier-3 consult.  Its referral status (转诊备案) is the
    ``mode`` of the patient's latest tier-3 visit at or before the admission request
    (:func:`sim.config.tariff.is_referred`: ``self`` and ``after_renege`` are unreferred); a
    tier-3 row with no such visit (a transfer from a county bed) counts as referred.
    ``conditions`` is not used (kept for the callers' signature).  ``lean`` (the KPIs' own
    use): the visits as a :class:`_PricedVisits` (the same columns but ``patient``, read one at a
    time; memory, issue #18: the priced visits are as long as the visits).
    """
    tier = _tier_of(sites)
    v = tables["visits"]
    a = tables["admissions"]
    lv = _PricedVisits(v, tier, prices)
    referred = lv.referred
    visits: pd.DataFrame | _PricedVisits = lv
    if not lean:
        visits = pd.DataFrame({"patient": v["patient"].to_numpy(), "tier": lv.tier.astype(np.int64),
                               **{c: lv[c].to_numpy() for c in _PricedVisits.COLUMNS},
                               "referred": referred}, copy=False)
    vt = lv.tier
    at = _tiers(a["facility"], tier)
    admit = a["admit"].to_numpy(dtype=float)
    dis = a["discharge"].to_numpy(dtype=float)
    days = np.where(np.isnan(admit), 0.0, (np.where(np.isnan(dis), horizon_min, dis) - np.nan_to_num(admit)) / DAY)
    med_a = tariff.stay_cost(prices, at, days)
    ref_a = _stay_referred(a, at, v, vt, referred)
    oop_a, ins_a = tariff.split(prices, med_a, at, True, ref_a)
    admissions = pd.DataFrame({"patient": a["patient"].to_numpy(), "tier": at.astype(np.int64), "bed_days": days,
                               "medical": med_a, "oop": oop_a, "insurer": ins_a, "referred": ref_a,
                               "admitted": ~np.isnan(admit)}, copy=False)
    return {"visits": visits, "admissions": admissions}  # type: ignore[dict-item]


class _PricedVisits:
    """The priced visits of :func:`price` held in four bytes per visit (memory, issue #18: three
    float columns as long as the visits were ~25 B each): each visit's ``tier`` and ``referred``,
    and a price key, ``tier, seen, ambulance, tests bitmask``, on which a visit's cost and who
    pays it depend alone.  ``medical``, ``oop`` and ``insurer`` are computed once per key, with
    the same operations in the same order as per visit, and ``self[col]`` looks them up (a fresh
    Series of exactly the values a per-visit computation gives)."""

    COLUMNS = ("medical", "oop", "insurer")  # the priced ones, looked up by key

    def __init__(self, v: Visits, tier: pd.Series, prices: Prices) -> None:
        # memory: one byte per visit where a code does, values looked up per category or per
        # tests bitmask, no string per row
        self.tier = _tiers(v["facility"], tier)
        self.referred = ~_isin(v["mode"], tariff.UNREFERRED_MODES)  # tariff.is_referred, per category
        key = self.tier.astype(np.uint16) << 10
        key |= (~np.isnan(v["start"].to_numpy(dtype=float))).astype(np.uint16) << 9
        key |= _isin(v["mode"], ("ambulance",)).astype(np.uint16) << 8
        key |= np.asarray(v["tests"].to_numpy(), dtype=np.uint8)
        self._key = key
        k = np.arange(len(np.asarray(prices.consult)) << 10, dtype=np.int64)
        kt, seen, amb = k >> 10, ((k >> 9) & 1).astype(bool), ((k >> 8) & 1).astype(bool)
        medical = tariff.visit_cost(prices, kt, seen)
        medical += _tests_cost(prices, k & 0xFF)
        medical += amb * prices.ambulance_trip
        oop, insurer = tariff.split(prices, medical, kt, False)
        self._price_of = dict(zip(self.COLUMNS, (medical, oop, insurer)))

    def __len__(self) -> int:
        return len(self._key)

    def __getitem__(self, column: str) -> pd.Series:
        if column in self._price_of:
            return pd.Series(self._price_of[column][self._key], name=column, copy=False)
        return pd.Series(getattr(self, column), name=column, copy=False)


def _isin(s: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    """Whether each row's value is one of ``names`` (``np.isin(labels(s), names)``), looked up
    once per category of a categorical column (a missing value is not among them)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        table = np.isin(np.asarray(s.cat.categories.astype(str), dtype=object), names)
        return np.append(table, False)[s.cat.codes.to_numpy()]
    return np.isin(labels(s), names)


def _tests_cost(prices: Prices, mask: np.ndarray) -> np.ndarray:
    """The tests' cost of each visit from its tests bitmask (uint8): the sum over its modalities,
    added in ``MODALITIES`` order, computed once per bitmask value and looked up."""
    codes = np.arange(256, dtype=np.int64)
    table = np.zeros(256)
    for m in MODALITIES:
        table += ((codes & TEST_BIT[m]) > 0) * prices.tests.get(m, 0.0)
    return table[np.asarray(mask, dtype=np.uint8)]


def _stay_referred(a: pd.DataFrame, at: np.ndarray, v: Visits, vt: np.ndarray,
                   v_referred: np.ndarray) -> np.ndarray:
    """Referral status of each admission row: tier-3 rows take it from the patient's latest
    tier-3 visit at or before the request (``v_referred``: each visit's, by its mode); county
    rows (and tier-3 rows without one) are referred."""
    ref = np.ones(len(a), dtype=bool)
    out = np.flatnonzero(at == 3)
    v3 = vt == 3
    if not len(out) or not v3.any():
        return ref
    pat, t = _values(v, "patient", v3), _values(v, "arrive", v3)
    vv = pd.DataFrame({"patient": pat.astype(np.int64), "t": t.astype(float), "ref": v_referred[v3]})
    vv = vv[~np.isnan(vv["t"].to_numpy())].sort_values("t", kind="stable")
    aa = pd.DataFrame({"patient": a["patient"].to_numpy()[out].astype(np.int64),
                       "t": np.nan_to_num(a["request"].to_numpy(dtype=float)[out], nan=np.inf), "i": out})
    aa = aa.sort_values("t", kind="stable")
    m = pd.merge_asof(aa, vv, on="t", by="patient", direction="backward")
    ref[m["i"].to_numpy()] = m["ref"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    return ref


#: columns of the patients and visits tables no KPI reads (not copied by the warm-up cut).
_UNREAD = ("scenario", "replication", "onset", "exit_time", "end")


def _row(rows: list, metric: str, value: float, group: str = "county") -> None:
    rows.append((metric, group, float(value)))


def kpis(tables: dict[str, pd.DataFrame], occupancy: pd.DataFrame, sites: pd.DataFrame,
         villages: pd.DataFrame, conditions: pd.DataFrame, prices: Prices, warmup_days: float,
         horizon_days: float, restructure: RestructureConfig | None = None, *,
         levers: LeversConfig | None = None, payment: PaymentConfig | None = None) -> pd.DataFrame:
    """All KPIs of one replication after the warm-up cut, as a tidy table.

    Episodes count from their onset after the warm-up; visits and admissions belong to those
    episodes; utilisation uses the post-warm-up days of the occupancy table.  ``restructure``
    (posted doctors, the sites' running cost), ``levers`` (the levers' running costs) and
    ``payment`` (the global budget) default to their schema defaults: nothing restructured,
    every lever off, no global budget.
    """
    rows: list = []
    warm = warmup_days * DAY
    years = (horizon_days - warmup_days) / 365.0
    pop = float(villages["population"].sum())
    p = tables["patients"]
    kept = _Kept(p, p["onset"].to_numpy() >= warm)
    # the kept rows of the columns the KPIs read (a copy of those only: not the key columns)
    pk = kept.take(p, [c for c in p.columns if c not in _UNREAD])
    v = _KeptRows(tables["visits"], kept.rows(tables["visits"]))
    a = tables["admissions"]
    a = a[kept.rows(a)]
    tier = _tier_of(sites)
    vt = _tiers(v["facility"], tier)
    def exit_is(name: str) -> np.ndarray:  # by category code: no string per episode (memory)
        return _isin(pk["exit"], (name,))

    ended = ~exit_is("in_system")
    n_ended = max(int(ended.sum()), 1)
    n_ep = len(pk)
    _row(rows, "episodes", n_ep)
    _row(rows, "visits_per_person_year", len(v) / pop / years if pop > 0 else math.nan)
    at = _tiers(a["facility"], tier)
    admitted = ~np.isnan(a["admit"].to_numpy(dtype=float))
    n_adm = int(admitted.sum())          # every admission row granted a bed, out of county (tier 3) included
    _row(rows, "admissions_per_person_year", n_adm / pop / years if pop > 0 else math.nan)
    completed = int(exit_is("completed").sum())
    out_county = int(exit_is("transferred_out").sum())
    _row(rows, "county_retention", completed / (completed + out_county) if completed + out_county else math.nan)
    _row(rows, "grassroots_share", (vt <= 1).sum() / max(len(v), 1))
    out_self = (vt == 3) & _isin(v["mode"], ("self",))
    _row(rows, "outward_transfer_rate", _outward_transfers(vt, v["mode"]) / n_adm if n_adm else math.nan)
    _row(rows, "self_referral_out_of_county_rate", out_self.sum() / n_ended)
    up = int(pk["up_referrals"].sum())
    down = int(pk["down_referrals"].sum())
    _row(rows, "up_referrals", up)
    _row(rows, "up_referral_rate", up / max(n_ep, 1))
    _row(rows, "down_referrals", down)
    discharged_t2 = ((at == 2) & ~np.isnan(a["discharge"].to_numpy())).sum()
    _row(rows, "down_referral_rate", down / discharged_t2 if discharged_t2 else math.nan)
    wait = _waits(v)
    for t in (0, 1, 2):
        w = wait[(vt == t) & ~np.isnan(wait)]
        _row(rows, "wait_mean_min", w.mean() if len(w) else math.nan, f"tier{t}")
        _row(rows, "wait_p90_min", np.percentile(w, 90) if len(w) else math.nan, f"tier{t}")
    w = wait[(vt <= 2) & ~np.isnan(wait)]
    _row(rows, "wait_mean_min", w.mean() if len(w) else math.nan)
    _row(rows, "wait_p90_min", np.percentile(w, 90) if len(w) else math.nan)
    _row(rows, "travel_mean_min", float(pk["travel_min"].mean()) if n_ep else math.nan)
    left = exit_is("left_untreated")
    _row(rows, "left_untreated_share", left.sum() / n_ended)
    # unmet need: untreated episodes by condition, bed requests refused at tiers 1-2
    _row(rows, "left_untreated", left.sum())
    left_by = pd.Series(labels(pk["condition"])[left]).value_counts()
    for cid in conditions.index.astype(str):
        _row(rows, "left_untreated", left_by.get(cid, 0), f"condition:{cid}")
    a_tier = a["facility"].map(tier).astype(np.int64).to_numpy()
    no_bed = (labels(a["outcome"]) == "no_bed") & (a_tier >= 1) & (a_tier <= 2)
    _row(rows, "refused_admissions", no_bed.sum())
    for t in (1, 2):
        _row(rows, "refused_admissions", (no_bed & (a_tier == t)).sum(), f"tier{t}")
    del ended, left, out_self, wait, w  # one value per episode or visit: not held through the rest (memory)

    # 出院者平均住院日 in its steady-state (Little's law) form: bed-days occupied in the
    # post-warm-up window by every in-county stay / stays that began in it.  A mean over the
    # stays discharged in the window would drop the long stays still open at the horizon and
    # read short on a run of a few weeks; this form does not.
    a_all = tables["admissions"]
    adm_t = a_all["admit"].to_numpy(dtype=float)
    if len(a_all):
        t_all = a_all["facility"].map(tier).astype(np.int64).to_numpy()
        end = horizon_days * DAY
        dis_t = np.nan_to_num(a_all["discharge"].to_numpy(dtype=float), nan=end)
        lo, hi = np.clip(adm_t, warm, end), np.clip(dis_t, warm, end)
        held = np.where(np.isnan(adm_t), 0.0, np.maximum(hi - lo, 0.0)) / DAY
        began = (adm_t >= warm) & (adm_t < end)
    else:
        t_all, held, began = np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=bool)
    for grp, sel in (("tier1", t_all == 1), ("tier2", t_all == 2), ("county", (t_all >= 1) & (t_all <= 2))):
        n_began = int((began & sel).sum())
        _row(rows, "mean_stay_days", held[sel].sum() / n_began if n_began else math.nan, grp)

    # utilisation from the daily occupancy after warm-up
    occ = occupancy[occupancy["day"] >= int(math.ceil(warmup_days))]
    if len(occ):
        occ = occ.assign(kind=occ["resource"].str.split(":").str[0],
                         tier=occ["facility"].map(tier).fillna(0).astype(int))
        docs = occ[occ["kind"] == "doctors"]
        g = docs.groupby("facility", observed=True)[["in_use", "capacity"]].sum()
        g = g[g.index.map(tier).fillna(0).astype(int) > 0]
        for fid, r in g.iterrows():
            _row(rows, "doctor_utilisation", r["in_use"] / r["capacity"] if r["capacity"] > 0 else math.nan, str(fid))
        for t in (0, 1, 2):
            d = docs[docs["tier"] == t]
            cap = d["capacity"].sum()
            _row(rows, "doctor_utilisation", d["in_use"].sum() / cap if cap > 0 else math.nan, f"tier{t}")
        beds = occ[occ["kind"] == "beds"]
        g = beds.groupby("facility", observed=True)[["in_use", "capacity"]].sum()
        for fid, r in g.iterrows():
            _row(rows, "bed_occupancy", r["in_use"] / r["capacity"] if r["capacity"] > 0 else math.nan, str(fid))
        for t in (1, 2):
            d = beds[beds["tier"] == t]
            cap = d["capacity"].sum()
            _row(rows, "bed_occupancy", d["in_use"].sum() / cap if cap > 0 else math.nan, f"tier{t}")

    # STEMI: first medical contact to reperfusion
    e = tables["emergency"]
    e = e[kept.rows(e)]
    stemi_ids = conditions.index[conditions["pathway"] == "stemi"]
    e_cond = np.asarray(kept.lookup(p, "condition", e["patient"].to_numpy()), dtype=object)
    es = e[np.isin(e_cond, stemi_ids)]
    es = es[~np.isnan(es["fmc"].to_numpy())]
    if len(es):
        d = es["reperfusion"].to_numpy() - es["fmc"].to_numpy()
        done = d[~np.isnan(d)]
        _row(rows, "stemi_fmc_to_reperfusion_median_min", np.median(done) if len(done) else math.nan)
        _row(rows, "stemi_within_120_share", (np.nan_to_num(d, nan=np.inf) <= 120).mean())
    else:
        _row(rows, "stemi_fmc_to_reperfusion_median_min", math.nan)
        _row(rows, "stemi_within_120_share", math.nan)

    _emergency_standards(rows, e, e_cond, conditions)
    _referral_pressure(rows, a[at <= 2], tables.get("lever_events"), kept, years)
    _access_kpis(rows, pk, e, villages, visits=v, vt=vt, years=years,
                 e_village=kept.lookup(p, "village", e["patient"].to_numpy()))
    rc = restructure if restructure is not None else RestructureConfig()
    if restructure is not None:
        _row(rows, "capital_saved", float(restructure.capital_saved))

    _cost_kpis(rows, v, vt, a, p, pk, tables.get("remote_studies"), sites, conditions, prices, rc,
               payment if payment is not None else PaymentConfig(), pop, warm, years, horizon_days)
    _lever_kpis(rows, tables, occupancy, pk, v, vt, conditions, warm, warmup_days)
    lv = levers if levers is not None else LeversConfig()
    running = _running_costs(rows, tables, sites, rc, lv, prices, v, warm, years)
    capital_per_year = _capital_costs(rows, sites, rc, lv, prices)
    _row(rows, "total_cost_per_year", running + capital_per_year)
    return pd.DataFrame(rows, columns=["metric", "group", "value"])


def _cost_kpis(rows: list, v: Visits, vt: np.ndarray, a: pd.DataFrame, p: pd.DataFrame, pk: pd.DataFrame,
               studies: pd.DataFrame | None, sites: pd.DataFrame, conditions: pd.DataFrame, prices: Prices,
               rc: RestructureConfig, payment: PaymentConfig, pop: float, warm: float, years: float,
               horizon_days: float) -> None:
    """The costs of the kept visits and admissions (:func:`price`): per visit, admission and
    episode, yearly spending, the official indicators and the global budget.  The priced tables
    live only in this call (memory, issue #18: they are as long as the visits)."""
    n_ep = len(pk)
    priced = price({"visits": v, "admissions": a, "patients": p}, sites, conditions, prices,
                   horizon_days * DAY, lean=True)
    pv, pa = priced["visits"], priced["admissions"]
    travel_oop = float(pk["travel_min"].sum()) / 60.0 * prices.travel_per_hour
    nv = max(len(pv), 1)
    _row(rows, "oop_per_visit", (pv["oop"].sum() + travel_oop) / nv)
    _row(rows, "insurer_per_visit", pv["insurer"].sum() / nv)
    in_adm = pa["admitted"].to_numpy() & (pa["tier"].to_numpy() <= 2)
    na = max(int(in_adm.sum()), 1)
    _row(rows, "oop_per_admission", pa["oop"].to_numpy()[in_adm].sum() / na)
    _row(rows, "insurer_per_admission", pa["insurer"].to_numpy()[in_adm].sum() / na)
    _row(rows, "oop_per_episode", (pv["oop"].sum() + pa["oop"].sum() + travel_oop) / max(n_ep, 1))
    _row(rows, "insurer_per_episode", (pv["insurer"].sum() + pa["insurer"].sum()) / max(n_ep, 1))
    spend = _spending_kpis(rows, pv, pa, years)
    _official_kpis(rows, v, vt, pv, pa, studies, sites, rc, pop, warm, years)
    _payment_kpis(rows, payment, spend, pop, years)


def _referral_pressure(rows: list, a: pd.DataFrame, events: pd.DataFrame | None, kept: _Kept,
                       years: float) -> None:
    """Two-way referral under pressure: delayed-discharge bed-days (a hospital bed kept while
    waiting for a tier-1 bed), circular waits, deteriorations moved up or out."""
    blocked = a["blocked_min"].to_numpy(dtype=float) if "blocked_min" in a else np.zeros(0)
    _row(rows, "delayed_discharge_bed_days_per_year", blocked.sum() / DAY / years if years > 0 else math.nan)
    counts = {"circular_wait": 0, "down_bed_timeout": 0, "deterioration_up": 0, "deterioration_out": 0}
    if events is not None and len(events):
        ev = pd.Series(labels(events["event"])[kept.rows(events)]).value_counts()
        for k in counts:
            counts[k] = int(ev.get(k, 0))
    _row(rows, "circular_waits", counts["circular_wait"])
    _row(rows, "down_bed_timeouts", counts["down_bed_timeout"])
    _row(rows, "deterioration_transfers_up", counts["deterioration_up"])
    _row(rows, "deterioration_transfers_out", counts["deterioration_out"])


def _emergency_standards(rows: list, e: pd.DataFrame, e_cond: np.ndarray, conditions: pd.DataFrame) -> None:
    """Chest-pain and stroke centre standards: door-to-balloon (<= 90 min), first contact to
    ECG (strictly < 10 min), the share of STEMI reperfused by thrombolysis, stroke onset-to-needle."""
    if "reperfusion_kind" not in e:
        return
    kind = labels(e["reperfusion_kind"])
    stemi = np.isin(e_cond, conditions.index[conditions["pathway"] == "stemi"])
    stroke = np.isin(e_cond, conditions.index[conditions["pathway"] == "stroke"])
    pci = stemi & (kind == "pci")
    d2b = (e["reperfusion"] - e["door"]).to_numpy()[pci]
    _row(rows, "door_to_balloon_median_min", np.median(d2b) if len(d2b) else math.nan)
    _row(rows, "door_to_balloon_within_90_share", (d2b <= 90).mean() if len(d2b) else math.nan)
    f2e = (e["ecg"] - e["fmc"]).to_numpy()[stemi]
    _row(rows, "fmc_to_ecg_within_10_share",
         (np.nan_to_num(f2e, nan=np.inf) < 10).mean() if len(f2e) else math.nan)
    reperfused = stemi & (kind != "none")
    _row(rows, "stemi_thrombolysis_share",
         (stemi & (kind == "thrombolysis")).sum() / reperfused.sum() if reperfused.any() else math.nan)
    o2n = (e["reperfusion"] - e["call"]).to_numpy()[stroke & (kind == "stroke_thrombolysis")]
    _row(rows, "stroke_onset_to_needle_median_min", np.median(o2n) if len(o2n) else math.nan)


def _access_kpis(rows: list, pk: pd.DataFrame, e: pd.DataFrame, villages: pd.DataFrame, visits: Visits,
                 vt: np.ndarray, years: float, e_village) -> None:
    """Travel to the first contact (per village and county-wide), 120 response times, and the
    volume each site sees (the measures of downsizing).  ``e_village``: the home village of each
    row of ``e`` (:meth:`_Kept.lookup`)."""
    called = e.loc[e["station"].notna(), "patient"].to_numpy() if "station" in e else np.zeros(0)
    self_ = pk["first_facility"].notna().to_numpy()
    if len(called):
        self_ = self_ & ~np.isin(pk["patient"].to_numpy(), called)
    ft = pk["first_travel_min"].to_numpy()[self_].astype(float)
    if len(ft):
        _row(rows, "first_contact_travel_mean_min", ft.mean())
        _row(rows, "first_contact_travel_p90_min", np.percentile(ft, 90))
        _row(rows, "share_beyond_30_min", (ft > 30).mean())
        _row(rows, "share_beyond_60_min", (ft > 60).mean())
        mean, p90 = _village_mean_p90(ft, pk["village"].array[self_])
        for vid, m in mean:
            _row(rows, "first_contact_travel_mean_min", m, str(vid))
        for vid, m in p90:
            _row(rows, "first_contact_travel_p90_min", m, str(vid))
    resp = (e["fmc"] - e["call"]).to_numpy(dtype=float)
    ok = ~np.isnan(resp)
    if ok.any():
        r = resp[ok]
        _row(rows, "emergency_first_contact_mean_min", r.mean())
        _row(rows, "emergency_first_contact_p90_min", np.percentile(r, 90))
        _row(rows, "emergency_share_beyond_30_min", (r > 30).mean())
        _row(rows, "emergency_share_beyond_60_min", (r > 60).mean())
        em = pd.Series(r, index=np.asarray(e_village[ok], dtype=object)).groupby(level=0).mean()
        for vid, m in em.items():
            _row(rows, "emergency_first_contact_mean_min", m, str(vid))
    days = years * 365.0
    # the array, not the Series, is masked: a masked Series gets an index of 8 B per row (memory)
    counts = pd.Series(visits["facility"].array[vt >= 1], copy=False).value_counts()
    for fid, n in counts.items():
        if n:
            _row(rows, "site_visits_per_day", n / days, str(fid))
    _row(rows, "site_visits_per_day", (vt == 0).sum() / days, "tier0")


def _village_mean_p90(x: np.ndarray, village: pd.Categorical,
                      chunk: int = 1 << 18) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """Mean and 90th percentile of ``x`` per village (the observed ones, in category order), as
    ``groupby(village).mean()`` and ``.quantile(0.9)`` give them, computed a few villages at a
    time: a group's mean and quantile depend only on its own rows (in order), and pandas' grouped
    quantile sorts a copy of all the rows it is given (~40 B per row; memory, issue #18), so each
    pass takes at most ~``chunk`` rows.  ``village`` not categorical (hand-made tables): its
    sorted values are the categories, the order ``groupby`` gives them."""
    if not isinstance(village, pd.Categorical):
        village = pd.Categorical(village)
    codes = np.asarray(village.codes)
    counts = np.bincount(codes[codes >= 0], minlength=len(village.categories))
    mean: list[tuple[str, float]] = []
    p90: list[tuple[str, float]] = []
    lo = 0
    while lo < len(counts):
        hi, n = lo + 1, int(counts[lo])
        while hi < len(counts) and n + counts[hi] <= chunk:
            n += int(counts[hi])
            hi += 1
        sel = (codes >= lo) & (codes < hi)
        if n:
            g = pd.Series(x[sel], copy=False).groupby(village[sel], observed=True)
            mean += list(g.mean().items())
            p90 += list(g.quantile(0.9).items())
        lo = hi
    return mean, p90


def _outward_transfers(vt: np.ndarray, mode: pd.Series) -> int:
    """Out-of-county visits the county sent (referral, 120 transfer, ...): tier-3 visits whose
    mode is referred (:func:`sim.config.tariff.is_referred`) and not ``elsewhere`` (residents
    who live and are registered elsewhere were not sent by the county)."""
    return int(((vt == 3) & ~_isin(mode, (*tariff.UNREFERRED_MODES, "elsewhere"))).sum())


def _spending_kpis(rows: list, pv: pd.DataFrame | _PricedVisits, pa: pd.DataFrame, years: float) -> float:
    """Yearly totals of the priced visits and admissions (county, in county, out of county) and
    the out-of-pocket share; returns the insurer's yearly spending on residents."""
    tv, ta = pv["tier"].to_numpy(), pa["tier"].to_numpy()
    per_year = 1.0 / years if years > 0 else math.nan
    totals = {}
    for metric, col in (("insurer_spending_per_year", "insurer"), ("oop_per_year", "oop"),
                        ("medical_spending_per_year", "medical")):
        x, y = pv[col].to_numpy(), pa[col].to_numpy()
        inside = float(x[tv <= 2].sum() + y[ta <= 2].sum())
        outside = float(x[tv == 3].sum() + y[ta == 3].sum())
        totals[col] = inside + outside
        _row(rows, metric, totals[col] * per_year)
        _row(rows, metric, inside * per_year, "in_county")
        _row(rows, metric, outside * per_year, "out_of_county")
    _row(rows, "oop_share", totals["oop"] / totals["medical"] if totals["medical"] > 0 else math.nan)
    return totals["insurer"] * per_year


def posted_doctors(rc: RestructureConfig, sites: pd.DataFrame) -> int:
    """Doctors the restructuring posts down from a lead hospital to grassroots sites for the whole
    run (``move_doctors`` operations: ``n`` to each site of ``to``, else to every open member
    of that lead in the sites table)."""
    n = 0
    closed = sites["closed"].to_numpy(dtype=bool) if "closed" in sites else np.zeros(len(sites), dtype=bool)
    lead = sites["lead"].astype(str).to_numpy() if "lead" in sites else np.full(len(sites), "")
    tier1 = sites["tier"].to_numpy() == 1
    for op in rc.operations:
        if op.op == "move_doctors":
            to = len(op.to) if op.to else int((tier1 & ~closed & (lead == op.site)).sum())
            n += op.n * to
    return n


def _official_kpis(rows: list, v: Visits, vt: np.ndarray, pv: pd.DataFrame | _PricedVisits, pa: pd.DataFrame,
                   studies: pd.DataFrame | None, sites: pd.DataFrame, rc: RestructureConfig, pop: float,
                   warm: float, years: float) -> None:
    """The monitoring indicators of close-knit county medical communities (2024), with their
    official numerators and denominators (definitions in the KPI registry)."""
    ta = pa["tier"].to_numpy()
    adm = pa["admitted"].to_numpy(dtype=bool)
    n_in = int((adm & (ta <= 2)).sum())
    n_out = int((adm & (ta == 3)).sum())
    _row(rows, "inpatient_retention", n_in / (n_in + n_out) if n_in + n_out else math.nan)
    seen = ~np.isnan(v["start"].to_numpy(dtype=float))
    in_county = int((seen & (vt <= 2)).sum())
    _row(rows, "grassroots_visit_share_official", (seen & (vt <= 1)).sum() / in_county if in_county else math.nan)
    tv = pv["tier"].to_numpy()
    ins_v, ins_a = pv["insurer"].to_numpy(), pa["insurer"].to_numpy()
    ins_all = float(ins_v.sum() + ins_a.sum())
    ins_in = float(ins_v[tv <= 2].sum() + ins_a[ta <= 2].sum())
    ins_grass = float(ins_v[tv <= 1].sum() + ins_a[ta <= 1].sum())
    _row(rows, "fund_in_county_share", ins_in / ins_all if ins_all > 0 else math.nan)
    _row(rows, "fund_grassroots_share", ins_grass / ins_in if ins_in > 0 else math.nan)
    _row(rows, "cost_per_admission_in_county",
         pa["medical"].to_numpy()[adm & (ta <= 2)].sum() / n_in if n_in else math.nan)
    read = 0
    if studies is not None and len(studies):
        read = int(((studies["sent"].to_numpy(dtype=float) >= warm)
                    & (studies["status"].astype(str).to_numpy() == "reported")).sum())
    _row(rows, "remote_readings_per_10k", read * 1e4 / pop / years if pop > 0 and years > 0 else math.nan)
    _row(rows, "posted_doctors_per_10k", posted_doctors(rc, sites) * 1e4 / pop if pop > 0 else math.nan)


def _payment_kpis(rows: list, pay: PaymentConfig, insurer_per_year: float, pop: float, years: float) -> None:
    """Global budget (医保打包付费): the budget, its surplus over the insurer's spending on
    residents in and out of county, and the part the community keeps (NaN without a budget)."""
    if not pay.global_budget:
        for m in ("budget_per_year", "budget_surplus_per_year", "community_retained_per_year"):
            _row(rows, m, math.nan)
        return
    budget = pay.budget_per_capita_cny_per_year * pop
    surplus = budget - insurer_per_year
    _row(rows, "budget_per_year", budget)
    _row(rows, "budget_surplus_per_year", surplus)
    _row(rows, "community_retained_per_year", surplus * pay.surplus_kept_share)


#: the groups of ``running_cost_per_year`` besides the county total, in order.
RUNNING_COST_ITEMS = ("sites", "remote", "expert", "tele_ecg", "ambulance", "posted")


def _remote_sending(sites: pd.DataFrame, rm: RemoteConfig) -> tuple[int, int]:
    """Sending sites of remote diagnosis (``rm.sites``, else every open tier-1 site) and their
    reading centres (one per lead hospital of a sending site)."""
    tier = sites["tier"].to_numpy()
    closed = sites["closed"].to_numpy(dtype=bool) if "closed" in sites else np.zeros(len(sites), dtype=bool)
    sending = sites[np.isin(sites["site"].astype(str), rm.sites)] if rm.sites else sites[(tier == 1) & ~closed]
    centres = len(set(sending["lead"].astype(str)) - {""}) if "lead" in sites else 0
    return len(sending), centres


def _running_costs(rows: list, tables: dict, sites: pd.DataFrame, rc: RestructureConfig, lv: LeversConfig,
                   prices: Prices, v: Visits, warm: float, years: float) -> float:
    """Yearly running cost (CNY) by item and in all: the open sites' doctors and beds, and every
    lever's (``care.prices.costs``), so that no lever is free.

    - ``sites``: doctors x ``restructure.cost_per_doctor_year`` + beds x ``cost_per_bed_year`` of
      the open in-county sites after restructuring;
    - ``remote``: reading centres (one per lead hospital of a sending site) x ((readers + night
      readers) x ``reader_per_year`` + ``platform_per_centre_year``) + studies read (reported or
      failed, sent after the warm-up) x ``per_study_read`` / year;
    - ``expert``: doctor-hours of specialist visits (away from the lead, travel included; on
      site for external experts) x ``expert_doctor_hour`` + visits x ``expert_travel_per_visit``,
      per year;
    - ``tele_ecg``: sending sites x ``tele_ecg_device_per_year`` + transmitted ECGs x
      ``tele_ecg_per_transmission`` / year;
    - ``ambulance``: 120 ambulances x ``ambulance_per_year`` + ambulance runs (visits that came
      by ambulance) x ``ambulance_per_run`` / year;
    - ``posted``: doctors posted down (:func:`posted_doctors`) x ``posting_allowance_per_year``.
    """
    c = prices.costs
    per_year = 1.0 / years if years > 0 else 0.0
    items = dict.fromkeys(RUNNING_COST_ITEMS, 0.0)
    open_ = sites[~sites["closed"] & (sites["tier"] < 3)] if "closed" in sites else sites[sites["tier"] < 3]
    items["sites"] = float(sum(open_[col].sum() * unit for col, unit in (("doctors", rc.cost_per_doctor_year),
                                                                           ("beds", rc.cost_per_bed_year))
                               if col in open_))
    rm = lv.remote
    if rm.enabled:
        n_sending, centres = _remote_sending(sites, rm)
        rs = tables.get("remote_studies")
        n_read = 0
        if rs is not None and len(rs):
            n_read = int(((rs["sent"].to_numpy(dtype=float) >= warm) & ~np.isnan(rs["report"].to_numpy(dtype=float))).sum())
        if rm.modalities or rm.tele_ecg:
            items["remote"] = (centres * ((rm.readers + rm.night_readers) * c.reader_per_year + c.platform_per_centre_year)
                               + n_read * c.per_study_read * per_year)
        if rm.tele_ecg:
            ev = tables.get("lever_events")
            sent = 0
            if ev is not None and len(ev):
                sent = int(((ev["event"].astype(str).to_numpy() == "tele_ecg_sent")
                            & (ev["time"].to_numpy(dtype=float) >= warm)).sum())
            items["tele_ecg"] = n_sending * c.tele_ecg_device_per_year + sent * c.tele_ecg_per_transmission * per_year
    xv = tables.get("expert_visits")
    if xv is not None and len(xv):
        xv = xv[xv["arrive"].to_numpy() >= warm]
        docs = xv["doctors"].to_numpy().astype(float)
        from_lead = xv["lead"].cat.codes.to_numpy() >= 0 if hasattr(xv["lead"], "cat") else xv["lead"].notna().to_numpy()
        hours = np.where(from_lead, np.nan_to_num(xv["return"].to_numpy() - xv["depart"].to_numpy()),
                         np.nan_to_num(xv["leave"].to_numpy() - xv["arrive"].to_numpy())) * docs / 60.0
        items["expert"] = (hours.sum() * c.expert_doctor_hour + len(xv) * c.expert_travel_per_visit) * per_year
    ambulances = float(sites.loc[sites["tier"] < 3, "ambulances"].sum()) if "ambulances" in sites else 0.0
    runs = int(_isin(v["mode"], ("ambulance",)).sum())  # no string per row (memory)
    items["ambulance"] = ambulances * c.ambulance_per_year + runs * c.ambulance_per_run * per_year
    items["posted"] = posted_doctors(rc, sites) * c.posting_allowance_per_year
    _row(rows, "running_cost_per_year", sum(items.values()))
    for k, x in items.items():
        _row(rows, "running_cost_per_year", x, k)
    return float(sum(items.values()))


#: the groups of ``capital_cost`` and ``capital_cost_per_year`` besides the county total, in order.
CAPITAL_COST_ITEMS = ("remote", "tele_ecg", "expert", "restructure")


def annuity_factor(rate: float, years: float) -> float:
    """The yearly payment that repays 1 CNY of capital over ``years`` at ``rate`` (an annuity;
    straight-line 1 / years at rate 0).

    >>> round(annuity_factor(0.05, 6), 4), annuity_factor(0.0, 5)
    (0.197, 0.2)
    """
    if years <= 0:
        return math.nan
    if rate == 0:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** -years)


def _capital_costs(rows: list, sites: pd.DataFrame, rc: RestructureConfig, lv: LeversConfig,
                   prices: Prices) -> float:
    """One-off (capital) cost of the scenario's levers and restructuring (CNY), by item, and the
    same annualised over each item's lifetime at ``care.prices.discount_rate``; returns the
    annualised total.  Priced from the configs and the sites table, not the records.

    - ``remote``: reading centres x (``centre_setup`` + max(readers, night readers) x
      ``workstation_per_seat``) + sending sites x ``sending_site_setup`` (lifetime
      ``levers.remote.capital.lifetime_years``);
    - ``tele_ecg``: sending sites x ``tele_ecg_device`` (``tele_ecg_lifetime_years``);
    - ``expert``: for every (visited tier-1 site, specialty) pair of the teams, the specialty's
      ``equipment_per_site`` (``lifetime_years``), + ``vehicles`` x ``vehicle_price`` (vehicles:
      8 years, :data:`sim.config.schema.LIFETIME_VEHICLE_YEARS`);
    - ``restructure``: beds a site gains (``merge``: the moved beds, ``scale`` of beds by more
      than 1: the added ones) x ``capital_per_bed_added`` + posts opened (``convert_to_post``) x
      ``capital_per_post`` + ``capital_other`` (``capital_lifetime_years``).

    ``restructure.capital_saved`` is not netted off (it stays its own KPI).
    """
    r = prices.discount_rate
    one_off = dict.fromkeys(CAPITAL_COST_ITEMS, 0.0)
    yearly = dict.fromkeys(CAPITAL_COST_ITEMS, 0.0)
    rm = lv.remote
    if rm.enabled and (rm.modalities or rm.tele_ecg):
        cap = rm.capital
        n_sending, centres = _remote_sending(sites, rm)
        one_off["remote"] = (centres * (cap.centre_setup + max(rm.readers, rm.night_readers) * cap.workstation_per_seat)
                             + n_sending * cap.sending_site_setup)
        yearly["remote"] = one_off["remote"] * annuity_factor(r, cap.lifetime_years)
        if rm.tele_ecg:
            one_off["tele_ecg"] = n_sending * cap.tele_ecg_device
            yearly["tele_ecg"] = one_off["tele_ecg"] * annuity_factor(r, cap.tele_ecg_lifetime_years)
    ex = lv.expert
    if ex.enabled:
        cap_x = ex.capital
        tier = sites["tier"].to_numpy()
        closed = sites["closed"].to_numpy(dtype=bool) if "closed" in sites else np.zeros(len(sites), dtype=bool)
        lead = sites["lead"].astype(str).to_numpy() if "lead" in sites else np.full(len(sites), "")
        ids = sites["site"].astype(str).to_numpy()
        grassroots = set(ids[tier == 1])
        pairs: set[tuple[str, str]] = set()
        for team in ex.teams:
            if team.sites:
                visited = list(team.sites)
            else:  # every open tier-1 member of the lead (the single lead where unnamed)
                members = (tier == 1) & ~closed & (lead != "")
                visited = list(ids[members & (lead == team.lead)] if team.lead else ids[members])
            # a lead hospital has its specialties' equipment: only grassroots sites buy
            pairs.update((site, team.specialty) for site in visited if site in grassroots)
        equipment = float(sum(cap_x.equipment_per_site.get(spec, 0.0) for _, spec in pairs))
        vehicles = cap_x.vehicles * cap_x.vehicle_price
        one_off["expert"] = equipment + vehicles
        yearly["expert"] = (equipment * annuity_factor(r, cap_x.lifetime_years)
                            + vehicles * annuity_factor(r, LIFETIME_VEHICLE_YEARS))
    beds = sites.set_index(sites["site"].astype(str))["beds"] if "beds" in sites else pd.Series(dtype=float)
    added, posts = 0.0, 0
    for op in rc.operations:
        if op.op == "merge" and op.site in beds.index:
            added += math.floor(float(beds[op.site]) * op.keep_share + 0.5)
        elif op.op == "scale" and op.resource == "beds" and op.factor > 1:
            targets = [op.site] if op.site else list(sites.loc[(sites["tier"] == op.tier) & ~sites["closed"], "site"]
                                                     .astype(str))
            added += sum(float(beds[t]) - math.floor(float(beds[t]) / op.factor + 0.5) for t in targets if t in beds.index)
        elif op.op == "convert_to_post":
            posts += 1
    one_off["restructure"] = added * rc.capital_per_bed_added + posts * rc.capital_per_post + rc.capital_other
    yearly["restructure"] = one_off["restructure"] * annuity_factor(r, rc.capital_lifetime_years)
    _row(rows, "capital_cost", sum(one_off.values()))
    for k, x in one_off.items():
        _row(rows, "capital_cost", x, k)
    _row(rows, "capital_cost_per_year", sum(yearly.values()))
    for k, x in yearly.items():
        _row(rows, "capital_cost_per_year", x, k)
    return float(sum(yearly.values()))


#: lever events that mean "managed at the member site instead of referred up".
AVOIDED_EVENTS = ("expert_avoided", "skill_local", "remote_local", "mdt_local")


def _lever_kpis(rows: list, tables: dict, occupancy: pd.DataFrame, pk: pd.DataFrame, v: Visits,
                vt: np.ndarray, conditions: pd.DataFrame, warm: float, warmup_days: float) -> None:
    """KPIs of the policy levers (expert visits, remote diagnosis, tele-ECG; :mod:`sim.levers`).  Emitted
    for every run (zeros when the levers are off) so that a baseline pairs with every lever
    scenario.

    - ``local_treatment_share`` (group = specialty): share of ended non-emergency episodes of
      the specialty's conditions whose treating visit (treated or admitted, the last one) was
      at a village clinic or a member centre (tier <= 1).
    - ``expert_hours_on_site``: doctor-hours specialists spent on site (arrival to departure,
      incl. working off the queue); ``expert_hours_lost_lead``: doctor-hours lead-hospital
      specialists were away from the lead, travel included (visits arriving after warm-up;
      also by specialty).
    - ``deferred_patients`` and ``deferred_extra_wait_days_mean``: patients sent home to wait
      for the next visit, and their extra days.
    - ``remote_studies`` (reported or failed), ``remote_failures``, turnaround (report minus
      sent: transmission + queue + reading) mean and p90 (also by modality),
      ``remote_backlog_mean`` (time-weighted studies waiting for a reader, all centres),
      ``reader_utilisation``.
    - ``managed_locally_by_levers``: patients managed locally thanks to a lever (expert on site for a
      condition the site otherwise refers, skill transfer, remote report, remote consult).
    """
    pids = pk["patient"].to_numpy()
    _local_treatment(rows, pk, v, vt, conditions)

    xv = tables.get("expert_visits")
    if xv is not None and len(xv):
        xv = xv[xv["arrive"].to_numpy() >= warm]
    if xv is None or not len(xv):
        _row(rows, "expert_visits", 0)
        _row(rows, "expert_hours_on_site", 0.0)
        _row(rows, "expert_hours_lost_lead", 0.0)
    else:
        docs = xv["doctors"].to_numpy().astype(float)
        on_site = np.nan_to_num(xv["leave"].to_numpy() - xv["arrive"].to_numpy()) * docs / 60.0
        from_lead = xv["lead"].cat.codes.to_numpy() >= 0
        away = np.where(from_lead, np.nan_to_num(xv["return"].to_numpy() - xv["depart"].to_numpy()) * docs / 60.0, 0.0)
        _row(rows, "expert_visits", len(xv))
        _row(rows, "expert_hours_on_site", on_site.sum())
        _row(rows, "expert_hours_lost_lead", away.sum())
        by = pd.DataFrame({"sp": labels(xv["specialty"]), "h": on_site, "a": away}).groupby("sp")
        for sp, g in by:
            _row(rows, "expert_hours_on_site", g["h"].sum(), str(sp))
            _row(rows, "expert_hours_lost_lead", g["a"].sum(), str(sp))

    ev = tables.get("lever_events")
    if ev is not None and len(ev):
        ev = ev[np.isin(ev["patient"].to_numpy(), pids)]
        kind = labels(ev["event"])
        val = ev["value"].to_numpy()
    else:
        kind = np.array([], dtype=object)
        val = np.array([])
    _row(rows, "expert_patients", (kind == "expert_seen").sum())
    _row(rows, "skill_local_treated", (kind == "skill_local").sum())
    d = kind == "deferred"
    _row(rows, "deferred_patients", d.sum())
    _row(rows, "deferred_extra_wait_days_mean", float(val[d].mean()) if d.any() else math.nan)
    _row(rows, "managed_locally_by_levers", np.isin(kind, AVOIDED_EVENTS).sum())
    _row(rows, "remote_consults", np.isin(kind, ("mdt_local", "mdt_referred")).sum())
    _row(rows, "tele_ecg_bypass", (kind == "tele_ecg_bypass").sum())

    rs = tables.get("remote_studies")
    if rs is not None and len(rs):
        rs = rs[(rs["sent"].to_numpy() >= warm) & ~np.isnan(rs["report"].to_numpy())]
    if rs is None or not len(rs):
        _row(rows, "remote_studies", 0)
        _row(rows, "remote_failures", 0)
        _row(rows, "remote_turnaround_mean_min", math.nan)
        _row(rows, "remote_turnaround_p90_min", math.nan)
    else:
        ta = rs["report"].to_numpy() - rs["sent"].to_numpy()
        _row(rows, "remote_studies", len(rs))
        _row(rows, "remote_failures", (labels(rs["status"]) == "failed").sum())
        _row(rows, "remote_turnaround_mean_min", ta.mean())
        _row(rows, "remote_turnaround_p90_min", np.percentile(ta, 90))
        for m, g in pd.DataFrame({"m": labels(rs["modality"]), "ta": ta}).groupby("m"):
            _row(rows, "remote_studies", len(g), str(m))
            _row(rows, "remote_turnaround_mean_min", g["ta"].mean(), str(m))
            _row(rows, "remote_turnaround_p90_min", np.percentile(g["ta"], 90), str(m))
    occ = occupancy[(occupancy["day"] >= int(math.ceil(warmup_days))) & (occupancy["resource"] == "readers")]
    if len(occ):
        cap = occ["capacity"].sum()
        _row(rows, "reader_utilisation", occ["in_use"].sum() / cap if cap > 0 else math.nan)
        _row(rows, "remote_backlog_mean", occ.groupby("day")["queue"].sum().mean())
    else:
        _row(rows, "reader_utilisation", math.nan)
        _row(rows, "remote_backlog_mean", math.nan)
    _green_channel_kpis(rows, tables, pk, v, vt, conditions, ev, kind, val)


def _local_treatment(rows: list, pk: pd.DataFrame, v: Visits, vt: np.ndarray, conditions: pd.DataFrame) -> None:
    """``local_treatment_share`` by specialty (see :func:`_lever_kpis`): the share of ended
    outpatient-pathway episodes completed whose last treating visit was at tier 0-1.  In numbers
    per row (codes, a sorted array of patients), no string or hash table per row (memory)."""
    treat = _isin(v["outcome"], ("treated", "admitted"))
    local = _isin(pk["exit"], ("completed",)) & _last_tier_at_most(_values(v, "patient", treat), vt[treat],
                                                                    pk["patient"].to_numpy(), 1)
    ended = ~_isin(pk["exit"], ("in_system",))
    outp = _per_category(pk["condition"], conditions["pathway"], "outpatient")
    for sp in sorted(set(conditions.loc[conditions["pathway"] == "outpatient", "specialty"])):
        sel = ended & outp & _per_category(pk["condition"], conditions["specialty"], sp)
        n = int(sel.sum())
        _row(rows, "local_treatment_share", local[sel].sum() / n if n else math.nan, str(sp))


def _last_tier_at_most(pat: np.ndarray, tier: np.ndarray, patients: np.ndarray, top: int,
                       chunk: int = 1 << 19) -> np.ndarray:
    """For each of ``patients``: whether the tier of its last row in ``(pat, tier)`` (rows in
    time order) is at most ``top``; false for a patient with no row.

    The rows are read ``chunk`` at a time, in order, each chunk's last row per patient
    overwriting the earlier chunks' (memory, issue #18: finding the last rows of all of them at
    once sorts a copy of them all, ~30 B per row).

    >>> _last_tier_at_most(np.array([5, 7, 5]), np.array([1, 2, 3]), np.array([5, 6, 7]), 2).tolist()
    [False, False, True]
    """
    if not len(pat) or not len(patients):
        return np.zeros(len(patients), dtype=bool)
    increasing = len(patients) < 2 or bool((patients[1:] > patients[:-1]).all())
    ids = patients if increasing else np.sort(patients, kind="stable")
    res = np.zeros(len(ids), dtype=bool)  # per position in ids: its last row so far is at most top
    for lo in range(0, len(pat), chunk):
        uniq, first = np.unique(pat[lo:lo + chunk][::-1], return_index=True)  # first of the reversed: the last
        at_most = tier[lo:lo + chunk][::-1][first] <= top
        pos = np.minimum(np.searchsorted(ids, uniq), len(ids) - 1)
        found = ids[pos] == uniq
        res[pos[found]] = at_most[found]
    return res if increasing else res[np.searchsorted(ids, patients)]


def _per_category(s: pd.Series, values: pd.Series, value: object) -> np.ndarray:
    """Whether the value (``values`` indexed by label) of each row of ``s`` is ``value``, as
    ``_by_code(s, values) == value`` gives it, compared once per category of a categorical column.

    >>> s = pd.Series(pd.Categorical(["stroke", "cold", None]))
    >>> _per_category(s, pd.Series({"stroke": "stroke", "cold": "outpatient"}), "outpatient").tolist()
    [False, True, False]
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        table = values.reindex(s.cat.categories.astype(str)).to_numpy(dtype=object, na_value=np.nan)
        return np.asarray(np.append(table, np.nan) == value, dtype=bool)[s.cat.codes.to_numpy()]
    return np.asarray(_by_code(s, values) == value, dtype=bool)


def _green_channel_kpis(rows: list, tables: dict, pk: pd.DataFrame, v: Visits, vt: np.ndarray,
                        conditions: pd.DataFrame, ev: pd.DataFrame | None, kind: np.ndarray, val: np.ndarray) -> None:
    """KPIs of the green channel (绿色通道, :mod:`sim.levers.green_channel`), for every run: waits
    at the lead hospitals of referred and of self-presenting outpatients, bed waits there of
    referred and other admissions, green-channel patients and those referred back."""
    pids = pk["patient"].to_numpy()
    vpat = _values(v, "patient")
    # each visit's patient's condition is an outpatient one (every visit's patient is in pk)
    outp_pat = _per_category(pk["condition"], conditions["pathway"], "outpatient")
    if len(pids) and bool((pids[1:] >= pids[:-1]).all()):
        outp = outp_pat[np.searchsorted(pids, vpat)] if len(vpat) else np.zeros(0, dtype=bool)
    else:
        outp = outp_pat[pd.Index(pids).get_indexer(vpat)]
    del vpat  # one per visit: only the referred ones' are read again
    wait = _waits(v)
    at_lead = (vt == 2) & outp & ~np.isnan(wait)
    del outp
    for metric, m in (("lead_wait_referred_mean_min", "referral"), ("lead_wait_self_mean_min", "self")):
        w = wait[at_lead & _isin(v["mode"], (m,))]
        _row(rows, metric, w.mean() if len(w) else math.nan)
    del wait, at_lead
    a = tables["admissions"]
    a = a[np.isin(a["patient"].to_numpy(), pids)]
    # labels of the few rows each set needs, not of every visit (memory)
    lead_sites = set(labels(pd.Series(v["facility"].array[vt == 2], copy=False)))
    ref_lead = (vt == 2) & _isin(v["mode"], ("referral",))
    referred = set(zip(_values(v, "patient", ref_lead).tolist(), labels(pd.Series(v["facility"].array[ref_lead], copy=False)).tolist()))
    del ref_lead
    afac = labels(a["facility"])
    bed_wait = a["admit"].to_numpy() - a["request"].to_numpy()
    granted = np.isin(afac, list(lead_sites)) & ~np.isnan(bed_wait)
    is_ref = np.array([(p, f) in referred for p, f in zip(a["patient"].to_numpy().tolist(), afac.tolist())], dtype=bool)
    for metric, sel in (("lead_bed_wait_referred_mean_min", granted & is_ref),
                        ("lead_bed_wait_other_mean_min", granted & ~is_ref)):
        _row(rows, metric, bed_wait[sel].mean() if sel.any() else math.nan)
    g = kind == "green_channel"
    if ev is None or not g.any():
        _row(rows, "green_channel_patients", 0)
        _row(rows, "referred_back", 0)
        return
    green_pat = ev["patient"].to_numpy()[g]
    names = ev["site"].cat.categories  # the facility categories: site ids in site order
    referrer = dict(zip(green_pat.tolist(), [str(names[int(x)]) for x in val[g]]))
    _row(rows, "green_channel_patients", len(set(green_pat.tolist())))
    down = _isin(v["mode"], ("down_referral",))
    back = sum(1 for p, f in zip(_values(v, "patient", down).tolist(),
                                 labels(pd.Series(v["facility"].array[down], copy=False)).tolist())
               if referrer.get(p) == f)
    _row(rows, "referred_back", back)


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, standard deviation and the t-based confidence interval of replication values.

    >>> m, sd, lo, hi = mean_ci(np.array([1.0, 2.0, 3.0]))
    >>> m, round(lo, 3), round(hi, 3)
    (2.0, -0.484, 4.484)
    """
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan
    m = float(x.mean())
    if n == 1:
        return m, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    h = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return m, sd, m - h, m + h


def summarise(kpi: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean and confidence interval per scenario, metric and group, across replications."""
    rows = []
    for (scen, metric, group), g in kpi.groupby(["scenario", "metric", "group"], sort=False, observed=True):
        m, sd, lo, hi = mean_ci(g["value"].to_numpy(), level)
        rows.append((scen, metric, group, int(g["value"].notna().sum()), m, sd, lo, hi))
    return pd.DataFrame(rows, columns=["scenario", "metric", "group", "n", "mean", "sd", "ci_low", "ci_high"])


def paired_differences(kpi: pd.DataFrame, baseline: str, level: float = 0.95) -> pd.DataFrame:
    """Scenario minus baseline, paired by replication (common random numbers), with CIs.

    Also reports the half-width an unpaired (Welch) comparison of the same runs would give,
    so the variance reduction from CRN is visible.
    """
    base = kpi[kpi["scenario"] == baseline].set_index(["metric", "group", "replication"])["value"]
    rows = []
    for scen in [s for s in kpi["scenario"].unique() if s != baseline]:
        other = kpi[kpi["scenario"] == scen].set_index(["metric", "group", "replication"])["value"]
        joined = pd.concat({"b": base, "s": other}, axis=1, join="inner")
        for (metric, group), g in joined.groupby(level=[0, 1], sort=False):
            d = (g["s"] - g["b"]).to_numpy()
            m, sd, lo, hi = mean_ci(d, level)
            mb, sdb, _, _ = mean_ci(g["b"].to_numpy(), level)
            ms, sds, _, _ = mean_ci(g["s"].to_numpy(), level)
            n = int((~np.isnan(d)).sum())
            unpaired = math.nan
            if n > 1 and not (math.isnan(sdb) or math.isnan(sds)):
                se = math.sqrt(sdb ** 2 / n + sds ** 2 / n)
                dof = n - 1 if se == 0 else max(1.0, se ** 4 / ((sdb ** 2 / n) ** 2 / (n - 1) + (sds ** 2 / n) ** 2 / (n - 1)))
                unpaired = float(stats.t.ppf(0.5 + level / 2, dof)) * se
            rows.append((scen, baseline, metric, group, n, m, lo, hi, (hi - lo) / 2 if n > 1 else math.nan, unpaired))
    return pd.DataFrame(rows, columns=["scenario", "baseline", "metric", "group", "n", "mean_diff", "ci_low", "ci_high",
                                       "paired_half_width", "unpaired_half_width"])


def recompute(result: RunResult, warmup_days: float | None = None, prices: Prices | None = None) -> pd.DataFrame:
    """A run's KPI table recomputed from its record tables (no re-run), with another warm-up
    cut or other prices: the work behind :func:`sim.kpis`, documented there."""
    if result.patients is None:
        raise ValueError("this run kept no per-patient tables (run.keep_patients=false): "
                         "its KPIs cannot be recomputed")
    cfg = result.config
    warm = cfg.run.warmup_days if warmup_days is None else float(warmup_days)
    pr = cfg.care.prices if prices is None else prices
    frames = []
    for r in sorted(result.kpis["replication"].unique()) if len(result.kpis) else sorted(
            result.patients["replication"].unique()):
        tables = {}
        for t in TABLES:
            df = getattr(result, t)
            if df is not None:
                tables[t] = df[df["replication"] == r].reset_index(drop=True)
        occ = result.occupancy[result.occupancy["replication"] == r].reset_index(drop=True)
        k = kpis(tables, occ, result.sites, result.villages, result.conditions, pr, warm,
                 cfg.run.horizon_days, cfg.restructure, levers=cfg.levers, payment=cfg.payment)
        k.insert(0, "replication", np.int32(r))
        k.insert(0, "scenario", cfg.scenario)
        frames.append(k)
    return pd.concat(frames, ignore_index=True)
