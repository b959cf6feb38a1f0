"""`village-hub org import FILE`: towns, villages and units from the .xlsx or .csv sheet an office keeps.

One row per place, columns (Chinese or English headers): 类型/type (镇街|town, 村|village, 单位|unit), 编号/id,
名称/name, 上级/parent (a village's town; a unit's `city` or town), and optionally 终端地址/edge_url and a
village's 纬度/latitude and 经度/longitude (decimal degrees, for the dashboard's map). All or
nothing: every bad row is listed by its row number in the sheet, and then nothing is imported.
"""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import audit
from .actors import Actor, require_role, require_scope
from .down_feed import DownFeed
from .errors import BadInput, HubError
from .org import clean_name
from .registry import parse_edge_url, put_village
from .scopes import require_unit_id
from .store import HubStore
from .validate import require_town_id, require_village_id

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
HEADERS = {
    "type": ("type", "kind", "类型", "类别", "层级"),
    "id": ("id", "编号", "代码", "编码"),
    "name": ("name", "名称", "名字"),
    "parent": ("parent", "town", "上级", "所属", "所属镇街"),
    "edge_url": ("edge_url", "终端地址", "edge url"),
    "latitude": ("latitude", "lat", "纬度"),
    "longitude": ("longitude", "lon", "lng", "经度"),
}
TYPES = {
    "town": "town", "镇街": "town", "镇": "town", "街道": "town", "乡镇": "town",
    "village": "village", "村": "village", "社区": "village", "村（社区）": "village", "村(社区)": "village",
    "unit": "unit", "单位": "unit", "部门": "unit",
}
CITY_WORDS = ("city", "市", "全市", "市级")


class SheetRefused(BadInput):
    """Bad rows: `rows` lists each as a sentence starting with its row number."""

    code = "bad_rows"


@dataclass
class Place:
    row: int
    kind: str
    id: str
    name: str
    parent: str = ""
    edge_url: str | None = None
    latitude: float | None = None  # a village's place on the dashboard's map (WGS-84 degrees)
    longitude: float | None = None


@dataclass
class Report:
    towns: int = 0
    villages: int = 0
    units: int = 0
    errors: list[str] = field(default_factory=list)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a numeric id typed into Excel comes back as 101.0
    return str(value).strip()


def _csv_rows(raw: bytes) -> list[list[str]]:
    # Excel on a Chinese Windows saves CSV as GBK; everything else here writes UTF-8 (with or without a BOM).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise BadInput("the CSV file is neither UTF-8 nor GBK text", "bad_file")
    return [[_cell(c) for c in row] for row in csv.reader(io.StringIO(text))]


