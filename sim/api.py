"""The public functions for scripts and notebooks, re-exported by :mod:`sim`.

Each is a thin, documented entry point: it composes a config from overrides where one is
given, then hands over to the module that owns the work (:mod:`sim.experiment`,
:mod:`sim.analysis`, :mod:`sim.report`).  Nothing inside :mod:`sim` imports this module: it is
the top of the import graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sim.analysis.io import load_run as _load_run
from sim.analysis.io import write_run as _write_run
from sim.analysis.kpis import paired_differences as _paired_differences
from sim.analysis.kpis import recompute
from sim.analysis.kpis import summarise as _summarise
from sim.config import Config, StudyConfig, to_config
from sim.config.loading import compose
from sim.config.schema import Prices
from sim.experiment.runner import run as _run
from sim.experiment.runner import run_to_folder as _run_to_folder
from sim.records.result import RunResult

if TYPE_CHECKING:  # pragma: no cover
    from sim.experiment.study import StudyResult

__all__ = ["run", "write_run", "load_run", "define_study", "run_study", "load_study", "kpis", "summarise",
           "paired_differences", "write_brief"]


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
        Write the run folder there (see :func:`write_run`), as ``python -m sim`` does: each
        replication's tables are written where it ran and the folder is assembled from them, so
        that memory does not grow with the replications; the result's per-patient tables and
        occupancy are then read from the folder on first access.

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
    if output is not None:
        return _run_to_folder(cfg, output, jobs=jobs, progress=progress)
    return _run(cfg, jobs=jobs, progress=progress)


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
                 base_overrides: Sequence[str] = (), description: str = "",
                 labels: Mapping[str, Mapping[str, str]] | None = None) -> StudyConfig:
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
    labels : mapping, optional
        Scenario names for the brief per language: ``{"zh": {"expert": "专家下沉"}, "en": {...}}``
        (``label_zh`` / ``label_en`` of a study file).

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
    from sim.experiment.study import _validate_study

    scen = {str(k): [str(o) for o in v] for k, v in scenarios.items()}
    study = StudyConfig(name=name, description=description,
                        baseline=baseline if baseline is not None else next(iter(scen), ""),
                        base_overrides=[str(o) for o in base_overrides], scenarios=scen,
                        label_zh={str(k): str(v) for k, v in (labels or {}).get("zh", {}).items()},
                        label_en={str(k): str(v) for k, v in (labels or {}).get("en", {}).items()})
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
    from sim.experiment.study import run_study as _run_study

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
    from sim.experiment.study import load_study_result

    return load_study_result(folder)


# --------------------------------------------------------------------------- tables -> numbers


def kpis(result: RunResult, warmup_days: float | None = None, prices: Prices | None = None) -> pd.DataFrame:
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
    return recompute(result, warmup_days, prices)


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


def write_brief(folder: str | Path, language: str | Sequence[str] | None = None,
                export: str | Sequence[str] | None = None) -> Path:
    """Write the HTML policy brief of a run or study folder.

    Parameters
    ----------
    folder : str or Path
        A run folder (:func:`write_run`) or a study folder (:func:`run_study`).
    language : {"en", "zh"} or list, optional
        ``brief.html`` (English), ``brief.zh.html`` (Chinese); default both.
    export : str or list, optional
        Also write ``"pdf"`` (``brief.pdf``, ``brief.zh.pdf``: Chromium's print, CJK fonts
        embedded) and/or ``"png"``, ``"svg"`` (each figure under ``figures/``, kaleido on the
        system Chromium): one name, a comma list or a list; ``"auto"`` every one this machine can
        write; ``"none"`` nothing; default: the environment variable ``SIM_BRIEF_EXPORT``, else
        nothing.

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
    from sim.report.brief import write_brief as _write_brief

    return _write_brief(folder, language=language, export=export)
