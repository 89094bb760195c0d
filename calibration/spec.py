"""Targets and free parameters: loading, validation and config-path access.

``targets.yaml`` lists observed figures (each with a source and a tolerance); ``space.yaml``
names the free parameters (a config path, bounds, an optional transform).  Every mistake in
either file raises :class:`CalibrationError` (a :class:`sim.ConfigError`) with one line
naming the file and the target or parameter.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.analysis.registry import REGISTRY, is_share
from sim.config import ConfigError

__all__ = ["CalibrationError", "Target", "Parameter", "load_targets", "load_space", "check_targets",
           "check_space", "declared_space", "parse_path", "expand_path", "get_path", "set_path", "RATE_METRICS",
           "DERIVED", "resolve_file"]

PACKAGE_DIR = Path(__file__).resolve().parent


class CalibrationError(ConfigError):
    """A mistake in a targets or space file, or in the calibration settings (one line)."""


#: KPI names that are shares or rates (must lie in [0, 1]): the registry's shares.
RATE_METRICS = {k for k in REGISTRY if is_share(k)}

#: Derived measures computed in :mod:`calibration.measures` from a replication's tables,
#: with whether they need the per-patient tables (``run.keep_patients``).
DERIVED = {
    "township_visits_per_year": "visits per open tier-1 centre per year (site_visits_per_day x 365, averaged)",
    "township_admissions_per_year": "admissions per open tier-1 centre per year (from the admissions table)",
    "township_visits_per_resident_year": "visits at open township centres (kind township) per resident of the "
                                         "villages whose nearest centre is one, per year",
    "township_admissions_per_resident_year": "admissions at open township centres per resident of their "
                                             "catchment villages, per year (from the admissions table)",
}
DERIVED_NEEDS_TABLES = {"township_admissions_per_year", "township_admissions_per_resident_year"}

TRANSFORMS = ("linear", "log")


@dataclass
class Target:
    """One observed figure: ``metric``/``group`` of the KPI table, or a ``derived`` measure."""

    name: str
    value: float
    tolerance: float
    source: str
    metric: str = ""
    group: str = "county"
    derived: str = ""
    weight: float = 1.0
    note: str = ""

    @property
    def kpi(self) -> str:
        return self.derived if self.derived else f"{self.metric}[{self.group}]"

    @property
    def is_rate(self) -> bool:
        return self.metric in RATE_METRICS


@dataclass
class Parameter:
    """One free parameter: a config path (``*`` / ``{a,b}`` expand over dict keys), bounds and
    a transform.  ``mode: scale`` multiplies the base config's value(s) by the parameter."""

    name: str
    path: str
    lower: float
    upper: float
    transform: str = "linear"
    mode: str = "set"
    #: concrete paths (token lists) after expanding wildcards against a config.
    targets: list = field(default_factory=list)

    # unit cube <-> parameter value ------------------------------------------------
    def _t(self, v: float) -> float:
        return math.log(v) if self.transform == "log" else v

    def _it(self, u: float) -> float:
        return math.exp(u) if self.transform == "log" else u

    def from_unit(self, u: float) -> float:
        lo, hi = self._t(self.lower), self._t(self.upper)
        u = min(max(float(u), 0.0), 1.0)
        return self._it(lo + u * (hi - lo))

    def to_unit(self, v: float) -> float:
        lo, hi = self._t(self.lower), self._t(self.upper)
        return (self._t(v) - lo) / (hi - lo)


def resolve_file(path: str | Path, what: str) -> Path:
    """A file named in the calibration config: absolute, else relative to the working
    directory, else relative to the ``calibration/`` package."""
    p = Path(path).expanduser()
    for cand in ([p] if p.is_absolute() else [Path.cwd() / p, PACKAGE_DIR / p]):
        if cand.is_file():
            return cand
    raise CalibrationError(f"{what} file {str(path)!r} not found (looked in {Path.cwd()} and {PACKAGE_DIR})")


def _read_yaml(path: Path, key: str) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CalibrationError(f"{path}: not valid YAML: {first}") from None
    if not isinstance(data, dict) or not isinstance(data.get(key), dict) or not data[key]:
        raise CalibrationError(f"{path}: needs a non-empty mapping '{key}:' (name -> entry)")
    return data[key]


