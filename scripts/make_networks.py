"""Generate the larger bundled county networks as Hydra YAML (``scenarios/network/``).

The YAML files are the committed source of truth; this script documents how they were
made and reproduces them byte for byte::

    .venv/bin/python scripts/make_networks.py            # (re)write the five files
    .venv/bin/python scripts/make_networks.py liuzhou    # (re)write one
    .venv/bin/python scripts/make_networks.py --check    # exit 1 if a file differs

What comes from where
---------------------
- Facility names and counts come from the seed news reports in ``/work/shared/seeds``
  (seed 000 Taobei, seed 001 Xianghe, seed 002 Liuzhou "3-1", seed 003 Qingbaijiang,
  seed 004 Qingdao); names the seeds do not give are marked ``[ASSUMED]`` in the YAML.
- Liuzhou has two tier-2 leads (the TCM hospital and the district hospital, ``ExtraLead``)
  so that ``restructure=liuzhou_takeover`` can hand three centres from one to the other;
  its members and Qingdao's are placed by hand (``Member.r_km`` / ``angle_deg``).  The
  extensions draw nothing from the RNG unless used, so the older three files are unchanged.
- Sizing rules come from the NHC statistical bulletin 2023 (admissions, stay, occupancy,
  per-township averages) as listed in ``/work/shared/REFERENCES.md``.
- Positions, village populations and clinic staffing are synthetic but plausible, drawn
  from one ``numpy.random.default_rng(seed)`` per network (no global RNG).  ``toy.yaml`` is
  hand-written and not produced here.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

OUT_DIR = Path(__file__).resolve().parents[1] / "scenarios" / "network"

# ----------------------------------------------------------------------------- sizing rules
#: NHC statistical bulletin 2023: ~0.21 admissions per person per year (rounded down).
ADMISSIONS_PER_PERSON = 0.2
#: NHC statistical bulletin 2023: mean length of stay, days.
LOS_DAYS = 8.8
#: target occupancy (public hospitals 86.0% in the NHC bulletin 2023).
TARGET_OCCUPANCY = 0.85
#: [ASSUMED] share of a catchment's admissions at the lead hospital / a township / a community centre.
LEAD_SHARE = 0.6
TOWNSHIP_SHARE = 0.25
COMMUNITY_SHARE = 0.1
ALL_KINDS = ["ecg", "xray", "ct", "lab", "cathlab"]
DAYS = [0, 1, 2, 3, 4, 5, 6]


def beds_needed(population: float, share: float) -> float:
    """Beds for ``share`` of a catchment's admissions at the target occupancy."""
    return ADMISSIONS_PER_PERSON * population * share / 365.0 * LOS_DAYS / TARGET_OCCUPANCY


def round_to(x: float, step: int) -> int:
    return int(math.floor(x / step + 0.5)) * step


def tier1_staffing(kind: str, population: int) -> tuple[int, int, int]:
    """(day general doctors, night general doctors, beds) of a tier-1 centre [ASSUMED rules]."""
    if kind == "township":
        doctors = int(np.clip(round(4 + population / 2000), 10, 20))
        beds = int(np.clip(round_to(beds_needed(population, TOWNSHIP_SHARE), 5), 20, 60))
    else:
        doctors = int(np.clip(round(4 + population / 4000), 8, 16))
        beds = int(np.clip(round_to(beds_needed(population, COMMUNITY_SHARE), 5), 10, 40))
    night = 2 if population >= 20000 else 1
    return doctors, night, beds


TIER1_RULES = [
    "Tier-1 sizing rules [ASSUMED], applied to each centre's catchment (its own villages):",
    "  township:  general doctors = 4 + catchment/2,000, clipped to 10-20 (national average",
    "             ~48 staff per centre, NHC 2023); beds = 0.2 x catchment x 0.25 / 365 x 8.8",
    "             / 0.85, rounded to 5, clipped to 20-60 (national average ~45 beds);",
    "  community: general doctors = 4 + catchment/4,000, clipped to 8-16; beds as above with a",
    "             0.10 share, clipped to 10-40;",
    "  night general doctors = 2 if catchment >= 20,000 else 1; initial bed occupancy 0.6 (warm",
    "  start); open 8:00-17:30 daily, weekend_share 0.5; no ambulances (not in the 120 network);",
    "  acquire ECG, X-ray, lab (CT where marked); read lab only (X-ray where marked): weak",
    "  reading skills, ECG and CT are read remotely by the lead hospital.",
]


# ----------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class Member:
    """A tier-1 member of the county medical community and the villages it serves."""

    fid: str
    name: str
    name_zh: str
    kind: str  # "township" or "community"
    n_villages: int
    population: int  # target catchment; village populations are drawn to sum near it
    note: str  # where the name comes from
    ct: bool = False
    reads_xray: bool = False
    urban: bool = False  # its "villages" are urban neighbourhoods close to the centre
    village_stem: str = ""  # pinyin stem of synthetic village names
    village_stem_zh: str = ""
    first_village_names: tuple[tuple[str, str], ...] = ()  # names from the seeds, if any
    lead: str = ""  # its lead hospital; empty = the spec's main lead (``Spec.lead_id``)
    r_km: tuple[float, float] | None = None  # distance from the main lead, overriding the ring
    angle_deg: float | None = None  # direction from the main lead (0 = east, 90 = north)


@dataclass(frozen=True)
class Geometry:
    """Distances (km) that drive the synthetic placement."""

    township_r: tuple[float, float]
    community_r: tuple[float, float]
    village_r: tuple[float, float]
    urban_r: tuple[float, float]
    min_village_to_lead: float
    max_urban_to_lead: float


@dataclass(frozen=True)
class ExtraLead:
    """A second tier-2 lead hospital at a fixed position (km from the main lead)."""

    fid: str
    facility: dict[str, Any]  # without x_km / y_km
    notes: dict[str, str]
    x_km: float
    y_km: float
    note: str  # the comment line above it (where the name comes from)


@dataclass
class Spec:
    key: str
    seed: int
    title: str
    header: list[str]
    description: str
    sources: list[str]
    lead_id: str
    lead: dict[str, Any]
    lead_notes: dict[str, str]
    members: list[Member]
    geometry: Geometry
    tertiary_id: str
    tertiary: dict[str, Any]
    tertiary_minutes: float
    tertiary_note: str
    #: probability that a rural village has no clinic / has 2 doctors (else 1).
    p_no_clinic: float = 0.08
    #: doctors at an urban neighbourhood's clinic (0 = none): drawn 2 with this probability.
    p_urban_clinic: float = 0.0
    urban_min_clinic: int = 0
    #: urban neighbourhoods around the lead hospital itself (no community centre): (n, population).
    lead_neighbourhoods: tuple[int, int] = (0, 0)
    lead_stem: tuple[str, str] = ("", "")
    #: urban neighbourhoods get a direct road to the lead hospital too.
    urban_road_to_lead: bool = True
    #: further tier-2 leads (a district hospital beside a city hospital); members name theirs.
    extra_leads: tuple[ExtraLead, ...] = ()


