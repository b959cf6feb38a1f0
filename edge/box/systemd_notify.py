"""systemd's notify protocol for the serving process: `READY=1` once it serves, `WATCHDOG=1` from its event loop.

The pings come from a task on the server's own loop, so a loop that stalls (a blocking call, a deadlock) stops
them and systemd restarts the box after `WatchdogSec=`. Without `NOTIFY_SOCKET` (tests, the demo, a laptop) every
call here does nothing. The protocol is one datagram per message to a unix socket; `@` names the abstract namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Mapping

from aiohttp import web

log = logging.getLogger(__name__)


def notify(message: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Sends one message (`READY=1`, `WATCHDOG=1`, `STATUS=...`); False when no one listens."""
    address = environ.get("NOTIFY_SOCKET", "")
    if not address or address[0] not in "/@":
        return False
    if address[0] == "@":
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.connect(address)
            sock.sendall(message.encode())
        except OSError as exc:  # systemd gone or restarting: the next ping tries again
            log.warning("systemd notify %r not sent: %s", message, exc)
            return False
    return True


def watchdog_interval_s(environ: Mapping[str, str] = os.environ, pid: int | None = None) -> float | None:
    """How often to ping: half of `WATCHDOG_USEC`, as sd_watchdog_enabled(3) advises; None when not asked.

    `WATCHDOG_PID`, when set, names the one process meant to ping (the supervisor drops it for its server)."""
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    wanted_pid = environ.get("WATCHDOG_PID")
    if usec <= 0 or (wanted_pid and wanted_pid != str(pid if pid is not None else os.getpid())):
        return None
    return usec / 2e6


async def _serving(host: str, port: int) -> None:
    """Returns once the port accepts a connection: READY=1 means residents can be answered, not just started."""
    host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return


async def _tell_systemd(host: str, port: int) -> None:
    await _serving(host, port)
    notify("READY=1")
    interval = watchdog_interval_s()
    if interval is None:
        return
    log.info("systemd watchdog: a ping every %.1f s from the event loop", interval)
    while True:
        notify("WATCHDOG=1")
        await asyncio.sleep(interval)


def systemd_ctx(host: str, port: int) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that tells systemd the server is ready and keeps its watchdog fed while the loop runs."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if not os.environ.get("NOTIFY_SOCKET"):
            yield
            return
        task = asyncio.create_task(_tell_systemd(host, port), name="systemd-notify")
        yield
        # No STOPPING=1: under the supervisor a stopping server is often one slot handing over to the other, and
        # systemd would take the whole service for stopping.
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return ctx
