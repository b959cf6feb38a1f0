"""Issue 14 (Medium), "one LAN host can exhaust the box": request bodies sent slowly never timed out, and nothing
limited how many submissions one device (or the village) could queue to fill the disk and the line.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from edge.app import create_app
from edge.config import load_config
from edge.serving.front_door import HEAD_TIMEOUT_S
from edge.serving.run import close_front_door, open_front_door
from tests.device_kit import Registered, register_with
from tests.hub.kit import start_hub

SLOW_BODY = {"body_grace_s": 1.0, "body_min_bytes_per_s": 200.0}


def _count(edge_dir: Path, table: str) -> int:
    with sqlite3.connect(edge_dir / "edge.db") as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


async def trickle_until_cut(port: int, head: bytes, byte_every_s: float, give_up_s: float) -> float:
    """Send a request's head, then its body a byte at a time; seconds until the server closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(head)
    try:
        while time.monotonic() - started < give_up_s:
            writer.write(b"x")
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1024), byte_every_s) == b"":
                    return time.monotonic() - started
            except TimeoutError:
                continue
    except ConnectionError:
        return time.monotonic() - started
    finally:
        writer.close()
    raise AssertionError(f"the server still read the trickling body after {give_up_s} s")


async def served_meanwhile(client: Any, path: str, until: asyncio.Task[float]) -> list[float]:
    """Ask `path` over and over while the trickle goes on; the seconds each answer took."""
    took = []
    while not until.done():
        started = time.monotonic()
        resp = await client.get(path)
        assert resp.status == 200, await resp.text()
        took.append(time.monotonic() - started)
        await asyncio.sleep(0.1)
    return took


async def test_a_submission_body_sent_a_byte_a_second_is_cut_off_while_others_are_served(
    aiohttp_client: Any, edge_dir: Path
) -> None:
    client = await aiohttp_client(create_app(load_config(edge_dir, mdns=False, **SLOW_BODY)))
    tv = await register_with(client, "stb-1")
    head = (f"POST /api/v1/submissions HTTP/1.1\r\nHost: box\r\nContent-Type: application/json\r\n"
            f"X-Device-Token: {tv.token}\r\nContent-Length: 5000\r\n\r\n").encode()
    trickle = asyncio.create_task(trickle_until_cut(client.port, head, 0.5, give_up_s=20))
    answers = await served_meanwhile(client, "/api/v1/info", trickle)
    cut_after = await trickle
    assert cut_after < 1.0 + 3.0, cut_after  # the grace, then the first checks below the least rate
    assert len(answers) >= 5 and statistics.median(answers) < 0.5  # served all along, not held behind the trickle
    assert _count(edge_dir, "submissions") == 0


