"""A box provisioned offline is enrolled from its receipt at the hub, and a stick asking for diagnostics gets an
archive only the hub can read."""

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
from .sticks import attached, holds_device, list_dir, make_fat_image, read_file


def status(url: str) -> dict[str, Any]:
    code, body, _ = http("GET", url + "/api/v1/status?format=json")
    assert code == 200
    return body


def hub_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "village-hub"), *args], capture_output=True, text=True, timeout=60)


@needs_loop
def test_a_box_provisioned_offline_is_enrolled_from_its_receipt_and_then_syncs(field: Field, tmp_path: Path):
    image = make_fat_image(tmp_path / "stick.img", {"VILLAGENET/provision.vnb": field.bundle("v1"),
                                                    "VILLAGENET/diag/REQUEST": b""})
    edge = field.new_edge("edge").start()  # the hub is not running: no line
    assert edge.proc is not None
    with attached(image) as device:
        last = wait_for("the stick serviced", lambda: status(edge.url)["usb"]["last"], timeout_s=30)
        wait_for("the device let go", lambda: not holds_device(edge.proc.pid, device), timeout_s=10)
    assert last["outcome"] == "applied", last
    assert status(edge.url)["provisioned"] and not status(edge.url)["enrolled"]

    # Someone tampers with the receipt: the hub refuses it and says what to do.
    tampered = tmp_path / "tampered"
    (tampered / "VILLAGENET" / "receipts").mkdir(parents=True)
    node_id = status(edge.url)["node_id"]
    raw = bytearray(read_file(image, f"VILLAGENET/receipts/{node_id}.vnr"))
    raw[-1] ^= 1
    (tampered / "VILLAGENET" / "receipts" / f"{node_id}.vnr").write_bytes(bytes(raw))
    refused = hub_command("enroll", "import", "--data", str(field.hub_dir), str(tampered))
    assert refused.returncode == 2 and "not a valid receipt" in refused.stdout
    assert "next:" in refused.stdout

    done = hub_command("enroll", "import", "--data", str(field.hub_dir), str(image))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"OK {node_id}.vnr: village v1 box {node_id}: enrolled" in done.stdout
    assert "next:" in done.stdout

    field.system.hub.start(ready_path="/api/v1/trust")  # the line comes up
    wait_for("enrolled at its first online sync", lambda: status(edge.url)["enrolled"], timeout_s=30)
    field.system.publish("线路恢复后的通知", "city")
    wait_for("the notice arrives", lambda: any(
        n["title"] == "线路恢复后的通知" for n in http("GET", edge.url + "/api/v1/notices")[1]["notices"]), timeout_s=30)
    sub = {"id": str(uuid.uuid4()), "kind": "feedback", "device_id": "stb-1", "body": {"text": "线路好了"}}
    assert Residents(edge.url).post(sub)[0] == 201
    wait_for("the submission at the hub", lambda: any(s["id"] == sub["id"] for s in field.system.hub_submissions("v1")),
             timeout_s=30)

    # The diagnostics archive asked for on the same stick opens only with the hub's key, and holds no secrets.
    names = [n for n in list_dir(image, "VILLAGENET/diag") if n.endswith(".vnd")]
    assert len(names) == 1
    archive = tmp_path / names[0]
    archive.write_bytes(read_file(image, f"VILLAGENET/diag/{names[0]}"))
    assert b"status.json" not in archive.read_bytes() and "v1村".encode() not in archive.read_bytes()  # encrypted
    out = tmp_path / "diag"
    opened = hub_command("diag", "open", "--data", str(field.hub_dir), str(archive), "--out", str(out))
    assert opened.returncode == 0, opened.stderr
    assert json.loads((out / "status.json").read_text())["node_id"] == node_id
    state = json.loads((out / "provision.json").read_text())
    assert state["village_id"] == "v1" and "enroll_token" not in state
    assert "edge.log" in {p.name for p in out.iterdir()}
    other_hub = tmp_path / "other-hub"
    assert hub_command("init", "--data", str(other_hub)).returncode == 0
    wrong = hub_command("diag", "open", "--data", str(other_hub), str(archive), "--out", str(tmp_path / "x"))
    assert wrong.returncode == 2 and "not encrypted to this hub" in wrong.stderr


def test_pack_export_and_enroll_import_refuse_what_is_not_a_stick_with_a_plain_sentence(field: Field, tmp_path: Path):
    junk = tmp_path / "junk.img"
    junk.write_bytes(b"\0" * 65536)
    result = hub_command("pack", "export", "--data", str(field.hub_dir), "--village", "v1", "--to", str(junk))
    assert result.returncode == 2 and "give a FAT32 stick" in result.stderr
    result = hub_command("enroll", "import", "--data", str(field.hub_dir), str(tmp_path / "missing"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = hub_command("enroll", "import", "--data", str(field.hub_dir), str(empty))
    assert result.returncode == 2 and "put the stick into the box first" in result.stdout
    result = hub_command("pack", "export", "--data", str(field.hub_dir), "--village", "nope", "--to", str(empty))
    assert result.returncode == 2 and "no village nope" in result.stderr
    result = hub_command("diag", "open", "--data", str(field.hub_dir), str(tmp_path / "none.vnd"), "--out", str(empty))
    assert result.returncode == 2 and "does not exist" in result.stderr
    junk_archive = tmp_path / "junk.vnd"
    junk_archive.write_bytes(b"\x93not an archive")
    result = hub_command("diag", "open", "--data", str(field.hub_dir), str(junk_archive), "--out", str(empty))
    assert result.returncode == 2 and "refused" in result.stderr
