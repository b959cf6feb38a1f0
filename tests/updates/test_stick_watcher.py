"""A stick in the USB watcher's hands with releases under VILLAGENET/firmware/: the signed one is queued with its
artifact, a forged one is refused with its reason in the receipt. A real in-process edge and a folder as the stick."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from edge.app import create_app
from edge.box.provisioned import apply_bundle
from edge.config import load_config
from edge.runtime import RUNTIME
from edge.usb.activity import activity_for
from edge.usb.stick_job import service_stick
from protocol.keys import NodeKey
from protocol.releases import make_release
from protocol.trust import make_trust
from provisioning.bundle import make_bundle
from provisioning.stick import DirStick

WHEEL = b"PK a wheel, as far as this test is concerned" * 50
SHA = hashlib.sha256(WHEEL).hexdigest()


async def test_the_usb_watcher_queues_a_signed_release_and_refuses_a_forged_one(aiohttp_client: Any,
                                                                                tmp_path: Path) -> None:
    root, signing, release_key = NodeKey.generate(), NodeKey.generate(), NodeKey.generate()
    trust = make_trust(root, "测试平台", [signing.public], version=1, release_keys=[release_key.public])
    apply_bundle(tmp_path / "edge", make_bundle(root, trust, "v1", "一村", "t1", "http://127.0.0.1:9", "tok"))
    client = await aiohttp_client(create_app(load_config(tmp_path / "edge", mdns=False, update_check_s=60.0)))
    rt = client.app[RUNTIME]
    firmware = tmp_path / "stick" / "VILLAGENET" / "firmware"
    firmware.mkdir(parents=True)
    for name, key in (("edge-99.0", release_key), ("edge-98.0", signing)):  # the second by the feed key
        (firmware / f"{name}.vnr").write_bytes(make_release(key, version=name[5:], target="edge", sha256=SHA,
                                                            size=len(WHEEL)))
        (firmware / f"{name}.whl").write_bytes(WHEEL)

    summary = await service_stick(rt, DirStick(tmp_path / "stick"), "test-stick", activity_for(tmp_path / "edge"),
                                  lambda: True)

    assert summary is not None
    firmware_actions = {a["file"]: (a["result"], a["code"]) for a in summary["actions"] if a["what"] == "firmware"}
    assert firmware_actions == {"edge-99.0.vnr": ("applied", "accepted"), "edge-98.0.vnr": ("refused", "unknown_key")}
    assert rt.content.path_for(SHA).read_bytes() == WHEEL
    offers = await rt.db.fetchall("SELECT id, sha256 FROM release_offers")
    assert [(o["id"], o["sha256"]) for o in offers] == [("edge-99.0", SHA)]
