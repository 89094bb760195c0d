"""Speed and memory of the county model against a bare SimPy M/M/c loop, in one run.

Prints, for this machine and this run:

- customers per second of a bare SimPy M/M/c loop (lambda = 9/h, mu = 1/h, c = 10,
  ``simpy.Resource``, one process per customer) -- the reference;
- patient journeys per second of the county model on ``taobei`` (world build + run, no KPIs);
- their ratio (target >= 0.5);
- record bytes per patient journey and peak resident-memory growth per journey during the
  run (target < 150 bytes), each measured in a fresh process.

Usage: ``python benchmarks/bench_model.py [--days 28] [--network taobei] [--repeat 3]``.
Timings are medians of ``--repeat`` runs; compare ratios, not seconds, across machines.
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

import numpy as np
import simpy


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


def memory_probe(network: str, days: float) -> dict:
    """In this (fresh) process: peak RSS growth during the run, per journey."""
    import sim
    from sim.model.world import World

    cfg = sim.compose([f"network={network}", f"run.horizon_days={days}", "run.warmup_days=0"])
    w = World(cfg, 0)
    w.env.run(until=1.0)  # allocate the first arrival batch
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    w.run()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    n = len(w.log.p_onset)
    return {"journeys": n, "peak_growth_bytes": after - before, "record_bytes": w.log.nbytes()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="taobei")
    ap.add_argument("--days", type=float, default=28.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_probe:
        print(json.dumps(memory_probe(args.network, args.days)))
        return

    bare, bare_nogc, model = [], [], []
    for _ in range(args.repeat):
        bare.append(bare_mmc())
        bare_nogc.append(bare_mmc(gc_paused=True))
        model.append(county(args.network, args.days))
    bare_rate = statistics.median(bare)
    bare_nogc_rate = statistics.median(bare_nogc)
    model_rate = statistics.median(m["per_s"] for m in model)
    m0 = model[0]
    print(f"bare SimPy M/M/c (lambda=9/h, mu=1/h, c=10): {bare_rate:12,.0f} customers/s")
    print(f"county model, {args.network}, {args.days:g} days:  {model_rate:12,.0f} journeys/s "
          f"({m0['journeys']:,} journeys, {m0['visits']:,} visits, {m0['wall_s']:.1f} s)")
    print(f"ratio model / bare loop:                   {model_rate / bare_rate:12.2f}   (target >= 0.50)")
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
