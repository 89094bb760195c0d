"""Bring your own county (issue 17): spreadsheets in, a validated network out.

- every bundled network exported to a workbook and imported again is the same network (ids,
  capacities, positions, travel minutes);
- an OpenStreetMap road grid built here gives the shortest-path minutes computed by hand, and
  a site far from any road is reported;
- GCJ-02 <-> WGS-84 matches published reference points; the local projection keeps distances;
- malformed workbooks list every problem with its sheet, row and column and exit with code 2,
  writing nothing;
- an imported county composes as ``network=<name>`` and runs.
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.config.schema import NetworkConfig
from sim.county.geo import gcj02_to_wgs84, in_china, local_projection, wgs84_to_gcj02
from sim.county.importer import CountyImportError, import_county, load_network, network_from_dict, network_rows
from sim.county.network import build_county
from sim.county.sheets import COLUMNS, SHEETS, TEMPLATES_DIR, read_tables, write_csv_folder, write_workbook

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted(p.stem for p in (ROOT / "scenarios" / "network").glob("*.yaml"))


def _typed(net: dict) -> NetworkConfig:
    return network_from_dict(net)


def _write_csv(folder: Path, name: str, header: list[str], rows: list[list[object]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


# --------------------------------------------------------------------------- coordinates

#: WGS-84 -> GCJ-02 reference points (lat, lon, lat, lon) published with the eviltransform
#: library's test suite (github.com/googollee/eviltransform): Shanghai, Shenzhen, Beijing.
GCJ_REFERENCE = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]


@pytest.mark.parametrize("wlat, wlon, glat, glon", GCJ_REFERENCE)
def test_gcj02_matches_published_reference_points(wlat, wlon, glat, glon):
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert abs(lon - glon) < 1e-9 and abs(lat - glat) < 1e-9
    lon, lat = gcj02_to_wgs84(glon, glat)
    # 1e-7 degrees is about 1 cm
    assert abs(lon - wlon) < 1e-7 and abs(lat - wlat) < 1e-7


def test_gcj02_offset_is_a_few_hundred_metres_and_none_outside_china():
    from pyproj import Geod

    lon, lat = wgs84_to_gcj02(116.377817, 39.911954)
    _, _, metres = Geod(ellps="WGS84").inv(116.377817, 39.911954, lon, lat)
    assert 100 < metres < 1000
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)  # Paris: no offset
    assert not in_china(139.69, 35.69)  # Tokyo is east of the rectangle


def test_projection_keeps_distances_within_half_a_percent():
    from pyproj import Geod

    # one degree of latitude at 39.5-40.5 N along a meridian is 111.04 km (the published
    # meridian-arc table gives 111.035 km per degree at 40 N)
    p = local_projection([116.9, 117.1], [39.5, 40.5])
    x, y = p.to_km([117.0, 117.0], [39.5, 40.5])
    assert math.hypot(x[1] - x[0], y[1] - y[0]) == pytest.approx(111.035, rel=0.005)
    # an east-west pair 30 km off the centre against the geodesic on the ellipsoid
    x, y = p.to_km([116.6, 117.2], [40.2, 40.25])
    _, _, metres = Geod(ellps="WGS84").inv(116.6, 40.2, 117.2, 40.25)
    assert math.hypot(x[1] - x[0], y[1] - y[0]) == pytest.approx(metres / 1000.0, rel=0.005)
    lon, lat = p.to_lonlat(x, y)
    assert lon[0] == pytest.approx(116.6, abs=1e-9) and lat[1] == pytest.approx(40.25, abs=1e-9)


# --------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_network_round_trips_through_a_workbook(name, tmp_path):
    net = load_network(name)
    book = write_workbook(tmp_path / f"{name}.xlsx", network_rows(net), zh=(name != "toy"))
    res = import_county(book, f"{name}_again", out_dir=None)
    back = _typed(res.network)
    assert list(back.facilities) == list(net.facilities) and list(back.villages) == list(net.villages)
    for fid, f in net.facilities.items():
        g = back.facilities[fid]
        for k in ("name", "name_zh", "kind", "tier", "lead", "beds", "doctors", "night_doctors", "acquire", "read",
                  "equipment_units", "hours", "ambulances", "initial_bed_occupancy", "initial_queue", "manages",
                  "closed", "x_km", "y_km"):
            assert getattr(g, k) == getattr(f, k), (fid, k)
    for vid, v in net.villages.items():
        w = back.villages[vid]
        for k in ("name", "name_zh", "population", "clinic_doctors", "x_km", "y_km"):
            assert getattr(w, k) == getattr(v, k), (vid, k)
    for k in ("road_speed_kmh", "detour_factor", "clinic_access_minutes", "description"):
        assert getattr(back, k) == getattr(net, k)
    a, b = build_county(net), build_county(back)
    assert a.facility_ids == b.facility_ids and a.village_ids == b.village_ids
    np.testing.assert_allclose(b.travel, a.travel, atol=0.01)
    np.testing.assert_allclose(b.ftravel, a.ftravel, atol=0.01)


def test_lonlat_network_round_trips_with_its_datum(tmp_path):
    """An imported county keeps lon/lat (WGS-84) and exports them again: same positions."""
    res = import_county(_lonlat_county(tmp_path / "in", gcj=True), "ll", out_dir=None, coords="gcj02")
    net = _typed(res.network)
    assert net.coordinates.datum == "wgs84" and net.coordinates.input_datum == "gcj02"
    assert "+proj=aeqd" in net.coordinates.projection
    write_csv_folder(tmp_path / "out", network_rows(net), zh=False)
    again = _typed(import_county(tmp_path / "out", "ll2", out_dir=None).network)
    for fid, f in net.facilities.items():
        assert (again.facilities[fid].lon, again.facilities[fid].lat) == (f.lon, f.lat)
        assert again.facilities[fid].x_km == pytest.approx(f.x_km, abs=1e-3)


def test_baidu_bd09_positions_import_to_the_same_wgs84_as_gcj02_ones(tmp_path):
    """Baidu Maps' BD-09 = GCJ-02 plus Baidu's shift (~700-1,000 m): the same county given in
    BD-09 imports to the WGS-84 positions of its GCJ-02 version (within a millimetre)."""
    from sim.county.geo import bd09_to_gcj02, bd09_to_wgs84, gcj02_to_bd09

    for lon, lat in [(116.39739, 39.90886), (122.84, 45.62), (87.6, 43.8), (109.4, 24.3)]:
        b = gcj02_to_bd09(lon, lat)
        shift_m = math.hypot((b[0] - lon) * 111_320 * math.cos(math.radians(lat)), (b[1] - lat) * 110_574)
        assert 500 < shift_m < 1_200
        assert bd09_to_gcj02(*b) == pytest.approx((lon, lat), abs=1e-9)
        assert bd09_to_wgs84(*b) == pytest.approx(gcj02_to_wgs84(lon, lat), abs=1e-9)
    gcj = _lonlat_county(tmp_path / "gcj", gcj=True)
    bd = tmp_path / "bd"
    _write_csv(bd, "机构", _FAC_HEAD, [[*r[:-2], *gcj02_to_bd09(r[-2], r[-1])] for r in _fac_rows(True)])
    _write_csv(bd, "村庄", ["编号", "村名", "人口", "村医", "经度", "纬度"],
               [[*r[:-2], *gcj02_to_bd09(r[-2], r[-1])] for r in _vil_rows(True)])
    a = _typed(import_county(gcj, "a", out_dir=None, coords="gcj02").network)
    b = _typed(import_county(bd, "b", out_dir=None, coords="bd09").network)
    assert b.coordinates.input_datum == "bd09"
    for fid, f in a.facilities.items():
        assert (b.facilities[fid].lon, b.facilities[fid].lat) == pytest.approx((f.lon, f.lat), abs=1e-8)
    assert "--coords" in _problems(gcj, coords="baidu")[0]


# --------------------------------------------------------------------------- small counties

#: a county of real coordinates near Xianghe (Hebei): lead hospital, two township centres,
#: three villages, a Beijing tertiary hospital; (id, name, kind, lead, lon, lat)
_FAC = [("lead", "县人民医院", "牵头医院", "", 117.006, 39.763),
        ("t1", "渠口镇卫生院", "乡镇卫生院", "县人民医院", 117.110, 39.700),
        ("t2", "安平镇卫生院", "乡镇卫生院", "lead", 117.080, 39.860),
        ("city", "北京市三甲医院", "县外三级医院", "", 116.400, 39.900)]
_VIL = [("v1", "韦各庄村", 117.050, 39.720, 1280, 2), ("v2", "渠口一村", 117.130, 39.690, 2300, 1),
        ("v3", "安平一村", 117.090, 39.880, 1500, 0)]
_FAC_HEAD = ["编号", "机构名称", "类别", "所属牵头医院", "床位", "医生", "设备", "自行出报告", "门诊时间", "经度", "纬度"]


def _fac_rows(gcj: bool = False) -> list[list[object]]:
    rows = []
    for fid, name, kind, lead, lon, lat in _FAC:
        if gcj:
            lon, lat = wgs84_to_gcj02(lon, lat)
        big = kind != "乡镇卫生院"
        rows.append([fid, name, kind, lead, 300 if big else 30, "全科:20;急诊:4" if big else "全科:6",
                     "心电图、X光、CT、检验" if big else "心电图、检验", "心电图、X光、CT、检验" if big else "检验",
                     "08:00-17:30", lon, lat])
    return rows


def _vil_rows(gcj: bool = False) -> list[list[object]]:
    rows = []
    for vid, name, lon, lat, pop, docs in _VIL:
        if gcj:
            lon, lat = wgs84_to_gcj02(lon, lat)
        rows.append([vid, name, pop, docs, lon, lat])
    return rows


def _lonlat_county(folder: Path, gcj: bool = False) -> Path:
    _write_csv(folder, "机构", _FAC_HEAD, _fac_rows(gcj))
    _write_csv(folder, "村庄", ["编号", "村名", "人口", "村医", "经度", "纬度"], _vil_rows(gcj))
    return folder


def test_straight_line_fallback_is_stated_and_the_network_stores_its_source(tmp_path):
    res = import_county(_lonlat_county(tmp_path / "in"), "fallback", out_dir=None)
    t = res.network["travel"]
    assert t["source"] == "straight_line" and t["straight_line_pairs"] is True and not t["minutes"]
    assert any("CRUDE FALLBACK" in line for line in res.summary)
    net = _typed(res.network)
    c = build_county(net)
    v1, lead = c.village_ids.index("v1"), c.findex("lead")
    km = math.hypot(net.villages["v1"].x_km - net.facilities["lead"].x_km,
                    net.villages["v1"].y_km - net.facilities["lead"].y_km)
    assert c.travel[v1, lead] == pytest.approx(km * 1.3 / 40.0 * 60.0)
    assert net.facilities["t1"].lead == "lead" and net.facilities["t1"].name_zh == "渠口镇卫生院"


def test_a_planners_matrix_overrides_the_fallback(tmp_path):
    src = _lonlat_county(tmp_path / "in")
    matrix = tmp_path / "amap.csv"
    _write_csv(tmp_path, "amap", ["origin", "destination", "minutes"],
               [["韦各庄村", "县人民医院", 17.5], ["v1", "t1", 9], ["lead", "city", 75]])
    res = import_county(src, "matrix", out_dir=None, travel_matrix=matrix)
    assert res.network["travel"]["source"] == "mixed"
    c = build_county(_typed(res.network))
    assert c.travel[c.village_ids.index("v1"), c.findex("lead")] == pytest.approx(17.5)
    assert c.travel[c.village_ids.index("v1"), c.findex("t1")] == pytest.approx(9.0)
    assert c.ftravel[c.findex("lead"), c.findex("city")] == pytest.approx(75.0)


# --------------------------------------------------------------------------- OpenStreetMap

_R = 6371.009  # km: the sphere osmnx measures edge lengths on


def _osm_grid(path: Path, lon0: float, lat0: float) -> dict[str, tuple[float, float]]:
    """A rectangle of roads: A-B 10 km east (primary, 50 km/h), B-C 6 km north (secondary,
    40 km/h), A-D 6 km north (tertiary, 30 km/h), D-C 10 km east (residential, 20 km/h)."""
    dlat = math.degrees(6.0 / _R)
    dlon = math.degrees(2 * math.asin(math.sin(10.0 / (2 * _R)) / math.cos(math.radians(lat0))))
    pts = {"A": (lon0, lat0), "B": (lon0 + dlon, lat0), "C": (lon0 + dlon, lat0 + dlat), "D": (lon0, lat0 + dlat)}
    ids = {k: i + 1 for i, k in enumerate(pts)}
    ways = [("A", "B", "primary"), ("B", "C", "secondary"), ("A", "D", "tertiary"), ("D", "C", "residential")]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    lines += [f'  <node id="{ids[k]}" lat="{lat:.9f}" lon="{lon:.9f}" version="1"/>' for k, (lon, lat) in pts.items()]
    for i, (a, b, cls) in enumerate(ways):
        lines += [f'  <way id="{100 + i}" version="1">', f'    <nd ref="{ids[a]}"/>', f'    <nd ref="{ids[b]}"/>',
                  f'    <tag k="highway" v="{cls}"/>', "  </way>"]
    path.write_text("\n".join(lines + ["</osm>"]), encoding="utf-8")
    return pts


def test_osm_road_grid_gives_the_hand_computed_shortest_paths_and_reports_a_far_site(tmp_path):
    pts = _osm_grid(tmp_path / "roads.osm", 117.0, 39.75)
    (la, pa), (lb, pb), (lc, pc), (ld, pd) = pts["A"], pts["B"], pts["C"], pts["D"]
    folder = tmp_path / "in"
    _write_csv(folder, "facilities", ["id", "name", "kind", "lead", "beds", "doctors", "lon", "lat"],
               [["t1", "T1", "township", "lead", 20, 4, lb, pb], ["lead", "Lead", "lead", "", 200, 30, lc, pc],
                ["city", "City", "tertiary", "", 0, 1, 116.4, 39.9]])
    _write_csv(folder, "villages", ["id", "name", "population", "clinic_doctors", "lon", "lat"],
               [["v1", "V1", 1000, 1, la, pa], ["v2", "V2", 800, 0, ld, pd]])
    res = import_county(folder, "grid", out_dir=None, osm=tmp_path / "roads.osm", fill_missing=False)
    m = res.network["travel"]["minutes"]

    def minutes(a: str, b: str) -> float:
        return m.get(a, {}).get(b, m.get(b, {}).get(a))

    # by hand: A-B 12, B-C 9, A-D 12, D-C 30 minutes
    assert minutes("t1", "v1") == pytest.approx(12.0, abs=0.05)       # A-B
    assert minutes("t1", "v2") == pytest.approx(24.0, abs=0.05)       # D-A-B (not D-C-B, 39)
    assert minutes("lead", "v1") == pytest.approx(21.0, abs=0.05)     # A-B-C (not A-D-C, 42)
    assert minutes("lead", "v2") == pytest.approx(30.0, abs=0.1)      # D-C (not D-A-B-C, 33)
    assert minutes("t1", "lead") == pytest.approx(9.0, abs=0.05)      # B-C
    assert res.network["travel"]["source"] == "osm"
    far = [w for w in res.warnings if w.startswith("city:")]
    assert far and "km from the nearest road" in far[0]
    assert any("snapped to the nearest road node" in line for line in res.summary)
    c = build_county(_typed(res.network))
    assert c.travel[c.village_ids.index("v2"), c.findex("lead")] == pytest.approx(30.0, abs=0.1)


def test_an_osm_pbf_extract_gives_the_same_minutes_as_its_xml(tmp_path):
    """A Geofabrik-style ``.osm.pbf`` is read directly (its roads through pyosmium): the same
    minutes as the XML it was written from; a file that is not PBF is one clear problem."""
    import osmium

    pts = _osm_grid(tmp_path / "roads.osm", 117.0, 39.75)
    # a building way and its nodes, which the conversion must leave out without changing a minute
    xml = (tmp_path / "roads.osm").read_text(encoding="utf-8").replace("</osm>", (
        '  <node id="90" lat="39.76" lon="117.01" version="1"/>\n  <node id="91" lat="39.761" lon="117.011" '
        'version="1"/>\n  <way id="900" version="1">\n    <nd ref="90"/>\n    <nd ref="91"/>\n'
        '    <tag k="building" v="yes"/>\n  </way>\n</osm>'))
    (tmp_path / "roads.osm").write_text(xml, encoding="utf-8")
    writer = osmium.SimpleWriter(str(tmp_path / "roads.osm.pbf"))
    for obj in osmium.FileProcessor(str(tmp_path / "roads.osm")):
        writer.add(obj)
    writer.close()
    folder = tmp_path / "in"
    (la, pa), (lb, pb), (lc, pc), (ld, pd) = pts["A"], pts["B"], pts["C"], pts["D"]
    _write_csv(folder, "facilities", ["id", "name", "kind", "lead", "beds", "doctors", "lon", "lat"],
               [["t1", "T1", "township", "lead", 20, 4, lb, pb], ["lead", "Lead", "lead", "", 200, 30, lc, pc],
                ["city", "City", "tertiary", "", 0, 1, 116.4, 39.9]])
    _write_csv(folder, "villages", ["id", "name", "population", "clinic_doctors", "lon", "lat"],
               [["v1", "V1", 1000, 1, la, pa], ["v2", "V2", 800, 0, ld, pd]])
    from_xml = import_county(folder, "g1", out_dir=None, osm=tmp_path / "roads.osm", fill_missing=False)
    from_pbf = import_county(folder, "g2", out_dir=None, osm=tmp_path / "roads.osm.pbf", fill_missing=False)
    assert from_pbf.network["travel"]["minutes"] == from_xml.network["travel"]["minutes"]
    assert from_pbf.network["travel"]["minutes"]["t1"]["v1"] == pytest.approx(12.0, abs=0.05)
    (tmp_path / "junk.osm.pbf").write_bytes(b"not a pbf file at all")
    problems = _problems(folder, osm=tmp_path / "junk.osm.pbf", fill_missing=False)
    assert len(problems) == 1 and problems[0].startswith("junk.osm.pbf: cannot be read as an OpenStreetMap PBF")


# --------------------------------------------------------------------------- errors


def _problems(source, **kw) -> list[str]:
    with pytest.raises(CountyImportError) as err:
        import_county(source, "bad", out_dir=None, **kw)
    return err.value.problems


def test_every_row_problem_of_a_workbook_is_listed_at_once(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "机构"
    ws.append(_FAC_HEAD + ["床数x"])
    rows = _fac_rows()
    rows[1][4] = "二十"                         # row 3: beds not a number
    rows[2][3] = "县医院XX"                     # row 4: unknown lead
    rows[3][9], rows[3][10] = 39.9, 116.4      # row 5: lon/lat swapped -> outside China
    for r in rows:
        ws.append(r + [None])
    ws.append(["t1", "重复", "乡镇卫生院", "lead", 10, "全科:2", "", "", "", 117.1, 39.7])  # row 6: duplicate id
    vs = wb.create_sheet("村庄")
    vs.append(["编号", "村名", "村医", "经度", "纬度"])               # no 人口 column
    for r in _vil_rows():
        vs.append([r[0], r[1], r[3], r[4], r[5]])
    wb.save(tmp_path / "county.xlsx")
    problems = _problems(tmp_path / "county.xlsx")
    text = "\n".join(problems)
    assert "county.xlsx, sheet 机构, row 3, 床位: '二十' is not a number" in text
    assert "row 4, 所属牵头医院: names no lead hospital: '县医院XX' is no id or name" in text
    assert "row 5, 经度: (39.9, 116.4) is outside China" in text and "swapped" in text
    assert "row 6, 编号: id 't1' repeats" in text
    assert "sheet 村庄: missing column 人口 (population)" in text
    assert "unknown column '床数x' (closest known: 床位 / beds)" in text
    assert len(problems) == 6, text


def test_types_of_every_column_are_checked(tmp_path):
    folder = _lonlat_county(tmp_path / "in")
    _write_csv(folder, "机构", _FAC_HEAD + ["门诊日", "救护车"],
               [r + ["周一至周五", "two"] for r in _fac_rows()])
    rows = _fac_rows()
    rows[0][5] = "全科:4;外星科:2"
    rows[1][6] = "心电图、核磁"
    rows[2][8] = "17:30-08:00"
    _write_csv(folder, "机构", _FAC_HEAD, rows)
    text = "\n".join(_problems(folder))
    assert "row 2, 医生: unknown doctor kind '外星科'" in text
    assert "row 3, 设备: unknown study '核磁'" in text
    assert "row 4, 门诊时间: '17:30-08:00': needs opening before closing" in text


def test_an_unreachable_village_is_named_with_its_row(tmp_path):
    folder = _lonlat_county(tmp_path / "in")
    _write_csv(folder, "路程", ["起点", "终点", "分钟"],
               [["v1", "t1", 10], ["v2", "t1", 8], ["t1", "lead", 20], ["t2", "lead", 15], ["lead", "city", 80]])
    problems = _problems(folder, fill_missing=False)
    assert problems == ["村庄.csv, row 4: v3: cannot reach any open tier-1 facility by road "
                        "(add a road in network.roads, or keep a facility open)"]


def test_the_cli_prints_one_line_per_problem_exits_2_and_writes_nothing(tmp_path):
    folder = _lonlat_county(tmp_path / "in")
    rows = _vil_rows()
    rows[0][2] = "二十"
    rows[2][0] = "v1"
    _write_csv(folder, "村庄", ["编号", "村名", "人口", "村医", "经度", "纬度"], rows)
    out = tmp_path / "network"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "sim.county", "import", str(folder), "--name", "bad",
                           "--out", str(out), "--map", str(tmp_path / "map.html")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "error: 村庄.csv, row 2, 人口: '二十' is not a number"
    assert lines[1].startswith("error: 村庄.csv, row 4, 编号: id 'v1' repeats 村庄.csv row 2")
    assert lines[-1] == "2 problems; nothing was written"
    assert not out.exists() and not (tmp_path / "map.html").exists()


# --------------------------------------------------------------------------- the written network


def test_imported_county_is_written_composes_and_runs(tmp_path):
    from sim.api import run
    from sim.config import ConfigError
    from sim.config.loading import compose

    out = tmp_path / "scen" / "network"
    res = import_county(_lonlat_county(tmp_path / "in", gcj=True), "mycounty", out_dir=out, coords="gcj02",
                        map_path=tmp_path / "map.html")
    assert res.path == out / "mycounty.yaml" and res.path.is_file()
    html = res.map_path.read_text(encoding="utf-8")
    assert 'src="https://cdn.plot.ly' not in html and len(html) > 1_000_000  # plotly.js embedded: opens offline
    assert "(t1)" in html  # the hover text names each site
    # uncalibrated until fitted: composing it without care= says how to fit it or run it on care=default
    with pytest.raises(ConfigError, match=r"python -m calibration network=mycounty.*care=default"):
        compose(["network=mycounty", f"hydra.searchpath=[file://{out.parent}]"])
    cfg = compose(["network=mycounty", "care=default", f"hydra.searchpath=[file://{out.parent}]", "run=test",
                   "run.horizon_days=2", "run.warmup_days=0.5", "run.replications=1", "run.jobs=1"])
    assert cfg.network.facilities["t1"].lon == pytest.approx(117.110, abs=1e-6)
    result = run(cfg, jobs=1)
    assert len(result.kpis) > 0
    with pytest.raises(CountyImportError, match="exists already"):
        import_county(tmp_path / "in", "mycounty", out_dir=out)


def test_templates_ship_both_languages_with_known_headers(tmp_path):
    from sim.county.sheets import write_template

    written = write_template(tmp_path)
    assert (tmp_path / "county_template_zh.xlsx").is_file() and (tmp_path / "county_template_en.xlsx").is_file()
    assert len(written) == 4
    for lang in ("zh", "en"):
        tables, problems = read_tables(tmp_path / f"county_template_{lang}.xlsx")
        assert not problems, problems
        assert set(tables) == set(SHEETS)
        assert all(len(t.rows) == 1 for t in tables.values())
        for key, t in tables.items():
            assert set(t.headers) == {c.key for c in COLUMNS[key]}
        assert (TEMPLATES_DIR / lang).is_dir()


def test_a_chinese_workbook_names_its_settings_in_chinese_and_reads_back(tmp_path):
    """Export in Chinese writes the settings sheet as a planner reads it (说明, 绕行系数, 是/否), and the
    importer reads those names back to the same values."""
    net = load_network("taobei")
    folder = write_csv_folder(tmp_path / "tb", network_rows(net), zh=True)
    with open(folder / "设置.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    keys = [r[0] for r in rows[1:]]
    assert keys and not any(k.isascii() for k in keys), keys
    assert dict((r[0], r[1]) for r in rows[1:])["缺失路程按直线估算"] in ("是", "否")
    back = _typed(import_county(folder, "tb_again", out_dir=None).network)
    for k in ("road_speed_kmh", "detour_factor", "clinic_access_minutes", "description"):
        assert getattr(back, k) == getattr(net, k)
    assert back.travel.straight_line_pairs == net.travel.straight_line_pairs
    en = write_csv_folder(tmp_path / "tb_en", network_rows(net), zh=False)
    with open(en / "settings.csv", encoding="utf-8-sig") as fh:
        assert [r[0] for r in list(csv.reader(fh))[1:]][:2] == ["description", "road_speed_kmh"]


def test_import_into_any_folder_is_validated_and_says_how_to_run_it(tmp_path):
    from sim.county.importer import config_dir_hint

    loose = import_county(_lonlat_county(tmp_path / "in", gcj=True), "loose", out_dir=tmp_path / "anywhere",
                          coords="gcj02", map_path=tmp_path / "m1.html")
    assert loose.path == tmp_path / "anywhere" / "loose.yaml" and loose.path.is_file()
    assert "network/loose.yaml" in config_dir_hint(loose.path)
    placed = import_county(tmp_path / "in", "placed", out_dir=tmp_path / "cfg" / "network", coords="gcj02",
                           map_path=tmp_path / "m2.html")
    assert config_dir_hint(placed.path) == f"--config-dir {tmp_path / 'cfg'} "
