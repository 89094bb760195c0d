"""From a composed OmegaConf node to plain, validated :class:`~sim.config.schema.Config`
dataclasses, with errors that name the full key (list elements and shape mismatches included).
"""

from __future__ import annotations

from typing import Any, cast

from sim.config.checks import _type_hints, _unwrap_optional
from sim.config.errors import ConfigError, _omegaconf_message
from sim.config.schema import Config
from sim.config.semantics import validate

__all__ = ["to_config"]


def to_config(cfg: Any) -> Config:
    """Turn a composed OmegaConf node (or a :class:`Config`) into plain dataclasses and validate.

    Plain dataclasses are much faster to read than OmegaConf nodes on the model's hot path.
    Junk nested more deeply than Python's recursion limit is a :class:`ConfigError` too, from
    wherever OmegaConf or the checks meet it.
    """
    try:
        return _to_config(cfg)
    except RecursionError:
        raise ConfigError(f"{_deep_key(cfg)}: nested far more deeply than any key of the schema") from None


def _to_config(cfg: Any) -> Config:
    """:func:`to_config` without the recursion guard."""
    if isinstance(cfg, Config):
        out = cfg
    else:
        from omegaconf import OmegaConf

        try:
            if not OmegaConf.is_config(cfg):
                cfg = OmegaConf.merge(OmegaConf.structured(Config), cfg)
            elif OmegaConf.get_type(cfg) is not Config:
                cfg = OmegaConf.merge(OmegaConf.structured(Config), cfg)
            out = cast(Config, OmegaConf.to_object(cfg))  # merged onto the Config schema above
        except ConfigError:
            raise
        except RecursionError:
            raise ConfigError(f"{_deep_key(cfg)}: nested far more deeply than any key of the schema") from None
        except Exception as exc:  # omegaconf errors carry the key in their message
            msg = _omegaconf_message(exc)
            leaf, _, rest = msg.partition(": ")
            if rest and "." not in leaf and "[" not in leaf and leaf not in _type_hints(Config):
                # OmegaConf names a key inside a list element by its leaf only
                found = _locate_leaf(Config, _plain(cfg), "", leaf)
                if found:
                    msg = f"{found.rstrip('?')}: {rest}"
            if not getattr(exc, "full_key", None) and ":" not in msg.split(" ", 1)[0]:
                where = _shape_mismatch(Config, _plain(cfg), "")
                if where:
                    msg = f"{where[0]}: {where[1]} ({msg})"
            raise ConfigError(msg) from None
    _reject_unknown_keys(out, "")
    validate(out)
    return out


def _plain(node: Any) -> Any:
    from omegaconf import OmegaConf

    try:
        return OmegaConf.to_container(node) if OmegaConf.is_config(node) else node
    except Exception:
        return None


def _locate_leaf(hint: Any, value: Any, path: str, leaf: str, in_list: bool = False) -> str | None:
    """The full key of field ``leaf`` inside a list element of the schema whose value does not
    have the declared kind (else the first such field)."""
    import dataclasses
    import typing

    hint, _ = _unwrap_optional(hint)
    origin = typing.get_origin(hint)
    first: str | None = None
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        hints = _type_hints(hint)  # type: ignore[arg-type]
        if in_list and leaf in value and leaf in hints:
            want = hints[leaf]
            v = value[leaf]
            kinds = {int: (int,), float: (int, float), str: (str,), bool: (bool,)}.get(want)
            if kinds is not None and (not isinstance(v, kinds) or (want is not bool and isinstance(v, bool))):
                return f"{path}.{leaf}"
            first = f"{path}.{leaf}"
        for k, v in value.items():
            if k in hints:
                found = _locate_leaf(hints[k], v, f"{path}.{k}" if path else str(k), leaf, False)
                if found and not found.endswith("?"):
                    return found
                first = first or (found[:-1] if found else None)
    elif origin is list and isinstance(value, list):
        (item,) = typing.get_args(hint)
        for i, v in enumerate(value):
            found = _locate_leaf(item, v, f"{path}[{i}]", leaf, True)
            if found and not found.endswith("?"):
                return found
            first = first or (found[:-1] if found else None)
    elif origin is dict and isinstance(value, dict):
        _, item = typing.get_args(hint)
        for k, v in value.items():
            found = _locate_leaf(item, v, f"{path}.{k}", leaf, False)
            if found and not found.endswith("?"):
                return found
            first = first or (found[:-1] if found else None)
    return f"{first}?" if first else None


