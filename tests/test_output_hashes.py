"""Refactors change no result: the fixed runs of tests/output_hashes.py give the recorded
content hashes of every output table (see that module for when to re-record)."""

from __future__ import annotations

import json

import pytest

from tests.output_hashes import FIXTURE, compute_all


@pytest.mark.slow
def test_every_output_table_has_its_recorded_hash():
    recorded = json.loads(FIXTURE.read_text())
    now = compute_all()
    assert set(now) == set(recorded)
    changed = [f"{run}/{t}" for run in sorted(now) for t in sorted(now[run]) if now[run][t] != recorded[run].get(t)]
    assert not changed, (f"{len(changed)} output tables changed (a refactor must change none; a behaviour change "
                         f"re-records with scripts/record_output_hashes.py): {', '.join(changed[:20])}")
