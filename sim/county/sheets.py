"""The county workbook: its sheets and columns (Chinese or English headers), reading them from
``.xlsx`` or ``.csv`` into typed rows with every problem listed, and writing them back.

Layout (one workbook with these sheets, or a folder with one ``.csv``/``.xlsx`` file per sheet,
named like the sheet):

=================  ==========  ========================================================
sheet (en / zh)    required    one row per
=================  ==========  ========================================================
facilities / 机构   yes         township/community centre, lead hospital, the tier-3 node
villages / 村庄     yes         village (its clinic, 村卫生室, is a column)
travel / 路程       no          pair of places with road minutes (blank = straight line)
settings / 设置     no          network-wide value (key, value): speed, detour, datum ...
=================  ==========  ========================================================

Columns are declared once in :data:`COLUMNS` with both header names; a header is matched
after folding case, spaces and a trailing unit in brackets (``床位(张)`` is ``床位``).
Columns named ``note``/``备注``/``address``/``地址``/``phone``/``电话`` or starting with ``#`` are
the planner's own and ignored; any other unknown header is a problem, listed with the
closest known name.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.config.schema import MODALITIES, SPECIALTIES

__all__ = ["Column", "COLUMNS", "SHEETS", "SETTINGS", "Problem", "Table", "read_tables", "write_workbook",
           "write_csv_folder", "write_template", "TEMPLATES_DIR", "is_bad", "KIND_VALUES", "SPECIALTY_ZH", "MODALITY_ZH", "parse_value", "format_value"]


@dataclass(frozen=True)
class Column:
    """One column: its schema key (the English header), Chinese header, value type and help."""

    key: str
    zh: str
    type: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    help: str = ""


#: sheet key -> (English name, Chinese name).
SHEETS = {"facilities": ("facilities", "机构"), "villages": ("villages", "村庄"),
          "travel": ("travel", "路程"), "settings": ("settings", "设置")}
_SHEET_ALIASES = {"facilities": ("facility", "医疗机构", "机构表"), "villages": ("village", "村", "村表", "行政村"),
                  "travel": ("matrix", "travel_matrix", "路程时间", "出行时间", "roads"),
                  "settings": ("参数",)}

_COORDS = (
    Column("lon", "经度", "float", aliases=("longitude", "lng"), help="longitude, degrees (WGS-84 or GCJ-02)"),
    Column("lat", "纬度", "float", aliases=("latitude",), help="latitude, degrees"),
    Column("x_km", "东西(公里)", "float", aliases=("x", "东西"), help="km east of an origin (instead of lon/lat)"),
    Column("y_km", "南北(公里)", "float", aliases=("y", "南北"), help="km north of the origin"),
)

#: sheet key -> its columns, in the order the templates and exports write them.
COLUMNS: dict[str, tuple[Column, ...]] = {
    "facilities": (
        Column("id", "编号", "id", True, ("代码", "机构编号"), "short id used in configs: letters, digits, _"),
        Column("name", "机构名称", "text", False, ("名称",), "name as shown in reports"),
        Column("name_zh", "中文名称", "text", False, (), "Chinese name (defaults to the name if it is Chinese)"),
        Column("kind", "类别", "kind", True, ("类型", "type", "机构类别"),
               "township, community, lead or tertiary (乡镇卫生院, 社区卫生服务中心, 牵头医院, 县外三级医院)"),
        Column("lead", "所属牵头医院", "ref", False, ("牵头医院", "lead_hospital"),
               "id or name of the lead hospital a township/community centre belongs to"),
        Column("beds", "床位", "int", False, ("床位数", "开放床位"), "open beds"),
        Column("doctors", "医生", "counts", True, ("医生数", "日间医生", "day_doctors"),
               "day-shift doctors: a number (general practice) or kind:n pairs, e.g. 全科:4;急诊:2"),
        Column("night_doctors", "夜班医生", "counts", False, ("值班医生",), "doctors on duty at night, as doctors"),
        Column("acquire", "设备", "modalities", False, ("检查设备", "可做检查", "modalities"),
               "studies the site can acquire: 心电图 ecg, X光 xray, CT ct, 检验 lab, 导管室 cathlab"),
        Column("read", "自行出报告", "modalities", False, ("可出报告", "读片", "可读片"),
               "studies the site reports itself (the rest are read remotely or referred)"),
        Column("equipment_units", "设备台数", "units", False, ("台数",), "units per modality, e.g. ct:1;xray:2"),
        Column("hours", "门诊时间", "hours", False, ("开诊时间", "opening_hours"), "outpatient hours, e.g. 08:00-17:30"),
        Column("days", "门诊日", "days", False, ("开诊日",), "days with outpatient clinics: 每天, 周一至周五, mon-fri"),
        Column("weekend_share", "周末在岗比例", "float", False, (), "share of day doctors on duty at weekends (0-1)"),
        Column("ambulances", "救护车", "int", False, ("120救护车",), "120 ambulances stationed here"),
        *_COORDS,
        Column("initial_bed_occupancy", "初始床位占用率", "float", False, (), "share of beds full at the start (0-1)"),
        Column("initial_queue", "初始候诊人数", "int", False, (), "outpatients waiting at the start"),
        Column("manages", "可收治病种", "list", False, (), "condition ids managed above the site's tier"),
        Column("closed", "已关闭", "bool", False, (), "是/否: a closed site stays on the map as a junction"),
    ),
    "villages": (
        Column("id", "编号", "id", True, ("代码", "村编号"), "short id: letters, digits, _"),
        Column("name", "村名", "text", False, ("名称", "村庄名称", "行政村"), "name as shown in reports"),
        Column("name_zh", "中文名称", "text", False, (), "Chinese name (defaults to the name if it is Chinese)"),
        Column("population", "人口", "int", True, ("户籍人口", "常住人口", "人口数"), "residents"),
        Column("clinic_doctors", "村医", "int", False, ("村医数", "乡村医生"), "village doctors; 0 = no village clinic"),
        *_COORDS,
    ),
    "travel": (
        Column("origin", "起点", "ref", True, ("from", "a", "出发地"), "id or name of a village or facility"),
        Column("destination", "终点", "ref", True, ("to", "b", "目的地"), "id or name of a village or facility"),
        Column("minutes", "分钟", "float", False, ("时间(分钟)", "行车时间", "duration_min", "time"),
               "road minutes one way (blank = straight line x detour / speed)"),
    ),
    "settings": (
        Column("key", "项目", "text", True, ("参数",), "one of the settings below"),
        Column("value", "值", "text", False, ("数值",), "its value"),
    ),
}

#: settings sheet keys: key -> (Chinese name, type, help).
SETTINGS: dict[str, tuple[str, str, str]] = {
    "description": ("说明", "text", "one line describing the network"),
    "coords": ("坐标系", "text", "wgs84 (GPS, OpenStreetMap), gcj02 (Amap/Gaode, Tencent maps) or bd09 (Baidu Maps)"),
    "road_speed_kmh": ("平均车速(公里/小时)", "float", "speed of the straight-line fallback"),
    "detour_factor": ("绕行系数", "float", "road km per straight-line km of the fallback"),
    "clinic_access_minutes": ("到村卫生室分钟", "float", "minutes from homes to the village clinic"),
    "fill_missing_pairs": ("缺失路程按直线估算", "bool", "pairs without minutes get the straight-line fallback"),
}

_IGNORED = ("note", "notes", "备注", "address", "地址", "phone", "电话", "联系电话", "说明")

#: kind values a planner may write -> schema kind.
KIND_VALUES = {
    "township": "township", "乡镇卫生院": "township", "卫生院": "township", "中心卫生院": "township",
    "乡卫生院": "township", "镇卫生院": "township",
    "community": "community", "社区卫生服务中心": "community", "社区": "community", "社区卫生服务站": "community",
    "lead": "lead", "牵头医院": "lead", "县医院": "lead", "县人民医院": "lead", "县级医院": "lead",
    "区人民医院": "lead", "县中医院": "lead",
    "tertiary": "tertiary", "三级医院": "tertiary", "县外三级医院": "tertiary", "市级医院": "tertiary",
    "省级医院": "tertiary", "县外医院": "tertiary", "三甲医院": "tertiary",
}
#: Chinese names of the doctor kinds (:data:`sim.config.schema.SPECIALTIES`).
SPECIALTY_ZH = {"general": "全科", "emergency": "急诊", "cardiology": "心内科", "neurology": "神经内科",
                "surgery": "外科", "ortho": "骨科", "obstetrics": "妇产科", "paediatrics": "儿科",
                "oncology": "肿瘤科", "rehab": "康复科", "ent": "耳鼻喉科", "eye": "眼科", "dental": "口腔科",
                "tcm": "中医科"}
_SPECIALTY_ALIASES = {"内科": "general", "全科医生": "general", "康复": "rehab", "中医": "tcm", "口腔": "dental",
                      "儿科医生": "paediatrics", "pediatrics": "paediatrics", "妇科": "obstetrics", "产科": "obstetrics",
                      "心内": "cardiology", "神内": "neurology"}
#: Chinese names of the modalities (:data:`sim.config.schema.MODALITIES`).
MODALITY_ZH = {"ecg": "心电图", "xray": "X光", "ct": "CT", "lab": "检验", "cathlab": "导管室"}
_MODALITY_ALIASES = {"心电": "ecg", "x线": "xray", "dr": "xray", "放射": "xray", "x-ray": "xray", "化验": "lab",
                     "实验室": "lab", "cath": "cathlab", "导管": "cathlab"}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_TRUE = ("true", "yes", "y", "1", "是", "对", "有")
_FALSE = ("false", "no", "n", "0", "否", "无", "")


@dataclass
class Problem:
    """One thing wrong with the planner's files, located as precisely as known."""

    file: str
    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(f"sheet {self.sheet}")
        if self.row is not None:
            where.append(f"row {self.row}")
        head = ", ".join(where)
        return f"{head}, {self.column}: {self.message}" if self.column else f"{head}: {self.message}"


