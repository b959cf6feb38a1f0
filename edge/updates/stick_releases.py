"""Releases brought by hand: `VILLAGENET/firmware/NAME.vnr` (signed metadata) beside NAME.whl (the artifact).

Checked exactly as one from the line (release role, expiry, target, downgrade, minimum version) before its artifact
is copied; an accepted one becomes an offer like a `release` record, with its artifact already in the content
store, and the running box takes it from there. Read through the stick interface (provisioning/stick.py), so the
USB watcher's user-space FAT reader and a plain folder (`village-edge update add`) take the same path.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.box.provisioned import load_state as load_provisioned
from edge.schema import SCHEMA
from protocol.atomic_file import place_durably
from protocol.database import Database
from protocol.errors import DecodeError, ProtocolError
from protocol.releases import MAX_RELEASE_BYTES, Release, check_fits, open_release
from protocol.trust import TrustDocument
from provisioning.stick import (
    ROOT,
    DirStick,
    Inventory,
    StickError,
    StickFS,
    StickPath,
    read_capped,
    take_inventory,
)

from .offers import insert_offer
from .state import load_state
from .version import running_version

FOLDER = "firmware"
_COPY = 1024 * 1024


@dataclass(frozen=True)
class StickResult:
    name: str
    accepted: bool
    code: str
    detail: str

    def action(self) -> dict[str, Any]:
        """As the USB watcher's receipt lists what it did."""
        return {"what": "firmware", "file": self.name, "result": "applied" if self.accepted else "refused",
                "code": self.code, "detail": self.detail}


def box_version(data_dir: Path) -> str:
    """The version the box runs: the committed slot's, else the base installation's."""
    return load_state(data_dir).active_version or running_version()


async def add_releases(data_dir: Path, db: Database, trust: TrustDocument, stick: StickFS,
                       inventory: Inventory) -> list[StickResult]:
    results = []
    for path, entry in sorted(inventory.under(ROOT, FOLDER).items()):
        if not path[-1].casefold().endswith(".vnr"):
            continue
        try:
            signed = await asyncio.to_thread(read_capped, stick, path, entry.size, MAX_RELEASE_BYTES, path[-1])
            release = open_release(signed, trust, now=int(time.time()))
            check_fits(release, "edge", box_version(data_dir))
            await asyncio.to_thread(_copy_artifact, data_dir, stick, inventory, path, release)
            async with db.write() as conn:
                await insert_offer(conn, release.record_id, signed, release.sha256, release.size)
        except (ProtocolError, StickError) as exc:
            results.append(StickResult(path[-1], False, exc.code, exc.detail))
            continue
        results.append(StickResult(path[-1], True, "accepted",
                                   f"release {release.version} accepted; the box installs it by itself"))
    return results


def _copy_artifact(data_dir: Path, stick: StickFS, inventory: Inventory, meta: StickPath, release: Release) -> None:
    """Into the content store, where an artifact from the line would be, once it matches the signed release."""
    name = meta[-1][: -len(".vnr")] + ".whl"
    found = inventory.find(*meta[:-1], name)
    if found is None or found[1].size != release.size:
        raise DecodeError(f"{name} is missing or not the {release.size} bytes the release names")
    final = data_dir / "content" / release.sha256[:2] / release.sha256
    if final.is_file():
        return
    tmp = data_dir / "content" / "partial" / f"{release.sha256}.stick"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    # Hashed as it is copied: what is checked is what is kept, whatever the stick does afterwards.
    with stick.open_read(found[0]) as src, open(tmp, "wb") as out:
        while size <= release.size and (chunk := src.read(_COPY)):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    if (size, digest.hexdigest()) != (release.size, release.sha256):
        tmp.unlink()
        raise DecodeError(f"{name} does not match the release's SHA-256")
    place_durably(tmp, final, synced=True)


async def add_from_folder(data_dir: Path, folder: Path) -> list[StickResult]:
    """`village-edge update add`: a stick's folder (or a copy of one) on a box that may not be running."""
    provisioned = load_provisioned(data_dir)
    if provisioned is None:
        raise ProtocolError("this box is not provisioned: it has no trust document to check releases against")
    stick = DirStick(folder, writable=False)
    inventory = await asyncio.to_thread(take_inventory, stick)
    if inventory is None:
        raise ProtocolError(f"{folder} holds no {ROOT}/{FOLDER}/ folder")
    db = Database(data_dir / "edge.db")
    await db.open(SCHEMA)
    try:
        return await add_releases(data_dir, db, provisioned.trust(), stick, inventory)
    finally:
        await db.close()


async def releases_from_stick(data_dir: Path, db: Database, trust: TrustDocument, stick: StickFS,
                              inventory: Inventory) -> list[dict[str, Any]]:
    """The USB watcher's call: the receipt's actions for the stick's releases (none when it carries none)."""
    return [r.action() for r in await add_releases(data_dir, db, trust, stick, inventory)]
