"""The KPI registry: every KPI of :func:`sim.analysis.kpis.kpis` declared once, with its names, unit,
better direction, definition and source.

Pure Python (standard library only): no SimPy, no pandas, nothing from the model, so that
figures, the brief, the command line, the calibration checks and the documentation
(``docs/kpis.md``, generated from here by ``scripts/kpi_docs.py``) all read the same
declaration.  The older name tables (:data:`sim.analysis.kpis.KPI_ZH`, :data:`sim.analysis.kpis.KPI_BETTER`,
:data:`sim.report.plots.KPI_EN`, :data:`sim.report.plots.PERCENT_KPIS`, :data:`sim.report.plots.HEADLINE_KPIS`) are
views of :data:`REGISTRY`.

A :class:`KPI` has

- ``id``: the ``metric`` value in the KPI tables;
- ``zh`` / ``en``: its name, without the unit (:func:`label` adds the unit);
- ``unit``: one of :data:`UNITS` (``share`` is a proportion in [0, 1], shown as %);
- ``better``: +1 higher is better, -1 lower is better, 0 neither;
- ``definition``: how it is computed from the record tables (numerator / denominator);
- ``source``: the official indicator or standard it follows, or ``[MODEL]`` when it is the
  model's own;
- ``theme``: one of :data:`THEMES` (grouping for tables);
- ``headline``: one of the headline KPIs of the brief and the comparison figure;
- ``groups``: the kinds of ``group`` it is reported for (:data:`GROUP_KINDS`);
- ``signed``: the KPI can be negative (a surplus that can be an overrun); every other KPI is
  bounded below by 0, and a share above by 1 (:func:`bounds`).

The indicators of the national monitoring system for close-knit county medical communities
(紧密型县域医疗卫生共同体监测指标体系, 2024) use its numerators and denominators and cite it as
their source; KPIs whose source starts with ``[MODEL]`` are the model's own.

Formatting rules (:func:`format_value`; ``–`` for a missing value):

- ``share``: per cent with one decimal (``9.2%``), two significant digits below 1%;
  differences in percentage points (``+1.1 pp``, ``+1.1个百分点``);
- ``minutes`` / ``hours`` / ``days``: ``12.3 min``, ``12.3分钟``; ``h``/``小时``; ``days``/``天``;
- ``count``: a whole number of events, without decimals and with thousands separators
  (``1,531``); a difference of counts is a mean and gets decimals;
- ``cny`` (``cny_per_year`` adds ``/yr``, ``/年``): English ``CNY 70.2``, ``CNY 12,345``, from a
  million ``CNY 68.0 M``; Chinese ``70.2元``, ``12,345元``, from 100,000 in 万元 (``12.5万元``;
  from a million without decimals: ``6,800万元``), from 100 million in 亿元 (``6.8亿元``);
- anything else: one decimal from 1, none from 1,000, two significant digits below 1.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

__all__ = ["KPI", "Unit", "UNITS", "THEMES", "GROUP_KINDS", "COMPONENTS", "LANGUAGES", "REGISTRY", "get", "label",
           "unit_label", "is_share", "scale", "better", "bounds", "decimals_for", "format_value", "headline", "shares",
           "pad"]

LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class Unit:
    """A unit: its short label in each language and whether a KPI's label names it."""

    id: str
    en: str
    zh: str
    description: str
    #: :func:`label` appends ``(unit)`` (else the name already says it, e.g. "per person-year").
    in_label: bool = True


#: the declared units.
UNITS: dict[str, Unit] = {u.id: u for u in (
    Unit("share", "%", "%", "a proportion in [0, 1], shown as a percentage"),
    Unit("minutes", "min", "分钟", "minutes"),
    Unit("hours", "h", "小时", "hours (doctor-hours where the KPI says so)"),
    Unit("days", "days", "天", "days"),
    Unit("count", "", "", "a number of events in the post-warm-up period of one replication (not annualised)",
         in_label=False),
    Unit("mean_count", "", "", "a time-averaged number (e.g. of studies waiting)", in_label=False),
    Unit("per_day", "per day", "每日", "a number per day", in_label=False),
    Unit("per_year", "per year", "每年", "a number per year", in_label=False),
    Unit("per_person_year", "per person-year", "每人每年", "a number per resident per year", in_label=False),
    Unit("per_10k", "per 10,000 residents", "每万常住人口", "a number per 10,000 resident population", in_label=False),
    Unit("cny", "CNY", "元", "yuan (CNY)"),
    Unit("cny_per_year", "CNY/yr", "元/年", "yuan (CNY) per year"),
)}

#: themes, in table order: (English, Chinese).
THEMES: dict[str, tuple[str, str]] = {
    "retention": ("County retention and grassroots care", "县域内就诊与基层就诊"),
    "waiting": ("Waiting", "候诊"),
    "access": ("Access (travel)", "就医可及性(出行)"),
    "cost": ("Cost to patients and insurer", "患者与医保费用"),
    "emergency": ("Emergency care (chest pain, stroke, 120)", "急危重症救治(胸痛、卒中、120)"),
    "referral": ("Two-way referral", "双向转诊"),
    "capacity": ("Capacity use", "资源利用"),
    "volume": ("Volume", "服务量"),
    "levers": ("Policy levers (expert visits, remote diagnosis)", "政策措施(专家下沉、远程诊断)"),
    "restructuring": ("Running cost and restructuring", "运行成本与机构调整"),
    "payment": ("Payment (global budget)", "医保支付(打包付费)"),
}

#: what a KPI's ``group`` can be: the county, a tier (``tier0`` … ``tier2``), a facility id, a
#: village id, a specialty, an imaging / test modality, a condition (``condition:<id>``: condition
#: ids and specialties share names such as ``rehab``), a component of money (:data:`COMPONENTS`).
GROUP_KINDS = ("county", "tier", "site", "village", "specialty", "modality", "condition", "component")

#: the ``component`` groups: money in and out of the county (``in_county``, ``out_of_county``) and
#: the items of the running cost (the sites' doctors and beds, then each lever's cost) and of the capital
#: cost (each lever's, then the restructuring's).
COMPONENTS = ("in_county", "out_of_county", "sites", "remote", "expert", "tele_ecg", "ambulance", "posted",
              "restructure")


