"""The hub's X25519 key for diagnostics: boxes encrypt their diagnostics archives to it, only the hub reads them.

Its public half travels in every provisioning bundle (signed by the root key with everything else).
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from protocol.atomic_file import write_atomically

DIAG_KEY = "diag.key"


def load_or_create_diag_key(data_dir: Path) -> X25519PrivateKey:
    path = data_dir / DIAG_KEY
    if path.exists():
        return X25519PrivateKey.from_private_bytes(path.read_bytes())
    key = X25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    write_atomically(path, raw, 0o600)
    return key


def diag_public_key(data_dir: Path) -> bytes:
    return load_or_create_diag_key(data_dir).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
