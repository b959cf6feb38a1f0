"""Each village's down feed: appending hub-owned ops, signed batches bounded in bytes, and long-poll waiting.

Appends happen inside the caller's write transaction (a publish reaches every village in scope or none), and wake
the village's long polls only after the commit, so an edge is never shown an entry that could still roll back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from protocol import codec
from protocol.feed import MAX_URGENT, Entry, chain, feed_name, make_batch
from protocol.keys import NodeKey
from protocol.records import is_emergency_notice

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

    def use_signing_key(self, key: NodeKey) -> None:
        """Sign later batches with `key` (after a rotation; batches already sent stay valid under the old one)."""
        self._signing = key

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
        `compact` makes a version 2 batch, which also signs the feed's whole length (the edge's backlog) and, when
        it stops short of the end, carries the emergency notices further down as urgent entries (protocol/feed.py).
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
        behind = compact and tail.seq > head.seq
        tail_bytes = await self._store.down_bytes_after(village_id, head.seq) if behind else 0
        urgent = await self._urgent_after(village_id, head.seq) if behind else []
        return make_batch(self._signing, feed, entries, head.seq, head.hash, compact=compact, tail_seq=tail.seq,
                          tail_bytes=tail_bytes, urgent=urgent)

    async def _urgent_after(self, village_id: str, after: int) -> list[Entry]:
        """Emergency notices further down the feed than this batch reaches, to send ahead; a bounded look."""
        found: list[Entry] = []
        cursor = after
        for _ in range(URGENT_SCAN // _PAGE):
            rows = await self._store.down_entries_after(village_id, cursor, _PAGE)
            for seq, prev, raw_op, entry_hash in rows:
                if b"emergency" in raw_op:  # cheap filter before decoding
                    op = codec.decode(raw_op)
                    if is_emergency_notice(op):
                        found.append(Entry(seq, prev, op, entry_hash))
            if len(rows) < _PAGE or len(found) >= MAX_URGENT:
                break
            cursor = rows[-1][0]
        return found[-MAX_URGENT:]
