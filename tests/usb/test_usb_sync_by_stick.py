"""Sync by stick, hands-free: a box that never had a line exchanges its submissions and the city's notices with
the hub through `VILLAGENET/sync/`, with no command typed at the box."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

from deploy.local_processes import BIN
from tests.device_kit import Residents
from tests.integration.system import http, wait_for

from .conftest import Field, needs_loop
from .sticks import attached, copy_out, holds_device, make_fat_image, replace_folder


def status(url: str) -> dict[str, Any]:
    code, body, _ = http("GET", url + "/api/v1/status?format=json")
    assert code == 200
    return body


def insert(url: str, pid: int, image: Path) -> dict[str, Any]:
    before = status(url)["usb"]["last"]
    with attached(image) as device:
        last = wait_for("the stick serviced", lambda: (x := status(url)["usb"]["last"]) != before and x, timeout_s=30)
        wait_for("the device let go", lambda: not holds_device(pid, device), timeout_s=10)
    return last


def hub(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "village-hub"), *args], capture_output=True, text=True, timeout=60)


@needs_loop
def test_a_sync_folder_on_a_stick_carries_submissions_up_and_notices_down_without_a_command_at_the_box(
    field: Field, tmp_path: Path
):
    field.system.hub.start(ready_path="/api/v1/trust")
    field.system.publish("走村串户送来的通知", "city")
    field.system.hub.stop()  # the line never works in this test

    edge = field.new_edge("edge").start()
    assert edge.proc is not None
    setup = make_fat_image(tmp_path / "setup.img", {"VILLAGENET/provision.vnb": field.bundle("v1")})
    assert insert(edge.url, edge.proc.pid, setup)["outcome"] == "applied"
    assert hub("enroll", "import", "--data", str(field.hub_dir), str(setup)).returncode == 0

    ids = [str(uuid.uuid4()) for _ in range(3)]
    residents = Residents(edge.url)
    for sid in ids:
        body = {"id": sid, "kind": "feedback", "device_id": "stb-1", "body": {"text": "路灯坏了"}}
        assert residents.post(body)[0] == 201

    stick = make_fat_image(tmp_path / "sync.img", {"VILLAGENET/sync/README.txt": "同步用".encode()})
    last = insert(edge.url, edge.proc.pid, stick)
    sync = next(a for a in last["actions"] if a["what"] == "sync")
    assert sync["result"] == "applied" and sync["up_entries"] == 3, sync
    assert any(n.startswith("up-v1-") for n in sync["files_written"])

    # At the hub: the technician's laptop takes the stick's sync folder in and writes what the village lacks.
    folder = copy_out(stick, "VILLAGENET/sync", tmp_path / "laptop")
    result = hub("sync", "import", "--data", str(field.hub_dir), str(folder))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["villages"]["v1"]["up_new"] == 3
    replace_folder(stick, "VILLAGENET/sync", folder)

    last = insert(edge.url, edge.proc.pid, stick)
    sync = next((a for a in last["actions"] if a["what"] == "sync"), last)
    assert sync.get("result") == "applied" and sync["down_applied"] >= 1 and sync["up_acked"] == 3, str(sync)
    titles = {n["title"] for n in http("GET", edge.url + "/api/v1/notices")[1]["notices"]}
    assert "走村串户送来的通知" in titles
    assert all(residents.get(sid)[1]["state"] == "delivered" for sid in ids)
