"""The record schema, declared once: every output table's columns, in order, and their dtypes.

Every table a run or a study writes (the per-patient tables of :data:`RECORD_TABLES`, plus
``kpis`` and ``occupancy``) is coerced to this schema on write and on read-back, whatever the
path that produced it: a fresh replication, one read back from a study's checkpoint (resume),
one returned by a Dask worker, an empty table.  So a resumed study writes the same column types
as an uninterrupted one, and an empty lever table keeps its categorical columns.

Categorical columns name where their categories come from:

- the run's own ids (:class:`Categories`): ``facility`` (every site id, facilities then
  ``clinic:<village>``: the ``site`` column of the run's sites table), ``village`` (the villages
  table), ``condition`` (the conditions table's index, ``care.conditions`` order), ``specialty``
  (the expert teams' specialties in team order, from ``levers.expert``; none when it is off);
- or a fixed code list of :mod:`sim.records.log` (``EXIT``, ``OUTCOME``, ``MODE``, ``ADMISSION``,
  ``REPERFUSION``, ``LEVER_EVENT``, ``STUDY_STATUS``) or ``MODALITIES`` (:mod:`sim.config`).

String columns (``scenario``, KPI names, occupancy ids) are pandas ``str``.  This module
imports no SimPy: it can be used on saved folders without the model.

>>> cats = Categories(facility=("t1", "lead"), village=("v1",), condition=("minor_illness",))
>>> df = empty("lever_events", cats)
>>> [str(t) for t in df.dtypes]
['str', 'int32', 'uint32', 'category', 'float64', 'category', 'float32']
>>> list(df["site"].cat.categories), len(df["event"].cat.categories) == len(LEVER_EVENT)
(['t1', 'lead'], True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import MODALITIES
from sim.records.codes import ADMISSION, EXIT, LEVER_EVENT, MODE, OUTCOME, REPERFUSION, STUDY_STATUS

__all__ = ["RECORD_TABLES", "SCHEMA", "Categorical", "Categories", "categories", "expert_specialties",
           "columns", "dtypes", "empty", "coerce", "arrow_schema", "arrow_dictionary", "to_arrow", "read_table", "write_table",
           "with_keys", "KEY_COLUMNS", "ROW_GROUP"]

#: the per-patient record tables of a replication (``run.keep_patients``), in output order.
RECORD_TABLES = ("patients", "visits", "admissions", "emergency", "expert_visits", "remote_studies", "lever_events")

SOURCES = ("facility", "village", "condition", "specialty")


@dataclass(frozen=True)
class Categorical:
    """A categorical column: its categories come from the run (``source``) or a fixed code list."""

    source: str  # one of SOURCES, or "codes"
    codes: tuple[str, ...] = ()

    @classmethod
    def of(cls, codes: Mapping[int, str] | tuple[str, ...]) -> Categorical:
        """A fixed code list: a ``{code: name}`` dict of :mod:`sim.records.codes` (in code order) or names."""
        if isinstance(codes, Mapping):
            if list(codes) != list(range(len(codes))):
                raise ValueError("a code dict must map 0..n-1 to names")
            codes = tuple(codes.values())
        return cls("codes", tuple(codes))

    def categories(self, cats: Categories | None) -> tuple[str, ...]:
        return self.codes if self.source == "codes" else getattr(cats, self.source)

    def __repr__(self) -> str:
        return f"Categorical({self.source!r})" if self.source != "codes" else f"Categorical.of({self.codes!r})"


@dataclass(frozen=True)
class Categories:
    """The run-specific category lists of one scenario."""

    facility: tuple[str, ...]
    village: tuple[str, ...]
    condition: tuple[str, ...]
    specialty: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in SOURCES:
            object.__setattr__(self, name, tuple(str(x) for x in getattr(self, name)))


FACILITY, VILLAGE, CONDITION, SPECIALTY = (Categorical(s) for s in SOURCES)
_KEY = (("scenario", "str"), ("replication", "int32"))
#: the columns that say whose a row is; a replication's tables are held without them (:func:`with_keys`)
KEY_COLUMNS = tuple(c for c, _ in _KEY)

#: table -> ((column, dtype), ...): a numpy dtype name, ``"str"`` or a :class:`Categorical`.
SCHEMA: dict[str, tuple[tuple[str, str | Categorical], ...]] = {
    "patients": (*_KEY, ("patient", "uint32"), ("village", VILLAGE), ("condition", CONDITION),
                 ("onset", "float64"), ("exit", Categorical.of(EXIT)), ("exit_time", "float64"),
                 ("first_facility", FACILITY), ("travel_min", "float32"), ("first_travel_min", "float32"),
                 ("up_referrals", "uint8"), ("down_referrals", "uint8")),
    "visits": (*_KEY, ("patient", "uint32"), ("facility", FACILITY), ("arrive", "float64"), ("start", "float64"),
               ("end", "float64"), ("outcome", Categorical.of(OUTCOME)), ("mode", Categorical.of(MODE)),
               ("tests", "uint8")),
    "admissions": (*_KEY, ("patient", "uint32"), ("facility", FACILITY), ("request", "float64"),
                   ("admit", "float64"), ("discharge", "float64"), ("blocked_min", "float32"),
                   ("outcome", Categorical.of(ADMISSION))),
    "emergency": (*_KEY, ("patient", "uint32"), ("call", "float64"), ("fmc", "float64"), ("door", "float64"),
                  ("reperfusion", "float64"), ("reperfusion_kind", Categorical.of(REPERFUSION)), ("ecg", "float64"),
                  ("station", FACILITY), ("destination", FACILITY)),
    "expert_visits": (*_KEY, ("team", "uint16"), ("specialty", SPECIALTY), ("site", FACILITY), ("lead", FACILITY),
                      ("doctors", "uint16"), ("depart", "float64"), ("arrive", "float64"),
                      ("planned_end", "float64"), ("leave", "float64"), ("return", "float64")),
    "remote_studies": (*_KEY, ("patient", "uint32"), ("site", FACILITY), ("centre", FACILITY),
                       ("modality", Categorical.of(tuple(MODALITIES))), ("priority", "uint8"), ("sent", "float64"),
                       ("start", "float64"), ("report", "float64"), ("status", Categorical.of(STUDY_STATUS))),
    "lever_events": (*_KEY, ("patient", "uint32"), ("site", FACILITY), ("time", "float64"),
                     ("event", Categorical.of(LEVER_EVENT)), ("value", "float32")),
    "kpis": (*_KEY, ("metric", "str"), ("group", "str"), ("value", "float64")),
    "occupancy": (*_KEY, ("facility", "str"), ("resource", "str"), ("day", "int32"), ("in_use", "float64"),
                  ("queue", "float64"), ("capacity", "float64")),
}
assert set(RECORD_TABLES) <= set(SCHEMA)


def expert_specialties(cfg: Any) -> tuple[str, ...]:
    """The ``specialty`` categories of a config: its expert teams' specialties, first seen first
    (as :func:`sim.levers.expert.install` numbers them); none when expert visits are off."""
    ex = cfg.levers.expert
    out: list[str] = []
    if ex.enabled:
        for team in ex.teams:
            if team.specialty not in out:
                out.append(team.specialty)
    return tuple(out)


def categories(sites: pd.DataFrame, villages: pd.DataFrame, conditions: pd.DataFrame, cfg: Any) -> Categories:
    """The category lists of a run, from its sites, villages and conditions tables and its config
    (:func:`sim.experiment.runner.sites_table`, ...: the same in memory and read back from a run folder)."""
    cond = conditions["condition"] if "condition" in conditions.columns else conditions.index
    return Categories(facility=tuple(sites["site"]), village=tuple(villages["village"]), condition=tuple(cond),
                      specialty=expert_specialties(cfg))


def columns(table: str) -> list[str]:
    """The declared columns of ``table``, in order."""
    return [c for c, _ in _spec(table)]


def _spec(table: str) -> tuple[tuple[str, str | Categorical], ...]:
    try:
        return SCHEMA[table]
    except KeyError:
        raise KeyError(f"no record schema for table {table!r} (tables: {', '.join(SCHEMA)})") from None


def _dtype(d: str | Categorical, cats: Categories | None) -> Any:
    if isinstance(d, Categorical):
        if d.source != "codes" and cats is None:
            raise ValueError(f"the {d.source} categories are needed (pass Categories)")
        return pd.CategoricalDtype(pd.Index(list(d.categories(cats)), dtype="str"), ordered=False)
    return pd.StringDtype(na_value=np.nan) if d == "str" else np.dtype(d)


def dtypes(table: str, cats: Categories | None = None) -> dict[str, Any]:
    """Column -> pandas dtype of ``table`` for a run's categories."""
    return {c: _dtype(d, cats) for c, d in _spec(table)}


