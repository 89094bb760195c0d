"""Evaluating scenarios under common random numbers, with every replication kept on disk.

An evaluation is replication ``r`` of one composed scenario; it runs on the study executor
(:func:`sim.experiment.executor.iter_results`: in this process, a local pool, or Dask) and its
KPI table is written at once to ``evaluations/<key>/r<NNNN>.parquet``, where ``key`` is the
hash of everything in the config that changes results except the number of replications and
the scenario's name.  The same scenario asked for again (another trial that chose the same
levers, the confirmation re-run, a resumed search, a sensitivity point met before) reads its
replications back instead of running them; ``evaluations.jsonl`` logs each one that ran.

Every scenario of a search shares ``run.seed``, so replication ``r`` of every candidate sees
the same arriving patients (the paired design of :mod:`sim.experiment.study`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pandas as pd

from sim.config import Config, ExecutorConfig
from sim.experiment.executor import iter_results
from sim.experiment.replication import config_hash

__all__ = ["Evaluator", "scenario_key"]


def scenario_key(cfg: Config) -> str:
    """The hash of a scenario's results-changing settings, whatever its name and its number of
    replications (replication ``r``'s tables depend on neither)."""
    plain = dataclasses.replace(cfg, scenario="", run=dataclasses.replace(cfg.run, replications=1))
    return config_hash(plain)


class Evaluator:
    """Runs and stores replications of scenarios under ``folder/evaluations/``."""

    def __init__(self, folder: str | Path, jobs: int = 1, executor: ExecutorConfig | None = None) -> None:
        self.folder = Path(folder)
        self.store = self.folder / "evaluations"
        self.log = self.folder / "evaluations.jsonl"
        self.jobs = max(1, int(jobs))
        self.executor = executor or ExecutorConfig()
        #: replications run by this evaluator (not read back).
        self.ran = 0
        #: (key, replication) -> the last line of the traceback of a replication that raised.
        self.failed: dict[tuple[str, int], str] = {}

    def _path(self, key: str, r: int) -> Path:
        return self.store / key / f"r{r:04d}.parquet"

    def has(self, key: str, r: int) -> bool:
        return self._path(key, r).exists()

    def missing(self, key: str, reps: Iterable[int]) -> list[int]:
        return [r for r in reps if not self.has(key, r)]

    def run(self, items: Sequence[tuple[str, Config, Sequence[int]]],
            on_done: Callable[[str, int], None] | None = None) -> int:
        """Run the replications of ``items`` (key, config, replications) not yet stored;
        returns how many ran.  A replication that raises is recorded (``rNNNN.error.txt``)."""
        todo, seen = [], set()
        for key, cfg, reps in items:
            for r in reps:
                if (key, r) not in seen and not self.has(key, r):
                    seen.add((key, r))
                    todo.append(((key, r), cfg, r))
        n = 0
        for (key, r), out in iter_results(todo, self.jobs, self.executor):
            if "error" in out:
                msg = out["error"].strip().splitlines()[-1] if out["error"].strip() else "error"
                self.failed[(key, r)] = msg
                self._atomic(self.store / key / f"r{r:04d}.error.txt", out["error"].encode())
            else:
                k = out["kpis"]
                k = k.assign(scenario=k["scenario"].astype(str))
                tmp = self._path(key, r).with_name(f".r{r:04d}.parquet.tmp-{os.getpid()}")
                tmp.parent.mkdir(parents=True, exist_ok=True)
                k.to_parquet(tmp, index=False)
                os.replace(tmp, self._path(key, r))
                with self.log.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"key": key, "replication": r, "time": time.time()}) + "\n")
            n += 1
            self.ran += 1
            if on_done is not None:
                on_done(key, r)
            del out
        return n

    def kpis(self, key: str, reps: Iterable[int]) -> pd.DataFrame:
        """The stored KPI tables of these replications (those that exist), one table."""
        frames = [pd.read_parquet(self._path(key, r)) for r in reps if self.has(key, r)]
        if not frames:
            return pd.DataFrame(columns=["scenario", "replication", "metric", "group", "value"])
        return pd.concat(frames, ignore_index=True)

    @staticmethod
    def _atomic(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)