COMMON_SOURCES = [
    "NHC statistical bulletin 2023: ~0.21 admissions/person/yr, mean stay 8.8 d, public-hospital bed occupancy 86.0%",
    "NHC statistical bulletin 2023 / 33,753 centres: township centre ~45 beds, ~48 staff, ~38,800 visits/yr",
    "NHC statistical bulletin 2023: village clinics ~2,400 visits/yr each, 1-2 village doctors",
    "Int J Equity Health 2015 (Deqing county, table 1): county hospitals >100 doctors and >200 beds",
]

LEAD_TIER2 = dict(
    kind="lead",
    tier=2,
    initial_bed_occupancy=0.8,
    acquire=list(ALL_KINDS),
    read=list(ALL_KINDS),
    hours=dict(open_hour=8.0, close_hour=17.5, days=DAYS, weekend_share=0.6),
)
TERTIARY = dict(
    kind="tertiary",
    tier=3,
    doctors={"general": 1},
    beds=0,
    acquire=list(ALL_KINDS),
    read=list(ALL_KINDS),
    hours=dict(open_hour=8.0, close_hour=17.5, days=DAYS, weekend_share=1.0),
)
LEAD_NOTES_COMMON = {
    "night_doctors": "[ASSUMED] on duty outside outpatient hours",
    "initial_bed_occupancy": "[ASSUMED] warm start",
    "acquire": "[ASSUMED] chest-pain centre (cath lab) and stroke CT",
    "equipment_units": "[ASSUMED]",
    "hours": "[ASSUMED]",
    "ambulances": "[ASSUMED] 120 ambulances stationed here",
}


def taobei() -> Spec:
    seed_note = "seed 000"
    assumed = "[ASSUMED] name not in seed 000 (a Taobei township)"
    t = "township"
    members = [
        Member(
            "t_pingan",
            "Pingan Town Central Health Centre",
            "平安镇中心卫生院",
            t,
            12,
            28000,
            seed_note + " (first pilot site)",
            ct=True,
            reads_xray=True,
        ),
        Member(
            "t_taohe",
            "Taohe Town Health Centre",
            "洮河镇卫生院",
            t,
            11,
            24000,
            seed_note + " (pilot site)",
            ct=True,
            reads_xray=True,
        ),
        Member("t_linhai", "Linhai Town Health Centre", "林海镇卫生院", t, 10, 20000, seed_note),
        Member("t_daobao", "Daobao Town Health Centre", "到保镇卫生院", t, 10, 20000, seed_note),
        Member("t_qingshan", "Qingshan Town Health Centre", "青山镇卫生院", t, 9, 18000, seed_note),
        Member("t_lingxia", "Lingxia Town Health Centre", "岭下镇卫生院", t, 9, 18000, seed_note),
        Member("t_pingtai", "Pingtai Town Health Centre", "平台镇卫生院", t, 10, 20000, assumed),
        Member(
            "t_dongfeng",
            "Dongfeng Township Health Centre",
            "东风乡卫生院",
            t,
            9,
            16000,
            seed_note + " (东风乡致富村 in the text)",
        ),
        Member("t_dongsheng", "Dongsheng Township Health Centre", "东胜乡卫生院", t, 8, 16000, seed_note),
        Member("t_deshun", "Deshun Township Health Centre", "德顺乡卫生院", t, 8, 14000, seed_note),
        Member("t_yongsheng", "Yongsheng Township Health Centre", "永胜乡卫生院", t, 8, 14000, seed_note),
        Member("t_sanhe", "Sanhe Township Health Centre", "三合乡卫生院", t, 9, 16000, assumed),
        Member("t_jinxiang", "Jinxiang Township Health Centre", "金祥乡卫生院", t, 9, 16000, assumed),
        Member("t_houjia", "Houjia Township Health Centre", "侯家乡卫生院", t, 8, 14000, assumed),
    ]
    c = "community"
    for fid, py, zh, extra in [
        ("c_changqing", "Changqing", "长庆", ""),
        ("c_xingfu", "Xingfu", "幸福", " (pilot site)"),
        ("c_mingren", "Mingren", "明仁", ""),
        ("c_haiming", "Haiming", "海明", ""),
        ("c_xinli", "Xinli", "新立", ""),
    ]:
        members.append(
            Member(
                fid,
                f"{py} Community Health Centre",
                f"{zh}社区卫生服务中心",
                c,
                4,
                49000,
                seed_note + extra,
                reads_xray=bool(extra),
                urban=True,
                village_stem=f"{py} neighbourhood",
                village_stem_zh=f"{zh}社区片区",
            )
        )
    lead = dict(name="Baicheng City Hospital", name_zh="白城市医院", **LEAD_TIER2)
    lead.update(
        doctors={
            "general": 70,
            "emergency": 8,
            "ent": 6,
            "eye": 6,
            "ortho": 8,
            "cardiology": 10,
            "dental": 5,
            "surgery": 15,
            "obstetrics": 8,
            "neurology": 6,
            "rehab": 4,
        },
        night_doctors={"emergency": 4, "general": 2, "cardiology": 1, "surgery": 2, "obstetrics": 1, "neurology": 1},
        beds=2000,
        equipment_units={"ct": 3, "xray": 10, "ecg": 6, "lab": 30, "cathlab": 1},
        ambulances=8,
    )
    notes = dict(LEAD_NOTES_COMMON)
    notes["doctors"] = (
        "[ASSUMED] day-shift outpatient/consulting doctors of a ~500k city's lead hospital (200+ on the payroll)"
    )
    notes["beds"] = "[ASSUMED] demand-based ~1,700 (header), raised to 2,000 so that simulated lead occupancy lands near the national 86% (bypassing concentrates admissions at the lead)"
    return Spec(
        key="taobei",
        seed=20160801,
        title='Taobei district (洮北区), Baicheng, Jilin: the "1+N" county medical community',
        header=[
            "Lead hospital 白城市医院 (Baicheng City Hospital) with the district's 14 township health",
            'centres and 5 community health centres (seed 000, 白城日报: "相继与洮北区内14家乡镇卫生院、',
            '5家社区卫生服务中心 ... 结成紧密型的诊疗合作").  The seed names 9 of the 14 townships',
            "(平安镇中心卫生院, 洮河镇, 林海镇, 到保镇, 青山镇, 岭下镇, 东胜乡, 德顺乡, 永胜乡; 东风乡 in the",
            "text) and the 5 communities (长庆, 幸福, 明仁, 海明, 新立); the other names are [ASSUMED].",
            "The seed's other partners (洮北区整骨医院, 妇幼保健院, 12 private hospitals) are not modelled;",
            "they absorb part of the admissions the lead hospital's bed cap leaves over.",
            "Out-of-county node: 吉林省人民医院, Changchun (seed 000: cooperation agreement), ~300 km.",
            'Urban neighbourhoods around the community centres are "villages" without a clinic.',
        ],
        description=(
            "Taobei district, Baicheng (Jilin): Baicheng City Hospital leading 14 township and "
            "5 community health centres; ~500k people; synthetic positions."
        ),
        sources=[
            "seed 000 (白城日报): 白城市医院 leads the 洮北区医共体 with 14 township and 5 community health centres",
            "seed 000: pilot sites 平安镇中心卫生院, 洮河镇卫生院, 幸福社区卫生服务中心; 吉林省人民医院 cooperation agreement",
        ],
        lead_id="baicheng_hospital",
        lead=lead,
        lead_notes=notes,
        members=members,
        geometry=Geometry(
            township_r=(12.0, 38.0),
            community_r=(2.5, 5.5),
            village_r=(2.0, 12.0),
            urban_r=(0.6, 2.0),
            min_village_to_lead=7.0,
            max_urban_to_lead=7.0,
        ),
        tertiary_id="jilin_provincial",
        tertiary=dict(
            name="Jilin Provincial People's Hospital, Changchun",
            name_zh="吉林省人民医院",
            x_km=290.0,
            y_km=-70.0,
            **TERTIARY,
        ),
        tertiary_minutes=240.0,
        tertiary_note="[ASSUMED] Baicheng-Changchun expressway, ~300 km",
        p_no_clinic=0.08,
        p_urban_clinic=0.0,
    )


