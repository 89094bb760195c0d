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
