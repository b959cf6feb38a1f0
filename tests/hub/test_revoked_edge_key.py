"""A revoked edge key is refused everywhere the hub listens to a box, not only on the sync routes.

Security review finding (medium): a revoked edge key could still upload recordings (hub/routes_streams.py
authenticated without the revocation check); the status poller and the stick receipt import skipped it too.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from hub.edge_revocation import revoke_edge
from hub.enroll_import import enroll_from_receipt
from protocol.keys import NodeKey, fingerprint
from provisioning.receipts import enroll_proof, make_receipt, open_receipt, token_hash

from .kit import HubKit, start_hub
from .test_hub_status_poller import FAST, _until, _village, fake_edge


async def test_a_revoked_key_can_no_longer_upload_a_meeting_recording(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    sha = hashlib.sha256(b"x" * 10).hexdigest()
    path = f"/api/v1/recordings/v1/mtg-revoked?size=10&sha256={sha}"
    assert (await kit.client.get(path, headers=edge.signed("GET", path))).status == 200
    await revoke_edge(kit.hub.store, "v1")

    put_path = f"/api/v1/recordings/v1/mtg-revoked?offset=0&size=10&sha256={sha}"
    resp = await kit.client.put(put_path, data=b"x" * 10, headers=edge.signed("PUT", put_path, b"x" * 10))
    assert resp.status == 403
    assert (await resp.json())["error"] == "revoked_key"
    recording = await kit.hub.store.get_recording("v1", "mtg-revoked")
    assert recording is not None and recording.completed_at is None  # the chunk was not taken


async def test_a_status_signed_by_a_revoked_key_does_not_count(aiohttp_client: Any, aiohttp_server: Any,
                                                               tmp_path: Path) -> None:
    kit = await start_hub(aiohttp_client, tmp_path / "hub", **FAST)
    key = NodeKey.generate()
    server = await aiohttp_server(fake_edge(key, "v1"))
    await kit.add_village("v1", edge_url=str(server.make_url("/")))
    await kit.enroll("v1", key)
    await revoke_edge(kit.hub.store, "v1")

    async def refused() -> bool:
        return "revoked" in ((await _village(kit))["last_error"] or "")

    await _until(refused)
    assert (await _village(kit))["online"] is False


async def test_a_stick_receipt_from_a_revoked_key_does_not_enroll_it_again(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    await revoke_edge(kit.hub.store, "v1")
    token = await kit.token_for("v1")  # a new bundle for the village; the stolen box still has its old key
    raw = make_receipt(edge.key, {
        "outcome": "applied", "code": None, "reason": None, "village_id": "v1",
        "hub_root_fingerprint": fingerprint(kit.hub.keys.root.public),
        "enroll_proof": enroll_proof(token_hash(token), edge.key.public), "actions": [], "hardware": {}, "at": 0,
    })
    ok, detail = await enroll_from_receipt(kit.hub.store, kit.hub.keys, open_receipt(raw))
    assert not ok and "revoked" in detail
    newest = (await kit.hub.store.list_bundles("v1"))[-1]
    assert newest.used_by is None and newest.state(time.time()) == "valid"  # the new bundle is still the village's
