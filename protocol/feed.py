"""Hash-chained feed entries and signed batches of them.

A village has two feeds: `down/<village>` written by the hub and `up/<village>` written by the edge. A batch is
signed once, over its head (last seq and hash) and the signer's clock, so verifying the head covers every entry.
Version 2 ("compact") sends only the ops after the first entry's (seq, prev): the receiver recomputes the chain,
so 37 incompressible bytes per entry stay off the line; it also signs the sender's whole feed length (`tail_seq`)
so the receiver knows its backlog.

A batch that stops short of the feed's end may also carry `urgent` entries: emergency notices further down the
feed, sent ahead of their turn so a village far behind shows them at once. Their hashes are part of what the batch
signature covers, and `open_batch` checks them with the rest.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import codec
from .codec import Limits
from .errors import ChainError, DecodeError, SequenceError, UnknownKey, WrongVillage
from .keys import NodeKey, verify
from .records import Side, is_emergency_notice, validate_op

GENESIS = b"\x00" * 32
BATCH_LIMITS = Limits(max_bytes=8 * 1024 * 1024, max_bin=1024 * 1024, max_array=20_000)
_SIGNED = "villagenet-batch-v1"
_SIGNED_V2 = "villagenet-batch-v2"
# Urgent entries one batch may carry: enough for a flood of warnings, small beside the batch cap.
MAX_URGENT = 20


def feed_name(direction: str, village_id: str) -> str:
    if direction not in ("up", "down"):
        raise ValueError(direction)
    return f"{direction}/{village_id}"


def entry_hash(feed: str, seq: int, prev: bytes, op: dict[str, Any]) -> bytes:
    return hashlib.sha256(codec.encode([feed, seq, prev, op])).digest()


@dataclass(frozen=True)
class Entry:
    seq: int
    prev: bytes
    op: dict[str, Any]
    hash: bytes


def chain(feed: str, after_seq: int, after_hash: bytes, ops: list[dict[str, Any]]) -> list[Entry]:
    """Entries continuing a feed from (after_seq, after_hash)."""
    out: list[Entry] = []
    seq, prev = after_seq, after_hash
    for op in ops:
        seq += 1
        h = entry_hash(feed, seq, prev, op)
        out.append(Entry(seq, prev, op, h))
        prev = h
    return out


@dataclass(frozen=True)
class Batch:
    feed: str
    entries: list[Entry]
    head_seq: int
    head_hash: bytes
    signed_at: int
    signer: bytes
    tail_seq: int = 0  # how long the sender's feed was when it signed (v2); the head for v1
    tail_bytes: int = 0  # bytes of ops after this batch in the sender's feed when it signed (v2; the backlog)
    urgent: tuple[Entry, ...] = ()  # emergency notices past the head, sent ahead of their turn (already verified)

    @property
    def first_seq(self) -> int:
        return self.entries[0].seq if self.entries else self.head_seq + 1


def _signed_message(feed: str, head_seq: int, head_hash: bytes, signed_at: int) -> bytes:
    return codec.encode([_SIGNED, feed, head_seq, head_hash, signed_at])


def _signed_message_v2(feed: str, head_seq: int, head_hash: bytes, signed_at: int, tail_seq: int,
                       tail_bytes: int, urgent: list[bytes] | None) -> bytes:
    # The urgent entries' hashes are signed only when the batch carries them, so a batch without them signs the
    # same message as before they existed; adding, dropping or changing any of them breaks the signature.
    signed = [_SIGNED_V2, feed, head_seq, head_hash, signed_at, tail_seq, tail_bytes]
    return codec.encode(signed if urgent is None else [*signed, urgent])


def make_batch(
    key: NodeKey,
    feed: str,
    entries: list[Entry],
    head_seq: int,
    head_hash: bytes,
    now: int | None = None,
    compact: bool = False,
    tail_seq: int | None = None,
    tail_bytes: int = 0,
    urgent: Sequence[Entry] = (),
) -> bytes:
    """Sign a batch. With no entries it still proves the feed's head and the signer's clock.

    `compact` writes version 2 (ops only, plus the signed `tail_seq`, default the head); otherwise version 1.
    `urgent` (version 2 only) are emergency notice entries after the head, at most MAX_URGENT, signed with it.
    """
    if entries:
        head_seq, head_hash = entries[-1].seq, entries[-1].hash
    signed_at = int(time.time()) if now is None else now
    if urgent and not compact:
        raise ValueError("only version 2 (compact) batches carry urgent entries")
    if len(urgent) > MAX_URGENT or any(e.seq <= head_seq or not is_emergency_notice(e.op) for e in urgent):
        raise ValueError(f"urgent entries must be at most {MAX_URGENT} emergency notices after the batch's head")
    urgent_hashes = [e.hash for e in urgent] if urgent else None
    extra: dict[str, Any] = {"urgent": [[e.seq, e.prev, e.op] for e in urgent]} if urgent else {}
    if compact:
        tail = max(head_seq if tail_seq is None else tail_seq, head_seq, urgent[-1].seq if urgent else 0)
        return codec.encode(
            {
                "v": 2,
                "feed": feed,
                "first_seq": entries[0].seq if entries else head_seq + 1,
                "first_prev": entries[0].prev if entries else head_hash,
                "ops": [e.op for e in entries],
                "head_seq": head_seq,
                "head_hash": head_hash,
                "tail_seq": tail,
                "tail_bytes": tail_bytes,
                "signed_at": signed_at,
                "signer": key.public,
                "sig": key.sign(_signed_message_v2(feed, head_seq, head_hash, signed_at, tail, tail_bytes,
                                                   urgent_hashes)),
                **extra,
            }
        )
    return codec.encode(
        {
            "v": 1,
            "feed": feed,
            "entries": [[e.seq, e.prev, e.op] for e in entries],
            "head_seq": head_seq,
            "head_hash": head_hash,
            "signed_at": signed_at,
            "signer": key.public,
            "sig": key.sign(_signed_message(feed, head_seq, head_hash, signed_at)),
        }
    )


def open_batch(
    data: bytes,
    expected_feed: str,
    sender: Side,
    is_trusted: Callable[[bytes], bool],
    limits: Limits = BATCH_LIMITS,
) -> Batch:
    """Decode and fully verify a batch: form, feed, trusted signer, signature, internal chain, op ownership.

    Its urgent entries, if any, are covered by the same signature and checked by the same rules, plus their own:
    each is an emergency notice past the batch's head and within the signed feed length, in increasing order.
    """
    m = codec.require_map(codec.decode(data, limits), "batch")
    what = "batch"
    version = codec.field(m, "v", int, what)
    if version not in (1, 2):
        raise DecodeError("unsupported batch version")
    feed = codec.field(m, "feed", str, what)
    if feed != expected_feed:
        raise WrongVillage(f"batch is for feed {feed!r}, expected {expected_feed!r}")
    head_seq = codec.field(m, "head_seq", int, what)
    head_hash = codec.field(m, "head_hash", bytes, what)
    signed_at = codec.field(m, "signed_at", int, what)
    signer = codec.field(m, "signer", bytes, what)
    sig = codec.field(m, "sig", bytes, what)
    if not is_trusted(signer):
        raise UnknownKey("batch is signed by a key this node does not trust")
    urgent = _urgent_entries(m, feed) if "urgent" in m else None
    urgent_hashes = None if urgent is None else [e.hash for e in urgent]
    if version == 1:
        if urgent is not None:
            raise DecodeError("only version 2 batches carry urgent entries")
        raw_entries = codec.field(m, "entries", list, what)
        tail_seq, tail_bytes = head_seq, 0
        verify(signer, sig, _signed_message(feed, head_seq, head_hash, signed_at))
    else:
        tail_seq = codec.field(m, "tail_seq", int, what)
        tail_bytes = codec.field(m, "tail_bytes", int, what)
        verify(signer, sig, _signed_message_v2(feed, head_seq, head_hash, signed_at, tail_seq, tail_bytes,
                                               urgent_hashes))
        raw_entries = _expand_compact(m, what)

    entries: list[Entry] = []
    prev_hash: bytes | None = None
    prev_seq: int | None = None
    for raw in raw_entries:
        if not (isinstance(raw, list) and len(raw) == 3):
            raise DecodeError("an entry must be [seq, prev, op]")
        seq, prev, op = raw
        if prev is None and prev_hash is not None:
            prev = prev_hash  # compact batch: the chain itself says what came before
        _check_seq_and_prev(seq, prev, "entry")
        if prev_seq is not None and seq != prev_seq + 1:
            raise SequenceError(f"entry {seq} does not follow entry {prev_seq}", prev_seq)
        if prev_hash is not None and prev != prev_hash:
            raise ChainError(f"entry {seq} does not chain to entry {seq - 1}")
        validate_op(op, sender)
        h = entry_hash(feed, seq, prev, op)
        entries.append(Entry(seq, prev, op, h))
        prev_hash, prev_seq = h, seq
    if entries and (entries[-1].seq != head_seq or entries[-1].hash != head_hash):
        raise ChainError("the signed head does not match the entries")
    if tail_seq < head_seq:
        raise DecodeError("the signed feed length is shorter than the batch's head")
    after = head_seq
    for e in urgent or []:
        if e.seq <= after or e.seq > tail_seq:
            raise DecodeError(f"urgent entry {e.seq} is not after entry {after} and within the signed feed length "
                              f"{tail_seq}")
        validate_op(e.op, sender)
        if not is_emergency_notice(e.op):
            raise DecodeError("only emergency notices may be sent ahead of their turn")
        after = e.seq
    return Batch(feed, entries, head_seq, head_hash, signed_at, signer, tail_seq, tail_bytes, tuple(urgent or ()))


def _urgent_entries(m: dict[str, Any], feed: str) -> list[Entry]:
    """The urgent entries' form and hashes, needed before the signature can be checked; their rules come after."""
    raw = codec.field(m, "urgent", list, "batch")
    if not 0 < len(raw) <= MAX_URGENT:
        raise DecodeError(f"a batch's urgent entries must be 1 to {MAX_URGENT}")
    out: list[Entry] = []
    for item in raw:
        if not (isinstance(item, list) and len(item) == 3):
            raise DecodeError("an urgent entry must be [seq, prev, op]")
        seq, prev, op = item
        _check_seq_and_prev(seq, prev, "urgent entry")
        if not isinstance(op, dict):
            raise DecodeError("an urgent entry's op must be a map")
        out.append(Entry(seq, prev, op, entry_hash(feed, seq, prev, op)))
    return out


