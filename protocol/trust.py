"""The hub's trust document: which keys sign for the hub now, which are revoked, until when.

Edges pin the hub's root key from their provisioning bundle and accept a trust document only under that key, and
never one older than the version they already hold (a rolled-back trust document would revive retired keys).
Rotating a signing key is two versions: first old and new listed together, then the old one moved to `retired`
with an expiry, after which its signatures are refused (TUF's way of rotating without downtime).
Release keys are a role of their own (`release_keys`, `retired_release_keys`): they sign software
(protocol/releases.py) and nothing else, and a feed signing key never signs a release, so a stolen feed key cannot
push software.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from . import codec
from .envelope import open_sealed, seal
from .errors import DecodeError, Expired, SequenceError, UnknownKey
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
    retired_keys: tuple[tuple[bytes, int], ...] = field(default=())  # (key, accepted until) after a rotation
    release_keys: tuple[bytes, ...] = field(default=())  # the release role: keys that sign software
    retired_release_keys: tuple[tuple[bytes, int], ...] = field(default=())

    def can_sign(self, key: bytes, at: int | None = None) -> bool:
        """Whether `key` signs for the hub at time `at` (now by default): listed, or retired but not yet expired."""
        if key in self.revoked_keys:
            return False
        if key in self.signing_keys:
            return True
        when = int(time.time()) if at is None else at
        return any(key == k and when < until for k, until in self.retired_keys)

    def can_sign_releases(self, key: bytes, at: int | None = None) -> bool:
        """Whether `key` holds the release role at time `at`: listed, or retired but not yet expired."""
        if key in self.revoked_keys:
            return False
        if key in self.release_keys:
            return True
        when = int(time.time()) if at is None else at
        return any(key == k and when < until for k, until in self.retired_release_keys)


def make_trust(
    root: NodeKey,
    hub_name: str,
    signing_keys: list[bytes],
    version: int,
    revoked_keys: list[bytes] | None = None,
    lifetime_s: int = DEFAULT_LIFETIME_S,
    now: int | None = None,
    retired_keys: list[tuple[bytes, int]] | None = None,
    release_keys: list[bytes] | None = None,
    retired_release_keys: list[tuple[bytes, int]] | None = None,
) -> bytes:
    issued = int(time.time()) if now is None else now
    body: dict[str, object] = {
        "version": version,
        "hub_name": hub_name,
        "signing_keys": list(signing_keys),
        "revoked_keys": list(revoked_keys or []),
        "issued_at": issued,
        "expires_at": issued + lifetime_s,
    }
    if retired_keys:
        body["retired_keys"] = [[k, until] for k, until in retired_keys]
    # Absent rather than empty: a hub without a release key issues the same bytes as before the role existed.
    if release_keys:
        body["release_keys"] = list(release_keys)
    if retired_release_keys:
        body["retired_release_keys"] = [[k, until] for k, until in retired_release_keys]
    return seal(root, PURPOSE, body)


def _keys(raw: object) -> tuple[bytes, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > 64 or not all(isinstance(k, bytes) for k in raw):
        raise DecodeError("trust document release_keys must be a short list of keys")
    return tuple(raw)


def _retired(raw: object) -> tuple[tuple[bytes, int], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > 64:
        raise DecodeError("trust document retired_keys must be a short list")
    out: list[tuple[bytes, int]] = []
    for item in raw:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], bytes)
                and isinstance(item[1], int) and not isinstance(item[1], bool)):
            raise DecodeError("each retired key must be [key, until]")
        out.append((item[0], item[1]))
    return tuple(out)


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
        retired_keys=_retired(b.get("retired_keys")),
        release_keys=_keys(b.get("release_keys")),
        retired_release_keys=_retired(b.get("retired_release_keys")),
    )
    if not all(isinstance(k, bytes) for k in doc.signing_keys + doc.revoked_keys):
        raise UnknownKey("trust document lists a key that is not bytes")
    current = int(time.time()) if now is None else now
    if doc.expires_at < current:
        raise Expired(f"trust document version {doc.version} expired")
    if doc.version < min_version:
        raise SequenceError(f"trust document version {doc.version} is older than {min_version}", min_version)
    return doc
