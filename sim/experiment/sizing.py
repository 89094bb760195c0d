"""How big a run will be, estimated before it starts, so that a run that cannot fit in memory
is refused with one clear line instead of being killed by the kernel.

The estimate is the expected number of patient episodes (population x total incidence x
horizon, plus the warm-started queues) times the measured bytes per episode:

- :data:`PEAK_BYTES_PER_EPISODE`: the peak of one replication while it runs and turns its
  records into tables and KPIs and writes them.  Measured by
  ``benchmarks/bench_replication_memory.py`` (``python -m sim network=taobei run=full
  run.replications=1``, the process's peak RSS above the interpreter with the package imported):
  231 B per episode over the county-year (3,285,652 episodes, 723 MiB, measured 2026-12-02; the
  KPI step is the peak at 225 B, the simulation's own 111 B), with or without
  ``run.keep_patients``.  (About 1 KB before the record tables became views of the log, 386 B
  before the week's arrivals were released in slices and the KPIs stopped holding strings and
  hash tables per row, issue #18.)  The estimate keeps 500 B: a shorter run has more per
  episode (fixed costs: 411 B at 90 days before the same changes) and the allocator's
  fragmentation varies; refusing a little early is better than being killed.
- :data:`KEPT_BYTES_PER_EPISODE`: the per-patient tables a finished replication hands back and
  :func:`sim.run` keeps in memory (``run.keep_patients=true``): 116 B per episode, measured
  on Xianghe (14 days) with ``DataFrame.memory_usage(deep=True)``.

Both are rounded up.  Replications that run at once (``run.jobs`` workers) each need the peak.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sim.config import Config, ConfigError

__all__ = ["RunSize", "estimate", "machine_memory_bytes", "check_fits", "PEAK_BYTES_PER_EPISODE",
           "KEPT_BYTES_PER_EPISODE", "BASE_BYTES"]

PEAK_BYTES_PER_EPISODE = 500
KEPT_BYTES_PER_EPISODE = 150
#: the interpreter with numpy, pandas, SimPy, Hydra and the package imported (measured ~200 MB).
BASE_BYTES = 250 * 2**20


@dataclass(frozen=True)
class RunSize:
    """Expected episodes per replication and the peak memory of a run, in bytes."""

    episodes_per_replication: float
    peak_bytes: float
    driver: str  #: the config key that contributes most to the size


def expected_episodes(cfg: Config) -> float:
    """Expected patient episodes in one replication (before any warm-up cut).

    >>> from sim.config import Config, Condition, Village
    >>> cfg = Config()
    >>> cfg.network.villages = {"v": Village(population=1000)}
    >>> cfg.care.conditions = {"c": Condition(incidence_per_1000=365.0)}
    >>> cfg.run.horizon_days = 10
    >>> expected_episodes(cfg)
    10.0
    """
    pop = float(sum(v.population for v in cfg.network.villages.values()))
    per_person_year = sum(c.incidence_per_1000 for c in cfg.care.conditions.values()) / 1000.0
    queued = float(sum(f.initial_queue for f in cfg.network.facilities.values()))
    return pop * per_person_year * cfg.run.horizon_days / 365.0 + queued


def _driver(cfg: Config) -> str:
    """The key to name: a village or condition that carries most of the demand, else the horizon."""
    for key, items in (("network.villages.{}.population", {k: v.population for k, v in cfg.network.villages.items()}),
                       ("care.conditions.{}.incidence_per_1000",
                        {k: c.incidence_per_1000 for k, c in cfg.care.conditions.items()})):
        total = sum(items.values())
        if total > 0:
            top = max(items, key=items.__getitem__)
            if items[top] >= 0.5 * total:
                return key.format(top)
    return "run.horizon_days"


def estimate(cfg: Config, jobs: int = 1, replications: int | None = None, keep_in_memory: bool | None = None,
             scenarios: int = 1) -> RunSize:
    """Peak memory of running ``replications`` of ``cfg`` (default ``run.replications``) on
    ``jobs`` workers, keeping the per-patient tables in memory when ``keep_in_memory`` (default
    ``run.keep_patients``: what :func:`sim.run` does; a study streams them to disk instead)."""
    reps = cfg.run.replications if replications is None else replications
    keep = cfg.run.keep_patients if keep_in_memory is None else keep_in_memory
    n = expected_episodes(cfg)
    concurrent = max(1, min(jobs, reps * scenarios))
    peak = BASE_BYTES * (1 + concurrent) + concurrent * n * PEAK_BYTES_PER_EPISODE
    if keep:
        peak += reps * scenarios * n * KEPT_BYTES_PER_EPISODE
    return RunSize(n, peak, _driver(cfg))


def machine_memory_bytes() -> int:
    """Physical memory of this machine (``MemTotal``; a cgroup limit when lower)."""
    total = 0
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    total = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if not total:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
            total = 0
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as fh:
                raw = fh.read().strip()
            if raw.isdigit() and 0 < int(raw) < (total or 1 << 62):
                total = int(raw)
        except OSError:
            continue
    return total


def _human(n: float) -> str:
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n / 2**10:.3g} KB"


def check_fits(cfg: Config, jobs: int = 1, replications: int | None = None, keep_in_memory: bool | None = None,
               scenarios: int = 1, memory: int | None = None) -> RunSize:
    """Refuse, with one line naming the key that drives the size, a run that cannot fit in
    this machine's memory (``memory`` bytes, default :func:`machine_memory_bytes`).

    >>> from sim.config import Config, Condition, Village
    >>> cfg = Config()
    >>> cfg.network.villages = {"v": Village(population=10_000_000)}
    >>> cfg.care.conditions = {"c": Condition(incidence_per_1000=6800.0)}
    >>> cfg.run.horizon_days = 365
    >>> check_fits(cfg, memory=24 * 2**30)
    Traceback (most recent call last):
    ...
    sim.config.ConfigError: network.villages.v.population: this run would simulate about 6.8e+07 patient episodes per replication and need about 51.2 GB of memory (about 0.5 KB per episode), more than this machine's 24 GB; shorten run.horizon_days, lower run.replications or run.jobs, or set run.keep_patients=false
    """
    size = estimate(cfg, jobs, replications, keep_in_memory, scenarios)
    memory = machine_memory_bytes() if memory is None else memory
    if memory and size.peak_bytes > 0.9 * memory:
        raise ConfigError(
            f"{size.driver}: this run would simulate about {size.episodes_per_replication:.2g} patient episodes "
            f"per replication and need about {_human(size.peak_bytes)} of memory (about "
            f"{PEAK_BYTES_PER_EPISODE / 1000:.2g} KB per episode), more than this machine's {_human(memory)}; "
            "shorten run.horizon_days, lower run.replications or run.jobs, or set run.keep_patients=false")
    return size
