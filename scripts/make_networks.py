"""Generate the bundled county networks (``scenarios/network/``) from their data sources.

Each network is described by a data file, ``scripts/networks/<name>.yaml``; this script
validates it, places the villages and sizes the tier-1 centres, and writes the Hydra YAML.
The generated files are committed and reproduced byte for byte::

    .venv/bin/python scripts/make_networks.py            # (re)write every network
    .venv/bin/python scripts/make_networks.py liuzhou    # (re)write one
    .venv/bin/python scripts/make_networks.py --check    # exit 1 if a file differs

A malformed source stops the script with one line naming the file and the key (exit 2).
``toy.yaml`` is hand-written and not produced here.

What comes from where
---------------------
- ``scripts/networks/<name>.yaml`` (one per county): the seed, the header text and sources,
  the lead hospital (and Liuzhou's second lead), the tertiary node, the members with their
  village counts and target populations, the placement geometry and the village-clinic
  probabilities.  Facility names and counts come from the seed news reports in
  ``/work/shared/seeds`` (seed 000 Taobei, 001 Xianghe, 002 Liuzhou "3-1", 003 Qingbaijiang,
  004 Qingdao); each member's ``note`` says where its name comes from, a lead's ``notes``
  source its staffing, and anything not from a source is marked ``[ASSUMED]``.
- ``scripts/networks/_defaults.yaml``: the common sources (NHC statistical bulletin 2023 and
  others, as listed in ``/work/shared/REFERENCES.md``), travel settings, and the block every
  tier-2 lead and tier-3 node shares (a county's own keys override it).
- This script: the sizing rules (NHC 2023 admissions, stay and occupancy; the ``[ASSUMED]``
  tier-1 rules written out in every generated file) and the placement.  Positions, village
  populations and clinic staffing are synthetic but plausible, drawn from one
  ``numpy.random.default_rng(seed)`` per network (no global RNG), in member order.

Source keys
-----------
``seed``, ``title``, ``description``, ``header`` (text), ``sources`` (list);
``lead``: ``id`` plus the facility keys of the generated file and ``notes`` (the comment on
each line), optionally ``neighbourhoods`` (``count``, ``population``, ``stem``, ``stem_zh``:
urban neighbourhoods around the lead itself); ``extra_leads``: id -> facility block with
``x_km``, ``y_km``, ``note`` (comment above it) and ``notes``; ``tertiary``: ``id``, facility
keys, ``minutes`` (road time from the lead) and ``note``; ``geometry``: ``township_r``,
``community_r``, ``village_r``, ``urban_r`` (km ranges), ``min_village_to_lead``,
``max_urban_to_lead``; ``villages``: ``p_no_clinic``, ``p_urban_clinic``, ``urban_min_clinic``,
``urban_road_to_lead``; ``members``: id -> ``name``, ``name_zh``, ``kind`` (township or
community), ``villages`` (count), ``population`` (target), ``note`` and optionally ``ct``,
``weak`` (reads lab only), ``urban`` (its villages are urban neighbourhoods), ``lead`` (default: the
main lead), ``r_km`` and ``angle_deg`` (placed by hand instead of on the ring; the ring's
draws still happen), ``village_stem`` / ``village_stem_zh`` (default: from the name),
``first_villages`` (``[name, name_zh]`` pairs named by a seed).
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
import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "scenarios" / "network"
SRC_DIR = ROOT / "scripts" / "networks"
DEFAULTS = "_defaults.yaml"

# ----------------------------------------------------------------------------- sizing rules
#: NHC statistical bulletin 2023: ~0.21 admissions per person per year (rounded down).
ADMISSIONS_PER_PERSON = 0.2
#: NHC statistical bulletin 2023: mean length of stay, days.
LOS_DAYS = 8.8
#: target occupancy (public hospitals 86.0% in the NHC bulletin 2023).
TARGET_OCCUPANCY = 0.85
#: [ASSUMED] share of a catchment's admissions at the lead hospital / a community centre.
LEAD_SHARE = 0.6
COMMUNITY_SHARE = 0.1
#: township centres: ~0.084 admissions per rural resident a year (39.92 M township admissions,
#: NHC 2023, / ~477 M rural residents [EST]), mean stay 6.6 d (provincial series 2014-22:
#: 6.35-6.8 d), planned at 60% occupancy [ASSUMED] (national ~48% [EST], REFERENCES.md).
TOWNSHIP_ADMISSIONS_PER_PERSON = 0.084
TOWNSHIP_LOS_DAYS = 6.6
TOWNSHIP_OCCUPANCY = 0.6
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
        need = TOWNSHIP_ADMISSIONS_PER_PERSON * population / 365.0 * TOWNSHIP_LOS_DAYS / TOWNSHIP_OCCUPANCY
        beds = int(np.clip(round_to(need, 5), 20, 100))
    else:
        doctors = int(np.clip(round(4 + population / 4000), 8, 16))
        beds = int(np.clip(round_to(beds_needed(population, COMMUNITY_SHARE), 5), 10, 40))
    night = 2 if population >= 20000 else 1
    return doctors, night, beds


TIER1_RULES = [
    "Tier-1 sizing rules [ASSUMED], applied to each centre's catchment (its own villages):",
    "  township:  general doctors = 4 + catchment/2,000, clipped to 10-20 (national average",
    "             ~48 staff per centre, NHC 2023); beds = catchment x 0.084 admissions / 365 x",
    "             6.6 d / 0.6 occupancy (NHC 2023 township admissions per rural resident [EST];",
    "             provincial stays 6.35-6.8 d), rounded to 5, clipped to 20-100 (national ~45);",
    "  community: general doctors = 4 + catchment/4,000, clipped to 8-16; beds as above with a",
    "             0.10 share, clipped to 10-40;",
    "  night general doctors = 2 if catchment >= 20,000 else 1; initial bed occupancy 0.6 (warm",
    "  start); open 8:00-17:30 daily, weekend_share 0.5; no ambulances (not in the 120 network);",
    "  acquire ECG, X-ray, lab (CT where marked; seed 001: township centres with B-ultrasound,",
    "  X-ray, biochemistry analysers, ECG monitors); read ECG, X-ray and lab themselves, CT",
    "  remotely by the lead hospital; a centre marked weak reads lab only (ECG and X-ray are",
    "  read remotely where a remote-reading lever is on, else the patient is referred up).",
]

# ----------------------------------------------------------------------------- source schema
# A schema is a type (an int is accepted, and converted, where a float is due), [item] (a list),
# (a, b) (a list of exactly these), {key: schema} ('key?' = optional) or {str: item} (any keys).
COUNTS = {str: int}
PAIR = (float, float)
FACILITY = {
    "name": str, "name_zh": str, "kind": str, "tier": int, "doctors": COUNTS, "night_doctors?": COUNTS,
    "beds": int, "initial_bed_occupancy?": float, "acquire": [str], "read": [str], "equipment_units?": COUNTS,
    "hours": {"open_hour": float, "close_hour": float, "days": [int], "weekend_share": float},
    "ambulances?": int,
}
NOTES = {str: str}
#: the keys of a generated facility, in the order they are written
FACILITY_KEYS = ["name", "name_zh", "kind", "tier", "x_km", "y_km", "lead"]
FACILITY_KEYS += [k.rstrip("?") for k in list(FACILITY)[4:]]
NEIGHBOURHOODS = {"count": int, "population": int, "stem": str, "stem_zh": str}
LEAD = {"id": str, **FACILITY, "notes?": NOTES, "neighbourhoods?": NEIGHBOURHOODS}
EXTRA_LEAD = {"note": str, "x_km": float, "y_km": float, **FACILITY, "notes?": NOTES}
TERTIARY = {"id": str, **FACILITY, "x_km": float, "y_km": float, "minutes": float, "note": str}
MEMBER = {
    "name": str, "name_zh": str, "kind": str, "villages": int, "population": int, "note": str,
    "ct?": bool, "weak?": bool, "urban?": bool, "lead?": str, "r_km?": PAIR, "angle_deg?": float,
    "village_stem?": str, "village_stem_zh?": str, "first_villages?": [(str, str)],
}
MEMBER_DEFAULTS = dict(ct=False, weak=False, urban=False, lead="", r_km=None, angle_deg=None,
                       village_stem="", village_stem_zh="", first_villages=())
GEOMETRY = {"township_r": PAIR, "community_r": PAIR, "village_r": PAIR, "urban_r": PAIR,
            "min_village_to_lead": float, "max_urban_to_lead": float}
VILLAGES = {"p_no_clinic": float, "p_urban_clinic": float, "urban_min_clinic": int, "urban_road_to_lead": bool}
SOURCE = {
    "seed": int, "title": str, "description": str, "header": str, "sources": [str], "lead": dict,
    "extra_leads?": {str: dict}, "tertiary": dict, "geometry": GEOMETRY, "villages": VILLAGES,
    "members": {str: MEMBER},
}
TRAVEL = {k: {"value": float, "note": str} for k in ("road_speed_kmh", "detour_factor", "clinic_access_minutes")}
DEFAULTS_SCHEMA = {
    "sources": [str],
    "travel": TRAVEL,
    "lead?": {k.rstrip("?") + "?": v for k, v in {**FACILITY, "notes": NOTES}.items()},
    "tertiary?": {k.rstrip("?") + "?": v for k, v in FACILITY.items()},
}


class SourceError(ValueError):
    """A malformed source file; the message (one line) names the file and the key."""


def _check(value: Any, schema: Any, where: str) -> Any:
    """``value`` checked against ``schema`` (see above); returns it with ints made floats where due."""
    at = where or "top level"
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            raise SourceError(f"{at}: expected a mapping, got {value!r}")
        sub = (lambda k: f"{where}.{k}") if where else str
        if str in schema:
            for k in value:
                if not isinstance(k, str):
                    raise SourceError(f"{sub(k)}: expected a name as key, got {k!r}")
            return {k: _check(v, schema[str], sub(k)) for k, v in value.items()}
        keys = {k.rstrip("?"): k for k in schema}
        for k in value:
            if k not in keys:
                raise SourceError(f"{sub(k)}: unknown key (expected one of: {', '.join(keys)})")
        for k, spelled in keys.items():
            if k not in value and not spelled.endswith("?"):
                raise SourceError(f"{at}: missing key {k!r}")
        return {k: _check(v, schema[keys[k]], sub(k)) for k, v in value.items()}
    if isinstance(schema, list | tuple):
        if not isinstance(value, list) or (isinstance(schema, tuple) and len(value) != len(schema)):
            what = f"a list of {len(schema)}" if isinstance(schema, tuple) else "a list"
            raise SourceError(f"{at}: expected {what}, got {value!r}")
        items = schema if isinstance(schema, tuple) else [schema[0]] * len(value)
        return [_check(v, s, f"{where}[{i}]") for i, (v, s) in enumerate(zip(value, items))]
    if schema is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, schema) or (isinstance(value, bool) and schema is not bool):
        raise SourceError(f"{at}: expected {schema.__name__}, got {value!r}")
    return value


class _Loader(yaml.SafeLoader):
    """``yaml.safe_load`` that refuses a repeated key (it would silently drop a member)."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _name(path: Path) -> Path:
    """``path`` as error messages show it (relative to the repository where it lies inside)."""
    return path.relative_to(ROOT) if path.is_absolute() and path.is_relative_to(ROOT) else path


