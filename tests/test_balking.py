"""Balking: a non-emergency patient leaves on arrival when at least ``balk_queue`` patients are
already waiting for the same doctors (``sim.model.flow.care``), and the docs say so."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.county.patients import A_ADMIT, A_RENEGE, ATTRS
from sim.model.flow import Journey, care
from tests.test_two_way_referral import tiny

ROOT = Path(__file__).resolve().parent.parent


def outcomes(balk_queue: int, n: int) -> list[str]:
    """``n`` minor-illness patients arriving together at t1 (2 doctors): their visit outcomes."""
    w = tiny()
    w.balk_queue = balk_queue
    c = w.cat.ids.index("minor_illness")
    t1 = w.county.facility_ids.index("t1")
    a = [0.5] * len(ATTRS)
    a[A_ADMIT] = 0.99
    a[A_RENEGE] = 0.99   # a balker goes home
    for _ in range(n):
        pid = w.log.new_patients(np.array([0]), np.array([c]), np.array([60.0]), np.array([t1]), np.array([0.0]))
        Journey(w.env, care(w, pid, 0, c, list(a), t1, 0), 60.0)
    w.run()
    v = w.log.tables(w.site_ids, w.county.village_ids, w.cat.ids)["visits"].sort_values("patient")
    return list(v["outcome"].astype(str))


@pytest.mark.parametrize("balk_queue, balked", [(2, 1), (3, 0), (1, 2)])
def test_balks_when_at_least_balk_queue_are_already_waiting(balk_queue, balked):
    # 2 patients are seen at once, the 3rd and 4th find 0 and 1 waiting, the 5th finds 2
    out = outcomes(balk_queue, 5)
    assert out.count("balked") == balked
    assert out[5 - balked:] == ["balked"] * balked
    assert out.count("treated") == 5 - balked


def test_docs_state_the_balking_rule_and_the_yaml_default():
    doc = (ROOT / "docs" / "model.md").read_text()
    assert "longer than `balk_queue`" not in doc
    assert re.search(r"at least\s+`balk_queue`\s+(patients\s+)?(are\s+)?already\s+waiting", doc)
    row = re.search(r"^\| `behaviour\.balk_queue` \| (\d+) \|", doc, re.M)
    care = yaml.safe_load((ROOT / "scenarios" / "care" / "default.yaml").read_text())
    assert row and int(row.group(1)) == care["behaviour"]["balk_queue"]
