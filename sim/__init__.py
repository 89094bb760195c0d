"""Tiered-care patient-flow simulator (分级诊疗 / 县域医共体).

A SimPy model of villages, township health centres and county lead hospitals joined by a
networkx referral graph.  This module is the public API for scripts and notebooks; every
name in ``__all__`` is documented and stable.

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
calibration_check  calibration targets (``calibration/targets.yaml``) against a run's values
KPI_ZH             Chinese name of every KPI (县域内就诊率, 基层就诊率, 外转率 ...)
KPI_BETTER         the better direction of every KPI: +1 higher, -1 lower, 0 neither
KPI_REGISTRY       every KPI declared once: names, unit, direction, definition, source (docs/kpis.md)

Figures and reports (imported on first use: they pull in plotly)
----------------------------------------------------------------
plots              :mod:`sim.plots`: network_map, flow_sankey, scenario_comparison, ...
design             :mod:`sim.design`: warm-up (MSER-5) and number of replications
write_brief        the HTML policy brief of a run or study folder

Constants
---------
SCENARIOS_DIR      the bundled Hydra config root (``scenarios/``)
__version__        the package version

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
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.config import Config, ConfigError, StudyConfig, to_config
from sim.experiment import RunResult
from sim.experiment import run as _run
from sim.io import load_run as _load_run
from sim.io import write_run as _write_run
from sim.kpi_registry import REGISTRY as KPI_REGISTRY
from sim.metrics import KPI_BETTER, KPI_ZH
from sim.metrics import paired_differences as _paired_differences
from sim.metrics import summarise as _summarise

if TYPE_CHECKING:  # pragma: no cover
    from sim.study import StudyResult

__all__ = [
    # scenarios and studies
    "compose", "run", "run_study", "define_study", "load_run", "load_study", "write_run",
    # result objects and configs
    "RunResult", "StudyResult", "Config", "StudyConfig", "ConfigError",
    # tables -> numbers
    "kpis", "summarise", "paired_differences", "calibration_check", "KPI_ZH", "KPI_BETTER",
    "KPI_REGISTRY",
    # figures and reports (lazy)
    "plots", "design", "write_brief",
    # constants
    "SCENARIOS_DIR", "__version__",
]

__version__ = "0.1.0"

#: The Hydra config root bundled with the project.
SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "scenarios"

#: submodules and names imported on first attribute access (plotly is heavy).
_LAZY_MODULES = {"plots": "sim.plots", "design": "sim.design", "brief": "sim.brief", "study": "sim.study",
                 "metrics": "sim.metrics", "restructure": "sim.restructure", "levers": "sim.levers"}
_LAZY_NAMES = {"StudyResult": ("sim.study", "StudyResult")}


def __getattr__(name: str) -> Any:
    """Import the figure modules (``sim.plots``, ``sim.design``, ...) on first use."""
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


# --------------------------------------------------------------------------- scenarios


def compose(overrides: Sequence[str] = (), config_dir: str | Path | None = None,
            config_name: str = "config") -> Config:
    """Compose a scenario from ``scenarios/`` with Hydra overrides, and validate it.

    Safe to call repeatedly in one process (e.g. a notebook kernel): Hydra's global state is
    set up and torn down on every call.

    Parameters
    ----------
    overrides : sequence of str
        Hydra overrides, exactly as on the command line: config groups (``network=taobei``,
        ``levers=expert_weekly``, ``restructure=taobei_close_two_smallest``, ``care=calibrated``,
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
            node = hydra_compose(config_name=config_name, overrides=[str(o) for o in overrides])
    except ConfigError:
        raise
    except RecursionError:
        raise ConfigError("overrides: a value is nested far more deeply than any key of the schema") from None
    except Exception as exc:
        raise ConfigError(_hydra_message(exc, overrides)) from None
    return to_config(node)


def _missing_option(text: str, overrides: Sequence[str]) -> str | None:
    """Hydra's "Could not find 'network/nosuch'" with its list of options, as one line."""
    import re

    m = re.search(r"Could not find '([^']+)/([^'/]+)'", text)
    if not m:
        return None
    group, option = m.group(1), m.group(2)
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


def _hydra_message(exc: BaseException, overrides: Sequence[str] = ()) -> str:
    from sim.config import _omegaconf_message, yaml_error_message

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


def _as_config(cfg: Config | Sequence[str]) -> Config:
    if isinstance(cfg, (list, tuple)):
        return compose(cfg)
    return to_config(cfg)


def run(cfg: Config | Sequence[str], jobs: int | None = None, progress: bool = False,
        output: str | Path | None = None) -> RunResult:
    """Run every replication of one scenario.

    Replication ``r`` uses the named random streams of ``(run.seed, r)`` (:mod:`sim.rng`), so
    the same config gives the same tables in any process and with any number of workers.

    Parameters
    ----------
    cfg : Config or sequence of str
        A config from :func:`compose`, or overrides to compose one from.
    jobs : int, optional
        Worker processes (default ``run.jobs``; 0 there means all cores).  Replications run on
        the configured executor (``executor=local`` or ``executor=dask``).
    progress : bool
        Show a progress bar over replications (``tqdm.auto``: a widget in Jupyter).
    output : str or Path, optional
        Also write the run folder there (see :func:`write_run`).

    Returns
    -------
    RunResult
        Tidy pandas tables: ``kpis`` (scenario, replication, metric, group, value),
        ``summary`` (mean and 95% CI), ``occupancy``, ``sites``, ``villages``, ``conditions``
        and, with ``run.keep_patients`` (the default), the per-patient ``patients``,
        ``visits``, ``admissions`` and ``emergency`` tables.

    Raises
    ------
    RuntimeError
        Naming the replications that raised, if any did.

    Examples
    --------
    >>> result = run(["network=toy", "run=test", "run.horizon_days=3"])
    >>> bool(result.kpi("county_retention").between(0, 1).all())
    True
    >>> sorted(result.summary.columns)
    ['ci_high', 'ci_low', 'group', 'mean', 'metric', 'n', 'scenario', 'sd']
    """
    cfg = _as_config(cfg)
    result = _run(cfg, jobs=jobs, progress=progress)
    if output is not None:
        _write_run(result, output)
    return result


def write_run(result: RunResult, folder: str | Path) -> Path:
    """Write every table of a run to a run folder (created if needed).

    The folder holds ``config.yaml`` (the resolved scenario), ``kpis.parquet``,
    ``summary.csv``, ``occupancy.parquet``, ``sites/villages/conditions.parquet``, the
    per-patient tables when kept, and ``meta.json`` (versions, seed, config hash, wall time).

    Parameters
    ----------
    result : RunResult
    folder : str or Path

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> import tempfile
    >>> result = run(["network=toy", "run=test", "run.horizon_days=3"])
    >>> folder = write_run(result, tempfile.mkdtemp())
    >>> (folder / "kpis.parquet").exists()
    True
    """
    return _write_run(result, folder)


def load_run(folder: str | Path) -> RunResult:
    """Load a run folder back into a :class:`RunResult` (no model is run).

    Works on the folders of :func:`run` (``output=``), of ``python -m sim`` and on each
    scenario of a study (``<study folder>/runs/<scenario>``).

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    RunResult

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> result = run(["network=toy", "run=test", "run.horizon_days=3"], output=folder)
    >>> loaded = load_run(folder)
    >>> loaded.kpis.equals(result.kpis), loaded.config.network.name
    (True, 'toy')
    """
    return _load_run(folder)


# --------------------------------------------------------------------------- studies


def define_study(name: str, scenarios: Mapping[str, Sequence[str]], baseline: str | None = None,
                 base_overrides: Sequence[str] = (), description: str = "") -> StudyConfig:
    """A study written in code: a baseline and alternatives, each a list of Hydra overrides.

    The same thing as a ``scenarios/study/<name>.yaml`` file.

    Parameters
    ----------
    name : str
        The study's name (its default folder is ``outputs/studies/<name>``).
    scenarios : mapping of str to list of str
        Scenario name -> its overrides (``[]`` for the baseline as configured).
    baseline : str, optional
        The scenario the others are compared with (default: the first).
    base_overrides : sequence of str
        Overrides applied to every scenario before its own (e.g. ``["network=taobei"]``).
    description : str

    Returns
    -------
    StudyConfig

    Raises
    ------
    ConfigError
        If there are no scenarios or the baseline is not one of them.

    Examples
    --------
    >>> study = define_study("levers", {"baseline": [], "expert": ["levers=expert_weekly"]},
    ...                      base_overrides=["network=toy"])
    >>> study.baseline, list(study.scenarios)
    ('baseline', ['baseline', 'expert'])
    """
    from sim.study import _validate_study

    scen = {str(k): [str(o) for o in v] for k, v in scenarios.items()}
    study = StudyConfig(name=name, description=description,
                        baseline=baseline if baseline is not None else next(iter(scen), ""),
                        base_overrides=[str(o) for o in base_overrides], scenarios=scen)
    _validate_study(study)
    return study


def run_study(study: StudyConfig | str, overrides: Sequence[str] = (), folder: str | Path | None = None,
              jobs: int | None = None, progress: bool = True, brief: bool = True) -> StudyResult:
    """Run (or resume) a study: every scenario x replication, with common random numbers.

    Replication ``r`` of every scenario sees the same arriving patients, so
    :attr:`StudyResult.differences` are paired by replication.  Each finished replication is
    written at once; running the same study into the same folder again skips what is done.

    Parameters
    ----------
    study : StudyConfig or str
        A study from :func:`define_study`, the name of ``scenarios/study/<name>.yaml``
        (``"demo"``, ``"downsizing"``, ``"expert_frequency"``, ``"remote_diagnosis"``) or a path.
    overrides : sequence of str
        Applied to every scenario after its own (e.g. ``["run.replications=8"]``).
    folder : str or Path, optional
        The study folder (default ``<run.output_dir>/studies/<name>``).
    jobs : int, optional
        Worker processes (default ``run.jobs``, 0 = all cores).
    progress : bool
        A progress bar over replications (``tqdm.auto``).
    brief : bool
        Also write the HTML policy brief (``brief.html``, ``brief.zh.html``) into the folder.

    Returns
    -------
    StudyResult
        ``runs`` (one :class:`RunResult` per scenario), ``kpis``, ``summary``,
        ``differences`` (paired, with the unpaired CI half-width for comparison), ``failures``.

    Examples
    --------
    >>> import tempfile
    >>> study = define_study("doc", {"baseline": [], "bigger_t1": ["network.facilities.t1.doctors.general=6"]},
    ...                      base_overrides=["network=toy", "run=test", "run.horizon_days=3",
    ...                                      "run.replications=2"])
    >>> res = run_study(study, folder=tempfile.mkdtemp(), progress=False, brief=False)
    >>> sorted(res.runs), res.baseline
    (['baseline', 'bigger_t1'], 'baseline')
    >>> res.differences["scenario"].unique().tolist()
    ['bigger_t1']
    """
    from sim.study import run_study as _run_study

    return _run_study(study, overrides, folder=folder, jobs=jobs, progress=progress, brief=brief)


def load_study(folder: str | Path) -> StudyResult:
    """Load a study folder back into a :class:`StudyResult` (no model is run).

    Parameters
    ----------
    folder : str or Path
        A folder written by :func:`run_study` or ``python -m sim study=<name>``.

    Returns
    -------
    StudyResult

    Examples
    --------
    >>> import tempfile
    >>> study = define_study("doc", {"baseline": [], "remote": ["levers=remote_full"]},
    ...                      base_overrides=["network=toy", "run=test", "run.horizon_days=3"])
    >>> res = run_study(study, folder=tempfile.mkdtemp(), progress=False, brief=False)
    >>> back = load_study(res.folder)
    >>> back.kpis.equals(res.kpis), sorted(back.runs)
    (True, ['baseline', 'remote'])
    """
    from sim.study import load_study_result

    return load_study_result(folder)


# --------------------------------------------------------------------------- tables -> numbers


def kpis(result: RunResult, warmup_days: float | None = None, prices: Any = None) -> pd.DataFrame:
    """Recompute a run's KPI table from its record tables (no re-run).

    Use it to change the warm-up cut, or to re-price the same patient journeys under other
    prices and reimbursement rates.

    Parameters
    ----------
    result : RunResult
        A run with its per-patient tables (``run.keep_patients=true``, the default).
    warmup_days : float, optional
        Discard episodes starting before this day (default: the run's ``run.warmup_days``).
    prices : sim.config.Prices, optional
        Prices and reimbursement rates (default: the run's ``care.prices``).

    Returns
    -------
    pandas.DataFrame
        ``scenario, replication, metric, group, value`` (as :attr:`RunResult.kpis`).

    Examples
    --------
    >>> result = run(["network=toy", "run=test", "run.horizon_days=3"])
    >>> again = kpis(result)
    >>> bool((again["value"].fillna(-1).to_numpy() == result.kpis["value"].fillna(-1).to_numpy()).all())
    True
    >>> import dataclasses
    >>> free = dataclasses.replace(result.config.care.prices, reimburse_outpatient=[1.0, 1.0, 1.0, 1.0])
    >>> k = kpis(result, prices=free)
    >>> float(k.query("metric == 'oop_per_visit' and group == 'county'")["value"].iloc[0]) < float(
    ...     result.kpis.query("metric == 'oop_per_visit' and group == 'county'")["value"].iloc[0])
    True
    """
    import numpy as np

    from sim.experiment import TABLES
    from sim.metrics import kpis as compute_kpis

    if result.patients is None:
        raise ValueError("this run kept no per-patient tables (run.keep_patients=false): "
                         "its KPIs cannot be recomputed")
    cfg = result.config
    warm = cfg.run.warmup_days if warmup_days is None else float(warmup_days)
    pr = cfg.care.prices if prices is None else prices
    frames = []
    for r in sorted(result.kpis["replication"].unique()) if len(result.kpis) else sorted(
            result.patients["replication"].unique()):
        tables = {}
        for t in TABLES:
            df = getattr(result, t)
            if df is not None:
                tables[t] = df[df["replication"] == r].reset_index(drop=True)
        occ = result.occupancy[result.occupancy["replication"] == r].reset_index(drop=True)
        k = compute_kpis(tables, occ, result.sites, result.villages, result.conditions, pr, warm,
                         cfg.run.horizon_days, cfg.restructure)
        k.insert(0, "replication", np.int32(r))
        k.insert(0, "scenario", cfg.scenario)
        frames.append(k)
    return pd.concat(frames, ignore_index=True)


def summarise(kpis: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean, standard deviation and t-based confidence interval across replications.

    Parameters
    ----------
    kpis : pandas.DataFrame
        A KPI table (``scenario, replication, metric, group, value``), e.g.
        :attr:`RunResult.kpis` or :attr:`StudyResult.kpis`.
    level : float
        Confidence level (default 0.95).

    Returns
    -------
    pandas.DataFrame
        ``scenario, metric, group, n, mean, sd, ci_low, ci_high``.

    Examples
    --------
    >>> k = pd.DataFrame({"scenario": "a", "replication": [0, 1, 2], "metric": "wait_mean_min",
    ...                   "group": "county", "value": [1.0, 2.0, 3.0]})
    >>> s = summarise(k)
    >>> int(s["n"].iloc[0]), float(s["mean"].iloc[0]), round(float(s["ci_low"].iloc[0]), 3)
    (3, 2.0, -0.484)
    """
    return _summarise(kpis, level)


def paired_differences(kpis: pd.DataFrame, baseline: str, level: float = 0.95) -> pd.DataFrame:
    """Each scenario minus the baseline, paired by replication (common random numbers).

    Parameters
    ----------
    kpis : pandas.DataFrame
        A KPI table holding the baseline and other scenarios.
    baseline : str
        The baseline scenario's name.
    level : float
        Confidence level (default 0.95).

    Returns
    -------
    pandas.DataFrame
        ``scenario, baseline, metric, group, n, mean_diff, ci_low, ci_high,
        paired_half_width, unpaired_half_width`` (the half-width a Welch comparison of the
        same runs would give: the variance reduction of pairing).

    Examples
    --------
    >>> k = pd.DataFrame({"scenario": ["base"] * 3 + ["alt"] * 3, "replication": [0, 1, 2] * 2,
    ...                   "metric": "wait_mean_min", "group": "county",
    ...                   "value": [10.0, 20.0, 30.0, 9.0, 18.0, 29.0]})
    >>> d = paired_differences(k, "base")
    >>> str(d["scenario"].iloc[0]), round(float(d["mean_diff"].iloc[0]), 3)
    ('alt', -1.333)
    >>> bool(d["paired_half_width"].iloc[0] < d["unpaired_half_width"].iloc[0])
    True
    """
    return _paired_differences(kpis, baseline, level)


def calibration_check(result: RunResult, targets: str | Path | None = None) -> pd.DataFrame:
    """Calibration targets against the values a run simulated, with 95% CIs.

    Parameters
    ----------
    result : RunResult
        Typically a run of ``care=calibrated`` on the network that was fitted.  Targets on
        township admissions need the per-patient tables (``run.keep_patients=true``).
    targets : str or Path, optional
        A targets file (default ``calibration/targets.yaml``; the format is described there).

    Returns
    -------
    pandas.DataFrame
        One row per target: ``target, kpi, observed, tolerance, weight, simulated, ci_low,
        ci_high, z`` (``(simulated - observed) / tolerance``), ``loss_contribution``,
        ``within_tolerance`` and ``source``.

    Examples
    --------
    >>> result = run(["network=toy", "run=test", "run.horizon_days=3"])
    >>> table = calibration_check(result)
    >>> "county_retention" in set(table["target"]), bool(table["observed"].notna().all())
    (True, True)
    """
    import numpy as np

    from calibration.fit import loss_of
    from calibration.measures import target_values, tier1_sites
    from calibration.spec import load_targets, resolve_file
    from sim.experiment import TABLES
    from sim.metrics import mean_ci

    tlist = load_targets(resolve_file(targets or "targets.yaml", "targets"))
    cfg = result.config
    sites = tier1_sites(cfg)
    reps = sorted(result.kpis["replication"].unique())
    sims = np.full((len(reps), len(tlist)), math.nan)
    for i, r in enumerate(reps):
        out: dict[str, Any] = {"kpis": result.kpis[result.kpis["replication"] == r], "tables": None}
        if result.admissions is not None:
            out["tables"] = {t: getattr(result, t)[getattr(result, t)["replication"] == r]
                             for t in TABLES if getattr(result, t) is not None}
        sims[i] = target_values(out, cfg, tlist, sites)
    means = [mean_ci(sims[:, j])[0] for j in range(len(tlist))]
    _, parts = loss_of(means, tlist)
    rows = []
    for j, t in enumerate(tlist):
        m, sd, lo, hi = mean_ci(sims[:, j])
        ok = math.isfinite(m)
        rows.append({"target": t.name, "kpi": t.kpi, "observed": t.value, "tolerance": t.tolerance,
                     "weight": t.weight, "simulated": m, "ci_low": lo, "ci_high": hi,
                     "z": (m - t.value) / t.tolerance if ok else math.nan, "loss_contribution": parts[j],
                     "within_tolerance": bool(abs(m - t.value) <= t.tolerance) if ok else False,
                     "source": t.source})
    return pd.DataFrame(rows)


def write_brief(folder: str | Path, language: str | Sequence[str] | None = None,
                export: str | None = None) -> Path:
    """Write the HTML policy brief of a run or study folder.

    Parameters
    ----------
    folder : str or Path
        A run folder (:func:`write_run`) or a study folder (:func:`run_study`).
    language : {"en", "zh"} or list, optional
        ``brief.html`` (English), ``brief.zh.html`` (Chinese); default both.
    export : {"png", "svg"}, optional
        Also write each figure under ``figures/`` (needs kaleido and Chromium).

    Returns
    -------
    Path
        The (first) HTML file.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> result = run(["network=toy", "run=test", "run.horizon_days=3"], output=folder)
    >>> path = write_brief(folder, language="en")
    >>> path.name
    'brief.html'
    """
    from sim.brief import write_brief as _write_brief

    return _write_brief(folder, language=language, export=export)
