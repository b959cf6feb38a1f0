"""A hub serving HTTPS with its own city CA on 127.0.0.1, and what TLS tests do with it (tests/hub/test_tls_hub.py,
tests/edge/test_staff_tls.py): a bundle from the real `village-provision` command, an edge started from it."""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from deploy.local_processes import free_port
from edge.app import create_app as create_edge
from edge.box.provisioned import apply_bundle
from edge.config import EdgeConfig, load_config
from hub.app import create_app as create_hub
from hub.city_ca import ROOT_CRT, TLS_DIR, server_context
from hub.config import HubConfig
from hub.keys_store import init_hub
from hub.registry import add_village
from hub.services import HUB

BIN = Path(sys.executable).parent


@dataclass
class TlsHub:
    data_dir: Path
    url: str
    app: web.Application

    def client_ssl(self) -> ssl.SSLContext:
        """How a careful client checks the hub: the city root CA only, the name checked."""
        return ssl.create_default_context(cafile=self.data_dir / TLS_DIR / ROOT_CRT)


async def serve(app: web.Application, ctx: ssl.SSLContext, port: int) -> web.AppRunner:
    # A short grace at shutdown: an edge's long poll still open must not hold the test for a minute.
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=ctx).start()
    return runner


@asynccontextmanager
async def tls_hub(data: Path) -> AsyncIterator[TlsHub]:
    """A hub on https://127.0.0.1:PORT with village v1, its certificate made by its own city CA."""
    init_hub(data, "测试市级平台")
    (data / "config.toml").write_text("tls = true\n")  # in the settings file: `village-provision make` reads it too
    config = HubConfig.load(data, status_interval_s=60.0)
    assert config.tls_name_list == ["localhost", "127.0.0.1"]
    ctx = await asyncio.to_thread(server_context, data, config.tls_name_list)
    app = create_hub(config)
    port = free_port()
    runner = await serve(app, ctx, port)
    await add_village(app[HUB].store, app[HUB].down, "v1", "一村", "t1")
    try:
        yield TlsHub(data, f"https://127.0.0.1:{port}", app)
    finally:
        await runner.cleanup()


async def make_bundle(hub: TlsHub, out: Path, hub_url: str | None = None) -> str:
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "village-provision"), "make", "--hub-data", str(hub.data_dir), "--village", "v1", "--hub-url",
        hub_url or hub.url, "--out", str(out), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, stderr.decode()
    return stdout.decode()


def edge_config(data_dir: Path, bundle: Path, **overrides: Any) -> EdgeConfig:
    """A fast-syncing edge provisioned from `bundle`."""
    apply_bundle(data_dir, bundle.read_bytes())
    return load_config(data_dir, mdns=False, backoff_base_s=0.2, backoff_max_s=1.0, longpoll_s=2.0,
                       push_interval_s=0.5, **overrides)


def edge_app(config: EdgeConfig) -> web.Application:
    return create_edge(config)


async def until(what: str, check: Any, timeout_s: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


