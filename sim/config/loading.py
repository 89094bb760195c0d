"""Composing a scenario from ``scenarios/`` with Hydra, and Hydra's errors as one line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.config.convert import to_config
from sim.config.errors import ConfigError, _omegaconf_message, yaml_error_message
from sim.config.schema import Config

__all__ = ["SCENARIOS_DIR", "compose", "hydra_message", "load_tool_config", "register_configs"]

#: The Hydra config root bundled with the project.
SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore (idempotent: once per process, since turning
    the dataclasses into a structured config costs ~0.2 s, a third of a compose)."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    if "schema.yaml" not in cs.repo:
        cs.store(name="schema", node=Config)


def compose(overrides: Sequence[str] = (), config_dir: str | Path | None = None,
            config_name: str = "config") -> Config:
    """Compose a scenario from ``scenarios/`` with Hydra overrides, and validate it.

    Safe to call repeatedly in one process (e.g. a notebook kernel): Hydra's global state is
    set up and torn down on every call.

    Parameters
    ----------
    overrides : sequence of str
        Hydra overrides, exactly as on the command line: config groups (``network=taobei``,
        ``levers=expert_weekly``, ``restructure=taobei_close_two_smallest``, ``care=toy_calibrated``,
        ``run=full``) and keys (``run.replications=8``,
        ``network.facilities.t1.beds=20``).
    config_dir : str or Path, optional
        Another Hydra config root (default :data:`SCENARIOS_DIR`).
    config_name : str
        The primary config file in that root (default ``config``).

    Returns
    -------
    Config
        The typed, validated scenario (dataclasses; the schema is :mod:`sim.config`).

    Raises
    ------
    ConfigError
        With one line naming the key, on a bad override, an unknown key, a wrong type or a
        value the model cannot use.

    Examples
    --------
    >>> cfg = compose(["network=toy", "run=test", "run.horizon_days=3"])
    >>> cfg.network.name, cfg.run.horizon_days
    ('toy', 3.0)
    >>> compose(["network=toy", "network.facilities.t1.beds=-3"])
    Traceback (most recent call last):
    ...
    sim.config.ConfigError: network.facilities.t1.beds: must be >= 0, got -3
    """
    import copy

    root = Path(config_dir) if config_dir is not None else SCENARIOS_DIR
    key = _cache_key(overrides, root, config_name)
    hit = _CACHE.get(key) if key is not None else None
    if hit is None:
        hit = _compose(overrides, root, config_name)
        if key is not None:
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = hit
    return copy.deepcopy(hit)


#: composed configs of this process: (overrides, root, config name, fingerprint of every config
#: file Hydra could read) -> Config.  Hydra and OmegaConf take seconds for a large county (the
#: network file is parsed and merged node by node), and tests, notebooks and studies compose the
#: same scenario again and again; a changed, added or removed YAML file changes the
#: fingerprint, so an edit is always seen.  Only successful compositions are kept.
_CACHE: dict[tuple, Config] = {}
_CACHE_SIZE = 64


def _cache_key(overrides: Sequence[str], root: Path, config_name: str) -> tuple | None:
    import re

    roots = [root]
    for o in overrides:
        if re.match(r"\+?\+?hydra\.searchpath=", str(o)):
            roots += [Path(p.split("://", 1)[-1]) for p in re.findall(r"[a-z]+://[^,\]\s]+", str(o))]
    try:
        stamp = tuple(sorted((str(p), st.st_mtime_ns, st.st_size) for r in roots if r.is_dir()
                             for p in r.rglob("*.yaml") for st in [p.stat()]))
    except OSError:  # a file vanished while we looked: do not cache
        return None
    return tuple(str(o) for o in overrides), str(root.resolve()), config_name, stamp


def _compose(overrides: Sequence[str], root: Path, config_name: str) -> Config:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_configs()
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(root.resolve()), version_base=None):
            node = hydra_compose(config_name=config_name, overrides=[str(o) for o in overrides])
    except ConfigError:
        raise
    except RecursionError:
        raise ConfigError("overrides: a value is nested far more deeply than any key of the schema") from None
    except Exception as exc:
        raise ConfigError(hydra_message(exc, overrides)) from None
    return to_config(node)


def load_tool_config(kind: str, schema: type, name: str | Path, overrides: Sequence[str] = (),
                     config_dir: str | Path | None = None):
    """A tool's own config (``scenarios/<kind>/<name>.yaml``, e.g. a search or a sensitivity
    analysis; or a path), merged onto its dataclass ``schema`` with ``key=value`` overrides, as
    an instance of ``schema`` whose empty ``name`` is the file's stem.  Not a Hydra
    composition: these files are not scenarios.  Any mistake is one :class:`ConfigError` line
    (``<kind>=<name>: ...``, the YAML file and line, or ``<kind>.<key>: ...``)."""
    from omegaconf import OmegaConf

    path = Path(name)
    if not path.suffix:
        folder = Path(config_dir or SCENARIOS_DIR) / kind
        path = folder / f"{name}.yaml"
        if not path.exists():
            avail = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
            raise ConfigError(f"{kind}={name}: no such {kind} config; available: {avail}")
    if not path.exists():
        raise ConfigError(f"{kind}={name}: no such file")
    try:
        node = OmegaConf.merge(OmegaConf.structured(schema), OmegaConf.load(path))
        if overrides:
            node = OmegaConf.merge(node, OmegaConf.from_dotlist(list(overrides)))
        out = OmegaConf.to_object(node)
    except Exception as exc:
        msg = yaml_error_message(exc)
        if not msg:
            text = _omegaconf_message(exc)
            msg = text if text.startswith(kind) else f"{kind}.{text}"
        raise ConfigError(msg) from None
    assert isinstance(out, schema)  # to_object of a structured node builds the dataclass
    if hasattr(out, "name") and not out.name:
        out.name = path.stem
    return out


def _missing_option(text: str, overrides: Sequence[str]) -> str | None:
    """Hydra's "Could not find 'network/nosuch'" with its list of options, as one line."""
    import re

    m = re.search(r"Could not find '([^']+)/([^'/]+)'", text)
    if not m:
        return None
    group, option = m.group(1), m.group(2)
    if group == "care" and option.endswith("_calibrated"):
        # the defaults rule care: ${network}_calibrated found no calibrated care file for this network
        net = option[: -len("_calibrated")]
        return (f"care={option}: network={net} has no calibrated care file (scenarios/care/{option}.yaml); "
                f"calibrate it with `python -m calibration network={net}`, or run it uncalibrated with care=default")
    options: list[str] = []
    lines = text.splitlines()
    for i, ln in enumerate(lines):
        if ln.startswith("Available options in"):
            for opt in lines[i + 1:]:
                if not opt.startswith("\t") or "provider=" in opt:
                    break
                options.append(opt.strip())
    if not options:
        folder = SCENARIOS_DIR / group
        options = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    avail = f"; available: {', '.join(options)}" if options else ""
    if len(option) > 40:
        option = option[:30] + "..."
    return f"{group}={option}: no such {group} config{avail}"