def _read(path: Path, schema: Any) -> dict[str, Any]:
    name = _name(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except OSError as e:
        raise SourceError(f"{name}: cannot read ({e.strerror})") from None
    except yaml.MarkedYAMLError as e:
        line = f"line {e.problem_mark.line + 1}: " if e.problem_mark else ""
        raise SourceError(f"{name}: {line}{e.problem}") from None
    try:
        return _check(data, schema, "")
    except SourceError as e:
        raise SourceError(f"{name}: {e}") from None


def _block(defaults: dict[str, Any], own: dict[str, Any], schema: dict[str, Any], where: str) -> dict[str, Any]:
    """A facility block: the defaults overridden key by key, checked; ``notes`` merged line by line."""
    merged = _check({**{k: v for k, v in defaults.items() if k != "notes"}, **own}, schema, where)
    if "notes?" in schema:
        merged["notes"] = {**defaults.get("notes", {}), **merged.get("notes", {})}
    return merged


def load_source(path: Path) -> dict[str, Any]:
    """The checked source of one network (``path``), with ``_defaults.yaml`` from its folder."""
    common = _read(path.parent / DEFAULTS, DEFAULTS_SCHEMA)
    s = _read(path, SOURCE)
    try:
        s["key"], s["common"] = path.stem, common
        s["lead"] = _block(common.get("lead", {}), s["lead"], LEAD, "lead")
        s["extra_leads"] = {
            f: _block(common.get("lead", {}), x, EXTRA_LEAD, f"extra_leads.{f}")
            for f, x in s.get("extra_leads", {}).items()
        }
        s["tertiary"] = _block(common.get("tertiary", {}), s["tertiary"], TERTIARY, "tertiary")
        leads = [s["lead"]["id"], *s["extra_leads"]]
        ids = [*leads, *s["members"], s["tertiary"]["id"]]
        for fid in ids:
            if ids.count(fid) > 1:
                raise SourceError(f"{fid}: two facilities (lead, extra_leads, members, tertiary) share this id")
        for where, f in [("lead", s["lead"]), ("tertiary", s["tertiary"])] + [
            (f"extra_leads.{k}", x) for k, x in s["extra_leads"].items()
        ]:
            for key in ("acquire", "read"):
                if set(f[key]) - set(ALL_KINDS):
                    raise SourceError(f"{where}.{key}: {f[key]} (expected among {', '.join(ALL_KINDS)})")
        for fid, m in s["members"].items():
            m.update({k: v for k, v in MEMBER_DEFAULTS.items() if k not in m}, fid=fid)
            m["lead"] = m["lead"] or s["lead"]["id"]
            if m["kind"] not in ("township", "community"):
                raise SourceError(f"members.{fid}.kind: {m['kind']!r} (expected township or community)")
            if m["lead"] not in leads:
                raise SourceError(f"members.{fid}.lead: {m['lead']!r} (expected one of: {', '.join(leads)})")
            if m["villages"] < 1 or m["population"] < 1:
                raise SourceError(f"members.{fid}: villages and population must be positive")
            if not m["village_stem_zh"] and not re.match(r"^.+?[镇乡]", m["name_zh"]):
                raise SourceError(f"members.{fid}.village_stem_zh: needed, name_zh has no 镇/乡 to name villages by")
        if not s["members"]:
            raise SourceError("members: none given")
    except SourceError as e:
        raise SourceError(f"{_name(path)}: {e}") from None
    return s


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
    geo: dict[str, Any],
) -> tuple[float, float]:
    for _ in range(10000):
        p = _polar(rng, centre, r)
        d_lead = _dist(p, lead)
        if urban and d_lead > geo["max_urban_to_lead"]:
            continue
        if not urban and d_lead < geo["min_village_to_lead"]:
            continue
        if min(_dist(p, q) for q in taken) < (0.5 if urban else 0.9):
            continue
        return p
    raise RuntimeError("could not place a village; loosen the geometry")


