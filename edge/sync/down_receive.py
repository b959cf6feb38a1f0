"""Receiving one down batch, from the line or from a stick: verify everything, then apply what is new.

Checks in order: size and compression, trusted signer and signature, chain, freshness (freeze defence), rollback
and fork against what this edge already applied. Any refusal changes nothing and says why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from edge.feeds.down_apply import apply_ahead, apply_down
from edge.feeds.positions import read_position
from edge.sync.health import record_down_tail
from edge.sync.hub_clock import HubClock, RolledBack
from protocol import compression
from protocol.database import Database
from protocol.errors import ChainError
from protocol.feed import BATCH_LIMITS, Batch, feed_name, new_entries, open_batch
from protocol.trust import TrustDocument

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DownResult:
    applied: int
    have: int
    ahead: int  # emergency notices shown ahead of their turn
    tail: int  # the hub's whole down feed when it signed: tail - have is the backlog

    @property
    def caught_up(self) -> bool:
        return self.have >= self.tail


async def receive_down(
    db: Database, clock: HubClock, trust: Callable[[], TrustDocument], village_id: str, data: bytes
) -> DownResult:
    plain = await asyncio.to_thread(compression.decompress, data, BATCH_LIMITS.max_bytes)
    doc = trust()
    at = clock.now_at_least()
    feed = feed_name("down", village_id)
    batch: Batch = await asyncio.to_thread(open_batch, plain, feed, "hub", lambda k: doc.can_sign(k, at))
    clock.check(batch.signed_at, "down batch")
    have_seq, have_hash = await read_position(db, "down")
    await _refuse_rollback_or_fork(db, batch, have_seq, have_hash)
    try:
        entries = new_entries(batch, have_seq, have_hash)
    except ChainError as exc:
        raise ChainError(f"{exc.detail}: batches of two different hubs (or a forked feed) are mixed; refused") from None
    if entries:
        have_seq = await apply_down(db, entries)
        log.info("applied down entries %d..%d", entries[0].seq, entries[-1].seq)
    # Urgent entries were verified with the batch (protocol/feed.py); shown now, applied again in their turn.
    ahead = await apply_ahead(db, list(batch.urgent)) if batch.urgent else 0
    await clock.advance(batch.signed_at)
    await record_down_tail(db, batch.tail_seq, batch.tail_bytes)
    return DownResult(len(entries), have_seq, ahead, max(batch.tail_seq, have_seq))


async def _refuse_rollback_or_fork(db: Database, batch: Batch, have_seq: int, have_hash: bytes) -> None:
    if batch.head_seq < have_seq or batch.tail_seq < have_seq:
        ours = await db.fetchvalue("SELECT hash FROM down_hashes WHERE seq = ?", (batch.head_seq,))
        if ours is not None and ours != batch.head_hash:
            raise ChainError(
                f"down entry {batch.head_seq} from the hub differs from the one this edge applied: batches of "
                "two different hubs (or a forked feed) are mixed; refused"
            )
        raise RolledBack(
            f"the hub serves a down feed of {max(batch.head_seq, batch.tail_seq)} entries but this edge has "
            f"already applied {have_seq}: a rolled-back (restored?) or replayed feed; refused"
        )
    if batch.head_seq == have_seq and batch.head_hash != have_hash:
        raise ChainError(
            f"down entry {have_seq} from the hub differs from the one this edge applied: batches of two "
            "different hubs (or a forked feed) are mixed; refused"
        )
    if batch.entries and batch.first_seq <= have_seq:
        ours = await db.fetchvalue("SELECT hash FROM down_hashes WHERE seq = ?", (have_seq,))
        theirs = next((e.hash for e in batch.entries if e.seq == have_seq), None)
        if ours is not None and theirs is not None and ours != theirs:
            raise ChainError(
                f"down entry {have_seq} from the hub differs from the one this edge applied: batches of two "
                "different hubs (or a forked feed) are mixed; refused"
            )
