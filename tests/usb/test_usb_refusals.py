"""Sticks a box must refuse, each with its reason in the receipt and the status, none changing the box's state."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from hub.keys_store import load_hub_keys
from protocol.keys import NodeKey, fingerprint
from protocol.trust import make_trust
from provisioning.bundle import make_bundle
from provisioning.receipts import open_receipt
from tests.integration.system import http, wait_for

from .conftest import Field, needs_loop
from .sticks import (
    attached,
    grow_to_chain,
    holds_device,
    list_dir,
    make_ext4_image,
    make_fat_image,
    put_files,
    read_file,
    rename_long_name,
)


def last_usb(url: str) -> dict[str, Any] | None:
    code, body, _ = http("GET", url + "/api/v1/status?format=json")
    assert code == 200
    return body["usb"]["last"]


def insert(edge_url: str, pid: int, image: Path) -> dict[str, Any]:
    """Attach the image as a loop device, wait for the box to finish with it and let go; return the outcome."""
    before = last_usb(edge_url)
    with attached(image) as device:
        last = wait_for("the stick serviced", lambda: (x := last_usb(edge_url)) != before and x, timeout_s=30)
        wait_for("the device let go", lambda: not holds_device(pid, device), timeout_s=10)
    return last


def stick_receipt(image: Path, node_id: str) -> Any:
    return open_receipt(read_file(image, f"VILLAGENET/receipts/{node_id}.vnr"))


@needs_loop
def test_bad_bundles_and_bad_sticks_are_refused_with_a_reason_and_change_nothing(field: Field, tmp_path: Path):
    edge = field.new_edge("edge")
    edge_dir = Path(edge.argv[edge.argv.index("--data") + 1])
    first = tmp_path / "first.vnb"
    first.write_bytes(field.bundle("v1"))
    from deploy.local_processes import run_command

    run_command("village-edge", "provision", "--data", str(edge_dir), str(first))
    edge.start()
    assert edge.proc is not None
    node_id = http("GET", edge.url + "/api/v1/info")[1]["node_id"]
    state_before = (edge_dir / "provision.json").read_bytes()

    keys = load_hub_keys(field.hub_dir)
    one_byte = bytearray(field.bundle("v1"))
    one_byte[-1] ^= 0x01
    expired = make_bundle(keys.root, keys.trust_raw, "v1", "v1村", "t1", field.system.hub.url, "token",
                          lifetime_s=600, now=int(time.time()) - 3600)
    stranger = NodeKey.generate()
    other_hub = make_bundle(stranger, make_trust(stranger, "别的平台", [NodeKey.generate().public], version=1),
                            "v1", "v1村", "t1", "http://127.0.0.1:9", "token")
    bundles = {
        "bad_signature": bytes(one_byte),
        "expired": expired,
        "unknown_key": other_hub,
        "wrong_village": field.bundle("v2"),
    }
    for code, data in bundles.items():
        image = make_fat_image(tmp_path / f"{code}.img", {"VILLAGENET/provision.vnb": data})
        last = insert(edge.url, edge.proc.pid, image)
        assert (last["outcome"], last["code"]) == ("refused", code), last
        assert last["reason"] and last["reason_zh"]  # English detail for support, Chinese with what to do
        receipt = stick_receipt(image, node_id)
        assert (receipt.outcome, receipt.code, receipt.reason) == ("refused", code, last["reason"])
        assert (edge_dir / "provision.json").read_bytes() == state_before, code

    # A `..` name inside VILLAGENET/ (a FAT long name no tool writes; crafted in the directory entry).
    image = make_fat_image(tmp_path / "dotdot.img", {"VILLAGENET/provision.vnb": field.bundle("v1", "--move"),
                                                     "VILLAGENET/abcdefghij": b"x"})
    rename_long_name(image, "abcde", "../ev")
    last = insert(edge.url, edge.proc.pid, image)
    assert (last["outcome"], last["code"]) == ("refused", "unsafe_path"), last
    assert stick_receipt(image, node_id).code == "unsafe_path"

    # A 2 GB file where the bundle should be: a real cluster chain that long, without writing 2 GB.
    image = make_fat_image(tmp_path / "huge.img", {"VILLAGENET/provision.vnb": b"x" * 4096}, size_mb=2300)
    grow_to_chain(image, b"PROVIS~1VNB", 2 * 1024**3)
    last = insert(edge.url, edge.proc.pid, image)
    assert (last["outcome"], last["code"]) == ("refused", "too_large"), last
    assert stick_receipt(image, node_id).code == "too_large"

    # A symlink where the bundle should be, on an ext4 stick (mounted read-only, so the receipt stays on the box).
    tree = tmp_path / "tree"
    (tree / "VILLAGENET").mkdir(parents=True)
    (tree / "VILLAGENET" / "provision.vnb").symlink_to("/etc/shadow")
    image = make_ext4_image(tmp_path / "symlink.img", tree)
    last = insert(edge.url, edge.proc.pid, image)
    assert (last["outcome"], last["code"]) == ("refused", "symlink"), last
    assert last["receipt_on_stick"] is None
    assert open_receipt(Path(last["receipt_kept"]).read_bytes()).code == "symlink"
    assert (edge_dir / "provision.json").read_bytes() == state_before

    # exFAT cannot be written in user space here yet: refused with a sentence saying what to do.
    image = tmp_path / "exfat.img"
    with open(image, "wb") as f:
        f.truncate(16 * 1024 * 1024)
    subprocess.run(["mkfs.exfat", str(image)], check=True, capture_output=True)
    last = insert(edge.url, edge.proc.pid, image)
    assert (last["outcome"], last["code"]) == ("refused", "unsupported_fs") and "FAT32" in last["reason"]
    assert "格式化为 FAT32" in last["reason_zh"]
    assert (edge_dir / "provision.json").read_bytes() == state_before

    # A stick without VILLAGENET/ (the technician's holiday photos) is left alone: no receipt, status unchanged.
    before = last_usb(edge.url)
    image = make_fat_image(tmp_path / "photos.img", {"DCIM/IMG_0001.JPG": b"\xff\xd8 photo"})
    with attached(image) as device:
        log = edge_dir / "edge.log"
        wait_for("the stick looked at", lambda: f"stick {device} holds no VILLAGENET/ folder" in log.read_text(),
                 timeout_s=30)
        wait_for("the device let go", lambda: not holds_device(edge.proc.pid, device), timeout_s=10)
    assert last_usb(edge.url) == before
    assert list_dir(image, "VILLAGENET/receipts") == []

    # The same hub's bundle for another village is taken once it carries the move flag.
    # A move restarts the box (systemd's Restart=always) as the new village's edge, which may be before any poll of
    # its status sees the outcome: the receipt on the stick says it.
    image = make_fat_image(tmp_path / "move.img", {"VILLAGENET/provision.vnb": field.bundle("v2", "--move")})
    node_id = http("GET", edge.url + "/api/v1/info")[1]["node_id"]
    with attached(image):
        edge.proc.wait(timeout=45)
    assert stick_receipt(image, node_id).outcome == "applied"
    edge.start()
    assert http("GET", edge.url + "/api/v1/info")[1]["village_id"] == "v2"


@needs_loop
def test_a_fresh_box_refuses_a_damaged_bundle_and_stays_fresh_then_trusts_the_first_valid_one(
    field: Field, tmp_path: Path
):
    edge = field.new_edge("edge").start()
    assert edge.proc is not None
    damaged = bytearray(field.bundle("v1"))
    damaged[len(damaged) // 2] ^= 0x40
    image = make_fat_image(tmp_path / "damaged.img", {"VILLAGENET/provision.vnb": bytes(damaged)})
    last = insert(edge.url, edge.proc.pid, image)
    assert last["outcome"] == "refused" and last["code"] in ("bad_signature", "malformed"), last
    assert http("GET", edge.url + "/api/v1/info")[1]["provisioned"] is False
    edge_dir = Path(edge.argv[edge.argv.index("--data") + 1])
    assert not (edge_dir / "provision.json").exists()

    image = make_fat_image(tmp_path / "good.img", {"VILLAGENET/provision.vnb": field.bundle("v1")})
    put_files(image, {"VILLAGENET/notes.txt": "技术员的备注".encode()})  # other files on the stick are ignored
    last = insert(edge.url, edge.proc.pid, image)
    assert last["outcome"] == "applied", last
    receipt = stick_receipt(image, http("GET", edge.url + "/api/v1/info")[1]["node_id"])
    assert receipt.hub_root_fingerprint == fingerprint(load_hub_keys(field.hub_dir).root.public)
