"""Acceptance: over a line that cuts and flips bytes, with the edge killed -9 three times, everything converges.

300 submissions go up and 20 notices (one with a 5 MB attachment) come down: nothing lost, nothing duplicated,
no corrupted byte accepted. Real hub and edge processes; the line is deploy/line_simulator.py in its own process.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import uuid
from pathlib import Path

from deploy.local_processes import free_port
from tests.device_kit import Residents
from tests.integration.system import build_system, http, wait_for

from .line_process import LineProcess

FAULTS = ("--cut-mean", "300000", "--flip-mean", "400000", "--seed", "11")


def _post(residents: Residents, sub: dict) -> None:
    status, body, _ = residents.post(sub)
    assert status in (200, 201), body


def test_submissions_and_notices_converge_exactly_over_a_cutting_flipping_line_with_three_kill_9(tmp_path: Path):
    line_port = free_port()
    system = build_system(tmp_path, ["v1"], hub_url_for=lambda _p: f"http://127.0.0.1:{line_port}")
    edge_dir = system.edge_dir("v1")
    with (edge_dir / "config.toml").open("a") as f:
        f.write("request_timeout_s = 3.0\n")
    line = LineProcess(int(system.hub.url.rsplit(":", 1)[1]), line_port, *FAULTS)
    try:
        system.hub.start(ready_path="/api/v1/trust")
        line.start()
        blob = os.urandom(5 * 1024 * 1024)
        sha = hashlib.sha256(blob).hexdigest()
        status, _ = system.admin("POST", "/api/v1/blobs", raw=blob, headers={"Content-Type": "application/octet-stream"})
        assert status == 201
        edge = system.edges["v1"].start()
        residents = Residents(edge.url)
        subs = [{"id": str(uuid.uuid4()), "kind": "feedback", "device_id": f"stb-{i % 9}",
                 "body": {"text": f"第{i}条意见：村口路灯坏了。", "n": i}} for i in range(300)]
        titles = [f"通知{i:02d}" for i in range(20)]
        for phase in range(4):
            for sub in subs[phase * 75:(phase + 1) * 75]:
                _post(residents, sub)
            for title in titles[phase * 5:(phase + 1) * 5]:
                attach = [{"sha256": sha, "mime": "application/pdf"}] if title == "通知00" else None
                system.publish(title, "city", attachments=attach)
            if phase < 3:
                time.sleep(1.0)  # sync is busy moving batches and the blob
                edge.kill_hard()
                edge.start()

        def converged() -> bool:
            held = system.hub_submissions("v1")
            notices = http("GET", edge.url + "/api/v1/notices")[1]["notices"]
            return len(held) >= 300 and len(notices) >= 20 and http("GET", f"{edge.url}/content/{sha}")[0] == 200

        wait_for("everything on both sides", converged, timeout_s=150, every_s=1.0)
        held = {s["id"]: s for s in system.hub_submissions("v1")}
        assert len(held) == 300
        for sub in subs:  # nothing lost, nothing changed on the way
            assert held[sub["id"]]["body"] == sub["body"] and held[sub["id"]]["device_id"] == sub["device_id"]
        with sqlite3.connect(f"file:{system.hub_dir / 'hub.db'}?mode=ro", uri=True) as conn:
            entries = conn.execute("SELECT COUNT(*), MAX(seq) FROM up_entries WHERE village_id = 'v1'").fetchone()
        assert tuple(entries) == (300, 300)  # each submission's entry applied once
        notices = http("GET", edge.url + "/api/v1/notices")[1]["notices"]
        assert sorted(n["title"] for n in notices) == titles
        assert all(n["body"] == f"{n['title']}的内容" for n in notices)
        assert http("GET", f"{edge.url}/content/{sha}")[1] == blob
    finally:
        stats = line.stop()
        system.stop_all()
    print("line:", json.dumps(stats))
    assert stats["cuts"] > 0 and stats["flips"] > 0
