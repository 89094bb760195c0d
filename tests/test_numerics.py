"""Results do not depend on the CPU: numpy's run-time SIMD dispatch never reaches the model.

An AVX-512 machine gave other tables than an AVX2 one for the same config and seed (numpy's
``exp``/``log1p`` loops differ in the last bit there; see :mod:`sim.numerics`).  These tests
switch numpy's dispatch off (``NPY_DISABLE_CPU_FEATURES``, every optional feature this CPU has)
in a subprocess and compare with a normal one.  On a CPU with no optional features both runs
take the same loops and the comparison holds trivially; on one with them (AVX2, AVX-512) it is
the real check.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim import numerics

ROOT = Path(__file__).resolve().parent.parent


def _dispatch_features() -> list[str]:
    """numpy's optional CPU features that this machine has (the ones the variable can switch off)."""
    try:
        from numpy._core import _multiarray_umath as mu
    except ImportError:  # numpy < 2
        from numpy.core import _multiarray_umath as mu  # type: ignore[no-redef]
    return [f for f in mu.__cpu_dispatch__ if mu.__cpu_features__.get(f)]


def _run(code: str, dispatch: bool) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("NPY_DISABLE_CPU_FEATURES", None)
    if not dispatch and _dispatch_features():
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(_dispatch_features())
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def test_values_are_the_c_librarys_elementwise():
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(0, 5, 5000), -rng.random(5000), [0.0, -0.0, 1e-300, 700.0]])
    e, lp = numerics.exp(x), numerics.log1p(np.maximum(x, -0.999999))
    assert e.tolist() == [math.exp(v) for v in x]
    assert lp.tolist() == [math.log1p(v) for v in np.maximum(x, -0.999999)]
    assert numerics.exp(x.reshape(2, -1)).shape == (2, x.size // 2)
    assert isinstance(numerics.exp(0.5), float) and numerics.exp(0.5) == math.exp(0.5)
    # where math raises, numpy's answer (inf, -inf, nan), as the ufunc gave
    with np.errstate(all="ignore"):
        assert numerics.exp(np.array([1e4, np.nan])).tolist()[0] == math.inf
        assert numerics.log1p(np.array([-1.0])).tolist() == [-math.inf]
        assert math.isnan(numerics.log1p(np.array([-2.0, 0.0]))[0])


def test_values_equal_numpys_loops_without_dispatch():
    """Where numpy runs no SIMD loop it calls the C library too: results recorded there stand."""
    code = ("import json, numpy as np; x = np.random.default_rng(3).normal(0, 3, 20000);"
            "print(json.dumps([np.exp(x).tolist(), np.log1p(np.abs(x)).tolist()]))")
    e, lp = json.loads(_run(code, dispatch=False))
    x = np.random.default_rng(3).normal(0, 3, 20000)
    assert numerics.exp(x).tolist() == e
    assert numerics.log1p(np.abs(x)).tolist() == lp


@pytest.mark.parametrize("network", ["toy", "qingdao"])
def test_a_run_gives_the_same_tables_with_numpys_cpu_dispatch_on_and_off(network):
    code = ("import json, sim; from tests.output_hashes import run_digests;"
            f"cfg = sim.compose(['network={network}', 'run=test', 'run.horizon_days=2', 'run.warmup_days=0.5',"
            "'run.replications=1', 'run.jobs=1', 'levers=combined_weekly_full'] if '" + network + "' == 'toy' else"
            f" ['network={network}', 'run=test', 'run.horizon_days=1', 'run.warmup_days=0.25', 'run.replications=1',"
            "'run.jobs=1']);"
            "print(json.dumps(run_digests(sim.run(cfg, jobs=1))))")
    on, off = json.loads(_run(code, dispatch=True)), json.loads(_run(code, dispatch=False))
    assert on == off, [t for t in on if on[t] != off[t]]