def empty(table: str, cats: Categories | None = None) -> pd.DataFrame:
    """An empty frame of ``table`` with the declared columns and dtypes."""
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in dtypes(table, cats).items()})


def _same(have: Any, want: Any) -> bool:
    if isinstance(want, pd.CategoricalDtype):
        return (isinstance(have, pd.CategoricalDtype) and have.ordered == want.ordered
                and have.categories.dtype == want.categories.dtype
                and list(have.categories) == list(want.categories))
    return have == want


def _to_categorical(s: pd.Series, want: pd.CategoricalDtype, where: str) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype):
        # recode by value: category lists may differ in order or be empty (read back from parquet)
        lookup = want.categories.get_indexer(pd.Index(list(s.cat.categories), dtype="str"))
        codes = s.cat.codes.to_numpy()
        if len(lookup):
            used = codes[codes >= 0]
            bad = lookup[used] < 0 if len(used) else np.zeros(0, dtype=bool)
            if bad.any():
                raise ValueError(f"{where}: values {sorted(set(s.cat.categories[used[bad]]))[:5]} are not among the "
                                 f"declared categories (sim/records/schema.py)")
            new = np.where(codes >= 0, lookup[np.maximum(codes, 0)], -1)
        elif (codes >= 0).any():  # pragma: no cover - codes without categories
            raise ValueError(f"{where}: codes without categories")
        else:
            new = codes
        return pd.Series(pd.Categorical.from_codes(new.astype(np.int32), dtype=want), index=s.index, name=s.name)
    known = s.notna().to_numpy()
    codes = np.full(len(s), -1, dtype=np.int32)
    if known.any():
        codes[known] = want.categories.get_indexer(pd.Index(s[known].astype(str).to_numpy(), dtype="str"))
    lost = known & (codes < 0)
    if lost.any():
        raise ValueError(f"{where}: values {sorted(set(map(str, s[lost])))[:5]} are not among the declared "
                         f"categories (sim/records/schema.py)")
    return pd.Series(pd.Categorical.from_codes(codes, dtype=want), index=s.index, name=s.name)


