"""Releases brought by hand: `VILLAGENET/firmware/NAME.vnr` (signed metadata) beside NAME.whl (the artifact).

Checked exactly as one from the line (release role, expiry, target, downgrade, minimum version) before anything is
copied; an accepted one becomes an offer like a `release` record, with its artifact already in the content store,
and the running box takes it from there.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from edge.box.provisioned import load_state as load_provisioned
from edge.schema import SCHEMA
from protocol.atomic_file import place_durably, sha256_of_file
from protocol.database import Database
from protocol.errors import DecodeError, ProtocolError
from protocol.releases import MAX_RELEASE_BYTES, check_fits, open_release
from protocol.trust import TrustDocument

from .offers import insert_offer
from .state import load_state
from .version import running_version

FIRMWARE = Path("VILLAGENET") / "firmware"


@dataclass(frozen=True)
class StickResult:
    name: str
    accepted: bool
    detail: str


def firmware_dir(path: Path) -> Path:
    return path / FIRMWARE if (path / "VILLAGENET").is_dir() else path


def box_version(data_dir: Path) -> str:
    """The version the box runs: the committed slot's, else the base installation's."""
    return load_state(data_dir).active_version or running_version()


async def add_from_folder(data_dir: Path, folder: Path) -> list[StickResult]:
    provisioned = load_provisioned(data_dir)
    if provisioned is None:
        raise ProtocolError("this box is not provisioned: it has no trust document to check releases against")
    trust = provisioned.trust()
    results = []
    db = Database(data_dir / "edge.db")
    await db.open(SCHEMA)
    try:
        for meta in sorted(firmware_dir(folder).glob("*.vnr")):
            try:
                results.append(await _add_one(data_dir, db, meta, trust))
            except ProtocolError as exc:
                results.append(StickResult(meta.name, False, f"{exc.code}: {exc.detail}"))
    finally:
        await db.close()
    return results


async def _add_one(data_dir: Path, db: Database, meta: Path, trust: TrustDocument) -> StickResult:
    signed = await asyncio.to_thread(_read_small, meta)
    release = open_release(signed, trust, now=int(time.time()))
    check_fits(release, "edge", box_version(data_dir))
    await asyncio.to_thread(_copy_artifact, data_dir, meta.with_suffix(".whl"), release.sha256, release.size)
    async with db.write() as conn:
        await insert_offer(conn, release.record_id, signed, release.sha256, release.size)
    return StickResult(meta.name, True, f"release {release.version} accepted; the box installs it by itself")


def _read_small(meta: Path) -> bytes:
    with meta.open("rb") as f:
        data = f.read(MAX_RELEASE_BYTES + 1)
    if len(data) > MAX_RELEASE_BYTES:
        raise DecodeError(f"{meta.name} is larger than {MAX_RELEASE_BYTES} bytes")
    return data


def _copy_artifact(data_dir: Path, artifact: Path, sha256: str, size: int) -> None:
    """Into the content store, where an artifact from the line would be, once it matches the signed release."""
    if not artifact.is_file() or artifact.stat().st_size != size:
        raise DecodeError(f"{artifact.name} is missing or not the {size} bytes the release names")
    final = data_dir / "content" / sha256[:2] / sha256
    if final.is_file():
        return
    tmp = data_dir / "content" / "partial" / f"{sha256}.stick"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(artifact, tmp)  # copied first, then hashed: the stick cannot change it in between
    if sha256_of_file(tmp) != sha256:
        tmp.unlink()
        raise DecodeError(f"{artifact.name} does not match the release's SHA-256")
    place_durably(tmp, final)
