"""A preview map of an imported network: one self-contained plotly HTML file (plotly.js
embedded, no map tiles), so that it opens offline on a health bureau's computer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["preview_map"]

_TIER_STYLE = {1: ("township / community centre 乡镇卫生院", "square", 12, "#1f77b4"),
               2: ("lead hospital 牵头医院", "diamond", 16, "#d62728"),
               3: ("out-of-county hospital 县外三级医院", "star", 16, "#7f7f7f")}


def _hover(pid: str, p: dict[str, Any], extra: str) -> str:
    where = f"<br>lon {p['lon']:.5f}, lat {p['lat']:.5f}" if "lon" in p else ""
    return f"<b>{p.get('name_zh') or p.get('name') or pid}</b> ({pid})<br>{p.get('name', '')}<br>{extra}" + where


def preview_map(net: dict[str, Any], path: str | Path) -> Path:
    """Write the map of a network (as :func:`sim.county.importer.import_county` builds it):
    villages sized by population, facilities by tier, a line from each member to its lead.

    Positions are the model's x/y kilometres (east, north of the projection's centre), drawn
    to scale; the hover text gives each site's lon/lat where known."""
    import plotly.graph_objects as go

    fac, vil = net["facilities"], net["villages"]
    fig = go.Figure()
    lx: list[float | None] = []
    ly: list[float | None] = []
    for f in fac.values():
        lead = f.get("lead")
        if lead in fac:
            lx += [f["x_km"], fac[lead]["x_km"], None]
            ly += [f["y_km"], fac[lead]["y_km"], None]
    fig.add_trace(go.Scatter(x=lx, y=ly, mode="lines", line={"color": "#bbbbbb", "width": 1},
                             name="member -> lead 成员单位 -> 牵头医院", hoverinfo="skip"))
    pops = [v["population"] for v in vil.values()]
    top = max(pops) if pops and max(pops) > 0 else 1
    fig.add_trace(go.Scatter(
        x=[v["x_km"] for v in vil.values()], y=[v["y_km"] for v in vil.values()], mode="markers",
        marker={"size": [5 + 15 * (p / top) ** 0.5 for p in pops],
                "color": ["#2ca02c" if v["clinic_doctors"] > 0 else "#ff7f0e" for v in vil.values()]},
        name="village 村 (green: has a clinic 有村卫生室)",
        text=[_hover(k, v, f"population 人口 {v['population']:,}; village doctors 村医 {v['clinic_doctors']}")
              for k, v in vil.items()], hoverinfo="text"))
    for tier, (label, symbol, size, colour) in _TIER_STYLE.items():
        items = [(k, f) for k, f in fac.items() if f["tier"] == tier]
        if not items:
            continue
        fig.add_trace(go.Scatter(
            x=[f["x_km"] for _, f in items], y=[f["y_km"] for _, f in items], mode="markers",
            marker={"symbol": symbol, "size": size, "color": colour, "line": {"width": 1, "color": "black"}},
            name=label, hoverinfo="text",
            text=[_hover(k, f, f"beds 床位 {f['beds']}; day doctors 医生 {sum(f['doctors'].values())}")
                  for k, f in items]))
    fig.update_layout(title=f"{net['name']}: imported network 导入的网络 (travel minutes: {net['travel']['source']})",
                      xaxis_title="km east 东 (公里)", yaxis_title="km north 北 (公里)", template="plotly_white",
                      legend={"orientation": "h", "y": -0.15})
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(out, include_plotlyjs=True, full_html=True)
    return out
