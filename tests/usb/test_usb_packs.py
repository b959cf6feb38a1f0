"""Content packs by stick: exported at the hub, imported by a box with no line, resumed after a pulled stick."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.local_processes import run_command
from tests.integration.system import FAST_EDGE, http, wait_for

from .conftest import Field, needs_loop
from .sticks import attached, detach, holds_device, loop_backing, make_fat_image


@dataclass
class Content:
    image: Path
    city_titles: set[str]
    blobs: dict[str, bytes]


def status(url: str) -> dict[str, Any]:
    code, body, _ = http("GET", url + "/api/v1/status?format=json")
    assert code == 200
    return body


def city_content_on_a_stick(field: Field, tmp_path: Path, blob_mb: int) -> Content:
    """City-wide notices with media at the hub, then the hub stopped, and one `pack export --with-bundle` that
    puts a bundle and a pack for v1 on a blank stick: all a new box gets."""
    s = field.system
    s.hub.start(ready_path="/api/v1/trust")
    blobs: dict[str, bytes] = {}
    titles = set()
    for i in range(3):
        blob = os.urandom(blob_mb * 1024 * 1024)
        status_, up = s.admin("POST", "/api/v1/blobs", raw=blob, headers={"Content-Type": "application/octet-stream"})
        assert status_ in (200, 201), up
        blobs[up["sha256"]] = blob
        titles.add(f"全市通知{i}")
        s.publish(f"全市通知{i}", "city", attachments=[{"sha256": up["sha256"], "mime": "image/jpeg"}])
    s.publish("二村的通知", "village:v2")
    image = make_fat_image(tmp_path / "stick.img", {}, size_mb=64 + 3 * blob_mb)  # a blank stick
    hub_url = s.hub.url
    s.hub.stop()  # from here on there is no line
    out = run_command("village-hub", "pack", "export", "--data", str(field.hub_dir), "--village", "v1",
                      "--to", str(image), "--with-bundle", hub_url)
    assert "next: put the stick into the village box" in out.stdout
    assert "blobs: 3 of 3" in out.stderr and "bundle for v1村 (v1) written" in out.stderr  # progress as it goes
    return Content(image, titles, blobs)


def served_blobs(url: str, blobs: dict[str, bytes]) -> set[str]:
    ok = set()
    for sha, data in blobs.items():
        code, body, _ = http("GET", f"{url}/content/{sha}")
        if code == 200:
            assert hashlib.sha256(body).hexdigest() == sha and body == data
            ok.add(sha)
    return ok


def titles(url: str) -> set[str]:
    return {n["title"] for n in http("GET", url + "/api/v1/notices")[1]["notices"]}


@needs_loop
def test_a_content_pack_alone_brings_a_new_box_to_serving_every_city_notice_with_its_media(
    field: Field, tmp_path: Path
):
    content = city_content_on_a_stick(field, tmp_path, blob_mb=1)
    edge = field.new_edge("edge").start()
    assert edge.proc is not None
    with attached(content.image) as device:
        wait_for("all city notices", lambda: titles(edge.url) == content.city_titles, timeout_s=30)
        wait_for("all their media", lambda: served_blobs(edge.url, content.blobs) == set(content.blobs),
                 timeout_s=30)
        last = wait_for("the stick serviced", lambda: status(edge.url)["usb"]["last"], timeout_s=30)
        wait_for("the device let go", lambda: not holds_device(edge.proc.pid, device), timeout_s=10)
    pack = next(a for a in last["actions"] if a["what"] == "pack")
    assert (pack["result"], pack["blobs"], pack["village_id"]) == ("applied", 3, "v1")
    notices = http("GET", edge.url + "/api/v1/notices")[1]["notices"]
    assert all(n["attachments"] and n["attachments"][0]["url"].startswith("/content/") for n in notices)
    assert "二村的通知" not in titles(edge.url)
    assert status(edge.url)["last_sync_at"] is None  # it never spoke to the hub


@needs_loop
def test_a_stick_pulled_mid_import_leaves_the_box_consistent_and_the_next_insertion_resumes(
    field: Field, tmp_path: Path
):
    content = city_content_on_a_stick(field, tmp_path, blob_mb=4)
    # Read the stick at 4 MB/s, as a slow USB 2 stick would, so there is time to pull it out mid-import.
    edge = field.new_edge("edge", FAST_EDGE + "usb_read_mb_s = 4.0\n").start()
    assert edge.proc is not None

    with attached(content.image) as device:
        def copying() -> bool:
            current = status(edge.url)["usb"]["current"]
            return bool(current and current["phase"] == "pack" and current["progress"].get("bytes_done", 0) > 0)

        wait_for("the pack import under way", copying, timeout_s=30, every_s=0.05)
        detach(device)  # the stick is pulled out
        last = wait_for("the pull noticed", lambda: (x := status(edge.url)["usb"]["last"]) and x, timeout_s=30)
        assert (last["outcome"], last["code"]) == ("interrupted", "stick_pulled"), last
        assert "put it back in" in last["reason"]
        wait_for("the device let go", lambda: loop_backing(device) is None, timeout_s=10)

    # Consistent: every notice is there (batches apply whole), a half-copied blob is not served, nothing broke.
    assert titles(edge.url) == content.city_titles
    served = served_blobs(edge.url, content.blobs)
    assert served != set(content.blobs)
    assert status(edge.url)["down"]["blobs_missing"] == len(content.blobs) - len(served)

    with attached(content.image) as device:
        last = wait_for("the import finished", lambda: (x := status(edge.url)["usb"]["last"])["outcome"] != "interrupted"
                        and x, timeout_s=60)
        wait_for("the device let go", lambda: not holds_device(edge.proc.pid, device), timeout_s=10)
    pack = next(a for a in last["actions"] if a["what"] == "pack")
    assert pack["result"] == "applied" and pack["resumed_bytes"] > 0, pack
    assert pack["blobs"] == len(content.blobs) - len(served)
    assert served_blobs(edge.url, content.blobs) == set(content.blobs)
