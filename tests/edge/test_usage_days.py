"""A village's daily usage goes up its feed as one `usage_day` record of counts, once, and survives a dark line.

A real edge (its SQLite file) syncs with an in-process hub through a man in the middle (tests/sync/rig.py); TVs
register and open pages as the TV app does; the day is closed as the usage task closes it after midnight.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from edge.residents.households import village_timezone
from edge.schema import SCHEMA
from edge.usage.day_close import close_day, close_finished_days
from edge.usage.days import day_end_ts, day_of
from edge.usage.lifecycle import usage_round
from edge.usage.sampler import Sample, record_sample
from edge.usage.tally import USAGE_TALLY
from protocol import codec
from protocol.database import Database
from tests.device_kit import Registered, pair_with_new_household, register_with
from tests.hub.kit import HubKit, start_hub
from tests.sync.rig import Rig, build_rig


@pytest.fixture
async def kit(aiohttp_client: Any, tmp_path: Path) -> HubKit:
    return await start_hub(aiohttp_client, tmp_path / "hub", longpoll_max_s=1.0)


@pytest.fixture
async def rig(aiohttp_client: Any, kit: HubKit, tmp_path: Path) -> AsyncIterator[Rig]:
    r = await build_rig(aiohttp_client, kit, tmp_path, device_registrations_per_hour=1000)
    yield r
    await r.mitm.stop()


def _tomorrow_noon(now: float) -> float:
    return day_end_ts(day_of(now)) + 12 * 3600


async def _open(rig: Rig, tv: Registered, path: str) -> None:
    resp = await rig.edge.get(path, cookies={"device_token": tv.token})
    assert resp.status == 200, (path, await resp.text())


async def _close_day(rig: Rig, now: float) -> list[int]:
    """What the usage task does in its first round after midnight: flush, then close the finished day."""
    return await usage_round(rig.rt, rig.edge.app[USAGE_TALLY], sample=False, now=_tomorrow_noon(now))


def _raw_usage_ops(edge_dir: Path) -> list[bytes]:
    """The up feed's op bytes exactly as stored on the box (and sent to the hub)."""
    with sqlite3.connect(f"file:{edge_dir / 'edge.db'}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT op FROM up_entries ORDER BY seq").fetchall()
    return [bytes(r[0]) for r in rows if codec.decode(bytes(r[0]))["kind"] == "usage_day"]


async def _hub_usage_rows(kit: HubKit, village: str = "v1") -> list[dict[str, Any]]:
    rows = await kit.hub.store.usage_by_village(f"village:{village}", "2000-01-01", "2999-12-31")
    return [r for r in rows if r["days"]]


async def test_a_days_usage_goes_up_once_as_counts_with_no_device_or_household_id_in_the_raw_record(
    rig: Rig, kit: HubKit
) -> None:
    db = rig.rt.db
    grandma, neighbour = await register_with(rig.edge), await register_with(rig.edge)
    alone = await pair_with_new_household(db, grandma.device_id, "王奶奶", elderly_alone=True)
    other = await pair_with_new_household(db, neighbour.device_id, "李大爷", elderly_alone=True)
    notice = await kit.notice(title="停水通知")
    alert = await kit.notice(title="暴雨预警", area="safety", priority="emergency")
    await rig.until("the notices at the edge", lambda: _has(rig, {"停水通知", "暴雨预警"}))

    await _open(rig, grandma, "/tv/")
    await _open(rig, grandma, "/tv/area/community")
    await _open(rig, grandma, f"/tv/notice/{notice['id']}")
    await _open(rig, neighbour, "/tv/area/community")
    await _open(rig, neighbour, "/tv/area/elderly")
    resp = await rig.edge.post("/api/v1/submissions", headers=grandma.headers,
                               json=grandma.submission("checkin", {"status": "ok"}))
    assert resp.status == 201, await resp.text()
    for action in ("shown", "ack"):
        resp = await rig.edge.post(f"/api/v1/alerts/{alert['id']}/{action}", headers=grandma.headers,
                                   json={"device_id": grandma.device_id})
        assert resp.status == 200, await resp.text()
    resp = await rig.edge.post(f"/api/v1/alerts/{alert['id']}/shown", headers=neighbour.headers,
                               json={"device_id": neighbour.device_id})
    assert resp.status == 200, await resp.text()

    now = time.time()
    await usage_round(rig.rt, rig.edge.app[USAGE_TALLY], sample=True, now=now)  # the day's last sample
    sent = await _close_day(rig, now)
    assert len(sent) == 1
    assert await _close_day(rig, now) == []  # closing again sends nothing: the day is final

    raw = _raw_usage_ops(rig.edge_dir)
    assert len(raw) == 1
    for secret in (grandma.device_id, neighbour.device_id, grandma.token, neighbour.token, alone, other):
        assert secret.encode() not in raw[0], f"{secret} left the village in the usage record"
    op = codec.decode(raw[0])
    body = op["body"]
    assert op["id"] == f"usage-{day_of(now)}" and body["day"] == day_of(now)
    assert body["tvs_active"] == 2 and body["households"] == 2
    assert body["area_opens"] == {"community": 2, "elderly": 1}
    assert body["notice_views"] == 1 and body["notice_viewers"] == 1 and body["notices"] == {notice["id"]: 1}
    assert body["alerts"]["shown"] == 2 and body["alerts"]["acknowledged"] == 1
    assert body["checkins"] == {"registered": 2, "checked_in": 1}
    assert body["live"] == {"peak": 0, "minutes": 0} and body["recorded"] == {"peak": 0, "minutes": 0}

    rows = await rig.until("the day at the hub", lambda: _hub_usage_rows(kit))
    assert len(rows) == 1 and rows[0]["days"] == 1 and rows[0]["tvs_active"] == 2
    assert rows[0]["alerts_acknowledged"] == 1 and rows[0]["checkins_done"] == 1


