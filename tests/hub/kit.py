"""Test helpers: a real hub app on a temp data dir (HubKit) and a test edge with an enrolled key (TestEdge).

Everything goes through real sockets on 127.0.0.1 and real SQLite files, as an edge and a browser would.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.config import HubConfig
from hub.keys_store import init_hub, load_admin_token
from hub.models import Village
from hub.registry import add_village, async_issue_enrollment_token
from hub.services import HUB, Hub
from protocol import codec
from protocol.feed import GENESIS, Batch, Entry, chain, feed_name, make_batch, open_batch
from protocol.keys import NodeKey
from protocol.records import put
from protocol.request_auth import HEADER, sign_request
from protocol.trust import open_trust


class HubKit:
    def __init__(self, client: TestClient, data_dir: Path) -> None:
        self.client = client
        self.data_dir = data_dir
        self.token = load_admin_token(data_dir)
        self.admin = {"Authorization": f"Bearer {self.token}"}

    @property
    def hub(self) -> Hub:
        return self.client.app[HUB]

    async def add_village(self, village_id: str, name: str | None = None, town: str | None = "town1",
                          edge_url: str | None = None) -> Village:
        result = await add_village(self.hub.store, self.hub.down, village_id, name or f"村 {village_id}", town, edge_url)
        return result.village

    async def token_for(self, village_id: str, lifetime_s: int = 3600) -> str:
        token, _ = await async_issue_enrollment_token(self.hub.store, village_id, lifetime_s)
        return token

    async def enroll(self, village_id: str, key: NodeKey | None = None) -> TestEdge:
        key = key or NodeKey.generate()
        token = await self.token_for(village_id)
        resp = await self.client.post("/api/v1/enroll", json=enroll_body(village_id, token, key))
        assert resp.status == 200, await resp.text()
        return TestEdge(self, village_id, key)

    async def notice(self, publish: bool = True, **fields: Any) -> dict[str, Any]:
        body = {"title": "停水通知", "body": "明天上午停水。", "area": "community", "scope": "city", **fields}
        resp = await self.client.post("/api/v1/notices", json=body, headers=self.admin)
        assert resp.status == 201, await resp.text()
        created: dict[str, Any] = await resp.json()
        if publish:
            resp = await self.client.post(f"/api/v1/notices/{created['id']}/publish", headers=self.admin)
            assert resp.status == 200, await resp.text()
            created = await resp.json()
        return created

    async def down_ops(self, village_id: str) -> list[dict[str, Any]]:
        """The ops in a village's down feed, straight from the store."""
        rows = await self.hub.store.down_entries_after(village_id, 0, 10_000)
        return [codec.decode(op) for _, _, op, _ in rows]


def enroll_body(village_id: str, token: str, key: NodeKey) -> dict[str, str]:
    return {"village_id": village_id, "token": token, "public_key": base64.urlsafe_b64encode(key.public).decode()}


class TestEdge:
    """A village edge as the hub sees one: a node key, signed requests, and an up feed of its own."""

    __test__ = False  # not a pytest test class

    def __init__(self, kit: HubKit, village_id: str, key: NodeKey) -> None:
        self.kit = kit
        self.village_id = village_id
        self.key = key
        self.up: list[Entry] = []

    def signed(self, method: str, path_qs: str, body: bytes = b"", key: NodeKey | None = None) -> dict[str, str]:
        return {HEADER: sign_request(key or self.key, method, path_qs, body)}

    async def get_down(self, after: int = 0, max_bytes: int | None = None, wait: float | None = None) -> Batch:
        path = f"/api/v1/sync/{self.village_id}/down?after={after}"
        if max_bytes is not None:
            path += f"&max_bytes={max_bytes}"
        if wait is not None:
            path += f"&wait={wait:g}"
        resp = await self.kit.client.get(path, headers=self.signed("GET", path))
        assert resp.status == 200, await resp.text()
        assert resp.content_type == "application/x-msgpack"
        return self.verify_down(await resp.read())

    def verify_down(self, data: bytes) -> Batch:
        """Verify as an edge does: under the trust document, pinned to the hub's root key."""
        keys = self.kit.hub.keys
        trust = open_trust(keys.trust_raw, keys.root.public)
        return open_batch(data, feed_name("down", self.village_id), "hub", trust.can_sign)

    def submission_op(self, sub_id: str | None = None, text: str = "路灯坏了", kind: str = "feedback") -> dict[str, Any]:
        body = {"kind": kind, "device_id": "stb-1", "body": {"text": text}, "created_at": "2030-01-01T08:00:00Z"}
        return put("submission", sub_id or str(uuid.uuid4()), body)

    def next_entries(self, ops: list[dict[str, Any]]) -> list[Entry]:
        """Append ops to this edge's own up feed and return the new entries."""
        seq, prev = (self.up[-1].seq, self.up[-1].hash) if self.up else (0, GENESIS)
        entries = chain(feed_name("up", self.village_id), seq, prev, ops)
        self.up.extend(entries)
        return entries

    def batch(self, entries: list[Entry], key: NodeKey | None = None, feed: str | None = None) -> bytes:
        return make_batch(key or self.key, feed or feed_name("up", self.village_id), entries, 0, GENESIS)

    async def push(self, data: bytes, village_id: str | None = None, key: NodeKey | None = None) -> tuple[int, Any]:
        path = f"/api/v1/sync/{village_id or self.village_id}/up"
        resp = await self.kit.client.post(path, data=data, headers=self.signed("POST", path, data, key))
        return resp.status, await resp.json()

    async def position(self) -> dict[str, Any]:
        path = f"/api/v1/sync/{self.village_id}/up"
        resp = await self.kit.client.get(path, headers=self.signed("GET", path))
        assert resp.status == 200, await resp.text()
        result: dict[str, Any] = await resp.json()
        return result


async def start_hub(aiohttp_client: Any, data_dir: Path, **overrides: Any) -> HubKit:
    if not (data_dir / "root.key").exists():
        init_hub(data_dir, "测试市级平台")
    config = HubConfig.load(data_dir, **overrides)
    client = await aiohttp_client(create_app(config))
    return HubKit(client, data_dir)
