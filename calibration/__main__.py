"""Command line: ``python -m calibration [hydra overrides]`` fits the free parameters.

Examples::

    python -m calibration                                   # small default: toy, 8 points, 2 reps, 21 days
    python -m calibration network=xianghe design_points=16 replications=4 horizon_days=120 iterations=40
    python -m calibration targets=/path/to/my_county_targets.yaml care_out=none

A mistake in the targets, the space or the settings prints one line and exits with code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import hydra
from omegaconf import DictConfig, OmegaConf

from sim.config import ConfigError


@hydra.main(config_path=".", config_name="config", version_base=None)
def _app(node: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from calibration.fit import Settings, fit
    from calibration.report import print_summary, write_outputs

    try:
        out = Path(HydraConfig.get().runtime.output_dir)
        # a DictConfig's container is a dict (OmegaConf's return type covers every node kind)
        settings = Settings.from_mapping(cast(dict, OmegaConf.to_container(node, resolve=True)))
        result = fit(settings)
        paths = write_outputs(result, out)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    print_summary(result, paths)


def main() -> None:
    _app()


if __name__ == "__main__":
    main()
