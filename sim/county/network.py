"""The county as a networkx graph: build it from config, validate it, and compute travel times.

Nodes are villages and facilities (tier 1 township/community health centres, tier 2 lead
hospitals, one tier 3 out-of-county node).  A village clinic (村卫生室) is an attribute of
its village, reached in ``network.clinic_access_minutes``.  Edges carry road minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from sim.config import ConfigError, NetworkConfig

__all__ = ["County", "build_graph", "graph_problems", "county_from_graph", "build_county"]


def build_graph(net: NetworkConfig, check: bool = True) -> nx.Graph:
    """The referral graph with every node attribute of the config.

    Edges are the ``roads``, then the pairs of ``travel.minutes`` (a pair also given as a road
    keeps the shorter time), then, with ``travel.straight_line_pairs``, a straight-line road
    for every village-facility and facility-facility pair still without an edge.

    Raises :class:`~sim.config.ConfigError` naming the node when a village cannot reach a
    tier-1 or a tier-2 facility, or a lead hospital cannot reach the tier-3 node (``check``
    False skips that: :func:`graph_problems` lists every such problem).
    """
    g = nx.Graph(name=net.name)
    for vid, v in net.villages.items():
        g.add_node(vid, kind="village", tier=0, x_km=v.x_km, y_km=v.y_km, population=v.population,
                   clinic_doctors=v.clinic_doctors, name=v.name or vid, name_zh=v.name_zh)
    for fid, f in net.facilities.items():
        g.add_node(fid, kind=f.kind, tier=f.tier, x_km=f.x_km, y_km=f.y_km, lead=f.lead,
                   doctors=dict(f.doctors), night_doctors=dict(f.night_doctors), beds=f.beds,
                   acquire=list(f.acquire), read=list(f.read), ambulances=f.ambulances,
                   open_hour=f.hours.open_hour, close_hour=f.hours.close_hour,
                   name=f.name or fid, name_zh=f.name_zh, closed=f.closed)
    for road in net.roads:
        if road.minutes is None:
            a, b = g.nodes[road.a], g.nodes[road.b]
            km = math.hypot(a["x_km"] - b["x_km"], a["y_km"] - b["y_km"]) * net.detour_factor
            minutes = km / net.road_speed_kmh * 60.0
        else:
            minutes = float(road.minutes)
        g.add_edge(road.a, road.b, minutes=minutes)
    _add_travel_table(g, net)
    if check:
        _validate_graph(g)
    return g


def _straight_minutes(g: nx.Graph, a: str, b: str, net: NetworkConfig) -> float:
    na, nb = g.nodes[a], g.nodes[b]
    km = math.hypot(na["x_km"] - nb["x_km"], na["y_km"] - nb["y_km"]) * net.detour_factor
    return km / net.road_speed_kmh * 60.0


def _add_travel_table(g: nx.Graph, net: NetworkConfig) -> None:
    """The edges of ``network.travel``: the table's pairs, then straight-line pairs."""
    t = net.travel
    for a, row in t.minutes.items():
        for b, minutes in row.items():
            m = float(minutes)
            if g.has_edge(a, b):
                m = min(m, g.edges[a, b]["minutes"])
            g.add_edge(a, b, minutes=m)
    if t.straight_line_pairs:
        facilities = list(net.facilities)
        for i, f in enumerate(facilities):
            for other in list(net.villages) + facilities[i + 1:]:
                if not g.has_edge(f, other):
                    g.add_edge(f, other, minutes=_straight_minutes(g, f, other, net))


def _validate_graph(g: nx.Graph) -> None:
    problems = graph_problems(g, first_only=True)
    if problems:
        raise ConfigError(problems[0])


def graph_problems(g: nx.Graph, first_only: bool = False) -> list[str]:
    """Every reachability problem of a referral graph, one line each naming the node.

    A village must reach an open tier-1 and tier-2 facility, a tier-1/2 facility a lead
    hospital, a lead hospital the tier-3 node, and a member its own lead; no member's lead
    may be closed.  :func:`build_graph` raises the first; an importer lists them all.
    """
    out: list[str] = []

    def add(line: str) -> bool:
        out.append(line)
        return first_only
    tiers = nx.get_node_attributes(g, "tier")
    closed = {n for n, c in nx.get_node_attributes(g, "closed").items() if c}
    tertiary = [n for n, t in tiers.items() if t == 3]
    for n, lead in nx.get_node_attributes(g, "lead").items():
        if lead is not None and n not in closed and lead in closed:
            if add(f"network.facilities.{n}: its lead {lead!r} is closed"):
                return out
    for comp in nx.connected_components(g):
        # closed sites stay on the map as road junctions but offer no care
        comp_tiers = {tiers[n] for n in comp if n not in closed}
        for n in sorted(comp):
            if tiers[n] == 0 and not {1, 2} <= comp_tiers:
                need = "tier-1" if 1 not in comp_tiers else "tier-2"
                if add(f"network.villages.{n}: cannot reach any open {need} facility by road "
                       "(add a road in network.roads, or keep a facility open)"):
                    return out
            if tiers[n] in (1, 2) and 2 not in comp_tiers:
                if add(f"network.facilities.{n}: cannot reach any lead hospital by road"):
                    return out
            if tiers[n] == 2 and not (set(tertiary) & comp):
                if add(f"network.facilities.{n}: cannot reach the tier-3 node by road"):
                    return out
    for n, lead in nx.get_node_attributes(g, "lead").items():
        if lead is not None and lead in g and not nx.has_path(g, n, lead):
            if add(f"network.facilities.{n}: no road path to its lead {lead!r}"):
                return out
    return out


