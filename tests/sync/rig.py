"""An in-process hub, a real edge app and a man in the middle between them, all on 127.0.0.1 sockets.

The man in the middle forwards every request to the hub and can replace or change answers (`tamper`), as an
attacker on the line could; it cannot sign anything, so what it serves is either the hub's bytes or forged ones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient

from edge.app import create_app
from edge.box.provisioned import apply_bundle
from edge.config import load_config
from edge.runtime import RUNTIME, EdgeRuntime
from provisioning.bundle import make_bundle
from tests.hub.kit import HubKit

Tamper = Callable[[web.Request, int, bytes], Awaitable[bytes | web.StreamResponse | None]]
_DROP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}


class Mitm:
    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.tamper: Tamper | None = None
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> Mitm:
        self._session = aiohttp.ClientSession()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
        if self._session:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROP}
        body = await request.read()
        async with self._session.request(request.method, self.target + request.path_qs, headers=headers,
                                         data=body or None) as up:
            payload = await up.read()
            status = up.status
            out = {k: v for k, v in up.headers.items() if k.lower() not in _DROP}
        if self.tamper is not None:
            changed = await self.tamper(request, status, payload)
            if isinstance(changed, web.StreamResponse):
                return changed
            if changed is not None:
                payload = changed
        return web.Response(status=status, body=payload, headers=out)


@dataclass
class Rig:
    kit: HubKit
    mitm: Mitm
    edge: TestClient
    edge_dir: Path

    @property
    def rt(self) -> EdgeRuntime:
        return self.edge.app[RUNTIME]

    async def status(self) -> dict[str, Any]:
        resp = await self.edge.get("/api/v1/status?format=json")
        result: dict[str, Any] = await resp.json()
        return result

    async def notice_titles(self) -> set[str]:
        resp = await self.edge.get("/api/v1/notices")
        return {n["title"] for n in (await resp.json())["notices"]}

    async def until(self, what: str, check: Callable[[], Awaitable[Any]], timeout_s: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            last = await check()
            if last:
                return last
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")

    async def error_contains(self, text: str, timeout_s: float = 15.0) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            st = await self.status()
            err = st["sync"]["last_error"] or ""
            return st if text in err else None

        result: dict[str, Any] = await self.until(f"an error saying {text!r}", check, timeout_s)
        return result


FAST = {"mdns": False, "longpoll_s": 1.0, "backoff_base_s": 0.1, "backoff_max_s": 0.5, "push_interval_s": 0.3,
        "hub_clock_tolerance_s": 0.0, "trust_refresh_s": 0.5}


async def build_rig(aiohttp_client: Any, kit: HubKit, tmp_path: Path, village: str = "v1", **config: Any) -> Rig:
    if await kit.hub.store.get_village(village) is None:
        await kit.add_village(village)
    mitm = await Mitm(str(kit.client.make_url(""))).start()
    token = await kit.token_for(village)
    keys = kit.hub.keys
    edge_dir = tmp_path / f"edge-{village}"
    apply_bundle(edge_dir, make_bundle(keys.root, keys.trust_raw, village, "一村", "town1", mitm.url, token))
    edge = await aiohttp_client(create_app(load_config(edge_dir, **{**FAST, **config})))
    rig = Rig(kit, mitm, edge, edge_dir)
    await rig.until("enrolled", lambda: _enrolled(rig))
    return rig


async def _enrolled(rig: Rig) -> bool:
    return bool((await rig.status())["enrolled"])


async def new_bundle(rig: Rig, village: str = "v1") -> bytes:
    keys = rig.kit.hub.keys
    token = await rig.kit.token_for(village)
    return make_bundle(keys.root, keys.trust_raw, village, "一村", "town1", rig.mitm.url, token)