@dataclass(frozen=True)
class KPI:
    """One KPI, declared once (see the module docstring for the fields)."""

    id: str
    zh: str
    en: str
    unit: str
    better: int
    definition: str
    source: str
    theme: str
    headline: bool = False
    groups: tuple[str, ...] = ("county",)
    signed: bool = False

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"KPI {self.id}: unit {self.unit!r} is not one of {', '.join(UNITS)}")
        if self.better not in (-1, 0, 1):
            raise ValueError(f"KPI {self.id}: better must be -1, 0 or +1, got {self.better!r}")
        if self.theme not in THEMES:
            raise ValueError(f"KPI {self.id}: theme {self.theme!r} is not one of {', '.join(THEMES)}")
        bad = [g for g in self.groups if g not in GROUP_KINDS]
        if bad or not self.groups:
            raise ValueError(f"KPI {self.id}: groups {self.groups!r} must be among {', '.join(GROUP_KINDS)}")
        for f in ("id", "zh", "en", "definition", "source"):
            if not getattr(self, f).strip():
                raise ValueError(f"KPI {self.id}: empty {f}")


# Shared phrases of the definitions.
_EP = "episodes with onset after the warm-up"
_ENDED = "post-warm-up episodes that ended (completed, transferred out of county or left untreated)"
_PRICED = "priced by sim.analysis.kpis.price at the configured prices"
_CPC = "China Chest Pain Centre accreditation standard (中国胸痛中心认证标准)"
_STEMI_GL = ("STEMI guidelines (中国急性ST段抬高型心肌梗死诊断和治疗指南 2019; ESC 2017): first medical contact to "
             "reperfusion within 120 min for primary PCI, else fibrinolysis")
_EMS = ("cf. NHC guidance on pre-hospital emergency care (进一步完善院前医疗急救服务指导意见, 2020): 平均急救呼叫反应时间; "
        "[MODEL] self-presenting emergencies are included")
_ACCESS = ("cf. National Health Services Survey 2018 (国家卫生服务调查): households within 15 min of a medical point "
           "(89.9%), the '15-minute medical service circle' (15分钟医疗服务圈)")
_COST = ("cf. NHC statistical bulletin: cost per outpatient visit / per admission (次均门诊费用 / 人均住院费用) and the "
         "out-of-pocket share; [MODEL] " + _PRICED)
_COST_ADM = (_COST + "; cf. 2024 monitoring indicator 参保人在县域内住院人均费用 (the total: out-of-pocket + insurer "
             "per admission)")
_LEVER = "[MODEL] model-specific: the lever's mechanism (docs/levers.md)"
_MODEL_PAIRED = "[MODEL] a scenario's patients against their baseline twins under common random numbers"
_MON = "紧密型县域医疗卫生共同体监测指标体系 (2024)"
_ADM = ("admission rows of post-warm-up episodes granted a bed (county facilities, tier 1-2, and the out-of-county "
        "node, tier 3)")
_INS = f"insurer part of the visits and admissions of post-warm-up episodes, {_PRICED}"
_YEAR = f"of post-warm-up episodes, {_PRICED}, / post-warm-up years (group in_county: tiers 0-2; out_of_county: tier 3)"
_PAY = ("cf. global budget payment of close-knit county medical communities (医保基金总额付费, 结余留用、合理超支分担; "
        "国家医保局等 关于推进紧密型县域医共体医保支付方式改革); [MODEL] payment.* of the config")