def _populations(rng: np.random.Generator, total: int, n: int, sigma: float) -> list[int]:
    w = rng.lognormal(0.0, sigma, n)
    return [max(10, round_to(total * x / w.sum(), 10)) for x in w]


def _facility(block: dict[str, Any]) -> dict[str, Any]:
    """The facility keys of a source block (without ids, notes, neighbourhoods)."""
    return {k: v for k, v in block.items() if k in FACILITY_KEYS}


def generate(s: dict[str, Any]) -> Net:
    rng = np.random.default_rng(s["seed"])
    geo, rules, members = s["geometry"], s["villages"], list(s["members"].values())
    lead_id = s["lead"]["id"]
    lead_xy = (0.0, 0.0)
    facilities: dict[str, dict[str, Any]] = {lead_id: dict(_facility(s["lead"]), x_km=0.0, y_km=0.0)}
    taken: list[tuple[float, float]] = [lead_xy]
    lead_pos: dict[str, tuple[float, float]] = {lead_id: lead_xy}
    for fid, ex in s["extra_leads"].items():
        facilities[fid] = _facility(ex)
        lead_pos[fid] = (ex["x_km"], ex["y_km"])
        taken.append(lead_pos[fid])

    # tier-1 centres: townships on a ring 10-40 km out, communities on an inner ring
    positions: dict[str, tuple[float, float]] = {}
    for kind, r in (("township", geo["township_r"]), ("community", geo["community_r"])):
        group = [m for m in members if m["kind"] == kind]
        base = rng.uniform(0.0, 2.0 * math.pi)
        for k, m in enumerate(group):
            angle = base + 2.0 * math.pi * k / len(group) + rng.uniform(-0.2, 0.2)
            if len(group) > 6:  # many centres: alternate an inner and an outer ring to spread them
                mid = 0.5 * (r[0] + r[1])
                r_k = (r[0], mid - 2.0) if k % 2 == 0 else (mid + 2.0, r[1])
            else:
                r_k = r
            if m["angle_deg"] is not None:  # a member placed by hand (the ring's draws still happen)
                angle = math.radians(m["angle_deg"])
            positions[m["fid"]] = _polar(rng, lead_xy, m["r_km"] or r_k, angle)
            taken.append(positions[m["fid"]])

    villages: dict[str, dict[str, Any]] = {}
    home: dict[str, str] = {}
    catchment: dict[str, tuple[int, int]] = {}
    urban_ids: set[str] = set()

    def add_village(centre_id: str, centre: tuple[float, float], name: str, name_zh: str, pop: int, urban: bool):
        vid = f"v{len(villages) + 1:03d}"
        xy = _place_village(rng, centre, geo["urban_r"] if urban else geo["village_r"], lead_xy, taken, urban, geo)
        taken.append(xy)
        u = rng.random()
        if urban:
            clinic = 2 if u < rules["p_urban_clinic"] else rules["urban_min_clinic"]
            urban_ids.add(vid)
        else:
            p2 = 0.45 if pop >= 3000 else 0.2
            p0 = rules["p_no_clinic"]
            clinic = 0 if u < p0 else (2 if u < p0 + p2 else 1)
        villages[vid] = dict(name=name, name_zh=name_zh, x_km=xy[0], y_km=xy[1], population=pop, clinic_doctors=clinic)
        home[vid] = centre_id

    for m in members:
        pops = _populations(rng, m["population"], m["villages"], 0.25 if m["urban"] else 0.35)
        stem = m["village_stem"] or m["name"].split(" ")[0] + " village"
        stem_zh = m["village_stem_zh"] or re.match(r"^.+?[镇乡]", m["name_zh"]).group(0)
        for i, pop in enumerate(pops):
            if i < len(m["first_villages"]):
                nm, nm_zh = m["first_villages"][i]
            else:
                nm, nm_zh = f"{stem} {i + 1:02d}", f"{stem_zh}{i + 1:02d}{'' if m['urban'] else '村'}"
            add_village(m["fid"], positions[m["fid"]], nm, nm_zh, pop, m["urban"])
        catchment[m["fid"]] = (sum(pops), m["villages"])
    nb = s["lead"].get("neighbourhoods")
    if nb and nb["count"]:
        for i, pop in enumerate(_populations(rng, nb["population"], nb["count"], 0.2)):
            add_village(lead_id, lead_xy, f"{nb['stem']} {i + 1:02d}", f"{nb['stem_zh']}{i + 1:02d}", pop, True)

    for m in members:
        doctors, night, beds = tier1_staffing(m["kind"], catchment[m["fid"]][0])
        facilities[m["fid"]] = dict(
            name=m["name"],
            name_zh=m["name_zh"],
            kind=m["kind"],
            tier=1,
            x_km=positions[m["fid"]][0],
            y_km=positions[m["fid"]][1],
            lead=m["lead"],
            doctors={"general": doctors},
            night_doctors={"general": night},
            beds=beds,
            initial_bed_occupancy=0.6,
            acquire=["ecg", "xray", "ct", "lab"] if m["ct"] else ["ecg", "xray", "lab"],
            read=["lab"] if m["weak"] else ["ecg", "xray", "lab"],
            # a lab analyser runs many samples at once: 8 parallel slots [ASSUMED]
            equipment_units={"lab": 8},
            hours=dict(open_hour=8.0, close_hour=17.5, days=DAYS, weekend_share=0.5),
            ambulances=0,
        )
    facilities[s["tertiary"]["id"]] = _facility(s["tertiary"])

    # roads: village -> own centre (+ lead for urban neighbourhoods) -> 1-2 nearest villages
    roads: list[tuple[str, str, float | None, str]] = []
    seen: set[frozenset[str]] = set()

    def road(a: str, b: str, minutes: float | None = None, note: str = "") -> None:
        if frozenset((a, b)) not in seen:
            seen.add(frozenset((a, b)))
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
        if vid in urban_ids and rules["urban_road_to_lead"] and home[vid] != lead_id:
            road(vid, lead_id)
        d = np.hypot(*(vxy - vxy[i]).T)
        d[i] = np.inf
        for j in np.argsort(d, kind="stable")[: int(rng.integers(1, 3))]:
            road(vid, vids[int(j)])
    t1 = [m["fid"] for m in members]
    for m in members:
        if m["lead"] != lead_id:
            road(m["fid"], m["lead"])
        road(m["fid"], lead_id)
    for fid in s["extra_leads"]:
        road(fid, lead_id)
    for fid in t1:
        p = positions[fid]
        others = sorted((f for f in t1 if f != fid), key=lambda f: (_dist(p, positions[f]), f))
        for other in others[: int(rng.integers(1, 3))]:
            road(fid, other)
    road(lead_id, s["tertiary"]["id"], s["tertiary"]["minutes"], s["tertiary"]["note"])
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


