"""Signed HTTP requests from an edge to the hub (feeds, blobs, status of sync).

The edge signs method, path with query, its clock and a digest of the body with its node key; the hub looks the
key up among enrolled edges. The clock window is wide because a village box may have no real-time clock.
"""

from __future__ import annotations

import base64
import hashlib
import time

from .errors import DecodeError, SignatureError
from .keys import NodeKey, verify

HEADER = "X-VillageNet-Signature"
CLOCK_WINDOW_S = 7 * 24 * 3600


def _message(method: str, path_qs: str, ts: int, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"villagenet-request-v1\n{method.upper()}\n{path_qs}\n{ts}\n{digest}".encode()


def sign_request(key: NodeKey, method: str, path_qs: str, body: bytes = b"", now: int | None = None) -> str:
    ts = int(time.time()) if now is None else now
    sig = key.sign(_message(method, path_qs, ts, body))
    b64 = base64.urlsafe_b64encode
    return f"{b64(key.public).decode()}.{ts}.{b64(sig).decode()}"


def verify_request(header: str, method: str, path_qs: str, body: bytes, now: int | None = None) -> bytes:
    """Return the signer's public key if the header is a valid signature of this request."""
    parts = header.split(".")
    if len(parts) != 3:
        raise DecodeError(f"{HEADER} must be key.timestamp.signature")
    try:
        public = base64.urlsafe_b64decode(parts[0])
        ts = int(parts[1])
        sig = base64.urlsafe_b64decode(parts[2])
    except ValueError as exc:
        raise DecodeError(f"{HEADER} is not well formed") from exc
    current = int(time.time()) if now is None else now
    if abs(current - ts) > CLOCK_WINDOW_S:
        raise SignatureError("request signature is too old or from the future")
    verify(public, sig, _message(method, path_qs, ts, body))
    return public
