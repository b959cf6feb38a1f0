"""Content-addressed blobs at the edge: fetched from the hub with resumable Range requests, verified, served.

A blob becomes visible only after its SHA-256 and size match what the signed notice declared; a partial
download is kept (`.part`) so a cut line resumes where it stopped. With the hub's per-chunk hashes (a hint), a
chunk damaged on the line is found and fetched again on its own; without them a damaged blob starts over.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from edge.notices.board import emergency_attachments
from edge.sync.line_budget import LineBudget
from protocol.atomic_file import place_durably, sha256_of_file
from protocol.blob_chunks import CHUNK_SIZE, DIGEST, hints_length
from protocol.database import Database
from protocol.records import is_sha256_hex

log = logging.getLogger(__name__)
_CHUNK = 256 * 1024
_MAX_RETRIES = 16  # damaged chunks re-asked per fetch() call; the sync loop calls again later
# One request asks for at most this much: a damaged chunk then wastes at most one span of bytes in flight, and the
# extra round trip per span costs about 1 % at 2 Mbit/s and 200 ms.
SPAN = 2 * 1024 * 1024
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
class BlobRefused(Exception):
    """The hub sent bytes that are not the blob that was asked for."""


class ContentStore:
    def __init__(self, root: Path, db: Database) -> None:
        self.root = root
        self.db = db
        (root / "partial").mkdir(parents=True, exist_ok=True)
        # Hooks for the content cache (edge/content/cache.py): asked before a download whether there is room
        # (False skips the blob), told after a blob is in place. Without them the store keeps everything.
        self.admit: Callable[[str, int], Awaitable[bool]] | None = None
        self.stored: Callable[[str, int], Awaitable[None]] | None = None

    def path_for(self, sha256: str) -> Path:
        if not is_sha256_hex(sha256):
            raise ValueError("not a sha256")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return is_sha256_hex(sha256) and self.path_for(sha256).is_file()

    async def missing(self, limit: int = 50) -> list[tuple[str, int]]:
        """Blobs named by applied records and not here yet, most urgent first (emergency first, video last)."""
        return (await self._missing_in_order(urgent_only=False))[:limit]

    async def urgent_missing(self, limit: int = 50) -> list[tuple[str, int]]:
        """Missing attachments of emergency notices: fetched even before the record backlog is done."""
        return (await self._missing_in_order(urgent_only=True))[:limit]

    async def _missing_in_order(self, urgent_only: bool) -> list[tuple[str, int]]:
        # Emergency notices' attachments first, video and audio last; among equals, fewer failures and smaller first.
        rows = await self.db.fetchall("SELECT sha256, size, mime, failures FROM blobs WHERE present = 0")
        if not rows:
            return []
        urgent = await emergency_attachments(self.db)
        if urgent_only:
            rows = [r for r in rows if r["sha256"] in urgent]
        rows.sort(key=lambda r: (r["sha256"] not in urgent, str(r["mime"] or "").startswith(("video/", "audio/")),
                                 r["failures"], r["size"]))
        return [(r["sha256"], r["size"]) for r in rows]

    async def present_bytes(self) -> int:
        """What the blobs held here weigh together."""
        return int(await self.db.fetchvalue("SELECT COALESCE(SUM(size), 0) FROM blobs WHERE present = 1", default=0))

    async def wanted_sizes(self) -> dict[str, int]:
        """Every blob named by applied records and not here yet, with its declared size."""
        rows = await self.db.fetchall("SELECT sha256, size FROM blobs WHERE present = 0")
        return {r["sha256"]: r["size"] for r in rows}

    async def mark_present(self, sha256: str) -> None:
        """A verified blob was put in place by another way than a download (a content pack from a stick)."""
        async with self.db.write() as conn:
            await conn.execute("UPDATE blobs SET present = 1, last_error = NULL WHERE sha256 = ?", (sha256,))

    async def backlog(self) -> tuple[int, int]:
        """(count, bytes) of blobs still to fetch."""
        row = await self.db.fetchone("SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM blobs WHERE present = 0")
        return (int(row["n"]), int(row["bytes"])) if row else (0, 0)

    async def fetch(self, session: aiohttp.ClientSession, base_url: str, sha256: str, size: int,
                    budget: LineBudget | None = None) -> int:
        """Download one blob (resuming a partial one), verify, move into place; returns bytes received."""
        if self.admit is not None and not await self.admit(sha256, size):
            return 0
        part = self.root / "partial" / sha256
        have = part.stat().st_size if part.exists() else 0
        if have > size:
            part.unlink()
            have = 0
        hints = await self._hints(session, base_url, sha256, size) if size > CHUNK_SIZE else None
        if hints is not None and have:
            have = await asyncio.to_thread(_verified_prefix, part, have, hints)
        received = 0
        for _ in range(size // SPAN + _MAX_RETRIES + 1):
            if have >= size:
                break
            got, have = await self._get_range(session, base_url, sha256, size, part, have, hints, budget)
            received += got
        if part.exists() and part.stat().st_size < size:
            raise BlobRefused(f"blob {sha256} ended after {part.stat().st_size} of {size} bytes; will resume")
        if not part.exists():
            part.touch()  # an empty blob
        digest = await asyncio.to_thread(sha256_of_file, part)
        if digest != sha256:
            part.unlink()
            await self._record_failure(sha256, "checksum mismatch; discarded, will fetch again")
            raise BlobRefused(f"blob {sha256} failed its checksum; discarded and will be fetched again")
        # On disk for good before it is marked present: from then on it is served as immutable.
        await asyncio.to_thread(place_durably, part, self.path_for(sha256))
        async with self.db.write() as conn:
            await conn.execute("UPDATE blobs SET present = 1, last_error = NULL WHERE sha256 = ?", (sha256,))
        log.info("blob %s (%d bytes) fetched and verified", sha256, size)
        if self.stored is not None:
            await self.stored(sha256, size)
        return received

    async def _hints(self, session: aiohttp.ClientSession, base_url: str, sha256: str, size: int) -> bytes | None:
        """The hub's per-chunk hashes, or None (an older hub, or a wrong answer: then whole-blob checks only)."""
        want = hints_length(size)
        try:
            async with session.get(f"{base_url}/content/{sha256}/chunks") as resp:
                if resp.status != 200 or (resp.content_length is not None and resp.content_length != want):
                    return None
                data = await resp.content.read(want + 1)
        except (aiohttp.ClientError, TimeoutError):
            return None
        return data if len(data) == want else None

    async def _get_range(self, session: aiohttp.ClientSession, base_url: str, sha256: str, size: int, part: Path,
                         have: int, hints: bytes | None, budget: LineBudget | None) -> tuple[int, int]:
        """One request from byte `have`; returns (bytes received, new have). A damaged chunk is cut off again."""
        last = min(size, have + SPAN) - 1
        headers = {"Range": f"bytes={have}-{last}"} if have or last < size - 1 else {}
        received = 0
        async with session.get(f"{base_url}/content/{sha256}", headers=headers) as resp:
            if resp.status == 200:
                have = 0  # a whole answer (the hub ignored the range): start over
            elif resp.status == 206:
                m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
                if m is None or int(m.group(1)) != have or (m.group(3) != "*" and int(m.group(3)) != size):
                    raise BlobRefused(f"hub answered blob {sha256} with an unexpected range; will ask again")
            else:
                raise BlobRefused(f"hub answered {resp.status} for blob {sha256}")
            # Declared sizes are checked before anything is stored: more than the signed size is refused at once.
            if resp.content_length is not None and resp.content_length > size - have:
                raise BlobRefused(
                    f"hub declares {resp.content_length} bytes from byte {have} of blob {sha256}, more than its "
                    f"signed size of {size}; refused"
                )
            chunk_start = have - have % CHUNK_SIZE
            hasher = hashlib.sha256(await asyncio.to_thread(_read_range, part, chunk_start, have) if have else b"")
            f = await asyncio.to_thread(part.open, "r+b" if have else "wb")
            with f:
                f.seek(have)
                f.truncate()
                async for data in resp.content.iter_chunked(_CHUNK):
                    if have + len(data) > size:
                        f.close()
                        part.unlink()  # noqa: ASYNC240 - a small metadata call, once
                        raise BlobRefused(f"blob {sha256} is longer than its signed {size} bytes; refused and discarded")
                    if budget is not None:
                        await budget.take(len(data))
                    f.write(data)  # to the page cache, quick: reading on at once keeps a cut from losing buffered bytes
                    received += len(data)
                    pos = 0
                    while pos < len(data):
                        boundary = min(chunk_start + CHUNK_SIZE, size)
                        take = min(len(data) - pos, boundary - have)
                        hasher.update(data[pos : pos + take])
                        pos += take
                        have += take
                        if have == boundary:
                            index = chunk_start // CHUNK_SIZE
                            if hints is not None and hasher.digest() != hints[index * DIGEST : (index + 1) * DIGEST]:
                                f.truncate(chunk_start)
                                log.warning("blob %s chunk %d damaged on the line; fetching it again", sha256, index)
                                return received, chunk_start
                            chunk_start, hasher = boundary, hashlib.sha256()
        return received, have

    async def _record_failure(self, sha256: str, reason: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                "UPDATE blobs SET failures = failures + 1, last_error = ? WHERE sha256 = ?", (reason, sha256)
            )

    async def record_failure(self, sha256: str, reason: str) -> None:
        await self._record_failure(sha256, reason)


def _read_range(path: Path, start: int, end: int) -> bytes:
    with path.open("rb") as f:
        f.seek(start)
        return f.read(end - start)


def _verified_prefix(path: Path, have: int, hints: bytes) -> int:
    """How much of a partial download to keep: up to the first complete chunk that does not match its hint."""
    with path.open("r+b") as f:
        index = 0
        while (index + 1) * CHUNK_SIZE <= have:
            data = f.read(CHUNK_SIZE)
            if hashlib.sha256(data).digest() != hints[index * DIGEST : (index + 1) * DIGEST]:
                f.truncate(index * CHUNK_SIZE)
                return index * CHUNK_SIZE
            index += 1
    return have
