"""Signed envelopes: one msgpack map holding a body, the signer's public key and a signature.

Used for the trust document, provisioning bundles and the edge's status; each use has its own purpose string,
which is part of what is signed, so a signature made for one purpose cannot be replayed as another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import codec
from .codec import DEFAULT_LIMITS, Limits
from .errors import DecodeError
from .keys import NodeKey, verify


@dataclass(frozen=True)
class Opened:
    signer: bytes
    body: dict[str, Any]


def _message(purpose: str, body: bytes) -> bytes:
    return b"villagenet/" + purpose.encode("ascii") + b"\n" + body


def seal(key: NodeKey, purpose: str, body: dict[str, Any]) -> bytes:
    raw = codec.encode(body)
    return codec.encode({"p": purpose, "b": raw, "k": key.public, "s": key.sign(_message(purpose, raw))})


def open_sealed(data: bytes, purpose: str, limits: Limits = DEFAULT_LIMITS) -> Opened:
    """Check form and signature; the caller decides whether the signer is one it trusts."""
    outer = codec.require_map(codec.decode(data, limits), "envelope")
    got = codec.field(outer, "p", str, "envelope")
    if got != purpose:
        raise DecodeError(f"expected a {purpose!r} envelope, got {got!r}")
    raw = codec.field(outer, "b", bytes, "envelope")
    signer = codec.field(outer, "k", bytes, "envelope")
    verify(signer, codec.field(outer, "s", bytes, "envelope"), _message(purpose, raw))
    body = codec.require_map(codec.decode(raw, limits), f"{purpose} body")
    return Opened(signer=signer, body=body)
