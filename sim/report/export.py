"""Exports of the brief people use outside a browser: a PDF of each brief for a meeting (headless
Chromium's print, with the CJK fonts embedded) and PNG/SVG of every figure for papers and slides
(kaleido, which drives the same Chromium).  Both run offline: Chromium opens the brief from disk
with every host name unresolvable, and kaleido renders with the plotly.js of the installed plotly.

When they run:

- ``python -m sim.report.brief <folder> --export pdf,png,svg`` (any of them; ``auto``: all that
  this machine can make) and ``sim.write_brief(folder, export=...)``;
- a study (``python -m sim study=...``, :func:`sim.run_study`) writes the HTML briefs and the
  workbook always, and the exports named by the environment variable ``SIM_BRIEF_EXPORT``
  (same values; unset or ``none``: no export, so that the test suite's many small studies do not
  each start a browser).  ``SIM_BRIEF_EXPORT=auto make demo`` gives the demo's PDF and figures.

An explicitly requested export that cannot run raises :class:`BriefExportError` (after the HTML
is written) naming the fix; ``auto`` skips what cannot run with one ``warning:`` line each.

Chromium is looked up as ``$SIM_CHROMIUM``, then ``$BROWSER_PATH`` (kaleido's own variable), then
``chromium``, ``chromium-browser``, ``google-chrome`` on the ``PATH``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["FORMATS", "BriefExportError", "chromium_path", "parse_formats", "write_pdf", "pdf_fonts", "PDF_NAMES"]

#: the export formats.
FORMATS = ("pdf", "png", "svg")
#: the PDF of each brief, by language.
PDF_NAMES = {"en": "brief.pdf", "zh": "brief.zh.pdf"}
ENV = "SIM_BRIEF_EXPORT"
CHROMIUM_FIX = "install Chromium (apt-get install chromium) or set SIM_CHROMIUM to a Chromium/Chrome binary"


class BriefExportError(RuntimeError):
    """An export failed (Chromium or kaleido missing, or the browser failed); the HTML was written."""


def chromium_path() -> str | None:
    """The Chromium/Chrome binary to use, or None."""
    for var in ("SIM_CHROMIUM", "BROWSER_PATH"):
        v = os.environ.get(var)
        if v and shutil.which(v):
            return shutil.which(v)
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def parse_formats(value: str | Sequence[str] | None, key: str = "export") -> tuple[list[str], bool]:
    """``(formats, auto)`` from ``"pdf,png"``, ``["pdf", "svg"]``, ``"auto"``, ``"none"`` or None
    (None reads ``$SIM_BRIEF_EXPORT``).  Raises ``ValueError`` naming ``key`` for an unknown one.

    >>> parse_formats("pdf, svg"), parse_formats("auto"), parse_formats("none"), parse_formats(["png"])
    ((['pdf', 'svg'], False), (['pdf', 'png', 'svg'], True), ([], False), (['png'], False))
    """
    if value is None:
        value, key = os.environ.get(ENV, ""), ENV
    items = [x.strip().lower() for x in (value.split(",") if isinstance(value, str) else value) if x.strip()]
    if items in ([], ["none"]):
        return [], False
    if items == ["auto"]:
        return list(FORMATS), True
    bad = [x for x in items if x not in FORMATS]
    if bad:
        raise ValueError(f"{key}: must be auto, none or a comma list of {', '.join(FORMATS)}, got {bad[0]!r}")
    return list(dict.fromkeys(items)), False


def write_pdf(html: Path, pdf: Path, timeout: float = 180.0) -> Path:
    """Print ``html`` to ``pdf`` with headless Chromium (A4, the page's print styles, no header
    or footer; the page's scripts get 20 s of virtual time to draw the figures).  Offline: every
    host name is unresolvable, so a page that asked for the network would print without it."""
    binary = chromium_path()
    if binary is None:
        raise BriefExportError(f"cannot write {pdf.name}: Chromium not found; {CHROMIUM_FIX}")
    pdf.parent.mkdir(parents=True, exist_ok=True)
    tmp = pdf.with_name(f".{pdf.name}.tmp-{os.getpid()}")
    with tempfile.TemporaryDirectory() as profile:
        args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--disable-default-apps", "--mute-audio",
                "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}", "--no-pdf-header-footer",
                "--run-all-compositor-stages-before-draw", "--virtual-time-budget=20000",
                f"--print-to-pdf={tmp}", html.resolve().as_uri()]
        try:
            done = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            tmp.unlink(missing_ok=True)
            raise BriefExportError(f"cannot write {pdf.name}: Chromium did not finish in {timeout:.0f} s") from None
    if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise BriefExportError(f"cannot write {pdf.name}: Chromium exited with {done.returncode} ({tail[0][:200]})")
    os.replace(tmp, pdf)
    return pdf


_OBJ = re.compile(rb"(\d+) 0 obj\s*<<(.*?)>>\s*(?:stream|endobj)", re.S)


def pdf_fonts(pdf: Path) -> dict[str, str]:
    """The fonts a PDF uses, by name (subset prefix kept, e.g. ``BAAAAA+NotoSansCJKsc-Regular``),
    and how each is in the file: ``"embedded"`` (a font program, ``/FontFile*``), ``"outlines"``
    (a Type 3 font: every glyph drawn as a vector outline in the file, with a ``/ToUnicode`` map
    so that the text stays searchable; Chromium writes CJK OpenType fonts this way) or
    ``"missing"`` (neither: the reader would substitute a font).

    Reads the PDF's uncompressed object dictionaries (Chromium writes no object streams)."""
    data = Path(pdf).read_bytes()
    objs = {int(m.group(1)): m.group(2) for m in _OBJ.finditer(data)}
    desc: dict[int, tuple[str, bool]] = {}
    for n, body in objs.items():
        if b"/Type /FontDescriptor" in body or b"/Type/FontDescriptor" in body:
            found = re.search(rb"/FontName\s*/([^\s/<>\[\]()]+)", body)
            desc[n] = (found.group(1).decode() if found else f"font{n}", re.search(rb"/FontFile[23]?\b", body) is not None)
    out: dict[str, str] = {}
    for body in objs.values():
        ref = re.search(rb"/FontDescriptor\s+(\d+) 0 R", body)
        if b"/Type /Font" not in body or ref is None or int(ref.group(1)) not in desc:
            continue
        name, has_program = desc[int(ref.group(1))]
        how = "embedded" if has_program else "outlines" if b"/Subtype /Type3" in body else "missing"
        if out.get(name) != "embedded":
            out[name] = how
    return out
