"""The staff page over TLS (issue 14): the box makes its key, sends a CSR with its enrollment, the hub's city CA
issues its certificate, and the edge serves the staff page on an HTTPS port with it; the session cookie is Secure
there, and the plain-HTTP staff page redirects to it while the TV app stays on HTTP.

A real hub on a TLS socket, the edge served as `village-edge run` serves it (front door and HTTPS port) on
127.0.0.1, and Python's ssl checking the chain against the hub's root CA and the box's name."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography import x509

from deploy.local_processes import free_port
from edge.box.staff_cert import cert_path
from edge.config import load_config
from edge.runtime import RUNTIME
from edge.serving.run import serve_until_stopped
from edge.staff.accounts import add_or_reset
from edge.staff.sessions import COOKIE
from edge.web.staff_tls import STAFF_TLS
from hub.services import HUB
from tests.hub.tls_kit import TlsHub, edge_app, edge_config, make_bundle, tls_hub, until

PASSWORD = "村里的密码-2026"


@dataclass
class Box:
    http: str
    https_port: int
    hub: TlsHub

    def verifying(self) -> ssl.SSLContext:
        """The hub's city root CA only, names checked: what a staff laptop given that CA does."""
        return self.hub.client_ssl()


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[Box]:
    async with tls_hub(tmp_path / "hub") as hub:
        await make_bundle(hub, tmp_path / "b.vnb")
        tls_port = free_port()
        config = edge_config(tmp_path / "edge", tmp_path / "b.vnb", staff_tls_listen=f"127.0.0.1:{tls_port}")
        app = edge_app(config)
        http_port = free_port()
        stop = asyncio.Event()
        server = asyncio.create_task(serve_until_stopped(app, "127.0.0.1", http_port, stop))
        try:
            async def listening() -> int | None:
                state = app.get(STAFF_TLS)
                return state.port if state is not None else None

            port = await until("the staff page's HTTPS port to open after enrollment", listening, 30.0)
            assert port == tls_port
            await add_or_reset(app[RUNTIME].db, "admin1", "admin", PASSWORD)
            yield Box(f"http://127.0.0.1:{http_port}", tls_port, hub)
        finally:
            stop.set()
            await server


async def test_the_staff_page_answers_over_https_with_a_certificate_chaining_to_the_hub_ca_for_the_box_name(
        box: Box) -> None:
    for name in ("v1.local", "127.0.0.1"):
        reader, writer = await asyncio.open_connection("127.0.0.1", box.https_port, ssl=box.verifying(),
                                                       server_hostname=name)
        writer.write(f"GET /staff/login HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        answer = await reader.read()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.close()
        cert = x509.load_der_x509_certificate(der)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert names.get_values_for_type(x509.DNSName) == ["v1.local"]
        assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    with pytest.raises(ssl.SSLCertVerificationError):  # not valid for a name the hub did not grant
        await asyncio.open_connection("127.0.0.1", box.https_port, ssl=box.verifying(),
                                      server_hostname="hub.city.example")


async def test_the_staff_session_cookie_is_secure_over_https(box: Box) -> None:
    base = f"https://v1.local:{box.https_port}"
    resolver = StaticResolver({"v1.local": "127.0.0.1"})
    connector = aiohttp.TCPConnector(ssl=box.verifying(), resolver=resolver)
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.get(f"{base}/staff/login") as page:
            assert page.status == 200
            assert "Secure" in page.headers["Set-Cookie"]
            html = await page.text()
        token = html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        form = {"username": "admin1", "password": PASSWORD, "csrf": token}
        async with http.post(f"{base}/staff/login", data=form, allow_redirects=False) as resp:
            assert resp.status == 303, await resp.text()
            session = next(c for c in resp.headers.getall("Set-Cookie") if c.startswith(f"{COOKIE}="))
            assert "; Secure" in session and "HttpOnly" in session
        async with http.get(f"{base}/staff/") as dashboard:
            assert dashboard.status == 200 and dashboard.url.path == "/staff/"


async def test_the_plain_http_staff_page_redirects_to_https_and_the_tv_app_stays_on_http(box: Box) -> None:
    async with aiohttp.ClientSession() as http:
        for method, path in (("GET", "/staff/"), ("GET", "/staff/login?next=/staff/"), ("POST", "/staff/login")):
            async with http.request(method, box.http + path, allow_redirects=False) as resp:
                assert resp.status == 307, (method, path, resp.status)
                assert resp.headers["Location"] == f"https://127.0.0.1:{box.https_port}{path}"
        async with http.get(box.http + "/tv/", allow_redirects=False) as tv:
            assert tv.status == 200
        async with http.get(box.http + "/api/v1/info") as info:
            assert info.status == 200


class StaticResolver(aiohttp.abc.AbstractResolver):
    """v1.local is what mDNS answers on the village LAN; here it is 127.0.0.1 without a resolver of its own."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[aiohttp.abc.ResolveResult]:
        return [{"hostname": host, "host": self.names[host], "port": port, "family": socket.AF_INET, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        return None


async def test_a_box_enrolled_before_its_https_port_was_set_gets_its_certificate_at_the_next_start(
        aiohttp_client: Any, tmp_path: Path) -> None:
    async with tls_hub(tmp_path / "hub") as hub:
        await make_bundle(hub, tmp_path / "b.vnb")
        first = await aiohttp_client(edge_app(edge_config(tmp_path / "edge", tmp_path / "b.vnb")))
        rt = first.app[RUNTIME]

        async def enrolled() -> bool:
            return bool(rt.holder.current and rt.holder.current.enrolled)

        await until("the box to enroll", enrolled)
        await first.close()
        assert not cert_path(tmp_path / "edge").exists()

        later = load_config(tmp_path / "edge", mdns=False, backoff_base_s=0.2, backoff_max_s=1.0,
                            staff_tls_listen=f"127.0.0.1:{free_port()}")
        await aiohttp_client(edge_app(later))

        async def issued() -> bool:
            return await asyncio.to_thread(cert_path(tmp_path / "edge").exists)

        # Enrolling again with the same key and token is answered as already done, now with a certificate.
        await until("the certificate from the hub's city CA", issued)
        pem = await asyncio.to_thread(cert_path(tmp_path / "edge").read_bytes)
        names = x509.load_pem_x509_certificate(pem).extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value
        assert names.get_values_for_type(x509.DNSName) == ["v1.local"]
        village = await hub.app[HUB].store.get_village("v1")
        assert village is not None and village.edge_key == rt.holder.key.public  # still the same box