def _shape_mismatch(hint: Any, value: Any, path: str) -> tuple[str, str] | None:
    """The first key where a mapping stands for a list or a list for a mapping (OmegaConf's
    merge names no key for that), with what was expected."""
    import dataclasses
    import typing

    hint, optional = _unwrap_optional(hint)
    if optional and value is None:
        return None
    origin = typing.get_origin(hint)
    key = path or "config"
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            return (key, f"must be a mapping of {cast(type, hint).__name__} keys, got {type(value).__name__}")
        hints = _type_hints(hint)  # type: ignore[arg-type]
        for k, v in value.items():
            if k in hints:
                found = _shape_mismatch(hints[k], v, f"{path}.{k}" if path else str(k))
                if found:
                    return found
        return None
    if origin is list:
        if not isinstance(value, list):
            return (key, f"must be a list, got {type(value).__name__}")
        (item,) = typing.get_args(hint)
        for i, v in enumerate(value):
            found = _shape_mismatch(item, v, f"{key}[{i}]")
            if found:
                return found
        return None
    if origin is dict:
        if not isinstance(value, dict):
            return (key, f"must be a mapping, got {type(value).__name__}")
        _, item = typing.get_args(hint)
        for k, v in value.items():
            found = _shape_mismatch(item, v, f"{key}.{k}")
            if found:
                return found
        return None
    if isinstance(value, (dict, list)):
        return (key, f"must be a single value, got a {'mapping' if isinstance(value, dict) else 'list'}")
    return None


def _deep_key(node: Any, limit: int = 8) -> str:
    """The first key path of ``node`` that goes deeper than ``limit`` levels (iteratively: the
    node may be too deep for recursion), shortened."""
    from omegaconf import DictConfig, ListConfig

    stack: list[tuple[Any, list[str]]] = [(node, [])]
    while stack:
        cur, path = stack.pop()
        if len(path) > limit:
            return ".".join(path[:limit]) + "..."
        try:
            if isinstance(cur, (dict, DictConfig)):
                items = [(str(k), cur._get_node(k) if isinstance(cur, DictConfig) else cur[k]) for k in cur.keys()]
            elif isinstance(cur, (list, ListConfig)):
                items = [(f"[{i}]", cur._get_node(i) if isinstance(cur, ListConfig) else v) for i, v in enumerate(cur)]
            else:
                continue
        except Exception:
            continue
        for k, v in items:
            stack.append((v, [*path, k]))
    return "config"


def _reject_unknown_keys(obj: Any, path: str) -> None:
    """A key added outside the schema (e.g. a ``+network.facilities.t1.bedz=3`` override, which
    Hydra force-adds to a typed node) ends up as a stray attribute: refuse it by name."""
    import dataclasses

    if dataclasses.is_dataclass(obj):
        names = {f.name for f in dataclasses.fields(obj)}
        for k in vars(obj):
            if k not in names:
                raise ConfigError(f"{path}{k}: unknown key (not in the schema of {type(obj).__name__})")
        for name in names:
            _reject_unknown_keys(getattr(obj, name), f"{path}{name}.")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _reject_unknown_keys(v, f"{path}{k}.")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            if dataclasses.is_dataclass(v):
                _reject_unknown_keys(v, f"{path[:-1]}[{i}].")
