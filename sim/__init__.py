"""Tiered-care patient-flow simulator (分级诊疗 / 县域医共体).

A SimPy model of villages, township health centres and county lead hospitals joined by a
networkx referral graph.  This module is the public API for scripts and notebooks; every
name in ``__all__`` is documented and stable.  It only re-exports: the functions live in
:mod:`sim.api` and the modules that own the work.

Scenarios and studies
---------------------
compose            a validated :class:`Config` from ``scenarios/`` and Hydra overrides
run                every replication of one scenario -> :class:`RunResult`
run_study          a baseline and alternatives with common random numbers -> :class:`StudyResult`
define_study       a study (:class:`StudyConfig`) written in code rather than YAML
load_run           a saved run folder -> :class:`RunResult` (no model needed)
load_study         a saved study folder -> :class:`StudyResult` (no model needed)
write_run          write a :class:`RunResult` to a run folder

Tables -> numbers
-----------------
kpis               recompute the KPI table of a run from its record tables (new warm-up or prices)
summarise          mean and 95% CI per scenario, KPI and group
paired_differences scenario minus baseline, paired by replication, with 95% CIs
KPI_ZH             Chinese name of every KPI (县域内就诊率, 基层就诊率, 外转率 ...)
KPI_BETTER         the better direction of every KPI: +1 higher, -1 lower, 0 neither
KPI_REGISTRY       every KPI declared once: names, unit, direction, definition, source (docs/kpis.md)

Figures and reports (imported on first use: they pull in plotly)
----------------------------------------------------------------
plots              :mod:`sim.report.plots`: network_map, flow_sankey, scenario_comparison, ...
design             :mod:`sim.experiment.design`: warm-up (MSER-5) and number of replications
write_brief        the HTML policy brief of a run or study folder

Constants
---------
SCENARIOS_DIR      the bundled Hydra config root (``scenarios/``)
__version__        the package version

Calibration targets against a run's values are :func:`calibration.check.check` (the
calibration package builds on this API, not the other way round).

Examples
--------
>>> import sim
>>> cfg = sim.compose(["network=toy", "run=test", "run.horizon_days=3"])
>>> result = sim.run(cfg)
>>> result
RunResult(scenario='baseline', replications=1)
>>> list(result.kpis.columns)
['scenario', 'replication', 'metric', 'group', 'value']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover  (the names below are imported on first use)
    from sim.analysis.kpis import KPI_BETTER, KPI_ZH
    from sim.analysis.registry import REGISTRY as KPI_REGISTRY
    from sim.api import (
        define_study,
        kpis,
        load_run,
        load_study,
        paired_differences,
        run,
        run_study,
        summarise,
        write_brief,
        write_run,
    )
    from sim.config import Config, ConfigError, StudyConfig
    from sim.config.loading import SCENARIOS_DIR, compose
    from sim.experiment.study import StudyResult
    from sim.records.result import RunResult

__all__ = [
    # scenarios and studies
    "compose", "run", "run_study", "define_study", "load_run", "load_study", "write_run",
    # result objects and configs
    "RunResult", "StudyResult", "Config", "StudyConfig", "ConfigError",
    # tables -> numbers
    "kpis", "summarise", "paired_differences", "KPI_ZH", "KPI_BETTER",
    "KPI_REGISTRY",
    # figures and reports (lazy)
    "plots", "design", "write_brief",
    # constants
    "SCENARIOS_DIR", "__version__",
]

__version__ = "0.1.0"


#: Every public name and the module that defines it.  Nothing is imported with the package
#: itself: ``import sim.analysis`` (reading saved outputs) never loads the engine, and
#: ``import sim`` stays fast; a name is imported on first use and then cached.
_LAZY_NAMES = {
    **{name: ("sim.api", name) for name in ("define_study", "kpis", "load_run", "load_study", "paired_differences",
                                            "run", "run_study", "summarise", "write_brief", "write_run")},
    "compose": ("sim.config.loading", "compose"),
    "SCENARIOS_DIR": ("sim.config.loading", "SCENARIOS_DIR"),
    "Config": ("sim.config", "Config"),
    "ConfigError": ("sim.config", "ConfigError"),
    "StudyConfig": ("sim.config", "StudyConfig"),
    "RunResult": ("sim.records.result", "RunResult"),
    "StudyResult": ("sim.experiment.study", "StudyResult"),
    "KPI_ZH": ("sim.analysis.kpis", "KPI_ZH"),
    "KPI_BETTER": ("sim.analysis.kpis", "KPI_BETTER"),
    "KPI_REGISTRY": ("sim.analysis.registry", "REGISTRY"),
}
#: the figure and design modules, under their short names (plotly is heavy).
_LAZY_MODULES = {"plots": "sim.report.plots", "design": "sim.experiment.design"}


def __getattr__(name: str) -> Any:
    """Import a public name (or the ``plots`` / ``design`` module) on first use."""
    if name in _LAZY_MODULES:
        mod = importlib.import_module(_LAZY_MODULES[name])
        globals()[name] = mod
        return mod
    if name in _LAZY_NAMES:
        modname, attr = _LAZY_NAMES[name]
        obj = getattr(importlib.import_module(modname), attr)
        globals()[name] = obj
        return obj
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_LAZY_MODULES))
