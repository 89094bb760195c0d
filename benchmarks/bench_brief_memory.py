"""Peak memory of writing the brief alone, on existing study folders, each in a fresh process.

For every study folder given, runs ``python -m sim.report.brief <folder>`` (both languages, no
export) in a fresh process and prints its peak resident memory (``ru_maxrss`` of that child,
from ``os.wait4``), next to the peak of a fresh process that only imports :mod:`sim.report.brief`
(the interpreter, pandas and plotly: what any brief costs before it reads a table); ``work`` is
the difference.  With the brief reduced scenario by scenario, ``work`` does not grow with the
number of scenarios (compare a 2- and a 4-scenario study of the same county and horizon).

``--make N`` first writes any missing folder as a study of the first N scenarios of
``study=demo`` (Taobei; ``--days``, ``--warmup``, ``--reps``; ``run.jobs=1``, no brief), so that
the measurement can be repeated on the same folder before and after a change, e.g.::

    python benchmarks/bench_brief_memory.py --make 2 outputs/bench/brief2
    python benchmarks/bench_brief_memory.py --make 4 outputs/bench/brief4
    python benchmarks/bench_brief_memory.py outputs/bench/brief2 outputs/bench/brief4

``--code DIR`` runs the brief from another checkout of the project (e.g. one made with
``git archive``), to measure the same folders before a change.  The brief is written into the
folder (``brief.html``, ``brief.zh.html``, ``brief.xlsx``), replacing the previous one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MAKE = r"""
import sys
from sim.experiment.study import load_study, run_study
from sim.config import StudyConfig

n, folder, *overrides = sys.argv[1:]
demo = load_study("demo")
names = list(demo.scenarios)[: int(n)]
study = StudyConfig(name=f"bench_brief_{n}", baseline=demo.baseline, base_overrides=list(demo.base_overrides),
                    scenarios={k: list(demo.scenarios[k]) for k in names},
                    label_zh={k: v for k, v in (demo.label_zh or {}).items() if k in names},
                    label_en={k: v for k, v in (demo.label_en or {}).items() if k in names})
run_study(study, overrides, folder=folder, jobs=1, progress=False, brief=False)
"""


def _peak_kib(argv: list[str], code: Path) -> tuple[int, float, str]:
    """Peak RSS (KiB) and wall seconds of one fresh process; its stderr tail on failure."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err[-3000:]}")
    return int(usage.ru_maxrss), time.perf_counter() - t0, err


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path, help="study folders (with study.yaml)")
    ap.add_argument("--make", type=int, default=0, metavar="N",
                    help="write a missing folder as a study of the first N scenarios of study=demo")
    ap.add_argument("--days", type=float, default=28, help="horizon of a study made by --make (days)")
    ap.add_argument("--warmup", type=float, default=7, help="warm-up of a study made by --make (days)")
    ap.add_argument("--reps", type=int, default=2, help="replications of a study made by --make")
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose brief is measured")
    a = ap.parse_args()
    code = a.code.resolve()
    for folder in a.folders:
        if not (folder / "study.yaml").exists():
            if not a.make:
                raise SystemExit(f"{folder}: no study.yaml (give --make N to write the study first)")
            overrides = [f"run.horizon_days={a.days:g}", f"run.warmup_days={a.warmup:g}",
                         f"run.replications={a.reps}", "run.jobs=1"]
            subprocess.run([sys.executable, "-c", MAKE, str(a.make), str(folder.resolve()), *overrides],
                           cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    base, _, _ = _peak_kib([sys.executable, "-c", "import sim.report.brief"], code)
    print(f"brief alone (python -m sim.report.brief, both languages) from {code}")
    print(f"imports only: peak {base / 1024:.1f} MiB")
    print(f"{'folder':40s} {'scenarios':>9s} {'patient MiB':>11s} {'peak MiB':>9s} {'work MiB':>9s} {'wall s':>7s}")
    for folder in a.folders:
        peak, wall, _ = _peak_kib([sys.executable, "-m", "sim.report.brief", str(folder.resolve())], code)
        runs = [d for d in (folder / "runs").iterdir() if d.is_dir()]
        size = sum(p.stat().st_size for d in runs for p in d.glob("*.parquet"))
        print(f"{str(folder):40s} {len(runs):9d} {size / 2**20:11.1f} {peak / 1024:9.1f} {(peak - base) / 1024:9.1f} "
              f"{wall:7.1f}")


if __name__ == "__main__":
    main()
