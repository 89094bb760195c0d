"""Road minutes between a county's places from an OpenStreetMap extract read offline.

The extract (``.osm`` XML, e.g. cut from a Geofabrik download with osmium or JOSM, or the
``.osm.pbf`` such a download is, whose roads pyosmium turns into XML first) is read with osmnx; each road gets a speed by its OSM class (:data:`DEFAULT_SPEEDS_FILE`, overridable);
every site is snapped to its nearest road node and the snapping distance reported; the minutes
between two sites are the shortest path on the roads (networkx Dijkstra on the graph osmnx
built), the mean of the two directions where one-way streets make them differ, plus the legs
from each site to its road node at the straight-line fallback (km x detour / speed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sim.county.geo import LocalProjection

__all__ = ["DEFAULT_SPEEDS_FILE", "OsmTravel", "is_pbf", "load_speeds", "osm_minutes", "pbf_roads_to_xml"]

#: the road-class speeds shipped with the package (every value [ASSUMED], see its comments).
DEFAULT_SPEEDS_FILE = Path(__file__).with_name("road_speeds.yaml")
#: classes that carry no cars; their ways are dropped before routing.
_NOT_DRIVABLE = {"footway", "path", "cycleway", "steps", "pedestrian", "bridleway", "corridor",
                 "construction", "proposed", "abandoned", "platform", "elevator", "bus_stop"}


def load_speeds(path: str | Path | None = None) -> dict[str, float]:
    """Speeds (km/h) by OSM ``highway`` class; ``default`` for a class not listed.

    >>> s = load_speeds()
    >>> s["primary"], s["default"]
    (50.0, 25.0)
    """
    import yaml

    with open(path or DEFAULT_SPEEDS_FILE, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: must map road classes to km/h")
    out: dict[str, float] = {}
    for k, v in raw.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < float(v) <= 300:
            raise ValueError(f"{path or DEFAULT_SPEEDS_FILE}, {k}: must be a speed in km/h (0-300], got {v!r}")
        out[str(k)] = float(v)
    out.setdefault("default", 25.0)
    return out


@dataclass
class OsmTravel:
    """What an extract gave: minutes per pair, each site's snapping distance, what failed."""

    #: minutes[a][b] for a facility a and every other site b.
    minutes: dict[str, dict[str, float]] = field(default_factory=dict)
    #: km from each site to its road node.
    snap_km: dict[str, float] = field(default_factory=dict)
    #: pairs with no road path between their nodes (left to the fallback).
    unreachable: list[tuple[str, str]] = field(default_factory=list)
    nodes: int = 0
    edges: int = 0


def _drivable(highway: object) -> str | None:
    h = highway[0] if isinstance(highway, list) and highway else highway
    if not isinstance(h, str) or h in _NOT_DRIVABLE:
        return None
    return h


def is_pbf(path: str | Path) -> bool:
    """Whether ``path`` names an OpenStreetMap PBF file (``.pbf``, ``.osm.pbf``)."""
    return Path(path).suffix.lower() == ".pbf"


def pbf_roads_to_xml(pbf: Path, xml: Path) -> Path:
    """The roads of a ``.osm.pbf`` extract as ``.osm`` XML for osmnx: every way with a
    ``highway`` tag and the nodes it uses (two passes with pyosmium; buildings, land use and
    relations are left out, so a county extract's XML stays small).

    Raises ``ValueError`` when the file cannot be read as PBF."""
    import osmium

    try:
        refs: set[int] = set()
        for way in osmium.FileProcessor(str(pbf), osmium.osm.WAY):
            if isinstance(way, osmium.osm.Way) and "highway" in way.tags:
                refs.update(n.ref for n in way.nodes)
        writer = osmium.SimpleWriter(str(xml))
        try:
            for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY):
                if isinstance(obj, osmium.osm.Node):
                    if obj.id in refs:
                        writer.add_node(obj)
                elif isinstance(obj, osmium.osm.Way) and "highway" in obj.tags:
                    writer.add_way(obj)
        finally:
            writer.close()
    except (RuntimeError, OSError, ValueError) as exc:  # libosmium reports a bad file as RuntimeError
        raise ValueError(f"cannot be read as an OpenStreetMap PBF file ({type(exc).__name__}: {exc})") from None
    return xml