@dataclass
class Table:
    """One sheet, read: typed rows (schema keys -> values) with their spreadsheet row numbers."""

    key: str
    file: str
    sheet: str = ""
    #: the header as the planner wrote it, per schema key.
    headers: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)

    def header(self, key: str) -> str:
        """The planner's header of column ``key`` (else its Chinese name)."""
        if key in self.headers:
            return self.headers[key]
        col = next((c for c in COLUMNS[self.key] if c.key == key), None)
        return col.zh if col else key

    def problem(self, message: str, i: int | None = None, key: str = "") -> Problem:
        """A problem of row index ``i`` (into :attr:`rows`), column ``key``."""
        return Problem(self.file, message, self.sheet, self.row_numbers[i] if i is not None else None,
                       self.header(key) if key else "")


def _fold(text: str) -> str:
    t = str(text).strip().lower().replace("（", "(").replace("）", ")").replace("：", ":")
    return re.sub(r"\s+", "", t)


def _header_index(key: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for col in COLUMNS[key]:
        for name in (col.key, col.zh, *col.aliases):
            out[_fold(name)] = col.key
    return out


def _match_headers(table: Table, raw: Sequence[Any], problems: list[Problem]) -> list[str | None]:
    index = _header_index(table.key)
    keys: list[str | None] = []
    for j, h in enumerate(raw):
        text = "" if h is None else str(h).strip()
        folded = _fold(text)
        bare = re.sub(r"\(.*\)$", "", folded)
        key = index.get(folded) or index.get(bare)
        if not text or text.startswith("#") or bare in _IGNORED:
            keys.append(None)
            continue
        if key is None:
            close = difflib.get_close_matches(folded, list(index), n=1, cutoff=0.0)
            known = next((c for c in COLUMNS[table.key] if close and c.key == index[close[0]]), None)
            hint = f" (closest known: {known.zh} / {known.key})" if known else ""
            problems.append(Problem(table.file, f"unknown column {text!r}{hint}; known: "
                                    + ", ".join(c.zh for c in COLUMNS[table.key]), table.sheet, 1,
                                    f"column {j + 1}"))
            keys.append(None)
        elif key in table.headers:
            problems.append(Problem(table.file, f"column {text!r} repeats {table.headers[key]!r}", table.sheet, 1,
                                    f"column {j + 1}"))
            keys.append(None)
        else:
            table.headers[key] = text
            keys.append(key)
    for col in COLUMNS[table.key]:
        if col.required and col.key not in table.headers:
            problems.append(Problem(table.file, f"missing column {col.zh} ({col.key}): {col.help}", table.sheet))
    return keys


def _number(value: Any, whole: bool) -> float | int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)):
        v = value
    else:
        text = str(value).strip().replace(",", "").replace("，", "")
        pct = text.endswith("%")
        v = float(text[:-1]) / 100.0 if pct else float(text)
    if not math.isfinite(v):
        raise ValueError
    if whole:
        if float(v) != int(v):
            raise ValueError
        return int(v)
    return float(v)