def _num(entry: dict, key: str, where: str, required: bool = True, default: float | None = None) -> float:
    if key not in entry or entry[key] is None:
        if required:
            raise CalibrationError(f"{where}: missing '{key}'")
        return default  # type: ignore[return-value]
    v = entry[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise CalibrationError(f"{where}: '{key}' must be a finite number, got {v!r}")
    return float(v)


def _merged_entries(path: Path, key: str, what: str, seen: tuple[Path, ...] = ()) -> dict:
    """The ``key:`` mapping of a targets or space file, after its ``extends:`` file's (a county's
    targets extend the national ones for a county of its kind, a district's space the county
    one; an entry here replaces the one of the same name there, and ``name: null`` drops it)."""
    if path.resolve() in seen:
        raise CalibrationError(f"{path}: 'extends' loops back to itself")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CalibrationError(f"{path}: not valid YAML: {first}") from None
    base: dict = {}
    if isinstance(data, dict) and data.get("extends"):
        ext = data["extends"]
        if not isinstance(ext, str):
            raise CalibrationError(f"{path}: 'extends' must name a {what} file, got {ext!r}")
        parent = (path.parent / ext) if not Path(ext).is_absolute() else Path(ext)
        if not parent.is_file():
            raise CalibrationError(f"{path}: 'extends' names {ext!r}, which is not a file next to it")
        base = _merged_entries(parent, key, what, (*seen, path.resolve()))
    own = data.get(key) if isinstance(data, dict) else None
    if own is None and base:
        own = {}
    if not isinstance(own, dict) or not (own or base):
        raise CalibrationError(f"{path}: needs a non-empty mapping '{key}:' (name -> entry)")
    merged = dict(base)
    for name, e in own.items():
        if e is None:
            merged.pop(name, None)
        else:
            merged[name] = e
    if not merged:
        raise CalibrationError(f"{path}: no {key} left after 'extends' and the entries set to null")
    return merged


def _entries_of(path: Path) -> dict:
    """The ``targets:`` of a targets file, after its ``extends:`` chain."""
    return _merged_entries(path, "targets", "targets")


def load_targets(path: str | Path) -> list[Target]:
    """Read and check a targets file (not yet against a network: see :func:`check_targets`)."""
    path = Path(path)
    out = []
    allowed = {"kpi", "value", "tolerance", "source", "weight", "note"}
    for name, e in _entries_of(path).items():
        where = f"{path}: target {name!r}"
        if not isinstance(e, dict):
            raise CalibrationError(f"{where}: must be a mapping with kpi, value, tolerance, source")
        extra = set(e) - allowed
        if extra:
            raise CalibrationError(f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))} "
                                   f"(allowed: {', '.join(sorted(allowed))})")
        src = e.get("source")
        if not isinstance(src, str) or not src.strip():
            raise CalibrationError(f"{where}: missing 'source' (where the observed figure comes from; "
                                   "write '[ASSUMED] ...' if it is an assumption)")
        kpi = e.get("kpi")
        metric, group, derived = "", "county", ""
        if isinstance(kpi, str):
            kpi = {"metric": kpi}
        if not isinstance(kpi, dict) or not ({"metric", "derived"} & set(kpi)):
            raise CalibrationError(f"{where}: 'kpi' must be {{metric: <KPI name>, group: <group>}} "
                                   f"or {{derived: <{'|'.join(DERIVED)}>}}")
        if "derived" in kpi:
            derived = str(kpi["derived"])
            if derived not in DERIVED:
                raise CalibrationError(f"{where}: unknown derived measure {derived!r} (known: {', '.join(DERIVED)})")
        else:
            metric = str(kpi["metric"])
            group = str(kpi.get("group", "county"))
            if metric not in REGISTRY:
                raise CalibrationError(f"{where}: unknown KPI {metric!r} (the KPIs are listed in docs/kpis.md)")
        value = _num(e, "value", where)
        tol = _num(e, "tolerance", where)
        weight = _num(e, "weight", where, required=False, default=1.0)
        if tol <= 0:
            raise CalibrationError(f"{where}: 'tolerance' must be > 0, got {tol:g}")
        if weight < 0:
            raise CalibrationError(f"{where}: 'weight' must be >= 0, got {weight:g}")
        t = Target(name=str(name), value=value, tolerance=tol, source=src.strip(), metric=metric, group=group,
                   derived=derived, weight=weight, note=str(e.get("note", "") or ""))
        if t.is_rate and not 0.0 <= value <= 1.0:
            raise CalibrationError(f"{where}: {metric} is a rate and must be in [0, 1], got {value:g}"
                                   + (f" (write {value / 100:g}, not {value:g})" if 1 < value <= 100 else ""))
        if not t.is_rate and value < 0:
            raise CalibrationError(f"{where}: 'value' must be >= 0, got {value:g}")
        out.append(t)
    return out