_KPIS = (
    # --- retention ------------------------------------------------------------------------------
    KPI("inpatient_retention", "参保人县域内住院人次占比", "Residents' admissions in the county", "share", 1,
        "Residents' admissions at county facilities (tier 1-2 admission rows granted a bed) / all residents' "
        f"admissions ({_ADM}), of post-warm-up episodes.",
        _MON + ": 参保人县域内住院人次占比 (提效能); cf. the 2015 pilot standard of ~90% retention",
        "retention", headline=True),
    KPI("grassroots_visit_share_official", "县域内基层医疗卫生机构诊疗人次数占比", "Grassroots share of in-county visits",
        "share", 1,
        "Seen visits (with a consult start) at village clinics and township/community centres (tier 0-1) / seen "
        "visits at facilities in the county (tier 0-2), of post-warm-up episodes (out-of-county visits excluded).",
        _MON + ": 县域内基层医疗卫生机构诊疗人次数占比 (促分工); cf. the 2015 pilot standard >= 65%",
        "retention", headline=True),
    KPI("outward_transfer_rate", "外转率", "Outward transfer rate", "share", -1,
        "Out-of-county visits the county sent (mode referral, ambulance or another referred mode; not self, "
        f"after_renege or elsewhere) / all residents' admissions ({_ADM}), of post-warm-up episodes.",
        "cf. county medical community monitoring: 县外转诊率 (patients referred out of the county per admission); "
        "[MODEL] an out-of-county visit counts as one transfer",
        "retention", headline=True),
    KPI("county_retention", "县域内就诊率(按病例)", "County retention rate, by episode", "share", 1,
        f"Completed episodes / (completed + transferred-out episodes), over {_EP} that ended with care "
        "(left-untreated and still-in-care episodes are excluded).",
        "[MODEL] the model's own secondary KPI, counting episodes of every kind; cf. tiered-care guidance "
        "(国办发〔2015〕70号) and the 2015 pilot standard (县域内就诊率 about 90%); the official indicator is "
        "inpatient_retention",
        "retention"),
    KPI("grassroots_share", "基层就诊率(含县外)", "Grassroots visit share, all visits", "share", 1,
        "Visits at village clinics and township/community centres (tier <= 1) / all visits of post-warm-up "
        "episodes (out-of-county visits included in the denominator).",
        "[MODEL] the model's own: the denominator also counts out-of-county visits; the official indicator is "
        "grassroots_visit_share_official",
        "retention"),
    KPI("self_referral_out_of_county_rate", "自行县外就医率", "Self-referral out of county", "share", -1,
        f"Out-of-county visits the patient chose (mode self, bypassing the county) / {_ENDED}.",
        "[MODEL] model-specific: bypassing of the county system (自行县外就医)",
        "retention"),
    # --- waiting --------------------------------------------------------------------------------
    KPI("left_untreated_share", "未就诊离开比例", "Left untreated", "share", -1,
        f"Episodes that exited left untreated (balked or reneged and got no care) / {_ENDED}.",
        "[MODEL] model-specific; cf. the 'left without being seen' rate of emergency-department quality indicators",
        "waiting", headline=True),
    KPI("left_untreated", "未就诊离开人次", "Left untreated", "count", -1,
        "Post-warm-up episodes that exited left untreated (group condition:<id>: of that condition): the unmet "
        "need a lever must not pass off as a saving.",
        "[MODEL] model-specific", "waiting", groups=("county", "condition")),
    KPI("refused_admissions", "未能及时入院人次", "Admissions refused for want of a bed", "count", -1,
        "Bed requests of post-warm-up episodes at tiers 1-2 not granted within the bed wait (admission outcome "
        "no_bed; the patient was then transferred up or out of county; group tierN: that tier).",
        "[MODEL] model-specific", "waiting", groups=("county", "tier")),
    KPI("wait_mean_min", "平均候诊时间", "Mean waiting time", "minutes", -1,
        "Mean of consult start minus arrival over the seen visits of post-warm-up episodes at tiers 0-2 "
        "(group tierN: that tier only).",
        "cf. outpatient service indicator 平均候诊时间 (改善医疗服务行动计划); [MODEL] arrival to consult start",
        "waiting", headline=True, groups=("county", "tier")),
    KPI("wait_p90_min", "候诊时间第90百分位", "Waiting time, 90th percentile", "minutes", -1,
        "90th percentile of consult start minus arrival over the seen visits of post-warm-up episodes at "
        "tiers 0-2 (group tierN: that tier only).",
        "cf. outpatient service indicator 平均候诊时间 (改善医疗服务行动计划); [MODEL] the tail of the wait",
        "waiting", groups=("county", "tier")),
    # --- access ---------------------------------------------------------------------------------
    KPI("travel_mean_min", "平均出行时间", "Mean travel time", "minutes", -1,
        f"Mean over {_EP} of the patient's own road minutes in all (every self-transport trip of the episode, "
        "returns for deferred visits included; 120 transport counts 0).",
        "[MODEL] model-specific: the patients' travel cost of tiered care",
        "access", headline=True),
    KPI("first_contact_travel_mean_min", "首诊平均出行时间", "Mean travel time to first contact", "minutes", -1,
        "Mean road minutes from home to the first-contact facility over post-warm-up episodes with a first "
        "facility that did not call 120 (group: home village).",
        _ACCESS, "access", groups=("county", "village")),
    KPI("first_contact_travel_p90_min", "首诊出行时间第90百分位", "Travel time to first contact, 90th percentile",
        "minutes", -1,
        "90th percentile of road minutes from home to the first-contact facility over post-warm-up episodes "
        "with a first facility that did not call 120 (group: home village).",
        _ACCESS, "access", groups=("county", "village")),
    KPI("share_beyond_30_min", "首诊出行超30分钟比例", "First contact over 30 min away", "share", -1,
        "Episodes whose road time to the first-contact facility exceeds 30 min / post-warm-up episodes with a "
        "first facility that did not call 120.",
        _ACCESS + "; [ASSUMED] 30-min threshold", "access"),
    KPI("share_beyond_60_min", "首诊出行超60分钟比例", "First contact over 60 min away", "share", -1,
        "Episodes whose road time to the first-contact facility exceeds 60 min / post-warm-up episodes with a "
        "first facility that did not call 120.",
        _ACCESS + "; [ASSUMED] 60-min threshold", "access"),
    # --- cost -----------------------------------------------------------------------------------
    KPI("oop_per_episode", "例均自付费用", "Out-of-pocket cost per episode", "cny", -1,
        "(Out-of-pocket part of all visits and admissions + travel time valued at prices.travel_per_hour) / "
        f"{_EP}, {_PRICED}.",
        _COST, "cost", headline=True),
    KPI("oop_per_visit", "次均门诊自付费用", "Out-of-pocket cost per visit", "cny", -1,
        "(Out-of-pocket part of the visits' consults, drugs, tests and ambulance trips, out-of-county visits "
        "included, plus the episodes' travel time at prices.travel_per_hour) "
        f"/ visits of post-warm-up episodes, {_PRICED}.",
        _COST, "cost"),
    KPI("insurer_per_visit", "次均门诊医保支付", "Insurer cost per visit", "cny", -1,
        "Insurer part of the visits' consults, drugs, tests and ambulance trips (out-of-county visits included) / "
        f"visits of post-warm-up episodes, {_PRICED}.",
        _COST, "cost"),
    KPI("oop_per_admission", "次均住院自付费用", "Out-of-pocket cost per admission", "cny", -1,
        "Out-of-pocket part of in-county bed-days (grant of the bed to discharge or the horizon) / in-county "
        f"admissions granted a bed, of post-warm-up episodes, {_PRICED}.",
        _COST_ADM, "cost"),
    KPI("insurer_per_admission", "次均住院医保支付", "Insurer cost per admission", "cny", -1,
        "Insurer part of in-county bed-days (grant of the bed to discharge or the horizon) / in-county admissions "
        f"granted a bed, of post-warm-up episodes, {_PRICED}.",
        _COST_ADM, "cost"),
    KPI("insurer_per_episode", "例均医保支付", "Insurer cost per episode", "cny", -1,
        f"Insurer part of all visits and admissions / {_EP}, {_PRICED}.",
        _COST, "cost"),
    KPI("cost_per_admission_in_county", "参保人县域内住院人均费用", "Cost per in-county admission", "cny", -1,
        "Medical cost (bed-days x (bed-day + drugs per bed-day) of the tier; out-of-pocket + insurer) of residents' "
        f"admission rows at county facilities (tier 1-2) granted a bed / their number, of post-warm-up episodes, "
        f"{_PRICED}.",
        _MON + ": 参保人在县域内住院人均费用 (提效能); cf. NHC bulletin 2023: hospitals 10,315.8 CNY per admission",
        "cost"),
    KPI("fund_in_county_share", "医保基金县域内支出占比", "Insurer spending in the county", "share", 1,
        f"Insurer spending at county facilities (tier 0-2) / all insurer spending on residents (tier 0-3; {_INS}).",
        _MON + ": 医保基金县域内支出占比 (不含药店; 促分工)", "cost"),
    KPI("fund_grassroots_share", "县域内基层医疗卫生机构医保基金支出占比", "Insurer spending at the grassroots",
        "share", 1,
        f"Insurer spending at village clinics and township centres (tier 0-1) / insurer spending at county "
        f"facilities (tier 0-2; {_INS}).",
        _MON + ": 县域内基层医疗卫生机构医保基金支出占比 (促分工)", "cost"),
    KPI("insurer_spending_per_year", "医保基金支出", "Insurer spending", "cny_per_year", -1,
        f"Insurer part of all visits and admissions {_YEAR}.",
        "cf. NHC bulletin and the medical insurance statistical bulletin (医保基金支出); [MODEL] " + _PRICED,
        "cost", groups=("county", "component")),
    KPI("oop_per_year", "个人自付费用", "Out-of-pocket spending", "cny_per_year", -1,
        f"Out-of-pocket part of all visits and admissions (travel excluded) {_YEAR}.",
        "cf. NHC bulletin 2023: personal spending 27.3% of total health spending (个人卫生支出); [MODEL] " + _PRICED,
        "cost", groups=("county", "component")),
    KPI("medical_spending_per_year", "医疗总费用", "Medical spending", "cny_per_year", -1,
        f"Medical cost (out-of-pocket + insurer) of all visits and admissions {_YEAR}.",
        "cf. NHC bulletin: total health spending (卫生总费用); [MODEL] medical care of the episodes only, " + _PRICED,
        "cost", groups=("county", "component")),
    KPI("oop_share", "个人自付比例", "Out-of-pocket share", "share", -1,
        "Out-of-pocket part / medical cost of all visits and admissions of post-warm-up episodes (travel excluded), "
        f"{_PRICED}.",
        "cf. NHC bulletin 2023: personal spending 27.3% of total health spending; [MODEL] medical care only",
        "cost"),
    # --- emergency ------------------------------------------------------------------------------
    KPI("stemi_within_120_share", "STEMI 120分钟内再灌注比例", "STEMI reperfused within 120 min", "share", 1,
        "STEMI episodes reperfused at most 120 min after first medical contact / post-warm-up STEMI episodes "
        "with a first medical contact (not reperfused counts as beyond).",
        _STEMI_GL, "emergency", headline=True),
    KPI("stemi_fmc_to_reperfusion_median_min", "STEMI首次医疗接触至再灌注中位时间",
        "STEMI first contact to reperfusion, median", "minutes", -1,
        "Median of reperfusion minus first medical contact over the reperfused post-warm-up STEMI episodes.",
        _STEMI_GL, "emergency"),
    KPI("door_to_balloon_median_min", "STEMI进门至球囊扩张中位时间", "Door-to-balloon time, median", "minutes", -1,
        "Median of balloon minus door over post-warm-up STEMI episodes reperfused by PCI, as the chest-pain "
        "centre standard defines it: door = arrival at the PCI hospital, balloon = the wire crossing the lesion "
        "(导丝通过), so it holds the ED work-up or, after a tele-ECG pre-activation, the way straight to the lab, "
        "the activation wait and the minutes on the table (care.emergency.device_minutes).",
        _CPC + ": door-to-balloon <= 90 min", "emergency"),
    KPI("door_to_balloon_within_90_share", "进门至球囊扩张≤90分钟比例", "Door-to-balloon within 90 min", "share", 1,
        "STEMI episodes reperfused by PCI with door-to-balloon at most 90 min / post-warm-up STEMI episodes "
        "reperfused by PCI.",
        _CPC + ": door-to-balloon <= 90 min in >= 75% of cases", "emergency"),
    KPI("fmc_to_ecg_within_10_share", "首次医疗接触至心电图<10分钟比例", "First contact to ECG under 10 min",
        "share", 1,
        "STEMI emergency rows whose first ECG came less than 10 min after first medical contact (strictly; no ECG "
        "counts as beyond) / post-warm-up STEMI emergency rows.",
        _CPC + ": first medical contact to ECG < 10 min", "emergency"),
    KPI("stemi_thrombolysis_share", "STEMI溶栓再灌注比例", "STEMI reperfused by thrombolysis", "share", 0,
        "Post-warm-up STEMI episodes reperfused by thrombolysis / STEMI episodes reperfused (PCI or "
        "thrombolysis).",
        "China Chest Pain Centre basic (基层版) standard: thrombolysis where PCI cannot be reached within 120 min "
        "(pharmaco-invasive strategy)", "emergency"),
    KPI("stroke_onset_to_needle_median_min", "卒中发病至溶栓中位时间", "Stroke onset to needle, median", "minutes", -1,
        "Median of needle (reperfusion) minus call (the 120 call, or onset for self-presenters) over "
        "post-warm-up stroke episodes given thrombolysis.",
        "Chinese acute ischaemic stroke guideline (中国急性缺血性脑卒中诊治指南 2018) and stroke-centre "
        "standards: IV thrombolysis within 4.5 h of onset, door-to-needle within 60 min", "emergency"),
    KPI("emergency_first_contact_mean_min", "急危重症首次医疗接触平均时间", "Emergency call to first contact, mean",
        "minutes", -1,
        "Mean of first medical contact minus call over post-warm-up emergency rows with both (120 callers: call "
        "to ambulance on scene; self-presenters: onset to arrival at the first site; group: home village).",
        _EMS, "emergency", groups=("county", "village")),
    KPI("emergency_first_contact_p90_min", "急危重症首次医疗接触时间第90百分位",
        "Emergency call to first contact, 90th percentile", "minutes", -1,
        "90th percentile of first medical contact minus call over post-warm-up emergency rows with both "
        "(120 callers and self-presenters).",
        _EMS, "emergency"),
    KPI("emergency_share_beyond_30_min", "急危重症首次医疗接触超30分钟比例", "Emergency first contact over 30 min",
        "share", -1,
        "Emergency rows whose first medical contact came more than 30 min after the call / post-warm-up "
        "emergency rows with a call and a first medical contact.",
        _EMS, "emergency"),
    KPI("emergency_share_beyond_60_min", "急危重症首次医疗接触超60分钟比例", "Emergency first contact over 60 min",
        "share", -1,
        "Emergency rows whose first medical contact came more than 60 min after the call / post-warm-up "
        "emergency rows with a call and a first medical contact.",
        _EMS, "emergency"),
    # --- referral -------------------------------------------------------------------------------
    KPI("up_referrals", "上转人次", "Up-referrals", "count", 0,
        f"Sum of the up-referral counters (referrals and transfers to a higher tier, out of county included) of "
        f"{_EP}.",
        "Two-way referral statistics (双向转诊: 上转人次)", "referral"),
    KPI("up_referral_rate", "上转率", "Up-referral rate", "share", 0,
        f"Up-referrals / {_EP} (an episode referred twice counts twice, so strictly a rate per episode; it "
        "stays far below 1).",
        "cf. two-way referral monitoring: 上转率; [MODEL] per episode", "referral"),
    KPI("down_referrals", "下转人次", "Down-referrals", "count", 1,
        f"Sum of the down-referral counters (lead-hospital inpatients sent to the township centre near home) of "
        f"{_EP}.",
        "Two-way referral statistics (双向转诊: 下转人次)", "referral"),
    KPI("down_referral_rate", "下转率", "Down-referral rate", "share", 1,
        "Down-referrals / lead-hospital (tier-2) admissions of post-warm-up episodes discharged before the end of "
        "the run.",
        "cf. two-way referral monitoring: 下转率; [MODEL] per lead-hospital discharge", "referral"),
    KPI("delayed_discharge_bed_days_per_year", "每年延迟出院床日数", "Delayed-discharge bed-days per year",
        "per_year", -1,
        "Minutes lead-hospital beds were kept while waiting for a tier-1 bed on down-referral (admissions' "
        "blocked_min, post-warm-up episodes) / 1440 / post-warm-up years.",
        "[MODEL] model-specific; cf. 'delayed transfers of care' bed-days (NHS England)", "referral"),
    KPI("circular_waits", "上下转床位循环等待次数", "Circular bed waits", "count", -1,
        "Bed waits of post-warm-up episodes that began while someone held a bed at the wanted site waiting for "
        "a bed at this one (lever_events circular_wait).",
        "[MODEL] model-specific", "referral"),
    KPI("down_bed_timeouts", "下转等床超时次数", "Down-referral bed-wait timeouts", "count", -1,
        "Down-referrals of post-warm-up episodes whose wait for a tier-1 bed ran out, so the patient went home "
        "(lever_events down_bed_timeout).",
        "[MODEL] model-specific", "referral"),
    KPI("deterioration_transfers_up", "病情加重上转人次", "Deterioration transfers up", "count", 0,
        "Tier-1 inpatients of post-warm-up episodes who deteriorated and moved to a lead-hospital bed "
        "(lever_events deterioration_up).",
        "[MODEL] model-specific", "referral"),
    KPI("deterioration_transfers_out", "病情加重转县外人次", "Deterioration transfers out of county", "count", -1,
        "Tier-1 inpatients of post-warm-up episodes who deteriorated and, with no lead-hospital bed in time, "
        "moved out of county (lever_events deterioration_out).",
        "[MODEL] model-specific", "referral"),
    # --- capacity -------------------------------------------------------------------------------
    KPI("doctor_utilisation", "医生利用率", "Doctor utilisation", "share", 0,
        "Time-weighted doctors in use / doctors on duty (capacity), summed over every doctor pool and "
        "post-warm-up day (group: a site of tier 1-2, or tier0 / tier1 / tier2).",
        "[MODEL] model-specific: the share of staffed doctor time spent with patients", "capacity",
        groups=("site", "tier")),
    KPI("bed_occupancy", "病床使用率", "Bed occupancy", "share", 0,
        "Time-weighted beds in use / beds (capacity), summed over the post-warm-up days (group: site, tier1 or "
        "tier2).",
        "NHC statistical bulletin: 病床使用率 (occupied bed-days / open bed-days; hospitals 79.4% in 2023)",
        "capacity",
        groups=("site", "tier")),
    KPI("mean_stay_days", "出院者平均住院日", "Mean length of stay", "days", 0,
        "Bed-days occupied in the post-warm-up window by every in-county stay / stays that began in the window "
        "(Little's law; group: county = tiers 1-2, tier1, tier2).  A move to another site ends that site's "
        "stay.  Unlike a mean over the stays discharged in the window it does not read short on a short run.",
        "NHC statistical bulletin: 出院者平均住院日 (hospitals 8.8 days in 2023, public 8.4); township centres "
        "6.35-6.8 days (provincial series 2014-22); the steady-state form of the same ratio", "capacity",
        groups=("county", "tier")),
    # --- volume ---------------------------------------------------------------------------------
    KPI("episodes", "病例数", "Episodes of care", "count", 0,
        f"Number of {_EP} in one replication, whatever their outcome.",
        "[MODEL] model-specific: demand, the denominator of the per-episode KPIs", "volume"),
    KPI("visits_per_person_year", "人均年就诊人次", "Facility visits per person-year", "per_person_year", 0,
        "Visits (every tier, out of county included) of post-warm-up episodes / county population / "
        "post-warm-up years.",
        "cf. NHC statistical bulletin: outpatient visits per person per year (6.8 in 2023); [MODEL] every "
        "facility visit of an episode counts, admissions included", "volume"),
    KPI("admissions_per_person_year", "人均年住院人次", "Admissions per person-year", "per_person_year", 0,
        "(In-county admissions granted a bed + expected out-of-county admissions, the condition's admit_prob per "
        "out-of-county visit) of post-warm-up episodes / county population / post-warm-up years.",
        "cf. NHC statistical bulletin: admissions per resident per year (about 0.21 in 2023; 居民年住院率 is 100 x "
        "this KPI)", "volume"),
    KPI("site_visits_per_day", "机构日均诊疗人次", "Visits per day by site", "per_day", 0,
        "Visits of post-warm-up episodes at each site of tier >= 1 (township centres, lead hospitals and the "
        "out-of-county node; group: site), and at all village clinics together (group tier0), / post-warm-up days.",
        "[MODEL] model-specific: volume per site, the measure of downsizing", "volume",
        groups=("site", "tier")),
    # --- levers ---------------------------------------------------------------------------------
    KPI("local_treatment_share", "分专科基层诊治比例", "Treated locally, by specialty", "share", 1,
        "Ended post-warm-up outpatient-pathway episodes of the specialty completed with their last treating "
        "visit (treated or admitted) at tier <= 1 / ended outpatient-pathway episodes of that specialty "
        "(group: specialty).",
        "cf. the tiered-care goal that common diseases are treated at the grassroots (常见病、多发病基层诊治); "
        "[MODEL] by specialty", "levers", groups=("specialty",)),
    KPI("expert_visits", "专家下沉坐诊次数", "Specialist visits to member sites", "count", 0,
        "Specialist visits (expert_visits rows) arriving on site after the warm-up.",
        _LEVER, "levers"),
    KPI("expert_hours_on_site", "专家基层坐诊医生工时", "Specialist doctor-hours on site", "hours", 0,
        "Sum over specialist visits arriving after the warm-up of (departure from site - arrival) x doctors, "
        "queue worked off included (group: specialty).",
        _LEVER, "levers", groups=("county", "specialty")),
    KPI("expert_hours_lost_lead", "牵头医院专家外派工时", "Lead-hospital specialist hours away", "hours", -1,
        "Sum over lead-hospital specialist visits arriving after the warm-up of (return to the lead - departure) "
        "x doctors, travel included (group: specialty).",
        _LEVER, "levers", groups=("county", "specialty")),
    KPI("expert_patients", "专家基层坐诊接诊人次", "Patients seen by visiting specialists", "count", 0,
        "Post-warm-up episodes' consults by a visiting specialist (lever_events expert_seen).",
        _LEVER, "levers"),
    KPI("skill_local_treated", "传帮带后基层自主诊治人次", "Treated locally after skill transfer", "count", 1,
        "Post-warm-up episodes managed by a member site that learnt the condition from visiting specialists "
        "(lever_events skill_local).",
        _LEVER, "levers"),
    KPI("deferred_patients", "等待专家坐诊日的患者数", "Patients deferred to a specialist visit", "count", 0,
        "Post-warm-up episodes sent home to come back on the next specialist visit day (lever_events deferred).",
        _LEVER, "levers"),
    KPI("deferred_extra_wait_days_mean", "等待专家坐诊平均额外天数", "Extra wait for a specialist visit, mean",
        "days", -1,
        "Mean extra days until the specialist visit over the deferrals of post-warm-up episodes (lever_events "
        "deferred value).",
        _LEVER, "levers"),
    KPI("managed_locally_by_levers", "政策措施下基层诊治人次", "Managed locally by a lever", "count", 1,
        "Post-warm-up episodes a lever decided to manage locally (lever_events expert_avoided, skill_local, "
        "remote_local, mdt_local); includes patients who would not have been referred without the lever "
        "(avoided_referrals counts only those who would).",
        _LEVER, "levers"),
    KPI("avoided_referrals", "避免的上转人次", "Referrals avoided (vs baseline)", "count", 1,
        "Post-warm-up episodes referred up in the baseline and not in this scenario, patient by patient under "
        "common random numbers (twins matched on onset, village and condition; sim.analysis.paired); studies "
        "with a baseline and per-patient tables only.",
        _MODEL_PAIRED, "referral"),
    KPI("added_referrals", "新增的上转人次", "Referrals added (vs baseline)", "count", -1,
        "Post-warm-up episodes referred up in this scenario and not in the baseline (twins, as avoided_referrals).",
        _MODEL_PAIRED, "referral"),
    KPI("kept_in_county_vs_baseline", "较基线留在县域内的病例", "Episodes kept in the county (vs baseline)",
        "count", 1,
        "Post-warm-up episodes that left the county in the baseline and not in this scenario (twins).",
        _MODEL_PAIRED, "retention"),
    KPI("lost_to_county_vs_baseline", "较基线流出县域的病例", "Episodes lost to the county (vs baseline)",
        "count", -1,
        "Post-warm-up episodes that stayed in the county in the baseline and left it in this scenario (twins).",
        _MODEL_PAIRED, "retention"),
    KPI("unmatched_patients", "无法与基线配对的病例", "Episodes without a baseline twin", "count", 0,
        "Post-warm-up episodes of this scenario or its baseline without a twin on the other side (the scenario "
        "changed demand); left out of the paired counts.",
        _MODEL_PAIRED, "referral"),
    KPI("remote_consults", "远程会诊次数", "Remote consultations", "count", 0,
        "Remote consultations of post-warm-up episodes that ended in a decision (lever_events mdt_local or "
        "mdt_referred; timeouts not counted).",
        _LEVER, "levers"),
    KPI("tele_ecg_bypass", "远程心电预激活导管室例数", "Tele-ECG cath-lab pre-activations", "count", 0,
        "Post-warm-up chest-pain episodes whose tele-ECG pre-activated the cath lab, bypassing the emergency "
        "department (lever_events tele_ecg_bypass).",
        _LEVER, "levers"),
    KPI("remote_studies", "远程诊断检查数", "Remotely read studies", "count", 0,
        "Remote studies sent after the warm-up that were reported or failed by the end of the run (group: "
        "modality).",
        "[MODEL] a count per run; the official indicator is remote_readings_per_10k", "levers",
        groups=("county", "modality")),
    KPI("remote_readings_per_10k", "每万常住人口远程影像、心电诊断数量", "Remote readings per 10,000 residents",
        "per_10k", 1,
        "Remote studies (imaging, ECG, tele-ECG) sent after the warm-up and reported (remote_studies status "
        "reported) x 10,000 / resident population / post-warm-up years (per year).",
        _MON + ": 每万常住人口远程影像、心电诊断数量 (同质化)", "levers"),
    KPI("remote_failures", "远程诊断失败检查数", "Failed remote studies", "count", -1,
        "Remote studies sent after the warm-up whose status is failed.",
        _LEVER, "levers"),
    KPI("remote_turnaround_mean_min", "远程诊断平均报告时间", "Remote report turnaround, mean", "minutes", -1,
        "Mean of report minus sent (transmission + queue + reading) over remote studies sent after the warm-up "
        "and reported or failed (group: modality).",
        _LEVER, "levers", groups=("county", "modality")),
    KPI("remote_turnaround_p90_min", "远程诊断报告时间第90百分位", "Remote report turnaround, 90th percentile",
        "minutes", -1,
        "90th percentile of report minus sent over remote studies sent after the warm-up and reported or failed "
        "(group: modality).",
        _LEVER, "levers", groups=("county", "modality")),
    KPI("remote_backlog_mean", "远程诊断中心平均积压检查数", "Remote reading backlog, mean", "mean_count", -1,
        "Mean over post-warm-up days of the time-weighted number of studies waiting for a reader, summed over "
        "the reading centres.",
        _LEVER, "levers"),
    KPI("reader_utilisation", "远程诊断中心阅片医生利用率", "Remote reader utilisation", "share", 0,
        "Time-weighted readers in use / readers on duty, summed over the reading centres and post-warm-up days.",
        _LEVER, "levers"),
    KPI("lead_wait_referred_mean_min", "上转患者平均候诊时间", "Wait at the lead, referred patients, mean",
        "minutes", -1,
        "Mean of start - arrive over the visits of post-warm-up outpatient-pathway episodes at lead hospitals "
        "(tier 2) that arrived referred up (mode referral) and were seen; with the green channel (绿色通道) on, "
        "these are its patients where a member referred them.",
        _LEVER, "levers"),
    KPI("lead_wait_self_mean_min", "自行就诊患者平均候诊时间", "Wait at the lead, self-presenting patients, mean",
        "minutes", -1,
        "Mean of start - arrive over the visits of post-warm-up outpatient-pathway episodes at lead hospitals "
        "(tier 2) that came of their own accord (mode self) and were seen.",
        _LEVER, "levers"),
    KPI("lead_bed_wait_referred_mean_min", "上转患者平均等床时间", "Bed wait at the lead, referred patients, mean",
        "minutes", -1,
        "Mean of admit - request over the granted admissions of post-warm-up episodes at lead hospitals whose "
        "patient arrived at that hospital referred up (a referral visit there).",
        _LEVER, "levers"),
    KPI("lead_bed_wait_other_mean_min", "其他患者平均等床时间", "Bed wait at the lead, other patients, mean",
        "minutes", -1,
        "Mean of admit - request over the other granted admissions of post-warm-up episodes at lead hospitals "
        "(self-presenting, emergencies, transfers).",
        _LEVER, "levers"),
    KPI("green_channel_patients", "绿色通道上转患者数", "Green-channel patients", "count", 0,
        "Post-warm-up episodes booked through the green channel at a lead hospital (lever_events green_channel, "
        "one per episode).",
        _LEVER, "levers"),
    KPI("referred_back", "回转至转诊机构人次", "Referred back to the referring centre", "count", 1,
        "Down-referral visits (mode down_referral) of green-channel patients of post-warm-up episodes at the "
        "member centre that referred them (the green_channel event's value).",
        _LEVER, "levers"),
    # --- restructuring --------------------------------------------------------------------------
    KPI("running_cost_per_year", "运行成本", "Running cost", "cny_per_year", -1,
        "Sum of the items (group): sites = doctors x restructure.cost_per_doctor_year + beds x "
        "restructure.cost_per_bed_year over the open in-county sites after restructuring; remote = reading "
        "centres x (reader posts x reader_per_year + platform_per_centre_year) + studies read x per_study_read; "
        "expert = specialist doctor-hours away x expert_doctor_hour + visits x expert_travel_per_visit; tele_ecg = "
        "sending sites x tele_ecg_device_per_year + ECGs sent x tele_ecg_per_transmission; ambulance = ambulances "
        "x ambulance_per_year + runs x ambulance_per_run; posted = posted doctors x posting_allowance_per_year "
        "(unit costs care.prices.costs; counts per post-warm-up year).",
        "[MODEL] [ASSUMED] unit costs of the restructure config and care.prices.costs", "restructuring",
        groups=("county", "component")),
    KPI("capital_cost", "一次性投入", "Capital cost", "cny", -1,
        "One-off cost (CNY) of the scenario's levers and restructuring, by item (group): remote = reading centres x "
        "(centre_setup + max(readers, night_readers) x workstation_per_seat) + sending sites x sending_site_setup; "
        "tele_ecg = sending sites x tele_ecg_device (levers.remote.capital); expert = each (visited site, "
        "specialty) pair's equipment_per_site + vehicles x vehicle_price (levers.expert.capital); restructure = beds "
        "a site gains (merge, scale > 1) x capital_per_bed_added + village-level posts opened x capital_per_post + "
        "capital_other (restructure).  Priced from the configs; capital_saved is not netted off.",
        "[MODEL] [ASSUMED] unit prices of levers.*.capital and the restructure config", "restructuring",
        groups=("county", "component")),
    KPI("capital_cost_per_year", "一次性投入年均摊", "Capital cost, annualised", "cny_per_year", -1,
        "Each item of capital_cost x the annuity factor r / (1 - (1 + r)^-L) of its lifetime L (years, "
        "levers.*.capital.lifetime_years, restructure.capital_lifetime_years; vehicles 8) at r = "
        "care.prices.discount_rate, summed; by item (group) as capital_cost.",
        "[MODEL] lifetimes: government fixed-asset depreciation table (财会〔2017〕4号); discount rate "
        "[ASSUMED] 5% (中国药物经济学评价指南 2020)", "restructuring", groups=("county", "component")),
    KPI("total_cost_per_year", "年度总成本", "Total cost a year", "cny_per_year", -1,
        "running_cost_per_year + capital_cost_per_year: what the county pays a year to run the sites and the "
        "levers and to repay their capital.",
        "[MODEL] [ASSUMED] unit costs as running_cost_per_year and capital_cost_per_year", "restructuring"),
    KPI("posted_doctors_per_10k", "派驻人数/每万常住人口", "Posted doctors per 10,000 residents", "per_10k", 1,
        "Doctors posted from lead hospitals to grassroots sites for the whole run (restructure move_doctors: n x "
        "the sites of to, else every open member of the lead) x 10,000 / resident population; the run stands for "
        "a posting of 6+ months.",
        _MON + ": 二级及以上医疗卫生机构中级及以上医师到基层派驻人数/每万常住人口 (同质化); [MODEL] every moved "
        "doctor counts (the model has no grades)", "restructuring"),
    KPI("capital_saved", "节省的基建资金", "Capital saved", "cny", 1,
        "restructure.capital_saved as configured (an input echoed into the KPI table, not computed from the "
        "records).",
        "[MODEL] [ASSUMED] from the restructure config", "restructuring", signed=True),
    # --- payment --------------------------------------------------------------------------------
    KPI("budget_per_year", "医保打包预算", "Global budget", "cny_per_year", 0,
        "payment.budget_per_capita_cny_per_year x resident population under a global budget (NaN without one).",
        _PAY, "payment"),
    KPI("budget_surplus_per_year", "医保打包预算结余", "Global budget surplus", "cny_per_year", 1,
        "budget_per_year - insurer_spending_per_year (insurer spending on residents in and out of county) under a "
        "global budget (negative: an overrun; NaN without one).",
        _PAY, "payment", signed=True),
    KPI("community_retained_per_year", "医共体结余留用", "Surplus kept by the community", "cny_per_year", 1,
        "budget_surplus_per_year x payment.surplus_kept_share (结余留用; an overrun is borne in the same share, "
        "合理超支分担; NaN without a global budget).",
        _PAY, "payment", signed=True),
)

