"""The hub keeps a meeting recording only when every byte arrived at the right offset and the whole hashes right."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from protocol.keys import NodeKey
from tests.hub.kit import start_hub

DATA = bytes(range(256)) * 1000  # 256,000 bytes


async def test_a_recording_with_the_wrong_hash_is_discarded_and_one_at_a_wrong_offset_is_refused(
        aiohttp_client: Any, tmp_path: Path) -> None:
    kit = await start_hub(aiohttp_client, tmp_path / "hub")
    await kit.add_village("v1", town="t1")
    edge = await kit.enroll("v1")
    good = hashlib.sha256(DATA).hexdigest()
    wrong = hashlib.sha256(b"something else").hexdigest()

    async def put(offset: int, chunk: bytes, sha: str, key: Any = None) -> tuple[int, Any]:
        path = f"/api/v1/recordings/v1/mtg-1?offset={offset}&size={len(DATA)}&sha256={sha}"
        resp = await kit.client.put(path, data=chunk, headers=edge.signed("PUT", path, chunk, key))
        return resp.status, await resp.json()

    # Declared with a hash the bytes do not have: refused at the end, nothing kept, start again from 0.
    assert (await put(0, DATA[:100_000], wrong))[0] == 200
    status, body = await put(100_000, DATA[100_000:], wrong)
    assert status == 422 and body["error"] == "hash_mismatch"
    assert (await kit.client.get(f"/content/{wrong}")).status == 404

    # A chunk at the wrong offset is refused with where to resume; an unsigned or foreign one is refused.
    status, body = await put(0, DATA[:100_000], good)
    assert status == 200 and body["received"] == 100_000 and body["complete"] is False
    status, body = await put(50_000, DATA[50_000:150_000], good)
    assert status == 409 and body["error"] == "wrong_offset" and body["received"] == 100_000
    status, body = await put(100_000, DATA[100_000:], good, key=NodeKey.generate())
    assert status == 403
    status, body = await put(100_000, DATA[100_000:], good)
    assert status == 200 and body["complete"] is True
    resp = await kit.client.get(f"/content/{good}")
    assert resp.status == 200 and await resp.read() == DATA
