"""Fetching a release artifact in content-defined chunks: the software the box already runs supplies most of them.

The box rebuilds the artifact of the code it runs (protocol/release_artifact.py builds it the same way from the
same files), cuts it into chunks as the hub cut the new artifact (protocol/content_chunks.py, the hub's
`/content/{sha256}/index`), and asks the hub only for the chunks it lacks, a byte range per run of them. A
partial assembly left by a cut line is one more source of chunks, so the next try resumes. Every fetched chunk is
checked against the index and the assembled artifact against the release's signed SHA-256: an index that lies,
or anything else that goes wrong with it, only sends the box back to the whole download (edge/content/store.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass

import aiohttp

from edge.content.store import SPAN, BlobRefused, ContentStore
from edge.sync.line_budget import LineBudget
from protocol.atomic_file import place_durably, sha256_of_file
from protocol.content_chunks import Chunk, chunks_of, decode_index, max_index_bytes
from protocol.errors import ProtocolError
from protocol.release_artifact import build_artifact, source_root

from .version import running_version

log = logging.getLogger(__name__)
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


@dataclass(frozen=True)
class DeltaFetched:
    received: int  # bytes that came over the line (chunk bytes, not headers)
    reused: int  # bytes of the artifact the box already had


def running_artifact() -> bytes:
    """The artifact of the code this process runs, as the release builder would make it (blocking)."""
    return build_artifact(source_root(), running_version())


async def fetch_artifact(store: ContentStore, session: aiohttp.ClientSession, base_url: str, sha256: str,
                         size: int, budget: LineBudget | None = None) -> int:
    """The release artifact into the content store, in chunks when the hub has an index; returns bytes received."""
    if store.admit is not None and not await store.admit(sha256, size):
        return 0  # no room: the caller finds no file and tries later
    seed = await asyncio.to_thread(running_artifact)
    fetched = await fetch_reusing(store, session, base_url, sha256, size, [seed], budget)
    if fetched is not None:
        return fetched.received
    return await store.fetch(session, base_url, sha256, size, budget)


async def fetch_reusing(store: ContentStore, session: aiohttp.ClientSession, base_url: str, sha256: str,
                        size: int, seeds: list[bytes], budget: LineBudget | None = None) -> DeltaFetched | None:
    """The artifact into the content store from chunks of `seeds` and the hub; None: fetch it whole instead."""
    index = await _index(session, base_url, sha256, size)
    if index is None:
        return None
    part = store.root / "partial" / f"{sha256}.delta"
    if part.exists():  # a try a cut line stopped: its chunks (checked as they came) are not fetched again
        seeds = [*seeds, await asyncio.to_thread(part.read_bytes)]
    known = await asyncio.to_thread(_chunks_by_hash, seeds)
    received = reused = 0
    with part.open("wb") as out:  # noqa: ASYNC230 - small writes of an artifact of a few MB
        i = 0
        while i < len(index):
            if index[i].sha256 in known:
                out.write(known[index[i].sha256])
                reused += index[i].length
                i += 1
                continue
            run = _missing_run(index, i, known)
            async with aclosing(_run_chunks(session, base_url, sha256, size, run, budget)) as pieces:
                async for piece in pieces:
                    chunk = index[i]
                    if hashlib.sha256(piece).digest() != chunk.sha256:
                        # Damaged on the line, or an index that lies: the two look alike here, and the whole
                        # download has its own repair of damaged chunks. What was checked so far stays a seed.
                        log.warning("chunk at byte %d of %s does not match the index; fetching it whole",
                                    chunk.offset, sha256)
                        return None
                    out.write(piece)
                    out.flush()  # on its way to disk at once: a cut keeps every chunk that came whole
                    received += len(piece)
                    i += 1
    if await asyncio.to_thread(sha256_of_file, part) != sha256:
        part.unlink()
        log.warning("artifact %s assembled from chunks does not match its SHA-256; fetching it whole", sha256)
        return None
    await asyncio.to_thread(place_durably, part, store.path_for(sha256))
    log.info("artifact %s: %d bytes fetched, %d reused from the running version", sha256, received, reused)
    return DeltaFetched(received, reused)


async def _index(session: aiohttp.ClientSession, base_url: str, sha256: str, size: int) -> list[Chunk] | None:
    """The hub's chunk index of the blob, or None (an older hub, a blob too large, an index that does not fit)."""
    limit = max_index_bytes(size)
    try:
        async with session.get(f"{base_url}/content/{sha256}/index") as resp:
            if resp.status != 200:
                return None
            raw = await _read_at_most(resp, limit)
    except (aiohttp.ClientError, TimeoutError):
        return None
    try:
        if raw is None:
            raise ProtocolError(f"the index is longer than {limit} bytes")
        return decode_index(raw, size)
    except ProtocolError as exc:
        log.warning("hub's chunk index of %s refused (%s); fetching it whole", sha256, exc.detail)
        return None


def _chunks_by_hash(seeds: list[bytes]) -> dict[bytes, bytes]:
    known: dict[bytes, bytes] = {}
    for seed in seeds:
        for chunk in chunks_of(seed):
            known.setdefault(chunk.sha256, seed[chunk.offset : chunk.offset + chunk.length])
    return known


def _missing_run(index: list[Chunk], i: int, known: dict[bytes, bytes]) -> list[Chunk]:
    """The chunks from `i` on that the box lacks, next to each other, at most SPAN bytes in one request."""
    run = [index[i]]
    while (i + len(run) < len(index) and index[i + len(run)].sha256 not in known
           and run[-1].offset + run[-1].length - run[0].offset + index[i + len(run)].length <= SPAN):
        run.append(index[i + len(run)])
    return run


async def _run_chunks(session: aiohttp.ClientSession, base_url: str, sha256: str, size: int, run: list[Chunk],
                      budget: LineBudget | None) -> AsyncGenerator[bytes, None]:
    """The run's chunks, one by one as their bytes arrive. A run is one request of up to SPAN bytes, while a cut
    line may carry much less per connection: each chunk (at most 64 KiB) is handed on as soon as it is whole, so
    the next try resumes after it instead of asking for the whole run again."""
    first, last = run[0].offset, run[-1].offset + run[-1].length - 1
    want = last - first + 1
    async with session.get(f"{base_url}/content/{sha256}", headers={"Range": f"bytes={first}-{last}"}) as resp:
        m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
        if resp.status != 206 or m is None or int(m.group(1)) != first or int(m.group(2)) != last \
                or (m.group(3) != "*" and int(m.group(3)) != size):
            raise BlobRefused(f"hub answered {resp.status} for bytes {first}-{last} of {sha256}; will ask again")
        if budget is not None:
            await budget.take(want)
        pending, got, k = bytearray(), 0, 0
        async for piece in resp.content.iter_chunked(64 * 1024):
            got += len(piece)
            if got > want:
                raise BlobRefused(f"hub sent more than the {want} bytes asked of {sha256}; will ask again")
            pending += piece
            while k < len(run) and len(pending) >= run[k].length:
                yield bytes(pending[: run[k].length])
                del pending[: run[k].length]
                k += 1
    if k != len(run):
        raise BlobRefused(f"hub did not send the {want} bytes asked of {sha256}; will ask again")


async def _read_at_most(resp: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit` bytes (nothing more is read)."""
    pieces, got = [], 0
    async for piece in resp.content.iter_chunked(64 * 1024):
        got += len(piece)
        if got > limit:
            return None
        pieces.append(piece)
    return b"".join(pieces)
