"""What the model reproduces: the per-county tables of ``docs/validation.md`` (and the README).

Each bundled network's calibrated care file (``scenarios/care/<network>_calibrated.yaml``)
carries its check run's figures in its ``calibration:`` block: target, observed value and
tolerance, simulated mean with its 95% CI over the check run's replications, met or not, and
the source.  This module turns those blocks into Markdown, so the page always says what the
committed files say (no simulation here; the figures come from the fit's check run)::

    python -m calibration.validation            # rewrite the generated part of docs/validation.md
    python -m calibration.validation --check    # exit 1 if docs/validation.md is out of date

The generated part sits between the markers ``<!-- counties:begin -->`` and
``<!-- counties:end -->``; the rest of the page is written by hand.  The README carries the
one-table summary (each county: targets met, the two official indicators, what is not met)
between ``<!-- calibration:begin -->`` and ``<!-- calibration:end -->``, rewritten by the same
command.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

__all__ = ["county_rows", "county_markdown", "counties_markdown", "summary_markdown", "update", "main", "NETWORKS",
           "BEGIN", "END"]

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "validation.md"
CARE = ROOT / "scenarios" / "care"
BEGIN, END = "<!-- counties:begin -->", "<!-- counties:end -->"
README = ROOT / "README.md"
SUMMARY_BEGIN, SUMMARY_END = "<!-- calibration:begin -->", "<!-- calibration:end -->"
#: the bundled networks, in the order the page lists them (toy last: it is not a real place).
NETWORKS = ("taobei", "xianghe", "qingbaijiang", "liuzhou", "qingdao", "toy")


def _care_info(network: str) -> dict | None:
    path = CARE / f"{network}_calibrated.yaml"
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data.get("calibration") or None


def _fmt(v, kpi: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    v = float(v)
    per = any(w in kpi for w in ("per_", "stay", "visits_", "admissions_"))
    if not per and abs(v) <= 1.0:
        return f"{100 * v:.1f}%"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def county_rows(info: dict) -> list[dict]:
    """One row per target of a care file's ``calibration`` block, formatted for the page."""
    rows = []
    for t in info.get("targets") or []:
        kpi = str(t.get("kpi", ""))
        fitted = float(t.get("weight", 1.0) or 0.0) > 0
        ci = f"{_fmt(t.get('ci_low'), kpi)} – {_fmt(t.get('ci_high'), kpi)}"
        rows.append({"target": str(t.get("name")), "kpi": kpi,
                     "observed": f"{_fmt(t.get('observed'), kpi)} ± {_fmt(t.get('tolerance'), kpi)}",
                     "simulated": _fmt(t.get("simulated"), kpi), "ci": ci,
                     "met": ("met" if t.get("met") else "**not met**") if fitted else "reported only",
                     "source": str(t.get("source", ""))})
    return rows


def county_markdown(network: str, info: dict | None) -> str:
    """The section of one county: how it was fitted, its table, what the targets leave loose."""
    if info is None:
        return (f"### {network}\n\nNot calibrated: no `scenarios/care/{network}_calibrated.yaml` "
                f"(run `python -m calibration network={network}`).\n")
    rows = county_rows(info)
    fitted = [t for t in info.get("targets") or [] if float(t.get("weight", 1.0) or 0.0) > 0]
    n_met = sum(1 for t in fitted if t.get("met"))
    loose = [p for p in info.get("parameters") or [] if str(p.get("identifiability")) != "identified"]
    lines = [f"### {network}", "",
             f"Care file `scenarios/care/{network}_calibrated.yaml`, fitted {str(info.get('date', ''))[:10]} "
             f"to `calibration/{info.get('targets_file', '').split('calibration/')[-1]}`: "
             f"**{n_met} of {len(fitted)} fitted targets met**, loss {float(info.get('loss') or 0.0):.3g}.", "",
             f"- fit: {info.get('fit', '')}", f"- check: {info.get('check', '')}", "",
             "| target | KPI | observed ± tolerance | simulated | 95% CI | | source |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        src = r["source"].replace("|", "/")
        lines.append(f"| {r['target']} | `{r['kpi']}` | {r['observed']} | {r['simulated']} | {r['ci']} | "
                     f"{r['met']} | {src} |")
    lines.append("")
    params = info.get("parameters") or []
    if params:
        lines.append("Fitted: " + "; ".join(f"`{p.get('name')}` = {float(p.get('value', 0.0)):.4g} "
                                            f"({p.get('identifiability')})" for p in params) + ".")
    if loose:
        lines.append("")
        lines.append("Not pinned down by these targets (the brief lists them among its caveats): "
                     + ", ".join(f"`{p.get('name')}`" for p in loose) + ".")
    return "\n".join(lines) + "\n"


def counties_markdown(networks: Sequence[str] = NETWORKS) -> str:
    return "\n".join(county_markdown(n, _care_info(n)) for n in networks)


def summary_markdown(networks: Sequence[str] = NETWORKS) -> str:
    """The README's table: per county, the fitted targets met, the two official indicators
    (simulated against the target) and the targets not met."""
    lines = ["| county | fitted targets met | 参保人县域内住院人次占比 (target) | 基层诊疗人次占比 (target) | not met |",
             "| --- | --- | --- | --- | --- |"]
    for n in networks:
        info = _care_info(n)
        if info is None:
            lines.append(f"| {n} | not calibrated | – | – | – |")
            continue
        ts = info.get("targets") or []
        fitted = [t for t in ts if float(t.get("weight", 1.0) or 0.0) > 0]
        by = {str(t.get("name")): t for t in ts}

        def official(name: str, by: dict = by) -> str:
            t = by.get(name)
            if t is None:
                return "–"
            kpi = str(t.get("kpi", ""))
            return f"{_fmt(t.get('simulated'), kpi)} ({_fmt(t.get('observed'), kpi)})"

        unmet = ", ".join(str(t.get("name")) for t in fitted if not t.get("met")) or "–"
        lines.append(f"| {n} | {sum(1 for t in fitted if t.get('met'))} of {len(fitted)} | "
                     f"{official('inpatient_retention')} | {official('grassroots_visit_share')} | {unmet} |")
    return "\n".join(lines) + "\n"


def _replace_between(text: str, begin: str, end: str, body: str, where: Path) -> str:
    if begin not in text or end not in text:
        raise SystemExit(f"{where}: the markers {begin} and {end} are missing")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}{end}{tail}"


def update(doc: Path = DOC, check: bool = False, readme: Path | None = README) -> bool:
    """Rewrite the generated parts of ``doc`` (and of ``readme``, when given); with ``check``,
    only say whether they are current."""
    pages = [(doc, BEGIN, END, counties_markdown())]
    if readme is not None:
        pages.append((readme, SUMMARY_BEGIN, SUMMARY_END, summary_markdown()))
    current = True
    for path, begin, end, body in pages:
        text = path.read_text(encoding="utf-8")
        new = _replace_between(text, begin, end, body, path)
        if new != text:
            current = False
            if not check:
                path.write_text(new, encoding="utf-8")
    return current or not check


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m calibration.validation", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/validation.md is out of date")
    args = ap.parse_args(argv)
    ok = update(check=args.check)
    if args.check and not ok:
        print(f"{DOC} or {README} is out of date with scenarios/care/*_calibrated.yaml: "
              "run python -m calibration.validation",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