async def test_a_sync_body_sent_a_byte_a_second_is_cut_off_at_the_hub_while_others_are_served(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    kit = await start_hub(aiohttp_client, tmp_path / "hub", **SLOW_BODY)
    head = (b"POST /api/v1/blobs HTTP/1.1\r\nHost: hub\r\nContent-Type: application/octet-stream\r\n"
            b"Authorization: Bearer " + kit.token.encode() + b"\r\nContent-Length: 100000\r\n\r\n")
    trickle = asyncio.create_task(trickle_until_cut(kit.client.port, head, 0.5, give_up_s=20))
    answers = await served_meanwhile(kit.client, "/api/v1/trust", trickle)
    assert await trickle < 4.0
    assert len(answers) >= 5 and statistics.median(answers) < 0.5


async def test_a_body_at_a_slow_but_real_speed_goes_through(aiohttp_client: Any, edge_dir: Path) -> None:
    """The least rate is an average over the request: 2 KiB in about 3 s (700 bytes/s) is taken."""
    client = await aiohttp_client(create_app(load_config(edge_dir, mdns=False, **SLOW_BODY)))
    tv = await register_with(client, "stb-1")
    body = json.dumps(tv.submission("feedback", {"text": "路" * 600}), ensure_ascii=False).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    writer.write(f"POST /api/v1/submissions HTTP/1.1\r\nHost: box\r\nContent-Type: application/json\r\n"
                 f"X-Device-Token: {tv.token}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
    for i in range(0, len(body), 140):
        writer.write(body[i:i + 140])
        await writer.drain()
        await asyncio.sleep(0.2)
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]


async def _submit(client: Any, tv: Registered, sid: str | None = None) -> Any:
    return await client.post("/api/v1/submissions", json=tv.submission("feedback", {"text": "路灯坏了"}, sid),
                             headers=tv.headers)


async def test_a_device_over_its_hourly_quota_is_refused_with_429_and_another_device_is_not(
    aiohttp_client: Any, edge_dir: Path
) -> None:
    config = load_config(edge_dir, mdns=False, submissions_per_device_per_hour=3)
    client = await aiohttp_client(create_app(config))
    noisy, neighbour = await register_with(client, "stb-1"), await register_with(client, "stb-2")
    sent = []
    for _ in range(3):
        sid = str(uuid.uuid4())
        assert (await _submit(client, noisy, sid)).status == 201
        sent.append(sid)
    rows = _count(edge_dir, "submissions"), _count(edge_dir, "up_entries")
    refused = await _submit(client, noisy)
    answer = await refused.json()
    assert refused.status == 429 and answer["error"] == "too_many_submissions_device"
    assert "一小时内" in answer["detail"] and "in the last hour" in answer["detail"]
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3601
    assert (_count(edge_dir, "submissions"), _count(edge_dir, "up_entries")) == rows  # nothing stored, nothing sent
    assert (await _submit(client, noisy, sent[0])).status == 200  # a replay is no new submission
    assert (await _submit(client, neighbour)).status == 201


async def test_the_village_stops_taking_submissions_at_its_daily_cap_whoever_sends_them(
    aiohttp_client: Any, edge_dir: Path
) -> None:
    """Invented devices (each under its own hourly quota) cannot fill the disk: the village's day is capped."""
    config = load_config(edge_dir, mdns=False, submissions_per_device_per_hour=2, submissions_per_village_per_day=5,
                         device_registrations_per_hour=100)
    client = await aiohttp_client(create_app(config))
    tvs = [await register_with(client) for _ in range(4)]
    statuses = [(await _submit(client, tv)).status for tv in tvs for _ in range(2)]
    assert statuses == [201] * 5 + [429] * 3
    last = await _submit(client, await register_with(client))
    assert last.status == 429 and (await last.json())["error"] == "too_many_submissions_village"
    assert _count(edge_dir, "submissions") == 5


async def test_a_request_head_trickled_a_byte_at_a_time_is_cut_off_by_the_front_door(
    aiohttp_client: Any, edge_dir: Path
) -> None:
    """The front door reads heads itself: one still incomplete HEAD_TIMEOUT_S after its first byte is closed at
    the next sweep, while a quiet kept-alive connection (no bytes of a new head yet) stays, up to the idle limit."""
    client = await aiohttp_client(create_app(load_config(edge_dir, mdns=False)))
    assert client.server.runner is not None and client.server.runner.server is not None
    door, server = await open_front_door(client.app, client.server.runner.server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        slow_reader, slow = await asyncio.open_connection("127.0.0.1", port)
        quiet_reader, quiet = await asyncio.open_connection("127.0.0.1", port)
        for byte in b"GET /api/v1/info HTTP/1.1\r\nHost: bo":
            slow.write(bytes([byte]))
            await slow.drain()
            await asyncio.sleep(0.01)
        assert len(door.connections) == 2
        door.close_idle(asyncio.get_running_loop().time() + HEAD_TIMEOUT_S + 1)  # the sweep, that much later
        assert await asyncio.wait_for(slow_reader.read(), 2) == b""
        assert len(door.connections) == 1  # the quiet one
        quiet.write(b"GET /api/v1/info HTTP/1.1\r\nHost: box\r\nConnection: close\r\n\r\n")
        assert (await asyncio.wait_for(quiet_reader.read(), 5)).startswith(b"HTTP/1.1 200")
        slow.close()
        quiet.close()
    finally:
        await close_front_door(door, server)
