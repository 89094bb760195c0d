"""How a study scales with workers, against the machine's own ceiling, in one run.

A study of 4 scenarios x 16 replications runs at 1, 2, ... N workers (local process pool);
beside it, N independent bare-SimPy M/M/c processes measure the speedup this machine can give
at all (shared caches, turbo and memory bandwidth cap it).  Target: the study's speedup is at
least 90% of that ceiling at every N.

Usage: ``python benchmarks/bench_sweep.py [--workers 1,2] [--network toy] [--days 28] [--reps 16]``
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import tempfile
import time

from bench_model import bare_mmc

STUDY_SCENARIOS = {
    "base": [],
    "more_township_doctors": ["care.behaviour.balk_queue=40"],
    "reimbursement": ["care.prices.reimburse_outpatient=[0.8,0.7,0.35,0.25]"],
    "trust": ["care.choice.beta_tier=[0.3,0.5,0.9,0.2]"],
}


def _bare(_: int) -> float:
    t0 = time.perf_counter()
    bare_mmc(n_customers=150_000)
    return time.perf_counter() - t0


def ceiling(n: int) -> float:
    """Speedup of n concurrent bare SimPy processes over one (same work each)."""
    one = _bare(0)
    ctx = mp.get_context("spawn")
    with ctx.Pool(n) as pool:
        t0 = time.perf_counter()
        pool.map(_bare, range(n))
        wall = time.perf_counter() - t0
    return n * one / wall


def study_wall(workers: int, network: str, days: float, reps: int) -> float:
    from sim.config import StudyConfig
    from sim.experiment.study import run_study

    study = StudyConfig(name="bench", baseline="base", scenarios=STUDY_SCENARIOS)
    folder = tempfile.mkdtemp(prefix="bench_sweep_")
    try:
        t0 = time.perf_counter()
        run_study(study, [f"network={network}", f"run.horizon_days={days}", "run.warmup_days=7",
                          f"run.replications={reps}", "run.keep_patients=false"],
                  folder=folder, jobs=workers, progress=False, brief=False)
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ncpu = len(os.sched_getaffinity(0))
    ap.add_argument("--workers", default=",".join(str(n) for n in sorted({1, 2, 4, 8, 16, ncpu}) if n <= ncpu))
    ap.add_argument("--network", default="toy")
    ap.add_argument("--days", type=float, default=28.0)
    ap.add_argument("--reps", type=int, default=16)
    args = ap.parse_args()
    workers = sorted({1, *(int(w) for w in args.workers.split(","))})
    base = 1.0
    print(f"study: 4 scenarios x {args.reps} replications, {args.network}, {args.days:g} days; {ncpu} cores")
    print(f"{'workers':>8s} {'wall s':>9s} {'speedup':>8s} {'ceiling':>8s} {'share of ceiling':>17s}")
    for n in workers:
        wall = study_wall(n, args.network, args.days, args.reps)
        if n == 1:
            base = wall
        speed = base / wall
        ceil = ceiling(n) if n > 1 else 1.0
        print(f"{n:8d} {wall:9.1f} {speed:8.2f} {ceil:8.2f} {speed / ceil:16.0%}")


if __name__ == "__main__":
    main()
