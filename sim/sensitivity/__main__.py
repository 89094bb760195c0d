"""``python -m sim.sensitivity sensitivity=<name> [sensitivity.key=value ...] [scenario overrides ...]``.

Runs the sensitivity analysis ``scenarios/sensitivity/<name>.yaml`` (or a path) and writes
``outputs/sensitivity/<name>/``: the tables (points, tornado, Morris and Sobol indices) and the
brief section with its figures.  ``sensitivity.*`` overrides set the analysis's own keys
(``sensitivity.replications=3``, ``sensitivity.sobol.top=0``); every other override applies to
every point (``run.horizon_days=28``, ``run.jobs=4``).  A mistake prints one line naming the
key and exits with 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sim.config import ConfigError

__all__ = ["main"]

USAGE = ("usage: python -m sim.sensitivity sensitivity=<name> [sensitivity.key=value ...] [overrides ...]\n"
         "Ranks the uncertain parameters by their effect on a KPI (configs: scenarios/sensitivity/).")


def main(argv: Sequence[str] | None = None) -> int:
    from sim.analysis.registry import format_value
    from sim.sensitivity.config import load_sensitivity
    from sim.sensitivity.runner import run_sensitivity

    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(USAGE)
        return 0
    try:
        names = [a.split("=", 1)[1] for a in args if a.startswith("sensitivity=")]
        if not names or not names[-1]:
            raise ConfigError("sensitivity: name a sensitivity config, e.g. sensitivity=toy_travel "
                              "(configs: scenarios/sensitivity/)")
        bad = [a for a in args if "=" not in a]
        if bad:
            raise ConfigError(f"{bad[0]}: not an override; write key=value (see python -m sim.sensitivity --help)")
        own = [a[len("sensitivity."):] for a in args if a.startswith("sensitivity.")]
        rest = [a for a in args if not a.startswith(("sensitivity.", "sensitivity="))]
        s = load_sensitivity(names[-1], own)
        res = run_sensitivity(s, rest, progress=True)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"sensitivity {s.name!r} of {s.kpi}{' (difference)' if s.compare.scenario else ''}: "
          f"{res.meta['points']} points, {res.meta['replications_run']} replications run now")
    for _, r in res.morris.iterrows():
        print(f"  {int(r['rank'])}. {r['parameter']:<24} mu* {format_value(s.kpi, r['mu_star'], diff=True)} "
              f"(± {format_value(s.kpi, r['mu_star_conf'], diff=True)}), sigma {format_value(s.kpi, r['sigma'], diff=True)}")
    if len(res.sobol):
        for _, r in res.sobol.iterrows():
            print(f"     {r['parameter']:<24} S1 {r['S1']:.2f} ± {r['S1_conf']:.2f}   ST {r['ST']:.2f} ± {r['ST_conf']:.2f}")
    print(f"folder: {res.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