def coerce(df: pd.DataFrame, table: str, cats: Categories | None = None) -> pd.DataFrame:
    """``df`` with exactly the declared columns of ``table``, in order, and their dtypes.

    Raises ``ValueError`` naming the table and column when a column is missing or unknown, or a
    categorical value is not among the declared categories.  Returns ``df`` itself when it
    already conforms.
    """
    want = dtypes(table, cats)
    cols = list(want)
    missing = [c for c in cols if c not in df.columns]
    extra = [c for c in df.columns if c not in want]
    if missing or extra:
        raise ValueError(f"table {table!r} does not match its record schema (sim/records/schema.py): "
                         + ", ".join([*(f"missing column {c!r}" for c in missing),
                                      *(f"undeclared column {c!r}" for c in extra)]))
    if list(df.columns) == cols and all(_same(df[c].dtype, t) for c, t in want.items()):
        return df
    out = {}
    for c, t in want.items():
        s = df[c]
        if not _same(s.dtype, t):
            if isinstance(t, pd.CategoricalDtype):
                s = _to_categorical(s, t, f"{table}.{c}")
            else:
                s = s.astype(t)
        out[c] = s
    return pd.DataFrame(out, index=df.index, copy=False)


def arrow_schema(table: str, cats: Categories | None = None):
    """The pyarrow schema ``table`` is written with (no index): categorical columns as
    ``dictionary<values=string>``, the type parquet gives back, so a file reads back with the
    schema it was written with."""
    import pyarrow as pa

    schema = pa.Schema.from_pandas(empty(table, cats), preserve_index=False)
    for i, f in enumerate(schema):
        if pa.types.is_dictionary(f.type):
            schema = schema.set(i, f.with_type(pa.dictionary(f.type.index_type, pa.string(), f.type.ordered)))
    return schema


