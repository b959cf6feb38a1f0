"""Content packs on a stick: a village's signed down feed and the blobs it names, for a box whose line is down.

Layout: `VILLAGENET/packs/<village>/pack.vnp` (the index, signed by a hub signing key), `bNNNNNN.vnb` (signed down
batches, as the line carries them) and `blobs/<sha256>`. Every batch and blob is verified on its own, exactly as
over the line; the index only says what is there, and is written last so a half-written pack is never taken.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from protocol import codec
from protocol.codec import Limits
from protocol.envelope import open_sealed, seal
from protocol.errors import DecodeError
from protocol.keys import NodeKey
from protocol.records import is_sha256_hex

PURPOSE = "pack"
PACKS_DIR = ("VILLAGENET", "packs")
INDEX_NAME = "pack.vnp"
INDEX_LIMITS = Limits(max_bytes=4 * 1024 * 1024, max_bin=64 * 1024, max_str=4096, max_array=100_000, max_map=20)
MAX_BLOB_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class PackBatch:
    file: str
    first: int
    last: int
    size: int


@dataclass(frozen=True)
class PackBlob:
    sha256: str
    size: int
    file: tuple[str, ...]  # relative to the pack's folder


@dataclass(frozen=True)
class PackIndex:
    village_id: str
    after: int
    head_seq: int
    trust_raw: bytes
    batches: list[PackBatch]
    blobs: list[PackBlob]
    made_at: int
    signer: bytes


def batch_file(n: int) -> str:
    return f"b{n:06d}.vnb"


def blob_file(sha256: str) -> tuple[str, str]:
    return ("blobs", sha256)


def make_index(signing: NodeKey, village_id: str, after: int, head_seq: int, trust_raw: bytes,
               batches: list[PackBatch], blobs: list[PackBlob]) -> bytes:
    return seal(signing, PURPOSE, {
        "v": 1,
        "village_id": village_id,
        "after": after,
        "head_seq": head_seq,
        "trust": trust_raw,
        "batches": [[b.file, b.first, b.last, b.size] for b in batches],
        "blobs": [[b.sha256, b.size, list(b.file)] for b in blobs],
        "made_at": int(time.time()),
    })


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DecodeError(f"{what} must be a non-negative integer")
    return value


def open_index(data: bytes) -> PackIndex:
    """Check the index's form and signature; the caller checks that the signer is a key its hub signs with.

    File names are returned as given: the importer checks each against the stick's names (no `..`, no `/`).
    """
    opened = open_sealed(data, PURPOSE, INDEX_LIMITS)
    b = opened.body
    what = "pack index"
    batches = []
    for raw in codec.field(b, "batches", list, what):
        if not (isinstance(raw, list) and len(raw) == 4 and isinstance(raw[0], str)):
            raise DecodeError("a pack batch must be [file, first, last, size]")
        batches.append(PackBatch(raw[0], _int(raw[1], "first"), _int(raw[2], "last"), _int(raw[3], "size")))
    blobs = []
    for raw in codec.field(b, "blobs", list, what):
        if not (isinstance(raw, list) and len(raw) == 3 and isinstance(raw[0], str) and isinstance(raw[2], list)):
            raise DecodeError("a pack blob must be [sha256, size, path]")
        if not is_sha256_hex(raw[0]) or not all(isinstance(p, str) for p in raw[2]) or not 1 <= len(raw[2]) <= 3:
            raise DecodeError("a pack blob names a bad sha256 or path")
        size = _int(raw[1], "blob size")
        if size > MAX_BLOB_BYTES:
            raise DecodeError(f"a pack blob of {size} bytes is over the limit")
        blobs.append(PackBlob(raw[0], size, tuple(raw[2])))
    return PackIndex(
        village_id=codec.field(b, "village_id", str, what),
        after=_int(codec.field(b, "after", int, what), "after"),
        head_seq=_int(codec.field(b, "head_seq", int, what), "head_seq"),
        trust_raw=codec.field(b, "trust", bytes, what),
        batches=batches,
        blobs=blobs,
        made_at=codec.field(b, "made_at", int, what),
        signer=opened.signer,
    )
