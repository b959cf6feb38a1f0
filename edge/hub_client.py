"""HTTP client for the edge's side of the sync protocol: signed requests to the hub, bounded answers."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from protocol.feed import BATCH_LIMITS
from protocol.keys import NodeKey
from protocol.request_auth import HEADER, sign_request


class HubRefused(Exception):
    """The hub answered with a refusal; `code`, `detail` and maybe `have` come from its {error, detail}."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.code = str(body.get("error", "http_error"))
        self.detail = str(body.get("detail", ""))
        self.have = body.get("have")
        super().__init__(f"hub refused ({status} {self.code}): {self.detail}")


async def read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """Read an answer, refusing one that is longer than `limit` (endless data from a bad hub or line)."""
    chunks, size = [], 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise HubRefused(resp.status, {"error": "too_large", "detail": f"answer longer than {limit} bytes"})
        chunks.append(chunk)
    return b"".join(chunks)


class HubClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, key: NodeKey, village_id: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.village_id = village_id
        self._prefix = urlsplit(self.base_url).path

    def _signed(self, method: str, path_qs: str, body: bytes = b"") -> dict[str, str]:
        return {HEADER: sign_request(self.key, method, self._prefix + path_qs, body)}

    async def _answer(self, resp: aiohttp.ClientResponse, limit: int = 1024 * 1024) -> bytes:
        data = await read_capped(resp, limit if resp.status < 400 else 64 * 1024)
        if resp.status >= 400:
            try:
                body = json.loads(data)
            except ValueError:
                body = {"error": "http_error", "detail": data[:200].decode("utf-8", "replace")}
            raise HubRefused(resp.status, body if isinstance(body, dict) else {})
        return data

    async def enroll(self, token: str) -> bytes:
        """Register this box's key for its village; returns the hub's current trust document."""
        payload = {
            "village_id": self.village_id,
            "token": token,
            "public_key": base64.urlsafe_b64encode(self.key.public).decode(),
        }
        async with self.session.post(f"{self.base_url}/api/v1/enroll", json=payload) as resp:
            answer = json.loads(await self._answer(resp))
        return base64.urlsafe_b64decode(answer["trust"])

    async def up_position(self) -> tuple[int, bytes]:
        path = f"/api/v1/sync/{self.village_id}/up"
        async with self.session.get(self.base_url + path, headers=self._signed("GET", path)) as resp:
            answer = json.loads(await self._answer(resp))
        return int(answer["seq"]), bytes.fromhex(answer["hash"])

    async def push_up(self, batch: bytes) -> int:
        """Send one up batch; returns the seq the hub now holds. A 409 tells where to resume."""
        path = f"/api/v1/sync/{self.village_id}/up"
        headers = {**self._signed("POST", path, batch), "Content-Type": "application/x-msgpack"}
        async with self.session.post(self.base_url + path, data=batch, headers=headers) as resp:
            answer = json.loads(await self._answer(resp))
        return int(answer["have"])

    async def pull_down(self, after: int, max_bytes: int, wait_s: float) -> bytes:
        path_qs = f"/api/v1/sync/{self.village_id}/down?after={after}&max_bytes={max_bytes}&wait={wait_s:g}"
        timeout = aiohttp.ClientTimeout(total=wait_s + 30)
        async with self.session.get(self.base_url + path_qs, headers=self._signed("GET", path_qs), timeout=timeout) as resp:
            return await self._answer(resp, BATCH_LIMITS.max_bytes)