def _split(text: str) -> list[str]:
    return [p for p in re.split(r"[;,，；、/\s]+", text.strip()) if p]


def _closest(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.0)
    return f" (closest: {close[0]})" if close else ""


def _specialty(word: str) -> str:
    w = word.strip().lower()
    if w in SPECIALTIES:
        return w
    zh = {v: k for k, v in SPECIALTY_ZH.items()} | _SPECIALTY_ALIASES
    if w in zh:
        return zh[w]
    raise ValueError(f"unknown doctor kind {word!r}{_closest(w, list(SPECIALTIES) + list(zh))}; "
                     f"known: {', '.join(f'{SPECIALTY_ZH[s]} {s}' for s in SPECIALTIES)}")


def _modality(word: str) -> str:
    w = word.strip().lower()
    zh = {v.lower(): k for k, v in MODALITY_ZH.items()} | _MODALITY_ALIASES
    if w in MODALITIES:
        return w
    if w in zh:
        return zh[w]
    raise ValueError(f"unknown study {word!r}{_closest(w, list(MODALITIES) + list(zh))}; "
                     f"known: {', '.join(f'{MODALITY_ZH[m]} {m}' for m in MODALITIES)}")


def _counts(value: Any, name_of) -> dict[str, int]:
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.0+)?", text):
        if name_of is not _specialty:
            raise ValueError(f"{text!r}: give units per study, e.g. ct:1;xray:2")
        return {"general": int(float(text))}
    out: dict[str, int] = {}
    for part in _split(text):
        m = re.fullmatch(r"(.+?)[:=：](.+)", part)
        if not m:
            raise ValueError(f"{part!r} is not kind:number (e.g. 全科:4;急诊:2)")
        kind = name_of(m.group(1))
        try:
            n = int(_number(m.group(2), True))
        except ValueError:
            raise ValueError(f"{m.group(2)!r} is not a whole number (in {part!r})") from None
        if n < 0:
            raise ValueError(f"{part!r}: a count must be >= 0")
        out[kind] = out.get(kind, 0) + n
    return out


