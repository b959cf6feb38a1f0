"""Receipts: what a box did with a technician's stick, signed by the box's node key (`VILLAGENET/receipts/*.vnr`).

A receipt names the box (node id, public key, hardware facts), says what was applied or why it was refused, and
carries an enrollment proof so `village-hub enroll import` can enroll a box that never reached the hub.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from protocol import codec
from protocol.codec import Limits
from protocol.envelope import open_sealed, seal
from protocol.errors import DecodeError, UnknownKey
from protocol.keys import NodeKey, node_id

PURPOSE = "receipt"
RECEIPTS_DIR = ("VILLAGENET", "receipts")
RECEIPT_LIMITS = Limits(max_bytes=256 * 1024, max_str=16 * 1024, max_bin=1024, max_array=200, max_map=60)
_PROOF_CONTEXT = b"villagenet-enroll-proof-v1\n"


def receipt_path(node: str) -> tuple[str, ...]:
    return (*RECEIPTS_DIR, f"{node}.vnr")


def enroll_proof(token_hash_hex: str, public_key: bytes) -> bytes:
    """HMAC over the box's key, keyed by the hash of the bundle's enrollment token (which the hub keeps).

    Only someone who held the bundle (or the hub's database) can make it; the token itself never goes on a receipt.
    """
    return hmac.new(token_hash_hex.encode("ascii"), _PROOF_CONTEXT + public_key, hashlib.sha256).digest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Receipt:
    node_id: str
    public_key: bytes
    outcome: str  # "applied", "refused", "partial" or "nothing"
    code: str | None  # the refusal's machine code, None when nothing was refused
    reason: str | None  # the refusal's sentence
    village_id: str | None
    hub_root_fingerprint: str | None
    enroll_proof: bytes | None
    actions: list[dict[str, Any]]
    hardware: dict[str, Any]
    at: int
    body: dict[str, Any]


def make_receipt(key: NodeKey, body: dict[str, Any]) -> bytes:
    """Sign a receipt body (see `Receipt` for the fields); the node id and key are filled in from `key`."""
    return seal(key, PURPOSE, {**body, "v": 1, "node_id": key.node_id, "public_key": key.public})


def open_receipt(data: bytes) -> Receipt:
    """Verify a receipt's signature and that it names the key that signed it."""
    opened = open_sealed(data, PURPOSE, RECEIPT_LIMITS)
    b = opened.body
    what = "receipt"
    public_key = codec.field(b, "public_key", bytes, what)
    if public_key != opened.signer or codec.field(b, "node_id", str, what) != node_id(public_key):
        raise UnknownKey("the receipt names another box than the one that signed it")
    proof = b.get("enroll_proof")
    if proof is not None and not isinstance(proof, bytes):
        raise DecodeError("receipt.enroll_proof must be bytes")
    village = b.get("village_id")
    fp = b.get("hub_root_fingerprint")
    code, reason = b.get("code"), b.get("reason")
    for name, value in (("village_id", village), ("hub_root_fingerprint", fp), ("code", code), ("reason", reason)):
        if value is not None and not isinstance(value, str):
            raise DecodeError(f"receipt.{name} must be a string")
    return Receipt(
        node_id=b["node_id"],
        public_key=public_key,
        outcome=codec.field(b, "outcome", str, what),
        code=code,
        reason=reason,
        village_id=village,
        hub_root_fingerprint=fp,
        enroll_proof=proof,
        actions=codec.field(b, "actions", list, what),
        hardware=codec.field(b, "hardware", dict, what),
        at=codec.field(b, "at", int, what),
        body=b,
    )
