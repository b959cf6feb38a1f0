"""The staff page over HTTPS: a second listening port (`staff_tls_listen`) with the certificate the hub's city CA
issued to the box at enrollment (edge/box/staff_cert.py), and the plain-HTTP staff page redirecting there.

The port opens once the certificate exists (a box enrolls after it starts) and takes a renewed certificate for new
connections without a restart. It serves the same application as the plain port; only the staff page is sent to
it. The TV app stays on plain HTTP (docs/security.md, TLS: why).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from aiohttp import web

from edge.box.staff_cert import cert_path, key_path
from protocol.settings import parse_listen

from ..config import EdgeConfig

log = logging.getLogger(__name__)
CERT_CHECK_S = 2.0  # how often a certificate that is still missing (or renewed) is looked for


class StaffTls:
    """Where the staff page's HTTPS port stands; `port` is set once it listens."""

    def __init__(self) -> None:
        self.port: int | None = None


STAFF_TLS = web.AppKey("staff_tls", StaffTls)


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _context(data_dir: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_path(data_dir), key_path(data_dir))
    return ctx


async def _serve(config: EdgeConfig, state: StaffTls, app_protocol: Callable[[], asyncio.BaseProtocol]) -> None:
    assert config.staff_tls_listen is not None
    host, port = parse_listen(config.staff_tls_listen)
    crt = cert_path(config.data_dir)
    server: asyncio.Server | None = None
    ctx: ssl.SSLContext | None = None
    seen: int | None = None
    try:
        while True:
            now = await asyncio.to_thread(_mtime, crt)
            if now is not None and now != seen:
                seen = now
                if ctx is None:
                    ctx = await asyncio.to_thread(_context, config.data_dir)
                    server = await asyncio.get_running_loop().create_server(app_protocol, host, port, ssl=ctx,
                                                                            reuse_address=True)
                    state.port = server.sockets[0].getsockname()[1]
                    log.info("staff page over HTTPS on %s:%d", host, state.port)
                else:
                    # Loading into the same context serves the renewed certificate to every new connection.
                    await asyncio.to_thread(ctx.load_cert_chain, crt, key_path(config.data_dir))
                    log.info("staff page's HTTPS certificate renewed")
            await asyncio.sleep(CERT_CHECK_S)
    finally:
        state.port = None
        if server is not None:
            server.close()
            await server.wait_closed()


@contextlib.asynccontextmanager
async def staff_tls_port(app: web.Application, config: EdgeConfig,
                         app_protocol: Callable[[], asyncio.BaseProtocol]) -> AsyncIterator[None]:
    """Run the HTTPS port beside the plain one while the block runs (nothing when `staff_tls_listen` is unset)."""
    state = app.get(STAFF_TLS)
    if config.staff_tls_listen is None or state is None:
        yield
        return
    task = asyncio.create_task(_serve(config, state, app_protocol), name="staff-tls")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@web.middleware
async def to_https(request: web.Request,
                   handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """The staff page asked over plain HTTP goes to HTTPS once that port listens: passwords and sessions never
    cross the village Wi-Fi in clear. 307 keeps a form's method and body."""
    state = request.config_dict.get(STAFF_TLS)
    if state is not None and state.port is not None and not request.secure:
        raise web.HTTPTemporaryRedirect(str(request.url.with_scheme("https").with_port(state.port)))
    return await handler(request)