#: every KPI by id, in table order (theme by theme; the headline KPIs in their headline order).
REGISTRY: dict[str, KPI] = {k.id: k for k in _KPIS}
assert len(REGISTRY) == len(_KPIS), "a KPI is declared twice"


def _lang(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    return language


def get(kpi_id: str) -> KPI:
    """The declaration of a KPI.

    >>> get("county_retention").zh
    '县域内就诊率(按病例)'
    """
    try:
        return REGISTRY[kpi_id]
    except KeyError:
        raise KeyError(f"unknown KPI {kpi_id!r} (the KPIs are listed in docs/kpis.md)") from None


def _unit(kpi_id: str) -> Unit | None:
    k = REGISTRY.get(kpi_id)
    return UNITS[k.unit] if k is not None else None


def is_share(kpi_id: str) -> bool:
    """Whether a KPI is a proportion in [0, 1] (shown as a percentage).

    >>> is_share("share_beyond_30_min"), is_share("wait_mean_min"), is_share("no_such_kpi")
    (True, False, False)
    """
    k = REGISTRY.get(kpi_id)
    return k is not None and k.unit == "share"


def scale(kpi_id: str) -> float:
    """Display factor: 100 for shares (shown in %), else 1."""
    return 100.0 if is_share(kpi_id) else 1.0


def better(kpi_id: str) -> int:
    """+1 if higher is better, -1 if lower is better, 0 if neither (or unknown)."""
    k = REGISTRY.get(kpi_id)
    return k.better if k is not None else 0


def bounds(kpi_id: str) -> tuple[float, float]:
    """The range a KPI's value can take: ``(0, 1)`` for a share, ``(0, inf)`` for times, counts,
    rates and costs, ``(-inf, inf)`` for a ``signed`` KPI (a surplus) and an unknown one.

    >>> bounds("inpatient_retention"), bounds("wait_mean_min"), bounds("budget_surplus_per_year")
    ((0.0, 1.0), (0.0, inf), (-inf, inf))
    """
    k = REGISTRY.get(kpi_id)
    if k is None or k.signed:
        return (-math.inf, math.inf)
    return (0.0, 1.0) if k.unit == "share" else (0.0, math.inf)


def headline() -> tuple[str, ...]:
    """The headline KPIs, in order."""
    return tuple(k for k, v in REGISTRY.items() if v.headline)


def shares() -> frozenset[str]:
    """The KPIs that are shares."""
    return frozenset(k for k in REGISTRY if is_share(k))


def unit_label(kpi_id: str, language: str = "en") -> str:
    """The short unit of a KPI (``""`` for counts and unknown KPIs).

    >>> unit_label("wait_mean_min"), unit_label("wait_mean_min", "zh"), unit_label("episodes")
    ('min', '分钟', '')
    """
    u = _unit(kpi_id)
    return "" if u is None else getattr(u, _lang(language))


def label(kpi_id: str, language: str = "en", unit: bool = True) -> str:
    """A KPI's display name in ``language``, with its unit in brackets when ``unit`` (and the
    name does not already say it); an unknown KPI is shown by its id.

    >>> label("inpatient_retention", "zh"), label("wait_mean_min"), label("wait_mean_min", "zh", unit=False)
    ('参保人县域内住院人次占比(%)', 'Mean waiting time (min)', '平均候诊时间')
    >>> label("visits_per_person_year")
    'Facility visits per person-year'
    """
    k = REGISTRY.get(kpi_id)
    if k is None:
        _lang(language)
        return kpi_id
    name = getattr(k, _lang(language))
    u = UNITS[k.unit]
    if unit and u.in_label:
        name += f"({u.zh})" if language == "zh" else f" ({u.en})"
    return name


def decimals_for(kpi_id: str, *values: float) -> int:
    """Decimals that show about two significant digits of the smallest non-zero magnitude
    among ``values`` (after display scaling), between 0 and 3.

    >>> decimals_for("county_retention", 0.011, 0.004)
    2
    >>> decimals_for("oop_per_episode", 70.2, 3.3)
    1
    """
    mags = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f) and f != 0:
            mags.append(abs(f) * scale(kpi_id))
    if not mags:
        return 1
    return int(min(3, max(0, 1 - math.floor(math.log10(min(mags))))))


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def _digits(kpi_id: str, v: float, value: float) -> int:
    """Default decimals of a displayed value ``v`` (``value`` before display scaling)."""
    a = abs(v)
    if a >= 1000:
        return 0
    if a >= 1:
        return 1
    return decimals_for(kpi_id, value)