def xianghe() -> Spec:
    t = "township"
    assumed = "[ASSUMED] name not in seed 001 (a Xianghe town)"
    members = [
        Member(
            "t_qukou",
            "Qukou Town Health Centre",
            "渠口镇卫生院",
            t,
            16,
            26000,
            "seed 001 (X-ray on site; remote CT/ECG reading by the county hospital)",
            ct=True,
            first_village_names=(("Weigezhuang", "韦各庄村"),),
        ),
        Member("t_anping", "Anping Town Health Centre", "安平镇卫生院", t, 15, 24000, assumed),
        Member("t_liusong", "Liusong Town Health Centre", "刘宋镇卫生院", t, 14, 22000, assumed),
        Member("t_wubaihu", "Wubaihu Town Health Centre", "五百户镇卫生院", t, 13, 20000, assumed),
    ]
    lead = dict(name="Xianghe County People's Hospital", name_zh="香河县人民医院", **LEAD_TIER2)
    lead.update(
        doctors={
            "general": 28,
            "emergency": 5,
            "ent": 2,
            "eye": 2,
            "ortho": 4,
            "cardiology": 4,
            "dental": 2,
            "surgery": 8,
            "obstetrics": 4,
            "neurology": 3,
            "rehab": 2,
        },
        night_doctors={"emergency": 3, "general": 1, "cardiology": 1, "surgery": 1, "obstetrics": 1, "neurology": 1},
        beds=650,
        equipment_units={"ct": 2, "xray": 6, "ecg": 4, "lab": 15, "cathlab": 1},
        ambulances=5,
    )
    notes = dict(LEAD_NOTES_COMMON)
    notes["doctors"] = "[ASSUMED] day-shift outpatient/consulting doctors of a county hospital (~130 on the payroll)"
    notes["beds"] = "[ASSUMED] demand-based ~560 (header), raised to 650 so that simulated lead occupancy lands near the national 86%"
    return Spec(
        key="xianghe",
        seed=20190507,
        title="Xianghe county (香河县), Langfang, Hebei: county people's hospital + 4 township centres",
        header=[
            "香河县人民医院 (Xianghe County People's Hospital), a provincial pilot, formed a close county",
            "medical community with 渠口卫生院 and 3 other township health centres (seed 001, 廊坊日报",
            '2019-05-07: "与渠口衛生院等4家鄉鎮衛生院建立了緊密型醫共體").  Only 渠口 is named; the other',
            "three township names are [ASSUMED].  Specialists (ENT, rehab, eye, dental, TCM) visit the",
            "townships every Friday; remote reading of CT, ECG, 24-h Holter and 30+ lab items (seed 001).",
            "Each modelled village stands for one or two administrative villages [ASSUMED]; the county",
            "town (淑阳镇) is 5 large urban neighbourhoods around the hospital, a few with a community",
            "health station.  The rest of the county (other towns, the TCM hospital) is not modelled.",
            "Out-of-county node: a Beijing tertiary hospital (seed 001: Beijing-Langfang cooperation).",
        ],
        description=(
            "Xianghe county (Hebei): county people's hospital leading 4 township health centres "
            "and the county town; ~160k people; synthetic positions."
        ),
        sources=[
            "seed 001 (廊坊日报 2019-05-07): 香河县人民医院 + 渠口卫生院 and 3 more township centres; Friday expert visits; remote CT/ECG/lab reading",
            "seed 001: Beijing tertiary hospitals cooperate with Langfang hospitals (cross-province transfers)",
        ],
        lead_id="xianghe_peoples",
        lead=lead,
        lead_notes=notes,
        members=members,
        geometry=Geometry(
            township_r=(8.0, 18.0),
            community_r=(0.0, 0.0),
            village_r=(1.5, 9.0),
            urban_r=(0.8, 3.0),
            min_village_to_lead=4.5,
            max_urban_to_lead=3.5,
        ),
        tertiary_id="beijing_chaoyang",
        tertiary=dict(
            name="Beijing Chaoyang Hospital (out of province)",
            name_zh="首都医科大学附属北京朝阳医院",
            x_km=-50.0,
            y_km=38.0,
            **TERTIARY,
        ),
        tertiary_minutes=90.0,
        tertiary_note="[ASSUMED] ~65 km into central Beijing, with traffic",
        p_no_clinic=0.08,
        p_urban_clinic=0.4,
        lead_neighbourhoods=(5, 70000),
        lead_stem=("Shuyang neighbourhood", "淑阳镇城区片区"),
    )


