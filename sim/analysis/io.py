"""The on-disk layout of a run folder, written atomically, and loading it back.

A run folder holds ``config.yaml`` (the resolved scenario), ``kpis.parquet``,
``summary.csv``, ``occupancy.parquet``, ``sites.parquet``, ``villages.parquet``,
``conditions.parquet``, the per-patient tables when kept (``patients``, ``visits``,
``admissions``, ``emergency`` and the lever tables as parquet) and ``meta.json`` (versions,
seed, wall time, config hash).

``kpis``, ``occupancy`` and the per-patient tables are written and read back with the columns
and dtypes of :mod:`sim.records.schema` (categorical ids included, empty tables too), however
they were produced.  :func:`assemble_run` builds a study scenario's run folder from its
replication folders one replication at a time, so its memory does not grow with replications.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sim.config import Config
from sim.records import schema as record_schema
from sim.records.result import TABLES, Deferred, RunResult

__all__ = ["write_run", "load_run", "assemble_run", "atomic_write_bytes", "safe_child"]


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


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = _tmp(path)
    df.to_parquet(tmp, index=isinstance(df.index, pd.Index) and df.index.name is not None)
    os.replace(tmp, path)


def write_table(df: pd.DataFrame, path: Path, table: str, cats: record_schema.Categories | None) -> None:
    """Write a record table with its declared schema, atomically."""
    tmp = _tmp(path)
    record_schema.write_table(df, tmp, table, cats)
    os.replace(tmp, path)


def stream_tables(sources: Sequence[Path], path: Path, table: str, cats: record_schema.Categories,
                  move: bool = False) -> None:
    """Concatenate parquet files of one record table into ``path``, one row group of one file at
    a time (memory, issue #18: a county-year's table is hundreds of MB, a row group at most
    :data:`~sim.records.schema.ROW_GROUP` rows), in order, each coerced to the declared schema.

    ``move``: the sources were just written with the declared schema and these categories (the
    replications of :func:`sim.experiment.runner.run_to_folder`) and may be consumed; a single
    source with the declared schema is then renamed to ``path`` instead of copied (a one-
    replication run wrote its tables twice: a twelfth of a 28-day Taobei run, issue #18)."""
    import pyarrow.parquet as pq
    import pyarrow.types as pat

    schema = record_schema.arrow_schema(table, cats)
    dicts = {f.name: record_schema.arrow_dictionary(table, f.name, cats) for f in schema if pat.is_dictionary(f.type)}
    if move and len(sources) == 1 and _file_conforms(sources[0], schema, dicts):
        os.replace(sources[0], path)
        return
    tmp = _tmp(path)
    with pq.ParquetWriter(tmp, schema) as writer:
        for src in sources:
            f = pq.ParquetFile(src)
            for i in range(f.num_row_groups):
                t = f.read_row_group(i)
                if t.num_rows == 0:  # nothing to add (an empty table keeps the declared schema)
                    continue
                if not _conforms(t, schema, dicts):  # e.g. a checkpoint written before the schema was declared
                    t = record_schema.to_arrow(t.to_pandas(), table, cats, schema)
                writer.write_table(t, row_group_size=record_schema.ROW_GROUP)
                del t
            f.close()
    os.replace(tmp, path)


def _file_conforms(src: Path, schema, dicts: dict) -> bool:
    """A parquet file with the declared schema and dictionaries (read: only its dictionary
    columns, whose codes are a byte a row)."""
    import pyarrow.parquet as pq

    if not pq.read_schema(src).equals(schema, check_metadata=False):
        return False
    with pq.ParquetFile(src) as f:
        return all(_conforms(f.read_row_group(i, columns=list(dicts)), schema, dicts, names_only=True)
                   for i in range(f.num_row_groups))


def _conforms(t, schema, dicts: dict, names_only: bool = False) -> bool:
    """A table read back that already has the declared schema, dictionaries included (then it is
    written as read: one copy of one replication in memory)."""
    if not names_only and not t.schema.equals(schema, check_metadata=False):
        return False
    for name, expected in dicts.items():
        for chunk in t.column(name).chunks:
            if not chunk.dictionary.equals(expected):
                return False
    return True


def _categories(result: RunResult) -> record_schema.Categories:
    return record_schema.categories(result.sites, result.villages, result.conditions, result.config)


def config_yaml(cfg: Config) -> str:
    """The run's config as YAML: exactly ``OmegaConf.to_yaml(OmegaConf.structured(cfg))``
    (a test holds them equal), written with OmegaConf's own YAML dumper from plain dicts and
    lists, without building the typed node tree first (speed, issue #18: that took ~1 s per run
    folder of a bundled county, a sixth of a 28-day replication)."""
    import yaml
    from omegaconf import OmegaConf

    try:
        from omegaconf._utils import get_omega_conf_dumper
    except ImportError:  # pragma: no cover - another OmegaConf: its public, slower way
        return OmegaConf.to_yaml(OmegaConf.structured(cfg))
    return yaml.dump(_plain(cfg), Dumper=_fast_dumper(get_omega_conf_dumper()), default_flow_style=False,
                     allow_unicode=True, sort_keys=False)


_FAST_DUMPERS: dict[type, type] = {}


def _fast_dumper(dumper: type) -> type:
    """OmegaConf's dumper on libyaml's emitter (``yaml.CDumper``) when PyYAML has it: the same
    representers, so the same text (a test holds it to OmegaConf's), three times as fast."""
    import yaml

    if not getattr(yaml, "__with_libyaml__", False):
        return dumper
    fast = _FAST_DUMPERS.get(dumper)
    if fast is None:
        fast = type("OmegaConfCDumper", (yaml.CDumper,), {})
        for kind, rep in dumper.yaml_representers.items():  # type: ignore[attr-defined]
            fast.add_representer(kind, rep)  # type: ignore[attr-defined]
        _FAST_DUMPERS[dumper] = fast
    return fast


def _plain(x: object) -> object:
    """A config as OmegaConf's ``to_container`` gives it: dataclasses as dicts in field order,
    tuples as lists, enums by name."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, enum.Enum):
        return x.name
    return x


def write_run(result: RunResult, folder: str | Path) -> Path:
    """Write every table of a run to ``folder`` (created if needed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cats = _categories(result)
    _write_header(result.config, result.kpis, result.summary, result.sites, result.villages, result.conditions,
                  folder, cats)
    write_table(result.occupancy, folder / "occupancy.parquet", "occupancy", cats)
    for t in TABLES:
        df = getattr(result, t)
        if df is not None:
            write_table(df, folder / f"{t}.parquet", t, cats)
    atomic_write_bytes(folder / "meta.json", json.dumps(result.meta, indent=2, default=str).encode())
    return folder


def _write_header(cfg: Config, kpis: pd.DataFrame, summary: pd.DataFrame, sites: pd.DataFrame,
                  villages: pd.DataFrame, conditions: pd.DataFrame, folder: Path,
                  cats: record_schema.Categories) -> None:
    atomic_write_bytes(folder / "config.yaml", config_yaml(cfg).encode())
    write_table(kpis, folder / "kpis.parquet", "kpis", cats)
    atomic_write_bytes(folder / "summary.csv", summary.to_csv(index=False).encode())
    _write_parquet(sites, folder / "sites.parquet")
    _write_parquet(villages, folder / "villages.parquet")
    _write_parquet(conditions, folder / "conditions.parquet")


def assemble_run(cfg: Config, sites: pd.DataFrame, villages: pd.DataFrame, conditions: pd.DataFrame,
                 replications: Sequence[Path], folder: str | Path, meta: dict, move: bool = False) -> RunResult:
    """Build a run folder from replication folders (each with ``kpis.parquet``,
    ``occupancy.parquet`` and, when kept, the per-patient tables) without holding more than one
    replication's table in memory; returns the folder's :class:`RunResult`, whose occupancy and
    per-patient tables are read on first access.

    The tables are concatenated in the order of ``replications``; KPIs (small) are read whole.
    ``move``: the replication folders were written by this run and are consumed (see
    :func:`stream_tables`); a study's, its checkpoints, are not.
    """
    from sim.analysis.kpis import summarise

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    reps = [Path(r) for r in replications]
    cats = record_schema.categories(sites, villages, conditions, cfg)
    kpis = record_schema.coerce(
        pd.concat([record_schema.read_table(r / "kpis.parquet", "kpis", cats) for r in reps], ignore_index=True),
        "kpis", cats)
    summary = summarise(kpis)
    _write_header(cfg, kpis, summary, sites, villages, conditions, folder, cats)
    stream_tables([r / "occupancy.parquet" for r in reps], folder / "occupancy.parquet", "occupancy", cats, move)
    tables: dict[str, Deferred | None] = {}
    keep = all((r / f"{t}.parquet").exists() for r in reps for t in TABLES)
    for t in TABLES:
        target = folder / f"{t}.parquet"
        if keep:
            stream_tables([r / f"{t}.parquet" for r in reps], target, t, cats, move)
            tables[t] = Deferred(target)
        else:
            if target.exists():  # a run folder of the same scenario that kept them: not these replications
                target.unlink()
            tables[t] = None
    atomic_write_bytes(folder / "meta.json", json.dumps(meta, indent=2, default=str).encode())
    return RunResult(config=cfg, kpis=kpis, summary=summary, occupancy=Deferred(folder / "occupancy.parquet"),
                     sites=sites, villages=villages, conditions=conditions, meta=meta, **tables)


def load_run(folder: str | Path, lazy: bool = False) -> RunResult:
    """Load a run folder back into a :class:`RunResult` (no model needed).

    With ``lazy=True`` the occupancy and per-patient tables are read on first access.
    """
    from omegaconf import OmegaConf

    from sim.config import to_config

    folder = Path(folder)
    cfg = to_config(OmegaConf.load(folder / "config.yaml"))
    sites = pd.read_parquet(folder / "sites.parquet")
    villages = pd.read_parquet(folder / "villages.parquet")
    conditions = pd.read_parquet(folder / "conditions.parquet")
    cats = record_schema.categories(sites, villages, conditions, cfg)

    def table(name: str):
        path = folder / f"{name}.parquet"
        if not path.exists():
            return None
        return Deferred(path) if lazy else record_schema.read_table(path, name, cats)

    return RunResult(
        config=cfg, kpis=record_schema.read_table(folder / "kpis.parquet", "kpis", cats),
        summary=pd.read_csv(folder / "summary.csv"), occupancy=table("occupancy"), sites=sites,
        villages=villages, conditions=conditions, meta=json.loads((folder / "meta.json").read_text()),
        **{t: table(t) for t in TABLES})