def _hours(value: Any) -> tuple[float, float]:
    text = str(value).strip().replace("：", ":").replace("—", "-").replace("–", "-").replace("至", "-")
    text = text.replace("~", "-").replace("到", "-")
    parts = [p.strip() for p in text.split("-")]
    if len(parts) != 2:
        raise ValueError(f"{value!r} is not opening hours like 08:00-17:30")

    def clock(p: str) -> float:
        if ":" in p:
            h, mnt = p.split(":", 1)
            return int(h) + int(mnt) / 60.0
        return float(p)

    try:
        a, b = clock(parts[0]), clock(parts[1])
    except ValueError:
        raise ValueError(f"{value!r} is not opening hours like 08:00-17:30") from None
    if not 0 <= a < b <= 24:
        raise ValueError(f"{value!r}: needs opening before closing, within 00:00-24:00")
    return a, b


def _day(word: str) -> int:
    w = word.strip().lower().replace("星期", "周").replace("周天", "周日")
    if w[:3] in _DAYS:
        return _DAYS.index(w[:3])
    if w in _DAYS_ZH:
        return _DAYS_ZH.index(w)
    raise ValueError(f"{word!r} is not a weekday (mon..sun, 周一..周日)")


def _days(value: Any) -> list[int]:
    text = str(value).strip().lower()
    if text in ("", "每天", "daily", "all", "全周", "周一至周日", "mon-sun"):
        return list(range(7))
    out: list[int] = []
    for part in _split(text.replace("至", "-").replace("到", "-").replace("~", "-")):
        if "-" in part:
            a, b = part.split("-", 1)
            lo, hi = _day(a), _day(b)
            if hi < lo:
                raise ValueError(f"{part!r}: the range runs backwards")
            out.extend(range(lo, hi + 1))
        else:
            out.append(_day(part))
    return sorted(set(out))


