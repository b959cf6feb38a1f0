"""Importing content packs from a stick: the down batches first (verified as over the line), then the blobs.

Resumable by construction: batches apply from the box's own down position, and each blob is copied into
`content/partial/<sha>.stick` from where the last copy stopped, so a stick pulled mid-import and put back in
continues; a blob becomes visible only once its SHA-256 and size match what the signed notice declared.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.feeds.positions import read_position
from edge.sync.down_receive import receive_down
from protocol.atomic_file import place_durably, sha256_of_file
from protocol.errors import ChainError, ProtocolError, SequenceError, UnknownKey, WrongVillage
from protocol.feed import BATCH_LIMITS
from protocol.trust import TrustDocument, open_trust
from provisioning.packs import INDEX_NAME, PACKS_DIR, PackBlob, PackIndex, open_index
from provisioning.stick import Inventory, StickError, StickFS, StickGone, StickPath, check_name, read_capped

from ..runtime import EdgeRuntime
from .activity import UsbActivity

log = logging.getLogger(__name__)
_CHUNK = 1024 * 1024


class _Pacer:
    """Keeps stick reads under a byte rate, so residents' TVs stay smooth while a big pack comes in."""

    def __init__(self, mb_per_s: float) -> None:
        self.rate = mb_per_s * 1024 * 1024
        self.start = time.monotonic()
        self.bytes = 0

    def after(self, n: int) -> None:
        if self.rate <= 0:
            return
        self.bytes += n
        ahead = self.bytes / self.rate - (time.monotonic() - self.start)
        if ahead > 0:
            time.sleep(ahead)


def _pack_dirs(inventory: Inventory) -> list[StickPath]:
    found = []
    for path in inventory.under(*PACKS_DIR):
        if len(path) == 4 and path[3].casefold() == INDEX_NAME:
            found.append(path[:3])
    return sorted(found)


def _trust_for(rt: EdgeRuntime, index: PackIndex) -> TrustDocument:
    """The box's trust document, or the pack's when that is newer and signed by the same pinned root (its expiry
    judged by the hub's signed time, as the line's trust refresh does)."""
    held = rt.holder.trust()
    state = rt.holder.current
    assert state is not None
    try:
        carried = open_trust(index.trust_raw, state.root_key, now=rt.sync.clock.now_at_least(),
                             min_version=held.version)
    except ProtocolError:
        return held
    return carried


def _locate(inventory: Inventory, pack: StickPath, rel: tuple[str, ...]) -> tuple[StickPath, int]:
    for name in rel:
        check_name(name)  # a `..` or `/` in the index is refused before anything is looked up
    found = inventory.find(*pack, *rel)
    if found is None:
        raise StickError("pack_incomplete", f"the pack lacks {'/'.join(rel)}; export it again")
    return found[0], found[1].size


async def import_packs(rt: EdgeRuntime, stick: StickFS, inventory: Inventory, activity: UsbActivity,
                       present: Callable[[], bool]) -> list[dict[str, Any]]:
    actions = []
    for pack in _pack_dirs(inventory):
        action: dict[str, Any] = {"what": "pack", "pack": "/".join(pack)}
        try:
            action.update(await _import_one(rt, stick, inventory, pack, activity, present))
            action["result"] = "applied"
        except StickGone:
            raise
        except (StickError, ProtocolError) as exc:
            action.update(result="refused", code=exc.code, detail=exc.detail)
            log.warning("pack %s refused: %s", "/".join(pack), exc.detail)
        actions.append(action)
    return actions