def arrow_dictionary(table: str, column: str, cats: Categories | None = None):
    """The dictionary (categories) of a categorical column, as the pyarrow array it is written with."""
    import pyarrow as pa

    t = dtypes(table, cats)[column]
    return pa.array(list(t.categories), type=arrow_schema(table, cats).field(column).type.value_type)


def to_arrow(df: pd.DataFrame, table: str, cats: Categories | None = None, schema=None):
    """``df`` coerced to the schema, as a pyarrow Table (the index is dropped)."""
    import pyarrow as pa

    schema = schema if schema is not None else arrow_schema(table, cats)
    return pa.Table.from_pandas(coerce(df, table, cats), schema=schema, preserve_index=False)


#: rows per parquet row group, and per slice converted to arrow when a table is written (so the
#: arrow copy of a county-year table is one slice, not the whole table; pyarrow's own default)
ROW_GROUP = 1024 * 1024


def with_keys(df: pd.DataFrame, scenario: str, replication: int) -> pd.DataFrame:
    """``df`` with its key columns, ``scenario`` and ``replication``, first (as the record schema
    declares them).  A replication's tables are held without them (a string per row is 16 bytes
    a journey) and get them here when collected or written; a frame that has them is returned as
    it is.

    >>> df = with_keys(pd.DataFrame({"patient": [0, 1]}), "baseline", 3)
    >>> list(df.columns), df["scenario"].tolist(), str(df["replication"].dtype)
    (['scenario', 'replication', 'patient'], ['baseline', 'baseline'], 'int32')
    """
    if "scenario" in df.columns:
        return df
    out = df.copy(deep=False)
    out.insert(0, "replication", np.int32(replication))
    out.insert(0, "scenario", scenario)
    return out


def write_table(df: pd.DataFrame, path: str | Path, table: str, cats: Categories | None = None,
                keys: tuple[str, int] | None = None) -> None:
    """Write ``df`` to a parquet file with the declared schema, ``ROW_GROUP`` rows at a time.

    ``keys`` (``scenario, replication``) are added to each slice of a frame held without them
    (:func:`with_keys`)."""
    import pyarrow.parquet as pq

    def part(i: int):
        s = df.iloc[i:i + ROW_GROUP]
        return to_arrow(with_keys(s, *keys) if keys else s, table, cats)

    if len(df) <= ROW_GROUP:
        pq.write_table(part(0), path, row_group_size=ROW_GROUP)
        return
    first = part(0)
    with pq.ParquetWriter(path, first.schema) as writer:
        writer.write_table(first, row_group_size=ROW_GROUP)
        del first
        for i in range(ROW_GROUP, len(df), ROW_GROUP):
            writer.write_table(part(i), row_group_size=ROW_GROUP)


def read_table(path: str | Path, table: str, cats: Categories | None = None) -> pd.DataFrame:
    """Read a parquet file of ``table`` back with the declared columns and dtypes."""
    return coerce(pd.read_parquet(path), table, cats)