def _check_seq_and_prev(seq: Any, prev: Any, what: str) -> None:
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1 or not isinstance(prev, bytes):
        raise DecodeError(f"{what} seq must be a positive integer and prev must be bytes")


def _expand_compact(m: dict[str, Any], what: str) -> list[Any]:
    """Version 2's ops as [seq, prev, op] triples; prev is filled in while the chain is checked (None here)."""
    ops = codec.field(m, "ops", list, what)
    first_seq = codec.field(m, "first_seq", int, what)
    first_prev = codec.field(m, "first_prev", bytes, what)
    if first_seq < 1:
        raise DecodeError("first_seq must be a positive integer")
    return [[first_seq + i, first_prev if i == 0 else None, op] for i, op in enumerate(ops)]


def new_entries(batch: Batch, have_seq: int, have_hash: bytes) -> list[Entry]:
    """The entries of a verified batch to apply on top of (have_seq, have_hash).

    A batch wholly at or below what the receiver has is a replay and yields nothing. A batch that starts past
    have+1 leaves a gap; one that overlaps is cut to the part after have, and must chain onto have_hash there.
    """
    if not batch.entries or batch.head_seq <= have_seq:
        return []
    if batch.first_seq > have_seq + 1:
        raise SequenceError(f"batch starts at {batch.first_seq} but this side has only {have_seq}", have_seq)
    fresh = [e for e in batch.entries if e.seq > have_seq]
    if fresh[0].prev != have_hash:
        raise ChainError(f"entry {fresh[0].seq} does not chain onto the entry {have_seq} this side holds")
    return fresh