async def _import_one(rt: EdgeRuntime, stick: StickFS, inventory: Inventory, pack: StickPath,
                      activity: UsbActivity, present: Callable[[], bool]) -> dict[str, Any]:
    state = rt.holder.current
    assert state is not None
    index_path, index_size = _locate(inventory, pack, (INDEX_NAME,))
    index = open_index(await asyncio.to_thread(read_capped, stick, index_path, index_size, 4 * 1024 * 1024,
                                               "the pack index"))
    if index.village_id != state.village_id:
        raise WrongVillage(f"the pack is for village {index.village_id}; this box serves {state.village_id}")
    trust = _trust_for(rt, index)
    # A retired key is judged by the hub's signed time, not the box's own clock (which may never have been set).
    if not trust.can_sign(index.signer, rt.sync.clock.now_at_least()):
        raise UnknownKey("the pack index is not signed by a key of the hub this box trusts")
    for name in [b.file for b in index.batches] + [n for blob in index.blobs for n in blob.file]:
        check_name(name)  # every path first: a bad one refuses the pack before anything of it is applied

    entries_applied = 0
    activity.step("pack", entries_done=0, entries_total=index.head_seq, blobs_done=0, blobs_total=0,
                  bytes_done=0, bytes_total=0, resumed_bytes=0)
    for b in index.batches:
        have_seq = (await read_position(rt.db, "down"))[0]
        if b.last <= have_seq:
            continue
        if not present():
            raise StickGone()
        path, size = _locate(inventory, pack, (b.file,))
        data = await asyncio.to_thread(read_capped, stick, path, size, BATCH_LIMITS.max_bytes, b.file)
        try:
            # Judged as the line's batches are (edge/sync/down_receive.py): signers by the hub's signed time,
            # the freeze defence, rollback and fork checks; and the hub time it carries moves the box's floor.
            result = await receive_down(rt.db, rt.sync.clock, lambda: trust, state.village_id, data)
        except SequenceError as exc:
            raise SequenceError(
                f"the pack starts after entry {index.after} but this box has only {have_seq}; export it again"
                f" with `village-hub pack export --after {have_seq}`", have_seq) from exc
        except ChainError:
            if (await read_position(rt.db, "down"))[0] == have_seq:
                raise
            continue  # the line moved the position meanwhile; the next batch is measured against the new one
        entries_applied += result.applied
        activity.update(entries_done=result.have)

    wanted = await _wanted_blobs(rt, index.blobs)
    activity.update(blobs_total=len(wanted), bytes_total=sum(b.size for b in wanted))
    pacer = _Pacer(float(rt.config.usb_read_mb_s))
    copied = resumed = 0
    for i, blob in enumerate(wanted):
        path, size = _locate(inventory, pack, blob.file)
        if size != blob.size:
            raise StickError("pack_damaged", f"blob {blob.sha256} on the stick is {size} bytes, not {blob.size}")
        part = rt.content.root / "partial" / f"{blob.sha256}.stick"
        base = copied

        def progress(n: int, base: int = base) -> None:
            activity.update(bytes_done=base + n)

        got, was = await asyncio.to_thread(_copy_blob, stick, path, part, blob.size, present, pacer, progress)
        copied += blob.size
        resumed += was
        await _adopt(rt, blob, part)
        activity.update(blobs_done=i + 1, bytes_done=copied, resumed_bytes=resumed)
    if wanted:
        rt.sync.blobs_wanted.set()
    return {"village_id": index.village_id, "entries": entries_applied, "blobs": len(wanted), "bytes": copied,
            "resumed_bytes": resumed, "head_seq": index.head_seq}


async def _wanted_blobs(rt: EdgeRuntime, offered: list[PackBlob]) -> list[PackBlob]:
    """Blobs the applied notices name and this box lacks; anything else on the stick is not wanted."""
    missing = await rt.content.wanted_sizes()
    return [b for b in offered if missing.get(b.sha256) == b.size and not rt.content.has(b.sha256)]


def _copy_blob(stick: StickFS, path: StickPath, part: Path, size: int, present: Callable[[], bool],
               pacer: _Pacer, progress: Callable[[int], None]) -> tuple[int, int]:
    """Copy (or continue copying) one blob into its partial file; returns (bytes now held, bytes resumed)."""
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    resumed = have
    try:
        with stick.open_read(path) as src, part.open("ab") as dst:
            src.seek(have)
            while have < size:
                if not present():
                    raise StickGone()
                chunk = src.read(min(_CHUNK, size - have))
                if not chunk:
                    raise StickError("pack_damaged", f"{'/'.join(path)} ends after {have} of {size} bytes")
                dst.write(chunk)
                have += len(chunk)
                progress(have)
                pacer.after(len(chunk))
            dst.flush()
            os.fsync(dst.fileno())
    except OSError as exc:
        if not present():
            raise StickGone() from exc
        raise StickError("unreadable", f"reading {'/'.join(path)} failed: {exc}") from exc
    return have, resumed


async def _adopt(rt: EdgeRuntime, blob: PackBlob, part: Path) -> None:
    final = rt.content.path_for(blob.sha256)
    if not await asyncio.to_thread(_verify_and_place, part, final, blob.sha256):
        raise StickError("pack_damaged", f"blob {blob.sha256} on the stick fails its checksum; export the pack again")
    await rt.content.mark_present(blob.sha256)


def _verify_and_place(part: Path, final: Path, sha256: str) -> bool:
    if sha256_of_file(part) != sha256:
        part.unlink(missing_ok=True)  # damaged on the stick: copy it again from the start next time
        return False
    place_durably(part, final, synced=True)  # _copy_blob fsynced the bytes; the rename is made durable here
    return True
