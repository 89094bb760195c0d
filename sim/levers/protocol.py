"""The lever protocol: what a policy lever module provides, and the per-patient hooks the flow
calls (:class:`Hooks`), resolved once per replication from the enabled levers.

A lever is one module (:mod:`sim.levers.expert`, :mod:`sim.levers.remote`,
:mod:`sim.levers.tele_ecg`) with these module-level names (:class:`Lever`), listed once in
:data:`sim.levers.registry.LEVERS`:

``name``, ``section``
    its id and the config section it reads (``levers.expert``);
``validate(cfg)``
    its semantic config checks: a function of :mod:`sim.config.levers` (no SimPy), also run
    when a config is composed (:data:`sim.config.levers.LEVER_CHECKS`);
``enabled(cfg)``
    whether the config switches it on;
``install(world, rules)``
    build its state for one replication: per-(site, condition) fields on the shared
    :class:`~sim.levers.site_rules.Rule` (``rules.rule(s, c)``), pools and processes, records;
``kpis``, ``tables``
    the KPI ids (:data:`sim.analysis.registry.REGISTRY`) that measure it and the record tables
    (:data:`sim.records.schema.RECORD_TABLES`) it writes;
the hooks (each a function, or None where the lever does not act there)
    ``decide(w, rule, a, now, mode) -> (how, doctor kind, manage, tests)``
        at a non-emergency visit, before the queue (``how``: a code of
        :mod:`sim.levers.site_rules`);
    ``defer(w, rule, pid, v, a, s, row)``
        process step when ``decide`` said DEFER: the patient goes home and comes back;
    ``settle(w, rule, how, pid, c, a, s, row, manage, prio) -> manage``
        process step after the consult and tests: whether the site manages the patient;
    ``send_ahead(w, rule, pid, s) -> tests bits``
        process step at an emergency first contact that cannot give definitive care, where
        ``rule.tele_ecg``;
    ``at_door(w, pid, c, s, row, erow) -> bool``
        process step at the door of definitive emergency care: True when the lever gave the
        care (the flow then goes on to admission);
    ``queue_doctor(w, pool, pid, s, src, mode, prio, patience) -> True | event``
        at every non-emergency visit, in place of the doctor request: True when a doctor of
        ``pool`` was taken at once, else the request event to wait for (value True when
        granted, False when the patient reneged); ``src`` is the site the patient came from
        (-1 at a first contact), ``mode`` how they came;
    ``queue_bed(w, pid, s, prio, patience) -> True | event``
        at an admission (:func:`sim.model.flow.admit`), in place of the bed request, alike;
    ``down_target(w, pid, v) -> site``
        where a discharged hospital inpatient of village ``v`` with a down-referral goes (the
        tier-1 centre near home, ``w.home[v]``, without a lever).

The flow calls a hook only where a lever made a rule (``world.rules[s][c]``) or, for
``at_door``, ``queue_doctor``, ``queue_bed`` and ``down_target``, when a lever has one (each
None otherwise, read once per patient or call, so a lever that is off costs nothing);
``decide``/``defer``, ``send_ahead``, ``at_door``, ``queue_doctor``, ``queue_bed`` and
``down_target`` belong to one lever each, and the ``settle`` hooks of several levers run in
registry order, each given the ``manage`` of the one before.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Sequence
from typing import Any, Protocol, runtime_checkable

from sim.config.schema import Config
from sim.levers.site_rules import DEFAULT, Rule, SiteRules

__all__ = ["Lever", "Hooks", "HOOKS", "default_decide", "default_settle"]

Decide = Callable[..., tuple[int, str, bool, tuple[str, ...]]]
Process = Callable[..., Generator[Any, Any, Any]]

#: the per-patient hooks, in the order the flow meets them (the last three: in the order of
#: the protocol's growth, the green channel's).
HOOKS = ("decide", "defer", "settle", "send_ahead", "at_door", "queue_doctor", "queue_bed", "down_target")
#: the hooks that belong to one lever each (a plain function or process step, or None)
_SINGLE = ("decide", "send_ahead", "at_door", "queue_doctor", "queue_bed", "down_target")


@runtime_checkable
class Lever(Protocol):
    """What a lever module provides (its module-level names; see the module docstring)."""

    @property
    def name(self) -> str: ...
    @property
    def section(self) -> str: ...
    @property
    def kpis(self) -> tuple[str, ...]: ...
    @property
    def tables(self) -> tuple[str, ...]: ...

    def validate(self, cfg: Config) -> None: ...
    def enabled(self, cfg: Config) -> bool: ...
    def install(self, w: Any, rules: SiteRules) -> None: ...

    @property
    def decide(self) -> Decide | None: ...
    @property
    def defer(self) -> Process | None: ...
    @property
    def settle(self) -> Process | None: ...
    @property
    def send_ahead(self) -> Process | None: ...
    @property
    def at_door(self) -> Process | None: ...
    @property
    def queue_doctor(self) -> Callable[..., Any] | None: ...
    @property
    def queue_bed(self) -> Callable[..., Any] | None: ...
    @property
    def down_target(self) -> Callable[..., int] | None: ...


def default_decide(w, r: Rule, a, now: float, mode: int):
    """No lever decides: the site's static routing."""
    return DEFAULT, r.base_kind, r.static_manage, r.local_tests


