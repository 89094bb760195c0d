"""A policy search's config (``scenarios/search/<name>.yaml``): the lever space, the objectives
and the constraints, validated into dataclasses with one line naming the key on any mistake.

A search config is a file of its own config group, read like a study (``study=<name>``): the
file merged onto the structured :class:`SearchConfig`, then the command line's ``search.*``
overrides (``search.trials=40``); every other override is a scenario override applied to every
candidate (``run.horizon_days=28``).

The space is a mapping of *dimensions*, each one lever decision:

- ``kind: choice``: ``options`` maps an option name to a list of Hydra overrides, or to a
  mapping with ``overrides``, ``operations`` (restructuring operations, as in
  ``scenarios/restructure/``), ``label_zh`` and ``label_en``;
- ``kind: subset``: ``candidates`` maps a name to one restructuring operation (or a list of
  them); an option is any set of ``min_size`` to ``max_size`` candidates (closures or merges
  from a candidate list);
- ``kind: int`` / ``kind: float``: a number from ``low`` to ``high`` (``step``; ``log`` for a
  log scale), written into ``overrides`` where they say ``{value}``
  (``levers.remote.readers={value}``).

The operations of every dimension of a candidate are concatenated into one
``restructure.operations=[...]`` override, so closures and doctors moved down combine.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.analysis.registry import REGISTRY
from sim.config import ConfigError, warn

__all__ = ["Objective", "Constraint", "Dimension", "SearchConfig", "Option", "load_search", "validate_search",
           "split_overrides", "options", "SEARCH_DIR", "SAMPLERS", "COST"]

#: the bundled search configs.
SEARCH_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "search"

#: the samplers a search may name (``auto``: TPE for one objective, NSGA-II for several).
SAMPLERS = ("auto", "tpe", "nsga2", "random", "grid")

#: the pseudo-KPI of an objective that is the sum of the ``cost`` KPIs.
COST = "cost"

KINDS = ("choice", "subset", "int", "float")
OPS = (">=", "<=")
DIRECTIONS = ("minimize", "maximize")


@dataclass
class Objective:
    """One objective: a KPI id of the registry (county level), or ``cost`` (the sum of the
    ``cost`` KPIs), minimised or maximised."""

    kpi: str = COST
    direction: str = "minimize"


@dataclass
class Constraint:
    """``kpi`` (a KPI id, at ``group``) must be ``op`` (``>=`` or ``<=``) ``value``; judged on
    the confidence interval: the whole interval must lie on the allowed side."""

    kpi: str = ""
    op: str = ">="
    value: float = 0.0
    group: str = "county"


@dataclass
class Dimension:
    """One lever decision of the space (see the module docstring)."""

    kind: str = "choice"
    options: dict[str, Any] = field(default_factory=dict)
    candidates: dict[str, Any] = field(default_factory=dict)
    min_size: int = 0
    max_size: int = 1
    low: float = 0.0
    high: float = 0.0
    step: float = 0.0
    log: bool = False
    overrides: list[str] = field(default_factory=list)
    label_zh: str = ""
    label_en: str = ""


@dataclass
class SearchConfig:
    """A policy search: the space, objectives, constraints, and how hard to look."""

    name: str = ""
    description: str = ""
    title_zh: str = ""
    title_en: str = ""
    description_zh: str = ""
    #: overrides of every candidate (the county, the horizon), before the candidate's own.
    base_overrides: list[str] = field(default_factory=list)
    space: dict[str, Dimension] = field(default_factory=dict)
    objectives: list[Objective] = field(default_factory=lambda: [Objective()])
    #: the KPIs summed into the ``cost`` objective: by default the yearly running cost and the
    #: levers' and restructuring's capital annualised over their lifetimes (together
    #: ``total_cost_per_year``); a listed KPI the KPI table does not hold (a study folder of an
    #: older version) adds 0, with a warning.
    cost: list[str] = field(default_factory=lambda: ["running_cost_per_year", "capital_cost_per_year"])
    constraints: list[Constraint] = field(default_factory=list)
    #: finished trials to reach (a resumed search runs only the missing ones).
    trials: int = 30
    #: replications per trial (common random numbers: replication r of every trial sees the
    #: same patients); >= 2 for a confidence interval.  [ASSUMED] 3 screens cheaply.
    replications: int = 3
    #: the best candidates re-run with more replications before they are reported.
    confirm_top: int = 3
    confirm_replications: int = 10   # [ASSUMED] halves the screening interval's width (~sqrt(10/3))
    #: confidence level of the intervals the constraints are judged on.
    level: float = 0.95
    sampler: str = "auto"
    #: the sampler's seed (the optimiser's own randomness; the model's is run.seed).
    seed: int = 0
    #: NSGA-II population; TPE's random start-up trials.
    population: int = 20             # [ASSUMED] small spaces of a few levers
    startup_trials: int = 8          # [ASSUMED]
    #: trials asked of the optimiser at once (0: enough to keep run.jobs workers busy).
    batch: int = 0


@dataclass
class Option:
    """One concrete option of a dimension: its overrides and restructuring operations."""

    name: str
    overrides: list[str]
    operations: list[dict]
    label_zh: str = ""
    label_en: str = ""


def split_overrides(overrides: Sequence[str]) -> tuple[list[str], list[str]]:
    """``search.*`` overrides (for the search config) and the scenario overrides."""
    own = [o[len("search."):] for o in overrides if o.startswith("search.")]
    rest = [o for o in overrides if not o.startswith(("search.", "search="))]
    return own, rest


def load_search(name: str | Path, overrides: Sequence[str] = (), config_dir: str | Path | None = None) -> SearchConfig:
    """Read ``scenarios/search/<name>.yaml`` (or a path), apply ``search.*``-less overrides
    (``trials=40``), and validate.

    >>> s = load_search("toy_closures", ["trials=5"])
    >>> s.trials, list(s.space)
    (5, ['closures'])
    >>> load_search("toy_closures", ["replications=1"])
    Traceback (most recent call last):
    ...
    sim.config.ConfigError: search.replications: needs >= 2 replications for a confidence interval, got 1
    """
    from sim.config.loading import load_tool_config

    search = load_tool_config("search", SearchConfig, name, overrides, config_dir)
    validate_search(search)
    return search


def _check_kpi(kpi: str, key: str) -> None:
    if kpi not in REGISTRY:
        close = [k for k in REGISTRY if kpi and (kpi in k or k in kpi)][:4]
        hint = f" (did you mean {', '.join(close)}?)" if close else " (see docs/kpis.md)"
        raise ConfigError(f"{key}: {kpi!r} is not a KPI of the registry{hint}")


def validate_search(s: SearchConfig) -> None:
    """Every key in range: one :class:`ConfigError` naming the first wrong one."""
    if "/" in s.name or "\\" in s.name or ".." in s.name:
        raise ConfigError(f"search.name: must be a plain name (no '/', '\\' or '..'), got {s.name!r}")
    if not s.space:
        raise ConfigError("search.space: the search has no lever to choose (an empty space)")
    for key, lo in (("trials", 1), ("confirm_top", 0), ("population", 2), ("startup_trials", 0), ("batch", 0)):
        if getattr(s, key) < lo:
            raise ConfigError(f"search.{key}: must be >= {lo}, got {getattr(s, key)}")
    if s.replications < 2:
        raise ConfigError(f"search.replications: needs >= 2 replications for a confidence interval, got {s.replications}")
    if s.confirm_replications < s.replications:
        raise ConfigError(f"search.confirm_replications: must be >= search.replications ({s.replications}), "
                          f"got {s.confirm_replications}")
    if not 0.5 <= s.level < 1:
        raise ConfigError(f"search.level: a confidence level in [0.5, 1), got {s.level}")
    if s.sampler not in SAMPLERS:
        raise ConfigError(f"search.sampler: one of {', '.join(SAMPLERS)}, got {s.sampler!r}")
    if not s.objectives:
        raise ConfigError("search.objectives: needs at least one objective")
    seen = set()
    for i, o in enumerate(s.objectives):
        if o.direction not in DIRECTIONS:
            raise ConfigError(f"search.objectives[{i}].direction: minimize or maximize, got {o.direction!r}")
        if o.kpi != COST:
            _check_kpi(o.kpi, f"search.objectives[{i}].kpi")
        if o.kpi in seen:
            raise ConfigError(f"search.objectives[{i}].kpi: {o.kpi!r} is already an objective")
        seen.add(o.kpi)
    if any(o.kpi == COST for o in s.objectives) and not s.cost:
        raise ConfigError("search.cost: the cost objective needs at least one cost KPI (e.g. running_cost_per_year)")
    for i, k in enumerate(s.cost):
        if k not in REGISTRY:
            warn(f"search.cost[{i}]", f"{k!r} is not a KPI of the registry: it counts only where a KPI table holds it")
    for i, c in enumerate(s.constraints):
        _check_kpi(c.kpi, f"search.constraints[{i}].kpi")
        if c.op not in OPS:
            raise ConfigError(f"search.constraints[{i}].op: one of >=, <=, got {c.op!r}")
    for name, d in s.space.items():
        _validate_dimension(name, d)


def _validate_dimension(name: str, d: Dimension) -> None:
    key = f"search.space.{name}"
    if d.kind not in KINDS:
        raise ConfigError(f"{key}.kind: one of {', '.join(KINDS)}, got {d.kind!r}")
    if d.kind == "choice":
        if not d.options:
            raise ConfigError(f"{key}.options: a choice needs at least one option")
        for opt, spec in d.options.items():
            _option(key, opt, spec)
    elif d.kind == "subset":
        if not d.candidates:
            raise ConfigError(f"{key}.candidates: a subset needs at least one candidate")
        for cand, spec in d.candidates.items():
            _operations(f"{key}.candidates.{cand}", spec)
        if not 0 <= d.min_size <= d.max_size:
            raise ConfigError(f"{key}.max_size: needs 0 <= min_size <= max_size, got {d.min_size}, {d.max_size}")
        if d.min_size > len(d.candidates):
            raise ConfigError(f"{key}.min_size: {d.min_size} is more than the {len(d.candidates)} candidates")
    else:
        if not d.high > d.low:
            raise ConfigError(f"{key}.high: must be > low ({d.low:g}), got {d.high:g}")
        if d.step < 0:
            raise ConfigError(f"{key}.step: must be >= 0, got {d.step:g}")
        if d.log and d.low <= 0:
            raise ConfigError(f"{key}.low: a log scale needs low > 0, got {d.low:g}")
        if d.kind == "int" and (d.low != int(d.low) or d.high != int(d.high)):
            raise ConfigError(f"{key}.low: an int dimension needs whole bounds, got {d.low:g}, {d.high:g}")
        if not d.overrides or not any("{value}" in o for o in d.overrides):
            raise ConfigError(f"{key}.overrides: needs an override with {{value}} (e.g. levers.remote.readers={{value}})")


def _operations(key: str, spec: Any) -> list[dict]:
    items = spec if isinstance(spec, list) else [spec]
    out = []
    for i, op in enumerate(items):
        where = key if not isinstance(spec, list) else f"{key}[{i}]"
        if not isinstance(op, dict) or not op.get("op"):
            raise ConfigError(f"{where}: a restructuring operation is a mapping with op (e.g. {{op: close, site: t1}})")
        out.append(dict(op))
    return out


def _option(key: str, name: str, spec: Any) -> Option:
    where = f"{key}.options.{name}"
    if spec is None:
        return Option(name, [], [])
    if isinstance(spec, list):
        if not all(isinstance(o, str) for o in spec):
            raise ConfigError(f"{where}: a list of overrides (strings such as levers=expert_weekly)")
        return Option(name, list(spec), [])
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: a list of overrides, or a mapping with overrides and operations")
    extra = set(spec) - {"overrides", "operations", "label_zh", "label_en"}
    if extra:
        raise ConfigError(f"{where}.{sorted(extra)[0]}: unknown key (allowed: overrides, operations, label_zh, label_en)")
    ovr = spec.get("overrides") or []
    if not isinstance(ovr, list) or not all(isinstance(o, str) for o in ovr):
        raise ConfigError(f"{where}.overrides: a list of overrides (strings)")
    ops = _operations(f"{where}.operations", spec["operations"]) if spec.get("operations") else []
    return Option(name, list(ovr), ops, str(spec.get("label_zh") or ""), str(spec.get("label_en") or ""))


def options(name: str, d: Dimension) -> list[Option] | None:
    """The options of a finite dimension (``None`` for a float one)."""
    key = f"search.space.{name}"
    if d.kind == "choice":
        return [_option(key, k, v) for k, v in d.options.items()]
    if d.kind == "subset":
        cands = list(d.candidates)
        out = []
        for size in range(d.min_size, min(d.max_size, len(cands)) + 1):
            for combo in itertools.combinations(cands, size):
                ops = [op for c in combo for op in _operations(f"{key}.candidates.{c}", d.candidates[c])]
                label = "+".join(combo) if combo else "none"
                out.append(Option(label, [], ops))
        return out
    if d.kind == "int":
        step = int(d.step) or 1
        return [Option(str(v), [o.replace("{value}", str(v)) for o in d.overrides], [])
                for v in range(int(d.low), int(d.high) + 1, step)]
    if d.step:
        n = int(round((d.high - d.low) / d.step))
        return [Option(f"{d.low + i * d.step:g}", [o.replace("{value}", f"{d.low + i * d.step:g}") for o in d.overrides],
                       []) for i in range(n + 1)]
    return None
