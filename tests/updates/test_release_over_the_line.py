"""A release added at the hub travels down the line to a running box, which commits it after its health check and
reports the new version to the hub; the box answers throughout except for one short restart. A forged release that
came the same way is refused with its reason; a set-top box's release is kept for the village's STBs."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local_processes import run_command
from hub.down_feed import DownFeed
from hub.store import HubStore
from protocol import records
from protocol.keys import NodeKey
from protocol.releases import make_release
from tests.integration.system import System, build_system, wait_for

from .conftest import Releases
from .kit import FAST_EDGE, get_json, newer, wait_for_outcome


class Outages(threading.Thread):
    """Asks the box for /api/v1/info every 0.1 s and keeps the longest stretch without an answer."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.longest, self.done = url, 0.0, threading.Event()

    def run(self) -> None:
        down_since: float | None = None
        while not self.done.is_set():
            try:
                with urllib.request.urlopen(self.url + "/api/v1/info", timeout=1):
                    pass
                if down_since is not None:
                    self.longest = max(self.longest, time.monotonic() - down_since)
                down_since = None
            except OSError:
                down_since = down_since or time.monotonic()
            time.sleep(0.1)


async def append_forged_release(hub_dir: Path, data: bytes, version: str) -> None:
    """What a stolen feed signing key could send: a release signed by a key without the release role."""
    sha256 = hashlib.sha256(data).hexdigest()
    signed = make_release(NodeKey.generate(), version=version, target="edge", sha256=sha256, size=len(data))
    op = records.put("release", f"edge-{version}", {"signed": signed, "version": version, "target": "edge"},
                     [{"sha256": sha256, "size": len(data), "mime": "application/octet-stream"}])
    store = HubStore(hub_dir / "hub.db")
    await store.open()
    try:
        async with store.transaction() as tx:
            await DownFeed(store).append(tx, {"v1": [op]})
    finally:
        await store.close()


@pytest.fixture
def village(tmp_path: Path) -> Iterator[System]:
    system = build_system(tmp_path, ["v1"])
    (tmp_path / "edge-v1" / "config.toml").write_text(FAST_EDGE)
    try:
        yield system
    finally:
        system.stop_all()


def test_a_release_added_at_the_hub_is_committed_by_the_running_box_and_the_hub_sees_its_version(
        village: System, releases: Releases) -> None:
    wheel = next((releases.good / "VILLAGENET" / "firmware").glob("*.whl"))
    village.hub.start()
    box = village.edges["v1"].start()
    wait_for("the box enrolled", lambda: (get_json(box.url + "/api/v1/status?format=json") or {}).get("enrolled"))
    outages = Outages(box.url)
    outages.start()
    hub = str(village.hub_dir)
    asyncio.run(append_forged_release(village.hub_dir, wheel.read_bytes(), newer(4)))
    run_command("village-hub", "release", "add", "--data", hub, "--file", str(wheel), "--version", newer(3),
                "--target", "stb:HG680", "--scope", "village:v1")
    run_command("village-hub", "release", "add", "--data", hub, "--file", str(wheel), "--version", newer(1),
                "--target", "edge", "--scope", "village:v1")

    outcome = wait_for_outcome(box, newer(1), timeout_s=90)
    outages.done.set()
    outages.join()

    assert (outcome["state"], outcome["version"]) == ("committed", newer(1)), outcome
    refused = get_json(box.url + "/api/v1/update")["refused"]
    assert [(r["id"], r["code"]) for r in refused] == [(f"edge-{newer(4)}", "unknown_key")]
    stb = get_json(box.url + "/api/v1/status?format=json")["stb"]  # not the box's own: kept for its STBs
    assert stb["HG680"] == {"count": 0, "versions": {}, "target_version": newer(3), "updated": 0, "failed": 0,
                            "last_error": None}
    wait_for("the hub sees the new version", lambda: village.admin("GET", "/api/v1/villages")[1]["villages"][0]
             ["version"] == newer(1), timeout_s=30)
    print(f"longest time the box did not answer /api/v1/info during the update: {outages.longest:.1f} s")
    assert outages.longest < 20, "one restart, not a dark box"
