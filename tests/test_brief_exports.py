"""Issue 16, the rest: the county map, the cost-effectiveness table, figures whose intervals need
3 replications, and the exports people use (a PDF with its CJK fonts embedded, PNG/SVG of every
figure, offline), on hand-made tables and on the tiny real study of tests/test_brief_numbers."""

from __future__ import annotations

import math
import os
import re

import pandas as pd
import pytest

from sim.report import brief, cost_effect, export, plots
from tests.test_brief_numbers import TINY, _page, tiny, visible_text  # noqa: F401  (tiny: the study fixture)
from tests.test_plots import hand_summary, hand_tables


def _chromium_or_skip() -> None:
    if export.chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium not installed (apt-get install chromium)")


# --------------------------------------------------------------------------------------------
# the county map


def _traces(fig, name: str) -> list:
    return [tr for tr in fig.data if tr.name == name]


def test_the_county_map_keeps_the_out_of_county_hospital_off_the_map_with_its_distance():
    t = hand_tables()
    fig = plots.county_map(t["sites"], t["visits"], t["villages"], language="en")
    (star,) = _traces(fig, plots.tier_label(3, "en"))
    # the city hospital is 60 km east of the centres' centre (0, 1.7 km): drawn at the map's east
    # edge, inside the axis range, labelled with its distance
    x_range = fig.layout.xaxis.range
    assert x_range[0] < star.x[0] <= x_range[1] < 30
    assert "60 km away" in star.text[0] and "City Hospital" in star.text[0]
    # the county fills the map: its span is that of the villages and centres, not of the city
    assert x_range[1] - x_range[0] < 40


def test_the_county_map_sizes_villages_by_population_labels_centres_and_draws_flows_by_volume():
    t = hand_tables(replications=2)
    fig = plots.county_map(t["sites"], t["visits"], t["villages"], language="zh")
    (vil,) = _traces(fig, plots.label("villages", "zh"))
    sizes = dict(zip(vil.text, vil.marker.size, strict=True))
    assert sizes[next(k for k in sizes if k.startswith("v2"))] > sizes[next(k for k in sizes if k.startswith("v1"))]
    (centres,) = _traces(fig, plots.tier_label(1, "zh"))
    assert list(centres.text) == ["一乡卫生院", "二乡卫生院"] and centres.mode == "markers+text"
    (lead,) = _traces(fig, plots.tier_label(2, "zh"))
    assert list(lead.text) == ["县人民医院"]
    # one referral a replication on each of t1 -> lead, lead -> city, clinic:v2 -> t2: the lines'
    # widths follow the flow, the one out of the county is drawn in its own colour
    lines = [tr for tr in fig.data if tr.mode == "lines"]
    assert len(lines) == 3
    assert {tr.name for tr in lines} == {plots.label("referral_flow", "zh"), plots.label("to_out", "zh")}
    out = [tr for tr in lines if tr.name == plots.label("to_out", "zh")]
    assert len(out) == 1 and out[0].x[1] == _traces(fig, plots.tier_label(3, "zh"))[0].x[0]


def test_the_county_map_uses_longitude_and_latitude_when_every_site_has_them():
    t = hand_tables()
    ll = {"t1": (122.70, 45.60), "t2": (122.95, 45.60), "lead": (122.83, 45.65), "city": (125.3, 43.9),
          "v1": (122.68, 45.64), "v2": (122.97, 45.56)}
    fig = plots.county_map(t["sites"], t["visits"], t["villages"], lonlat=ll, language="en")
    assert fig.layout.xaxis.title.text == plots.label("lon", "en")
    (lead,) = _traces(fig, plots.tier_label(2, "en"))
    assert (lead.x[0], lead.y[0]) == (122.83, 45.65)
    # a degree of longitude is shorter than one of latitude at 45° N
    assert fig.layout.yaxis.scaleratio == pytest.approx(1 / math.cos(math.radians(45.6)), rel=0.01)
    (star,) = _traces(fig, plots.tier_label(3, "en"))
    assert fig.layout.xaxis.range[0] < star.x[0] <= fig.layout.xaxis.range[1]  # south-east, at the edge
    # a village without coordinates: the map falls back on the model's km
    del ll["v2"]
    fig = plots.county_map(t["sites"], t["visits"], t["villages"], lonlat=ll, language="en")
    assert fig.layout.xaxis.title.text == plots.label("x_km", "en")


