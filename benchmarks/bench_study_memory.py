"""Peak memory of a study against its number of replications (study assembly is memory-bounded).

Runs the same two-scenario study (baseline and ``levers=expert_weekly``) with 1 and with 3
replications (``--reps``), each in a fresh process with ``run.jobs=1`` (replications run in that
process, so its peak resident memory includes one replication's simulation; with ``--jobs N``
they run in a pool of N workers, and the study process's own peak is what the orchestration
holds), and prints per run:

- ``base``: resident memory after the imports and the config composition, before any work;
- ``peak``: peak resident memory of the process (``ru_maxrss``), and of its children;
- ``work = peak - base``: what the study itself added;

then the ratios against the first run.  With memory-bounded assembly (each replication written
to its folder at once, the scenario's run folder streamed from those files) ``work`` does not
grow with replications: the ratio stays near 1.  Before, every replication's per-patient tables
were held until the end and concatenated: ``work`` grew about linearly.

Usage: ``python benchmarks/bench_study_memory.py [--network taobei] [--days 10] [--warmup 2]
[--reps 1,3] [--brief] [--jobs N]`` (``--brief`` also writes the HTML brief, which reads the per-patient
tables one scenario at a time; ``benchmarks/bench_brief_memory.py`` measures the brief alone).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys
from sim.config import StudyConfig
from sim.experiment.study import compose_study, run_study

args = json.loads(sys.argv[1])
study = StudyConfig(name="bench_memory", baseline="baseline",
                    scenarios={"baseline": [], "expert_weekly": ["levers=expert_weekly"]})
compose_study(study, args["overrides"])  # warm the imports and Hydra before measuring the base

def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

base = rss_kib()
res = run_study(study, args["overrides"], folder=args["folder"], jobs=args["jobs"], progress=False,
                brief=args["brief"])
n = {name: len(r.kpis) for name, r in res.runs.items()}
print(json.dumps({"base_kib": base,
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "children_peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "kpi_rows": n}))
"""


def measure(network: str, days: float, warmup: float, reps: int, brief: bool, jobs: int = 1) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        overrides = [f"network={network}", f"run.horizon_days={days:g}", f"run.warmup_days={warmup:g}",
                     f"run.replications={reps}", f"run.jobs={jobs}"]
        arg = json.dumps({"overrides": overrides, "folder": str(Path(tmp) / "study"), "brief": brief,
                          "jobs": jobs})
        r = subprocess.run([sys.executable, "-c", CHILD, arg], cwd=ROOT, capture_output=True, text=True,
                           env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
        if r.returncode != 0:
            raise SystemExit(f"study with {reps} replication(s) failed:\n{r.stderr[-3000:]}")
        out = json.loads(r.stdout.strip().splitlines()[-1])
        size = sum(p.stat().st_size for p in (Path(tmp) / "study").rglob("*") if p.is_file())
    out["reps"] = reps
    out["work_kib"] = out["peak_kib"] - out["base_kib"]
    out["folder_mib"] = size / 2**20
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="taobei")
    ap.add_argument("--days", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--reps", default="1,3", help="comma-separated replication counts")
    ap.add_argument("--brief", action="store_true", help="also write the HTML brief")
    ap.add_argument("--jobs", type=int, default=1,
                    help="worker processes (>= 2: the replications run in a local pool; the table then "
                         "also shows the largest worker's peak)")
    a = ap.parse_args()
    rows = [measure(a.network, a.days, a.warmup, int(n), a.brief, a.jobs) for n in a.reps.split(",")]
    first = rows[0]
    print(f"study of 2 scenarios on {a.network}, {a.days:g} days ({a.warmup:g} warm-up), run.jobs={a.jobs}, "
          f"brief={'on' if a.brief else 'off'}")
    print(f"{'reps':>4s} {'base MiB':>9s} {'peak MiB':>9s} {'work MiB':>9s} {'peak ratio':>10s} "
          f"{'work ratio':>10s} {'folder MiB':>10s} {'worker peak MiB':>15s}")
    for r in rows:
        print(f"{r['reps']:4d} {r['base_kib'] / 1024:9.1f} {r['peak_kib'] / 1024:9.1f} {r['work_kib'] / 1024:9.1f} "
              f"{r['peak_kib'] / first['peak_kib']:10.2f} {r['work_kib'] / first['work_kib']:10.2f} "
              f"{r['folder_mib']:10.1f} {r['children_peak_kib'] / 1024:15.1f}")


if __name__ == "__main__":
    main()
