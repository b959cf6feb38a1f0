"""Diagnostics archives: a box's logs, status and config (no secrets), encrypted to the hub's X25519 key.

Sealed box construction: an ephemeral X25519 key agreed with the hub's, HKDF-SHA256 to an AES-256-GCM key; the
whole is then signed by the box's node key, so the hub knows which box wrote it and nobody else can read it.
"""

from __future__ import annotations

import io
import os
import tarfile
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from protocol import codec
from protocol.codec import Limits
from protocol.envelope import open_sealed, seal
from protocol.errors import DecodeError, SignatureError, TooLarge
from protocol.keys import NodeKey, fingerprint, node_id

PURPOSE = "diag"
REQUEST_PATH = ("VILLAGENET", "diag", "REQUEST")
MAX_ARCHIVE = 8 * 1024 * 1024
DIAG_LIMITS = Limits(max_bytes=MAX_ARCHIVE + 64 * 1024, max_bin=MAX_ARCHIVE + 1024, max_map=20)
MAX_MEMBERS = 200
_INFO = b"villagenet-diag-v1"


def archive_path(node: str, at: int) -> tuple[str, ...]:
    return ("VILLAGENET", "diag", f"{node}-{at}.vnd")


def _aead_key(shared: bytes, epk: bytes, hub_pub: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + hub_pub, info=_INFO).derive(shared)


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.time())
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def seal_diagnostics(key: NodeKey, hub_diag_key: bytes, village_id: str | None, files: dict[str, bytes]) -> bytes:
    """Tar and gzip `files`, encrypt them to the hub's diagnostics key and sign the result with the node key."""
    archive = _tar(files)
    if len(archive) > MAX_ARCHIVE:
        raise TooLarge(f"diagnostics archive of {len(archive)} bytes is over {MAX_ARCHIVE}")
    ephemeral = X25519PrivateKey.generate()
    epk = ephemeral.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(hub_diag_key))
    nonce = os.urandom(12)
    ciphertext = AESGCM(_aead_key(shared, epk, hub_diag_key)).encrypt(nonce, archive, _INFO + epk)
    body = {"v": 1, "node_id": key.node_id, "village_id": village_id or "", "made_at": int(time.time()),
            "to": fingerprint(hub_diag_key), "epk": epk, "nonce": nonce, "ct": ciphertext}
    return seal(key, PURPOSE, body)


@dataclass(frozen=True)
class Diagnostics:
    node_id: str
    village_id: str
    made_at: int
    files: dict[str, bytes]


def open_diagnostics(data: bytes, hub_diag_private: X25519PrivateKey) -> Diagnostics:
    """Verify the box's signature, decrypt with the hub's key and unpack (bounded in members and bytes)."""
    opened = open_sealed(data, PURPOSE, DIAG_LIMITS)
    b = opened.body
    what = "diagnostics"
    if codec.field(b, "node_id", str, what) != node_id(opened.signer):
        raise SignatureError("the archive names another box than the one that signed it")
    epk = codec.field(b, "epk", bytes, what)
    hub_pub = hub_diag_private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        shared = hub_diag_private.exchange(X25519PublicKey.from_public_bytes(epk))
        archive = AESGCM(_aead_key(shared, epk, hub_pub)).decrypt(
            codec.field(b, "nonce", bytes, what), codec.field(b, "ct", bytes, what), _INFO + epk
        )
    except (InvalidTag, ValueError) as exc:
        raise DecodeError("the archive was not encrypted to this hub's diagnostics key, or was altered") from exc
    files: dict[str, bytes] = {}
    total = 0
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar:
            if len(files) >= MAX_MEMBERS or not member.isfile():
                continue
            total += member.size
            if total > 4 * MAX_ARCHIVE:
                raise TooLarge("diagnostics archive unpacks to too many bytes")
            extracted = tar.extractfile(member)
            if extracted is not None:
                files[os.path.basename(member.name)] = extracted.read()
    return Diagnostics(b["node_id"], codec.field(b, "village_id", str, what), codec.field(b, "made_at", int, what),
                       files)
