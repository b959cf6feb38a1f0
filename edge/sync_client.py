"""The edge's sync loops: enroll once, push the up feed, pull the down feed, fetch the blobs it names.

Each loop retries with jittered backoff capped at 30 s and resumes from the positions stored in SQLite, so a
cut line, a dead hub or a kill -9 of the edge only delays, never loses or repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from protocol import codec
from protocol.backoff import Backoff
from protocol.database import Database
from protocol.errors import ChainError, ProtocolError
from protocol.feed import Entry, feed_name, make_batch, new_entries, open_batch

from .config import EdgeConfig
from .content_store import BlobRefused, ContentStore
from .down_apply import apply_down
from .feed_positions import read_position, write_position
from .hub_client import HubClient, HubRefused
from .state_holder import StateHolder

log = logging.getLogger(__name__)
_EXPECTED = (aiohttp.ClientError, asyncio.TimeoutError, ProtocolError, HubRefused, BlobRefused, OSError)


@dataclass
class SyncHealth:
    """What the status document and the staff page say about the line."""

    phase: str = "idle"
    last_success_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    by_loop: dict[str, str] = field(default_factory=dict)

    def ok(self, loop: str) -> None:
        self.last_success_at = time.time()
        self.by_loop[loop] = "ok"
        if all(v == "ok" for v in self.by_loop.values()):
            self.last_error = None

    def failed(self, loop: str, exc: BaseException) -> None:
        self.last_error = f"{loop}: {exc}" if str(exc) else f"{loop}: {type(exc).__name__}"
        self.last_error_at = time.time()
        self.by_loop[loop] = "error"


class SyncClient:
    def __init__(self, config: EdgeConfig, db: Database, holder: StateHolder, content: ContentStore) -> None:
        self.config = config
        self.db = db
        self.holder = holder
        self.content = content
        self.health = SyncHealth()
        self.submitted = asyncio.Event()  # set by the outbox so a new submission goes up at once
        self.blobs_wanted = asyncio.Event()
        self._enrolled = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------------
    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=self.config.request_timeout_s + 30)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            self._session = session
            await asyncio.gather(
                self._loop("enroll", self._enroll_once, needs_enrollment=False),
                self._loop("push", self._push_once),
                self._loop("pull", self._pull_once),
                self._loop("blobs", self._fetch_blobs_once),
            )

    def _client(self) -> HubClient:
        state = self.holder.current
        assert state is not None and self._session is not None
        return HubClient(self._session, state.hub_url, self.holder.key, state.village_id)

    async def _loop(self, name: str, once: Any, needs_enrollment: bool = True) -> None:
        backoff = Backoff(self.config.backoff_base_s, self.config.backoff_max_s)
        while True:
            if self.holder.current is None:
                await asyncio.sleep(1.0)
                continue
            if needs_enrollment:
                await self._enrolled.wait()
            try:
                self.health.phase = name
                idle = await once()
                self.health.ok(name)
                backoff.reset()
                if idle:
                    await idle
            except _EXPECTED as exc:
                self.health.failed(name, exc)
                delay = backoff.next_delay()
                log.warning("sync %s failed (%s); next try in %.1f s", name, exc, delay)
                await asyncio.sleep(delay)

    async def _wait_for(self, event: asyncio.Event, timeout: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        event.clear()

    # -- the four loops; each returns an awaitable to idle on, or None to go again at once ----------------------
    async def _enroll_once(self) -> Any:
        state = self.holder.current
        assert state is not None
        if not state.enrolled:
            trust_raw = await self._client().enroll(state.enroll_token)
            from protocol.trust import open_trust

            open_trust(trust_raw, state.root_key, min_version=self.holder.trust().version)
            self.holder.set_enrolled(trust_raw)
            log.info("enrolled with the hub for village %s as %s", state.village_id, self.holder.key.node_id)
        self._enrolled.set()
        self.holder.changed.clear()
        return self.holder.changed.wait()  # a new bundle may need a new enrollment

    async def _push_once(self) -> Any:
        client = self._client()
        feed = feed_name("up", client.village_id)
        hub_seq, hub_hash = await client.up_position()
        local_head = int(await self.db.fetchvalue("SELECT COALESCE(MAX(seq), 0) FROM up_entries", default=0))
        if hub_seq > local_head:
            raise ChainError(f"hub claims {hub_seq} up entries but this edge has only {local_head}")
        if hub_seq:
            ours = await self.db.fetchvalue("SELECT hash FROM up_entries WHERE seq = ?", (hub_seq,))
            if ours != hub_hash:
                raise ChainError(f"hub holds a different up entry {hub_seq} than this edge wrote")
        await self._mark_acked(hub_seq, hub_hash)
        while hub_seq < local_head:
            entries = await self._up_entries_after(hub_seq)
            batch = make_batch(self.holder.key, feed, entries, 0, b"")
            try:
                hub_seq = await client.push_up(batch)
            except HubRefused as exc:
                if exc.status == 409 and isinstance(exc.have, int):
                    hub_seq = exc.have  # resume from where the hub stands
                    continue
                raise
            acked_hash = await self.db.fetchvalue("SELECT hash FROM up_entries WHERE seq = ?", (hub_seq,))
            await self._mark_acked(hub_seq, acked_hash)
        return self._wait_for(self.submitted, self.config.push_interval_s)

    async def _up_entries_after(self, seq: int) -> list[Entry]:
        rows = await self.db.fetchall(
            "SELECT seq, prev, hash, op, size FROM up_entries WHERE seq > ? ORDER BY seq LIMIT 5000", (seq,)
        )
        entries: list[Entry] = []
        budget = self.config.batch_max_bytes
        for r in rows:
            if entries and budget - r["size"] < 0:
                break
            budget -= r["size"] + 40
            entries.append(Entry(r["seq"], r["prev"], codec.decode(r["op"]), r["hash"]))
        return entries

    async def _mark_acked(self, seq: int, hash_: bytes) -> None:
        current, _ = await read_position(self.db, "up_acked")
        if seq != current:
            async with self.db.write() as conn:
                await write_position(conn, "up_acked", seq, hash_)

    async def _pull_once(self) -> Any:
        client = self._client()
        have_seq, have_hash = await read_position(self.db, "down")
        data = await client.pull_down(have_seq, self.config.batch_max_bytes, self.config.longpoll_s)
        trust = self.holder.trust()
        batch = open_batch(data, feed_name("down", client.village_id), "hub", trust.can_sign)
        if batch.head_seq < have_seq:
            raise ChainError(f"hub serves a down feed of {batch.head_seq} entries; this edge has {have_seq} (rolled back?)")
        if batch.head_seq == have_seq and batch.head_hash != have_hash:
            raise ChainError(f"hub's down entry {have_seq} differs from the one this edge applied")
        entries = new_entries(batch, have_seq, have_hash)
        if entries:
            await apply_down(self.db, entries)
            self.blobs_wanted.set()
            log.info("applied down entries %d..%d", entries[0].seq, entries[-1].seq)
        await self._note_success()
        return None  # straight back into the next (long) poll

    async def _fetch_blobs_once(self) -> Any:
        state = self.holder.current
        assert state is not None and self._session is not None
        for sha256, size in await self.content.missing():
            if size > self.config.blob_max_bytes:
                log.warning("blob %s of %d bytes is over the limit; not fetched", sha256, size)
                continue
            await self.content.fetch(self._session, state.hub_url, sha256, size)
        return self._wait_for(self.blobs_wanted, 30.0)

    async def _note_success(self) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO sync_health (name, value) VALUES ('last_sync_at', ?)", (str(time.time()),)
            )
