"""Bring your own county: a planner's workbook of facilities and villages to a validated
network (``scenarios/network/<name>.yaml``), and any network back to a workbook.

:func:`import_county` reads the sheets (:mod:`sim.county.sheets`), lists *every* problem of
every row at once (:class:`CountyImportError`), converts GCJ-02 to WGS-84 and projects lon/lat
to kilometres (:mod:`sim.county.geo`), takes road minutes from a planner's matrix, an
OpenStreetMap extract (:mod:`sim.county.travel`) or the straight-line fallback, validates the
result with the config's own checks, and only then writes anything.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.config.errors import ConfigError
from sim.config.schema import Facility, NetworkConfig, Village
from sim.county.geo import CHINA_BOUNDS, LocalProjection, bd09_to_wgs84, gcj02_to_wgs84, in_china, local_projection
from sim.county.sheets import SETTINGS, Problem, Table, is_bad, read_tables

__all__ = ["CountyImportError", "ImportResult", "import_county", "network_rows", "load_network", "network_from_dict",
           "FALLBACK"]

_TIER = {"township": 1, "community": 1, "lead": 2, "tertiary": 3}
#: the straight-line fallback's defaults when the settings sheet gives none: the bundled
#: networks' values, [ASSUMED] there too (mean county road speed, road km per straight km).
FALLBACK = {"road_speed_kmh": 40.0, "detour_factor": 1.3, "clinic_access_minutes": 5.0}
_CJK = re.compile(r"[\u4e00-\u9fff]")


class CountyImportError(Exception):
    """The planner's files have problems: :attr:`problems`, one line each."""

    def __init__(self, problems: Sequence[Problem | str]) -> None:
        self.problems = [str(p) for p in problems]
        super().__init__("\n".join(self.problems))


@dataclass
class ImportResult:
    """What an import made: the network (as written), its file, the map and the summary."""

    network: dict[str, Any]
    path: Path | None = None
    map_path: Path | None = None
    summary: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


#: the datums a file's lon/lat may be in: GPS/OpenStreetMap, Amap/Tencent, Baidu Maps.
DATUMS = ("wgs84", "gcj02", "bd09")

# --------------------------------------------------------------------------- reading rows