def qingbaijiang() -> Spec:
    t = "township"
    assumed = "[ASSUMED] name not in seed 003 (a Qingbaijiang town)"
    members = [
        Member(
            "c_datong",
            "Group Datong Hospital",
            "集团大同医院",
            "community",
            6,
            54000,
            "seed 003 (大同街道; diabetes clinic with the hub)",
            urban=True,
            village_stem="Datong community",
            village_stem_zh="大同街道社区",
        ),
        Member(
            "t_chengxiang",
            "Group Chengxiang First Hospital",
            "集团城厢第一医院",
            t,
            12,
            38000,
            "seed 003 (microsurgery; aiming at secondary-hospital grade)",
            ct=True,
            reads_xray=True,
            village_stem="Chengxiang village",
            village_stem_zh="城厢镇",
        ),
        Member(
            "t_yaodu",
            "Group Yaodu First Hospital",
            "集团姚渡第一医院",
            t,
            11,
            32000,
            "seed 003 (STEMI diagnosed by ECG, transferred to the hub)",
            village_stem="Yaodu village",
            village_stem_zh="姚渡镇",
        ),
        Member("t_mimou", "Mimou Town Health Centre", "弥牟镇卫生院", t, 12, 36000, assumed),
        Member("t_qingquan", "Qingquan Town Health Centre", "清泉镇卫生院", t, 11, 30000, assumed),
        Member("t_fuhong", "Fuhong Town Health Centre", "福洪镇卫生院", t, 11, 30000, assumed),
    ]
    lead = dict(name="Qingbaijiang District People's Hospital", name_zh="成都市青白江区人民医院", **LEAD_TIER2)
    lead.update(
        doctors={
            "general": 36,
            "emergency": 6,
            "ent": 3,
            "eye": 3,
            "ortho": 5,
            "cardiology": 6,
            "dental": 3,
            "surgery": 11,
            "obstetrics": 5,
            "neurology": 5,
            "rehab": 3,
        },
        night_doctors={"emergency": 3, "general": 2, "cardiology": 1, "surgery": 2, "obstetrics": 1, "neurology": 1},
        beds=950,
        equipment_units={"ct": 2, "xray": 6, "ecg": 4, "lab": 20, "cathlab": 1},
        ambulances=6,
    )
    notes = dict(LEAD_NOTES_COMMON)
    notes["doctors"] = (
        "[ASSUMED] day-shift outpatient/consulting doctors of a grade-3A district "
        "hospital (seed 003: 三级甲等 since 2021)"
    )
    notes["beds"] = (
        "[ASSUMED] demand-based ~750 (header), raised to 950 so that simulated lead occupancy lands near the national 86%"
    )
    notes["acquire"] = "seed 003: 青白江胸痛中心 (chest-pain centre, cath lab); stroke CT"
    return Spec(
        key="qingbaijiang",
        seed=20191129,
        title='Qingbaijiang district (青白江区), Chengdu, Sichuan: district hospital group "1+6+63"',
        header=[
            "成都市青白江区人民医院集团 (seed 003, 华西社区报): 1 lead unit, 6 member units and 63 village",
            'clinics ("1家牵头单位、6家成员单位和63家村卫生室"), inside the older "1+1+11+N" alliance with',
            "成都市第二人民医院 (Chengdu Second People's Hospital) above the district hub; that city",
            "hospital is the out-of-county (tier-3) node here.  The hub runs the chest-pain centre",
            "(青白江胸痛中心).  The seed names 3 members (集团姚渡第一医院, 集团城厢第一医院,",
            "集团大同医院); the other three names are [ASSUMED].  Every one of the 63 villages has a",
            "clinic; the 6 around 大同 are urban communities with a health station (2 doctors).",
        ],
        description=(
            "Qingbaijiang district (Chengdu): district people's hospital hub with 6 member "
            "centres and 63 village clinics; ~220k people in the modelled catchment; synthetic positions."
        ),
        sources=[
            'seed 003 (华西社区报): 区人民医院集团 = 1 lead + 6 members + 63 village clinics; "1+1+11+N" with 成都市第二人民医院',
            "seed 003: STEMI at 姚渡第一医院 transferred to the hub's chest-pain centre (青白江胸痛中心)",
        ],
        lead_id="qingbaijiang_peoples",
        lead=lead,
        lead_notes=notes,
        members=members,
        geometry=Geometry(
            township_r=(7.0, 15.0),
            community_r=(2.5, 4.5),
            village_r=(1.5, 7.0),
            urban_r=(0.8, 2.5),
            min_village_to_lead=3.0,
            max_urban_to_lead=6.0,
        ),
        tertiary_id="chengdu_second",
        tertiary=dict(
            name="Chengdu Second People's Hospital", name_zh="成都市第二人民医院", x_km=-28.0, y_km=-12.0, **TERTIARY
        ),
        tertiary_minutes=45.0,
        tertiary_note="[ASSUMED] ~30 km by expressway into central Chengdu",
        p_no_clinic=0.0,
        p_urban_clinic=1.0,
        urban_min_clinic=2,
        urban_road_to_lead=False,
    )