def check_targets(targets: Sequence[Target], cfg, path: str | Path = "targets") -> None:
    """Check each target's group against the composed scenario (facility / village ids)."""
    from sim.county.restructure import effective_network

    net = effective_network(cfg)
    groups = {"county", "tier0", "tier1", "tier2", "tier3"} | set(net.facilities) | set(net.villages)
    for t in targets:
        if t.derived:
            if not any(f.tier == 1 and not f.closed for f in net.facilities.values()):
                raise CalibrationError(f"{path}: target {t.name!r}: {t.derived} needs an open tier-1 centre")
            continue
        if t.group not in groups:
            raise CalibrationError(f"{path}: target {t.name!r}: group {t.group!r} is not county, tier0-3 or a "
                                   f"facility/village of network {net.name!r}")


# ------------------------------------------------------------------ config paths

_TOKEN = re.compile(r"\s*([^.\[\]]+)|\[(\d+)\]")


def parse_path(path: str) -> list:
    """``care.choice.beta_tier[2]`` -> ``['care', 'choice', 'beta_tier', 2]``.

    >>> parse_path("care.choice.beta_tier[2]")
    ['care', 'choice', 'beta_tier', 2]
    >>> parse_path("care.conditions.{stemi,stroke}.incidence_per_1000")
    ['care', 'conditions', '{stemi,stroke}', 'incidence_per_1000']
    """
    tokens: list = []
    # split on dots outside braces
    parts = re.split(r"\.(?![^{]*\})", path.strip())
    for part in parts:
        if not part:
            raise ValueError(f"empty segment in {path!r}")
        m = re.fullmatch(r"([^\[\]]+)((?:\[\d+\])*)", part)
        if not m:
            raise ValueError(f"cannot parse segment {part!r} of {path!r}")
        tokens.append(m.group(1))
        tokens.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return tokens


def _child(obj: Any, tok: Any) -> Any:
    if isinstance(tok, int):
        if not isinstance(obj, (list, tuple)) and not hasattr(obj, "__getitem__"):
            raise KeyError(tok)
        if isinstance(obj, dict):
            raise KeyError(tok)
        if tok >= len(obj):
            raise KeyError(f"[{tok}] (has {len(obj)} elements)")
        return obj[tok]
    if dataclasses.is_dataclass(obj):
        if tok not in {f.name for f in dataclasses.fields(obj)}:
            raise KeyError(tok)
        return getattr(obj, tok)
    if isinstance(obj, dict):
        if tok not in obj:
            raise KeyError(tok)
        return obj[tok]
    raise KeyError(tok)


def expand_path(obj: Any, tokens: list, prefix: tuple = ()) -> list[list]:
    """Concrete token lists for a path whose segments may be ``*`` or ``{a,b}`` over dict keys."""
    if not tokens:
        return [list(prefix)]
    tok, rest = tokens[0], tokens[1:]
    if isinstance(tok, str) and (tok == "*" or (tok.startswith("{") and tok.endswith("}"))):
        if not isinstance(obj, dict):
            raise KeyError(f"{tok} (wildcards only apply to mappings such as care.conditions)")
        keys = list(obj) if tok == "*" else [k.strip() for k in tok[1:-1].split(",") if k.strip()]
        out = []
        for k in keys:
            if k not in obj:
                raise KeyError(k)
            out.extend(expand_path(obj[k], rest, prefix + (k,)))
        return out
    return expand_path(_child(obj, tok), rest, prefix + (tok,))


def get_path(obj: Any, tokens: list) -> Any:
    for tok in tokens:
        obj = _child(obj, tok)
    return obj


def set_path(obj: Any, tokens: list, value: Any) -> None:
    parent = get_path(obj, tokens[:-1])
    last = tokens[-1]
    if isinstance(last, int) or isinstance(parent, dict):
        parent[last] = value
    else:
        setattr(parent, last, value)


def format_path(tokens: list) -> str:
    s = ""
    for t in tokens:
        s += f"[{t}]" if isinstance(t, int) else (f".{t}" if s else str(t))
    return s