TIER1_NOTED = ("doctors", "night_doctors", "beds", "initial_bed_occupancy", "hours")


def render(s: dict[str, Any], net: Net) -> str:
    pop = sum(v["population"] for v in net.villages.values())
    n_clinics = sum(1 for v in net.villages.values() if v["clinic_doctors"] > 0)
    lead_need = beds_needed(pop, LEAD_SHARE)
    seed = s["seed"]
    out: list[str] = []
    w = out.append
    w(f"# {s['title']}")
    w("#")
    w(f"# GENERATED by scripts/make_networks.py (numpy default_rng seed {seed}); edit the script, not this file,")
    w("# and re-run `.venv/bin/python scripts/make_networks.py` (`--check` verifies this file).")
    w("#")
    for line in s["header"].splitlines():
        w(f"# {line}".rstrip())
    w("#")
    w("# Positions are synthetic but plausible (distances typical of the county, not from a map): the")
    w("# lead hospital is at (0, 0) and x/y are km east/north of it.  Village populations, village")
    w("# names (except where a seed names one) and village-clinic staffing are synthetic.  Every")
    w("# number marked [ASSUMED] is an assumption, not a published figure.")
    w("#")
    w(f"# Totals: {pop:,} people in {len(net.villages)} villages ({n_clinics} with a clinic), {len(net.facilities)} facilities.")
    w(f"# Lead-hospital beds: {pop:,} x 0.2 admissions/yr (NHC 2023: 0.21) x {LEAD_SHARE} [ASSUMED lead share]")
    w(f"#   / 365 x 8.8 d mean stay (NHC 2023) / 0.85 occupancy (NHC 2023: public 86%) ~= {lead_need:,.0f} beds.")
    w("")
    w(f"name: {s['key']}")
    w(f"description: {json.dumps(s['description'], ensure_ascii=False)}")
    w("sources:")
    for src in s["sources"] + s["common"]["sources"] + [
        f"[ASSUMED] positions, village populations and clinic staffing: synthetic, scripts/make_networks.py seed {seed}",
        "[ASSUMED] specialty split, night rota, equipment units and ambulances of the lead hospital; tier-1 sizing rules (YAML comments)",
    ]:
        w(f"  - {json.dumps(src, ensure_ascii=False)}")
    for k, t in s["common"]["travel"].items():
        w(f"{k}: {yval(t['value'])}".ljust(28) + f"# {t['note']}")
    w("")
    w("# Villages: position, population and clinic_doctors (0 = no village clinic) all [ASSUMED],")
    w("# synthetic; rural villages have 1-2 village doctors (NHC 2023), a few none.")
    w("villages:")
    for vid, v in net.villages.items():
        w(f"  {vid}: {yval(v)}")
    w("")
    w("facilities:")
    leads = {s["lead"]["id"]: s["lead"], **s["extra_leads"]}
    for fid, f in net.facilities.items():
        w(f"  {fid}:")
        notes = leads[fid]["notes"] if fid in leads else {}
        if f["tier"] == 1:
            cpop, nv = net.catchment[fid]
            w(f"    # name: {s['members'][fid]['note']}; catchment {cpop:,} people in {nv} villages; sizing [ASSUMED] rules below")
        elif fid in s["extra_leads"]:
            w(f"    # {s['extra_leads'][fid]['note']}")
        elif f["tier"] == 2:
            w("    # name: seed; staffing, beds and equipment [ASSUMED] as marked")
        else:
            w("    # a sink: patients sent out of county are not simulated further")
        for k in FACILITY_KEYS:
            if k not in f:
                continue
            line = f"    {k}: {yval(f[k])}"
            if k in notes:
                line += f"  # {notes[k]}"
            elif f["tier"] == 1 and k in TIER1_NOTED:
                line += "  # [ASSUMED] rule"
            w(line)
    w("")
    for line in TIER1_RULES:
        w(f"# {line}")
    w("")
    urban_note = "; urban neighbourhoods also the lead hospital" if s["villages"]["urban_road_to_lead"] else ""
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


