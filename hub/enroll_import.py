"""`village-hub enroll import`: enroll boxes that were provisioned offline, from the receipts on a stick.

A receipt is signed by the box's key and carries a proof made with the bundle's enrollment token (an HMAC keyed
by the token's hash, which is what the hub keeps), so only a box that really held the village's bundle enrolls.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from protocol.errors import ProtocolError
from protocol.keys import fingerprint
from provisioning.receipts import RECEIPT_LIMITS, RECEIPTS_DIR, Receipt, enroll_proof, open_receipt
from provisioning.stick import StickError, StickFS, read_capped

from . import enroll_bundles
from .errors import HubError
from .keys_store import HubKeys
from .store import HubStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportResult:
    file: str
    node_id: str | None
    village_id: str | None
    enrolled: bool
    detail: str


async def enroll_from_receipt(store: HubStore, keys: HubKeys, receipt: Receipt) -> tuple[bool, str]:
    if receipt.village_id is None or receipt.enroll_proof is None:
        return False, "the receipt is from a box that is not provisioned; nothing to enroll"
    if receipt.hub_root_fingerprint != fingerprint(keys.root.public):
        return False, "the box was provisioned by another hub (root key fingerprint differs)"
    if await store.is_edge_key_revoked(receipt.public_key):
        return False, "the receipt is from a box whose key was revoked; it needs a new bundle and a new key"
    proof = receipt.enroll_proof
    try:
        async with store.transaction() as tx:
            village = await tx.get_village(receipt.village_id)
            already = village is not None and village.edge_key == receipt.public_key
            await enroll_bundles.redeem(
                tx, receipt.village_id, receipt.public_key,
                lambda b: hmac.compare_digest(enroll_proof(b.token_hash, receipt.public_key), proof),
            )
    except HubError as exc:
        if exc.code == "bad_token":
            return False, "the receipt's proof matches none of this village's bundles; make a new bundle"
        return False, exc.detail
    if already:
        return True, "already enrolled"
    log.info("village %s enrolled node %s from a stick receipt", receipt.village_id, receipt.node_id)
    return True, "enrolled"


async def import_receipts(store: HubStore, keys: HubKeys, stick: StickFS) -> list[ImportResult]:
    results = []
    for entry in sorted(stick.scandir(RECEIPTS_DIR), key=lambda e: e.name):
        if entry.is_dir or entry.is_symlink or not entry.name.lower().endswith(".vnr"):
            continue
        path = (*RECEIPTS_DIR, entry.name)
        try:
            receipt = open_receipt(read_capped(stick, path, entry.size, RECEIPT_LIMITS.max_bytes, entry.name))
        except (ProtocolError, StickError) as exc:
            results.append(ImportResult(entry.name, None, None, False, f"not a valid receipt: {exc.detail}"))
            continue
        ok, detail = await enroll_from_receipt(store, keys, receipt)
        results.append(ImportResult(entry.name, receipt.node_id, receipt.village_id, ok, detail))
    return results