@dataclass
class County:
    """Immutable, array-based description of one county, ready for the model's hot path.

    ``travel[v, f]`` is village-to-facility minutes; ``ftravel[f, g]`` facility-to-facility.
    """

    name: str
    village_ids: list[str]
    facility_ids: list[str]
    tier: np.ndarray                 # per facility
    population: np.ndarray           # per village
    clinic_doctors: np.ndarray       # per village
    travel: np.ndarray               # villages x facilities, minutes
    ftravel: np.ndarray              # facilities x facilities, minutes
    lead_of: list[int]               # per facility: index of its lead (self for tier 2, -1 for tier 3)
    home_tier1: np.ndarray           # per village: nearest open tier-1 facility
    tertiary: int
    clinic_access_minutes: float
    graph: nx.Graph = field(repr=False)
    is_open: np.ndarray = field(repr=False)  # per facility: not closed

    @property
    def n_villages(self) -> int:
        return len(self.village_ids)

    @property
    def n_facilities(self) -> int:
        return len(self.facility_ids)

    def findex(self, fid: str) -> int:
        return self.facility_ids.index(fid)


def county_from_graph(g: nx.Graph, clinic_access_minutes: float = 5.0) -> County:
    """Compute the travel-time matrices with networkx shortest paths (Dijkstra on minutes)."""
    village_ids = sorted(n for n, d in g.nodes(data=True) if d["tier"] == 0)
    facility_ids = sorted((n for n, d in g.nodes(data=True) if d["tier"] > 0),
                          key=lambda n: (g.nodes[n]["tier"], n))
    fidx = {f: i for i, f in enumerate(facility_ids)}
    vidx = {v: i for i, v in enumerate(village_ids)}
    nf, nv = len(facility_ids), len(village_ids)
    travel = np.full((nv, nf), np.inf)
    ftravel = np.full((nf, nf), np.inf)
    for f in facility_ids:
        dist = nx.single_source_dijkstra_path_length(g, f, weight="minutes")
        j = fidx[f]
        for node, minutes in dist.items():
            if node in vidx:
                travel[vidx[node], j] = minutes
            elif node in fidx:
                ftravel[j, fidx[node]] = minutes
    tier = np.array([g.nodes[f]["tier"] for f in facility_ids], dtype=np.int64)
    lead_of = []
    for f in facility_ids:
        t = g.nodes[f]["tier"]
        if t == 2:
            lead_of.append(fidx[f])
        elif t == 3:
            lead_of.append(-1)
        else:
            lead_of.append(fidx[g.nodes[f]["lead"]])
    is_open = np.array([not g.nodes[f].get("closed", False) for f in facility_ids], dtype=bool)
    tier1 = np.flatnonzero((tier == 1) & is_open)
    home = tier1[np.argmin(travel[:, tier1], axis=1)] if nv else np.zeros(0, dtype=np.int64)
    tertiary = int(np.flatnonzero(tier == 3)[0])
    return County(
        name=g.graph.get("name", ""), village_ids=village_ids, facility_ids=facility_ids, tier=tier,
        population=np.array([g.nodes[v]["population"] for v in village_ids], dtype=np.float64),
        clinic_doctors=np.array([g.nodes[v]["clinic_doctors"] for v in village_ids], dtype=np.int64),
        travel=travel, ftravel=ftravel, lead_of=lead_of, home_tier1=home.astype(np.int64),
        tertiary=tertiary, clinic_access_minutes=clinic_access_minutes, graph=g, is_open=is_open,
    )


def build_county(net: NetworkConfig) -> County:
    """Graph + validation + travel matrices, in one call.

    Pass the *effective* network (after restructuring: :func:`sim.county.restructure.effective_network`).
    """
    return county_from_graph(build_graph(net), net.clinic_access_minutes)
