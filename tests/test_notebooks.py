"""Every notebook in notebooks/ runs top to bottom (papermill), with small settings injected.

The notebooks are stored without outputs; each has a first code cell tagged ``parameters``
whose defaults are realistic.  Here they run on the toy county for a few days with two
replications, in one worker process, so that a cell that raises fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

SMALL = {"network": "toy", "horizon_days": 14, "warmup_days": 3, "replications": 2, "jobs": 1}
#: per-notebook settings on top of SMALL (only names the notebook's parameters cell defines).
INJECT = {
    "01_quickstart": {},
    "02_compare_scenarios": {"downsizing_overrides": ["restructure.operations=[{op: close, site: t1}]"],
                             "write_brief": False},
    # MSER-5 needs >= 20 daily observations
    "03_warmup_and_replications": {"horizon_days": 21, "max_replications": 4, "rel_precision": 0.5},
    "04_calibration_check": {},
    "05_policy_search": {"horizon_days": 7, "warmup_days": 2, "trials": 4, "confirm_replications": 3, "morris_trajectories": 2, "sobol_n": 4,
                         "sensitivity_replications": 1},
}


def _parameters_cell(nb: dict) -> dict:
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook without code"
    return code[0]


def _parameter_names(cell: dict) -> set[str]:
    import ast

    tree = ast.parse("".join(cell["source"]))
    return {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}


def test_notebooks_exist():
    names = {p.stem for p in NOTEBOOKS}
    assert set(INJECT) <= names, f"missing notebooks: {set(INJECT) - names}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_clean(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name}: a cell is stored with outputs"
            assert cell.get("execution_count") is None, f"{path.name}: a cell is stored with an execution count"
    first = _parameters_cell(nb)
    assert "parameters" in first.get("metadata", {}).get("tags", []), f"{path.name}: first code cell not tagged"
    names = _parameter_names(first)
    assert {"network", "replications", "output_dir"} <= names, f"{path.name}: parameters cell lacks {names}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path):
    papermill = pytest.importorskip("papermill")
    nb = json.loads(path.read_text(encoding="utf-8"))
    names = _parameter_names(_parameters_cell(nb))
    params = {k: v for k, v in {**SMALL, **INJECT.get(path.stem, {})}.items() if k in names}
    params["output_dir"] = str(tmp_path / "out")
    out_nb = tmp_path / path.name
    # raises PapermillExecutionError naming the cell if any cell raises
    papermill.execute_notebook(str(path), str(out_nb), parameters=params, kernel_name="python3",
                               cwd=str(ROOT), progress_bar=False, log_output=False, execution_timeout=600)
    executed = json.loads(out_nb.read_text(encoding="utf-8"))
    errors = [o for c in executed["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    assert (tmp_path / "out").exists(), "the notebook wrote nothing to output_dir"
