"""``python -m sim.county``: bring your own county (issue 17).

Commands::

    python -m sim.county template <folder>                 # blank workbooks, Chinese and English
    python -m sim.county import <workbook.xlsx | folder> --name <name> [--coords gcj02|bd09]
                         [--travel-matrix m.csv] [--osm county.osm] [--out scenarios/network]
    python -m sim.county export network=<name> <out.xlsx | folder> [--lang en]

A problem in the planner's files prints one line per problem (file, sheet, row, column) and
exits with code 2; nothing is written then.  See ``docs/your_county.md``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sim.county", description="Import a county from spreadsheets, "
                                "export a network to a workbook, or write blank templates (docs/your_county.md).")
    sub = p.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="workbook or folder -> scenarios/network/<name>.yaml + map + summary")
    imp.add_argument("source", help="a .xlsx workbook, or a folder of .csv/.xlsx files named after the sheets")
    imp.add_argument("--name", required=True, help="network name (then run with network=<name>)")
    imp.add_argument("--out", default=None, help="folder of the network YAML (default scenarios/network)")
    imp.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"), default=None,
                     help="datum of the lon/lat: wgs84 (GPS, OpenStreetMap), gcj02 (Amap, Tencent maps) or "
                          "bd09 (Baidu Maps)")
    imp.add_argument("--travel-matrix", default=None, help="CSV of origin, destination, minutes")
    imp.add_argument("--osm", default=None, help="OpenStreetMap extract (.osm XML or .osm.pbf) of the county's roads")
    imp.add_argument("--road-speeds", default=None, help="YAML of km/h by OSM road class")
    imp.add_argument("--max-snap-km", type=float, default=2.0, help="report sites farther than this from a road")
    imp.add_argument("--no-fill", action="store_true", help="do not give pairs without minutes the straight-line fallback")
    imp.add_argument("--map", default=None, help="preview map HTML (default outputs/import/<name>_map.html)")
    imp.add_argument("--force", action="store_true", help="overwrite an existing network file")
    imp.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    exp = sub.add_parser("export", help="network=<name> -> a workbook (a bundled county is a template too)")
    exp.add_argument("network", help="network=<name>, a name, or a path to a network YAML")
    exp.add_argument("out", help="out.xlsx, or a folder for one .csv per sheet")
    exp.add_argument("--lang", choices=("zh", "en"), default="zh", help="header language (default zh)")
    tpl = sub.add_parser("template", help="blank workbooks with Chinese and English headers and one example row")
    tpl.add_argument("out", help="folder to write them into")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (2 for a problem in the input)."""
    from sim.config.errors import ConfigError
    from sim.county.importer import CountyImportError

    args = _parser().parse_args(argv)
    try:
        if args.command == "import":
            return _import(args)
        if args.command == "export":
            return _export(args)
        return _template(args)
    except CountyImportError as exc:
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        n = len(exc.problems)
        print(f"{n} problem{'s' if n != 1 else ''}; nothing was written", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _import(args: argparse.Namespace) -> int:
    from sim.config.loading import SCENARIOS_DIR
    from sim.county.importer import config_dir_hint, import_county

    out = None if args.dry_run else Path(args.out) if args.out else SCENARIOS_DIR / "network"
    res = import_county(args.source, args.name, out, coords=args.coords, travel_matrix=args.travel_matrix,
                        osm=args.osm, road_speeds=args.road_speeds, fill_missing=False if args.no_fill else None,
                        max_snap_km=args.max_snap_km, force=args.force, map_path=args.map)
    for line in res.summary:
        print(line)
    if res.path is None:
        print("dry run: every check passed; nothing written")
        return 0
    print(f"network file: {res.path}")
    print(f"preview map:  {res.map_path}")
    print(f"next: python -m sim {config_dir_hint(res.path)}network={args.name} care=default    (uncalibrated until "
          f"`python -m calibration network={args.name}` has run with this county's targets)")
    return 0


def _export(args: argparse.Namespace) -> int:
    from sim.county.importer import load_network, network_rows
    from sim.county.sheets import write_csv_folder, write_workbook

    rows = network_rows(load_network(args.network))
    out = Path(args.out)
    zh = args.lang == "zh"
    path = write_workbook(out, rows, zh) if out.suffix.lower() == ".xlsx" else write_csv_folder(out, rows, zh)
    print(f"wrote {path}: {len(rows['facilities'])} facilities, {len(rows['villages'])} villages, "
          f"{len(rows['travel'])} travel rows")
    return 0


def _template(args: argparse.Namespace) -> int:
    from sim.county.sheets import write_template

    for path in write_template(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