def _full_key_message(msg: str, overrides: Sequence[str]) -> str:
    """OmegaConf names a key inside a list element only by its leaf (``first_day: ...``): put
    the override's key and the element's index in front (``levers.expert.teams[0].first_day``)."""
    key, _, rest = msg.partition(": ")
    if not rest or "." in key or "[" in key:
        return msg
    try:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        parsed = OverridesParser.create().parse_overrides([str(o) for o in overrides])
    except Exception:
        return msg
    for ov in parsed:
        try:
            value = ov.value()
        except Exception:
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict) and key in item:
                    return f"{ov.key_or_group}[{i}].{key}: {rest}"
        elif isinstance(value, dict) and key in value:
            return f"{ov.key_or_group}.{key}: {rest}"
    return msg


def hydra_message(exc: BaseException, overrides: Sequence[str] = ()) -> str:
    msg = yaml_error_message(exc)
    if msg:
        return msg
    missing = _missing_option(str(exc), overrides)
    if missing:
        return missing
    # an omegaconf error in the chain names the full key: "run.horizon_days: Value 'abc' of
    # type 'str' could not be converted to Float" says both where and what
    e: BaseException | None = exc
    for _ in range(8):
        if e is None:
            break
        if getattr(e, "full_key", None) and str(e).strip():
            return _full_key_message(_omegaconf_message(e), overrides)
        e = e.__cause__ or e.__context__
    msgs = []
    e = exc
    while e is not None:
        text = str(e).strip().splitlines()
        if text:
            msgs.append(text[0])
        e = e.__cause__ or e.__context__
        if len(msgs) > 3:
            break
    # the innermost message names the key; keep the outermost for context
    return msgs[-1] if len(msgs) > 1 and "Key" in msgs[-1] else (msgs[0] if msgs else type(exc).__name__)
