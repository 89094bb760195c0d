"""What the levers change for one (site, condition): the :class:`Rule`, built together by
the enabled levers of a replication (:class:`SiteRules`), and the decision codes the flow and
the levers' hooks share.

``world.rules[s][c]`` is a :class:`Rule` where some lever acts for condition ``c`` at site
``s``, else None (and ``world.rules[s]`` is None where no lever acts at ``s``): the flow calls
the levers' hooks (:class:`sim.levers.protocol.Hooks`) only where there is a rule, so a site
or condition no lever touches costs one list look-up per visit.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from sim.engine.resources import Pool
from sim.levers.reading import ReadingCentre
from sim.records.log import LEVER_EVENT

__all__ = ["Rule", "SiteRules", "DEFAULT", "EXPERT", "SKILL", "DEFER", "EV"]

#: how a patient is seen, decided before the queue (:func:`sim.levers.protocol.Hooks.decide`):
#: the site's static routing; by a visiting specialist (managed at the site); by the site's own
#: doctors on the skill they learnt (传帮带: the condition's tier no longer stands in the way);
#: sent home to come back later (the deciding lever's ``defer`` hook).
DEFAULT, EXPERT, SKILL, DEFER = 0, 1, 2, 3
#: lever event name -> code (:class:`sim.records.codes.LeverEvent`), for ``log.lever_event``.
EV = {v: k for k, v in LEVER_EVENT.items()}


class Rule:
    """What the levers change for one (member site, condition).

    The first block is the site's own routing facts (set when the rule is made); then the
    fields of each lever, set by that lever's ``install`` and read by its hooks only.  A new
    lever with per-(site, condition) state adds its fields here.
    """

    __slots__ = ("base_kind", "static_manage", "local_tests", "tier_ok", "diag_local",
                 "slot", "expert_kind", "expert_tests", "defer_ok", "tolerance", "spread",
                 "remote_mods", "remote_ok", "centre", "manageable", "mdt",
                 "tele_ecg", "tele_dest")

    #: the lead's reading centre: set by the remote lever together with ``remote_mods`` or by
    #: the tele-ECG lever with ``tele_ecg``, the only cases in which it is read (unset, not
    #: None, otherwise)
    centre: ReadingCentre

    def __init__(self) -> None:
        # the site's own routing (sim.model.world), and what a lever's decision builds on
        self.base_kind = "general"
        self.static_manage = False
        self.local_tests: tuple[str, ...] = ()
        self.tier_ok = False
        self.diag_local = False
        # expert visits (sim.levers.expert)
        self.slot: Any = None  # the site's sim.levers.expert.Slot of the specialty, or None
        self.expert_kind: str | None = None
        self.expert_tests: tuple[str, ...] = ()
        self.defer_ok = False
        self.tolerance = 0.0
        self.spread = 0.0
        # remote reading and consultation (sim.levers.remote)
        self.remote_mods: tuple[str, ...] = ()
        self.remote_ok = False
        self.manageable = 1.0
        self.mdt: Any = None  # a sim.levers.remote.Mdt, or None
        # tele-ECG pre-activation (sim.levers.tele_ecg): the emergency's ECG is read remotely
        self.tele_ecg = False
        self.tele_dest = -1


class SiteRules:
    """The rules, pools and processes the enabled levers of one replication build together.

    :meth:`rule` makes a (site, condition)'s rule on first use; :meth:`add_pool` registers a
    pool that belongs to no site (a reading centre's readers, consultation lines) with the
    position of its first use, and :meth:`finish` lists them in ``world.lever_pools`` and
    starts their processes in that order, whichever lever used them first.  That keeps
    the occupancy table and the order of events the same however the levers are split.
    """

    def __init__(self, w) -> None:
        self.w = w
        self.rules: list[list[Rule | None] | None] = [None] * len(w.sites)
        self._order: dict[Pool, tuple] = {}
        self._process: dict[Pool, Callable[[Any], Generator]] = {}

    def rule(self, s: int, c: int) -> Rule:
        """The rule of site ``s`` and condition ``c``, made with the site's routing facts."""
        of_site = self.rules[s]
        if of_site is None:
            of_site = self.rules[s] = [None] * len(self.w.conds)
        r = of_site[c]
        if r is None:
            w = self.w
            r = Rule()
            info = w.infos[s]
            cond = w.conds[c]
            r.base_kind = w.kind[s][c]
            r.static_manage = w.manage[s][c]
            r.local_tests = w.local_tests[s][c]
            r.tier_ok = info.tier >= cond.min_tier
            r.diag_local = all(d in info.acquire and d in info.read for d in cond.diagnostics)
            of_site[c] = r
        return r

    def add_pool(self, pool: Pool, order: tuple, process: Callable[[Any], Generator] | None = None) -> None:
        """Register ``pool`` (again) at position ``order`` (it keeps the first, i.e. least,
        position); ``process(env)``, if given, is started by :meth:`finish` (a rota)."""
        have = self._order.get(pool)
        if have is None or order < have:
            self._order[pool] = order
        if process is not None:
            self._process[pool] = process

    def finish(self) -> None:
        """Publish the rules (``world.rules``) and the pools (``world.lever_pools``), and start
        the pools' processes, in order of first use."""
        w = self.w
        pools = sorted(self._order, key=self._order.__getitem__)
        w.lever_pools.extend(pools)
        for p in pools:
            start = self._process.get(p)
            if start is not None:
                w.env.process(start(w.env))
        w.rules = self.rules
