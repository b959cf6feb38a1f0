"""The status poller: a village is online after a verified pull and offline after missed ones."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from hub.config import HubConfig
from hub.models import StatusRow
from hub.status_poller import is_online, next_delay
from protocol.envelope import seal
from protocol.keys import NodeKey

from .kit import HubKit, start_hub

FAST = {"status_interval_s": 0.2, "status_timeout_s": 0.5}


def fake_edge(key: NodeKey, village_id: str, stb_count: int = 7) -> web.Application:
    """An edge's status route, signed with `key`, as edge/ serves it."""

    async def status(request: web.Request) -> web.Response:
        body = {
            "node_id": key.node_id, "village_id": village_id, "village_name": "小庄村", "version": "0.1.0",
            "time": int(time.time()), "started_at": int(time.time()), "provisioned": True, "enrolled": True,
            "stb_count": stb_count, "queue_depth": 2, "up": {"seq": 3, "acked": 1}, "down": {"seq": 4},
            "last_sync_at": int(time.time()), "last_sync_error": None, "hub_root_fingerprint": "abc",
        }
        if request.query.get("nonce"):
            body["nonce"] = request.query["nonce"]  # as edge/api_status.py answers the poller's nonce
        return web.Response(body=seal(key, "status", body), content_type="application/x-msgpack")

    app = web.Application()
    app.router.add_get("/api/v1/status", status)
    return app


async def _village(kit: HubKit) -> dict[str, Any]:
    resp = await kit.client.get("/api/v1/villages", headers=kit.admin)
    (village,) = (await resp.json())["villages"]
    result: dict[str, Any] = village
    return result


async def _until(check: Callable[[], Any], timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_a_village_goes_online_with_a_signed_status_and_offline_when_it_stops_answering(
    aiohttp_client: Any, aiohttp_server: Any, tmp_path: Path
) -> None:
    kit = await start_hub(aiohttp_client, tmp_path / "hub", **FAST)
    key = NodeKey.generate()
    edge_server = await aiohttp_server(fake_edge(key, "v1"))
    await kit.add_village("v1", edge_url=str(edge_server.make_url("/")))
    await kit.enroll("v1", key)

    async def online() -> bool:
        return bool((await _village(kit))["online"])

    await _until(online)
    village = await _village(kit)
    assert (village["stb_count"], village["queue_depth"], village["version"]) == (7, 2, "0.1.0")
    assert village["last_status_at"].endswith("Z")

    await edge_server.close()

    async def offline() -> bool:
        return not await online()

    await _until(offline)
    village = await _village(kit)
    assert village["consecutive_failures"] >= 3 and village["last_error"]
    metrics = await (await kit.client.get("/metrics", headers=kit.admin)).text()
    failures = [ln for ln in metrics.splitlines() if ln.startswith("villagenet_hub_status_poll_failures_total ")]
    assert int(failures[0].split()[1]) >= 3


async def test_a_status_signed_by_another_key_does_not_count(
    aiohttp_client: Any, aiohttp_server: Any, tmp_path: Path
) -> None:
    kit = await start_hub(aiohttp_client, tmp_path / "hub", **FAST)
    impostor = await aiohttp_server(fake_edge(NodeKey.generate(), "v1"))
    await kit.add_village("v1", edge_url=str(impostor.make_url("/")))
    await kit.enroll("v1")

    async def failed_thrice() -> bool:
        return int((await _village(kit))["consecutive_failures"]) >= 3

    await _until(failed_thrice)
    village = await _village(kit)
    assert village["online"] is False and "not enrolled" in village["last_error"]


async def test_a_status_for_another_village_does_not_count(
    aiohttp_client: Any, aiohttp_server: Any, tmp_path: Path
) -> None:
    kit = await start_hub(aiohttp_client, tmp_path / "hub", **FAST)
    key = NodeKey.generate()
    edge = await aiohttp_server(fake_edge(key, "v2"))
    await kit.add_village("v1", edge_url=str(edge.make_url("/")))
    await kit.enroll("v1", key)

    async def failed() -> bool:
        return int((await _village(kit))["consecutive_failures"]) >= 1

    await _until(failed)
    village = await _village(kit)
    assert village["online"] is False and "v2" in village["last_error"]


async def test_status_history_is_bounded_per_village(kit: HubKit) -> None:
    from hub.store_tx import STATUS_HISTORY_KEEP

    await kit.add_village("v1")
    for i in range(STATUS_HISTORY_KEEP + 20):
        async with kit.hub.store.transaction() as tx:
            await tx.record_status("v1", i % 2 == 0, None if i % 2 == 0 else "timeout", 5, {"n": i}, {"n": i})
    history = await kit.hub.store.status_history("v1", limit=10_000)
    assert len(history) == STATUS_HISTORY_KEEP
    assert history[0]["summary"] == {"n": STATUS_HISTORY_KEEP + 19}


def test_backoff_doubles_per_failure_up_to_the_cap_with_jitter(tmp_path: Path) -> None:
    config = HubConfig.load(tmp_path, status_interval_s=10.0)
    for failures, factor in [(0, 1), (1, 1), (2, 2), (3, 4), (9, 4)]:
        delays = [next_delay(config, failures) for _ in range(200)]
        assert all(8.0 * factor <= d <= 12.0 * factor for d in delays)
        assert max(delays) - min(delays) > 0.5 * factor  # jittered, not lockstep


def test_online_needs_a_good_pull_fewer_misses_than_the_limit_and_a_fresh_one(tmp_path: Path) -> None:
    config = HubConfig.load(tmp_path)
    now = 1_000_000.0

    def row(last: float | None, failures: int) -> StatusRow:
        return StatusRow("v1", last, now, failures, None, None)

    assert not is_online(None, config, now)
    assert not is_online(row(None, 0), config, now)
    assert is_online(row(now - 15, 2), config, now)
    assert not is_online(row(now - 15, 3), config, now)
    assert not is_online(row(now - 3600, 0), config, now)


async def test_a_recorded_status_replayed_for_a_dead_box_does_not_count(
    aiohttp_client: Any, aiohttp_server: Any, tmp_path: Path
) -> None:
    """Security review finding (low): signed status documents could be replayed to show a dead village online."""
    kit = await start_hub(aiohttp_client, tmp_path / "hub", **FAST)
    key = NodeKey.generate()
    recorded = seal(key, "status", {"node_id": key.node_id, "village_id": "v1", "nonce": "0" * 32,
                                    "time": int(time.time()), "stb_count": 7})

    async def replay(request: web.Request) -> web.Response:
        return web.Response(body=recorded, content_type="application/x-msgpack")

    app = web.Application()
    app.router.add_get("/api/v1/status", replay)
    server = await aiohttp_server(app)
    await kit.add_village("v1", edge_url=str(server.make_url("/")))
    await kit.enroll("v1", key)

    async def failed_thrice() -> bool:
        return int((await _village(kit))["consecutive_failures"]) >= 3

    await _until(failed_thrice)
    village = await _village(kit)
    assert village["online"] is False and "nonce" in village["last_error"]