async def _has(rig: Rig, titles: set[str]) -> bool:
    return titles <= await rig.notice_titles()


async def test_a_day_closed_while_the_line_is_down_reaches_the_hub_after_it_returns_and_only_once(
    rig: Rig, kit: HubKit
) -> None:
    async def line_down(request: web.Request, status: int, payload: bytes) -> web.StreamResponse:
        return web.Response(status=503, text="line down")

    tv = await register_with(rig.edge)
    rig.mitm.tamper = line_down
    await _open(rig, tv, "/tv/area/party")
    now = time.time()
    assert len(await _close_day(rig, now)) == 1
    assert len(_raw_usage_ops(rig.edge_dir)) == 1  # waiting in the up feed
    await asyncio.sleep(1.5)  # several push attempts fail meanwhile
    assert await _hub_usage_rows(kit) == []

    rig.mitm.tamper = None
    rows = await rig.until("the late day at the hub", lambda: _hub_usage_rows(kit))
    assert rows[0]["days"] == 1 and rows[0]["tvs_active"] == 1
    head = (await kit.hub.store.up_head("v1")).seq
    assert await _close_day(rig, now) == [] and await close_finished_days(rig.rt.db, "v1", _tomorrow_noon(now)) == []
    await rig.until("the hub to hold the whole up feed", lambda: _nothing_to_send(rig))
    assert len(await _hub_usage_rows(kit)) == 1 and len(_raw_usage_ops(rig.edge_dir)) == 1
    assert (await kit.hub.store.up_head("v1")).seq == head  # nothing more went up


async def _nothing_to_send(rig: Rig) -> bool:
    return bool((await rig.status())["sync"]["backlog"]["up_records"] == 0)


@pytest.fixture
async def edge_db(tmp_path: Path) -> AsyncIterator[Database]:
    """The edge's database without a running edge: no usage task can close a day between a test's samples."""
    db = Database(tmp_path / "edge.db")
    await db.open(SCHEMA)
    yield db
    await db.close()


async def test_viewer_minutes_and_peaks_come_from_the_samples_and_hours_the_box_was_off_are_not_credited(
    edge_db: Database
) -> None:
    db = edge_db
    t0 = datetime(2026, 1, 5, 10, 0, tzinfo=village_timezone()).timestamp()
    # (seconds after t0, live, recorded): the last sample follows 58 minutes with the box off
    for after, live, recorded in ((0, 2, 0), (60, 4, 1), (120, 3, 0), (3600, 5, 0)):
        await record_sample(db, Sample(t0 + after, live, recorded, households=3, alone_registered=2,
                                       alone_checked_in=1))
    await close_day(db, "v1", "2026-01-05")
    await close_day(db, "v1", "2026-01-05")  # closing it again appends nothing
    ops = [codec.decode(bytes(r["op"])) for r in await db.fetchall("SELECT op FROM up_entries")]
    days = [op for op in ops if op["kind"] == "usage_day" and op["id"] == "usage-2026-01-05"]
    assert len(days) == 1
    body = days[0]["body"]
    # live: 4 × 60 s + 3 × 60 s + 5 × 120 s (two sample intervals at most) = 1,020 s = 17 min
    assert body["live"] == {"peak": 5, "minutes": 17} and body["recorded"] == {"peak": 1, "minutes": 1}
    assert body["checkins"] == {"registered": 2, "checked_in": 1} and body["households"] == 3
    assert body["tvs_active"] == 0 and body["area_opens"] == {} and body["notices"] == {}
