"""A receiver's signed acknowledgement of a feed: "I hold `seq` entries of `feed`, the last one hashing to `hash`".

The hub signs one for every up batch it takes (online and on a stick), so an edge marks its submissions delivered
only on the hub's word, never on a bare number that a flipped byte or a man in the middle could have changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from . import codec
from .codec import Limits
from .envelope import open_sealed, seal
from .errors import DecodeError, UnknownKey, WrongVillage
from .keys import NodeKey

PURPOSE = "feed-ack"
ACK_LIMITS = Limits(max_bytes=4096, max_str=512, max_bin=256, max_array=16, max_map=16, max_depth=4)


@dataclass(frozen=True)
class Ack:
    feed: str
    seq: int
    hash: bytes
    signed_at: int
    signer: bytes


def make_ack(key: NodeKey, feed: str, seq: int, hash_: bytes, now: int | None = None) -> bytes:
    signed_at = int(time.time()) if now is None else now
    return seal(key, PURPOSE, {"feed": feed, "seq": seq, "hash": hash_, "signed_at": signed_at})


def open_ack(data: bytes, expected_feed: str, is_trusted: Callable[[bytes], bool]) -> Ack:
    opened = open_sealed(data, PURPOSE, ACK_LIMITS)
    if not is_trusted(opened.signer):
        raise UnknownKey("acknowledgement is signed by a key this node does not trust")
    b = opened.body
    feed = codec.field(b, "feed", str, "ack")
    if feed != expected_feed:
        raise WrongVillage(f"acknowledgement is for feed {feed!r}, expected {expected_feed!r}")
    seq = codec.field(b, "seq", int, "ack")
    if seq < 0:
        raise DecodeError("ack seq must not be negative")
    return Ack(feed, seq, codec.field(b, "hash", bytes, "ack"), codec.field(b, "signed_at", int, "ack"), opened.signer)
