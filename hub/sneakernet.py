"""The hub's side of sync by USB stick: take a village's up batches from `VILLAGENET/sync/`, write what it lacks.

Same verification as online (the enrolled, unrevoked key of the village; chained, signed batches; idempotent
apply), then down batches after the village's signed position and a signed acknowledgement of its up feed.
`import_from` is a coroutine working on a plain folder.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from protocol import codec, compression
from protocol.ack import make_ack
from protocol.errors import ProtocolError
from protocol.feed import BATCH_LIMITS, feed_name
from protocol.stick_sync import (
    TRUST_NAME,
    ack_name,
    batch_name,
    list_files,
    open_position,
    read_file,
    remove_files,
    write_file,
)

from .down_feed import DownFeed
from .errors import HubError
from .keys_store import load_hub_keys
from .store import HubStore
from .up_feed import receive_up_batch

log = logging.getLogger(__name__)
STICK_BATCH_BYTES = 4 * 1024 * 1024


async def import_from(data_dir: Path, sync_dir: Path) -> dict[str, Any]:
    keys = load_hub_keys(data_dir)
    store = HubStore(data_dir / "hub.db")
    await store.open()
    down = DownFeed(store, keys.signing)
    report: dict[str, Any] = {"villages": {}, "refused": []}
    try:
        files = list_files(sync_dir)
        for pos_file in (f for f in files if f.kind == "position"):
            vid = pos_file.village_id
            try:
                report["villages"][vid] = await _one_village(store, down, keys.signing, sync_dir, files, pos_file)
            except (ProtocolError, HubError) as exc:
                log.warning("sneakernet: village %s refused: %s", vid, exc.detail)
                report["refused"].append(f"{vid}: {exc.detail}")
        write_file(sync_dir, TRUST_NAME, keys.trust_raw)  # a rotated or revoked signing key reaches the box too
    finally:
        await store.close()
    return report


async def _one_village(store: HubStore, down: DownFeed, signing: Any, sync_dir: Path, files: list[Any],
                       pos_file: Any) -> dict[str, Any]:
    vid = pos_file.village_id
    position = open_position(read_file(pos_file.path, 4096))
    village = await store.get_village(vid)
    if position.village_id != vid or village is None:
        raise HubError(f"{pos_file.path.name} is for village {position.village_id!r}, unknown here or misnamed",
                       "wrong_village")
    if await store.is_edge_key_revoked(position.signer):
        raise HubError(f"the box that wrote {pos_file.path.name} has a revoked key; bring it a new bundle",
                       "revoked_key")
    if village.edge_key != position.signer:
        raise HubError(f"{pos_file.path.name} is not signed by the box enrolled for village {vid}", "unknown_key")
    taken, before = 0, (await store.up_head(vid)).seq
    for f in (f for f in files if f.kind == "up" and f.village_id == vid):
        data = compression.decompress(read_file(f.path), BATCH_LIMITS.max_bytes)
        try:
            await receive_up_batch(store, village, data, down)
        except HubError as exc:
            if exc.code != "wrong_sequence":
                raise
            log.info("sneakernet: %s does not continue the feed here (%s); skipped", f.path.name, exc.detail)
    head = await store.up_head(vid)
    taken = head.seq - before
    # What the village lacks: every down entry after its signed position, in stick-sized batches.
    remove_files(sync_dir, "down", vid)
    after, files_written = position.down_seq, 0
    tail = (await store.down_head(vid)).seq
    while after < tail:
        batch = await down.batch(vid, after, STICK_BATCH_BYTES, compact=True)
        write_file(sync_dir, batch_name("down", vid, after + 1), compression.compress(batch))
        files_written += 1
        after = int(codec.decode(batch)["head_seq"])  # our own bytes: where this batch ended
    write_file(sync_dir, ack_name(vid), make_ack(signing, feed_name("up", vid), head.seq, head.hash))
    log.info("sneakernet: village %s: %d new up entries, down %d..%d in %d files", vid, taken,
             position.down_seq + 1, tail, files_written)
    return {"up_new": taken, "up_seq": head.seq, "down_from": position.down_seq + 1, "down_to": tail,
            "down_files": files_written}

