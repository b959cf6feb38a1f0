"""How fast an emergency notice reaches open TV pages once it is at the edge, with many pages open at once.

Real hub and edge processes; N pages per transport (server-sent events, long poll), each a real HTTP client.
Baseline in the same run: the same N pages on the short poll (every `alert_short_poll_s`), the fallback.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

from deploy.local_processes import edge_service, free_port, hub_service, run_command

PAGES = 100
EDGE_CONFIG = "mdns = false\nlongpoll_s = 2.0\nbackoff_base_s = 0.2\nbackoff_max_s = 1.0\nalert_short_poll_s = 3.0\n"


def _admin(hub_url: str, token: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(hub_url + path, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        result: dict[str, Any] = json.loads(resp.read())
        return result


async def _sse_page(session: aiohttp.ClientSession, base: str, device: str, want: str, seen: dict[str, float]) -> None:
    async with session.get(f"{base}/api/v1/alerts/events?device={device}") as resp:
        async for line in resp.content:
            if line.startswith(b"data:") and want.encode() in line:
                seen[device] = time.monotonic()
                return


async def _longpoll_page(session: aiohttp.ClientSession, base: str, device: str, want: str,
                         seen: dict[str, float]) -> None:
    version = -1
    while True:
        async with session.get(f"{base}/api/v1/alerts/wait?device={device}&version={version}") as resp:
            data = await resp.json()
        if any(a["id"] == want for a in data["alerts"]):
            seen[device] = time.monotonic()
            return
        version = data["version"]


async def _shortpoll_page(session: aiohttp.ClientSession, base: str, device: str, want: str,
                          seen: dict[str, float], every_s: float) -> None:
    await asyncio.sleep(random.uniform(0, every_s))  # pages opened at different moments
    while True:
        async with session.get(f"{base}/api/v1/alerts?device={device}") as resp:
            data = await resp.json()
        if any(a["id"] == want for a in data["alerts"]):
            seen[device] = time.monotonic()
            return
        await asyncio.sleep(every_s)


async def _one_round(hub_url: str, token: str, base: str, mode: str) -> list[float]:
    """Open PAGES pages, publish an emergency, return each page's delay after the edge had it (seconds)."""
    created = await asyncio.to_thread(_admin, hub_url, token, "/api/v1/notices", {
        "title": f"紧急通知（{mode}）", "body": "请立即转移。", "area": "safety", "priority": "emergency",
        "scope": "city"})
    seen: dict[str, float] = {}
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=PAGES + 10)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        pages = []
        for i in range(PAGES):
            device = f"bench-{mode}-{i}"
            if mode == "sse":
                pages.append(_sse_page(session, base, device, created["id"], seen))
            elif mode == "longpoll":
                pages.append(_longpoll_page(session, base, device, created["id"], seen))
            else:
                pages.append(_shortpoll_page(session, base, device, created["id"], seen, 3.0))
        tasks = [asyncio.create_task(p) for p in pages]
        await asyncio.sleep(1.0)  # every page is open and waiting
        await asyncio.to_thread(_admin, hub_url, token, f"/api/v1/notices/{created['id']}/publish", {})
        reached = None
        while reached is None:  # when the edge has applied it: the start of the clock
            async with session.get(f"{base}/api/v1/notices?area=safety") as resp:
                if any(n["id"] == created["id"] for n in (await resp.json())["notices"]):
                    reached = time.monotonic()
            await asyncio.sleep(0.01)
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
    return sorted(max(0.0, t - reached) for t in seen.values())


def _p95(values: list[float]) -> float:
    return values[min(len(values) - 1, int(len(values) * 0.95))]


async def _run(tmp: Path) -> list[dict[str, Any]]:
    hub_dir, edge_dir = tmp / "hub", tmp / "edge"
    hub_port, edge_port = free_port(), free_port()
    run_command("village-hub", "init", "--data", str(hub_dir))
    run_command("village-hub", "village", "add", "--data", str(hub_dir), "--id", "v1", "--name", "一村", "--town", "t1")
    run_command("village-provision", "make", "--hub-data", str(hub_dir), "--village", "v1",
                "--hub-url", f"http://127.0.0.1:{hub_port}", "--out", str(tmp / "v1.vnb"))
    run_command("village-edge", "provision", "--data", str(edge_dir), str(tmp / "v1.vnb"))
    (edge_dir / "config.toml").write_text(EDGE_CONFIG)
    hub, edge = hub_service(hub_dir, hub_port), edge_service(edge_dir, edge_port)
    token = (hub_dir / "admin.token").read_text().strip()
    hub.start(ready_path="/api/v1/trust")
    edge.start()
    try:
        delays = {mode: await _one_round(hub.url, token, edge.url, mode) for mode in ("shortpoll", "sse", "longpoll")}
    finally:
        edge.stop()
        hub.stop()
    base = _p95(delays["shortpoll"]) * 1000
    rows = []
    for mode in ("sse", "longpoll"):
        value = _p95(delays[mode]) * 1000
        rows.append({"metric": f"alert on {PAGES} open pages after reaching the edge, p95 ({mode})", "value": value,
                     "unit": "ms", "baseline": base, "ratio": value / base if base else float("nan")})
    return rows


def run(tmp: Path) -> list[dict[str, Any]]:
    return asyncio.run(_run(tmp))