def parse_value(col: Column, value: Any) -> Any:
    """A cell's value as the column's type; ``ValueError`` with the problem otherwise.

    >>> parse_value(COLUMNS["facilities"][5], "二十")
    Traceback (most recent call last):
    ...
    ValueError: '二十' is not a number
    >>> parse_value(COLUMNS["facilities"][6], "全科:4；急诊:2")
    {'general': 4, 'emergency': 2}
    >>> parse_value(COLUMNS["facilities"][12], "周一至周五")
    [0, 1, 2, 3, 4]
    """
    t = col.type
    if t in ("int", "float"):
        try:
            return _number(value, t == "int")
        except (ValueError, TypeError, OverflowError):
            what = "a whole number" if t == "int" and _is_number(value) else "a number"
            raise ValueError(f"{value!r} is not {what}") from None
    if t in ("text", "id", "ref"):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        if t == "id" and not re.fullmatch(r"[A-Za-z0-9_\-]{1,60}", text):
            raise ValueError(f"{text!r} is not a short id (letters, digits, _ or -, at most 60)")
        return text
    if t == "kind":
        k = KIND_VALUES.get(str(value).strip().lower())
        if k is None:
            raise ValueError(f"{value!r} is not a facility kind{_closest(str(value), KIND_VALUES)}; "
                             "known: 乡镇卫生院 township, 社区卫生服务中心 community, 牵头医院 lead, 县外三级医院 tertiary")
        return k
    if t == "counts":
        return _counts(value, _specialty)
    if t == "units":
        return _counts(value, _modality)
    if t == "modalities":
        out: list[str] = []
        for w in _split(str(value)):
            m = _modality(w)
            if m not in out:
                out.append(m)
        return out
    if t == "hours":
        return _hours(value)
    if t == "days":
        return _days(value)
    if t == "list":
        return _split(str(value))
    if t == "bool":
        if isinstance(value, bool):
            return value
        w = str(value).strip().lower()
        if w in _TRUE:
            return True
        if w in _FALSE:
            return False
        raise ValueError(f"{value!r} is not 是/否 (yes/no)")
    raise AssertionError(t)  # pragma: no cover - every type is handled above


def _is_number(value: Any) -> bool:
    try:
        float(str(value).replace(",", ""))
        return True
    except ValueError:
        return False


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse_rows(table: Table, raw_rows: Iterable[tuple[int, Sequence[Any]]], problems: list[Problem]) -> None:
    header: list[str | None] | None = None
    cols = {c.key: c for c in COLUMNS[table.key]}
    for number, raw in raw_rows:
        if header is None:
            if all(_empty(v) for v in raw):
                continue
            header = _match_headers(table, raw, problems)
            continue
        if all(_empty(v) for v in raw) or str(raw[0] or "").strip().startswith("#"):
            continue
        row: dict[str, Any] = {}
        i = len(table.rows)
        table.rows.append(row)
        table.row_numbers.append(number)
        for key, value in zip(header, raw):
            if key is None or _empty(value):
                continue
            try:
                row[key] = parse_value(cols[key], value)
            except ValueError as exc:
                problems.append(table.problem(str(exc), i, key))
                row[key] = _BAD
        for col in COLUMNS[table.key]:
            if col.required and col.key in table.headers and col.key not in row:
                problems.append(table.problem("is empty (required)", i, col.key))
                row[col.key] = _BAD


class _Bad:
    """A cell that failed to parse (its problem is already listed)."""

    def __repr__(self) -> str:  # pragma: no cover - never shown to a user
        return "<bad cell>"


_BAD: Any = _Bad()


def is_bad(value: Any) -> bool:
    """Whether a parsed cell failed (its problem was listed when it was read)."""
    return isinstance(value, _Bad)


def _sheet_key(name: str) -> str | None:
    folded = _fold(Path(name).stem if "." in name else name)
    for key, (en, zh) in SHEETS.items():
        if folded in {_fold(en), _fold(zh), *(_fold(a) for a in _SHEET_ALIASES[key])}:
            return key
    return None


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GBK
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        text = raw.decode("utf-8", errors="replace")
    return [(i + 1, row) for i, row in enumerate(csv.reader(text.splitlines()))]


