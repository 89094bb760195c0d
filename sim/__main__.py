"""Command line: ``python -m sim [hydra overrides]`` runs one scenario and writes a run folder.

Examples::

    python -m sim                                   # baseline of the default county
    python -m sim network=xianghe run.replications=5 run.horizon_days=90
    python -m sim --multirun network=toy,xianghe    # a plain Hydra sweep

A mistake in a config or an override prints one line naming the key and exits with code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from sim.config import ConfigError, register_configs, to_config

__all__ = ["main", "format_kpis"]


def format_kpis(summary, group: str = "county") -> str:
    """The county-level KPI table as text (mean and 95% CI across replications)."""
    from sim.metrics import KPI_ZH

    s = summary[summary["group"] == group]
    lines = [f"{'KPI':40s} {'指标':24s} {'mean':>12s} {'95% CI':>26s}"]
    for _, r in s.iterrows():
        ci = "" if r["ci_low"] != r["ci_low"] else f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}]"
        zh = KPI_ZH.get(r["metric"], "")
        lines.append(f"{r['metric']:40s} {zh:24s} {r['mean']:12.4g} {ci:>26s}")
    return "\n".join(lines)


register_configs()


@hydra.main(config_path="../scenarios", config_name="config", version_base=None)
def _app(node: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from sim.experiment import run
    from sim.io import write_run

    try:
        cfg = to_config(node)
        if cfg.study.scenarios:
            _study(cfg, list(HydraConfig.get().overrides.task))
            return
        out = Path(HydraConfig.get().runtime.output_dir)
        result = run(cfg, progress=True)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    write_run(result, out)
    print(f"\nscenario {cfg.scenario!r} on network {cfg.network.name!r}: {cfg.run.replications} replication(s), "
          f"{cfg.run.horizon_days:g} days ({cfg.run.warmup_days:g} warm-up), seed {cfg.run.seed}")
    print(format_kpis(result.summary))
    print(f"\nrun folder: {out}")


def format_comparison(study) -> str:
    """Per county KPI: each scenario's mean, and its paired difference from the baseline."""
    from sim.metrics import KPI_ZH

    s = study.summary[study.summary["group"] == "county"]
    d = study.differences
    d = d[d["group"] == "county"] if len(d) else d
    names = list(study.runs)
    head = f"{'KPI':36s} {'指标':20s} " + " ".join(f"{n[:14]:>14s}" for n in names)
    lines = [head]
    for metric in s["metric"].drop_duplicates():
        row = f"{metric[:36]:36s} {KPI_ZH.get(metric, '')[:20]:20s} "
        cells = []
        for n in names:
            m = s[(s["scenario"] == n) & (s["metric"] == metric)]["mean"]
            val = f"{m.iloc[0]:.4g}" if len(m) else "-"
            if n != study.baseline and len(d):
                dd = d[(d["scenario"] == n) & (d["metric"] == metric)]
                if len(dd) and dd["ci_low"].iloc[0] == dd["ci_low"].iloc[0]:
                    sig = "*" if (dd["ci_low"].iloc[0] > 0 or dd["ci_high"].iloc[0] < 0) else " "
                    val = f"{dd['mean_diff'].iloc[0]:+.3g}{sig}"
            cells.append(f"{val:>14s}")
        lines.append(row + " ".join(cells))
    lines.append(f"(baseline {study.baseline!r}: means; other columns: paired difference from the baseline, "
                 "* = 95% CI excludes zero)")
    return "\n".join(lines)


def _study(cfg, overrides: list[str]) -> None:
    from sim.study import run_study

    result = run_study(cfg.study, overrides, progress=True)
    print(f"\nstudy {cfg.study.name!r}: {len(result.runs)} scenarios x {cfg.run.replications} replication(s), "
          f"{cfg.run.horizon_days:g} days ({cfg.run.warmup_days:g} warm-up), seed {cfg.run.seed}")
    print(format_comparison(result))
    print(f"\nstudy folder: {result.folder}")
    if (result.folder / "brief.html").exists():
        print(f"brief: {result.folder / 'brief.html'}")
    if result.failures:
        print(f"\n{len(result.failures)} replication(s) failed:", file=sys.stderr)
        for f in result.failures:
            print(f"  {f['scenario']} r{f['replication']}: {f['error']}", file=sys.stderr)
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Validate the overrides with one clear line on error, then hand over to Hydra."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a.startswith("-") for a in argv) and not any("," in a for a in argv):
        from sim import compose

        try:
            compose(argv)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(2)
    sys.argv = [sys.argv[0], *argv]
    _app()


if __name__ == "__main__":
    main()
