"""Time in the model: minutes from Monday 00:00 of day 0, days and weeks, and opening hours.

Pure functions over floats and numpy arrays; no SimPy.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["DAY", "WEEK", "is_open", "next_opening", "next_opening_many"]

#: minutes in a day and a week (the model's time unit is the minute).
DAY = 1440.0
WEEK = 7 * DAY


def is_open(t: float, open_min: float, close_min: float, days: frozenset[int]) -> bool:
    """Whether an outpatient clinic is open at minute ``t`` (t = 0 is Monday 00:00).

    >>> is_open(9 * 60, 480, 1050, frozenset(range(7)))
    True
    >>> is_open(20 * 60, 480, 1050, frozenset(range(7)))
    False
    """
    day = int(t // DAY)
    m = t - day * DAY
    return (day % 7) in days and open_min <= m < close_min


def next_opening(t: float, open_min: float, close_min: float, days: frozenset[int]) -> float:
    """The first minute >= ``t`` at which the clinic is open (``inf`` if it never opens).

    >>> next_opening(20 * 60, 480, 1050, frozenset(range(7)))
    1920.0
    >>> next_opening(9 * 60, 480, 1050, frozenset(range(7)))
    540.0
    """
    if is_open(t, open_min, close_min, days):
        return float(t)
    if not days:
        return math.inf
    day = int(t // DAY)
    for k in range(0, 8):
        d = day + k
        if (d % 7) in days:
            start = d * DAY + open_min
            if start >= t:
                return float(start)
    return math.inf


def next_opening_many(t: np.ndarray, open_min: np.ndarray, close_min: np.ndarray,
                      days: np.ndarray) -> np.ndarray:
    """Vectorised :func:`next_opening`: per element, its site's opening minutes and a (n, 7)
    boolean mask of clinic days.  Always-open sites have ``open_min`` 0, ``close_min`` 1440
    and every day set.

    >>> import numpy as np
    >>> next_opening_many(np.array([1200.0, 540.0]), np.array([480.0, 480.0]),
    ...                   np.array([1050.0, 1050.0]), np.ones((2, 7), dtype=bool)).tolist()
    [1920.0, 540.0]
    """
    day = np.floor(t / DAY)
    m = t - day * DAY
    wd = day.astype(np.int64) % 7
    rows = np.arange(len(t))
    out = np.where(days[rows, wd] & (m >= open_min) & (m < close_min), t, np.inf)
    for k in range(8):
        cand = (day + k) * DAY + open_min
        ok = days[rows, (wd + k) % 7] & (cand >= t) & np.isinf(out)
        out = np.where(ok, cand, out)
    return out
