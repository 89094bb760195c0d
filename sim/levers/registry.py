"""The policy levers, listed once, in the order they are installed and their hooks chained.

The order is part of the results: the levers build the shared rules in turn, start their
processes in turn (event order) and chain their ``settle`` hooks in turn, so a new lever goes
at the end.  The model reaches the levers only through :func:`levers_on` and
:func:`install` (and the hooks :func:`install` puts on the world).
"""

from __future__ import annotations

from sim.config.schema import Config
from sim.levers import expert, green_channel, remote, tele_ecg
from sim.levers.protocol import Hooks, Lever
from sim.levers.site_rules import SiteRules

__all__ = ["LEVERS", "enabled_levers", "levers_on", "install"]

#: every lever, in installation order.
LEVERS: tuple[Lever, ...] = (expert, remote, tele_ecg, green_channel)


def enabled_levers(cfg: Config) -> list[Lever]:
    """The levers the config switches on, in registry order."""
    if getattr(cfg, "levers", None) is None:
        return []
    return [lv for lv in LEVERS if lv.enabled(cfg)]


def levers_on(cfg: Config) -> bool:
    """Whether any lever is on (patients then draw the levers' attributes at arrival)."""
    return bool(enabled_levers(cfg))


def install(w) -> None:
    """Install every enabled lever into one replication's world, in registry order, then
    publish the rules and pools they built and the hooks the flow calls (``w.hooks``)."""
    levers = enabled_levers(w.cfg)
    rules = SiteRules(w)
    for lv in levers:
        lv.install(w, rules)
    rules.finish()
    w.hooks = Hooks(levers)
