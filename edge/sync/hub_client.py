"""HTTP client for the edge's side of the sync protocol: signed requests to the hub, bounded answers.

Every byte of a sync exchange is drawn from the line budget (edge/sync/line_budget.py), and no answer is read past its
cap: endless data from a bad hub or line is refused before it is stored.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from edge.sync.line_budget import LineBudget
from protocol import compression
from protocol.feed import BATCH_LIMITS
from protocol.keys import NodeKey
from protocol.request_auth import HEADER, sign_request

TRUST_MAX_BYTES = 64 * 1024


class HubRefused(Exception):
    """The hub answered with a refusal; `code`, `detail` and maybe `have` come from its {error, detail}."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.code = str(body.get("error", "http_error"))
        self.detail = str(body.get("detail", ""))
        self.have = body.get("have")
        self.body = body
        super().__init__(f"hub refused ({status} {self.code}): {self.detail}")


@dataclass(frozen=True)
class Enrolled:
    trust_raw: bytes
    certificate: str | None  # PEM chain for the staff page's HTTPS, when a CSR was sent and the hub has a CA


@dataclass(frozen=True)
class PushAnswer:
    have: int
    hash: bytes | None
    ack: bytes | None  # the hub's signed acknowledgement (protocol/ack.py)


async def read_capped(resp: aiohttp.ClientResponse, limit: int, budget: LineBudget | None = None) -> bytes:
    """Read an answer, refusing one that is longer than `limit` (endless data from a bad hub or line)."""
    if resp.content_length is not None and resp.content_length > limit:
        raise HubRefused(resp.status, {"error": "too_large",
                                       "detail": f"answer declares {resp.content_length} bytes, over {limit}"})
    chunks, size = [], 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise HubRefused(resp.status, {"error": "too_large", "detail": f"answer longer than {limit} bytes"})
        if budget is not None:
            await budget.take(len(chunk))
        chunks.append(chunk)
    return b"".join(chunks)


