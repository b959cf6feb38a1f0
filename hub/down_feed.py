"""Each village's down feed: appending hub-owned ops, signed batches bounded in bytes, and long-poll waiting.

Appends happen inside the caller's write transaction (a publish reaches every village in scope or none), and wake
the village's long polls only after the commit, so an edge is never shown an entry that could still roll back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from protocol import codec
from protocol.feed import Entry, chain, feed_name, make_batch
from protocol.keys import NodeKey
from protocol.urgent import MAX_URGENT, is_urgent, make_urgent

from .models import Head
from .store import HubStore
from .store_tx import Tx

# Bytes of a batch besides its entries (feed name, head, signer, signature, field names), rounded up.
BATCH_OVERHEAD = 320
# An entry costs its op plus msgpack framing: array header, seq (up to 9 bytes) and prev (34 bytes).
ENTRY_FRAMING = 44
_PAGE = 500
# Well under the receiver's array limit (protocol.feed.BATCH_LIMITS), whatever max_bytes allows.
MAX_ENTRIES = 10_000
# How far past a batch the hub looks for emergency notices to send ahead of their turn.
URGENT_SCAN = 20_000


class DownFeed:
    def __init__(self, store: HubStore, signing: NodeKey | None = None, recheck_s: float = 5.0) -> None:
        self._store = store
        self._signing = signing
        # Appends by another process (`village-hub village add`) cannot wake us, so waits re-read the head now
        # and then as well.
        self._recheck_s = recheck_s
        self._events: dict[str, asyncio.Event] = {}

    async def append(self, tx: Tx, ops_by_village: dict[str, list[dict[str, Any]]]) -> dict[str, Head]:
        """Chain the ops onto each village's feed inside `tx`; returns each touched village's new head."""
        heads: dict[str, Head] = {}
        for village_id, ops in ops_by_village.items():
            if not ops:
                continue
            head = await tx.down_head(village_id)
            entries = chain(feed_name("down", village_id), head.seq, head.hash, ops)
            await tx.insert_down_entries(village_id, entries)
            heads[village_id] = Head(entries[-1].seq, entries[-1].hash)
        touched = list(heads)
        tx.after_commit(lambda: self.notify(touched))
        return heads

    def notify(self, village_ids: Iterable[str]) -> None:
        for village_id in village_ids:
            event = self._events.pop(village_id, None)
            if event is not None:
                event.set()

    async def wait_for_new(self, village_id: str, after: int, wait_s: float) -> None:
        """Return once the feed holds anything after `after`, or when `wait_s` has passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            # Take the event before reading the head: an append committed after the read still wakes us.
            event = self._events.setdefault(village_id, asyncio.Event())
            head = await self._store.down_head(village_id)
            if head.seq != after:  # something new, or the edge claims more than we hold: no use waiting
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(event.wait(), timeout=min(remaining, self._recheck_s))
            except TimeoutError:
                pass

    async def batch(self, village_id: str, after: int, max_bytes: int, compact: bool = False) -> bytes:
        """A signed batch of the entries after `after`: at most `max_bytes`, but at least one entry if any.

        With nothing after `after` it is an empty batch that still proves the feed's head and the hub's clock.
        `compact` makes a version 2 batch, which also signs the feed's whole length (the edge's backlog).
        """
        assert self._signing is not None, "a DownFeed without a signing key cannot make batches"
        feed = feed_name("down", village_id)
        budget = max_bytes - BATCH_OVERHEAD
        entries: list[Entry] = []
        size = 0
        cursor = after
        full = False
        while not full:
            rows = await self._store.down_entries_after(village_id, cursor, _PAGE)
            for seq, prev, raw_op, entry_hash in rows:
                cost = len(raw_op) + ENTRY_FRAMING
                if entries and (size + cost > budget or len(entries) >= MAX_ENTRIES):
                    full = True
                    break
                entries.append(Entry(seq, prev, codec.decode(raw_op), entry_hash))
                size += cost
            if len(rows) < _PAGE:
                break
            cursor = rows[-1][0]
        tail = await self._store.down_head(village_id)
        head = tail if not entries else Head(entries[-1].seq, entries[-1].hash)
        signed_at = int(time.time())
        tail_bytes = await self._bytes_after(village_id, head.seq) if compact and tail.seq > head.seq else 0
        data = make_batch(self._signing, feed, entries, head.seq, head.hash, now=signed_at, compact=compact,
                          tail_seq=tail.seq, tail_bytes=tail_bytes)
        if compact and tail.seq > head.seq:
            urgent = await self._urgent_after(village_id, head.seq)
            if urgent:
                m = codec.decode(data)
                m["urgent"] = make_urgent(self._signing, feed, urgent, signed_at)
                data = codec.encode(m)
        return data

    async def _bytes_after(self, village_id: str, after: int) -> int:
        """Bytes of ops still to come after `after` (the edge's down backlog in its status)."""
        # HubStore offers no such sum; one read on its reader connection.
        value = await self._store._db.fetchvalue(
            "SELECT COALESCE(SUM(length(op)), 0) FROM down_entries WHERE village_id = ? AND seq > ?",
            (village_id, after), default=0)
        return int(value)

    async def _urgent_after(self, village_id: str, after: int) -> list[Entry]:
        """Emergency notices further down the feed than this batch reaches (protocol/urgent.py), a bounded look."""
        found: list[Entry] = []
        cursor = after
        for _ in range(URGENT_SCAN // _PAGE):
            rows = await self._store.down_entries_after(village_id, cursor, _PAGE)
            for seq, prev, raw_op, entry_hash in rows:
                if b"emergency" in raw_op:  # cheap filter before decoding
                    op = codec.decode(raw_op)
                    if is_urgent(op):
                        found.append(Entry(seq, prev, op, entry_hash))
            if len(rows) < _PAGE or len(found) >= MAX_URGENT:
                break
            cursor = rows[-1][0]
        return found[-MAX_URGENT:]