def test_lon_lat_come_from_the_run_config():
    cfg = {"network": {"facilities": {"a": {"lon": 120.0, "lat": 30.0}, "b": {"lon": None, "lat": None}},
                       "villages": {"v": {"lon": 120.1, "lat": 30.1}}}}
    assert brief.lonlat(cfg) == {"a": (120.0, 30.0), "v": (120.1, 30.1)}
    assert brief.lonlat({"network": {"facilities": {"a": {"x_km": 1.0}}}}) == {}


# --------------------------------------------------------------------------------------------
# intervals from 3 replications only


def test_figures_show_no_interval_from_fewer_than_three_replications():
    summary, differences = hand_summary()
    two = summary.assign(n=2)
    fig = plots.dose_response(two, {"baseline": 0, "more_visits": 4, "remote_dx": 8}, "inpatient_retention")
    assert [tr.name for tr in fig.data] == [plots.label("mean", "en")], "no band"
    fig = plots.dose_response(summary, {"baseline": 0, "more_visits": 4, "remote_dx": 8}, "inpatient_retention")
    assert fig.data[0].name == plots.label("ci_band", "en") and max(fig.data[0].y) <= 100.0
    # the comparison figure: no error bar and no filled (significant) marker from 2 replications
    fig = plots.scenario_comparison(two, differences.assign(n=2), baseline="baseline")
    for tr in fig.data:
        assert all(v == 0 for v in tr.error_x.array) and all(v == 0 for v in tr.error_x.arrayminus)
        if tr.marker.symbol is not None and not isinstance(tr.marker.symbol, str):
            assert all(sym == "circle-open" for sym in tr.marker.symbol)


# --------------------------------------------------------------------------------------------
# cost-effectiveness


def _ce_tables(effect=(0.02, 0.01, 0.03), cost=(1.0e6, 0.8e6, 1.2e6), travel=(-0.5, -0.8, -0.2), n=3):
    rows = [("alt", "baseline", "inpatient_retention", "county", n, *effect),
            ("alt", "baseline", "total_cost_per_year", "county", n, *cost),
            ("alt", "baseline", "running_cost_per_year", "county", n, cost[0] - 1e5, cost[1] - 1e5, cost[2] - 1e5),
            ("alt", "baseline", "capital_cost", "county", n, 8e5, 8e5, 8e5),
            ("alt", "baseline", "capital_cost_per_year", "county", n, 1e5, 1e5, 1e5),
            ("alt", "baseline", "up_referrals", "county", n, -5.0, -9.0, 1.0),
            ("alt", "baseline", "travel_mean_min", "county", n, *travel)]
    d = pd.DataFrame(rows, columns=["scenario", "baseline", "metric", "group", "n", "mean_diff", "ci_low", "ci_high"])
    s = pd.DataFrame([(sc, m, "county", n, v, v, v) for sc in ("baseline", "alt")
                      for m, v in (("admissions_per_person_year", 0.2), ("episodes", 10_000.0))],
                     columns=["scenario", "metric", "group", "n", "mean", "ci_low", "ci_high"])
    return s, d


