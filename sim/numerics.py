"""Elementwise ``exp`` and ``log1p`` whose results do not depend on the machine's CPU.

numpy chooses its loops for ``np.exp``, ``np.log1p`` and the other transcendental functions at
import time from the CPU's features: on a machine with AVX-512 it runs other implementations
(its own SIMD code, Intel's SVML) than on an AVX2 one, and they differ in the last bit for some
inputs.  A last-bit difference in the transform of a uniform (an exponential patience, a
lognormal length of stay, a logit choice probability) changes some patient's path, so the same
config and seed gave other tables on another machine, or on another worker of a Dask cluster
whose machines differ (found when the output-hash check failed on an AVX-512 machine and passed
with ``NPY_DISABLE_CPU_FEATURES`` set).

The functions here call the C library's ``exp`` and ``log1p`` through :mod:`math`, one value at a
time: the same results on every x86-64 machine with the same libm, and the same as numpy's own
loops where numpy has no SIMD version (so results recorded on such a machine stand).  They cost
~50 ns a value; the model calls them on arrival batches (a few values per patient), a fraction
of a percent of a replication.  Everything in the simulation that turns random numbers into
times or choices uses these, never the numpy ufuncs (``tests/test_numerics.py`` checks both
the values and a whole run with numpy's CPU dispatch switched off).

>>> import numpy as np
>>> exp(np.array([0.0, 1.0])).tolist() == [1.0, math.exp(1.0)]
True
>>> float(log1p(0.0)), log1p(np.zeros((2, 3))).shape
(0.0, (2, 3))
>>> exp(np.array([1000.0, -np.inf, np.nan])).tolist(), log1p(np.array([-1.0, -2.0])).tolist()[0]
([inf, 0.0, nan], -inf)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import overload

import numpy as np

__all__ = ["exp", "log1p"]


def _elementwise(fn: Callable[[float], float], x, ok: Callable[[np.ndarray], np.ndarray], fallback):
    """``fn`` on every value of ``x``; the values outside ``ok`` (where ``math`` raises instead of
    returning inf or nan) go to numpy's ``fallback``, whose result there is the same anywhere."""
    a = np.asarray(x, dtype=np.float64)
    flat = a.ravel()
    good = ok(flat) | np.isnan(flat)
    if good.all():
        out = np.fromiter(map(fn, flat.tolist()), dtype=np.float64, count=flat.size)
    else:
        out = np.empty(flat.size)
        with np.errstate(all="ignore"):
            out[~good] = fallback(flat[~good])
        out[good] = np.fromiter(map(fn, flat[good].tolist()), dtype=np.float64, count=int(good.sum()))
    return out.reshape(a.shape) if a.ndim else float(out[0])


def _exp_ok(a: np.ndarray) -> np.ndarray:
    return a < 709.0          # math.exp overflows from ~709.78 (numpy: inf); results there are inf or ~1e308


def _log1p_ok(a: np.ndarray) -> np.ndarray:
    return a > -1.0           # math.log1p refuses -1 and below (numpy: -inf, nan)


@overload
def exp(x: float) -> float: ...
@overload
def exp(x: np.ndarray) -> np.ndarray: ...
def exp(x):
    """``e ** x`` elementwise, by the C library's ``exp`` (a float for a scalar)."""
    return _elementwise(math.exp, x, _exp_ok, np.exp)


@overload
def log1p(x: float) -> float: ...
@overload
def log1p(x: np.ndarray) -> np.ndarray: ...
def log1p(x):
    """``log(1 + x)`` elementwise, by the C library's ``log1p`` (a float for a scalar)."""
    return _elementwise(math.log1p, x, _log1p_ok, np.log1p)
