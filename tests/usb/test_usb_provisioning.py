"""A technician's FAT32 stick, attached as a real loop device, provisions a running box and gets a signed receipt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.keys_store import load_hub_keys
from protocol.keys import fingerprint
from provisioning.receipts import open_receipt
from tests.integration.system import http, wait_for

from .conftest import Field, needs_loop
from .sticks import attached, holds_device, list_dir, loop_backing, make_fat_image, read_file


def status(url: str) -> dict[str, Any]:
    code, body, _ = http("GET", url + "/api/v1/status?format=json")
    assert code == 200
    return body


def last_usb(url: str) -> dict[str, Any] | None:
    return status(url)["usb"]["last"]


@needs_loop
def test_a_fat32_stick_provisions_a_running_fresh_box_which_then_serves_and_leaves_a_signed_receipt(
    field: Field, tmp_path: Path
):
    hub = field.system.hub.start(ready_path="/api/v1/trust")
    field.system.publish("全市防汛通知", "city")
    image = make_fat_image(tmp_path / "stick.img", {"VILLAGENET/provision.vnb": field.bundle("v1")})
    edge = field.new_edge("edge").start()
    assert http("GET", edge.url + "/api/v1/info")[1]["provisioned"] is False
    assert status(edge.url)["usb"] == {"watcher": "running", "current": None, "last": None}
    assert edge.proc is not None

    with attached(str(image)) as device:
        info = wait_for("provisioned", lambda: (i := http("GET", edge.url + "/api/v1/info")[1])["provisioned"] and i,
                        timeout_s=30)
        assert info["village_id"] == "v1"
        wait_for("the city notice served", lambda: any(
            n["title"] == "全市防汛通知" for n in http("GET", edge.url + "/api/v1/notices")[1]["notices"]),
            timeout_s=30)
        last = wait_for("the stick serviced", lambda: last_usb(edge.url), timeout_s=30)
        assert last["outcome"] == "applied" and last["device"] == device
        wait_for("the device let go", lambda: not holds_device(edge.proc.pid, device), timeout_s=10)
        assert status(edge.url)["enrolled"] is True
    assert loop_backing(device) is None  # detaching really took it away: nobody held it any more

    assert list_dir(image, "VILLAGENET/receipts") == [f"{info['node_id']}.vnr"]
    receipt = open_receipt(read_file(image, f"VILLAGENET/receipts/{info['node_id']}.vnr"))
    assert receipt.node_id == info["node_id"] and receipt.outcome == "applied"
    assert receipt.hub_root_fingerprint == fingerprint(load_hub_keys(field.hub_dir).root.public)
    assert receipt.hub_root_fingerprint == status(edge.url)["hub_root_fingerprint"]
    assert receipt.hardware["cpus"] and receipt.actions[0]["what"] == "provision"
    assert hub.proc is not None and hub.proc.poll() is None
