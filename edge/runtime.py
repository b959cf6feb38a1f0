"""Everything one running edge holds, in one typed object reachable from the aiohttp app."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from edge.box.state_holder import StateHolder
from edge.content.store import ContentStore
from edge.lan.discovery import DeviceTable
from edge.residents.outbox import Outbox
from edge.streams.service import StreamsService
from edge.sync.client import SyncClient
from protocol.database import Database

from .config import EdgeConfig


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
