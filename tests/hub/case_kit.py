"""Test helpers for cases: an org with units and officials, residents' submissions sent up as an edge sends them,
and days in Asia/Shanghai to set the hub's clock to.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from protocol.records import put

from .kit import HubKit, TestEdge
from .official_kit import official, two_towns

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(year: int, month: int, day: int, hour: int = 10) -> float:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI).timestamp()


def end_of_day_utc(year: int, month: int, day: int) -> str:
    """A deadline on that day as the API writes it: 24:00 Shanghai is 16:00 UTC."""
    return f"{year:04d}-{month:02d}-{day:02d}T16:00:00Z"


@dataclass
class CaseWorld:
    """城关镇 (east) with villages e1..e3 and its units 民政办 (east-mz) and 城管办 (east-cg), 河西镇 (west) with its 派出所 (west-pcs),
    and the city's 民政局 (mzj); a logged-in official of each kind."""

    kit: HubKit
    edge: TestEdge
    town_dispatcher: dict[str, str]
    city_dispatcher: dict[str, str]
    handler: dict[str, str]  # of east-mz
    west_handler: dict[str, str]  # of west-pcs
    city_handler: dict[str, str]  # of mzj

    async def submit(self, kind: str = "consultation", body: dict[str, Any] | None = None,
                     sub_id: str | None = None) -> str:
        """A resident's submission, sent up from e1 in a signed batch; returns its id."""
        sub_id = sub_id or str(uuid.uuid4())
        status, answer = await self.edge.push(self.edge.batch(self.edge.next_entries([self.op(kind, body, sub_id)])))
        assert status == 200, answer
        return sub_id

    def op(self, kind: str, body: dict[str, Any] | None, sub_id: str) -> dict[str, Any]:
        inner = body if body is not None else {"text": "低保怎么申请？", "category": "社会救助"}
        return put("submission", sub_id, {"kind": kind, "device_id": "stb-1", "body": inner,
                                          "created_at": "2026-09-30T02:00:00Z"})

    async def send_record(self, kind: str, record_id: str, body: dict[str, Any]) -> None:
        """An edge-owned record (local_reply, submission_handover) as the staff page sends it up."""
        status, answer = await self.edge.push(self.edge.batch(self.edge.next_entries([put(kind, record_id, body)])))
        assert status == 200, answer

    async def rate(self, submission_id: str, score: int) -> None:
        await self.submit("rating", {"submission_id": submission_id, "score": score})

    async def case_of(self, submission_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        resp = await self.kit.client.get("/api/v1/cases", headers=headers or self.city_dispatcher)
        assert resp.status == 200, await resp.text()
        found = [c for c in (await resp.json())["cases"] if c["submission_id"] == submission_id]
        assert len(found) == 1, found
        return await self.read(found[0]["id"], headers)

    async def read(self, case_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        resp = await self.kit.client.get(f"/api/v1/cases/{case_id}", headers=headers or self.city_dispatcher)
        assert resp.status == 200, await resp.text()
        data: dict[str, Any] = await resp.json()
        return data

    async def act(self, case_id: str, action: str, headers: dict[str, str], body: dict[str, Any] | None = None,
                  status: int = 200) -> dict[str, Any]:
        resp = await self.kit.client.post(f"/api/v1/cases/{case_id}/{action}", json=body or {}, headers=headers)
        assert resp.status == status, await resp.text()
        data: dict[str, Any] = await resp.json()
        return data

    async def route(self, kind: str, unit: str, days: int, category: str | None = None) -> None:
        body: dict[str, Any] = {"kind": kind, "unit": unit, "days": days}
        if category is not None:
            body["category"] = category
        resp = await self.kit.client.post("/api/v1/routes", json=body, headers=self.city_dispatcher)
        assert resp.status in (200, 201), await resp.text()


async def case_world(kit: HubKit) -> CaseWorld:
    await two_towns(kit)
    async with kit.hub.store.transaction() as tx:
        await tx.put_unit("east-mz", "城关镇民政办", "town:east")
        await tx.put_unit("east-cg", "城关镇城管办", "town:east")
        await tx.put_unit("west-pcs", "河西派出所", "town:west")
        await tx.put_unit("mzj", "民政局", "city")
    edge = await kit.enroll("e1")
    return CaseWorld(
        kit, edge,
        town_dispatcher=await official(kit, "east-disp", "dispatcher", "town:east", "王派单"),
        city_dispatcher=await official(kit, "city-disp", "dispatcher,viewer", "city", "市派单"),
        handler=await official(kit, "mz-handler", "handler", "unit:east-mz", "李承办"),
        west_handler=await official(kit, "pcs-handler", "handler", "unit:west-pcs", "赵承办"),
        city_handler=await official(kit, "mzj-handler", "handler", "unit:mzj", "钱承办"),
    )


def ops_of_kind(ops: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [op for op in ops if op["kind"] == kind]