def _num(v: float, digits: int, sign: bool) -> str:
    """``v`` with ``digits`` decimals; what rounds to zero is written ``0`` without a sign
    (never ``-0.000`` or ``+0.0``)."""
    if round(v, digits) == 0:
        return f"{0.0:,.{digits}f}"
    s = f"{v:+,.{digits}f}" if sign else f"{v:,.{digits}f}"
    return "−" + s[1:] if s.startswith("-") else s


def _cny(v: float, language: str, sign: bool, digits: int | None, per_year: bool) -> str:
    """Yuan: 万元 / 亿元 in Chinese, ``M`` in English (``digits`` applies below that scaling only)."""
    a = abs(v)
    plain = _digits("", v, v) if digits is None else digits
    if language == "zh":
        if a >= 1e8:
            s = _num(v / 1e8, 1, sign) + "亿元"
        elif a >= 1e5:
            s = _num(v / 1e4, 0 if a >= 1e6 else 1, sign) + "万元"
        else:
            s = _num(v, plain, sign) + "元"
        return s + ("/年" if per_year else "")
    s = f"CNY {_num(v / 1e6, 1, sign)} M" if a >= 1e6 else f"CNY {_num(v, plain, sign)}"
    return s + ("/yr" if per_year else "")


def format_value(kpi_id: str, value: float | None, language: str = "en", *, diff: bool = False,
                 sign: bool = False, digits: int | None = None) -> str:
    """A KPI value (or, with ``diff``, a difference) as text in ``language``, in the KPI's
    unit (rules in the module docstring); ``sign`` writes ``+`` on positive numbers and
    ``digits`` fixes the decimals (of yuan: below 万元 / millions only).

    >>> format_value("share_beyond_30_min", 0.092), format_value("share_beyond_30_min", 0.092, "zh")
    ('9.2%', '9.2%')
    >>> format_value("county_retention", 0.011, diff=True, sign=True)
    '+1.1 pp'
    >>> format_value("wait_mean_min", 12.345), format_value("wait_mean_min", -0.5, "zh", diff=True, sign=True, digits=2)
    ('12.3 min', '−0.50分钟')
    >>> format_value("capital_saved", 68_000_000), format_value("capital_saved", 68_000_000, "zh")
    ('CNY 68.0 M', '6,800万元')
    >>> format_value("running_cost_per_year", 680_000_000, "zh"), format_value("oop_per_episode", 70.24, "zh")
    ('6.8亿元/年', '70.2元')
    >>> format_value("episodes", 16353.0), format_value("episodes", float("nan"))
    ('16,353', '–')
    """
    _lang(language)
    if value is None or _missing(value):
        return "–"
    value = float(value)
    k = REGISTRY.get(kpi_id)
    unit = k.unit if k is not None else ""
    zh = language == "zh"
    if unit in ("cny", "cny_per_year"):
        return _cny(value, language, sign, digits, unit == "cny_per_year")
    v = value * scale(kpi_id)
    if digits is None:
        if unit == "count" and not diff:
            digits = 0
        elif unit == "share":
            digits = 1 if abs(v) >= 1 else decimals_for(kpi_id, value)
        else:
            digits = _digits(kpi_id, v, value)
    num = _num(v, digits, sign)
    if unit == "share":
        if diff:
            return num + ("个百分点" if zh else " pp")
        return num + "%"
    if unit in ("minutes", "hours", "days"):
        u = UNITS[unit]
        return num + (u.zh if zh else f" {u.en}")
    return num


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in s)


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` cut or padded to ``width`` terminal columns (CJK characters count two), for
    fixed-width KPI tables.

    >>> pad("县域内就诊率", 14) + "|", pad("abc", 5, right=True) + "|"
    ('县域内就诊率  |', '  abc|')
    """
    if _width(text) > width:
        while text and _width(text) > width - 1:
            text = text[:-1]
        text += "…"
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill
