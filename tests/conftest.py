"""Shared fixtures for the test suite.

Composing a scenario through Hydra costs ~0.5 s, so composed configs are cached per
worker process and handed out as deep copies: a test may modify its copy freely.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import sim

# Property-based tests: deterministic under CI (derandomized, a fixed number of examples, no
# example database), random locally; ``HYPOTHESIS_PROFILE=explore`` (or pytest's
# ``--hypothesis-profile=explore``) runs ten times as many random examples by hand.
_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", derandomize=True, database=None, max_examples=40, print_blob=True, **_COMMON)
settings.register_profile("dev", max_examples=40, **_COMMON)
settings.register_profile("explore", max_examples=400, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
NETWORKS = sorted(p.stem for p in (ROOT / "scenarios" / "network").glob("*.yaml"))
RUN_OPTIONS = sorted(p.stem for p in (ROOT / "scenarios" / "run").glob("*.yaml"))


@cache
def _composed(overrides: tuple[str, ...]) -> sim.Config:
    return sim.compose(list(overrides))


def compose(*overrides: str) -> sim.Config:
    """A fresh (deep-copied) composed config; safe to mutate."""
    return copy.deepcopy(_composed(tuple(overrides)))


@pytest.fixture
def make_cfg():
    """``make_cfg("run.horizon_days=5", ...)`` -> a toy config (network=toy, run=test) plus overrides."""

    def _make(*overrides: str) -> sim.Config:
        return compose("network=toy", "run=test", *overrides)

    return _make


@pytest.fixture(scope="session")
def toy_result() -> sim.RunResult:
    """One short replication of the toy county (run=test: 7 days, 1 day warm-up)."""
    return sim.run(compose("network=toy", "run=test"), jobs=1)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120):
    """``python -m sim args...`` in a subprocess; returns the CompletedProcess."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([PYTHON, "-m", "sim", *args], cwd=cwd or ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def pytest_collection_modifyitems(config, items):
    """Modules holding slow validation runs go first (each module's tests stay together, so a
    module-scoped fixture is built once per worker): under xdist the long runs then start while
    every worker is busy, instead of one of them finishing alone at the end of the suite."""
    slow_modules = {item.module.__name__ for item in items
                    if getattr(item, "module", None) is not None and item.get_closest_marker("slow")}
    order = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda item: (0 if getattr(item, "module", None) is not None
                                 and item.module.__name__ in slow_modules else 1, order[id(item)]))
