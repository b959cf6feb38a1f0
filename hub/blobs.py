"""Content-addressed blob store on disk (DATA/blobs/ab/abcdef...) and streaming upload; hub/blob_serving.py serves.

Uploads are hashed while they stream into a temporary file and renamed into place only when complete, so a blob
at its name is always whole and its name is always its SHA-256.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from protocol.atomic_file import place_durably
from protocol.records import is_sha256_hex

from .errors import HubError
from .store import HubStore

_FLUSH_BYTES = 1024 * 1024  # write to disk in ~1 MiB steps, off the event loop


class BlobTooLarge(HubError):
    status = 413
    code = "too_large"


class BlobStore:
    def __init__(self, root: Path, store: HubStore) -> None:
        self.root = root
        self._store = store
        self._tmp = root / "tmp"

    def path_for(self, sha256: str) -> Path:
        assert is_sha256_hex(sha256), "callers check the name before it becomes a path"
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return is_sha256_hex(sha256) and self.path_for(sha256).is_file()

    async def meta(self, sha256: str) -> tuple[int, str] | None:
        """(size, mime) of a stored blob, or None when it is not (fully) here."""
        if not self.has(sha256):
            return None
        return await self._store.blob_meta(sha256)

    async def receive(self, chunks: AsyncIterator[bytes], max_bytes: int, mime: str) -> tuple[str, int]:
        """Stream an upload to disk while hashing; returns (sha256, size). Over `max_bytes`: BlobTooLarge."""
        self._tmp.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp / f"{uuid.uuid4().hex}.part"
        digest = hashlib.sha256()
        size = 0
        pending: list[bytes] = []
        pending_size = 0
        handle: BinaryIO = await asyncio.to_thread(open, tmp, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise BlobTooLarge(f"the blob is larger than {max_bytes} bytes")
                digest.update(chunk)
                pending.append(chunk)
                pending_size += len(chunk)
                if pending_size >= _FLUSH_BYTES:
                    await asyncio.to_thread(handle.write, b"".join(pending))
                    pending, pending_size = [], 0
            await asyncio.to_thread(_finish, handle, b"".join(pending))
            sha = digest.hexdigest()
            final = self.path_for(sha)
            await asyncio.to_thread(_place, tmp, final)
        except BaseException:
            handle.close()
            tmp.unlink(missing_ok=True)
            raise
        async with self._store.transaction() as tx:
            await tx.put_blob(sha, size, mime)
        return sha, size


def _finish(handle: BinaryIO, tail: bytes) -> None:
    handle.write(tail)
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


def _place(tmp: Path, final: Path) -> None:
    if final.exists():  # same content already stored: keep the first copy
        tmp.unlink()
        return
    place_durably(tmp, final, synced=True)  # _finish fsynced the bytes; the folder's entry too before it counts