def _settings(table: Table | None, problems: list[Problem]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if table is None:
        return out
    by_name = {k: k for k in SETTINGS} | {v[0]: k for k, v in SETTINGS.items()}
    for i, row in enumerate(table.rows):
        key = row.get("key")
        if key is None or is_bad(key):
            continue
        k = by_name.get(str(key).strip())
        if k is None:
            problems.append(table.problem(f"unknown setting {key!r}; known: "
                                          + ", ".join(f"{v[0]} ({k})" for k, v in SETTINGS.items()), i, "key"))
            continue
        value = row.get("value")
        kind = SETTINGS[k][1]
        try:
            if kind == "float":
                out[k] = float(str(value))
                if not math.isfinite(out[k]) or out[k] < 0:
                    raise ValueError
            elif kind == "bool":
                w = str(value).strip().lower()
                if w not in ("true", "false", "yes", "no", "是", "否", "1", "0"):
                    raise ValueError
                out[k] = w in ("true", "yes", "是", "1")
            else:
                out[k] = "" if value is None else str(value).strip()
        except ValueError:
            problems.append(table.problem(f"{k}: {value!r} is not a valid {kind}", i, "value"))
    if "coords" in out and out["coords"].lower().replace("-", "") not in DATUMS:
        problems.append(Problem(table.file, f"coords must be one of {', '.join(DATUMS)}, got {out['coords']!r}",
                                table.sheet))
    return out


def _coordinates(table: Table, problems: list[Problem], datum: str) -> str:
    """Each row's coordinates: lon/lat (converted to WGS-84 in place) or x/y km.  Returns the
    table's mode ("lonlat", "km", or "" when no row has any)."""
    modes = []
    for i, row in enumerate(table.rows):
        has_ll = "lon" in row or "lat" in row
        has_km = "x_km" in row or "y_km" in row
        if has_ll and not ("lon" in row and "lat" in row):
            problems.append(table.problem("gives only one of 经度 (lon) and 纬度 (lat)", i, "lon" if "lon" in row else "lat"))
            modes.append("bad")
        elif has_km and not ("x_km" in row and "y_km" in row):
            problems.append(table.problem("gives only one of x_km and y_km", i, "x_km" if "x_km" in row else "y_km"))
            modes.append("bad")
        elif has_ll:
            modes.append("lonlat")
        elif has_km:
            modes.append("km")
        else:
            problems.append(table.problem("has no position: give 经度 and 纬度 (lon, lat) "
                                          "or 东西/南北 kilometres (x_km, y_km); an address alone cannot be placed "
                                          "offline: pick the point on a web map (Amap gives GCJ-02: --coords gcj02)", i))
            modes.append("bad")
    good = [m for m in modes if m != "bad"]
    mode = Counter(good).most_common(1)[0][0] if good else ""
    for i, (row, m) in enumerate(zip(table.rows, modes)):
        if m not in ("bad", mode):
            problems.append(table.problem(f"gives {'lon/lat' if m == 'lonlat' else 'km'} where the other rows "
                                          f"give {'lon/lat' if mode == 'lonlat' else 'km'}: use one kind in a file", i))
        if m == "lonlat" and not (is_bad(row["lon"]) or is_bad(row["lat"])):
            lon, lat = row["lon"], row["lat"]
            if not in_china(lon, lat):
                lo, hi, la, ha = CHINA_BOUNDS
                swapped = " (longitude and latitude swapped?)" if in_china(lat, lon) else ""
                problems.append(table.problem(f"({lon}, {lat}) is outside China (经度 {lo:g}-{hi:g}, "
                                              f"纬度 {la:g}-{ha:g}){swapped}", i, "lon"))
            elif datum == "gcj02":
                row["lon"], row["lat"] = gcj02_to_wgs84(lon, lat)
            elif datum == "bd09":
                row["lon"], row["lat"] = bd09_to_wgs84(lon, lat)
    return mode


def _ids(tables: Sequence[Table], problems: list[Problem]) -> dict[str, tuple[Table, int]]:
    seen: dict[str, tuple[Table, int]] = {}
    for t in tables:
        for i, row in enumerate(t.rows):
            pid = row.get("id")
            if pid is None or is_bad(pid):
                continue
            if pid in seen:
                ot, oi = seen[pid]
                problems.append(t.problem(f"id {pid!r} repeats {ot.file}{', sheet ' + ot.sheet if ot.sheet else ''} "
                                          f"row {ot.row_numbers[oi]}", i, "id"))
            else:
                seen[pid] = (t, i)
    return seen


def _resolver(tables: Sequence[Table]):
    """An id, name or Chinese name -> id; ambiguous names resolve to None."""
    names: dict[str, set[str]] = {}
    ids = set()
    for t in tables:
        for row in t.rows:
            pid = row.get("id")
            if pid is None or is_bad(pid):
                continue
            ids.add(pid)
            for k in ("name", "name_zh"):
                if row.get(k) and not is_bad(row[k]):
                    names.setdefault(row[k], set()).add(pid)

    def resolve(ref: str) -> tuple[str | None, str]:
        if ref in ids:
            return ref, ""
        found = names.get(ref, set())
        if len(found) == 1:
            return next(iter(found)), ""
        if len(found) > 1:
            return None, f"{ref!r} is the name of several places ({', '.join(sorted(found))}): use the id"
        import difflib

        close = difflib.get_close_matches(ref, sorted(ids | set(names)), n=1)
        return None, f"{ref!r} is no id or name of the sheets" + (f" (closest: {close[0]})" if close else "")

    return resolve


# --------------------------------------------------------------------------- building


def _site(row: dict[str, Any], proj: LocalProjection | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    name = row.get("name", "")
    out["name"] = name
    out["name_zh"] = row.get("name_zh") or (name if _CJK.search(name or "") else "")
    if "lon" in row:
        assert proj is not None
        (x,), (y,) = proj.to_km([row["lon"]], [row["lat"]])
        out["x_km"], out["y_km"] = round(x, 3), round(y, 3)
        out["lon"], out["lat"] = round(row["lon"], 7), round(row["lat"], 7)
    else:
        out["x_km"], out["y_km"] = float(row["x_km"]), float(row["y_km"])
    return out


def _facility(row: dict[str, Any], lead: str | None, proj: LocalProjection | None) -> dict[str, Any]:
    out = _site(row, proj)
    kind = row["kind"]
    out.update(kind=kind, tier=_TIER[kind])
    if lead is not None:
        out["lead"] = lead
    out["doctors"] = row["doctors"]
    for k in ("night_doctors", "equipment_units"):
        if row.get(k):
            out[k] = row[k]
    out["beds"] = row.get("beds", 0)
    for k in ("initial_bed_occupancy", "initial_queue", "ambulances"):
        if k in row:
            out[k] = row[k]
    out["acquire"] = row.get("acquire", [])
    out["read"] = row.get("read", [])
    hours: dict[str, Any] = {}
    if "hours" in row:
        hours["open_hour"], hours["close_hour"] = row["hours"]
    if "days" in row:
        hours["days"] = row["days"]
    if "weekend_share" in row:
        hours["weekend_share"] = row["weekend_share"]
    if hours:
        out["hours"] = hours
    if row.get("manages"):
        out["manages"] = row["manages"]
    if row.get("closed"):
        out["closed"] = True
    return out


def _check_facilities(fac: Table, resolve, problems: list[Problem]) -> dict[int, str | None]:
    """Leads resolved per row; rows of members without a lead, or naming no lead hospital."""
    kinds = {row["id"]: row.get("kind") for row in fac.rows if row.get("id") and not is_bad(row["id"])}
    leads: dict[int, str | None] = {}
    for i, row in enumerate(fac.rows):
        kind = row.get("kind")
        ref = row.get("lead")
        if ref is None or is_bad(ref):
            if kind in ("township", "community") and ref is None:
                problems.append(fac.problem("is empty: a township/community centre must name its lead hospital", i, "lead"))
            leads[i] = None
            continue
        lead, why = resolve(ref)
        if lead is None:
            problems.append(fac.problem(f"names no lead hospital: {why}", i, "lead"))
        elif lead not in kinds:
            problems.append(fac.problem(f"{ref!r} is a village, not a lead hospital", i, "lead"))
            lead = None
        elif kinds[lead] != "lead":
            problems.append(fac.problem(f"{ref!r} is a {kinds[lead]}, not a lead hospital (类别 牵头医院)", i, "lead"))
            lead = None
        leads[i] = lead
    n3 = sum(1 for k in kinds.values() if k == "tertiary")
    if not any(k == "lead" for k in kinds.values()):
        problems.append(Problem(fac.file, "no lead hospital (类别 牵头医院 / lead)", fac.sheet))
    if not any(k in ("township", "community") for k in kinds.values()):
        problems.append(Problem(fac.file, "no township or community centre (类别 乡镇卫生院 / township)", fac.sheet))
    if n3 != 1:
        problems.append(Problem(fac.file, f"needs exactly one out-of-county tertiary hospital (类别 县外三级医院 / "
                                f"tertiary), got {n3}", fac.sheet))
    return leads


def _travel_pairs(tables: Sequence[Table], resolve, problems: list[Problem]
                  ) -> tuple[dict[str, dict[str, float]], list[tuple[str, str]]]:
    """The travel rows: pairs with minutes, and pairs without (straight-line roads)."""
    minutes: dict[frozenset[str], tuple[str, str, float, Table, int]] = {}
    roads: list[tuple[str, str]] = []
    for t in tables:
        for i, row in enumerate(t.rows):
            ends: list[str | None] = []
            for k in ("origin", "destination"):
                ref = row.get(k)
                if ref is None or is_bad(ref):
                    ends.append(None)
                    continue
                pid, why = resolve(ref)
                if pid is None:
                    problems.append(t.problem(why, i, k))
                ends.append(pid)
            a, b = ends
            m = row.get("minutes")
            if a is None or b is None or is_bad(m):
                continue
            if a == b:
                problems.append(t.problem(f"origin and destination are both {a!r}", i, "destination"))
                continue
            if m is None:
                roads.append((a, b))
                continue
            if m < 0:
                problems.append(t.problem(f"{m!r}: minutes must be >= 0", i, "minutes"))
                continue
            key = frozenset((a, b))
            if key in minutes and minutes[key][2] != m:
                _, _, om, ot, oi = minutes[key]
                problems.append(t.problem(f"{a}-{b} has {m} minutes here and {om} in {ot.file} row "
                                          f"{ot.row_numbers[oi]}", i, "minutes"))
                continue
            minutes[key] = (a, b, float(m), t, i)
    out: dict[str, dict[str, float]] = {}
    for a, b, m, _, _ in minutes.values():
        out.setdefault(a, {})[b] = m
    return out, roads


def _base_config():
    """The default scenario (composed once per process), to validate a network in."""
    global _BASE
    if _BASE is None:
        from sim.config.loading import compose

        _BASE = compose(["network=toy"])
    return _BASE


_BASE: Any = None


def _build(hint: Any, value: Any, key: str) -> Any:
    import dataclasses
    import typing

    from sim.config.checks import _type_hints, _unwrap_optional

    hint, optional = _unwrap_optional(hint)
    if value is None and optional:
        return None
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: must be a mapping, got {type(value).__name__}")
        hints = _type_hints(typing.cast(type, hint))
        unknown = set(value) - set(hints)
        if unknown:
            raise ConfigError(f"{key}.{sorted(unknown)[0]}: not a key of the schema")
        return typing.cast(Any, hint)(**{k: _build(hints[k], v, f"{key}.{k}") for k, v in value.items()})
    origin = typing.get_origin(hint)
    if origin is dict:
        _, item = typing.get_args(hint)
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: must be a mapping, got {type(value).__name__}")
        return {str(k): _build(item, v, f"{key}.{k}") for k, v in value.items()}
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{key}: must be a list, got {type(value).__name__}")
        return [_build(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value  # kinds and ranges: sim.config.checks.check_numbers


def network_from_dict(data: dict[str, Any]) -> NetworkConfig:
    """Typed :class:`~sim.config.schema.NetworkConfig` from a plain mapping (a network YAML).

    The kinds of values are checked afterwards, with the rest, by
    :func:`sim.config.to_config`; this is the fast path (OmegaConf takes seconds on a large
    network) for files this module writes and reads.

    >>> network_from_dict({"name": "x", "road_speed_kmh": 40}).road_speed_kmh
    40.0
    """
    out = _build(NetworkConfig, data, "network")
    assert isinstance(out, NetworkConfig)
    return out


def _validate(net: dict[str, Any], tables: dict[str, Table]) -> list[str]:
    """The config's own checks on the built network, every graph problem listed, each line
    pointed back at the sheet row it comes from where the key names a place."""
    import dataclasses

    from sim.config.convert import to_config
    from sim.county.network import build_graph, graph_problems

    def where(msg: str) -> str:
        m = re.match(r"network\.(villages|facilities)\.([^.:\s]+)(\.[\w.]+)?: (.*)", msg)
        if m:
            t = tables[m.group(1)]
            for i, row in enumerate(t.rows):
                if row.get("id") == m.group(2):
                    col = (m.group(3) or "").lstrip(".").split(".")[0]
                    return str(t.problem(f"{m.group(2)}: {m.group(4)}", i, col if col in t.headers else ""))
        return f"network: {msg}"

    try:
        cfg = to_config(dataclasses.replace(_base_config(), network=network_from_dict(net)))
    except ConfigError as exc:
        return [where(str(exc))]
    g = build_graph(cfg.network, check=False)
    return [where(p) for p in graph_problems(g)]


# --------------------------------------------------------------------------- the import


def import_county(source: str | Path, name: str, out_dir: str | Path | None = None, coords: str | None = None,
                  travel_matrix: str | Path | None = None, osm: str | Path | None = None,
                  road_speeds: str | Path | None = None, fill_missing: bool | None = None,
                  max_snap_km: float = 2.0, force: bool = False, map_path: str | Path | None = None,
                  check_compose: bool = True) -> ImportResult:
    """Import a county from a workbook or folder and write ``<out_dir>/<name>.yaml``.

    Parameters
    ----------
    source : path
        A ``.xlsx`` workbook (sheets 机构/facilities, 村庄/villages, optional 路程/travel and
        设置/settings) or a folder with one ``.csv``/``.xlsx`` per sheet.
    name : str
        The network's name (``network=<name>``).
    out_dir : path, optional
        Where the YAML goes; None writes nothing (a dry run that still checks everything).
    coords : {"wgs84", "gcj02", "bd09"}, optional
        Datum of the lon/lat in the files (default: the settings sheet, else wgs84).
    travel_matrix : path, optional
        A planner's CSV of origin, destination, minutes (ids or names).
    osm : path, optional
        An OpenStreetMap extract (``.osm`` XML or ``.osm.pbf``) for the pairs the matrix does not give.
    road_speeds : path, optional
        km/h by OSM road class (default :data:`sim.county.travel.DEFAULT_SPEEDS_FILE`).
    fill_missing : bool, optional
        Pairs with no minutes get the straight-line fallback (default: the settings sheet,
        else True).
    max_snap_km : float
        A site farther than this from any OSM road is reported (2 km [ASSUMED]: beyond a
        village's own lanes).
    force : bool
        Overwrite an existing network file.
    map_path : path, optional
        The preview map (default ``outputs/import/<name>_map.html``); written with the YAML.
    check_compose : bool
        Compose the written file as ``network=<name>`` (Hydra) as the last check.

    Raises
    ------
    CountyImportError
        With every problem found, one line each; nothing is written then.
    """
    from sim.config.checks import check_name

    problems: list[Problem] = []
    warnings: list[str] = []
    try:
        check_name(name, "--name")
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
            raise ConfigError(f"--name: use letters, digits, _ or - (it becomes network={name}), got {name!r}")
    except ConfigError as exc:
        raise CountyImportError([str(exc)]) from None
    out = Path(out_dir) if out_dir is not None else None
    if out is not None and (out / f"{name}.yaml").exists() and not force:
        raise CountyImportError([f"{out / (name + '.yaml')}: exists already (choose another --name, or --force)"])
    tables, problems = read_tables(source, travel_matrix)
    if "facilities" not in tables or "villages" not in tables:
        raise CountyImportError(problems)
    fac, vil = tables["facilities"], tables["villages"]
    settings = _settings(tables.get("settings"), problems)
    datum = (coords or settings.get("coords") or "wgs84").lower().replace("-", "")
    if datum not in DATUMS:
        raise CountyImportError([f"--coords: must be one of {', '.join(DATUMS)}, got {coords!r}"])
    modes = {_coordinates(fac, problems, datum), _coordinates(vil, problems, datum)} - {""}
    if len(modes) > 1:
        problems.append(Problem(f"{fac.file} / {vil.file}", "one sheet gives lon/lat and the other km: use one kind"))
    _ids([fac, vil], problems)
    resolve = _resolver([fac, vil])
    leads = _check_facilities(fac, resolve, problems)
    travel_tables = [t for k, t in tables.items() if k in ("travel", "matrix")]
    pairs, roads = _travel_pairs(travel_tables, resolve, problems)
    if problems:
        raise CountyImportError(problems)

    lonlat = modes == {"lonlat"}
    proj = None
    if lonlat:
        rows = fac.rows + vil.rows
        in_county = [r for r in rows if r.get("kind") != "tertiary"]
        proj = local_projection([r["lon"] for r in in_county], [r["lat"] for r in in_county])
    fill = fill_missing if fill_missing is not None else settings.get("fill_missing_pairs", True)
    net: dict[str, Any] = {"name": name}
    net["description"] = settings.get("description") or f"Imported from {Path(source).name}"
    for k, fallback in FALLBACK.items():
        net[k] = settings.get(k, fallback)
    net["villages"] = {}
    for row in vil.rows:
        site = _site(row, proj)
        site["population"] = row["population"]
        site["clinic_doctors"] = row.get("clinic_doctors", 0)
        net["villages"][row["id"]] = site
    net["facilities"] = {row["id"]: _facility(row, leads[i], proj) for i, row in enumerate(fac.rows)}
    net["roads"] = [{"a": a, "b": b} for a, b in roads]

    sources = [f"{Path(source).name}: facilities and villages as given by the planner (imported "
               f"{_dt.date.today().isoformat()})"]
    methods = []
    if pairs:
        methods.append("matrix")
        files = sorted({t.file for t in travel_tables})
        sources.append(f"road minutes of {sum(len(r) for r in pairs.values())} pairs from {', '.join(files)}")
    osm_note = ""
    if osm is not None:
        if not lonlat:
            raise CountyImportError([f"{Path(osm).name}: an OpenStreetMap extract needs lon/lat positions "
                                     "(经度, 纬度), and the sheets give kilometres"])
        from sim.county.travel import load_speeds, osm_minutes

        try:
            speeds = load_speeds(road_speeds)
        except (OSError, ValueError) as exc:
            raise CountyImportError([f"--road-speeds: {exc}"]) from None
        sites = {pid: (s["lon"], s["lat"]) for pid, s in {**net["villages"], **net["facilities"]}.items()}
        assert proj is not None
        try:
            res = osm_minutes(osm, sites, list(net["facilities"]), proj, speeds,
                              net["road_speed_kmh"] / net["detour_factor"] / 60.0)
        except ValueError as exc:
            raise CountyImportError([f"{Path(osm).name}: {exc}"]) from None
        added = 0
        for a, row in res.minutes.items():
            for b, m in row.items():
                if b in pairs.get(a, {}) or a in pairs.get(b, {}):
                    continue  # the planner's matrix wins
                pairs.setdefault(a, {})[b] = m
                added += 1
        far = sorted(((km, s) for s, km in res.snap_km.items() if km > max_snap_km), reverse=True)
        for km, s in far:
            warnings.append(f"{s}: {km:.1f} km from the nearest road of {Path(osm).name} "
                            f"(snapped there; the leg is straight-line x detour / speed)")
        for a, b in res.unreachable:
            warnings.append(f"{a}-{b}: no road path in {Path(osm).name} (left to the straight-line fallback)")
        snaps = sorted(res.snap_km.values())
        osm_note = (f"{added} pairs from {Path(osm).name} ({res.nodes} road nodes, {res.edges} road edges; "
                    f"sites snapped to the nearest road node: median {snaps[len(snaps) // 2]:.2f} km, "
                    f"max {snaps[-1]:.2f} km; {len(far)} site(s) beyond {max_snap_km:g} km)")
        sources.append(osm_note + f"; speeds by road class from {Path(road_speeds).name if road_speeds else 'sim/county/road_speeds.yaml'} [ASSUMED]")
        methods.append("osm")
    nf = len(net["facilities"])
    all_pairs = nf * len(net["villages"]) + nf * (nf - 1) // 2
    given = sum(len(r) for r in pairs.values())
    if fill and given < all_pairs:
        methods.append("straight_line")
        sources.append(f"[ASSUMED] pairs without minutes: straight-line km x detour {net['detour_factor']:g} / "
                       f"{net['road_speed_kmh']:g} km/h (the crude fallback)")
    if roads:
        methods.append("roads")
    source_kind = methods[0] if len(methods) == 1 else ("mixed" if methods else "roads")
    net["travel"] = {"source": source_kind, "note": "; ".join(sources[1:]) or "the roads below",
                     "minutes": pairs, "straight_line_pairs": bool(fill)}
    if lonlat:
        assert proj is not None
        net["coordinates"] = {"datum": "wgs84", "input_datum": datum, "projection": proj.proj}
        sources.append(f"positions: lon/lat in {datum.upper()}"
                       + {"gcj02": " converted to WGS-84 (published GCJ-02 offset inverted)",
                          "bd09": " converted to WGS-84 (Baidu's BD-09 shift and the GCJ-02 offset inverted)"
                          }.get(datum, "")
                       + f", projected to km with {proj.proj}")
    net["sources"] = sources

    lines = _validate(net, tables)
    if lines:
        raise CountyImportError(lines)
    result = ImportResult(network=net, warnings=warnings)
    result.summary = _summary(net, all_pairs, given, fill, warnings)
    if out is not None:
        result.path = _write_yaml(net, out / f"{name}.yaml", Path(source))
        if check_compose:
            _compose_written(result.path, name)
    if out is not None:
        from sim.county.preview import preview_map

        result.map_path = preview_map(net, map_path or Path("outputs") / "import" / f"{name}_map.html")
    return result


def _compose_written(path: Path, name: str) -> None:
    """The written file composes as ``network=<name>`` (Hydra, the full validation), with
    ``care=default``: an imported county has no calibrated care file until it is fitted.  A file
    outside a ``network/`` config folder (``--out`` anywhere) is composed from a temporary
    ``network/`` copy."""
    import shutil
    import tempfile

    from sim.config.loading import SCENARIOS_DIR, compose

    with tempfile.TemporaryDirectory(prefix="sim-county-") as tmp:
        root = path.parent.parent
        if path.parent.name != "network":
            root = Path(tmp)
            (root / "network").mkdir()
            shutil.copyfile(path, root / "network" / path.name)
        overrides = [f"network={name}", "care=default"]
        if root.resolve() != SCENARIOS_DIR.resolve():
            overrides.append(f"hydra.searchpath=[file://{root.resolve()}]")
        try:
            compose(overrides)
        except ConfigError as exc:  # pragma: no cover - the in-memory validation ran the same checks
            path.unlink()
            raise CountyImportError([f"{path}: {exc}"]) from None


def config_dir_hint(path: Path) -> str:
    """The ``--config-dir`` option a run needs to find the network file at ``path`` ('' when it is
    in the bundled ``scenarios/network/``)."""
    from sim.config.loading import SCENARIOS_DIR

    if path.parent.resolve() == (SCENARIOS_DIR / "network").resolve():
        return ""
    if path.parent.name == "network":
        return f"--config-dir {path.parent.parent} "
    return f"--config-dir <a folder holding network/{path.name}> "


def _summary(net: dict[str, Any], all_pairs: int, given: int, fill: bool, warnings: list[str]) -> list[str]:
    fac = net["facilities"].values()
    vil = net["villages"].values()
    kinds = Counter(f["kind"] for f in fac)
    pop = sum(v["population"] for v in vil)
    doctors = sum(sum(f["doctors"].values()) for f in fac if f["tier"] < 3)
    beds = sum(f["beds"] for f in fac if f["tier"] < 3)
    lines = [f"network {net['name']}: {len(net['facilities'])} facilities "
             f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}), {len(net['villages'])} villages "
             f"({sum(1 for v in vil if v['clinic_doctors'] > 0)} with a clinic), {pop:,} people; "
             f"{doctors} day doctors and {beds} beds in the county"]
    c = net.get("coordinates")
    lines.append(f"positions: {c['input_datum'].upper()} lon/lat -> WGS-84, projected with {c['projection']}"
                 if c else "positions: kilometres as given (no lon/lat)")
    t = net["travel"]
    lines.append(f"travel minutes ({t['source']}): {given} of {all_pairs} village-facility and facility-facility "
                 f"pairs given; {t['note']}")
    if fill and given < all_pairs:
        lines.append(f"the other {all_pairs - given} pairs use the CRUDE FALLBACK: straight-line km x detour "
                     f"{net['detour_factor']:g} / {net['road_speed_kmh']:g} km/h")
    if net["roads"]:
        lines.append(f"{len(net['roads'])} road(s) without minutes: straight-line x detour / speed")
    lines += [f"warning: {w}" for w in warnings]
    return lines


def _write_yaml(net: dict[str, Any], path: Path, source: Path) -> Path:
    import yaml

    head = (f"# {net['name']}: imported with `python -m sim.county import {source.name} --name {net['name']}`\n"
            f"# on {_dt.date.today().isoformat()}.  Edit the workbook and import again rather than this file\n"
            "# (`python -m sim.county export network=<name> out.xlsx` writes the workbook back).\n"
            "# Uncalibrated until `python -m calibration network=<name>` has run with this county's targets.\n\n")
    body = yaml.safe_dump(net, allow_unicode=True, sort_keys=False, default_flow_style=None, width=120)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(head + body, encoding="utf-8")
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------- export


def load_network(name_or_path: str | Path) -> NetworkConfig:
    """A network by name (``scenarios/network/<name>.yaml``) or path, typed (not composed)."""
    from omegaconf import OmegaConf

    from sim.config.loading import SCENARIOS_DIR

    text = str(name_or_path)
    if text.startswith("network="):
        text = text[len("network="):]
    path = Path(text)
    if not path.suffix:
        path = SCENARIOS_DIR / "network" / f"{text}.yaml"
    if not path.is_file():
        options = sorted(p.stem for p in (SCENARIOS_DIR / "network").glob("*.yaml"))
        raise ConfigError(f"network={text}: no such network (available: {', '.join(options)})")
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            return network_from_dict(yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except Exception:  # noqa: S110 - the slower typed path below names the key
        pass
    try:
        node = OmegaConf.merge(OmegaConf.structured(NetworkConfig), OmegaConf.load(path))
        net = OmegaConf.to_object(node)
    except Exception as exc:
        from sim.config.errors import _omegaconf_message

        raise ConfigError(f"{path}: {_omegaconf_message(exc)}") from None
    assert isinstance(net, NetworkConfig)
    return net


def network_rows(net: NetworkConfig) -> dict[str, list[dict[str, Any]]]:
    """A network as workbook rows (sheet key -> rows of schema keys): the inverse of the import."""
    places: list[Village | Facility] = [*net.villages.values(), *net.facilities.values()]
    lonlat = all(p.lon is not None for p in places)

    def pos(p) -> dict[str, Any]:
        return {"lon": p.lon, "lat": p.lat} if lonlat else {"x_km": p.x_km, "y_km": p.y_km}

    fac = []
    for fid, f in net.facilities.items():
        fac.append({"id": fid, "name": f.name, "name_zh": f.name_zh or None, "kind": f.kind, "lead": f.lead,
                    "beds": f.beds, "doctors": f.doctors, "night_doctors": f.night_doctors,
                    "acquire": f.acquire, "read": f.read, "equipment_units": f.equipment_units,
                    "hours": (f.hours.open_hour, f.hours.close_hour), "days": f.hours.days,
                    "weekend_share": f.hours.weekend_share, "ambulances": f.ambulances, **pos(f),
                    "initial_bed_occupancy": f.initial_bed_occupancy, "initial_queue": f.initial_queue,
                    "manages": f.manages, "closed": f.closed})
    vil = [{"id": vid, "name": v.name, "name_zh": v.name_zh or None, "population": v.population,
            "clinic_doctors": v.clinic_doctors, **pos(v)} for vid, v in net.villages.items()]
    travel: list[dict[str, Any]] = [{"origin": r.a, "destination": r.b, "minutes": r.minutes} for r in net.roads]
    travel += [{"origin": a, "destination": b, "minutes": m}
               for a, row in net.travel.minutes.items() for b, m in row.items()]
    settings: list[dict[str, Any]] = [{"key": "description", "value": net.description},
                {"key": "road_speed_kmh", "value": net.road_speed_kmh},
                {"key": "detour_factor", "value": net.detour_factor},
                {"key": "clinic_access_minutes", "value": net.clinic_access_minutes},
                {"key": "fill_missing_pairs", "value": "yes" if net.travel.straight_line_pairs else "no"}]
    if lonlat:
        settings.append({"key": "coords", "value": "wgs84"})
    return {"facilities": fac, "villages": vil, "travel": travel, "settings": settings}
