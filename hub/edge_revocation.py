"""Revoking a village edge's key: its later requests and batches are refused, and the village re-enrolls a new box.

A revoked key can never enroll again, even with a fresh token: a stolen box stays shut out.
"""

from __future__ import annotations

import base64
import binascii
import logging

from .errors import HubError, NotFound
from .store import HubStore

log = logging.getLogger(__name__)


class KeyRevoked(HubError):
    status = 403
    code = "revoked_key"


async def revoke_edge(store: HubStore, village_id: str, reason: str = "revoked by the operator") -> bytes:
    """Revoke the key enrolled for `village_id`; returns it. The village needs a new bundle afterwards."""
    async with store.transaction() as tx:
        village = await tx.get_village(village_id)
        if village is None:
            raise NotFound(f"no village {village_id} is registered at this hub", "unknown_village")
        if village.edge_key is None:
            raise NotFound(f"village {village_id} has no enrolled box to revoke", "not_enrolled")
        await tx.revoke_edge_key(village.edge_key, village_id, reason)
        key = village.edge_key
    log.warning("revoked the edge key of village %s (%s)", village_id, reason)
    return key


def claimed_key(header: str | None) -> bytes | None:
    """The public key a signed request claims (not yet verified), to refuse a revoked one with a clear reason."""
    if not header:
        return None
    try:
        return base64.urlsafe_b64decode(header.split(".", 1)[0])
    except (binascii.Error, ValueError):
        return None


async def refuse_if_revoked(store: HubStore, village_id: str, key: bytes | None) -> None:
    if key is not None and await store.is_edge_key_revoked(key):
        log.warning("refused a request for village %s: the edge key was revoked", village_id)
        raise KeyRevoked(
            f"this box's key was revoked for village {village_id}; bring it a new provisioning bundle to re-enroll",
            "revoked_key",
        )

