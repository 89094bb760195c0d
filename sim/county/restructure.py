"""Downsizing and restructuring: transforms of the network applied before the run.

Operations (``restructure.operations``, see :class:`sim.config.Operation`) are applied in order
to a copy of the network config; the result is validated like any network (every village must
still reach an open tier-1 and tier-2 facility, every member must name an open lead), so no
village loses access without a clear error.  Patients then re-choose among what remains through
the choice model: nothing is re-routed by hand.  :func:`network_diff` reports what changed.

A closed site stays on the map as a road junction (roads through a town do not disappear
with its health centre) but offers no care.
"""

from __future__ import annotations

import copy
import math

import pandas as pd

from sim.config import MODALITIES, Config, ConfigError, Facility, NetworkConfig, RestructureConfig

__all__ = ["apply_operations", "effective_network", "network_diff", "running_cost"]

OPS = ("close", "merge", "scale", "move_doctors", "convert_to_post", "hand_over")


def _facility(net: NetworkConfig, fid: str, key: str) -> Facility:
    if fid not in net.facilities:
        raise ConfigError(f"{key}: names {fid!r}, which is not a facility")
    f = net.facilities[fid]
    if f.closed:
        raise ConfigError(f"{key}: facility {fid!r} is already closed")
    return f


def _scaled(n: int, factor: float) -> int:
    return int(math.floor(n * factor + 0.5))


def apply_operations(net: NetworkConfig, rc: RestructureConfig) -> NetworkConfig:
    """A transformed copy of ``net``.  Raises :class:`ConfigError` naming the operation.

    >>> from sim.config import Facility, NetworkConfig, Operation, RestructureConfig
    >>> net = NetworkConfig(facilities={"a": Facility(doctors={"general": 10}, beds=20),
    ...                                 "b": Facility(doctors={"general": 4}, beds=10)})
    >>> out = apply_operations(net, RestructureConfig([Operation(op="merge", site="b", into="a",
    ...                                                            keep_share=0.5)]))
    >>> out.facilities["a"].doctors["general"], out.facilities["a"].beds, out.facilities["b"].closed
    (12, 25, True)
    """
    if not rc.operations:
        return net
    net = copy.deepcopy(net)
    for i, op in enumerate(rc.operations):
        key = f"restructure.operations[{i}]"
        if op.op not in OPS:
            raise ConfigError(f"{key}.op: must be one of {', '.join(OPS)}, got {op.op!r}")
        if op.op == "close":
            f = _facility(net, op.site, f"{key}.site")
            if f.tier == 2:
                members = [m for m, g in net.facilities.items() if g.lead == op.site and not g.closed]
                if members:
                    raise ConfigError(f"{key}.site: lead hospital {op.site!r} still has members "
                                      f"({', '.join(members)}): hand them over first")
            if f.tier == 3:
                raise ConfigError(f"{key}.site: the out-of-county node cannot be closed")
            f.closed = True
        elif op.op == "merge":
            src = _facility(net, op.site, f"{key}.site")
            dst = _facility(net, op.into, f"{key}.into")
            if op.site == op.into:
                raise ConfigError(f"{key}.into: cannot merge a facility into itself")
            if not 0.0 <= op.keep_share <= 1.0:
                raise ConfigError(f"{key}.keep_share: must be in [0, 1], got {op.keep_share}")
            if dst.tier < src.tier:
                raise ConfigError(f"{key}.into: cannot merge tier {src.tier} {op.site!r} into tier {dst.tier}")
            for kind, n in src.doctors.items():
                dst.doctors[kind] = dst.doctors.get(kind, 0) + _scaled(n, op.keep_share)
            for kind, n in src.night_doctors.items():
                dst.night_doctors[kind] = dst.night_doctors.get(kind, 0) + _scaled(n, op.keep_share)
            dst.beds += _scaled(src.beds, op.keep_share)
            dst.ambulances += _scaled(src.ambulances, op.keep_share)
            for m in src.acquire:
                if m not in dst.acquire:
                    dst.acquire.append(m)
                    dst.equipment_units[m] = max(1, _scaled(src.equipment_units.get(m, 1), op.keep_share))
            src.closed = True
        elif op.op == "scale":
            if op.factor < 0 or math.isnan(op.factor):
                raise ConfigError(f"{key}.factor: must be >= 0, got {op.factor}")
            if op.site:
                targets = [op.site]
                _facility(net, op.site, f"{key}.site")
            elif op.tier in (1, 2):
                targets = [fid for fid, f in net.facilities.items() if f.tier == op.tier and not f.closed]
            else:
                raise ConfigError(f"{key}: scale needs a site or a tier (1 or 2)")
            res = op.resource
            for fid in targets:
                f = net.facilities[fid]
                if res == "doctors":
                    f.doctors = {k: _scaled(n, op.factor) for k, n in f.doctors.items()}
                    f.night_doctors = {k: min(_scaled(n, op.factor), f.doctors.get(k, 0)) if k in f.doctors
                                       else n for k, n in f.night_doctors.items()}
                elif res.startswith("doctors:"):
                    kind = res.split(":", 1)[1]
                    if kind not in f.doctors:
                        raise ConfigError(f"{key}.resource: {fid!r} has no {kind!r} doctors")
                    f.doctors[kind] = _scaled(f.doctors[kind], op.factor)
                    if kind in f.night_doctors:
                        f.night_doctors[kind] = min(f.night_doctors[kind], f.doctors[kind])
                elif res == "beds":
                    f.beds = _scaled(f.beds, op.factor)
                elif res == "ambulances":
                    f.ambulances = _scaled(f.ambulances, op.factor)
                elif res.startswith("equipment:") and res.split(":", 1)[1] in MODALITIES:
                    m = res.split(":", 1)[1]
                    f.equipment_units[m] = _scaled(f.equipment_units.get(m, 1), op.factor)
                else:
                    raise ConfigError(f"{key}.resource: must be doctors, doctors:<kind>, beds, ambulances or "
                                      f"equipment:<modality>, got {res!r}")
        elif op.op == "move_doctors":
            lead = _facility(net, op.site, f"{key}.site")
            if lead.tier != 2:
                raise ConfigError(f"{key}.site: {op.site!r} is not a lead hospital")
            to = op.to or [m for m, g in net.facilities.items() if g.lead == op.site and not g.closed]
            if op.n < 0:
                raise ConfigError(f"{key}.n: must be >= 0, got {op.n}")
            need = op.n * len(to)
            have = lead.doctors.get(op.kind, 0)
            if need > have:
                raise ConfigError(f"{key}.n: moving {need} {op.kind} doctors but {op.site!r} has {have}")
            lead.doctors[op.kind] = have - need
            if op.kind in lead.night_doctors:
                lead.night_doctors[op.kind] = min(lead.night_doctors[op.kind], lead.doctors[op.kind])
            for j, m in enumerate(to):
                g = _facility(net, m, f"{key}.to[{j}]")
                g.doctors[op.kind] = g.doctors.get(op.kind, 0) + op.n
        elif op.op == "convert_to_post":
            f = _facility(net, op.site, f"{key}.site")
            if f.tier != 1:
                raise ConfigError(f"{key}.site: only a tier-1 centre can become a village-level post")
            if not net.villages:
                raise ConfigError(f"{key}: the network has no villages")
            nearest = min(net.villages, key=lambda v: ((net.villages[v].x_km - f.x_km) ** 2
                                                        + (net.villages[v].y_km - f.y_km) ** 2, v))
            net.villages[nearest].clinic_doctors = max(net.villages[nearest].clinic_doctors, op.n or 2)
            f.closed = True
        elif op.op == "hand_over":
            new = _facility(net, op.lead, f"{key}.lead")
            if new.tier not in (2, 3):
                raise ConfigError(f"{key}.lead: {op.lead!r} is not a hospital")
            if new.tier == 3:
                raise ConfigError(f"{key}.lead: the out-of-county sink cannot lead members; add the taking-over "
                                  "hospital as a tier-2 lead (kind lead) in the network")
            if not op.sites:
                raise ConfigError(f"{key}.sites: names no member sites")
            for j, m in enumerate(op.sites):
                g = _facility(net, m, f"{key}.sites[{j}]")
                if g.tier != 1:
                    raise ConfigError(f"{key}.sites[{j}]: {m!r} is not a tier-1 member")
                g.lead = op.lead
    return net