def osm_minutes(osm_file: str | Path, sites: Mapping[str, tuple[float, float]], facilities: Sequence[str],
                projection: LocalProjection, speeds: Mapping[str, float], access_km_per_minute: float) -> OsmTravel:
    """Minutes between every facility and every other site on an OSM road extract.

    Parameters
    ----------
    osm_file : path
        ``.osm`` XML, read offline with :func:`osmnx.graph_from_xml`, or ``.osm.pbf`` (its roads
        converted to XML first, :func:`pbf_roads_to_xml`).
    sites : mapping
        Site id -> (lon, lat) in WGS-84.
    facilities : sequence of str
        The sites minutes are computed from (to every other site).
    projection : LocalProjection
        The county's projection (snapping distances in its kilometres).
    speeds : mapping
        km/h by OSM ``highway`` class, with ``default``.
    access_km_per_minute : float
        Speed of the leg from a site to its road node (the straight-line fallback's
        ``road_speed_kmh / detour_factor / 60``).

    Raises
    ------
    ValueError
        When the file cannot be read or holds no drivable road.
    """
    import tempfile

    import networkx as nx
    import numpy as np
    import osmnx as ox
    from scipy.spatial import cKDTree

    with tempfile.TemporaryDirectory(prefix="sim-osm-") as tmp:
        xml = Path(osm_file)
        if is_pbf(xml):
            xml = pbf_roads_to_xml(xml, Path(tmp) / "roads.osm")
        try:
            g = ox.graph_from_xml(xml, retain_all=True, simplify=False)
        except Exception as exc:  # osmnx/ElementTree raise many kinds on a bad file
            raise ValueError(f"cannot be read as OpenStreetMap XML ({type(exc).__name__}: {exc})") from None
    drop = []
    for u, v, k, d in g.edges(keys=True, data=True):
        cls = _drivable(d.get("highway"))
        if cls is None:
            drop.append((u, v, k))
            continue
        kmh = speeds.get(cls, speeds["default"])
        d["minutes"] = float(d["length"]) / 1000.0 / kmh * 60.0
    g.remove_edges_from(drop)
    g.remove_nodes_from([n for n in list(g.nodes) if g.degree(n) == 0])
    if g.number_of_edges() == 0:
        raise ValueError("holds no drivable road (no way with a highway tag cars may use)")
    # route on the largest connected piece of road; a site near a fragment snaps to it and
    # shows a long snapping distance instead of an unreachable pair
    g = g.subgraph(max(nx.weakly_connected_components(g), key=len)).copy()
    node_ids = list(g.nodes)
    nx_km, ny_km = projection.to_km([g.nodes[n]["x"] for n in node_ids], [g.nodes[n]["y"] for n in node_ids])
    tree = cKDTree(np.column_stack([nx_km, ny_km]))
    ids = list(sites)
    sx, sy = projection.to_km([sites[s][0] for s in ids], [sites[s][1] for s in ids])
    dist, pos = tree.query(np.column_stack([sx, sy]), k=1)
    node_of = {s: node_ids[int(p)] for s, p in zip(ids, pos)}
    out = OsmTravel(snap_km={s: float(d) for s, d in zip(ids, dist)}, nodes=g.number_of_nodes(),
                    edges=g.number_of_edges())
    rev = g.reverse(copy=False)
    done: set[frozenset[str]] = set()
    for f in facilities:
        away = nx.single_source_dijkstra_path_length(g, node_of[f], weight="minutes")
        back = nx.single_source_dijkstra_path_length(rev, node_of[f], weight="minutes")
        row: dict[str, float] = {}
        for s in ids:
            pair = frozenset((f, s))
            if s == f or pair in done:
                continue
            done.add(pair)
            n = node_of[s]
            if n not in away or n not in back:
                out.unreachable.append((f, s))
                continue
            road = (away[n] + back[n]) / 2.0
            access = (out.snap_km[f] + out.snap_km[s]) / access_km_per_minute
            row[s] = round(road + access, 2)
        if row:
            out.minutes[f] = row
    return out
