"""Sync by USB stick when the line is down: write what the hub lacks to `VILLAGENET/sync/`, apply what it sent.

`export_with` and `import_with` work on a plain folder (the USB watcher copies the stick's `sync/` folder to a temp
dir and back) with the running box's own database, state and hub clock, so the one-writer rule holds and the
freeze defence sees what the stick brought. `export_to` and `import_from` do the same for the
`village-edge sync` command, a process of its own, which opens the database itself. Batches from the hub are
verified exactly as the online sync does (edge/sync/down_receive.py).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from edge.box.state_holder import StateHolder
from edge.config import load_config
from edge.feeds.positions import (
    acked_up_to,
    down_applied,
    mark_acked,
    read_position,
    up_entries_after,
    up_head,
)
from edge.schema import SCHEMA
from edge.sync.down_receive import receive_down
from edge.sync.hub_clock import HubClock
from protocol import compression
from protocol.ack import open_ack
from protocol.database import Database
from protocol.errors import ProtocolError
from protocol.feed import feed_name, make_batch
from protocol.stick_sync import (
    TRUST_MAX_BYTES,
    TRUST_NAME,
    batch_name,
    list_files,
    make_position,
    position_name,
    read_file,
    remove_files,
    write_file,
)
from protocol.trust import open_trust

log = logging.getLogger(__name__)
STICK_BATCH_BYTES = 4 * 1024 * 1024


class NotProvisioned(ProtocolError):
    code = "not_provisioned"


def _holder(data_dir: Path) -> StateHolder:
    holder = StateHolder(data_dir)
    if holder.current is None:
        raise NotProvisioned(f"{data_dir} is not a provisioned edge; apply a bundle first")
    return holder


async def _open_db(data_dir: Path) -> Database:
    db = Database(data_dir / "edge.db")
    await db.open(SCHEMA)
    return db


async def export_to(data_dir: Path, sync_dir: Path) -> dict[str, Any]:
    """`village-edge sync export`: export_with on this box's database, opened for the command."""
    holder = _holder(data_dir)
    db = await _open_db(data_dir)
    try:
        return await export_with(db, holder, sync_dir)
    finally:
        await db.close()


async def import_from(data_dir: Path, sync_dir: Path) -> dict[str, Any]:
    """`village-edge sync import`: import_with on this box's database and hub clock, opened for the command."""
    holder = _holder(data_dir)
    config = load_config(data_dir)
    db = await _open_db(data_dir)
    try:
        clock = HubClock(db, config.hub_clock_tolerance_s, config.hub_stale_after_s, config.hub_clock_max_ahead_s)
        await clock.load()
        return await import_with(db, holder, clock, sync_dir)
    finally:
        await db.close()


async def export_with(db: Database, holder: StateHolder, sync_dir: Path) -> dict[str, Any]:
    """Write the up entries the hub has not acknowledged and this edge's signed down position."""
    state = holder.current
    if state is None:
        raise NotProvisioned("this box is not provisioned; apply a bundle first")
    acked = await acked_up_to(db)
    head = await up_head(db)
    down_seq, down_hash = await read_position(db, "down")
    remove_files(sync_dir, "up", state.village_id)
    feed = feed_name("up", state.village_id)
    files, seq = 0, acked
    while seq < head:
        entries = await up_entries_after(db, seq, STICK_BATCH_BYTES)
        batch = make_batch(holder.key, feed, entries, 0, b"", compact=True, tail_seq=head)
        write_file(sync_dir, batch_name("up", state.village_id, entries[0].seq), compression.compress(batch))
        seq = entries[-1].seq
        files += 1
    write_file(sync_dir, position_name(state.village_id),
               make_position(holder.key, state.village_id, down_seq, down_hash, head))
    log.info("sneakernet export for %s: up %d..%d in %d files, down position %d", state.village_id, acked + 1,
             head, files, down_seq)
    return {"village_id": state.village_id, "up_entries": head - acked, "up_files": files, "down_seq": down_seq}


async def import_with(db: Database, holder: StateHolder, clock: HubClock, sync_dir: Path) -> dict[str, Any]:
    """Apply the hub's down batches and acknowledgement for this village; same checks as online, idempotent."""
    state = holder.current
    if state is None:
        raise NotProvisioned("this box is not provisioned; apply a bundle first")
    applied, refused, acked = 0, [], None
    trust_file = sync_dir / TRUST_NAME
    if trust_file.exists():
        # Before the batches: a signing key the hub revoked must not sign what this stick carries.
        try:
            raw = read_file(trust_file, TRUST_MAX_BYTES)
            doc = open_trust(raw, state.root_key, now=clock.now_at_least(), min_version=holder.trust().version)
            if doc.version > holder.trust().version:
                holder.set_enrolled(raw)
                log.info("sneakernet: trust document version %d taken from the stick", doc.version)
        except ProtocolError as exc:
            log.warning("sneakernet: refused %s: %s", TRUST_NAME, exc.detail)
            refused.append(f"{TRUST_NAME}: {exc.detail}")
    files = [f for f in list_files(sync_dir) if f.village_id == state.village_id]
    for f in (f for f in files if f.kind == "down"):
        try:
            result = await receive_down(db, clock, holder.trust, state.village_id, read_file(f.path))
            applied += result.applied
        except ProtocolError as exc:
            log.warning("sneakernet: refused %s: %s", f.path.name, exc.detail)
            refused.append(f"{f.path.name}: {exc.detail}")
    doc, at = holder.trust(), clock.now_at_least()

    def trusted(key: bytes) -> bool:
        return doc.can_sign(key, at)

    for f in (f for f in files if f.kind == "ack"):
        try:
            ack = open_ack(read_file(f.path, 4096), feed_name("up", state.village_id), trusted)
        except ProtocolError as exc:
            refused.append(f"{f.path.name}: {exc.detail}")
            continue
        if await mark_acked(db, ack.seq, ack.hash):
            acked = ack.seq
        else:
            refused.append(f"{f.path.name}: the hub's acknowledgement does not match this edge's up feed")
    down_seq = await down_applied(db)
    if not any(f.kind in ("down", "ack") for f in files):
        refused.append(f"{sync_dir} holds nothing from the hub for village {state.village_id}")
    return {"village_id": state.village_id, "down_applied": applied, "down_seq": down_seq, "up_acked": acked,
            "refused": refused}
