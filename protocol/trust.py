"""The hub's trust document: which keys sign for the hub now, which are revoked, until when.

Edges pin the hub's root key from their provisioning bundle and accept a trust document only under that key, and
never one older than the version they already hold (a rolled-back trust document would revive retired keys).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from . import codec
from .envelope import open_sealed, seal
from .errors import Expired, SequenceError, UnknownKey
from .keys import NodeKey

PURPOSE = "trust"
DEFAULT_LIFETIME_S = 365 * 24 * 3600


@dataclass(frozen=True)
class TrustDocument:
    version: int
    hub_name: str
    root_key: bytes
    signing_keys: tuple[bytes, ...]
    revoked_keys: tuple[bytes, ...] = field(default=())
    issued_at: int = 0
    expires_at: int = 0

    def can_sign(self, key: bytes) -> bool:
        return key in self.signing_keys and key not in self.revoked_keys


def make_trust(
    root: NodeKey,
    hub_name: str,
    signing_keys: list[bytes],
    version: int,
    revoked_keys: list[bytes] | None = None,
    lifetime_s: int = DEFAULT_LIFETIME_S,
    now: int | None = None,
) -> bytes:
    issued = int(time.time()) if now is None else now
    return seal(
        root,
        PURPOSE,
        {
            "version": version,
            "hub_name": hub_name,
            "signing_keys": list(signing_keys),
            "revoked_keys": list(revoked_keys or []),
            "issued_at": issued,
            "expires_at": issued + lifetime_s,
        },
    )


def open_trust(data: bytes, pinned_root: bytes, now: int | None = None, min_version: int = 0) -> TrustDocument:
    opened = open_sealed(data, PURPOSE)
    if opened.signer != pinned_root:
        raise UnknownKey("trust document is not signed by the pinned hub root key")
    b = opened.body
    what = "trust document"
    doc = TrustDocument(
        version=codec.field(b, "version", int, what),
        hub_name=codec.field(b, "hub_name", str, what),
        root_key=opened.signer,
        signing_keys=tuple(codec.field(b, "signing_keys", list, what)),
        revoked_keys=tuple(codec.field(b, "revoked_keys", list, what)),
        issued_at=codec.field(b, "issued_at", int, what),
        expires_at=codec.field(b, "expires_at", int, what),
    )
    if not all(isinstance(k, bytes) for k in doc.signing_keys + doc.revoked_keys):
        raise UnknownKey("trust document lists a key that is not bytes")
    current = int(time.time()) if now is None else now
    if doc.expires_at < current:
        raise Expired(f"trust document version {doc.version} expired")
    if doc.version < min_version:
        raise SequenceError(f"trust document version {doc.version} is older than {min_version}", min_version)
    return doc
