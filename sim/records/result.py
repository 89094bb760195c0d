"""The result of one scenario's replications: its tidy tables, loaded lazily from a run folder.

:class:`RunResult` is what :func:`sim.run` returns and :func:`sim.load_run` reads back; its
per-patient tables follow the record schema (:mod:`sim.records.schema`).  No SimPy here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from sim.config import Config
from sim.records import schema as record_schema

__all__ = ["RunResult", "Deferred", "TABLES"]

#: the per-patient record tables (declared with their columns in :mod:`sim.records.schema`).
TABLES = record_schema.RECORD_TABLES


class Deferred:
    """A table of a :class:`RunResult` still in its run folder: read (and coerced to the record
    schema) on first access."""

    __slots__ = ("path",)

    def __init__(self, path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"Deferred({str(self.path)!r})"


def _read_deferred(result: RunResult, name: str, value: Deferred) -> pd.DataFrame:
    cats = record_schema.categories(result.sites, result.villages, result.conditions, result.config)
    return record_schema.read_table(value.path, name, cats)


class _Table:
    """A table field of :class:`RunResult`: a DataFrame, ``None``, or a :class:`Deferred` loaded
    from disk on first access (and then kept)."""

    def __init__(self, optional: bool = True) -> None:
        self.optional = optional

    def __set_name__(self, owner, name: str) -> None:
        self.name = name
        self.key = f"_{name}"

    def __get__(self, obj, objtype=None):
        if obj is None:
            if self.optional:
                return None  # the dataclass field's default
            raise AttributeError(self.name)  # a field without default
        value = obj.__dict__.get(self.key)
        if isinstance(value, Deferred):
            value = obj.__dict__[self.key] = _read_deferred(obj, self.name, value)
        return value

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.key] = value


@dataclass
class RunResult:
    """The tidy tables of one scenario's replications.

    The per-patient tables and ``occupancy`` of a result loaded from a run folder (a study's
    ``runs[name]``, :func:`sim.analysis.io.load_run` with ``lazy=True``) are read on first access; a
    pickled result carries them all (it does not depend on the folder).
    """

    config: Config
    kpis: pd.DataFrame
    summary: pd.DataFrame
    if TYPE_CHECKING:
        # a required field to type checkers: mypy counts the descriptor as a default (and then
        # rejects the fields without one after it), whereas dataclasses sees none (the
        # descriptor's class-level __get__ raises AttributeError)
        occupancy: pd.DataFrame
    else:
        occupancy: pd.DataFrame = _Table(optional=False)
    sites: pd.DataFrame
    villages: pd.DataFrame
    conditions: pd.DataFrame
    patients: pd.DataFrame | None = _Table()
    visits: pd.DataFrame | None = _Table()
    admissions: pd.DataFrame | None = _Table()
    emergency: pd.DataFrame | None = _Table()
    expert_visits: pd.DataFrame | None = _Table()
    remote_studies: pd.DataFrame | None = _Table()
    lever_events: pd.DataFrame | None = _Table()
    meta: dict = field(default_factory=dict)

    @property
    def scenario(self) -> str:
        return self.config.scenario

    def kpi(self, metric: str, group: str = "county") -> pd.Series:
        """One KPI's values by replication."""
        k = self.kpis[(self.kpis["metric"] == metric) & (self.kpis["group"] == group)]
        return k.set_index("replication")["value"]

    def deferred(self) -> list[str]:
        """The tables not read from the run folder yet."""
        return [k[1:] for k, v in self.__dict__.items() if isinstance(v, Deferred)]

    def __getstate__(self) -> dict:
        # a pickle is self-contained: it carries what is still on disk (this result stays lazy)
        return {k: _read_deferred(self, k[1:], v) if isinstance(v, Deferred) else v for k, v in self.__dict__.items()}

    def __setstate__(self, state: dict) -> None:
        for k, v in state.items():  # pickles made before the tables were loadable on demand
            self.__dict__[f"_{k}" if k in _TABLE_FIELDS else k] = v

    def __repr__(self) -> str:
        n = self.kpis["replication"].nunique() if len(self.kpis) else 0
        return f"RunResult(scenario={self.scenario!r}, replications={n})"


_TABLE_FIELDS = frozenset(n for n, v in vars(RunResult).items() if isinstance(v, _Table))
