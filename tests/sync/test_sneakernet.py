"""Sync by USB stick with the line down: submissions edge → stick → hub, replies hub → stick → edge, never twice."""

from __future__ import annotations

import uuid
from pathlib import Path

from deploy.local_processes import free_port, run_command
from tests.device_kit import Residents
from tests.integration.system import build_system, http, wait_for

from .line_process import LineProcess


def _status(edge_url: str) -> dict:
    return http("GET", edge_url + "/api/v1/status?format=json")[1]


def test_a_stick_carries_submissions_up_and_replies_down_and_the_line_then_resends_nothing(tmp_path: Path):
    line_port = free_port()
    system = build_system(tmp_path, ["v1"], hub_url_for=lambda _port: f"http://127.0.0.1:{line_port}")
    line = LineProcess(int(system.hub.url.rsplit(":", 1)[1]), line_port)
    try:
        system.hub.start(ready_path="/api/v1/trust")
        edge = system.edges["v1"].start()
        line.start()  # the line is up long enough to enroll, then drops for weeks
        wait_for("enrolled", lambda: _status(edge.url)["enrolled"])
        line.stop()

        subs = [{"id": str(uuid.uuid4()), "kind": "feedback", "device_id": "stb-1", "body": {"text": f"意见{i}"}}
                for i in range(5)]
        residents = Residents(edge.url)
        for sub in subs:
            assert residents.post(sub)[0] == 201
        stick = tmp_path / "stick"
        stick.mkdir()
        run_command("village-edge", "sync", "export", "--data", str(system.edge_dir("v1")), "--to", str(stick))
        assert any((stick / "VILLAGENET" / "sync").glob("up-v1-*.vnb"))

        run_command("village-hub", "sync", "import", "--data", str(system.hub_dir), str(stick))
        assert sorted(s["id"] for s in system.hub_submissions("v1")) == sorted(s["id"] for s in subs)
        status, _ = system.admin("POST", f"/api/v1/submissions/{subs[0]['id']}/replies", {"text": "已派人处理。"})
        assert status == 201
        # Back at the hub desk a second time: the same stick is read again; nothing is taken twice.
        run_command("village-hub", "sync", "import", "--data", str(system.hub_dir), str(stick))
        assert len(system.hub_submissions("v1")) == 5

        run_command("village-edge", "sync", "import", "--data", str(system.edge_dir("v1")), str(stick))
        view = residents.get(subs[0]["id"])[1]
        assert view["state"] == "answered" and view["replies"][0]["text"] == "已派人处理。"
        assert residents.get(subs[1]["id"])[1]["state"] == "delivered"
        assert _status(edge.url)["sync"]["backlog"]["up_records"] == 0

        hub_log = system.hub_dir / "hub.log"
        edge_log = system.edge_dir("v1") / "edge.log"
        pushes_before = hub_log.read_text().count("POST /api/v1/sync/v1/up")
        applied_before = edge_log.read_text().count("applied down entries")
        line.start()  # the line returns
        wait_for("a fresh exchange over the line",
                 lambda: _status(edge.url)["last_sync_error"] is None and hub_log.read_text().count(
                     "GET /api/v1/sync/v1/up") >= 2, timeout_s=30)
        assert _status(edge.url)["sync"]["phase"] == "idle"
        stats = line.stop()
        assert hub_log.read_text().count("POST /api/v1/sync/v1/up") == pushes_before
        assert edge_log.read_text().count("applied down entries") == applied_before
        assert stats["up_bytes"] < 20_000  # positions and empty polls only
        assert len(system.hub_submissions("v1")) == 5
    finally:
        system.stop_all()
