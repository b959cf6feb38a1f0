"""The status poller: the hub pulls each enrolled edge's signed status on a schedule and keeps a short history.

Bounded concurrency, a timeout per pull and per-village exponential backoff with jitter keep a dark district from
tying up the hub; a village shows online only after a verified pull and while pulls keep succeeding.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from typing import Any

import aiohttp

from protocol.codec import Limits
from protocol.envelope import open_sealed
from protocol.errors import ProtocolError

from .config import HubConfig
from .models import StatusRow, Village
from .store import HubStore
from .validate import jsonable

log = logging.getLogger(__name__)

STATUS_LIMITS = Limits(max_bytes=256 * 1024, max_str=16 * 1024, max_bin=4096, max_array=1000, max_map=200)
BACKOFF_CAP_INTERVALS = 4  # after failures, wait at most this many intervals between pulls
_SUMMARY_FIELDS = ("version", "stb_count", "queue_depth", "last_sync_at", "last_sync_error")


class PollFailed(Exception):
    pass


def stale_after_s(config: HubConfig) -> float:
    """A last good pull older than this means offline even with no failure recorded (say, the hub was down)."""
    longest_gap = config.status_interval_s * BACKOFF_CAP_INTERVALS * 1.25 + config.status_timeout_s
    return (config.offline_after_missed + 1) * longest_gap


def is_online(row: StatusRow | None, config: HubConfig, now: float | None = None) -> bool:
    if row is None or row.last_status_at is None:
        return False
    current = time.time() if now is None else now
    return (
        row.consecutive_failures < config.offline_after_missed
        and current - row.last_status_at <= stale_after_s(config)
    )


def next_delay(config: HubConfig, failures: int) -> float:
    """Seconds until the next pull: the interval, doubled per failure up to the cap, with ±20 % jitter."""
    factor = min(2 ** max(failures - 1, 0), BACKOFF_CAP_INTERVALS) if failures else 1
    return config.status_interval_s * factor * random.uniform(0.8, 1.2)


class StatusPoller:
    def __init__(self, config: HubConfig, store: HubStore) -> None:
        self._config = config
        self._store = store
        self._sem = asyncio.Semaphore(config.status_concurrency)
        self._due: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._in_flight: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.polls_total = 0
        self.failures_total = 0

    async def run(self) -> None:
        """Poll until cancelled (the app's cleanup context cancels it at shutdown)."""
        interval = self._config.status_interval_s
        tick = min(1.0, interval / 4)
        reload_every = min(interval, 5.0)  # sees villages added by the CLI while the hub runs
        villages: list[Village] = []
        loaded_at = float("-inf")
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession() as session:
            try:
                while True:
                    try:
                        if loop.time() - loaded_at >= reload_every:
                            villages = [v for v in await self._store.villages_to_poll() if v.edge_key]
                            loaded_at = loop.time()
                        self._dispatch(session, villages, loop.time())
                    except Exception:  # a bad tick must not end the poller for good
                        log.exception("status poller tick failed")
                    await asyncio.sleep(tick)
            finally:
                for task in self._tasks:
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    def _dispatch(self, session: aiohttp.ClientSession, villages: list[Village], now: float) -> None:
        interval = self._config.status_interval_s
        for village in villages:
            if village.id in self._in_flight:
                continue
            # First sight: spread the first pulls over one interval instead of all at once.
            due = self._due.setdefault(village.id, now + random.uniform(0, min(interval, 5.0)))
            if due > now:
                continue
            self._in_flight.add(village.id)
            task = asyncio.create_task(self._poll(session, village))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _poll(self, session: aiohttp.ClientSession, village: Village) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with self._sem:
                started = loop.time()
                error: str | None = None
                body: dict[str, Any] | None = None
                try:
                    body = await self.fetch(session, village)
                except PollFailed as exc:
                    error = str(exc)
                latency_ms = int((loop.time() - started) * 1000)
            await self._record(village, body, error, latency_ms)
        except Exception:
            log.exception("status pull of village %s could not be recorded", village.id)
        finally:
            failures = self._failures.get(village.id, 0)
            self._due[village.id] = loop.time() + next_delay(self._config, failures)
            self._in_flight.discard(village.id)

    async def _record(self, village: Village, body: dict[str, Any] | None, error: str | None, latency_ms: int) -> None:
        self.polls_total += 1
        if body is None:
            self.failures_total += 1
            self._failures[village.id] = self._failures.get(village.id, 0) + 1
            log.info("status pull of village %s failed: %s", village.id, error)
        else:
            self._failures[village.id] = 0
        document = jsonable(body) if body is not None else None
        summary = {k: document.get(k) for k in _SUMMARY_FIELDS} if document else None
        async with self._store.transaction() as tx:
            await tx.record_status(village.id, body is not None, error, latency_ms, document, summary)

    async def fetch(self, session: aiohttp.ClientSession, village: Village) -> dict[str, Any]:
        """Pull and verify one status document; PollFailed says why it is not one we can believe."""
        assert village.edge_url is not None
        nonce = secrets.token_hex(16)  # answered inside the signature: a recorded status cannot be replayed
        url = f"{village.edge_url}/api/v1/status?nonce={nonce}"
        timeout = aiohttp.ClientTimeout(total=self._config.status_timeout_s)
        try:
            async with session.get(url, timeout=timeout, allow_redirects=False) as resp:
                if resp.status != 200:
                    raise PollFailed(f"HTTP {resp.status} from {url}")
                data = await _read_capped(resp, STATUS_LIMITS.max_bytes)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise PollFailed(f"{type(exc).__name__} from {url}: {exc}".strip().rstrip(":")) from None
        try:
            opened = open_sealed(data, "status", STATUS_LIMITS)
        except ProtocolError as exc:
            raise PollFailed(f"status document refused: {exc.detail}") from None
        if village.edge_key is None or opened.signer != village.edge_key:
            raise PollFailed("status is signed by a key that is not enrolled for this village")
        if await self._store.is_edge_key_revoked(opened.signer):
            raise PollFailed("status is signed by a revoked key; the box needs a new bundle")
        if opened.body.get("nonce") != nonce:
            raise PollFailed("status does not answer this pull's nonce: a replayed (or very old) status document")
        if opened.body.get("village_id") != village.id:
            raise PollFailed(f"status is for village {opened.body.get('village_id')!r}, not {village.id!r}")
        return opened.body


async def _read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise PollFailed(f"status document is longer than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
