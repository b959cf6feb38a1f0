"""Villages' coordinates for the dashboard's map come from the org sheet's 纬度/经度 (latitude/longitude) columns:
the demo city's sheet places all 85 villages; a sheet with a coordinate that is not a number, out of range, or
only half given is refused by row number and nothing is imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.sample_city import village_coordinates, write_org_sheet
from hub.actors import CLI
from hub.org_import import SheetRefused, import_sheet

from .kit import HubKit


async def test_the_demo_city_sheet_places_every_village_on_the_map(kit: HubKit, tmp_path: Path) -> None:
    await import_sheet(kit.hub.store, kit.hub.down, CLI, write_org_sheet(tmp_path / "org.csv", {}))
    places = {p["id"]: p for p in await kit.hub.store.village_places("city")}
    assert len(places) == 85
    expected = village_coordinates()
    assert all((p["latitude"], p["longitude"]) == expected[vid] for vid, p in places.items())
    assert all(29 < p["latitude"] < 31 and 118 < p["longitude"] < 121 for p in places.values())
    town = await kit.hub.store.village_places("town:qingxi")
    assert {"dongshan", "xishan"} <= {p["id"] for p in town} and len(town) == 7


@pytest.mark.parametrize("lat, lon", [("北纬30度", "120.1"), ("95", "120.1"), ("30.1", "")])
async def test_a_bad_coordinate_refuses_the_sheet_by_row_and_imports_nothing(kit: HubKit, tmp_path: Path, lat: str,
                                                                           lon: str) -> None:
    sheet = tmp_path / "org.csv"
    sheet.write_text("类型,编号,名称,上级,纬度,经度\n镇街,qingxi,青溪镇,,,\n村,dongshan,东山村,qingxi,30.2,120.1\n"
                     f"村,xishan,西山村,qingxi,{lat},{lon}\n", encoding="utf-8")
    with pytest.raises(SheetRefused) as refused:
        await import_sheet(kit.hub.store, kit.hub.down, CLI, sheet)
    assert refused.value.extra["rows"][0].startswith("第 4 行 row 4:")
    assert await kit.hub.store.village_places("city") == []