def test_cost_effectiveness_prices_only_significant_effects_and_says_why_not():
    s, d = _ce_tables()
    (r,) = cost_effect.rows(s, d, "baseline", ["baseline", "alt"], population=100_000, post_warmup_days=36.5)
    assert (r.running, r.capital, r.capital_per_year, r.total) == (9e5, 8e5, 1e5, 1e6)
    # 2 pp of 0.2 admissions x 100,000 residents = 400 admissions kept a year, CNY 2,500 each
    assert r.effects["per_adm"].status == "value" and r.effects["per_adm"].cost_per_unit == pytest.approx(2500.0)
    # 0.5 min less travel x 10,000 episodes x 10 (36.5 days to a year) = 50,000 minutes, CNY 20 each
    assert r.effects["per_min"].per_year == pytest.approx(50_000.0)
    assert r.effects["per_min"].cost_per_unit == pytest.approx(20.0)
    # the referral interval covers zero: no cost per referral avoided
    assert r.effects["per_ref"].status == "none" and math.isnan(r.effects["per_ref"].cost_per_unit)
    # cheaper and better: saves money; more travel: worse; two replications: too few
    (r,) = cost_effect.rows(*_ce_tables(cost=(-1e6, -1.2e6, -0.8e6), travel=(0.5, 0.2, 0.8)), "baseline",
                            ["baseline", "alt"], population=100_000, post_warmup_days=36.5)
    assert r.effects["per_adm"].status == "saves" and r.effects["per_min"].status == "worse"
    (r,) = cost_effect.rows(*_ce_tables(n=2), "baseline", ["baseline", "alt"], population=1e5, post_warmup_days=36.5)
    assert {e.status for e in r.effects.values()} == {"few"}
    html_ = cost_effect.render(cost_effect.rows(*_ce_tables(), "baseline", ["baseline", "alt"], population=1e5,
                                                post_warmup_days=36.5), {"alt": "Alt"}, "en")
    assert "no detectable effect" in html_ and "CNY 2,500" in html_


def test_the_brief_and_workbook_carry_the_cost_effectiveness_table(tiny):  # noqa: F811
    from openpyxl import load_workbook

    from sim.report import workbook

    diffs = pd.read_csv(tiny / "differences.csv")
    d = diffs[diffs["group"] == "county"].set_index(["scenario", "metric"])
    span = re.compile(r"<span class='n' data-src='(\w+)' data-scenario='([^']*)' data-metric='([^']*)' "
                      r"data-field='(\w+)' data-value='([^']*)'>([^<]*)</span>")
    for lang, head in (("en", "Cost-effectiveness"), ("zh", "成本效果")):
        page = _page(tiny, lang)
        sec = re.search(r"<section class='ce'>.*?</section>", page, flags=re.S)
        assert sec and f"<h2>{head}</h2>" in sec.group(0)
        assert re.findall(r"<tr data-scenario='([^']+)'>", sec.group(0)) == ["remote", "experts"]
        found = span.findall(sec.group(0))
        assert found
        for src, scen, metric, fld, value, _ in found:
            if src == "diff":  # every cost is the paired difference of its KPI
                assert float(value) == pytest.approx(d.loc[(scen, metric), "mean_diff"])
            else:
                assert metric in cost_effect.EFFECTS and fld in ("effect_per_year", "cost_per_unit")
        # remote reading buys workstations: its capital is priced, and so is its total
        assert d.loc[("remote", "capital_cost"), "mean_diff"] > 0
        assert d.loc[("remote", "total_cost_per_year"), "mean_diff"] == pytest.approx(
            d.loc[("remote", "running_cost_per_year"), "mean_diff"] + d.loc[("remote", "capital_cost_per_year"), "mean_diff"])
    wb = load_workbook(tiny / workbook.FILENAME, read_only=True)
    rows = list(wb["成本效果 Cost-effectiveness"].iter_rows(values_only=True))
    wb.close()
    assert rows[0][:2] == ("方案编号", "方案") and rows[1][6] == "Total a year (CNY/yr)"
    data = {r[0]: r for r in rows[2:]}
    assert set(data) == {"remote", "experts"} and data["remote"][1] == TINY["label_zh"]["remote"]
    assert data["remote"][6] == pytest.approx(d.loc[("remote", "total_cost_per_year"), "mean_diff"])


# --------------------------------------------------------------------------------------------
# exports