def liuzhou() -> Spec:
    t = "township"
    district = "liubei_district"
    seed_note = "seed 002 (柳州市中医医院 news 2020-06-29)"
    assumed = "[ASSUMED] name not in seed 002 (a Liubei town); stays with the district hospital"
    members = [
        Member(
            "t_huangcun",
            "Huangcun Health Centre",
            "黄村卫生院",
            t,
            8,
            20000,
            seed_note + ': handed to the TCM hospital from 2019 ("全院49名职工")',
            lead=district,
            r_km=(8.0, 11.0),
            angle_deg=125.0,
            village_stem="Huangcun village",
            village_stem_zh="黄村片区",
        ),
        Member(
            "t_bailu",
            "Bailu Health Centre",
            "白露卫生院",
            t,
            7,
            22000,
            seed_note + ": handed over from 2019; April 2020 outpatients 2,457, +27.57% y/y",
            lead=district,
            r_km=(5.0, 7.0),
            angle_deg=55.0,
            village_stem="Bailu village",
            village_stem_zh="白露片区",
        ),
        Member(
            "t_shibeiping",
            "Shibeiping Town Health Centre",
            "石碑坪镇卫生院",
            t,
            12,
            26000,
            seed_note + ": handed over from 2019; joined the city 120 network (54 runs, 75 patients in the trial)",
            lead=district,
            r_km=(26.0, 30.0),
            angle_deg=80.0,
        ),
        Member("t_shatang", "Shatang Town Health Centre", "沙塘镇卫生院", t, 10, 24000, assumed, lead=district,
               r_km=(14.0, 18.0), angle_deg=100.0),
        Member("t_changtang", "Changtang Town Health Centre", "长塘镇卫生院", t, 9, 18000, assumed, lead=district,
               r_km=(16.0, 22.0), angle_deg=35.0),
        Member(
            "c_queershan",
            "Queershan Community Health Centre",
            "雀儿山社区卫生服务中心",
            "community",
            4,
            40000,
            "[ASSUMED] name not in seed 002 (a Liubei urban sub-district); stays with the district hospital",
            lead=district,
            urban=True,
            r_km=(3.0, 4.5),
            angle_deg=150.0,
            village_stem="Queershan neighbourhood",
            village_stem_zh="雀儿山社区片区",
        ),
        Member(
            "t_chuanshan",
            "Chuanshan Town Central Health Centre",
            "穿山镇中心卫生院",
            t,
            12,
            36000,
            seed_note + ": joined the 120 network (106 call-outs, 113 patients in the trial); "
            "[ASSUMED] a direct member of the TCM hospital (the seed puts it inside its alliance)",
            ct=True,
            r_km=(22.0, 28.0),
            angle_deg=225.0,
        ),
    ]
    lead = dict(name="Liuzhou Traditional Chinese Medicine Hospital", name_zh="柳州市中医医院", **LEAD_TIER2)
    lead.update(
        doctors={
            "general": 40,
            "emergency": 6,
            "ent": 3,
            "eye": 3,
            "ortho": 8,
            "cardiology": 6,
            "dental": 2,
            "surgery": 10,
            "obstetrics": 5,
            "neurology": 4,
            "rehab": 6,
        },
        night_doctors={"emergency": 3, "general": 2, "cardiology": 1, "surgery": 1, "obstetrics": 1, "neurology": 1},
        beds=600,
        equipment_units={"ct": 2, "xray": 4, "ecg": 4, "lab": 15, "cathlab": 1},
        ambulances=4,
    )
    notes = dict(LEAD_NOTES_COMMON)
    notes["doctors"] = (
        "[ASSUMED] day-shift outpatient/consulting doctors of a grade-3A TCM hospital serving the modelled catchment "
        "(TCM internal medicine counted as general; strong orthopaedics/骨伤 and acupuncture-rehab)"
    )
    notes["beds"] = "[ASSUMED] the share of the hospital's beds serving the modelled catchment (demand ~870 for both leads, header)"
    notes["acquire"] = "[ASSUMED] a grade-3A hospital: cath lab and stroke CT"
    dnotes = dict(LEAD_NOTES_COMMON)
    dnotes["doctors"] = "[ASSUMED] day-shift outpatient/consulting doctors of a grade-2 district hospital"
    dnotes["beds"] = "[ASSUMED] grade-2 district hospital"
    dnotes["acquire"] = "[ASSUMED] no cath lab: STEMI goes to the TCM hospital; stroke CT"
    dnotes["ambulances"] = "[ASSUMED] 120 ambulances stationed here"
    district_lead = dict(
        name="Liubei District Hospital",
        name_zh="柳北区人民医院",
        kind="lead",
        tier=2,
        doctors={
            "general": 16,
            "emergency": 3,
            "ent": 1,
            "eye": 1,
            "ortho": 2,
            "cardiology": 2,
            "dental": 1,
            "surgery": 4,
            "obstetrics": 2,
            "neurology": 1,
            "rehab": 1,
        },
        night_doctors={"emergency": 2, "general": 1, "surgery": 1, "obstetrics": 1},
        beds=300,
        initial_bed_occupancy=0.8,
        acquire=["ecg", "xray", "ct", "lab"],
        read=["ecg", "xray", "ct", "lab"],
        equipment_units={"ct": 1, "xray": 2, "ecg": 2, "lab": 8},
        hours=dict(open_hour=8.0, close_hour=17.5, days=DAYS, weekend_share=0.6),
        ambulances=2,
    )
    return Spec(
        key="liuzhou",
        seed=20200629,
        title='Liubei district (柳北区), Liuzhou, Guangxi: the TCM hospital\'s "3-1" (三一) alliance',
        header=[
            "柳州市中医医院 (Liuzhou TCM Hospital, grade-3A) took over three Liubei township health centres",
            '(黄村, 石碑坪, 白露卫生院) from 2019 at the district government\'s request ("从2019年起柳北区政府先后',
            '将黄村、石碑坪、白露三个卫生院交给柳州市中医医院托管"; seed 002, 中国中医药报 via the hospital\'s',
            'site, 2020-06-29): a tertiary hospital paired directly with grade-1 centres ("三一").  Before the',
            "takeover they sat in the weak district-level \"二一\" alliance; the district lead is modelled as a",
            "second tier-2 lead, 柳北区人民医院 (name [ASSUMED]), with two more towns and one urban community",
            "centre ([ASSUMED] names).  The TCM hospital (a tertiary hospital) is modelled as a tier-2 lead so",
            "that it can take members (restructure=liuzhou_takeover hands the three centres over).",
            "石碑坪镇卫生院 and 穿山镇中心卫生院 (柳江区) joined the city 120 network (seed 002); 穿山 is modelled",
            "as a direct member of the TCM hospital [ASSUMED].  The TCM hospital's own city-centre catchment is",
            "5 urban neighbourhoods around it.  The \"三二\" partner 融水县中医医院 is not modelled.",
            "Tier-3 node: 柳州市工人医院, the city's largest general tertiary hospital, standing for the other",
            "tertiary hospitals patients leave the two leads for [ASSUMED]; ~15 min from the TCM hospital.",
            "Both leads' beds share the catchment's demand (header total, [ASSUMED] split 600 / 300).",
        ],
        description=(
            'Liubei district, Liuzhou (Guangxi): Liuzhou TCM Hospital (3-1 alliance) and the Liubei district '
            "hospital, 6 township and 1 community centre; 3 centres handed to the TCM hospital by "
            "restructure=liuzhou_takeover; ~250k people; synthetic positions."
        ),
        sources=[
            "seed 002 (中国中医药报 via 柳州市中医医院, 2020-06-29): 黄村, 石碑坪, 白露卫生院 handed to 柳州市中医医院 from 2019 (三一 alliance)",
            "seed 002: 石碑坪镇卫生院 (54 ambulance runs, 75 patients) and 穿山镇中心卫生院 (106 call-outs, 113 patients) joined the Liuzhou 120 network in a trial",
            "seed 002: 黄村卫生院 49 staff; 白露卫生院 2,457 outpatients in April 2020 (+27.57%); 石碑坪 director drives 30 km",
        ],
        lead_id="liuzhou_tcm",
        lead=lead,
        lead_notes=notes,
        members=members,
        geometry=Geometry(
            township_r=(8.0, 30.0),
            community_r=(3.0, 4.5),
            village_r=(1.5, 6.0),
            urban_r=(0.6, 2.0),
            min_village_to_lead=3.0,
            max_urban_to_lead=7.0,
        ),
        tertiary_id="liuzhou_workers",
        tertiary=dict(
            name="Liuzhou Workers' Hospital (other city tertiary hospitals)",
            name_zh="柳州市工人医院",
            x_km=-3.5,
            y_km=-2.0,
            **TERTIARY,
        ),
        tertiary_minutes=15.0,
        tertiary_note="[ASSUMED] across the city centre",
        p_no_clinic=0.05,
        p_urban_clinic=0.3,
        lead_neighbourhoods=(5, 70000),
        lead_stem=("Liuzhou city-centre neighbourhood", "柳州城区片区"),
        extra_leads=(
            ExtraLead(
                district,
                district_lead,
                dnotes,
                x_km=1.0,
                y_km=5.5,
                note="[ASSUMED] name and size: the district-level lead of the \"二一\" alliance before the takeover",
            ),
        ),
    )


