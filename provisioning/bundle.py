"""The provisioning bundle: what a box needs to become a village's edge, signed by the hub's root key.

`make_bundle` runs at the hub (technician CLI); `open_bundle` runs on the box, for the CLI and the USB watcher.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from cryptography import x509

from protocol import codec
from protocol.codec import Limits
from protocol.envelope import open_sealed, seal
from protocol.errors import DecodeError, Expired, UnknownKey, WrongVillage
from protocol.keys import NodeKey
from protocol.trust import TrustDocument, open_trust

PURPOSE = "bundle"
BUNDLE_LIMITS = Limits(max_bytes=256 * 1024, max_bin=64 * 1024, max_str=4096, max_array=100, max_map=50)
DEFAULT_LIFETIME_S = 30 * 24 * 3600
STICK_PATH = ("VILLAGENET", "provision.vnb")


@dataclass(frozen=True)
class Bundle:
    village_id: str
    village_name: str
    town: str
    hub_url: str
    root_key: bytes
    trust: TrustDocument
    trust_raw: bytes
    enroll_token: str
    issued_at: int
    expires_at: int
    move: bool
    diag_key: bytes | None = None  # the hub's X25519 key that diagnostics archives are encrypted to
    bundle_id: str | None = None  # the hub's name for this bundle (`village-provision list`); older bundles lack it
    hub_ca: bytes | None = None  # PEM of the hub's city root CA: for an https hub URL, the only CA the box trusts


def make_bundle(
    root: NodeKey,
    trust_raw: bytes,
    village_id: str,
    village_name: str,
    town: str,
    hub_url: str,
    enroll_token: str,
    lifetime_s: int = DEFAULT_LIFETIME_S,
    move: bool = False,
    now: int | None = None,
    diag_key: bytes | None = None,
    bundle_id: str | None = None,
    hub_ca: bytes | None = None,
) -> bytes:
    issued = int(time.time()) if now is None else now
    extra: dict[str, object] = {"diag_key": diag_key} if diag_key is not None else {}
    if bundle_id is not None:
        extra["bundle_id"] = bundle_id
    if hub_ca is not None:
        extra["hub_ca"] = hub_ca
    return seal(
        root,
        PURPOSE,
        {
            **extra,
            "v": 1,
            "village_id": village_id,
            "village_name": village_name,
            "town": town,
            "hub_url": hub_url,
            "trust": trust_raw,
            "enroll_token": enroll_token,
            "issued_at": issued,
            "expires_at": issued + lifetime_s,
            "move": move,
        },
    )


def _hub_ca(pem: bytes) -> bytes:
    try:
        cert = x509.load_pem_x509_certificate(pem)
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except (ValueError, x509.ExtensionNotFound):
        raise DecodeError("the bundle's hub_ca is not a CA certificate in PEM") from None
    if not is_ca:
        raise DecodeError("the bundle's hub_ca is not a CA certificate in PEM")
    return pem


def open_bundle(
    data: bytes,
    pinned_root: bytes | None = None,
    current_village: str | None = None,
    now: int | None = None,
) -> Bundle:
    """Verify a bundle. A fresh box (no pinned root) trusts the first valid one; a provisioned box only its hub's,
    and a bundle for another village only when it carries the move flag."""
    opened = open_sealed(data, PURPOSE, BUNDLE_LIMITS)
    if pinned_root is not None and opened.signer != pinned_root:
        raise UnknownKey("bundle is signed by another hub than the one this box trusts")
    b = opened.body
    what = "bundle"
    trust_raw = codec.field(b, "trust", bytes, what)
    current = int(time.time()) if now is None else now
    bundle = Bundle(
        village_id=codec.field(b, "village_id", str, what),
        village_name=codec.field(b, "village_name", str, what),
        town=codec.field(b, "town", str, what),
        hub_url=codec.field(b, "hub_url", str, what),
        root_key=opened.signer,
        trust=open_trust(trust_raw, opened.signer, now=current),
        trust_raw=trust_raw,
        enroll_token=codec.field(b, "enroll_token", str, what),
        issued_at=codec.field(b, "issued_at", int, what),
        expires_at=codec.field(b, "expires_at", int, what),
        move=codec.field(b, "move", bool, what),
        diag_key=codec.field(b, "diag_key", bytes, what) if "diag_key" in b else None,
        bundle_id=codec.field(b, "bundle_id", str, what) if "bundle_id" in b else None,
        hub_ca=_hub_ca(codec.field(b, "hub_ca", bytes, what)) if "hub_ca" in b else None,
    )
    if bundle.expires_at < current:
        raise Expired("bundle has expired; ask the city for a new one")
    if current_village is not None and bundle.village_id != current_village and not bundle.move:
        raise WrongVillage(
            f"bundle is for village {bundle.village_id}, this box serves {current_village} (no move flag)"
        )
    return bundle
