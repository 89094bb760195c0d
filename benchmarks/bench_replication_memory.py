"""Peak memory of one replication run from the command line, per journey (issue #18, target 1).

Runs ``python -m sim network=<network> run=full run.replications=1 [run.horizon_days=D]`` in a
fresh process (the replication runs in that process: one replication, one worker) and prints:

- ``base``: resident memory after the imports, before the command starts (VmRSS);
- ``peak``: the process's peak resident memory (``ru_maxrss``) when the command has written its
  run folder;
- ``journeys``: patient episodes simulated (the run folder's ``meta.json``);
- ``B/journey``: ``(peak - base) / journeys``, and its ratio to the target of 150 B per journey.

With ``--stages`` it also runs the replication's steps one by one in the same kind of fresh
process, as ``python -m sim`` runs them (:func:`sim.experiment.runner.run_to_folder`: simulate
and record the tables, KPIs, write the replication's folder, assemble the run folder from it),
and prints the peak of each step above the base, resetting the peak between steps
(``/proc/self/clear_refs``, Linux), so that one can see where the memory goes.

Usage: ``python benchmarks/bench_replication_memory.py [--network taobei] [--days 90] [--stages]``
(``--days 0``: the full county-year of ``run=full``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_B_PER_JOURNEY = 150  # issue #18, target 1

CHILD = r"""
import json, resource, runpy, sys
args = json.loads(sys.argv[1])
import sim, sim.__main__  # the imports, the CLI's included: the base is measured after them
import pyarrow.parquet, scipy.stats, tqdm  # noqa: F401 - imported later by the run anyway

def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

base = rss_kib()
sys.argv = ["sim", *args["argv"]]
try:
    runpy.run_module("sim", run_name="__main__", alter_sys=True)  # as `python -m sim` does
except SystemExit as exc:
    if exc.code:
        raise
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
meta = json.loads((__import__("pathlib").Path(args["folder"]) / "meta.json").read_text())
journeys = sum(int(i["patients"]) for i in meta["replication_info"].values())
print(json.dumps({"base_kib": base, "peak_kib": peak, "journeys": journeys}))
"""

STAGES = r"""
import gc, json, sys, tempfile
args = json.loads(sys.argv[1])
import numpy as np
import sim, pyarrow.parquet, scipy.stats  # noqa: F401
from sim.config.loading import compose
from sim.county.network import build_county
from sim.county.restructure import effective_network
from sim.experiment import replication as R
from pathlib import Path
from sim.experiment.runner import replication_dir, run_meta, save_replication
from sim.analysis.io import assemble_run
from sim.records.schema import categories

def status():
    with open("/proc/self/status") as f:
        d = {l.split(":")[0]: int(l.split()[1]) for l in f if l.startswith(("VmRSS", "VmHWM"))}
    return d["VmRSS"], d["VmHWM"]

def reset():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")

cfg = compose(args["overrides"])
county = build_county(effective_network(cfg))
gc.collect()
base = status()[0]
reset()
rows = []
def mark(name):
    now, hwm = status()
    rows.append((name, now - base, hwm - base))
    reset()

out = R.replicate(cfg, 0, county=county, step=mark)
info = out["info"]
work, folder = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
sites, villages, conds = R.sites_table(county), R.villages_table(county), R.conditions_table(cfg)
cats = categories(sites, villages, conds, cfg)
save_replication(work, cfg.scenario, out, R.config_hash(cfg), cfg.run.seed, cats)
del out
gc.collect()
mark("write replication")
assemble_run(cfg, sites, villages, conds, [replication_dir(work, cfg.scenario, 0)], folder,
             run_meta(cfg, [0], {0: info}, 0.0))
mark("assemble run folder")
print(json.dumps({"base_kib": base, "journeys": int(info["patients"]), "stages": rows}))
"""


def _child(code: str, arg: dict) -> dict:
    r = subprocess.run([sys.executable, "-c", code, json.dumps(arg)], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    if r.returncode != 0:
        raise SystemExit(f"the measured run failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def overrides(network: str, days: float) -> list[str]:
    return [f"network={network}", "run=full", "run.replications=1", "run.jobs=1",
            *([f"run.horizon_days={days:g}"] if days else [])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="taobei")
    ap.add_argument("--days", type=float, default=90, help="horizon in days (0: run=full's county-year)")
    ap.add_argument("--stages", action="store_true", help="also print the peak of each step")
    a = ap.parse_args()
    ov = overrides(a.network, a.days)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        r = _child(CHILD, {"argv": [*ov, f"hydra.run.dir={folder}"], "folder": str(folder)})
    work = (r["peak_kib"] - r["base_kib"]) * 1024
    per = work / max(r["journeys"], 1)
    print(f"python -m sim {' '.join(ov)}")
    print(f"journeys {r['journeys']:,}  base {r['base_kib'] / 1024:.1f} MiB  peak {r['peak_kib'] / 1024:.1f} MiB  "
          f"peak - base {work / 2**20:.1f} MiB")
    print(f"{per:.0f} B per journey above the base; target {TARGET_B_PER_JOURNEY} B: "
          f"ratio {per / TARGET_B_PER_JOURNEY:.2f} ({'met' if per <= TARGET_B_PER_JOURNEY else 'not met'})")
    if a.stages:
        s = _child(STAGES, {"overrides": ov})
        n = max(s["journeys"], 1)
        print(f"\nsteps of the same replication (fresh process, base {s['base_kib'] / 1024:.1f} MiB):")
        print(f"{'step':<22s} {'peak MiB':>9s} {'B/journey':>10s} {'after MiB':>10s}")
        for name, now, hwm in s["stages"]:
            print(f"{name:<22s} {hwm / 1024:9.1f} {hwm * 1024 / n:10.0f} {now / 1024:10.1f}")


if __name__ == "__main__":
    main()