def qingdao() -> Spec:
    c, t = "community", "township"
    seed_note = "seed 004 (青岛早报 2024)"
    assumed_c = "[ASSUMED] name not in seed 004 (a Qingdao urban sub-district)"
    assumed_t = "[ASSUMED] name not in seed 004 (a Qingdao-area town)"
    urban = [
        # fid, pinyin, zh, note, first neighbourhood names
        ("c_fuan", "Fuan", "阜安", seed_note + ": workstation opened 2023-12-20 (respiratory head; plastic surgery, thyroid, cardiology, dermatology teams)", ()),
        ("c_shuiqinggou", "Shuiqinggou", "水清沟", "[ASSUMED] centre above the seed's 小水清沟卫生服务站 (green-channel case, seed 004)",
         (("Xiaoshuiqinggou", "小水清沟"),)),
        ("c_liaoninglu", "Liaoninglu", "辽宁路", assumed_c, ()),
        ("c_dengzhoulu", "Dengzhoulu", "登州路", assumed_c, ()),
        ("c_dunhualu", "Dunhualu", "敦化路", assumed_c, ()),
        ("c_licun", "Licun", "李村", assumed_c, ()),
        ("c_xiangtanlu", "Xiangtanlu", "湘潭路", assumed_c, ()),
        ("c_fushanxinqu", "Fushanxinqu", "浮山新区", assumed_c, ()),
        ("c_zhonghan", "Zhonghan", "中韩", assumed_c, ()),
        ("c_shazikou", "Shazikou", "沙子口", assumed_c, ()),
    ]
    angles_c = [40.0, 60.0, 80.0, 100.0, 120.0, 140.0, 30.0, 70.0, 110.0, 150.0]
    members = [
        Member(
            fid,
            f"{py} Sub-district Community Health Centre",
            f"{zh}街道社区卫生服务中心",
            c,
            4,
            24000,
            note,
            urban=True,
            angle_deg=angles_c[i],
            village_stem=f"{py} neighbourhood",
            village_stem_zh=f"{zh}社区片区",
            first_village_names=first,
        )
        for i, (fid, py, zh, note, first) in enumerate(urban)
    ]
    members.append(
        Member(
            "c_wanggezhuang",
            "Wanggezhuang Sub-district Community Health Centre",
            "王哥庄街道社区卫生服务中心",
            c,
            10,
            30000,
            seed_note + ": workstation opened 2023-12-23 (oncology and pain clinics); a rural sub-district of Laoshan",
            r_km=(30.0, 36.0),
            angle_deg=55.0,
            village_stem="Wanggezhuang village",
            village_stem_zh="王哥庄街道",
        )
    )
    members.append(
        Member(
            "t_jiaolai",
            "Jiaolai Central Health Centre",
            "胶莱中心卫生院",
            t,
            12,
            36000,
            seed_note + ": workstation opened 2023-12-23 (thyroid, cardiology, plastic surgery teams)",
            ct=True,
            r_km=(60.0, 66.0),
            angle_deg=135.0,
            village_stem="Jiaolai village",
            village_stem_zh="胶莱镇",
        )
    )
    for fid, py, zh, n, pop, ang in [
        ("t_ligezhuang", "Ligezhuang", "李哥庄", 9, 30000, 120.0),
        ("t_puji", "Puji", "铺集", 9, 28000, 165.0),
        ("t_nancun", "Nancun", "南村", 10, 32000, 110.0),
        ("t_liaolan", "Liaolan", "蓼兰", 9, 28000, 95.0),
        ("t_yifengdian", "Yifengdian", "移风店", 9, 28000, 80.0),
        ("t_tianheng", "Tianheng", "田横", 9, 28000, 60.0),
        ("t_liuwang", "Liuwang", "六汪", 9, 28000, 175.0),
    ]:
        members.append(Member(fid, f"{py} Town Health Centre", f"{zh}镇卫生院", t, n, pop, assumed_t, angle_deg=ang))
    lead = dict(name="Qingdao Municipal Hospital", name_zh="青岛市市立医院", **LEAD_TIER2)
    lead.update(
        doctors={
            "general": 70,
            "emergency": 8,
            "ent": 6,
            "eye": 6,
            "ortho": 8,
            "cardiology": 12,
            "dental": 5,
            "surgery": 16,
            "obstetrics": 8,
            "neurology": 6,
            "rehab": 4,
        },
        night_doctors={"emergency": 4, "general": 2, "cardiology": 1, "surgery": 2, "obstetrics": 1, "neurology": 1},
        beds=2000,
        equipment_units={"ct": 4, "xray": 10, "ecg": 6, "lab": 30, "cathlab": 2},
        ambulances=8,
    )
    notes = dict(LEAD_NOTES_COMMON)
    notes["doctors"] = (
        "[ASSUMED] day-shift outpatient/consulting doctors of a grade-3A city hospital serving the modelled catchment"
    )
    notes["beds"] = "[ASSUMED] the share of the hospital's beds serving the modelled catchment (demand-based, header)"
    notes["acquire"] = "[ASSUMED] heart centre (seed 004: 心脏中心) with cath lab; stroke CT"
    return Spec(
        key="qingdao",
        seed=20240227,
        title="Qingdao (青岛), Shandong: Qingdao Municipal Hospital's grassroots expert workstations",
        header=[
            "青岛市市立医院 (Qingdao Municipal Hospital, grade-3A city hospital) opened expert workstations at",
            '19 grassroots sites in December 2023: "首批10家基层单位博士(科普)团工作站和9家基层单位巡诊工作站"',
            "(seed 004, 青岛早报 2024).  Each is led by a hospital expert with an assistant; specialist teams",
            "sit in and tour (levers=qingdao_workstations).  The seed names 3 sites (阜安社区卫生服务中心,",
            "胶莱中心卫生院, 王哥庄街道社区卫生服务中心) and one station (小水清沟卫生服务站, the first",
            "neighbourhood of 水清沟); the other 16 site names are [ASSUMED] real Qingdao sub-districts/towns.",
            "The hospital is also the lead of the 市北区 medical-social community with a green-channel",
            "up-referral; modelled as one tier-2 lead for all 19 sites.  Each site's catchment is scaled down",
            "[ASSUMED] to keep the model near the other bundled networks in size; urban neighbourhoods have a",
            "community health station (2 doctors) with probability 0.5 [ASSUMED].  The cross-region partners",
            "(诸城市中医医院, 高密夷安医院) are not modelled.  Tier-3 node: 青岛大学附属医院, standing for the",
            "city's other tertiary hospitals [ASSUMED]; positions are synthetic, sites north of the hospital.",
        ],
        description=(
            "Qingdao (Shandong): Qingdao Municipal Hospital with expert workstations at 19 grassroots sites "
            "(11 community and 8 township centres); ~550k people in the modelled catchments; synthetic positions."
        ),
        sources=[
            "seed 004 (观海新闻/青岛早报 2024): 青岛市市立医院 workstations at 10 (博士科普团) + 9 (巡诊) grassroots sites, Dec 2023",
            "seed 004: workstations at 阜安社区卫生服务中心, 胶莱中心卫生院, 王哥庄街道社区卫生服务中心; green channel from 小水清沟卫生服务站",
        ],
        lead_id="qingdao_municipal",
        lead=lead,
        lead_notes=notes,
        members=members,
        geometry=Geometry(
            township_r=(35.0, 80.0),
            community_r=(2.5, 12.0),
            village_r=(2.0, 9.0),
            urban_r=(0.6, 2.0),
            min_village_to_lead=20.0,
            max_urban_to_lead=14.5,
        ),
        tertiary_id="qingdao_university",
        tertiary=dict(
            name="Affiliated Hospital of Qingdao University (other city tertiary hospitals)",
            name_zh="青岛大学附属医院",
            x_km=3.0,
            y_km=2.0,
            **TERTIARY,
        ),
        tertiary_minutes=15.0,
        tertiary_note="[ASSUMED] across the city centre",
        p_no_clinic=0.05,
        p_urban_clinic=0.5,
        lead_neighbourhoods=(4, 50000),
        lead_stem=("Shinan neighbourhood", "市南区片区"),
    )


SPECS = {
    "taobei": taobei,
    "xianghe": xianghe,
    "qingbaijiang": qingbaijiang,
    "liuzhou": liuzhou,
    "qingdao": qingdao,
}


# ----------------------------------------------------------------------------- generation
@dataclass
class Net:
    villages: dict[str, dict[str, Any]]
    village_home: dict[str, str]
    facilities: dict[str, dict[str, Any]]
    catchment: dict[str, tuple[int, int]]
    roads: list[tuple[str, str, float | None, str]]


def _polar(
    rng: np.random.Generator, centre: tuple[float, float], r: tuple[float, float], angle: float | None = None
) -> tuple[float, float]:
    a = rng.uniform(0.0, 2.0 * math.pi) if angle is None else angle
    rad = rng.uniform(*r)
    return (round(centre[0] + rad * math.cos(a), 1), round(centre[1] + rad * math.sin(a), 1))


def _dist(p: tuple[float, float], q: tuple[float, float]) -> float:
    return math.hypot(p[0] - q[0], p[1] - q[1])


def _place_village(
    rng: np.random.Generator,
    centre: tuple[float, float],
    r: tuple[float, float],
    lead: tuple[float, float],
    taken: list[tuple[float, float]],
    urban: bool,
    geo: Geometry,
) -> tuple[float, float]:
    for _ in range(10000):
        p = _polar(rng, centre, r)
        d_lead = _dist(p, lead)
        if urban and d_lead > geo.max_urban_to_lead:
            continue
        if not urban and d_lead < geo.min_village_to_lead:
            continue
        if min(_dist(p, q) for q in taken) < (0.5 if urban else 0.9):
            continue
        return p
    raise RuntimeError("could not place a village; loosen the geometry")