class HubClient:
    """Signed requests are signed with the hub's time as this box knows it (its own clock plus the offset the hub's
    answers show), since the hub takes a request only within minutes of its own clock (protocol/request_auth.py):
    a box whose clock is wrong, or was never set, still syncs."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, key: NodeKey, village_id: str,
                 budget: LineBudget | None = None, compress: bool = True,
                 wall: Callable[[], float] = time.time) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.village_id = village_id
        self.budget = budget
        self.compress = compress
        self._prefix = urlsplit(self.base_url).path
        self.wall = wall
        self.clock_offset = 0.0  # the hub's clock minus ours, from the last answer's Date

    def _signed(self, method: str, path_qs: str, body: bytes = b"") -> dict[str, str]:
        now = int(self.wall() + self.clock_offset)
        return {HEADER: sign_request(self.key, method, self._prefix + path_qs, body, now=now)}

    def _learn_hub_time(self, hub_time: float) -> None:
        self.clock_offset = hub_time - self.wall()

    async def _signed_request(self, method: str, path_qs: str, body: bytes = b"", headers: dict[str, str] | None = None,
                              limit: int = 1024 * 1024, timeout: aiohttp.ClientTimeout | None = None) -> bytes:
        """One signed request and its answer; signed again once, at the hub's time, when the hub finds it stale."""
        for attempt in (1, 2):
            if self.budget is not None and body:
                await self.budget.take(len(body))
            # Signed only now, after the line budget let it go: the signature's time is as fresh as can be.
            all_headers = {**(headers or {}), **self._signed(method, path_qs, body)}
            # Without a timeout of its own, the session's applies (aiohttp takes timeout=None as none at all).
            async with self.session.request(method, self.base_url + path_qs, data=body or None, headers=all_headers,
                                            timeout=timeout or self.session.timeout) as resp:
                date = resp.headers.get("Date")
                try:
                    if date:
                        self._learn_hub_time(parsedate_to_datetime(date).timestamp())
                except (TypeError, ValueError):
                    pass  # a missing or odd Date leaves the estimate as it was
                try:
                    return await self._answer(resp, limit)
                except HubRefused as exc:
                    hub_time = exc.body.get("hub_time")
                    if attempt == 2 or exc.code != "stale_request" or not isinstance(hub_time, int):
                        raise
                    self._learn_hub_time(hub_time)
        raise AssertionError("unreachable")

    async def _answer(self, resp: aiohttp.ClientResponse, limit: int = 1024 * 1024) -> bytes:
        data = await read_capped(resp, limit if resp.status < 400 else 64 * 1024, self.budget)
        if resp.status >= 400:
            try:
                body = json.loads(data)
            except ValueError:
                body = {"error": "http_error", "detail": data[:200].decode("utf-8", "replace")}
            raise HubRefused(resp.status, body if isinstance(body, dict) else {})
        return data

    def _json(self, data: bytes) -> dict[str, Any]:
        try:
            answer = json.loads(data)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise HubRefused(502, {"error": "malformed", "detail": "the hub's answer is not a JSON object"})
        return answer

    async def call_json(self, method: str, path_qs: str, body: bytes = b"", timeout_s: float = 60.0) -> dict[str, Any]:
        """A signed request with an octet-stream body and a JSON object answer (recording uploads use it).

        The body and the answer are drawn from the line budget like every other sync transfer.
        """
        data = await self._signed_request(method, path_qs, body, {"Content-Type": "application/octet-stream"},
                                          64 * 1024, aiohttp.ClientTimeout(total=timeout_s))
        return self._json(data)

    async def enroll(self, token: str, csr: str | None = None) -> Enrolled:
        """Register this box's key for its village; the hub answers its trust document and, for a CSR, the staff
        page's certificate when it has a city CA (an older hub ignores the field)."""
        payload = {
            "village_id": self.village_id,
            "token": token,
            "public_key": base64.urlsafe_b64encode(self.key.public).decode(),
        }
        if csr is not None:
            payload["csr"] = csr
        async with self.session.post(f"{self.base_url}/api/v1/enroll", json=payload) as resp:
            answer = self._json(await self._answer(resp))
        certificate = answer.get("certificate")
        return Enrolled(_b64(answer.get("trust"), "trust"), certificate if isinstance(certificate, str) else None)

    async def trust(self) -> bytes:
        """The hub's current trust document (the caller verifies it against the pinned root)."""
        async with self.session.get(f"{self.base_url}/api/v1/trust") as resp:
            return await self._answer(resp, TRUST_MAX_BYTES)

    async def up_position(self) -> PushAnswer:
        """Where the hub stands in this village's up feed, with its signed acknowledgement of that."""
        path = f"/api/v1/sync/{self.village_id}/up"
        answer = self._json(await self._signed_request("GET", path))
        try:
            have, hash_ = int(answer["seq"]), bytes.fromhex(answer["hash"])
        except (KeyError, TypeError, ValueError) as exc:
            raise HubRefused(502, {"error": "malformed", "detail": f"bad up position from the hub: {exc}"}) from None
        return PushAnswer(have, hash_, _b64(answer["ack"], "ack") if "ack" in answer else None)

    async def push_up(self, batch: bytes) -> PushAnswer:
        """Send one up batch (compressed when configured); the hub answers what it now holds, signed."""
        wire = compression.compress(batch) if self.compress else batch
        path = f"/api/v1/sync/{self.village_id}/up"
        answer = self._json(await self._signed_request("POST", path, wire, {"Content-Type": "application/x-msgpack"}))
        try:
            have = int(answer["have"])
            hash_ = bytes.fromhex(answer["hash"]) if "hash" in answer else None
        except (KeyError, TypeError, ValueError) as exc:
            raise HubRefused(502, {"error": "malformed", "detail": f"bad acknowledgement from the hub: {exc}"}) from None
        ack = _b64(answer["ack"], "ack") if "ack" in answer else None
        return PushAnswer(have, hash_, ack)

    async def pull_down(self, after: int, max_bytes: int, wait_s: float) -> bytes:
        path_qs = f"/api/v1/sync/{self.village_id}/down?after={after}&max_bytes={max_bytes}&wait={wait_s:g}"
        if self.compress:
            path_qs += f"&enc={compression.ENCODING}"
        timeout = aiohttp.ClientTimeout(total=wait_s + 60)
        return await self._signed_request("GET", path_qs, limit=BATCH_LIMITS.max_bytes, timeout=timeout)


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or len(value) > 64 * 1024:
        raise HubRefused(502, {"error": "malformed", "detail": f"the hub's {what} is missing or too long"})
    try:
        return base64.urlsafe_b64decode(value)
    except (binascii.Error, ValueError) as exc:
        raise HubRefused(502, {"error": "malformed", "detail": f"the hub's {what} is not base64"}) from exc
