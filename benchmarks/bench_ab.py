"""A/B: the same county run under two source trees, interleaved, on this machine, in one run.

Tuning the model means comparing a change with the code before it; on a shared or noisy
machine two runs minutes apart differ by more than most changes buy.  This script alternates
the two trees (A, B, A, B, ...), each run in a fresh process (the trees share module names),
and times, with the child's own CPU time, what a tuning change touches:

- ``core``: world build + run (no KPIs), the simulation core of ``bench_model.py``;
- ``whole``: build, run, KPIs and the run folder written, as ``python -m sim`` runs it.

It prints each tree's median and the ratio B / A of journeys per second (> 1: B is faster),
with the spread of the pairwise ratios, so a change can be kept or dropped on a number.

Usage: ``python benchmarks/bench_ab.py A_TREE B_TREE [--what core|whole] [--days 28]
[--network taobei] [--pairs 5] [--together]``, e.g. a worktree of ``HEAD`` against the working tree:
``git worktree add /tmp/base HEAD && python benchmarks/bench_ab.py /tmp/base .``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, tempfile, time
import sim
what, network, days = sys.argv[1], sys.argv[2], float(sys.argv[3])
over = [f"network={network}", f"run.horizon_days={days}", "run.warmup_days=0"]
if what == "core":
    from sim.model.world import World
    cfg = sim.compose(over)
    t0 = time.process_time()
    w = World(cfg, 0)
    w.run()
    cpu = time.process_time() - t0
    n = len(w.log.p_onset)
else:
    from sim.experiment.runner import run_to_folder
    cfg = sim.compose(over + ["run.replications=1", "run.jobs=1"])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.process_time()
        res = run_to_folder(cfg, tmp, jobs=1)
        cpu = time.process_time() - t0
    n = sum(int(i["patients"]) for i in res.meta["replication_info"].values())
print(json.dumps({"journeys": n, "cpu_s": cpu}))
"""


def start(tree: Path, what: str, network: str, days: float) -> subprocess.Popen:
    """One timed run of ``tree``'s model, in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONHASHSEED="0")
    return subprocess.Popen([sys.executable, "-c", CHILD, what, network, str(days)], env=env, cwd=tree,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"a timed run failed:\n{err}")
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path, help="tree A (the baseline)")
    ap.add_argument("b", type=Path, help="tree B (the change)")
    ap.add_argument("--what", choices=["core", "whole"], default="core")
    ap.add_argument("--network", default="taobei")
    ap.add_argument("--days", type=float, default=28.0)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--together", action="store_true",
                    help="run each pair at the same time, one core each (both see the same load)")
    args = ap.parse_args()
    a_tree, b_tree = args.a.resolve(), args.b.resolve()
    for tree in (a_tree, b_tree):  # byte-compiled before timing (a first import compiles)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "sim")], check=True)
    rates: dict[str, list[float]] = {"A": [], "B": []}
    journeys = set()
    for i in range(args.pairs):
        # alternate which goes first, so a trend in the machine's load favours neither
        order = [("A", a_tree), ("B", b_tree)] if i % 2 == 0 else [("B", b_tree), ("A", a_tree)]
        if args.together:
            procs = [(name, start(tree, args.what, args.network, args.days)) for name, tree in order]
            runs = [(name, result(p)) for name, p in procs]
        else:
            runs = [(name, result(start(tree, args.what, args.network, args.days))) for name, tree in order]
        for name, r in runs:
            journeys.add((name, r["journeys"]))
            rates[name].append(r["journeys"] / r["cpu_s"])
    pair = sorted(b / a for a, b in zip(rates["A"], rates["B"]))
    a_med, b_med = statistics.median(rates["A"]), statistics.median(rates["B"])
    how = "at the same time, one core each" if args.together else "one after the other"
    print(f"{args.what}, {args.network}, {args.days:g} days, {args.pairs} pairs, {how} (CPU time, fresh processes)")
    print(f"A {a_tree}: {a_med:10,.0f} journeys/s")
    print(f"B {b_tree}: {b_med:10,.0f} journeys/s")
    print(f"B / A: median of the pairs {statistics.median(pair):.3f}  (pairs {pair[0]:.3f} .. {pair[-1]:.3f}; "
          f"ratio of the medians {b_med / a_med:.3f})")
    if len({n for _, n in journeys}) > 1:
        print(f"note: the trees simulated different numbers of journeys: {sorted(journeys)}")


if __name__ == "__main__":
    main()
