"""The layout holds: imports run one way, there are no import circles, and the analysis and
report packages can be used on saved outputs without the engine (SimPy).

The layers, lowest first (a module may import its own layer's modules and those below):

    config, rng  ->  county, records  ->  engine  ->  levers  ->  model  ->  experiment  ->  api / face / CLI

beside them ``analysis`` (imports config, records and itself only) and ``report`` (analysis,
config, records and itself); ``search`` and ``sensitivity`` build on ``experiment`` (the
sensitivity analysis on the search's evaluator too).  The experiment layer may use analysis and report (a study writes
its tables and brief).  ``calibration`` builds on the public API and ``sim`` never imports it.
Every import counts, also one inside a function: an import hidden in a function is how the
circles of the first layout were kept out of sight.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: what each top-level part of ``sim`` may import (besides itself).
ALLOWED = {
    "rng": set(),
    "numerics": set(),  # CPU-independent exp/log1p for the random-number transforms
    "config": {"rng"},
    "county": {"config", "rng", "numerics"},
    "records": {"config", "rng"},
    "engine": {"config", "rng", "numerics", "county", "records"},
    "levers": {"config", "rng", "numerics", "county", "records", "engine"},
    "model": {"config", "rng", "numerics", "county", "records", "engine", "levers"},
    "analysis": {"config", "records"},
    "report": {"config", "records", "analysis"},
    "experiment": {"config", "rng", "numerics", "county", "records", "engine", "levers", "model", "analysis", "report"},
    "search": {"config", "rng", "numerics", "county", "records", "engine", "levers", "model", "analysis", "report", "experiment"},
    "sensitivity": {"config", "rng", "numerics", "county", "records", "engine", "levers", "model", "analysis", "report",
                    "experiment", "search"},
    "api": {"config", "rng", "numerics", "county", "records", "engine", "levers", "model", "analysis", "report", "experiment"},
    "__main__": {"config", "rng", "numerics", "county", "records", "engine", "levers", "model", "analysis", "report",
                 "experiment", "api", "__init__"},
    "__init__": {"config", "records", "analysis", "api", "experiment"},  # names only, imported lazily
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _part(module: str) -> str:
    """``sim.county.network`` -> ``county``; ``sim`` -> ``__init__``."""
    bits = module.split(".")
    return bits[1] if len(bits) > 1 else "__init__"


def _imports(path: Path) -> set[str]:
    """Every ``sim`` / ``calibration`` module a file imports, at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path)
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: -node.level + (1 if path.name == "__init__.py" else 0) or None]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            for a in node.names:  # ``from sim.records import schema`` imports a module
                if (ROOT / Path(*mod.split("."), a.name + ".py")).exists():
                    out.add(f"{mod}.{a.name}")
    return {m for m in out if m.split(".")[0] in ("sim", "calibration") and m != here}


@functools.cache
def _graph() -> dict[str, set[str]]:
    files = sorted((ROOT / "sim").rglob("*.py")) + sorted((ROOT / "calibration").rglob("*.py"))
    return {_module_name(f): _imports(f) for f in files}


def test_imports_run_one_way():
    bad = []
    for mod, deps in _graph().items():
        if mod.startswith("calibration"):
            continue
        part = _part(mod)
        assert part in ALLOWED, f"{mod}: a new part of sim; declare what it may import in ALLOWED"
        for dep in deps:
            if dep.startswith("calibration"):
                bad.append(f"{mod} imports {dep} (calibration builds on sim, never the other way round)")
            elif dep != "sim" and _part(dep) != part and _part(dep) not in ALLOWED[part]:
                bad.append(f"{mod} imports {dep}")
            elif dep == "sim" and part not in ("__main__",):
                bad.append(f"{mod} imports the package face 'sim' (import from the module that owns the name)")
    assert not bad, "\n".join(sorted(bad))


def test_calibration_does_not_reach_into_the_engine():
    bad = []
    for mod, deps in _graph().items():
        if not mod.startswith("calibration"):
            continue
        for dep in deps:
            if dep.startswith("sim") and _part(dep) in ("engine", "model", "levers"):
                bad.append(f"{mod} imports {dep} (the engine's internals; use sim.run or the executors)")
    assert not bad, "\n".join(sorted(bad))


def test_no_import_circles():
    keys = set(_graph())
    graph = {m: {d for d in deps if d in keys} for m, deps in _graph().items()}
    # a package's __init__ re-exporting its own modules is not a circle of responsibilities
    for m, deps in graph.items():
        graph[m] = {d for d in deps if not (d != m and m.startswith(d + ".") and _is_package(d))}
    seen: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(m: str) -> None:
        seen[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if seen.get(d) == 1:
                cycles.append(" -> ".join(stack[stack.index(d):] + [d]))
            elif d not in seen:
                visit(d)
        stack.pop()
        seen[m] = 2

    for m in sorted(graph):
        if m not in seen:
            visit(m)
    assert not cycles, "\n".join(cycles)


def _is_package(mod: str) -> bool:
    return (ROOT / Path(*mod.split(".")) / "__init__.py").exists()


@pytest.mark.parametrize("package", ["sim.analysis", "sim.report", "sim.config", "sim.county", "sim.records"])
def test_analysis_and_report_do_not_import_simpy(package):
    """Saved outputs can be analysed and reported on without the engine."""
    mods = [_module_name(f) for f in sorted((ROOT / Path(*package.split("."))).glob("*.py"))]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in mods)
            + "bad = sorted(m for m in sys.modules if m == 'simpy' or m.startswith(('simpy.', 'sim.engine', "
              "'sim.model', 'sim.levers')))\nprint(bad)\nsys.exit(1 if bad else 0)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


#: SimPy's private state: the environment's clock, queue and ids, an event's value and outcome,
#: scheduling an event by hand.
SIMPY_INTERNALS = ("._now", "._queue", "._eid", "._value", "._ok", ".schedule(")
#: SimPy's "not triggered yet" marker (a name of our own, like StudyStatus.PENDING, is fine).
SIMPY_PENDING = re.compile(r"(?<![\w.])PENDING\b(?!\s*=)")


def test_simpy_internals_only_in_the_kernel():
    """One module (sim/engine/kernel.py) reaches into SimPy; SimPy is pinned to its minor version."""
    users = []
    for f in sorted((ROOT / "sim").rglob("*.py")):
        if f.relative_to(ROOT).as_posix() == "sim/engine/kernel.py":
            continue
        text = f.read_text(encoding="utf-8")
        for name in SIMPY_INTERNALS:
            if name in text:
                users.append(f"{f.relative_to(ROOT)}: {name}")
        if SIMPY_PENDING.search(text):
            users.append(f"{f.relative_to(ROOT)}: PENDING")
    assert not users, users
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"simpy>=4.1,<4.2"' in pyproject
