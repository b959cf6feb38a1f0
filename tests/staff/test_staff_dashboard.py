"""The dashboard's numbers come from the running edge: STBs from the device table, storage, version, last USB work."""

from __future__ import annotations

import time
from typing import Any

from edge.runtime import RUNTIME
from edge.status import VERSION
from edge.usb.activity import save_last_operation
from tests.device_kit import register_with

from .staff_http import login


async def test_the_dashboard_shows_the_stbs_storage_version_and_the_line_down(staff_client: Any):
    await login(staff_client, "tech1")
    rt = staff_client.app[RUNTIME]
    rt.devices.touch("stb-http-only", "192.168.1.20")  # an STB that only spoke HTTP so far
    data = await (await staff_client.get("/staff/api/dashboard")).json()
    assert data["stb_count"] == 1 and [s["device_id"] for s in data["stbs"]] == ["stb-http-only"]
    assert data["stbs"][0]["model"] == "—" and data["stbs"][0]["last_seen_s"] <= 1
    assert data["version"] == VERSION and data["storage"]["total"] > data["storage"]["free"] > 0
    assert data["line"]["online"] is False  # the hub URL is a closed port
    assert data["usb"] is None
    page = await (await staff_client.get("/staff/")).text()
    assert "stb-http-only" in page and "✕ 未连通" in page and 'id="usb">—<' in page


async def test_the_dashboard_shows_the_last_usb_operation_once_there_was_one(staff_client: Any):
    await login(staff_client)
    rt = staff_client.app[RUNTIME]
    save_last_operation(rt.config.data_dir, {"at": "2030-03-01T08:00:00Z", "device": "/dev/sdb1",
                                             "outcome": "refused", "reason": "开通文件不是本村的", "actions": []})
    data = await (await staff_client.get("/staff/api/dashboard")).json()
    assert data["usb"]["outcome"] == "refused"
    page = await (await staff_client.get("/staff/")).text()
    assert "开通文件不是本村的" in page


async def test_submissions_waiting_for_the_line_are_counted_as_backlog(staff_client: Any):
    await login(staff_client)
    stb = await register_with(staff_client, "stb-1")
    for i in range(3):
        body = {"id": f"00000000-0000-4000-8000-00000000000{i}", "kind": "feedback", "device_id": "stb-1",
                "body": {"text": f"第{i}条"}}
        assert (await staff_client.post("/api/v1/submissions", json=body, headers=stb.headers)).status == 201
    data = await (await staff_client.get("/staff/api/dashboard")).json()
    assert data["line"]["queue_depth"] == 3 and data["line"]["up_pending"] == 3
    assert time.time() - data["time"] < 5