def _xlsx_rows(path: Path) -> list[list[str]]:
    import zipfile

    import openpyxl  # only `org import` of a workbook needs it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise BadInput(f"{path.name} is not a readable .xlsx workbook: {exc}", "bad_file") from None
    try:
        sheet = book.worksheets[0]
        return [[_cell(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def read_rows(path: Path) -> list[list[str]]:
    """The sheet's rows as text cells (first sheet of a workbook); header row included."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise BadInput(f"{path.name}: only .csv and .xlsx sheets can be imported", "bad_file")
    if not path.is_file():
        raise BadInput(f"{path} is not a file", "bad_file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise BadInput(f"{path.name} is larger than {MAX_FILE_BYTES} bytes", "too_large")
    rows = _csv_rows(path.read_bytes()) if suffix == ".csv" else _xlsx_rows(path)
    if len(rows) > MAX_ROWS:
        raise BadInput(f"{path.name} has more than {MAX_ROWS} rows", "too_large")
    return rows


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        for key, aliases in HEADERS.items():
            if title.strip().lower() in aliases and key not in found:
                found[key] = index
    missing = [k for k in ("type", "id", "name") if k not in found]
    if missing:
        raise BadInput(f"the first row must name the columns 类型/type, 编号/id, 名称/name (and 上级/parent);"
                       f" missing: {', '.join(missing)}", "bad_header")
    return found


def _place(row_no: int, cells: list[str], cols: dict[str, int]) -> Place:
    def get(key: str) -> str:
        index = cols.get(key)
        return cells[index] if index is not None and index < len(cells) else ""

    kind = TYPES.get(get("type").lower())
    if kind is None:
        raise BadInput(f"类型 {get('type')!r} 未知 (use 镇街/town, 村/village or 单位/unit)")
    ident = get("id")
    if kind == "town":
        require_town_id(ident, "编号 id")
    elif kind == "village":
        require_village_id(ident, "编号 id")
    else:
        require_unit_id(ident, "编号 id")
    parent = get("parent")
    if parent.startswith("town:"):
        parent = parent[5:]
    if kind == "unit" and parent.lower() in CITY_WORDS:
        parent = "city"
    if kind in ("village", "unit") and not parent:
        raise BadInput("上级 parent is empty (a village needs its town; a unit city or its town)")
    latitude, longitude = _coordinates(get("latitude"), get("longitude"))
    return Place(row_no, kind, ident, clean_name(get("name")), parent, parse_edge_url(get("edge_url")) or None,
                 latitude, longitude)


def _coordinates(lat: str, lon: str) -> tuple[float | None, float | None]:
    """Both or neither: decimal degrees, latitude -90..90 and longitude -180..180."""
    if not lat and not lon:
        return None, None
    try:
        latitude, longitude = float(lat), float(lon)
    except ValueError:
        raise BadInput(f"纬度/经度 {lat!r}, {lon!r} 须为十进制度数，如 30.25 和 120.16"
                       " (latitude and longitude must both be decimal degrees)") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise BadInput(f"纬度 {latitude} 或经度 {longitude} 超出范围 (latitude -90..90, longitude -180..180)")
    return latitude, longitude


def check_sheet(rows: list[list[str]], known_towns: set[str], village_towns: dict[str, str]) -> list[Place]:
    """Every row checked against the sheet and the hub's registry; SheetRefused lists all bad rows at once."""
    if not rows:
        raise SheetRefused("the sheet is empty", rows=[])
    cols = _columns(rows[0])
    places: list[Place] = []
    errors: list[str] = []
    # A town row with another fault still declares its id, so its villages are not listed as faults too.
    towns = set(known_towns)
    for row_no, cells in enumerate(rows[1:], start=2):
        if not any(cells):
            continue
        if TYPES.get(cells[cols["type"]].lower() if cols["type"] < len(cells) else "") == "town":
            towns.add(cells[cols["id"]] if cols["id"] < len(cells) else "")
        try:
            places.append(_place(row_no, cells, cols))
        except HubError as exc:
            errors.append(f"第 {row_no} 行 row {row_no}: {exc.detail}")
    seen: dict[tuple[str, str], int] = {}
    for p in places:
        first = seen.setdefault((p.kind, p.id), p.row)
        if first != p.row:
            errors.append(f"第 {p.row} 行 row {p.row}: {p.id} 与第 {first} 行重复 (the same id as row {first})")
        if p.kind in ("village", "unit") and p.parent != "city" and p.parent not in towns:
            errors.append(f"第 {p.row} 行 row {p.row}: 上级镇街 {p.parent} 不存在 (no town {p.parent} in the sheet"
                          " or at the hub)")
        if p.kind == "village" and p.id in village_towns and village_towns[p.id] != p.parent:
            errors.append(f"第 {p.row} 行 row {p.row}: 村 {p.id} 已属于 {village_towns[p.id]}，不能移到 {p.parent}"
                          f" (village {p.id} is registered in town {village_towns[p.id]})")
    if errors:
        errors.sort(key=lambda e: int(e.split(" ")[1]))
        raise SheetRefused(f"{len(errors)} 行有误，没有导入任何内容。{len(errors)} bad row(s); nothing was imported: "
                           + "; ".join(errors), rows=errors)
    return places


async def import_upload(store: HubStore, down: DownFeed, actor: Actor, name: str, raw: bytes) -> Report:
    """An uploaded sheet (the page's import): `name` is the file's own name, whose suffix says how to read it."""
    require_role(actor, "admin")
    clean = Path(name).name
    if Path(clean).suffix.lower() not in (".csv", ".xlsx"):
        raise BadInput("name the sheet's file, ending in .csv or .xlsx", "bad_file")
    with tempfile.TemporaryDirectory(prefix="org-import-") as folder:
        path = Path(folder) / clean
        await asyncio.to_thread(path.write_bytes, raw)
        return await import_sheet(store, down, actor, path)


async def import_sheet(store: HubStore, down: DownFeed, actor: Actor, path: Path) -> Report:
    """Check the whole sheet, then write every place in one transaction (and audit it), or nothing."""
    require_role(actor, "admin")
    rows = await asyncio.to_thread(read_rows, path)  # a big workbook takes a while to parse
    towns = {t.id for t in await store.list_towns()}
    village_towns = {v.id: v.town_id for v in await store.list_villages(limit=1_000_000)}
    places = check_sheet(rows, towns, village_towns)
    report = Report()
    async with store.transaction() as tx:
        await require_scope(tx, actor, ["city"])
        for p in sorted(places, key=lambda p: ("town", "unit", "village").index(p.kind)):
            if p.kind == "town":
                await tx.put_town(p.id, p.name)
                report.towns += 1
            elif p.kind == "unit":
                await tx.put_unit(p.id, p.name, "city" if p.parent == "city" else f"town:{p.parent}")
                report.units += 1
            else:
                await put_village(tx, down, p.id, p.name, p.parent, p.edge_url)
                if p.latitude is not None:
                    await tx.set_village_coordinates(p.id, p.latitude, p.longitude)
                report.villages += 1
        await audit.record(tx, actor.user, "org_import", f"file:{path.name}", "city",
                           f"{report.towns} towns, {report.villages} villages, {report.units} units")
    return report
