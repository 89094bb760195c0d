"""``python -m sim.search search=<name> [search.key=value ...] [scenario overrides ...]``.

Runs (or resumes) the policy search ``scenarios/search/<name>.yaml`` (or ``search=path.yaml``)
and writes ``outputs/searches/<name>/`` with its tables and brief section.  ``search.*``
overrides set the search's own keys (``search.trials=40``, ``search.replications=5``); every
other override applies to every candidate scenario (``run.horizon_days=28``, ``run.jobs=4``,
``executor=dask``).  A mistake in the config prints one line naming the key and exits with 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sim.config import ConfigError

__all__ = ["main"]

USAGE = ("usage: python -m sim.search search=<name> [search.trials=N] [search.replications=R] [overrides ...]\n"
         "Finds the best mix of levers under the search's constraints (configs: scenarios/search/).")


def _format(result) -> str:
    from sim.analysis.registry import format_value

    rec = result.recommendation
    lines = [f"search {result.search.name!r}: {result.meta['trials_finished']} trials, {len(result.candidates)} distinct "
             f"candidates, {result.meta['replications_run']} replications run now"]
    o = result.search.objectives[0]
    kpi = "running_cost_per_year" if o.kpi == "cost" else o.kpi
    if rec and rec.get("status") == "recommended":
        lines.append(f"recommended: {rec['label_en']}  ({rec['n']} replications)")
        lines.append(f"  {o.kpi}: {format_value(kpi, rec['obj0_mean'])} "
                     f"[{format_value(kpi, rec['obj0_low'])}, {format_value(kpi, rec['obj0_high'])}]")
        for i, c in enumerate(result.search.constraints):
            lines.append(f"  {c.kpi} {c.op} {format_value(c.kpi, c.value)}: {format_value(c.kpi, rec[f'con{i}_mean'])} "
                         f"[{format_value(c.kpi, rec[f'con{i}_low'])}, {format_value(c.kpi, rec[f'con{i}_high'])}] "
                         f"{rec[f'con{i}_status']}")
    else:
        lines.append("no candidate meets every constraint on its confidence interval")
    lines.append(f"search folder: {result.folder}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from sim.search.config import load_search, split_overrides
    from sim.search.runner import run_search

    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(USAGE)
        return 0
    names = [a.split("=", 1)[1] for a in args if a.startswith("search=")]
    try:
        if not names or not names[-1]:
            raise ConfigError("search: name a search config, e.g. search=toy_closures (configs: scenarios/search/)")
        bad = [a for a in args if "=" not in a]
        if bad:
            raise ConfigError(f"{bad[0]}: not an override; write key=value (see python -m sim.search --help)")
        own, rest = split_overrides(args)
        search = load_search(names[-1], own)
        result = run_search(search, rest, progress=True)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(_format(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
