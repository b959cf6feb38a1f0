"""How the edge speaks TLS to its hub: for an https hub URL it trusts only the city CA its bundle carried, and a hub
showing any other certificate is refused, before a byte of the request is sent, with a sentence in the status.

An http hub URL stays plain (tests, the demo, a hub the contract's settings leave on HTTP); an https URL from a
bundle without a CA (made by an older hub) is checked against the system's CAs, as any browser would.
"""

from __future__ import annotations

import asyncio
import functools
import ssl

import aiohttp

from edge.box.provisioned import ProvisionedState
from protocol.errors import ProtocolError


class HubCertificateRefused(ProtocolError):
    code = "hub_certificate_refused"


def _pin(state: ProvisionedState) -> str:
    return state.hub_ca_pem if state.hub_url.lower().startswith("https://") else ""


@functools.lru_cache(maxsize=4)
def _pinned_context(ca_pem: str) -> ssl.SSLContext:
    # With cadata given, create_default_context loads that CA only, not the system's: the pin is all it trusts.
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=ca_pem)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def hub_ssl(state: ProvisionedState) -> ssl.SSLContext | bool:
    """What aiohttp's `ssl=` gets for this box's hub: the pinned context, or True (the default checks)."""
    pin = _pin(state)
    return _pinned_context(pin) if pin else True


class HubSessions:
    """The sync's HTTP session to the hub, made again when a new bundle pins another CA (the old one is closed)."""

    def __init__(self, timeout: aiohttp.ClientTimeout, limit: int = 100) -> None:
        self.timeout = timeout
        self.limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._pin: str | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def session_for(self, state: ProvisionedState) -> aiohttp.ClientSession:
        pin = _pin(state)
        if self._session is None or pin != self._pin:
            if self._session is not None:
                task = asyncio.get_running_loop().create_task(self._session.close())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
            connector = aiohttp.TCPConnector(ssl=hub_ssl(state), limit=self.limit)
            self._session = aiohttp.ClientSession(timeout=self.timeout, connector=connector)
            self._pin = pin
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
        for task in list(self._closing):
            await task


def certificate_refusal(exc: BaseException, hub_url: str) -> HubCertificateRefused | None:
    """The sentence for a hub whose certificate the pin refused (or that does not speak TLS); None for others."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        why = getattr(exc.certificate_error, "verify_message", None) or str(exc.certificate_error)
        return HubCertificateRefused(
            f"the hub at {hub_url} presented a certificate this box does not trust ({why}): it does not chain to "
            "the city CA pinned by this box's bundle, or is not for that name; nothing was sent. If the hub moved, "
            "apply a new bundle from it; otherwise something on the line pretends to be the hub")
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return HubCertificateRefused(
            f"no TLS session with the hub at {hub_url} ({exc.os_error}); nothing was sent. Check that the hub serves "
            "HTTPS (tls = true) at that address")
    return None
