"""Emergency entries sent ahead of their turn: the hub signs each one alone so an edge far behind shows it at once.

A feed is applied in order, so an emergency notice appended after a month of backlog would wait behind it. With
a down batch the hub adds (unsigned by the batch, signed each) the emergency notice entries further down the feed;
the edge checks each entry's hash and signature and shows the notice now, and applies it again in its turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import codec
from .errors import DecodeError, UnknownKey
from .feed import Entry, entry_hash
from .keys import NodeKey, verify
from .records import validate_op

MAX_URGENT = 20
_SIGNED = "villagenet-urgent-v1"


def is_urgent(op: dict[str, Any]) -> bool:
    body = op.get("body")
    return (op.get("op") == "put" and op.get("kind") == "notice" and isinstance(body, dict)
            and body.get("priority") == "emergency")


def _message(feed: str, seq: int, hash_: bytes, signed_at: int) -> bytes:
    return codec.encode([_SIGNED, feed, seq, hash_, signed_at])


def make_urgent(key: NodeKey, feed: str, entries: list[Entry], signed_at: int) -> list[list[Any]]:
    return [[e.seq, e.prev, e.op, key.sign(_message(feed, e.seq, e.hash, signed_at))] for e in entries[:MAX_URGENT]]


def open_urgent(raw: Any, feed: str, signer: bytes, signed_at: int,
                is_trusted: Callable[[bytes], bool]) -> list[Entry]:
    """The urgent entries of a verified batch (same signer and time), each checked on its own."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_URGENT:
        raise DecodeError(f"urgent entries must be a list of at most {MAX_URGENT}")
    if not is_trusted(signer):
        raise UnknownKey("urgent entries are signed by a key this node does not trust")
    out: list[Entry] = []
    for item in raw:
        if not (isinstance(item, list) and len(item) == 4):
            raise DecodeError("an urgent entry must be [seq, prev, op, sig]")
        seq, prev, op, sig = item
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1 or not isinstance(prev, bytes) \
                or not isinstance(sig, bytes):
            raise DecodeError("an urgent entry has a bad seq, prev or signature")
        validate_op(op, "hub")
        if not is_urgent(op):
            raise DecodeError("only emergency notices may be sent ahead of their turn")
        h = entry_hash(feed, seq, prev, op)
        verify(signer, sig, _message(feed, seq, h, signed_at))
        out.append(Entry(seq, prev, op, h))
    return out