def declared_space(targets_file: str | Path, seen: tuple[Path, ...] = ()) -> str | None:
    """The space file a targets file names (``space:``), its own or the nearest one up its
    ``extends:`` chain, as a path next to the file that names it; None when none does.

    The free parameters belong with the figures that pin them down: a district's targets
    (``county_targets/district.yaml``) name the district's space, which frees the preference
    for the city's tertiary hospitals that a rural county's targets cannot identify.
    """
    path = Path(targets_file)
    if path.resolve() in seen or not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return None   # load_targets reports it
    if not isinstance(data, dict):
        return None
    if data.get("space") is not None:
        sp = data["space"]
        if not isinstance(sp, str) or not sp.strip():
            raise CalibrationError(f"{path}: 'space' must name a space file, got {sp!r}")
        cand = Path(sp) if Path(sp).is_absolute() else path.parent / sp
        if not cand.is_file():
            raise CalibrationError(f"{path}: 'space' names {sp!r}, which is not a file next to it")
        return str(cand)
    ext = data.get("extends")
    if isinstance(ext, str):
        parent = Path(ext) if Path(ext).is_absolute() else path.parent / ext
        return declared_space(parent, (*seen, path.resolve()))
    return None


def load_space(path: str | Path) -> list[Parameter]:
    """Read and check a space file, after its ``extends:`` chain (paths are checked against a
    config by :func:`check_space`)."""
    path = Path(path)
    out = []
    allowed = {"path", "lower", "upper", "transform", "mode", "note"}
    for name, e in _merged_entries(path, "parameters", "space").items():
        where = f"{path}: parameter {name!r}"
        if not isinstance(e, dict):
            raise CalibrationError(f"{where}: must be a mapping with path, lower, upper")
        extra = set(e) - allowed
        if extra:
            raise CalibrationError(f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))} "
                                   f"(allowed: {', '.join(sorted(allowed))})")
        p = e.get("path")
        if not isinstance(p, str) or not p.strip():
            raise CalibrationError(f"{where}: missing 'path' (a config path such as care.choice.beta_tier[2])")
        try:
            parse_path(p)
        except ValueError as exc:
            raise CalibrationError(f"{where}: bad path: {exc}") from None
        lo, hi = _num(e, "lower", where), _num(e, "upper", where)
        if not lo < hi:
            raise CalibrationError(f"{where}: needs lower < upper, got {lo:g} >= {hi:g}")
        tr = str(e.get("transform", "linear") or "linear")
        if tr not in TRANSFORMS:
            raise CalibrationError(f"{where}: transform must be one of {', '.join(TRANSFORMS)}, got {tr!r}")
        if tr == "log" and lo <= 0:
            raise CalibrationError(f"{where}: a log transform needs lower > 0, got {lo:g}")
        mode = str(e.get("mode", "set") or "set")
        if mode not in ("set", "scale"):
            raise CalibrationError(f"{where}: mode must be set or scale, got {mode!r}")
        out.append(Parameter(name=str(name), path=p.strip(), lower=lo, upper=hi, transform=tr, mode=mode))
    return out


def check_space(space: Sequence[Parameter], cfg, path: str | Path = "space") -> None:
    """Resolve every parameter's path against the composed config (fills ``Parameter.targets``)."""
    seen: dict[str, str] = {}
    for prm in space:
        where = f"{path}: parameter {prm.name!r}"
        try:
            concrete = expand_path(cfg, parse_path(prm.path))
        except (KeyError, IndexError) as exc:
            key = str(exc).strip("'\"")
            raise CalibrationError(f"{where}: path {prm.path} is not in the config (no key {key!r}; "
                                   "see sim/config/schema.py)") from None
        if not concrete:
            raise CalibrationError(f"{where}: path {prm.path} matches nothing")
        for toks in concrete:
            v = get_path(cfg, toks)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise CalibrationError(f"{where}: {format_path(toks)} is not a number (got {type(v).__name__})")
            key = format_path(toks)
            if key in seen:
                raise CalibrationError(f"{where}: {key} is already set by parameter {seen[key]!r}")
            seen[key] = prm.name
        prm.targets = concrete


def apply_parameters(cfg, space: Sequence[Parameter], values: Sequence[float]):
    """A deep copy of ``cfg`` with the parameter values applied (scale = times the base value)."""
    out = copy.deepcopy(cfg)
    for prm, v in zip(space, values, strict=False):
        for toks in prm.targets:
            base = get_path(cfg, toks)
            new = base * v if prm.mode == "scale" else v
            if isinstance(base, int) and not isinstance(base, bool):
                new = int(round(new))
            set_path(out, toks, float(new) if not isinstance(base, int) else new)
    return out
