"""Ed25519 node keys, node ids and signatures.

A node id is derived from the public key's hash, as Syncthing derives device ids, so it cannot be claimed by another key.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .atomic_file import write_atomically
from .errors import SignatureError

PUBLIC_KEY_LEN = 32
SIGNATURE_LEN = 64


def node_id(public_key: bytes) -> str:
    """Eight-character groups of base32 over the first 20 bytes of SHA-256(public key)."""
    digest = hashlib.sha256(public_key).digest()[:20]
    text = base64.b32encode(digest).decode("ascii")
    return "-".join(text[i : i + 8] for i in range(0, len(text), 8))


def fingerprint(public_key: bytes) -> str:
    """A short form for people to compare by eye (shown in status and receipts)."""
    return hashlib.sha256(public_key).hexdigest()[:16]


class NodeKey:
    """A node's private signing key."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.node_id = node_id(self.public)

    @classmethod
    def generate(cls) -> NodeKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: Path) -> NodeKey:
        raw = path.read_bytes()
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    @classmethod
    def load_or_create(cls, path: Path) -> NodeKey:
        if path.exists():
            return cls.load(path)
        key = cls.generate()
        key.save(path)
        return key

    def save(self, path: Path) -> None:
        """Write the raw private key with mode 0600, atomically."""
        raw = self._private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        write_atomically(path, raw, 0o600)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)


def verify(public_key: bytes, signature: bytes, message: bytes) -> None:
    """Raise SignatureError unless the signature is the key's over the message."""
    if len(public_key) != PUBLIC_KEY_LEN or len(signature) != SIGNATURE_LEN:
        raise SignatureError("key or signature has the wrong length")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature as exc:
        raise SignatureError("signature does not match") from exc