def default_settle(w, r: Rule, how: int, pid: int, c: int, a, s: int, row: int, manage: bool, prio: int):
    """No lever settles: the consult's decision stands."""
    return manage
    yield  # a process step, like every settle hook


def _chain_settle(steps: Sequence[Process]) -> Process:
    def settle(w, r, how, pid, c, a, s, row, manage, prio):
        for step in steps:
            manage = yield from step(w, r, how, pid, c, a, s, row, manage, prio)
        return manage
    return settle


class Hooks:
    """The per-patient hooks of a replication's enabled levers, resolved once (``world.hooks``):
    one function per hook, so the flow makes no loop over levers and no extra call per
    patient (only several ``settle`` hooks are chained)."""

    __slots__ = HOOKS

    def __init__(self, levers: Sequence[Lever] = ()) -> None:
        owner: dict[str, str] = {}
        for hook in _SINGLE:
            having = [lv for lv in levers if getattr(lv, hook) is not None]
            if len(having) > 1:
                raise ValueError(f"levers {', '.join(lv.name for lv in having)} all have a {hook!r} hook, which "
                                 "belongs to one lever (combine them in one module, or chain them in "
                                 "sim.levers.protocol.Hooks)")
            if having:
                owner[hook] = having[0].name
        for lv in levers:
            if lv.defer is not None and owner.get("decide") != lv.name:
                raise ValueError(f"lever {lv.name!r} has a 'defer' hook but no 'decide' hook (defer runs when its "
                                 "decide says DEFER)")
        by_name = {lv.name: lv for lv in levers}
        decider = by_name.get(owner.get("decide", ""))
        self.decide: Decide = decider.decide if decider is not None and decider.decide else default_decide
        self.defer: Process | None = decider.defer if decider is not None else None
        settles: list[Process] = []
        for lv in levers:
            if lv.settle is not None:
                if not inspect.isgeneratorfunction(lv.settle):
                    raise ValueError(f"lever {lv.name!r}: settle must be a process step (a generator function)")
                settles.append(lv.settle)
        self.settle: Process = (settles[0] if len(settles) == 1 else
                                _chain_settle(settles) if settles else default_settle)
        self.send_ahead: Process | None = next((lv.send_ahead for lv in levers if lv.send_ahead is not None), None)
        self.at_door: Process | None = next((lv.at_door for lv in levers if lv.at_door is not None), None)
        self.queue_doctor: Callable[..., Any] | None = next(
            (lv.queue_doctor for lv in levers if lv.queue_doctor is not None), None)
        self.queue_bed: Callable[..., Any] | None = next((lv.queue_bed for lv in levers if lv.queue_bed is not None), None)
        self.down_target: Callable[..., int] | None = next(
            (lv.down_target for lv in levers if lv.down_target is not None), None)