def test_export_values_are_checked_and_the_environment_decides_for_a_study(tmp_path, monkeypatch, capsys):
    assert export.parse_formats("pdf,svg") == (["pdf", "svg"], False)
    with pytest.raises(ValueError, match="^export: must be auto, none or a comma list of pdf, png, svg, got 'gif'"):
        export.parse_formats("gif")
    monkeypatch.setenv(export.ENV, "png,jpeg")
    with pytest.raises(ValueError, match=f"^{export.ENV}: "):
        export.parse_formats(None)
    from tests.test_brief import make_study

    folder = make_study(tmp_path / "s")
    brief.write_brief(folder, "en")  # a bad environment value: the brief, a warning, no export
    assert (folder / "brief.html").exists() and not (folder / "figures").exists()
    assert f"warning: {export.ENV}: must be" in capsys.readouterr().err
    assert brief.main([str(folder), "--export", "gif"]) == 2
    assert capsys.readouterr().err.startswith("error: export: must be")
    monkeypatch.setenv(export.ENV, "none")
    brief.write_brief(folder, "en")
    assert not (folder / export.PDF_NAMES["en"]).exists()


def test_pdf_fonts_tells_embedded_outlines_and_missing_apart(tmp_path):
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4\n"
                    b"1 0 obj\n<</Type /Font\n/Subtype /Type0\n/BaseFont /A+Sans\n/FontDescriptor 2 0 R>>\nendobj\n"
                    b"2 0 obj\n<</Type /FontDescriptor\n/FontName /A+Sans\n/FontFile2 9 0 R>>\nendobj\n"
                    b"3 0 obj\n<</Type /Font\n/Subtype /Type3\n/FontDescriptor 4 0 R>>\nendobj\n"
                    b"4 0 obj\n<</Type /FontDescriptor\n/FontName /B+NotoSansCJKsc-Regular>>\nendobj\n"
                    b"5 0 obj\n<</Type /Font\n/Subtype /TrueType\n/FontDescriptor 6 0 R>>\nendobj\n"
                    b"6 0 obj\n<</Type /FontDescriptor\n/FontName /SimSun>>\nendobj\n%%EOF\n")
    assert export.pdf_fonts(pdf) == {"A+Sans": "embedded", "B+NotoSansCJKsc-Regular": "outlines", "SimSun": "missing"}


CJK_FONT = re.compile(r"CJK|SourceHan|WenQuanYi|WQY|Droid.*Fallback|SimSun|SimHei|PingFang|YaHei", re.I)


def test_each_brief_prints_to_a_pdf_with_its_cjk_fonts_embedded(tiny):  # noqa: F811
    _chromium_or_skip()
    for lang in ("en", "zh"):
        pdf = export.write_pdf(tiny / brief.FILENAMES[lang], tiny / export.PDF_NAMES[lang])
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF") and len(data) > 50_000
        fonts = export.pdf_fonts(pdf)
        assert fonts and "missing" not in fonts.values(), fonts
        # the figures print too: several pages
        assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 3
        if lang == "zh":
            cjk = {n: how for n, how in fonts.items() if CJK_FONT.search(n)}
            assert cjk and set(cjk.values()) <= {"embedded", "outlines"}, fonts


def test_every_figure_exports_to_png_and_svg_offline(tiny, tmp_path):  # noqa: F811
    pytest.importorskip("kaleido")
    _chromium_or_skip()
    data = brief.load_folder(tiny)
    figs = brief.brief_figures(data, "zh")
    paths = brief.export_figures(figs, tmp_path, "svg", "zh") + brief.export_figures(figs[:2], tmp_path, "png", "zh")
    assert [p.name for p in paths[:len(figs)]] == [f"{k}.zh.svg" for k, _, _, _ in figs]
    for p, (_, _, _, fig) in zip(paths, figs, strict=False):
        svg = p.read_text(encoding="utf-8")
        assert svg.startswith("<svg") and re.sub(r"<br>.*", "", str(fig.layout.title.text))[:6] in html_unescape(svg)
    for p in paths[len(figs):]:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_the_new_sections_are_in_the_briefs_language(tiny):  # noqa: F811
    zh = visible_text(_page(tiny, "zh"))
    en = visible_text(_page(tiny, "en"))
    for word in ("成本效果", "一次性投入", "县域地图"):
        assert word in zh and word not in en
    for word in ("Cost-effectiveness", "Capital once", "The county"):
        assert word in en
    assert not re.search(r"[\u4e00-\u9fff]", en.split("Methods")[0]), "no Chinese before the methods box"
