"""Meeting recordings uploaded by village edges: resumable by offset, verified by SHA-256, then kept as a blob.

The partial file's length is what the hub holds (a crash loses at most the chunk being written); a finished
upload whose bytes do not hash to the declared SHA-256 is thrown away and the edge starts again.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from pathlib import Path
from typing import Any

from protocol.atomic_file import place_durably
from protocol.records import is_sha256_hex

from .blobs import BlobStore
from .errors import BadInput, Conflict, HubError
from .store import HubStore

RECORDING_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_CHUNK = 8 * 1024 * 1024
MIME = "video/mp2t"


class HashMismatch(HubError):
    status = 422
    code = "hash_mismatch"


class RecordingUploads:
    def __init__(self, root: Path, store: HubStore, blobs: BlobStore, max_bytes: int) -> None:
        self.root = root
        self.store = store
        self.blobs = blobs
        self.max_bytes = max_bytes
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def _partial(self, village_id: str, recording_id: str) -> Path:
        return self.root / village_id / f"{recording_id}.part"

    def parse(self, recording_id: str, size_raw: str | None, sha_raw: str | None) -> tuple[int, str]:
        if not RECORDING_ID.match(recording_id):
            raise BadInput("a recording id must be 1-64 letters, digits, '_' or '-'", "bad_id")
        if sha_raw is None or not is_sha256_hex(sha_raw):
            raise BadInput("sha256 must be 64 lowercase hex digits", "bad_sha256")
        if size_raw is None or not size_raw.isdigit() or not 0 < int(size_raw) <= self.max_bytes:
            raise BadInput(f"size must be a whole number from 1 to {self.max_bytes}", "bad_size")
        return int(size_raw), sha_raw

    async def status(self, village_id: str, recording_id: str, size: int, sha256: str) -> dict[str, Any]:
        """How much of this recording the hub holds; a new size or hash starts it afresh."""
        async with self._lock(village_id, recording_id):
            return await self._status(village_id, recording_id, size, sha256)

    async def _status(self, village_id: str, recording_id: str, size: int, sha256: str) -> dict[str, Any]:
        held = await self.store.get_recording(village_id, recording_id)
        partial = self._partial(village_id, recording_id)
        if held is not None and held.completed_at is not None:
            if (held.size, held.sha256) != (size, sha256):
                raise Conflict(f"recording {recording_id} is already complete with another hash", "conflict")
            return {"id": recording_id, "received": size, "size": size, "sha256": sha256, "complete": True}
        if held is None or (held.size, held.sha256) != (size, sha256):
            await asyncio.to_thread(partial.unlink, True)
            async with self.store.transaction() as tx:
                await tx.start_recording(village_id, recording_id, size, sha256)
        received = await asyncio.to_thread(_size_of, partial)
        return {"id": recording_id, "received": received, "size": size, "sha256": sha256, "complete": False}

    def _lock(self, village_id: str, recording_id: str) -> asyncio.Lock:
        return self._locks.setdefault((village_id, recording_id), asyncio.Lock())

    async def receive(self, village_id: str, recording_id: str, size: int, sha256: str, offset: int,
                      chunk: bytes) -> dict[str, Any]:
        """Append a chunk at `offset` (which must be what the hub holds); verify and keep the whole at the end."""
        async with self._lock(village_id, recording_id):
            status = await self._status(village_id, recording_id, size, sha256)
            if status["complete"]:
                return status
            if offset != status["received"]:
                raise Conflict(f"the hub holds {status['received']} bytes of recording {recording_id};"
                               f" send from there", "wrong_offset", received=status["received"])
            if offset + len(chunk) > size:
                raise BadInput(f"the chunk runs past the declared size of {size} bytes", "too_long")
            partial = self._partial(village_id, recording_id)
            received = await asyncio.to_thread(_append, partial, chunk)
            if received < size:
                return {**status, "received": received}
            digest = await asyncio.to_thread(_sha256_of, partial)
            if digest != sha256:
                await asyncio.to_thread(partial.unlink, True)
                raise HashMismatch(f"recording {recording_id} does not hash to {sha256}; it was discarded,"
                                   f" send it again from the start", received=0)
            await asyncio.to_thread(_place, partial, self.blobs.path_for(sha256))
            async with self.store.transaction() as tx:
                await tx.put_blob(sha256, size, MIME)
                await tx.complete_recording(village_id, recording_id)
            return {**status, "received": size, "complete": True}


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _append(path: Path, chunk: bytes) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as f:
        f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
        return f.tell()


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1024 * 1024):
            h.update(block)
    return h.hexdigest()


def _place(partial: Path, final: Path) -> None:
    if final.exists():
        partial.unlink()
    else:
        place_durably(partial, final, synced=True)  # every chunk was fsynced by _append; now the rename too
