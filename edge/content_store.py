"""Content-addressed blobs at the edge: fetched from the hub with resumable Range requests, verified, served.

A blob becomes visible only after its SHA-256 and size match what the signed notice declared; a partial
download is kept (`.part`) so a cut line resumes where it stopped, and a corrupted one is thrown away.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path

import aiohttp

from protocol.database import Database
from protocol.records import is_sha256_hex

log = logging.getLogger(__name__)
_CHUNK = 256 * 1024


class BlobRefused(Exception):
    """The hub sent bytes that are not the blob that was asked for."""


class ContentStore:
    def __init__(self, root: Path, db: Database) -> None:
        self.root = root
        self.db = db
        (root / "partial").mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        if not is_sha256_hex(sha256):
            raise ValueError("not a sha256")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return is_sha256_hex(sha256) and self.path_for(sha256).is_file()

    async def missing(self, limit: int = 50) -> list[tuple[str, int]]:
        rows = await self.db.fetchall(
            "SELECT sha256, size FROM blobs WHERE present = 0 ORDER BY failures, size LIMIT ?", (limit,)
        )
        return [(r["sha256"], r["size"]) for r in rows]

    async def fetch(self, session: aiohttp.ClientSession, base_url: str, sha256: str, size: int) -> int:
        """Download one blob (resuming a partial one), verify, move into place; returns bytes received."""
        part = self.root / "partial" / sha256
        have = part.stat().st_size if part.exists() else 0
        if have > size:
            part.unlink()
            have = 0
        received = 0
        if have < size:
            headers = {"Range": f"bytes={have}-"} if have else {}
            async with session.get(f"{base_url}/content/{sha256}", headers=headers) as resp:
                if resp.status == 200 and have:
                    have = 0  # the hub ignored the range; start over
                elif resp.status not in (200, 206):
                    raise BlobRefused(f"hub answered {resp.status} for blob {sha256}")
                with part.open("r+b" if have else "wb") as f:
                    f.seek(have)
                    f.truncate()
                    async for chunk in resp.content.iter_chunked(_CHUNK):
                        if have + received + len(chunk) > size:
                            f.close()
                            part.unlink()
                            raise BlobRefused(f"blob {sha256} is longer than its declared {size} bytes")
                        await asyncio.to_thread(f.write, chunk)
                        received += len(chunk)
        if part.stat().st_size < size:
            raise BlobRefused(f"blob {sha256} ended after {part.stat().st_size} of {size} bytes")
        digest = await asyncio.to_thread(_sha256_of, part)
        if digest != sha256:
            part.unlink()
            await self._record_failure(sha256, "checksum mismatch; discarded, will fetch again")
            raise BlobRefused(f"blob {sha256} failed its checksum; discarded and will be fetched again")
        final = self.path_for(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        part.replace(final)
        async with self.db.write() as conn:
            await conn.execute("UPDATE blobs SET present = 1, last_error = NULL WHERE sha256 = ?", (sha256,))
        log.info("blob %s (%d bytes) fetched and verified", sha256, size)
        return received

    async def _record_failure(self, sha256: str, reason: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                "UPDATE blobs SET failures = failures + 1, last_error = ? WHERE sha256 = ?", (reason, sha256)
            )


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()
