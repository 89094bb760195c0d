"""A sensitivity analysis's config (``scenarios/sensitivity/<name>.yaml``) and its parameters.

The uncertain parameters are config paths with a plausible range, in the format of the
calibration space files (``calibration/space.yaml``: ``path``, ``lower``, ``upper``, optional
``transform: log`` and ``mode: scale``), plus a ``source`` (why that range: the calibration's
bounds, or an ``[ASSUMED]`` default's plausible spread) and labels.  ``space:`` names a space
file whose parameters are taken in; ``parameters:`` adds more (or replaces one of the same
name).  A path may expand over mapping keys: ``care.conditions.*.incidence_per_1000`` with
``mode: scale`` multiplies every condition's incidence.

The result is one KPI (``kpi``, at ``group``) of one scenario, or, with ``compare``, the
paired difference (scenario minus baseline, replication by replication) between two
scenarios, both under the same parameter values: "does the ranking of the two depend on
assumptions we cannot check?".
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

from sim.analysis.registry import REGISTRY
from sim.config import ConfigError

__all__ = ["Parameter", "Compare", "MorrisSettings", "SobolSettings", "SensitivityConfig", "load_sensitivity",
           "load_space_file", "resolve_parameters", "apply_values", "base_value", "parse_path", "SENSITIVITY_DIR"]

SENSITIVITY_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "sensitivity"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Parameter:
    """One uncertain parameter and its plausible range."""

    path: str = ""
    lower: float = 0.0
    upper: float = 0.0
    transform: str = "linear"
    mode: str = "set"
    source: str = ""
    label_zh: str = ""
    label_en: str = ""
    note: str = ""


@dataclass
class Compare:
    """Two scenarios (lists of overrides on top of the base): the result is scenario - baseline."""

    baseline: list[str] = field(default_factory=list)
    scenario: list[str] = field(default_factory=list)
    label_zh: str = ""
    label_en: str = ""


@dataclass
class MorrisSettings:
    trajectories: int = 8     # [ASSUMED] SALib's suggested 4-10 for a screening
    levels: int = 4           # [ASSUMED] Morris's usual p = 4


@dataclass
class SobolSettings:
    #: the parameters with the largest Morris mu* that get Sobol indices (0: none).
    top: int = 3
    #: Saltelli base sample (a power of 2): N x (k + 2) points without second-order indices.
    n: int = 32               # [ASSUMED] small; intervals say how well it is pinned down
    second_order: bool = False


@dataclass
class SensitivityConfig:
    name: str = ""
    description: str = ""
    title_zh: str = ""
    title_en: str = ""
    base_overrides: list[str] = field(default_factory=list)
    kpi: str = ""
    group: str = "county"
    compare: Compare = field(default_factory=Compare)
    #: a calibration space file whose parameters are taken in (relative to the project root).
    space: str = ""
    parameters: dict[str, Parameter] = field(default_factory=dict)
    #: replications per point (the same seeds at every point: common random numbers).
    replications: int = 2
    morris: MorrisSettings = field(default_factory=MorrisSettings)
    sobol: SobolSettings = field(default_factory=SobolSettings)
    #: one-at-a-time low/high runs for the tornado.
    tornado: bool = True
    #: the samplers' seed (SALib's; the model's is run.seed).
    seed: int = 0


def load_space_file(path: str | Path, where: str = "sensitivity.space") -> dict[str, Parameter]:
    """The parameters of a calibration space file (its ``extends:`` chain merged)."""
    p = Path(path)
    if not p.is_absolute():
        p = ROOT / p if (ROOT / p).exists() else Path.cwd() / p
    if not p.is_file():
        raise ConfigError(f"{where}: no space file {path}")
    data: dict[str, Any] = {}
    seen: set[Path] = set()
    while True:
        if p.resolve() in seen:
            raise ConfigError(f"{where}: {p} extends itself")
        seen.add(p.resolve())
        try:
            d = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{where}: {p} is not valid YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(d, dict):
            raise ConfigError(f"{where}: {p} must be a mapping with parameters:")
        data = {**(d.get("parameters") or {}), **data}
        ext = d.get("extends")
        if not ext:
            break
        p = p.parent / ext
    out = {}
    for name, e in data.items():
        if not isinstance(e, dict):
            raise ConfigError(f"{where}: parameter {name!r} must be a mapping with path, lower, upper")
        known = {f.name for f in dataclasses.fields(Parameter)}
        out[str(name)] = Parameter(**{k: v for k, v in e.items() if k in known})
        if not out[str(name)].source:
            out[str(name)].source = f"calibration bounds ({Path(path).as_posix()})"
    return out


def load_sensitivity(name: str | Path, overrides: Sequence[str] = (), config_dir: str | Path | None = None) \
        -> SensitivityConfig:
    """Read ``scenarios/sensitivity/<name>.yaml`` (or a path), apply key overrides
    (``replications=3``), and check it.

    >>> s = load_sensitivity("toy_travel")
    >>> s.kpi, sorted(s.parameters)[:2]
    ('first_contact_travel_mean_min', ['beta_travel', 'cost_per_bed'])
    """
    from sim.config.loading import load_tool_config

    s = load_tool_config("sensitivity", SensitivityConfig, name, overrides, config_dir)
    if s.space:
        s.parameters = {**load_space_file(s.space), **s.parameters}
    _validate(s)
    return s


def _validate(s: SensitivityConfig) -> None:
    if "/" in s.name or "\\" in s.name or ".." in s.name:
        raise ConfigError(f"sensitivity.name: must be a plain name, got {s.name!r}")
    if s.kpi not in REGISTRY:
        close = [k for k in REGISTRY if s.kpi and (s.kpi in k or k in s.kpi)][:4]
        hint = f" (did you mean {', '.join(close)}?)" if close else " (see docs/kpis.md)"
        raise ConfigError(f"sensitivity.kpi: {s.kpi!r} is not a KPI of the registry{hint}")
    if len(s.parameters) < 2:
        raise ConfigError("sensitivity.parameters: needs at least two uncertain parameters to rank")
    if s.replications < 1:
        raise ConfigError(f"sensitivity.replications: must be >= 1, got {s.replications}")
    if s.morris.trajectories < 2:
        raise ConfigError(f"sensitivity.morris.trajectories: must be >= 2, got {s.morris.trajectories}")
    if s.morris.levels < 2 or s.morris.levels % 2:
        raise ConfigError(f"sensitivity.morris.levels: an even number >= 2, got {s.morris.levels}")
    if s.sobol.top < 0 or s.sobol.top > len(s.parameters):
        raise ConfigError(f"sensitivity.sobol.top: between 0 and the {len(s.parameters)} parameters, got {s.sobol.top}")
    if s.sobol.top and (s.sobol.n < 2 or s.sobol.n & (s.sobol.n - 1)):
        raise ConfigError(f"sensitivity.sobol.n: a power of 2 (Saltelli sampling), got {s.sobol.n}")
    if s.sobol.top == 1:
        raise ConfigError("sensitivity.sobol.top: Sobol indices need at least 2 parameters (or 0 for none)")
    if s.compare.baseline and not s.compare.scenario:
        raise ConfigError("sensitivity.compare.scenario: a comparison needs the scenario's overrides")
    for name, p in s.parameters.items():
        key = f"sensitivity.parameters.{name}"
        if not p.path:
            raise ConfigError(f"{key}.path: missing (a config path such as care.choice.beta_tier[2])")
        try:
            parse_path(p.path)
        except ValueError as exc:
            raise ConfigError(f"{key}.path: {exc}") from None
        for k in ("lower", "upper"):
            v = getattr(p, k)
            if not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"{key}.{k}: must be a finite number, got {v!r}")
        if not p.lower < p.upper:
            raise ConfigError(f"{key}.upper: must be > lower ({p.lower:g}), got {p.upper:g}")
        if p.transform not in ("linear", "log"):
            raise ConfigError(f"{key}.transform: linear or log, got {p.transform!r}")
        if p.transform == "log" and p.lower <= 0:
            raise ConfigError(f"{key}.lower: a log transform needs lower > 0, got {p.lower:g}")
        if p.mode not in ("set", "scale"):
            raise ConfigError(f"{key}.mode: set or scale, got {p.mode!r}")


# --- config paths -------------------------------------------------------------------------------

def parse_path(path: str) -> list:
    """``care.choice.beta_tier[2]`` -> ``['care', 'choice', 'beta_tier', 2]``.

    >>> parse_path("care.conditions.{stemi,stroke}.incidence_per_1000")
    ['care', 'conditions', '{stemi,stroke}', 'incidence_per_1000']
    """
    tokens: list = []
    for part in re.split(r"\.(?![^{]*\})", path.strip()):
        m = re.fullmatch(r"([^\[\]]+)((?:\[\d+\])*)", part)
        if not part or not m:
            raise ValueError(f"cannot read segment {part!r} of {path!r}")
        tokens.append(m.group(1))
        tokens.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return tokens


def _child(obj: Any, tok: Any) -> Any:
    if isinstance(tok, int):
        if not isinstance(obj, list) or tok >= len(obj):
            raise KeyError(f"[{tok}]")
        return obj[tok]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if tok not in {f.name for f in dataclasses.fields(obj)}:
            raise KeyError(tok)
        return getattr(obj, tok)
    if isinstance(obj, dict) and tok in obj:
        return obj[tok]
    raise KeyError(tok)


def _expand(obj: Any, tokens: list, prefix: tuple = ()) -> list[tuple]:
    if not tokens:
        return [prefix]
    tok, rest = tokens[0], tokens[1:]
    if isinstance(tok, str) and (tok == "*" or (tok.startswith("{") and tok.endswith("}"))):
        if not isinstance(obj, dict):
            raise KeyError(f"{tok} (a wildcard applies to a mapping such as care.conditions)")
        keys = list(obj) if tok == "*" else [k.strip() for k in tok[1:-1].split(",") if k.strip()]
        out = []
        for k in keys:
            if k not in obj:
                raise KeyError(k)
            out += _expand(obj[k], rest, prefix + (k,))
        return out
    return _expand(_child(obj, tok), rest, prefix + (tok,))


def _get(obj: Any, toks: Sequence) -> Any:
    for t in toks:
        obj = _child(obj, t)
    return obj


def _set(obj: Any, toks: Sequence, value: Any) -> None:
    parent = _get(obj, toks[:-1])
    last = toks[-1]
    if isinstance(last, int) or isinstance(parent, dict):
        parent[last] = value
    else:
        setattr(parent, last, value)


def resolve_parameters(params: dict[str, Parameter], cfg: Any) -> dict[str, list[tuple]]:
    """Each parameter's concrete paths in a composed config (wildcards expanded), checked to
    be numbers and set by one parameter only."""
    out: dict[str, list[tuple]] = {}
    owner: dict[tuple, str] = {}
    for name, p in params.items():
        key = f"sensitivity.parameters.{name}.path"
        try:
            paths = _expand(cfg, parse_path(p.path))
        except (KeyError, IndexError) as exc:
            raise ConfigError(f"{key}: {p.path} is not in the config (no key {str(exc).strip(chr(39))}; see "
                              "sim/config/schema.py)") from None
        if not paths:
            raise ConfigError(f"{key}: {p.path} matches nothing")
        for t in paths:
            v = _get(cfg, t)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ConfigError(f"{key}: {p.path} is not a number (got {type(v).__name__})")
            if t in owner:
                raise ConfigError(f"{key}: {p.path} is already moved by parameter {owner[t]!r}")
            owner[t] = name
        out[name] = paths
    return out


def base_value(p: Parameter, cfg: Any, paths: list[tuple]) -> float:
    """The parameter's value in the base config (1 for a multiplier), or the middle of its
    range (on its scale) when the base lies outside it."""
    v = 1.0 if p.mode == "scale" else float(_get(cfg, paths[0]))
    if p.lower <= v <= p.upper:
        return v
    if p.transform == "log":
        return math.sqrt(p.lower * p.upper)
    return (p.lower + p.upper) / 2


def apply_values(cfg: Any, params: dict[str, Parameter], paths: dict[str, list[tuple]], values: dict[str, float]) -> Any:
    """A deep copy of ``cfg`` with the parameters set (``scale``: times the base value)."""
    out = copy.deepcopy(cfg)
    for name, v in values.items():
        p = params[name]
        for t in paths[name]:
            old = _get(cfg, t)
            new = old * v if p.mode == "scale" else v
            _set(out, t, int(round(new)) if isinstance(old, int) and not isinstance(old, bool) else float(new))
    return out
