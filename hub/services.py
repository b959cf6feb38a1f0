"""What the hub's handlers share: config, keys, store, feeds, blobs and poller, under one typed app key.

Built once by `create_app`; the store is opened and the poller started by the app's cleanup context.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiohttp import web

from .blob_chunks import ChunkHints
from .blobs import BlobStore
from .config import HubConfig
from .down_feed import DownFeed
from .key_rotation import KeyFileWatch
from .keys_store import HubKeys
from .request_replay import SeenRequests
from .status_poller import StatusPoller
from .store import HubStore

# last_sync_at is written at most this often per village: a long poll every 20 s need not be a disk write.
SYNC_MARK_EVERY_S = 10.0


@dataclass
class Hub:
    config: HubConfig
    keys: HubKeys
    admin_token: str
    store: HubStore
    down: DownFeed
    blobs: BlobStore
    poller: StatusPoller
    _sync_marked: dict[str, float] = field(default_factory=dict)
    _key_files: KeyFileWatch = field(init=False)
    chunk_hints: ChunkHints = field(init=False)
    seen_requests: SeenRequests = field(default_factory=SeenRequests)  # each signed edge request taken once

    def __post_init__(self) -> None:
        self._key_files = KeyFileWatch(self.config.data_dir)
        self.chunk_hints = ChunkHints(self.config.data_dir / "blob_chunks")

    def refresh_keys(self) -> None:
        """Pick up keys a CLI rotated while the hub runs: serve the new trust document, sign with the new key."""
        keys = self._key_files.reload_if_changed()
        if keys is not None:
            self.keys = keys
            self.down.use_signing_key(keys.signing)

    async def mark_synced(self, village_id: str) -> None:
        """Remember that the village's edge just talked to us (shown as last_sync_at)."""
        current = time.monotonic()
        if current - self._sync_marked.get(village_id, float("-inf")) < SYNC_MARK_EVERY_S:
            return
        self._sync_marked[village_id] = current
        async with self.store.transaction() as tx:
            await tx.touch_last_sync(village_id)


HUB = web.AppKey("hub", Hub)
