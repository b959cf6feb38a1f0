"""The edge's sync loops: enroll, keep the trust document fresh, push the up feed, pull the down feed, fetch blobs.

Each loop retries with jittered backoff capped at 30 s and resumes from the positions stored in SQLite, so a
cut line, a dead hub or a kill -9 of the edge only delays, never loses or repeats. Records go before blobs
(emergency attachments excepted), and every transfer draws from one line budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from edge.box.provisioned import KEY_FILE, ProvisionedState
from edge.box.staff_cert import make_csr, needs_certificate, save_certificate
from edge.box.state_holder import StateHolder
from edge.config import EdgeConfig
from edge.content.store import BlobRefused, ContentStore
from edge.feeds.positions import down_applied, mark_acked, up_entries_after, up_hash, up_head
from edge.sync import health as health_store
from edge.sync.down_receive import receive_down
from edge.sync.health import SyncHealth
from edge.sync.hub_client import HubClient, HubRefused
from edge.sync.hub_clock import HubClock
from edge.sync.hub_tls import HubSessions, certificate_refusal
from edge.sync.line_budget import LineBudget
from protocol.ack import open_ack
from protocol.backoff import Backoff
from protocol.database import Database
from protocol.errors import ChainError, ProtocolError, UnknownKey
from protocol.feed import feed_name, make_batch
from protocol.keys import NodeKey
from protocol.trust import open_trust

log = logging.getLogger(__name__)
CERT_CHECK_S = 24 * 3600.0
_EXPECTED = (aiohttp.ClientError, asyncio.TimeoutError, ProtocolError, HubRefused, BlobRefused, OSError)


class SyncClient:
    def __init__(self, config: EdgeConfig, db: Database, holder: StateHolder, content: ContentStore) -> None:
        self.config = config
        self.db = db
        self.holder = holder
        self.content = content
        self.health = SyncHealth()
        self.clock = HubClock(db, config.hub_clock_tolerance_s, config.hub_stale_after_s, config.hub_clock_max_ahead_s)
        self.budget = LineBudget(config.sync_max_bytes_per_s)
        # Set after every commit that appended to the up feed (a commit hook, see run()): it goes up at once.
        self.submitted = asyncio.Event()
        self.blobs_wanted = asyncio.Event()
        self.down_caught_up = asyncio.Event()  # records first: ordinary blobs wait for the down backlog
        self.trust_wanted = asyncio.Event()
        self._enrolled = asyncio.Event()
        self._sessions: HubSessions | None = None  # made in run(): TLS pinned to the bundle's city CA

    # -- lifecycle ---------------------------------------------------------------------------------------------
    async def run(self) -> None:
        await self.db.on_insert("up_entries", self.submitted.set)
        # Notices that arrive by stick name blobs the line should fetch once it works.
        await self.db.on_insert("notices", self.blobs_wanted.set)
        await self.clock.load()
        self.health.key_revoked = await health_store.revoked_token(self.db) is not None
        # A read may be silent for a whole long poll; longer than that, the line has died under us (or a flipped
        # length makes us wait for bytes that never come).
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10,
                                        sock_read=self.config.request_timeout_s + self.config.longpoll_s)
        self._sessions = HubSessions(timeout)
        try:
            await asyncio.gather(
                self._loop("enroll", self._enroll_once, needs_enrollment=False),
                self._loop("trust", self._refresh_trust_once),
                self._loop("push", self._push_once),
                self._loop("pull", self._pull_once),
                self._loop("blobs", self._fetch_blobs_once),
            )
        finally:
            await self._sessions.close()
            self._sessions = None

    def _client(self) -> HubClient:
        client = self.hub_client()
        assert client is not None
        return client

    def hub_client(self) -> HubClient | None:
        """A signed client to the hub on the sync's session and line budget; None before provisioning or run()."""
        state = self.holder.current
        if state is None or self._sessions is None:
            return None
        return HubClient(self._sessions.session_for(state), state.hub_url, self.holder.key, state.village_id, self.budget,
                         self.config.sync_compress)

    async def _loop(self, name: str, once: Callable[[], Awaitable[Any]], needs_enrollment: bool = True) -> None:
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
            except _EXPECTED as caught:
                state = self.holder.current
                exc = (certificate_refusal(caught, state.hub_url) if state else None) or caught
                await self._note_refusal(exc)
                self.health.failed(name, exc)
                delay = backoff.next_delay()
                log.warning("sync %s failed (%s); next try in %.1f s", name, exc, delay)
                await asyncio.sleep(delay)

    async def _note_refusal(self, exc: BaseException) -> None:
        if isinstance(exc, UnknownKey):
            self.trust_wanted.set()  # maybe the hub rotated its key: fetch the trust document before retrying
        if isinstance(exc, HubRefused) and exc.code == "revoked_key" and not self.health.key_revoked:
            state = self.holder.current
            self.health.key_revoked = True
            await health_store.record_revoked(self.db, state.enroll_token if state else "")
            log.error("the hub revoked this box's key; it re-enrolls with a new key once a new bundle is applied")

    async def _wait_for(self, event: asyncio.Event, timeout: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        event.clear()

    async def _wait_set(self, event: asyncio.Event, timeout: float) -> None:
        """Wait for a state (not a one-shot signal): the event stays set for the others who look at it."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    # -- the loops; each returns an awaitable to idle on, or None to go again at once ---------------------------
    async def _enroll_once(self) -> Any:
        state = self.holder.current
        assert state is not None
        revoked = await health_store.revoked_token(self.db)
        if revoked is not None and state.enroll_token != revoked:
            await self._new_identity()  # a new bundle after a revocation: a new key, never the revoked one
            state = self.holder.current
            assert state is not None
        wants_cert = self.config.staff_tls_listen is not None and await asyncio.to_thread(
            needs_certificate, self.holder.data_dir, state.village_id)
        if not state.enrolled or (revoked is not None and state.enroll_token != revoked):
            self._enrolled.clear()
            trust_raw = await self._enroll_with_csr(state, wants_cert)
            open_trust(trust_raw, state.root_key, min_version=self.holder.trust().version)
            self.holder.set_enrolled(trust_raw)
            if revoked is not None:
                await health_store.clear_revoked(self.db)
                self.health.key_revoked = False
            log.info("enrolled with the hub for village %s as %s", state.village_id, self.holder.key.node_id)
        elif wants_cert:
            # Enrolling again with the same key and token is answered as already done, with a new certificate.
            await self._enroll_with_csr(state, True)
        self._enrolled.set()
        self.holder.changed.clear()
        # A new bundle may need a new enrollment; once a day the staff page's certificate is looked at for renewal.
        return self._wait_for(self.holder.changed, CERT_CHECK_S)

    async def _enroll_with_csr(self, state: ProvisionedState, wants_cert: bool) -> bytes:
        csr = (await asyncio.to_thread(make_csr, self.holder.data_dir, state.village_id,
                                       self.config.staff_tls_addresses)) if wants_cert else None
        answer = await self._client().enroll(state.enroll_token, csr)
        if csr is not None and answer.certificate is not None:
            await asyncio.to_thread(save_certificate, self.holder.data_dir, answer.certificate)
            log.info("the hub's city CA issued this box's staff-page certificate")
        elif csr is not None:
            log.warning("the hub issued no staff-page certificate (it has no city CA: TLS is off there)")
        return answer.trust_raw

    async def _new_identity(self) -> None:
        key = NodeKey.generate()
        key.save(self.holder.data_dir / KEY_FILE)
        self.holder.key = key
        log.warning("this box has a new node key %s after the old one was revoked", key.node_id)

    async def _refresh_trust_once(self) -> Any:
        """Fetch the trust document; take it only under the pinned root and never at a lower version."""
        state = self.holder.current
        assert state is not None
        raw = await self._client().trust()
        current = self.holder.trust()
        doc = open_trust(raw, state.root_key, now=self.clock.now_at_least(), min_version=current.version)
        if doc.version > current.version:
            self.holder.set_enrolled(raw)
            log.info("trust document version %d taken (was %d)", doc.version, current.version)
        return self._wait_for(self.trust_wanted, self.config.trust_refresh_s)

    async def _push_once(self) -> Any:
        client = self._client()
        feed = feed_name("up", client.village_id)
        position = await client.up_position()
        hub_seq, hub_hash = position.have, position.hash
        local_head = await up_head(self.db)
        if hub_seq > local_head or await up_hash(self.db, hub_seq) != hub_hash:
            raise ChainError(f"hub holds up entry {hub_seq} that this edge did not write (this edge has {local_head})")
        if hub_seq > 0:
            await self._take_ack(feed, hub_seq, hub_hash, position.ack)
        while hub_seq < local_head:
            self.health.phase = "push"
            entries = await up_entries_after(self.db, hub_seq, self.config.batch_max_bytes)
            batch = make_batch(self.holder.key, feed, entries, 0, b"", compact=True, tail_seq=local_head)
            try:
                answer = await client.push_up(batch)
            except HubRefused as exc:
                if exc.status == 409:
                    return None  # the hub stands elsewhere: ask it again where (its answer is hash-checked)
                raise
            hub_seq = await self._take_ack(feed, answer.have, answer.hash, answer.ack)
            local_head = await up_head(self.db)
        return self._wait_for(self.submitted, self.config.push_interval_s)

    async def _take_ack(self, feed: str, have: int, hash_: bytes | None, ack_raw: bytes | None) -> int:
        """Mark delivered only what the hub's signed acknowledgement names and our own entry matches.

        The plain `have` and `hash` beside it are unsigned: anyone on the line could write them, so they never mark
        a resident's submission delivered on their own.
        """
        if ack_raw is None:
            raise ChainError(f"the hub's answer says it holds up entry {have} but carries no signed acknowledgement")
        doc = self.holder.trust()
        at = self.clock.now_at_least()
        ack = open_ack(ack_raw, feed, lambda k: doc.can_sign(k, at))
        have, hash_ = ack.seq, ack.hash
        if not await mark_acked(self.db, have, hash_):
            raise ChainError(f"the hub's acknowledgement of up entry {have} does not match this edge's entry")
        return have

    async def _pull_once(self) -> Any:
        client = self._client()
        have = await down_applied(self.db)
        data = await client.pull_down(have, self.config.batch_max_bytes, self.config.longpoll_s)
        result = await receive_down(self.db, self.clock, self.holder.trust, client.village_id, data)
        if result.applied or result.ahead:
            self.blobs_wanted.set()
        if result.caught_up:
            self.down_caught_up.set()
        else:
            self.down_caught_up.clear()
        await health_store.record_synced(self.db)
        return None  # straight back into the next (long) poll

    async def _fetch_blobs_once(self) -> Any:
        state = self.holder.current
        assert state is not None and self._sessions is not None
        for sha256, size in await self.content.urgent_missing():
            await self._fetch(state.hub_url, sha256, size)
        if not self.down_caught_up.is_set():
            return self._wait_set(self.down_caught_up, 30.0)
        for sha256, size in await self.content.missing():
            if not self.down_caught_up.is_set():
                break  # new records arrived: they go first
            await self._fetch(state.hub_url, sha256, size)
        return self._wait_for(self.blobs_wanted, 30.0)

    async def _fetch(self, hub_url: str, sha256: str, size: int) -> None:
        state = self.holder.current
        assert self._sessions is not None and state is not None
        if size > self.config.blob_max_bytes:
            log.warning("blob %s of %d bytes is over the limit; not fetched", sha256, size)
            return
        self.health.phase = "blobs"
        try:
            await self.content.fetch(self._sessions.session_for(state), hub_url, sha256, size, self.budget)
        except BlobRefused as exc:
            await self.content.record_failure(sha256, str(exc))
            raise
