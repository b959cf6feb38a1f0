"""Everything one running edge holds, in one typed object reachable from the aiohttp app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from protocol.database import Database

from .config import EdgeConfig
from .content_store import ContentStore
from .discovery import DeviceTable
from .outbox import Outbox
from .state_holder import StateHolder
from .sync_client import SyncClient

if TYPE_CHECKING:
    from .streams.service import StreamsService


@dataclass
class EdgeRuntime:
    config: EdgeConfig
    db: Database
    outbox: Outbox
    holder: StateHolder
    content: ContentStore
    sync: SyncClient
    devices: DeviceTable
    started_at: float
    streams: StreamsService | None = None  # set by edge.streams' cleanup context


RUNTIME = web.AppKey("runtime", EdgeRuntime)