def effective_network(cfg: Config) -> NetworkConfig:
    """The network the model runs on: ``cfg.network`` after ``cfg.restructure``."""
    return apply_operations(cfg.network, cfg.restructure)


def _facts(f: Facility) -> dict[str, object]:
    out: dict[str, object] = {"closed": f.closed, "lead": f.lead or "", "beds": f.beds, "ambulances": f.ambulances}
    for k, n in f.doctors.items():
        out[f"doctors:{k}"] = n
    for m in f.acquire:
        out[f"equipment:{m}"] = f.equipment_units.get(m, 1)
    return out


def network_diff(before: NetworkConfig, after: NetworkConfig) -> pd.DataFrame:
    """What a restructuring changed: one row per (site, attribute) whose value differs."""
    rows = []
    for fid in sorted(set(before.facilities) | set(after.facilities)):
        a = _facts(before.facilities[fid]) if fid in before.facilities else {}
        b = _facts(after.facilities[fid]) if fid in after.facilities else {}
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                rows.append((fid, k, a.get(k), b.get(k)))
    for vid in sorted(set(before.villages) | set(after.villages)):
        va = before.villages.get(vid)
        vb = after.villages.get(vid)
        if va is not None and vb is not None and va.clinic_doctors != vb.clinic_doctors:
            rows.append((vid, "clinic_doctors", va.clinic_doctors, vb.clinic_doctors))
    return pd.DataFrame(rows, columns=["site", "attribute", "before", "after"]).astype(
        {"before": "string", "after": "string"})


def running_cost(net: NetworkConfig, rc: RestructureConfig) -> float:
    """Yearly running cost (CNY) of the open facilities' doctors and beds, and village doctors."""
    doctors = sum(sum(f.doctors.values()) for f in net.facilities.values() if not f.closed and f.tier < 3)
    doctors += sum(v.clinic_doctors for v in net.villages.values())
    beds = sum(f.beds for f in net.facilities.values() if not f.closed and f.tier < 3)
    return doctors * rc.cost_per_doctor_year + beds * rc.cost_per_bed_year
