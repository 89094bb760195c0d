"""The progress bar of a run or a study: replications done of all, journeys simulated, time left.

One line on stderr, redrawn as each replication finishes (``tqdm``): ``demo: 12/40 rep
[05:10<12:03, journeys 37.4M]``: replications done out of the total, the time spent and the
estimated time left (from the replications' mean rate so far), and the patient journeys the
finished replications simulated.  It is silent when stderr is not a terminal (tests, CI logs,
a redirected run), unless asked for with ``enabled=True``.
"""

from __future__ import annotations

import sys
from typing import IO, Any

__all__ = ["Progress", "format_count"]


def format_count(n: int) -> str:
    """A count written short: ``format_count(3_141_592) == '3.14M'``.

    >>> format_count(950), format_count(37_400), format_count(3_141_592)
    ('950', '37.4k', '3.14M')
    """
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)


class Progress:
    """Replications done of ``total``, journeys simulated and the time left, on one line.

    ``enabled=None`` (the default) draws the bar only when ``file`` (stderr) is a terminal.
    :meth:`done` is called once per finished replication with its ``info`` (the ``patients``
    it simulated); :attr:`journeys` is their sum.

    >>> import io
    >>> p = Progress(2, "demo", file=io.StringIO(), enabled=False)
    >>> p.done({"patients": 1200}); p.done({"patients": 800}); p.close()
    >>> p.replications, p.journeys
    (2, 2000)
    """

    def __init__(self, total: int, desc: str, file: IO[str] | None = None, enabled: bool | None = None) -> None:
        from tqdm.auto import tqdm

        self.replications = 0
        self.journeys = 0
        stream = file if file is not None else sys.stderr
        self._bar: Any = tqdm(total=total, desc=desc, unit="rep", file=stream, dynamic_ncols=True,
                              disable=None if enabled is None else not enabled,
                              bar_format="{desc}: {n_fmt}/{total_fmt} rep |{bar}| [{elapsed}<{remaining}{postfix}]")

    def done(self, info: dict | None = None) -> None:
        """One more replication finished (``info["patients"]``: the journeys it simulated; a
        failed replication counts as done, with no journeys)."""
        self.replications += 1
        self.journeys += int((info or {}).get("patients", 0))
        self._bar.set_postfix_str(f"journeys {format_count(self.journeys)}", refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