def _populations(rng: np.random.Generator, total: int, n: int, sigma: float) -> list[int]:
    w = rng.lognormal(0.0, sigma, n)
    return [max(10, round_to(total * x / w.sum(), 10)) for x in w]


def generate(spec: Spec) -> Net:
    rng = np.random.default_rng(spec.seed)
    geo = spec.geometry
    lead_xy = (0.0, 0.0)
    facilities: dict[str, dict[str, Any]] = {spec.lead_id: dict(spec.lead, x_km=0.0, y_km=0.0)}
    taken: list[tuple[float, float]] = [lead_xy]
    lead_pos: dict[str, tuple[float, float]] = {spec.lead_id: lead_xy}
    for ex in spec.extra_leads:
        facilities[ex.fid] = dict(ex.facility, x_km=ex.x_km, y_km=ex.y_km)
        lead_pos[ex.fid] = (ex.x_km, ex.y_km)
        taken.append(lead_pos[ex.fid])

    # tier-1 centres: townships on a ring 10-40 km out, communities on an inner ring
    positions: dict[str, tuple[float, float]] = {}
    for kind, r in (("township", geo.township_r), ("community", geo.community_r)):
        group = [m for m in spec.members if m.kind == kind]
        base = rng.uniform(0.0, 2.0 * math.pi)
        for k, m in enumerate(group):
            angle = base + 2.0 * math.pi * k / len(group) + rng.uniform(-0.2, 0.2)
            if len(group) > 6:  # many centres: alternate an inner and an outer ring to spread them
                mid = 0.5 * (r[0] + r[1])
                r_k = (r[0], mid - 2.0) if k % 2 == 0 else (mid + 2.0, r[1])
            else:
                r_k = r
            if m.angle_deg is not None:  # a member placed by hand (the ring's draws still happen)
                angle = math.radians(m.angle_deg)
            positions[m.fid] = _polar(rng, lead_xy, m.r_km or r_k, angle)
            taken.append(positions[m.fid])

    villages: dict[str, dict[str, Any]] = {}
    home: dict[str, str] = {}
    catchment: dict[str, tuple[int, int]] = {}
    urban_ids: set[str] = set()
    counter = 0

    def add_village(
        centre_id: str, centre: tuple[float, float], name: str, name_zh: str, pop: int, urban: bool
    ) -> None:
        nonlocal counter
        counter += 1
        vid = f"v{counter:03d}"
        r = geo.urban_r if urban else geo.village_r
        xy = _place_village(rng, centre, r, lead_xy, taken, urban, geo)
        taken.append(xy)
        u = rng.random()
        if urban:
            clinic = 2 if u < spec.p_urban_clinic else spec.urban_min_clinic
            urban_ids.add(vid)
        else:
            p2 = 0.45 if pop >= 3000 else 0.2
            clinic = 0 if u < spec.p_no_clinic else (2 if u < spec.p_no_clinic + p2 else 1)
        villages[vid] = dict(name=name, name_zh=name_zh, x_km=xy[0], y_km=xy[1], population=pop, clinic_doctors=clinic)
        home[vid] = centre_id

    for m in spec.members:
        pops = _populations(rng, m.population, m.n_villages, 0.25 if m.urban else 0.35)
        stem = m.village_stem or m.name.split(" ")[0] + " village"
        stem_zh = m.village_stem_zh or re.match(r"^.+?[镇乡]", m.name_zh).group(0)
        for i, pop in enumerate(pops):
            if i < len(m.first_village_names):
                nm, nm_zh = m.first_village_names[i]
            else:
                nm, nm_zh = f"{stem} {i + 1:02d}", f"{stem_zh}{i + 1:02d}{'' if m.urban else '村'}"
            add_village(m.fid, positions[m.fid], nm, nm_zh, pop, m.urban)
        catchment[m.fid] = (sum(pops), m.n_villages)
    n_lead, pop_lead = spec.lead_neighbourhoods
    if n_lead:
        for i, pop in enumerate(_populations(rng, pop_lead, n_lead, 0.2)):
            add_village(
                spec.lead_id, lead_xy, f"{spec.lead_stem[0]} {i + 1:02d}", f"{spec.lead_stem[1]}{i + 1:02d}", pop, True
            )

    for m in spec.members:
        pop, _ = catchment[m.fid]
        doctors, night, beds = tier1_staffing(m.kind, pop)
        acquire = ["ecg", "xray", "ct", "lab"] if m.ct else ["ecg", "xray", "lab"]
        facilities[m.fid] = dict(
            name=m.name,
            name_zh=m.name_zh,
            kind=m.kind,
            tier=1,
            x_km=positions[m.fid][0],
            y_km=positions[m.fid][1],
            lead=m.lead or spec.lead_id,
            doctors={"general": doctors},
            night_doctors={"general": night},
            beds=beds,
            initial_bed_occupancy=0.6,
            acquire=acquire,
            read=["lab", "xray"] if m.reads_xray else ["lab"],
            # a lab analyser runs many samples at once: 8 parallel slots [ASSUMED]
            equipment_units={"lab": 8},
            hours=dict(open_hour=8.0, close_hour=17.5, days=DAYS, weekend_share=0.5),
            ambulances=0,
        )
    facilities[spec.tertiary_id] = dict(spec.tertiary)

    # roads: village -> own centre (+ lead for urban neighbourhoods) -> 1-2 nearest villages
    roads: list[tuple[str, str, float | None, str]] = []
    seen: set[frozenset[str]] = set()

    def road(a: str, b: str, minutes: float | None = None, note: str = "") -> None:
        key = frozenset((a, b))
        if key not in seen:
            seen.add(key)
            roads.append((a, b, minutes, note))

    vids = list(villages)
    vxy = np.array([[villages[v]["x_km"], villages[v]["y_km"]] for v in vids])
    for i, vid in enumerate(vids):
        road(vid, home[vid])
        # a village nearer (straight line) to another centre or to the lead hospital than to
        # its own centre gets a road there too: patients use the nearest door (bypassing)
        xy = (villages[vid]["x_km"], villages[vid]["y_km"])
        doors = [(_dist(xy, p), f) for f, p in positions.items()] + [(_dist(xy, p), f) for f, p in lead_pos.items()]
        nearest = min(doors)[1]
        if nearest != home[vid]:
            road(vid, nearest)
        if vid in urban_ids and spec.urban_road_to_lead and home[vid] != spec.lead_id:
            road(vid, spec.lead_id)
        d = np.hypot(*(vxy - vxy[i]).T)
        d[i] = np.inf
        k = int(rng.integers(1, 3))
        for j in np.argsort(d, kind="stable")[:k]:
            road(vid, vids[int(j)])
    t1 = [m.fid for m in spec.members]
    for m in spec.members:
        if m.lead and m.lead != spec.lead_id:
            road(m.fid, m.lead)
        road(m.fid, spec.lead_id)
    for ex in spec.extra_leads:
        road(ex.fid, spec.lead_id)
    for fid in t1:
        p = positions[fid]
        others = sorted((f for f in t1 if f != fid), key=lambda f: (_dist(p, positions[f]), f))
        for other in others[: int(rng.integers(1, 3))]:
            road(fid, other)
    road(spec.lead_id, spec.tertiary_id, spec.tertiary_minutes, spec.tertiary_note)
    return Net(villages=villages, village_home=home, facilities=facilities, catchment=catchment, roads=roads)


