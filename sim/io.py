"""The on-disk layout of a run folder, written atomically, and loading it back.

A run folder holds ``config.yaml`` (the resolved scenario), ``kpis.parquet``,
``summary.csv``, ``occupancy.parquet``, ``sites.parquet``, ``villages.parquet``,
``conditions.parquet``, the per-patient tables when kept (``patients``, ``visits``,
``admissions``, ``emergency`` as parquet) and ``meta.json`` (versions, seed, wall time,
config hash).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from sim.config import Config
from sim.experiment import TABLES, RunResult

__all__ = ["write_run", "load_run", "atomic_write_bytes", "safe_child"]


def safe_child(root: Path, name: str) -> Path:
    """``root / name``, refusing names that would leave ``root``.

    >>> safe_child(Path("/tmp/out"), "baseline").as_posix()
    '/tmp/out/baseline'
    """
    p = (root / name).resolve()
    if root.resolve() not in (p, *p.parents):
        raise ValueError(f"output name {name!r} would leave the output folder {root}")
    return p


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    df.to_parquet(tmp, index=isinstance(df.index, pd.Index) and df.index.name is not None)
    os.replace(tmp, path)


def config_yaml(cfg: Config) -> str:
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


def write_run(result: RunResult, folder: str | Path) -> Path:
    """Write every table of a run to ``folder`` (created if needed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(folder / "config.yaml", config_yaml(result.config).encode())
    _write_parquet(result.kpis, folder / "kpis.parquet")
    atomic_write_bytes(folder / "summary.csv", result.summary.to_csv(index=False).encode())
    _write_parquet(result.occupancy, folder / "occupancy.parquet")
    _write_parquet(result.sites, folder / "sites.parquet")
    _write_parquet(result.villages, folder / "villages.parquet")
    _write_parquet(result.conditions, folder / "conditions.parquet")
    for t in TABLES:
        df = getattr(result, t)
        if df is not None:
            _write_parquet(df, folder / f"{t}.parquet")
    atomic_write_bytes(folder / "meta.json", json.dumps(result.meta, indent=2, default=str).encode())
    return folder


def load_run(folder: str | Path) -> RunResult:
    """Load a run folder back into a :class:`RunResult` (no model needed)."""
    from omegaconf import OmegaConf

    from sim.config import to_config

    folder = Path(folder)
    cfg = to_config(OmegaConf.load(folder / "config.yaml"))
    tables = {t: pd.read_parquet(folder / f"{t}.parquet") if (folder / f"{t}.parquet").exists() else None
              for t in TABLES}
    return RunResult(
        config=cfg, kpis=pd.read_parquet(folder / "kpis.parquet"), summary=pd.read_csv(folder / "summary.csv"),
        occupancy=pd.read_parquet(folder / "occupancy.parquet"), sites=pd.read_parquet(folder / "sites.parquet"),
        villages=pd.read_parquet(folder / "villages.parquet"),
        conditions=pd.read_parquet(folder / "conditions.parquet"),
        meta=json.loads((folder / "meta.json").read_text()), **tables)

