"""A study over a county kept in the user's own config folder (``--config-dir D``): the study's
scenarios are composed with that folder too, not only the bundled ``scenarios/``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_study_of_a_county_in_the_users_config_dir(tmp_path):
    own = tmp_path / "configs"
    (own / "network").mkdir(parents=True)
    (own / "study").mkdir()
    toy = (ROOT / "scenarios" / "network" / "toy.yaml").read_text(encoding="utf-8")
    assert "\nname: toy\n" in toy
    (own / "network" / "mycounty.yaml").write_text(toy.replace("\nname: toy\n", "\nname: mycounty\n"), encoding="utf-8")
    (own / "study" / "mystudy.yaml").write_text(
        "name: mystudy\nbaseline: baseline\nbase_overrides: [network=mycounty, care=default]\n"
        "scenarios:\n  baseline: []\n  weekly: [levers=expert_weekly]\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "--config-dir", str(own), "study=mystudy", "run=test", "run.replications=2",
         "run.horizon_days=2", "run.warmup_days=0", "run.jobs=1", f"run.output_dir={out}",
         f"hydra.run.dir={tmp_path / 'hydra'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    folder = out / "studies" / "mystudy"
    assert (folder / "summary.csv").exists()
    runs = sorted(p.name for p in (folder / "runs").iterdir())
    assert runs == ["baseline", "weekly"]
    cfg = (folder / "runs" / "baseline" / "config.yaml").read_text(encoding="utf-8")
    assert "name: mycounty" in cfg
