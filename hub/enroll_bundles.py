"""Enrollment tokens, one per provisioning bundle: issued by `village-provision make`, listed, revoked, and redeemed
by a box (online with `POST /api/v1/enroll`, or offline from a stick receipt).

Each bundle has its own token, so making a second bundle for a village leaves the first one working (the field trap
of issue 14: the technician has left when the box finds its token replaced). A token is good until it expires, is
revoked, or the village's box enrolls with any of the village's bundles: then the others stop working.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from provisioning.receipts import token_hash  # the hash that also keys a stick receipt's proof

from .errors import BadInput, Conflict, Forbidden, HubError, NotFound
from .models import Village
from .store import HubStore
from .store_bundles import EnrollBundle
from .store_tx import Tx
from .validate import require_village_id, rfc3339

log = logging.getLogger(__name__)

MAX_MADE_BY = 100


@dataclass(frozen=True)
class IssuedBundle:
    bundle_id: str
    token: str
    village: Village
    expires_at: float


async def issue(store: HubStore, village_id: str, lifetime_s: int, made_by: str | None = None) -> IssuedBundle:
    """A fresh token for one more bundle of the village; the village's other bundles keep theirs."""
    require_village_id(village_id)
    if lifetime_s <= 0:
        raise BadInput("token lifetime must be positive", "bad_lifetime")
    token = secrets.token_urlsafe(24)
    bundle_id = f"{village_id}-{secrets.token_hex(4)}"
    by = (made_by or "").strip()[:MAX_MADE_BY] or None
    async with store.transaction() as tx:
        village = await tx.get_village(village_id)
        if village is None:
            raise NotFound(f"no village {village_id}; add it with `village-hub village add` first", "unknown_village")
        expires_at = tx.now + lifetime_s
        await tx.insert_bundle(bundle_id, village_id, token_hash(token), by, expires_at)
    log.info("bundle %s issued for village %s (by %s)", bundle_id, village_id, by or "unknown")
    return IssuedBundle(bundle_id, token, village, expires_at)


async def redeem(tx: Tx, village_id: str, key: bytes, matches: Callable[[EnrollBundle], bool]) -> Village:
    """Enroll `key` for the village with the bundle `matches` picks out, inside the caller's transaction.

    The same key again with its own bundle is the same answer. Refusals raise a HubError with a sentence for the
    technician and change nothing.
    """
    village = await tx.get_village(village_id)
    bundle = next((b for b in await tx.village_bundles(village_id) if matches(b)), None) if village else None
    # One refusal for an unknown village and a wrong token, so tokens cannot be probed village by village.
    if village is None or bundle is None:
        raise Forbidden("the enrollment token is not valid for this village; make a new bundle", "bad_token")
    if bundle.used_by is not None:
        if hmac.compare_digest(bundle.used_by, key) and village.edge_key == key:
            return village
        raise Conflict(f"bundle {bundle.id} was already used by another box (or this box was replaced since); "
                       "make a new bundle", "token_used")
    if bundle.revoked_at is not None:
        when = rfc3339(bundle.revoked_at)
        if bundle.revoked_why == "superseded":
            raise Forbidden(f"bundle {bundle.id} stopped working at {when}: the village's box enrolled with another "
                            "of its bundles; make a new bundle if this box is to replace it", "bundle_superseded")
        raise Forbidden(f"bundle {bundle.id} was revoked at the hub at {when}; make a new bundle", "bundle_revoked")
    if bundle.expires_at < tx.now:
        raise Forbidden(f"bundle {bundle.id} expired at {rfc3339(bundle.expires_at)}; make a new bundle",
                        "token_expired")
    retired = await tx.use_bundle(bundle.id, village_id, key)
    await tx.set_enrolled(village_id, key)
    enrolled = await tx.get_village(village_id)
    assert enrolled is not None
    log.info("village %s enrolled node %s with bundle %s (%d other open bundle(s) retired)", village_id,
             enrolled.node_id, bundle.id, retired)
    return enrolled


async def enroll_with_token(store: HubStore, village_id: str, token: str, key: bytes) -> Village:
    wanted = token_hash(token)
    try:
        async with store.transaction() as tx:
            return await redeem(tx, village_id, key, lambda b: hmac.compare_digest(b.token_hash, wanted))
    except HubError as exc:
        log.warning("enrollment refused for village %s: %s", village_id, exc)
        raise


async def revoke(store: HubStore, bundle_id: str) -> EnrollBundle:
    """Stop a bundle's token from working. A used bundle cannot be revoked (revoke the box's key instead)."""
    async with store.transaction() as tx:
        bundle = await tx.bundle_by_id(bundle_id)
        if bundle is None:
            raise NotFound(f"no bundle {bundle_id!r}; `village-provision list` shows the bundles", "unknown_bundle")
        if bundle.used_by is not None:
            raise Conflict(f"bundle {bundle_id} already enrolled the village's box; revoking its token changes "
                           "nothing (revoke the box's key instead)", "bundle_used")
        if bundle.revoked_at is None:
            await tx.revoke_bundle(bundle_id)
        revoked = await tx.bundle_by_id(bundle_id)
    assert revoked is not None
    log.info("bundle %s of village %s revoked", bundle_id, bundle.village_id)
    return revoked
