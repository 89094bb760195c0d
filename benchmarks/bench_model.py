"""Speed and memory of the county model against a bare SimPy M/M/c loop, in one run.

Prints, for this machine and this run:

- customers per second of a bare SimPy M/M/c loop (lambda = 9/h, mu = 1/h, c = 10,
  ``simpy.Resource``, one process per customer) -- the reference;
- patient journeys per second of the county model on ``taobei`` (world build + run, no KPIs);
- their ratio (target >= 0.75, issue #18);
- patient journeys per second of a whole replication as ``python -m sim`` runs it (world
  build, run, KPIs, the run folder written: :func:`sim.experiment.runner.run_to_folder`) and
  its ratio to the bare loop (target >= 0.5, issue #18);
- record bytes per patient journey and peak resident-memory growth per journey during the
  run (target < 150 bytes), each measured in a fresh process.

With ``--mmc``, instead: the project's own M/M/c (``tests/validation/test_erlang_c.py``'s
reduced county with lambda = 9/h, mu = 1/h, c = 10: one village at a township centre open
around the clock) through ``sim.run`` (build, run, tables and KPIs) and through the core only
(world build + run), against a bare SimPy M/M/c loop fed the *same* customers (the run's
arrival times and consult durations), alternated in this one process (targets: ``sim.run``
>= 0.8x, issue #18).

Usage: ``python benchmarks/bench_model.py [--days 28] [--network taobei] [--repeat 3]``,
``python benchmarks/bench_model.py --mmc [--mmc-days 365] [--repeat 5]``.
Timings are medians of ``--repeat`` runs, and each ratio the median of the runs' ratios to the
mean of the two bare runs either side of them; compare ratios, not seconds, across machines.
On a shared machine, ``--cpu-time`` times with this process's CPU time instead of the wall
clock (another process's load then slows both sides alike, but no longer counts as ours).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parent.parent


def bare_mmc(n_customers: int = 200_000, lam: float = 9.0, mu: float = 1.0, c: int = 10, seed: int = 1,
             gc_paused: bool = False) -> float:
    """Customers per second of a minimal SimPy M/M/c (times in hours)."""
    rng = np.random.default_rng(seed)
    inter = rng.exponential(1 / lam, n_customers).tolist()
    serv = rng.exponential(1 / mu, n_customers).tolist()
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=c)
    waits = []

    def customer(i):
        t = env.now
        with server.request() as req:
            yield req
            waits.append(env.now - t)
            yield env.timeout(serv[i])

    def source():
        for i in range(n_customers):
            yield env.timeout(inter[i])
            env.process(customer(i))

    env.process(source())
    if gc_paused:
        gc.disable()
    t0 = time.perf_counter()
    env.run()
    wall = time.perf_counter() - t0
    gc.enable()
    return n_customers / wall


def bare_same_customers(arrive: list[float], service: list[float], c: int) -> float:
    """Seconds of a bare SimPy M/M/c loop (``simpy.Resource``, one process per customer) over
    the given arrival times (sorted) and service durations, in minutes."""
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=c)
    waits = []

    def customer(s):
        t = env.now
        with server.request() as req:
            yield req
            waits.append(env.now - t)
            yield env.timeout(s)

    def source():
        last = 0.0
        for a, s in zip(arrive, service):
            yield env.timeout(a - last)
            last = a
            env.process(customer(s))

    env.process(source())
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0


def project_mmc(days: float, repeat: int) -> None:
    """The project's M/M/c through sim.run and through the core, against the bare loop with the
    same customers, alternated; prints the medians and ratios."""
    sys.path.append(str(ROOT))  # for tests.validation, after the tree on PYTHONPATH
    import sim
    from sim.model.world import World
    from tests.validation.test_erlang_c import mmc_config

    c, service_min, rho = 10, 60.0, 0.9  # lambda = rho c mu = 9/h, mu = 1/h
    cfg = mmc_config(c, rho, service_min, horizon_days=days, warmup_days=0, replications=1, seed=20240611)
    first = sim.run(cfg, jobs=1)  # the customers (and a warm start of imports and caches)
    v = first.visits.sort_values("arrive", kind="stable")
    v = v[v["start"].notna()]
    arrive, service = v["arrive"].tolist(), (v["end"] - v["start"]).tolist()
    n = len(arrive)
    bare, full, core = [], [], []
    for _ in range(repeat):
        bare.append(bare_same_customers(arrive, service, c))
        t0 = time.perf_counter()
        sim.run(cfg, jobs=1)
        full.append(time.perf_counter() - t0)
        bare.append(bare_same_customers(arrive, service, c))
        t0 = time.perf_counter()
        w = World(cfg, 0)
        w.run()
        core.append(time.perf_counter() - t0)
    b, f, k = statistics.median(bare), statistics.median(full), statistics.median(core)
    print(f"the project's M/M/c (lambda=9/h, mu=1/h, c=10), {days:g} days: {n:,} customers served")
    print(f"bare SimPy loop, same customers:           {n / b:12,.0f} customers/s")
    print(f"sim.run (build, run, tables, KPIs):        {n / f:12,.0f} customers/s   ratio {b / f:.2f} (target >= 0.80)")
    print(f"core only (world build + run):             {n / k:12,.0f} customers/s   ratio {b / k:.2f}")


def county(network: str, days: float) -> dict:
    """Journeys per second of one replication (build + run)."""
    import sim
    from sim.model.world import World

    cfg = sim.compose([f"network={network}", f"run.horizon_days={days}", "run.warmup_days=0"])
    t0 = time.perf_counter()
    w = World(cfg, 0)
    w.run()
    wall = time.perf_counter() - t0
    n = len(w.log.p_onset)
    return {"journeys": n, "wall_s": wall, "per_s": n / wall, "visits": len(w.log.v_arrive),
            "record_bytes": w.log.nbytes()}


def whole(network: str, days: float) -> dict:
    """Journeys per second of one whole replication as ``python -m sim`` runs it: world build,
    run, KPIs, its tables and the run folder written (one worker, in this process)."""
    import tempfile

    import sim
    from sim.experiment.runner import run_to_folder

    cfg = sim.compose([f"network={network}", f"run.horizon_days={days}", "run.warmup_days=0",
                       "run.replications=1", "run.jobs=1"])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = run_to_folder(cfg, tmp, jobs=1)
        wall = time.perf_counter() - t0
    n = sum(int(i["patients"]) for i in res.meta["replication_info"].values())
    return {"journeys": n, "wall_s": wall, "per_s": n / wall}


def _peak_rss() -> int:
    """This process's peak resident memory in bytes since the last :func:`_reset_peak`."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) * 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _reset_peak() -> int:
    """Reset the peak to the current resident memory (Linux: ``/proc/self/clear_refs``), which
    is returned.  Without it the probe read the peak of the benchmark that started it:
    ``ru_maxrss`` survives ``exec``, so a child of a large parent showed no growth at all."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) * 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def memory_probe(network: str, days: float) -> dict:
    """In this (fresh) process: peak RSS growth during the run, per journey."""
    import sim
    from sim.model.world import World

    cfg = sim.compose([f"network={network}", f"run.horizon_days={days}", "run.warmup_days=0"])
    w = World(cfg, 0)
    w.env.run(until=1.0)  # allocate the first arrival batch
    gc.collect()
    before = _reset_peak()
    w.run()
    after = _peak_rss()
    n = len(w.log.p_onset)
    return {"journeys": n, "peak_growth_bytes": after - before, "record_bytes": w.log.nbytes()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="taobei")
    ap.add_argument("--days", type=float, default=28.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mmc", action="store_true", help="the project's own M/M/c vs a bare loop, same customers")
    ap.add_argument("--mmc-days", type=float, default=365.0)
    ap.add_argument("--cpu-time", action="store_true", help="time with this process's CPU time (shared machines)")
    ap.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cpu_time:
        time.perf_counter = time.process_time  # every timing below reads it
    if args.mmc:
        project_mmc(args.mmc_days, args.repeat)
        return
    if args.memory_probe:
        print(json.dumps(memory_probe(args.network, args.days)))
        return

    # each model run sits between two bare runs, and its ratio is to their mean: on a machine
    # whose speed drifts over tens of seconds (a shared VM), medians of separate series drifted
    # apart (the whole replication once measured faster than the core it contains)
    bare, bare_nogc, model, full = [bare_mmc()], [], [], []
    r_model, r_full = [], []
    for _ in range(args.repeat):
        model.append(county(args.network, args.days))
        bare.append(bare_mmc())
        r_model.append(model[-1]["per_s"] / ((bare[-2] + bare[-1]) / 2))
        full.append(whole(args.network, args.days))
        bare.append(bare_mmc())
        r_full.append(full[-1]["per_s"] / ((bare[-2] + bare[-1]) / 2))
        bare_nogc.append(bare_mmc(gc_paused=True))
    bare_rate = statistics.median(bare)
    bare_nogc_rate = statistics.median(bare_nogc)
    model_rate = statistics.median(m["per_s"] for m in model)
    m0 = model[0]
    print(f"bare SimPy M/M/c (lambda=9/h, mu=1/h, c=10): {bare_rate:12,.0f} customers/s")
    print(f"county model, {args.network}, {args.days:g} days:  {model_rate:12,.0f} journeys/s "
          f"({m0['journeys']:,} journeys, {m0['visits']:,} visits, {m0['wall_s']:.1f} s)")
    print(f"ratio model / bare loop:                   {statistics.median(r_model):12.2f}   (target >= 0.75, issue #18; "
          f"runs {min(r_model):.2f} .. {max(r_model):.2f})")
    full_rate = statistics.median(m["per_s"] for m in full)
    print(f"whole replication (build, run, KPIs, run folder): {full_rate:8,.0f} journeys/s "
          f"({full[0]['wall_s']:.1f} s)   ratio {statistics.median(r_full):.2f} (target >= 0.5, issue #18; "
          f"runs {min(r_full):.2f} .. {max(r_full):.2f})")
    print(f"bare loop with the cyclic GC paused too:   {bare_nogc_rate:12,.0f} customers/s "
          f"(ratio {model_rate / bare_nogc_rate:.2f}; the model pauses it, see World.run)")
    probe = subprocess.run([sys.executable, __file__, "--memory-probe", "--network", args.network,
                            "--days", str(args.days * 3)], capture_output=True, text=True, check=True)
    mem = json.loads(probe.stdout)
    print(f"record buffers per journey:                {mem['record_bytes'] / mem['journeys']:12.1f} bytes")
    print(f"peak RSS growth per journey ({args.days * 3:g} days):  {mem['peak_growth_bytes'] / mem['journeys']:12.1f} bytes"
          f"   (target < 150; {mem['journeys']:,} journeys)")


if __name__ == "__main__":
    main()
