"""Fixtures shared by the validation tests (one model run reused by several files)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def jackson_run():
    """(config, RunResult) of the villages -> township -> lead Jackson network (test_jackson.py)."""
    import sim
    from tests.validation.test_jackson import jackson_config

    cfg = jackson_config()
    return cfg, sim.run(cfg, jobs=1)