def _self_check(key: str, net: Net, text: str) -> None:
    """The emitted YAML parses back to exactly the generated data."""
    data = yaml.safe_load(text)
    assert data["villages"] == net.villages, key
    assert data["facilities"] == net.facilities, key
    roads = [(r["a"], r["b"], r.get("minutes")) for r in data["roads"]]
    assert roads == [(a, b, m) for a, b, m, _ in net.roads], key


def networks(src_dir: Path = SRC_DIR) -> list[str]:
    """The networks with a source in ``src_dir`` (every ``*.yaml`` but the defaults)."""
    return sorted(p.stem for p in src_dir.glob("*.yaml") if p.name != DEFAULTS)


def build(key: str, src_dir: Path = SRC_DIR) -> str:
    """The generated YAML of network ``key`` from ``src_dir/<key>.yaml``."""
    source = load_source(src_dir / f"{key}.yaml")
    net = generate(source)
    text = render(source, net)
    _self_check(key, net, text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the files on disk; write nothing")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default scenarios/network)")
    parser.add_argument("--sources", type=Path, default=SRC_DIR, help="source folder (default scripts/networks)")
    parser.add_argument("names", nargs="*", help="networks to build (default: every source)")
    args = parser.parse_args(argv)
    status = 0
    for key in args.names or networks(args.sources):
        try:
            text = build(key, args.sources)
        except SourceError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
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