# ----------------------------------------------------------------------------- YAML output
_PLAIN = re.compile(r"^[A-Za-z\u4e00-\u9fff][A-Za-z0-9 _'\-.()\u4e00-\u9fff（）]*$")


def ystr(s: str) -> str:
    """A YAML scalar: plain where unambiguous, else a JSON (= YAML double-quoted) string."""
    if _PLAIN.match(s) and s.lower() not in ("yes", "no", "true", "false", "null", "on", "off") and not s.endswith(" "):
        return s
    return json.dumps(s, ensure_ascii=False)


def yval(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v + 0.0:.1f}" if abs(v - round(v, 1)) < 1e-9 else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return ystr(v)
    if isinstance(v, list):
        return "[" + ", ".join(yval(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {yval(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


FACILITY_KEYS = [
    "name",
    "name_zh",
    "kind",
    "tier",
    "x_km",
    "y_km",
    "lead",
    "doctors",
    "night_doctors",
    "beds",
    "initial_bed_occupancy",
    "acquire",
    "read",
    "equipment_units",
    "hours",
    "ambulances",
]


def render(spec: Spec, net: Net) -> str:
    pop = sum(v["population"] for v in net.villages.values())
    n_clinics = sum(1 for v in net.villages.values() if v["clinic_doctors"] > 0)
    lead_need = beds_needed(pop, LEAD_SHARE)
    out: list[str] = []
    w = out.append
    w(f"# {spec.title}")
    w("#")
    w(f"# GENERATED by scripts/make_networks.py (numpy default_rng seed {spec.seed}); edit the script, not this file,")
    w("# and re-run `.venv/bin/python scripts/make_networks.py` (`--check` verifies this file).")
    w("#")
    for line in spec.header:
        w(f"# {line}".rstrip())
    w("#")
    w("# Positions are synthetic but plausible (distances typical of the county, not from a map): the")
    w("# lead hospital is at (0, 0) and x/y are km east/north of it.  Village populations, village")
    w("# names (except where a seed names one) and village-clinic staffing are synthetic.  Every")
    w("# number marked [ASSUMED] is an assumption, not a published figure.")
    w("#")
    w(
        f"# Totals: {pop:,} people in {len(net.villages)} villages ({n_clinics} with a clinic), "
        f"{len(net.facilities)} facilities."
    )
    w(f"# Lead-hospital beds: {pop:,} x 0.2 admissions/yr (NHC 2023: 0.21) x {LEAD_SHARE} [ASSUMED lead share]")
    w(f"#   / 365 x 8.8 d mean stay (NHC 2023) / 0.85 occupancy (NHC 2023: public 86%) ~= {lead_need:,.0f} beds.")
    w("")
    w(f"name: {spec.key}")
    w(f"description: {json.dumps(spec.description, ensure_ascii=False)}")
    w("sources:")
    for s in (
        spec.sources
        + COMMON_SOURCES
        + [
            f"[ASSUMED] positions, village populations and clinic staffing: synthetic, scripts/make_networks.py seed {spec.seed}",
            "[ASSUMED] specialty split, night rota, equipment units and ambulances of the lead hospital; tier-1 sizing rules (YAML comments)",
        ]
    ):
        w(f"  - {json.dumps(s, ensure_ascii=False)}")
    w("road_speed_kmh: 40.0        # [ASSUMED] mean county road speed")
    w("detour_factor: 1.3          # [ASSUMED] road km per straight-line km")
    w("clinic_access_minutes: 5.0  # [ASSUMED] homes to their village clinic")
    w("")
    w("# Villages: position, population and clinic_doctors (0 = no village clinic) all [ASSUMED],")
    w("# synthetic; rural villages have 1-2 village doctors (NHC 2023), a few none.")
    w("villages:")
    for vid, v in net.villages.items():
        w(f"  {vid}: {yval(v)}")
    w("")
    w("facilities:")
    for fid, f in net.facilities.items():
        w(f"  {fid}:")
        if f["tier"] == 1:
            m = next(m for m in spec.members if m.fid == fid)
            cpop, nv = net.catchment[fid]
            w(f"    # name: {m.note}; catchment {cpop:,} people in {nv} villages; sizing [ASSUMED] rules below")
        extra = {ex.fid: ex for ex in spec.extra_leads}
        notes = (extra[fid].notes if fid in extra else spec.lead_notes) if f["tier"] == 2 else {}
        if fid in extra:
            w(f"    # {extra[fid].note}")
        elif f["tier"] == 2:
            w("    # name: seed; staffing, beds and equipment [ASSUMED] as marked")
        if f["tier"] == 3:
            w("    # a sink: patients sent out of county are not simulated further")
        for k in FACILITY_KEYS:
            if k not in f:
                continue
            line = f"    {k}: {yval(f[k])}"
            if k in notes:
                line += f"  # {notes[k]}"
            elif f["tier"] == 1 and k in ("doctors", "night_doctors", "beds", "initial_bed_occupancy", "hours"):
                line += "  # [ASSUMED] rule"
            w(line)
    w("")
    for line in TIER1_RULES:
        w(f"# {line}")
    w("")
    urban_note = "; urban neighbourhoods also the lead hospital" if spec.urban_road_to_lead else ""
    w("# Roads: minutes omitted = straight-line km x detour_factor / road_speed_kmh.  Each village")
    w("# joins its own centre, the nearest centre or lead hospital if that is not its own, and its")
    w(f"# 1-2 nearest villages{urban_note}.  Each tier-1 centre joins its lead")
    w("# hospital and its 1-2 nearest tier-1 neighbours; the lead joins the out-of-county node")
    w("# with explicit minutes.")
    w("roads:")
    for a, b, minutes, note in net.roads:
        body = f"a: {a}, b: {b}" + (f", minutes: {yval(float(minutes))}" if minutes is not None else "")
        w(f"  - {{{body}}}" + (f"  # {note}" if note else ""))
    return "\n".join(out) + "\n"


def _self_check(spec: Spec, net: Net, text: str) -> None:
    """The emitted YAML parses back to exactly the generated data."""
    import yaml

    data = yaml.safe_load(text)
    assert data["villages"] == net.villages, spec.key
    assert data["facilities"] == net.facilities, spec.key
    roads = [(r["a"], r["b"], r.get("minutes")) for r in data["roads"]]
    assert roads == [(a, b, m) for a, b, m, _ in net.roads], spec.key


def build(key: str) -> str:
    spec = SPECS[key]()
    net = generate(spec)
    text = render(spec, net)
    _self_check(spec, net, text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the files on disk; write nothing")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default scenarios/network)")
    parser.add_argument("names", nargs="*", default=list(SPECS), help="networks to build (default: all)")
    args = parser.parse_args(argv)
    status = 0
    for key in args.names:
        text = build(key)
        path = args.out / f"{key}.yaml"
        if args.check:
            same = path.exists() and path.read_text(encoding="utf-8") == text
            print(f"{path}: {'up to date' if same else 'DIFFERS'}")
            status |= 0 if same else 1
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