def _xlsx_sheets(path: Path) -> dict[str, list[tuple[int, list[Any]]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        return {ws.title: [(i + 1, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True))]
                for ws in wb.worksheets}
    finally:
        wb.close()


def read_tables(source: str | Path, extra_travel: str | Path | None = None) -> tuple[dict[str, Table], list[Problem]]:
    """Read a county workbook (``.xlsx``) or folder (one ``.csv``/``.xlsx`` per sheet).

    Returns the tables found (``facilities``, ``villages``, optionally ``travel`` and
    ``settings``) and every problem of their cells and headers.  ``extra_travel`` is a
    planner's matrix CSV (origin, destination, minutes) read as a second travel table.
    """
    src = Path(source)
    problems: list[Problem] = []
    tables: dict[str, Table] = {}

    def add(key: str, file: str, sheet: str, rows: Sequence[tuple[int, Sequence[Any]]]) -> None:
        t = Table(key, file, sheet)
        _parse_rows(t, rows, problems)
        if key in tables:
            problems.append(Problem(file, f"a second {SHEETS[key][1]} ({key}) sheet; "
                                    f"the first is in {tables[key].file}", sheet))
            return
        tables[key] = t

    def add_xlsx(path: Path, whole_book: bool) -> None:
        try:
            sheets = _xlsx_sheets(path)
        except Exception as exc:  # openpyxl raises many kinds on a damaged file
            problems.append(Problem(path.name, f"cannot be read as an .xlsx workbook ({type(exc).__name__})"))
            return
        for title, rows in sheets.items():
            key = _sheet_key(title) if whole_book or len(sheets) > 1 else _sheet_key(path.name)
            if key is None and not whole_book:
                key = _sheet_key(path.name)
            if key is None:
                problems.append(Problem(path.name, "unknown sheet; known: "
                                        + ", ".join(f"{zh} ({en})" for en, zh in SHEETS.values()), title))
                continue
            add(key, path.name, title, rows)

    if src.is_dir():
        for path in sorted(src.iterdir()):
            if path.name.startswith((".", "~$")) or path.suffix.lower() not in (".csv", ".xlsx"):
                continue
            if path.suffix.lower() == ".csv":
                key = _sheet_key(path.name)
                if key is None:
                    problems.append(Problem(path.name, "unknown file; name it after a sheet: "
                                            + ", ".join(f"{zh}.csv ({en}.csv)" for en, zh in SHEETS.values())))
                    continue
                add(key, path.name, "", _csv_rows(path))
            else:
                add_xlsx(path, whole_book=_sheet_key(path.name) is None)
    elif src.is_file() and src.suffix.lower() == ".xlsx":
        add_xlsx(src, whole_book=True)
    elif src.is_file():
        problems.append(Problem(src.name, "give a workbook (.xlsx) or a folder of .csv files"))
    else:
        problems.append(Problem(str(src), "no such file or folder"))
    if extra_travel is not None:
        path = Path(extra_travel)
        if not path.is_file():
            problems.append(Problem(str(path), "no such travel-matrix file"))
        else:
            t = Table("travel", path.name, "")
            _parse_rows(t, _csv_rows(path) if path.suffix.lower() != ".xlsx"
                        else next(iter(_xlsx_sheets(path).values()), []), problems)
            tables["matrix"] = t
    for key in ("facilities", "villages"):
        if key not in tables and (src.exists()):
            en, zh = SHEETS[key]
            problems.append(Problem(src.name, f"no {zh} ({en}) sheet or file"))
    return tables, problems


def format_value(col: Column, value: Any, zh: bool) -> Any:
    """A schema value as a cell of column ``col`` (the inverse of :func:`parse_value`)."""
    if value is None:
        return None
    t = col.type
    if t in ("counts", "units"):
        names = SPECIALTY_ZH if t == "counts" else MODALITY_ZH
        return "; ".join(f"{names.get(k, k) if zh else k}:{v}" for k, v in value.items()) or None
    if t == "modalities":
        return ", ".join(MODALITY_ZH[m] if zh else m for m in value) or None
    if t == "hours":
        a, b = value

        def clock(h: float) -> str:
            mins = int(round(h * 60))
            return f"{mins // 60:02d}:{mins % 60:02d}"

        return f"{clock(a)}-{clock(b)}"
    if t == "days":
        if sorted(value) == list(range(7)):
            return "每天" if zh else "daily"
        days = _DAYS_ZH if zh else _DAYS
        return ", ".join(days[d] for d in value)
    if t == "list":
        return ", ".join(value) or None
    if t == "bool":
        return ("是" if value else "否") if zh else ("yes" if value else "no")
    if t == "kind":
        return {"township": "乡镇卫生院", "community": "社区卫生服务中心", "lead": "牵头医院",
                "tertiary": "县外三级医院"}[value] if zh else value
    return value


def _headers(key: str, zh: bool) -> list[str]:
    return [c.zh if zh else c.key for c in COLUMNS[key]]


def _cells(key: str, rows: list[dict[str, Any]], zh: bool) -> list[list[Any]]:
    if key == "settings":
        rows = [_setting_row(r, zh) for r in rows]
    return [[format_value(c, r.get(c.key), zh) for c in COLUMNS[key]] for r in rows]


def _setting_row(row: dict[str, Any], zh: bool) -> dict[str, Any]:
    """A settings row in the sheet's language: the setting's Chinese name and 是/否 in a
    Chinese workbook (the importer reads either language)."""
    key, value = row.get("key"), row.get("value")
    spec = SETTINGS.get(str(key))
    if spec is None:
        return row
    if spec[1] == "bool":
        yes = value is True or str(value).strip().lower() in ("true", "yes", "是", "1")
        value = ("是" if yes else "否") if zh else ("yes" if yes else "no")
    return {"key": spec[0] if zh else key, "value": value}


def write_workbook(path: str | Path, rows: dict[str, list[dict[str, Any]]], zh: bool = True) -> Path:
    """Write sheets (sheet key -> rows of schema keys) as one ``.xlsx`` workbook."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment

    wb = Workbook()
    wb.remove(wb.active)
    for key in ("facilities", "villages", "travel", "settings"):
        if key not in rows:
            continue
        ws = wb.create_sheet(SHEETS[key][1] if zh else SHEETS[key][0])
        ws.append(_headers(key, zh))
        for cell, col in zip(ws[1], COLUMNS[key]):
            cell.comment = Comment(f"{col.zh} / {col.key}: {col.help}", "sim.county")
        for r in _cells(key, rows[key], zh):
            ws.append(r)
        ws.freeze_panes = "A2"
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def write_csv_folder(folder: str | Path, rows: dict[str, list[dict[str, Any]]], zh: bool = True) -> Path:
    """Write sheets as one UTF-8 ``.csv`` per sheet (with a byte-order mark, so Excel opens
    Chinese text correctly)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for key, sheet_rows in rows.items():
        name = SHEETS[key][1] if zh else SHEETS[key][0]
        with open(out / f"{name}.csv", "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(_headers(key, zh))
            for r in _cells(key, sheet_rows, zh):
                w.writerow(["" if v is None else v for v in r])
    return out


#: the blank templates shipped with the package: ``templates/<zh|en>/<sheet>.csv``, each with
#: its header row and one example row.
TEMPLATES_DIR = Path(__file__).with_name("templates")


def write_template(folder: str | Path) -> list[Path]:
    """Copy the blank templates into ``folder``: per language a workbook
    (``county_template_<zh|en>.xlsx``, every header with its help as a cell comment) and a
    folder of ``.csv`` files (``county_template_<zh|en>/``)."""
    import shutil

    from openpyxl import Workbook
    from openpyxl.comments import Comment

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for lang in ("zh", "en"):
        wb = Workbook()
        wb.remove(wb.active)
        csv_dir = out / f"county_template_{lang}"
        csv_dir.mkdir(exist_ok=True)
        for key, (en, zh) in SHEETS.items():
            name = zh if lang == "zh" else en
            src = TEMPLATES_DIR / lang / f"{name}.csv"
            shutil.copyfile(src, csv_dir / src.name)
            ws = wb.create_sheet(name)
            for _, row in _csv_rows(src):
                ws.append([_cell(v) for v in row])
            cols = {c.zh if lang == "zh" else c.key: c for c in COLUMNS[key]}
            for cell in ws[1]:
                col = cols.get(str(cell.value))
                if col is not None:
                    cell.comment = Comment(f"{col.zh} / {col.key}: {col.help}", "sim.county")
            ws.freeze_panes = "A2"
        path = out / f"county_template_{lang}.xlsx"
        wb.save(path)
        written += [path, csv_dir]
    return written


def _cell(text: str) -> Any:
    """A template cell: a number where it reads as one (so Excel sees numbers), else text."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text if text else None
