"""`village-hub pack export`: a village's signed down feed and the blobs it lacks, written to a stick as a pack.

Works on the hub's data dir (also while the hub serves): batches are signed with the hub's signing key exactly
as over the line, blobs are copied from the blob store, and the index goes on last (see provisioning/packs.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from protocol import codec
from protocol.feed import Entry, feed_name, make_batch
from provisioning.packs import INDEX_NAME, PACKS_DIR, PackBatch, PackBlob, batch_file, blob_file, make_index
from provisioning.stick import StickFS

from .errors import NotFound
from .keys_store import HubKeys
from .store import HubStore

log = logging.getLogger(__name__)
BATCH_BYTES = 4 * 1024 * 1024
_COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ExportResult:
    village_id: str
    after: int
    head_seq: int
    batches: int
    blobs: int
    blob_bytes: int
    missing_blobs: list[str]
    folder: str


async def village_has(store: HubStore, village_id: str) -> int:
    """The down seq the village last reported in its pulled status (0 when never heard from)."""
    row = (await store.status_rows()).get(village_id)
    down = (row.document or {}).get("down") if row else None
    seq = down.get("seq") if isinstance(down, dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0 else 0


async def export_pack(store: HubStore, keys: HubKeys, blobs_dir: Path, village_id: str, stick: StickFS,
                      after: int | None = None, progress: Callable[[str], None] = lambda line: None) -> ExportResult:
    village = await store.get_village(village_id)
    if village is None:
        raise NotFound(f"no village {village_id}; add it with `village-hub village add` first", "unknown_village")
    start = await village_has(store, village_id) if after is None else after
    head = await store.down_head(village_id)
    start = min(start, head.seq)
    folder = (*PACKS_DIR, village_id)
    feed = feed_name("down", village_id)

    batches: list[PackBatch] = []
    blobs: dict[str, int] = {}
    cursor = start
    while cursor < head.seq:
        rows = await store.down_entries_after(village_id, cursor, 2000)
        entries: list[Entry] = []
        size = 0
        for seq, prev, raw_op, entry_hash in rows:
            if entries and size + len(raw_op) > BATCH_BYTES:
                break
            op = codec.decode(raw_op)
            entries.append(Entry(seq, prev, op, entry_hash))
            size += len(raw_op) + 64
            if op.get("op") == "put":
                for b in op.get("blobs") or []:
                    blobs[b["sha256"]] = int(b["size"])
        data = make_batch(keys.signing, feed, entries, entries[-1].seq, entries[-1].hash)
        name = batch_file(len(batches) + 1)
        await asyncio.to_thread(stick.write_bytes, (*folder, name), data)
        batches.append(PackBatch(name, entries[0].seq, entries[-1].seq, len(data)))
        cursor = entries[-1].seq
        progress(f"down feed: entries {cursor - start} of {head.seq - start}")

    written: list[PackBlob] = []
    missing: list[str] = []
    total = sum(blobs.values())
    done = 0
    for sha, size in sorted(blobs.items()):
        source = blobs_dir / sha[:2] / sha
        if not source.is_file():
            missing.append(sha)  # withdrawn or never uploaded; the box fetches it later if it is still wanted
            continue
        rel = blob_file(sha)
        await asyncio.to_thread(_copy_to_stick, source, stick, (*folder, *rel))
        written.append(PackBlob(sha, size, rel))
        done += size
        progress(f"blobs: {len(written)} of {len(blobs)}, {done / 1e6:.1f} of {total / 1e6:.1f} MB")

    index = make_index(keys.signing, village_id, start, cursor, keys.trust_raw, batches, written)
    await asyncio.to_thread(stick.write_bytes, (*folder, INDEX_NAME), index)
    log.info("pack for %s: entries %d..%d, %d blobs", village_id, start + 1, cursor, len(written))
    return ExportResult(village_id, start, cursor, len(batches), len(written), done, missing, "/".join(folder))


def _copy_to_stick(source: Path, stick: StickFS, target: tuple[str, ...]) -> None:
    with source.open("rb") as src, stick.open_write(target) as dst:
        while chunk := src.read(_COPY_CHUNK):
            dst.write(chunk)
