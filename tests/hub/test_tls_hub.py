"""TLS between edge and hub (issue 14): the hub serves HTTPS with its own city CA, a bundle for an https hub pins
that CA, the edge enrolls and syncs over it, and a hub showing another CA's certificate is refused before anything
is sent. A real hub app on a TLS socket on 127.0.0.1, a real edge app with its sync loop, a bundle made by the real
`village-provision` command."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from deploy.local_processes import free_port
from edge.runtime import RUNTIME
from hub.auth import ADMIN_COOKIE
from hub.city_ca import TLS_DIR, ensure_city_ca, server_context
from hub.keys_store import load_admin_token
from hub.services import HUB

from .tls_kit import BIN, TlsHub, edge_app, edge_config, make_bundle, serve, tls_hub, until


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[TlsHub]:
    async with tls_hub(tmp_path / "hub") as running:
        yield running


async def start_edge(aiohttp_client: Any, data_dir: Path, bundle: Path) -> Any:
    client = await aiohttp_client(edge_app(edge_config(data_dir, bundle)))
    return client.app[RUNTIME]


async def test_the_edge_enrolls_with_the_hub_over_https_and_syncs(
        hub: TlsHub, aiohttp_client: Any, tmp_path: Path) -> None:
    said = await make_bundle(hub, tmp_path / "b.vnb")
    assert "will trust only the hub's city CA" in said
    rt = await start_edge(aiohttp_client, tmp_path / "edge", tmp_path / "b.vnb")
    assert rt.holder.current.hub_ca_pem.startswith("-----BEGIN CERTIFICATE-----")

    async def enrolled() -> bool:
        village = await hub.app[HUB].store.get_village("v1")
        return village is not None and village.edge_key == rt.holder.key.public

    await until("the edge to enroll over HTTPS", enrolled)
    token = load_admin_token(hub.data_dir)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        notice = {"title": "加密通知", "body": "经 HTTPS 下发。", "area": "community", "scope": "city"}
        async with http.post(f"{hub.url}/api/v1/notices", json=notice, ssl=hub.client_ssl()) as resp:
            assert resp.status == 201, await resp.text()
            created = await resp.json()
        async with http.post(f"{hub.url}/api/v1/notices/{created['id']}/publish", ssl=hub.client_ssl()) as resp:
            assert resp.status == 200, await resp.text()

    async def arrived() -> Any:
        return await rt.db.fetchvalue("SELECT title FROM notices WHERE id = ?", (created["id"],))

    assert await until("the notice to reach the edge over HTTPS", arrived) == "加密通知"
    assert rt.sync.health.last_error is None or "certificate" not in rt.sync.health.last_error


async def test_a_hub_presenting_another_cas_certificate_is_refused_and_nothing_is_sent(
        hub: TlsHub, aiohttp_client: Any, tmp_path: Path) -> None:
    # An impostor on 127.0.0.1 with a certificate for the right name from a CA of its own making.
    seen: list[str] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path}")
        return web.json_response({"error": "nope", "detail": "impostor"}, status=500)

    impostor = web.Application()
    impostor.router.add_route("*", "/{tail:.*}", record)
    other_ca = tmp_path / "other-ca"
    await asyncio.to_thread(ensure_city_ca, other_ca)
    port = free_port()
    runner = await serve(impostor, await asyncio.to_thread(server_context, other_ca, ["127.0.0.1"]), port)
    try:
        # The bundle is the real hub's (its CA pinned), its URL the impostor's: a hijacked address.
        await make_bundle(hub, tmp_path / "b.vnb", hub_url=f"https://127.0.0.1:{port}")
        rt = await start_edge(aiohttp_client, tmp_path / "edge", tmp_path / "b.vnb")

        async def refused() -> Any:
            error = rt.sync.health.last_error
            return error if error and "does not trust" in error else None

        sentence = await until("the certificate refusal in the status", refused)
        assert f"the hub at https://127.0.0.1:{port} presented a certificate this box does not trust" in sentence
        assert "nothing was sent" in sentence
        assert seen == []  # not one request reached the impostor
        assert not rt.holder.current.enrolled
    finally:
        await runner.cleanup()


async def test_the_hubs_certificate_chains_to_its_city_ca_for_its_configured_names(hub: TlsHub) -> None:
    ctx = hub.client_ssl()
    port = int(hub.url.rsplit(":", 1)[1])
    for name in ("127.0.0.1", "localhost"):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname=name)
        assert writer.get_extra_info("peercert") is not None
        writer.close()
        await writer.wait_closed()
    with pytest.raises(ssl.SSLCertVerificationError):
        await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="hub.elsewhere.example")
    assert (hub.data_dir / TLS_DIR / "root-ca.key").stat().st_mode & 0o777 == 0o600
    assert (hub.data_dir / TLS_DIR / "issuing-ca.key").stat().st_mode & 0o777 == 0o600


async def test_village_hub_serve_makes_its_certificate_at_first_start_under_a_root_ca_the_operator_gave(
        tmp_path: Path) -> None:
    # The operator's own root CA, put in DATA/tls/ before the first start; the hub makes only what is missing.
    data = tmp_path / "hub"
    given = await asyncio.to_thread(ensure_city_ca, tmp_path / "operator")
    (data / TLS_DIR).mkdir(parents=True)
    (data / TLS_DIR / "root-ca.crt").write_bytes(given.root_pem)
    (data / TLS_DIR / "root-ca.key").write_bytes((tmp_path / "operator" / TLS_DIR / "root-ca.key").read_bytes())
    (data / "config.toml").write_text('tls = true\ntls_names = "hub.city.example,127.0.0.1"\n')
    init = await asyncio.create_subprocess_exec(str(BIN / "village-hub"), "init", "--data", str(data),
                                                stdout=asyncio.subprocess.DEVNULL)
    assert await init.wait() == 0
    port = free_port()
    proc = await asyncio.create_subprocess_exec(str(BIN / "village-hub"), "serve", "--data", str(data), "--listen",
                                                f"127.0.0.1:{port}", stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)
    trusting_the_operator = ssl.create_default_context(cadata=given.root_pem.decode())
    try:
        async def answers() -> int | None:
            try:
                async with aiohttp.ClientSession() as http, http.get(
                        f"https://127.0.0.1:{port}/api/v1/trust", ssl=trusting_the_operator) as resp:
                    return resp.status
            except aiohttp.ClientConnectorError:
                return None

        assert await until("village-hub serve to answer over HTTPS", answers, 30.0) == 200
        assert (data / TLS_DIR / "root-ca.crt").read_bytes() == given.root_pem  # the operator's root, kept
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=trusting_the_operator,
                                                       server_hostname="hub.city.example")
        writer.close()
    finally:
        proc.terminate()
        await proc.wait()


async def test_make_refuses_a_hub_url_the_box_could_never_use_with_this_hub(hub: TlsHub, tmp_path: Path) -> None:
    for url, said in (("http://127.0.0.1:8700", "this hub serves HTTPS only (tls = true in its settings): use"
                                                " https://127.0.0.1:8700"),
                      ("https://hub.elsewhere.example", "the hub's certificate is for localhost, 127.0.0.1, not"
                                                        " hub.elsewhere.example")):
        proc = await asyncio.create_subprocess_exec(
            str(BIN / "village-provision"), "make", "--hub-data", str(hub.data_dir), "--village", "v1",
            "--hub-url", url, "--out", str(tmp_path / "b.vnb"), stderr=asyncio.subprocess.PIPE)
        _, err = await proc.communicate()
        assert proc.returncode == 2 and said in err.decode(), err.decode()
        assert not (tmp_path / "b.vnb").exists()
    assert await hub.app[HUB].store.list_bundles("v1") == []  # no token was issued for a refused bundle


async def test_the_hubs_page_cookies_are_secure_over_https(hub: TlsHub) -> None:
    token = load_admin_token(hub.data_dir)
    async with aiohttp.ClientSession() as http, http.get(
            f"{hub.url}/admin/?token={token}", ssl=hub.client_ssl(), allow_redirects=False) as resp:
        assert resp.status == 303
        cookie = resp.headers["Set-Cookie"]
        assert cookie.startswith(f"{ADMIN_COOKIE}=")
        assert "; Secure" in cookie and "HttpOnly" in cookie
