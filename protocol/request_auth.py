"""Signed HTTP requests from an edge to the hub (feeds, blobs, status of sync).

The edge signs method, path with query, a time, a random nonce and a digest of the body with its node key; the hub
looks the key up among enrolled edges, takes a request only within REQUEST_WINDOW_S of its own clock, and each
signed request only once (hub/request_replay.py). The time is the edge's estimate of the hub's clock (its own clock
plus the offset it learns from the hub's answers, edge/sync/hub_client.py), so a box with a wrong clock still syncs.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass

from .errors import DecodeError, SignatureError
from .keys import NodeKey, verify

HEADER = "X-VillageNet-Signature"
# Wide enough for a batch that takes minutes to cross a slow line (the time is checked once the body is read), and
# for the error of an edge's estimate of the hub's clock; short enough that the hub can remember every request
# it took inside it (issue 14: signatures used to stay valid for 7 days, replayable at will).
REQUEST_WINDOW_S = 600
NONCE_BYTES = 16


class StaleRequest(SignatureError):
    """Signed too long before or after the verifier's clock: the signer should re-sign with the verifier's time."""

    code = "stale_request"


@dataclass(frozen=True)
class VerifiedRequest:
    signer: bytes  # the public key
    signed_at: int
    once: bytes  # what makes this request itself: the nonce (v2), or the signature of a v1 request (no nonce)


def _message(method: str, path_qs: str, ts: int, body: bytes, nonce: str | None) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    if nonce is None:  # v1, from edges before the nonce
        return f"villagenet-request-v1\n{method.upper()}\n{path_qs}\n{ts}\n{digest}".encode()
    return f"villagenet-request-v2\n{method.upper()}\n{path_qs}\n{ts}\n{nonce}\n{digest}".encode()


def sign_request(key: NodeKey, method: str, path_qs: str, body: bytes = b"", now: int | None = None) -> str:
    """`key.time.nonce.signature`; `now` is the signer's estimate of the verifier's clock."""
    ts = int(time.time()) if now is None else now
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    sig = key.sign(_message(method, path_qs, ts, body, nonce))
    b64 = base64.urlsafe_b64encode
    return f"{b64(key.public).decode()}.{ts}.{nonce}.{b64(sig).decode()}"


def verify_request(header: str, method: str, path_qs: str, body: bytes, now: int | None = None) -> VerifiedRequest:
    """Check the header signs this request, within REQUEST_WINDOW_S of `now`; whether it was seen before is the
    caller's to check (by `once`, for as long as the window lasts)."""
    parts = header.split(".")
    if len(parts) not in (3, 4):
        raise DecodeError(f"{HEADER} must be key.timestamp.nonce.signature")
    nonce = parts[2] if len(parts) == 4 else None
    try:
        public = base64.urlsafe_b64decode(parts[0])
        ts = int(parts[1])
        sig = base64.urlsafe_b64decode(parts[-1])
    except ValueError as exc:
        raise DecodeError(f"{HEADER} is not well formed") from exc
    if nonce is not None and not 16 <= len(nonce) <= 64:
        raise DecodeError(f"the nonce of {HEADER} must be 16 to 64 characters")
    verify(public, sig, _message(method, path_qs, ts, body, nonce))
    current = int(time.time()) if now is None else now
    if abs(current - ts) > REQUEST_WINDOW_S:
        raise StaleRequest(
            f"the request was signed for {ts}, {current - ts:+d} s from the hub's clock ({current}); more than "
            f"{REQUEST_WINDOW_S} s apart is refused: sign again with the hub's time"
        )
    return VerifiedRequest(public, ts, nonce.encode() if nonce is not None else sig)
