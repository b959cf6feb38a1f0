"""A blob damaged on the line is never served: the edge discards it and fetches it again."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

from .system import build_system, http, wait_for
from .tampering_proxy import TamperingProxy


def test_a_corrupted_download_is_discarded_and_fetched_again(tmp_path: Path):
    proxies: list[TamperingProxy] = []

    def through_proxy(hub_port: int) -> str:
        proxies.append(TamperingProxy(hub_port).start())
        return proxies[0].url

    system = build_system(tmp_path, ["v1"], hub_url_for=through_proxy)
    proxy = proxies[0]
    try:
        system.hub.start(ready_path="/api/v1/trust")
        edge = system.edges["v1"].start()
        blob = os.urandom(200_000)
        sha = hashlib.sha256(blob).hexdigest()
        proxy.corrupt_blobs = 1
        status, _ = system.admin("POST", "/api/v1/blobs", raw=blob,
                                 headers={"Content-Type": "application/octet-stream"})
        assert status == 201
        system.publish("带附件的通知", "city", attachments=[{"sha256": sha, "mime": "application/pdf"}])

        wait_for("the blob served by the edge", lambda: http("GET", f"{edge.url}/content/{sha}")[0] == 200,
                 timeout_s=30)
        status, body, _ = http("GET", f"{edge.url}/content/{sha}")
        assert body == blob  # the damaged copy never reached a resident
        assert proxy.content_requests[sha] >= 2  # one damaged download, then a good one
        with sqlite3.connect(system.edge_dir("v1") / "edge.db") as conn:
            failures = conn.execute("SELECT failures FROM blobs WHERE sha256 = ?", (sha,)).fetchone()[0]
        assert failures >= 1
        assert "failed its checksum" in (system.edge_dir("v1") / "edge.log").read_text()
    finally:
        system.stop_all()
        proxy.stop()
