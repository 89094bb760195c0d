"""Tiered-care patient-flow simulator (分级诊疗 / 县域医共体).

A SimPy model of villages, township health centres and county lead hospitals joined by a
networkx referral graph.  Public API::

    import sim
    cfg = sim.compose(["network=xianghe", "run.replications=4"])
    result = sim.run(cfg)          # RunResult with tidy DataFrames
    result.summary                 # mean and 95% CI per KPI
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from sim.config import Config, ConfigError, to_config
from sim.experiment import RunResult
from sim.experiment import run as _run
from sim.io import load_run, write_run
from sim.metrics import KPI_ZH, paired_differences, summarise

__all__ = ["compose", "run", "load_run", "write_run", "RunResult", "Config", "ConfigError",
           "summarise", "paired_differences", "KPI_ZH", "SCENARIOS_DIR", "__version__"]

__version__ = "0.1.0"

#: The Hydra config root bundled with the project.
SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "scenarios"


def compose(overrides: Sequence[str] = (), config_dir: str | Path | None = None,
            config_name: str = "config") -> Config:
    """Compose a scenario from ``scenarios/`` with Hydra overrides and validate it.

    Safe to call repeatedly (e.g. in a notebook): Hydra's global state is set up and torn
    down on every call.  Raises :class:`ConfigError` with one clear line on a bad override,
    an unknown key, a wrong type or a semantic error.

    >>> cfg = compose(["network=toy", "run=test", "run.horizon_days=3"])
    >>> cfg.network.name, cfg.run.horizon_days
    ('toy', 3.0)
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from sim.config import register_configs

    register_configs()
    root = Path(config_dir) if config_dir is not None else SCENARIOS_DIR
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(root.resolve()), version_base=None):
            node = hydra_compose(config_name=config_name, overrides=list(overrides))
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(_hydra_message(exc)) from None
    return to_config(node)


def _hydra_message(exc: BaseException) -> str:
    msgs = []
    e: BaseException | None = exc
    while e is not None:
        text = str(e).strip().splitlines()
        if text:
            msgs.append(text[0])
        e = e.__cause__ or e.__context__
        if len(msgs) > 3:
            break
    # the innermost message names the key; keep the outermost for context
    return msgs[-1] if len(msgs) > 1 and "Key" in msgs[-1] else (msgs[0] if msgs else type(exc).__name__)


def run(cfg: Config, jobs: int | None = None, progress: bool = False, output: str | Path | None = None) -> RunResult:
    """Run every replication of a scenario; optionally write the run folder to ``output``."""
    cfg = to_config(cfg)
    result = _run(cfg, jobs=jobs, progress=progress)
    if output is not None:
        write_run(result, output)
    return result
