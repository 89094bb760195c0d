"""Where replications run: in this process, a local process pool, or a Dask cluster.

Every executor takes tasks ``(key, config, replication)`` and yields ``(key, output)`` as
each finishes, in completion order.  ``output`` is what :func:`sim.experiment.replication.replicate`
returns, or ``{"error": <traceback text>}`` when the replication raised: one failure never
stops the others.  Results do not depend on the executor (each replication is a pure
function of its config and index).

``finish(key, output)``, when given, runs where the replication ran (this process or the local
pool's worker) and its return value is yielded instead: a study writes each replication's tables
there, so that only a small record crosses back to the caller (no per-patient table is pickled
between processes).  On a Dask cluster it runs in the caller, since a worker on another machine
need not see the caller's folder.

An output is handed over once: the executors keep no reference to what they yielded (no
finished future is held), so a caller that writes each output and drops it holds one at a time.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from sim.config import Config, ExecutorConfig
from sim.experiment.replication import replicate

__all__ = ["safe_replicate", "iter_results", "dask_address"]

Task = tuple[Any, Config, int]
Finish = Callable[[Any, dict], dict]


def safe_replicate(cfg: Config, replication: int) -> dict:
    """:func:`sim.experiment.replication.replicate`, with any exception captured as text."""
    try:
        return replicate(cfg, replication)
    except Exception:  # a failed replication is recorded, the study goes on
        return {"replication": replication, "error": traceback.format_exc()}


def _run(cfg: Config, replication: int, key: Any, finish: Finish | None) -> dict:
    """:func:`safe_replicate`, then ``finish(key, output)`` unless the replication failed."""
    out = safe_replicate(cfg, replication)
    return out if finish is None or "error" in out else finish(key, out)


def dask_address(ex: ExecutorConfig) -> str:
    """The scheduler address: ``executor.address``, else ``$DASK_SCHEDULER_ADDRESS``, else ''."""
    return ex.address or os.environ.get("DASK_SCHEDULER_ADDRESS", "")


def iter_results(tasks: Iterable[Task], jobs: int, executor: ExecutorConfig | None = None,
                 finish: Finish | None = None) -> Iterator[tuple[Any, dict]]:
    """Run tasks and yield ``(key, output)`` as they complete (``finish``: see the module docstring)."""
    tasks = list(tasks)
    if not tasks:
        return
    executor = executor or ExecutorConfig()
    if executor.kind == "dask":
        for key, out in _dask(tasks, jobs, executor):
            yield key, out if finish is None or "error" in out else finish(key, out)
            del out
        return
    jobs = max(1, min(jobs, len(tasks)))
    if jobs == 1:
        for key, cfg, r in tasks:
            yield key, _run(cfg, r, key, finish)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_run, cfg, r, key, finish): key for key, cfg, r in tasks}
        for fut in as_completed(futures):
            key, out = futures.pop(fut), fut.result()
            del fut  # as_completed and the dict no longer hold it: the output lives only with the caller
            yield key, out
            del out


def _dask(tasks: list[Task], jobs: int, executor: ExecutorConfig) -> Iterator[tuple[Any, dict]]:
    from dask.distributed import Client, LocalCluster
    from dask.distributed import as_completed as dask_completed

    address = dask_address(executor)
    cluster = None
    if address:
        client = Client(address)
    else:
        cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = {}
        for key, cfg, r in tasks:
            fut = client.submit(safe_replicate, cfg, r, pure=False)
            futures[fut] = key
        for fut in dask_completed(list(futures)):
            key, out = futures.pop(fut), fut.result()
            fut.release()  # let the cluster forget the result
            del fut
            yield key, out
            del out
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
