"""Sync by stick, hands-free: a stick holding `VILLAGENET/sync/` gets the sneakernet exchange of edge/sync/sneakernet.py.

The stick's sync folder is copied to a private temporary folder, the hub's batches there are applied, the box's
unacknowledged up batches are written there, and what changed is copied back; the receipt says what moved.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.runtime import EdgeRuntime
from edge.sync.sneakernet import export_with, import_with
from protocol.errors import ProtocolError
from protocol.feed import BATCH_LIMITS
from provisioning.stick import ROOT, Inventory, StickError, StickFS, StickGone, StickPath, read_capped

MAX_SYNC_FILES = 2000
# Receipts and the status stay small (the hub decodes both with tight limits): long lists are cut, with a count.
_LISTED = 40


def _copy_in(stick: StickFS, files: dict[StickPath, int], into: Path) -> dict[str, str]:
    seen = {}
    for path, size in files.items():
        data = read_capped(stick, path, size, BATCH_LIMITS.max_bytes, "/".join(path))
        # Sync file names are lower case; a FAT short name (ack-v1.vna) may come back as ACK-V1.VNA.
        name = path[-1].lower()
        (into / name).write_bytes(data)
        seen[name] = hashlib.sha256(data).hexdigest()
    return seen


def _copy_back(stick: StickFS, folder: StickPath, tmp: Path, before: dict[str, str]) -> tuple[list[str], list[str]]:
    written, removed = [], []
    after = {p.name: p for p in tmp.iterdir() if p.is_file()}
    for name, p in sorted(after.items()):
        data = p.read_bytes()
        if before.get(name) != hashlib.sha256(data).hexdigest():
            stick.write_bytes((*folder, name), data)
            written.append(name)
    for name in sorted(set(before) - set(after)):
        stick.remove((*folder, name))  # batches the box replaced (already acknowledged, or re-cut)
        removed.append(name)
    return written, removed


async def exchange_sync(rt: EdgeRuntime, stick: StickFS, inventory: Inventory,
                        present: Callable[[], bool]) -> dict[str, Any]:
    folder = inventory.has_dir(ROOT, "sync")
    assert folder is not None
    files = {path: e.size for path, e in inventory.under(*folder).items() if len(path) == len(folder) + 1}
    if len(files) > MAX_SYNC_FILES:
        return {"what": "sync", "result": "refused", "code": "too_many_files",
                "detail": f"VILLAGENET/sync/ holds more than {MAX_SYNC_FILES} files"}
    with tempfile.TemporaryDirectory(prefix="villagenet-sync-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            before = await asyncio.to_thread(_copy_in, stick, files, tmp)
            # The running box's own database, state and hub clock: one writer, one freeze defence.
            imported = await import_with(rt.db, rt.holder, rt.sync.clock, tmp)
            exported = await export_with(rt.db, rt.holder, tmp)
            if not present():
                raise StickGone()
            written, removed = await asyncio.to_thread(_copy_back, stick, folder, tmp, before)
        except StickGone:
            raise
        except (StickError, ProtocolError) as exc:
            return {"what": "sync", "result": "refused", "code": exc.code, "detail": exc.detail}
    return {"what": "sync", "result": "applied", "down_applied": imported.get("down_applied", 0),
            "down_seq": imported.get("down_seq"), "up_acked": imported.get("up_acked"),
            "up_entries": exported.get("up_entries", 0), "up_files": exported.get("up_files", 0),
            "files_written": written[:_LISTED], "files_removed": removed[:_LISTED],
            "files_count": len(written) + len(removed),
            "notes": [str(n)[:300] for n in imported.get("refused", [])[:_LISTED]]}
