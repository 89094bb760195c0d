"""From an optimiser's trial to a scenario: the lever choices as a list of Hydra overrides.

A trial's parameters are one value per dimension of the space (an option name for a choice or
a subset, a number for an int or float dimension).  :func:`candidate` turns them into the
overrides of one scenario; the restructuring operations of every dimension (closures from a
candidate list, doctors moved down) are concatenated after the base scenario's own into one
``restructure.operations=[...]`` override.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.search.config import Option, SearchConfig, options

__all__ = ["Candidate", "suggest", "candidate", "space_size", "hydra_value", "all_params"]


@dataclass
class Candidate:
    """One point of the space: its parameters, its overrides, and what a planner calls it."""

    params: dict[str, Any]
    overrides: list[str]
    label_en: str
    label_zh: str


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def hydra_value(v: Any) -> str:
    """A value in Hydra's override grammar.

    >>> hydra_value([{"op": "close", "site": "t1"}])
    '[{op: close, site: t1}]'
    >>> hydra_value({"to": ["a b", 2], "keep_share": 0.5, "x": True})
    "{to: ['a b', 2], keep_share: 0.5, x: true}"
    """
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if v is None:
        return "null"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{k}: {hydra_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(hydra_value(x) for x in v) + "]"
    s = str(v)
    if _PLAIN.match(s) and s not in ("true", "false", "null"):
        return s
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _options(search: SearchConfig) -> dict[str, list[Option] | None]:
    return {name: options(name, d) for name, d in search.space.items()}


def space_size(search: SearchConfig) -> float:
    """The number of distinct candidates (``inf`` with a continuous dimension).

    >>> from sim.search.config import load_search
    >>> space_size(load_search("toy_closures"))
    4
    """
    n = 1
    for opts in _options(search).values():
        if opts is None:
            return math.inf
        n *= len(opts)
    return n


def all_params(search: SearchConfig) -> list[dict[str, Any]] | None:
    """Every point of a finite space (``None`` when a dimension is continuous)."""
    import itertools

    opts = _options(search)
    if any(o is None for o in opts.values()):
        return None
    names = list(opts)
    values = [[_param_value(search, n, o) for o in opts[n] or []] for n in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def _param_value(search: SearchConfig, name: str, opt: Option) -> Any:
    d = search.space[name]
    if d.kind == "int":
        return int(opt.name)
    if d.kind == "float":
        return float(opt.name)
    return opt.name


def suggest(trial: Any, search: SearchConfig) -> dict[str, Any]:
    """Ask an Optuna trial for one value per dimension."""
    out: dict[str, Any] = {}
    for name, d in search.space.items():
        if d.kind in ("choice", "subset"):
            out[name] = trial.suggest_categorical(name, [o.name for o in options(name, d) or []])
        elif d.kind == "int":
            out[name] = trial.suggest_int(name, int(d.low), int(d.high), step=int(d.step) or 1, log=d.log)
        else:
            out[name] = trial.suggest_float(name, d.low, d.high, step=d.step or None, log=d.log)
    return out


def _value_text(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def candidate(search: SearchConfig, params: Mapping[str, Any], base_operations: Sequence[Any] = ()) -> Candidate:
    """The scenario of a point: its overrides and its labels.

    ``base_operations`` are the base scenario's restructuring operations (dataclasses or
    mappings): the candidate's operations come after them.
    """
    overrides: list[str] = []
    ops: list[dict] = []
    en, zh = [], []
    for name, d in search.space.items():
        v = params[name]
        dim_en = d.label_en or name
        dim_zh = d.label_zh or d.label_en or name
        if d.kind == "subset":
            picked = [] if v == "none" else str(v).split("+")
            names_en, names_zh = [], []
            for c in picked:
                if c not in d.candidates:
                    raise KeyError(f"search.space.{name}: no candidate {c!r}")
                spec = d.candidates[c]
                items = [dict(o) for o in (spec if isinstance(spec, list) else [spec])]
                labels = {k: x for o in items for k, x in o.items() if k in ("label_en", "label_zh")}
                ops += [{k: x for k, x in o.items() if k not in ("label_en", "label_zh")} for o in items]
                names_en.append(str(labels.get("label_en") or c))
                names_zh.append(str(labels.get("label_zh") or labels.get("label_en") or c))
            en.append(f"{dim_en}: {' + '.join(names_en) if picked else 'none'}")
            zh.append(f"{dim_zh}:{'、'.join(names_zh) if picked else '无'}")
        elif d.kind == "choice":
            opt = next((o for o in options(name, d) or [] if o.name == v), None)
            if opt is None:
                raise KeyError(f"search.space.{name}: no option {v!r}")
            overrides += opt.overrides
            ops += opt.operations
            en.append(f"{dim_en}: {opt.label_en or opt.name}")
            zh.append(f"{dim_zh}:{opt.label_zh or opt.label_en or opt.name}")
        else:
            text = _value_text(int(v) if d.kind == "int" else float(v))
            overrides += [o.replace("{value}", text) for o in d.overrides]
            en.append(f"{dim_en}: {text}")
            zh.append(f"{dim_zh}:{text}")
    if ops:
        base = [_op_dict(o) for o in base_operations]
        overrides.append(f"restructure.operations={hydra_value(base + ops)}")
    return Candidate(dict(params), overrides, "; ".join(en), ";".join(zh))


def _op_dict(op: Any) -> dict:
    """An operation as the mapping a config file would hold (defaults left out)."""
    if isinstance(op, Mapping):
        return dict(op)
    d = dataclasses.asdict(op)
    defaults = dataclasses.asdict(type(op)())
    return {k: v for k, v in d.items() if k == "op" or v != defaults[k]}
