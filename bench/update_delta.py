"""What a patch-level release of this project costs on a village line: chunks the box lacks vs the whole artifact.

The box runs this checkout (the first version installed); the release is the same checkout one patch version up
with a one-line fix. A real hub app serves it through the simulated line (deploy/line_simulator.py, 2 Mbit/s,
100 ms each way). The baseline is the whole artifact fetched through the same line by the same box, in the same run.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from deploy.line_simulator import LineSimulator
from edge.content.store import ContentStore
from edge.schema import SCHEMA
from edge.updates.delta_fetch import fetch_artifact
from hub.app import create_app
from hub.config import HubConfig
from hub.keys_store import init_hub, load_admin_token
from protocol.database import Database
from protocol.release_artifact import build_artifact, source_root

RATE = 250_000  # bytes/s each way: 2 Mbit/s, as bench/sync_outage.py
LATENCY_MS = 100
FIX = "edge/updates/version.py"


def _patch_release() -> tuple[str, bytes]:
    version = importlib.metadata.version("villagenet") + ".1"
    code = (source_root() / FIX).read_bytes() + b"\n# a one-line fix\n"
    return version, build_artifact(source_root(), version, {FIX: code})


async def _through_line(work: Path, hub_url: tuple[str, int], sha: str, size: int, whole: bool) -> dict[str, Any]:
    db = Database(work / "edge.db")
    await db.open(SCHEMA)
    store = ContentStore(work / "content", db)
    line = await LineSimulator(hub_url, rate=RATE, latency_ms=LATENCY_MS).start()
    started = time.monotonic()
    try:
        async with aiohttp.ClientSession() as session:
            if whole:
                await store.fetch(session, line.url, sha, size)
            else:
                await fetch_artifact(store, session, line.url, sha, size)
        seconds = time.monotonic() - started
    finally:
        await line.stop()
        await db.close()
    assert store.path_for(sha).stat().st_size == size
    return {"seconds": seconds, "bytes": line.stats.up_bytes + line.stats.down_bytes,
            "connections": line.stats.connections}


async def _measure(work: Path, release: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    init_hub(work / "hub", "基准测试市级平台")
    runner = web.AppRunner(create_app(HubConfig.load(work / "hub")))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session, session.post(
                f"http://127.0.0.1:{port}/api/v1/blobs", data=release,
                headers={"Authorization": f"Bearer {load_admin_token(work / 'hub')}"}) as resp:
            assert resp.status == 201, await resp.text()
            sha = str((await resp.json())["sha256"])
        whole = await _through_line(work / "whole", ("127.0.0.1", port), sha, len(release), whole=True)
        delta = await _through_line(work / "delta", ("127.0.0.1", port), sha, len(release), whole=False)
    finally:
        await runner.cleanup()
    return whole, delta


def run(work: Path) -> Iterator[dict[str, Any]]:
    version, release = _patch_release()
    whole, delta = asyncio.run(_measure(work, release))
    deflated = len(zlib.compress(release, 6))
    delta_limit = delta["bytes"] / RATE
    yield {"metric": "patch release, bytes over the line (whole artifact = baseline)", "value": delta["bytes"],
           "unit": "B", "baseline": whole["bytes"], "ratio": delta["bytes"] / whole["bytes"],
           "note": f"{version}: artifact {len(release)} B stored ({deflated} B if deflated: the delta is"
                   f" {delta['bytes'] / deflated:.1%} of that); {delta['connections']} connections"}
    yield {"metric": "patch release, seconds at 2 Mbit/s 100 ms (whole = baseline)", "value": delta["seconds"],
           "unit": "s", "baseline": whole["seconds"], "ratio": delta["seconds"] / whole["seconds"]}
    yield {"metric": "patch release, time / line limit of its own bytes", "value": delta["seconds"] / delta_limit,
           "unit": "x limit", "baseline": whole["seconds"] / (whole["bytes"] / RATE),
           "ratio": (delta["seconds"] / delta_limit) / (whole["seconds"] / (whole["bytes"] / RATE)),
           "note": f"limit = bytes / {RATE} B/s: {delta_limit:.2f} s for the delta, the rest is round trips"}
