"""HTTP routes used by village edges: trust, enrollment, the two feeds and content-addressed blobs.

Handlers parse and answer; verification and storage live in registry, down_feed, up_feed and blobs.
"""

from __future__ import annotations

import asyncio
import base64
import logging

from aiohttp import web

from protocol import compression
from protocol.ack import make_ack
from protocol.errors import ProtocolError
from protocol.feed import BATCH_LIMITS, feed_name
from protocol.http_errors import ApiError, read_body, read_json
from protocol.records import is_sha256_hex
from protocol.request_auth import HEADER

from . import registry, up_feed
from .auth import authenticate_edge
from .blob_serving import blob_response
from .box_certificates import box_csr, certificate_for_box
from .edge_revocation import claimed_key, refuse_if_revoked
from .models import Village
from .services import HUB
from .validate import float_param, int_param

MAX_JSON = 64 * 1024
MSGPACK = "application/x-msgpack"
_SEQ_MAX = 2**62

routes = web.RouteTableDef()
log = logging.getLogger(__name__)


async def _edge(request: web.Request, body: bytes) -> Village:
    """The signing edge's village, refusing a revoked key with its own clear reason first."""
    hub = request.app[HUB]
    hub.refresh_keys()
    village_id = request.match_info["village"]
    await refuse_if_revoked(hub.store, village_id, claimed_key(request.headers.get(HEADER)))
    return await authenticate_edge(request, village_id, body)


@routes.get("/api/v1/trust")
async def trust(request: web.Request) -> web.Response:
    request.app[HUB].refresh_keys()
    return web.Response(body=request.app[HUB].keys.trust_raw, content_type=MSGPACK,
                        headers={"Cache-Control": "no-cache"})


@routes.post("/api/v1/enroll")
async def enroll(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    hub.refresh_keys()
    body = await read_json(request, MAX_JSON)
    village_id, token, key = registry.parse_enroll_request(body)
    csr = box_csr(body)  # checked before anything is written: a bad one refuses the enrollment whole
    await refuse_if_revoked(hub.store, village_id, key)
    village = await registry.enroll(hub.store, village_id, token, key)
    trust_b64 = base64.urlsafe_b64encode(hub.keys.trust_raw).decode("ascii")
    answer = {"village_id": village.id, "trust": trust_b64, "node_id": village.node_id}
    if csr is not None:
        # The staff page's certificate, when this hub has a city CA (docs/security.md, TLS); an older box sends none.
        certificate = await asyncio.to_thread(certificate_for_box, hub.config.data_dir, csr, village.id)
        if certificate is not None:
            answer["certificate"] = certificate
    return web.json_response(answer)


@routes.get("/api/v1/sync/{village}/down")
async def down(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    village = await _edge(request, b"")
    cfg = hub.config
    after = int_param(request.query.get("after"), "after", 0, 0, _SEQ_MAX)
    # Asking for more than the hub sends, or a longer wait than it holds, is granted as much as it allows.
    max_bytes = min(int_param(request.query.get("max_bytes"), "max_bytes", cfg.down_batch_max_bytes, 1, _SEQ_MAX),
                    cfg.down_batch_max_bytes)
    wait = float_param(request.query.get("wait"), "wait", 0.0, 0.0, cfg.longpoll_max_s)
    if wait > 0:
        await hub.down.wait_for_new(village.id, after, wait)
        hub.refresh_keys()  # a rotation during the wait: sign with the key the trust document now names
    # `enc=z1` asks for the compact, compressed form (protocol/compression.py); without it, version 1 as before.
    packed = request.query.get("enc") == compression.ENCODING
    data = await hub.down.batch(village.id, after, max_bytes, compact=packed)
    if packed:
        data = await asyncio.to_thread(compression.compress, data)
    return web.Response(body=data, content_type=MSGPACK, headers={"Cache-Control": "no-store"})


@routes.get("/api/v1/sync/{village}/up")
async def up_position(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    village = await _edge(request, b"")
    head = await hub.store.up_head(village.id)
    # Signed like a push's answer: only this acknowledgement marks a box's submissions delivered.
    ack = make_ack(hub.keys.signing, feed_name("up", village.id), head.seq, head.hash)
    return web.json_response({"seq": head.seq, "hash": head.hash.hex(),
                              "ack": base64.urlsafe_b64encode(ack).decode("ascii")})


@routes.post("/api/v1/sync/{village}/up")
async def up_push(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    data = await read_body(request, BATCH_LIMITS.max_bytes)
    village = await _edge(request, data)
    # A compressed batch is inflated under the same cap before anything else looks at it.
    try:
        plain = await asyncio.to_thread(compression.decompress, data, BATCH_LIMITS.max_bytes)
    except ProtocolError as exc:
        have = (await hub.store.up_head(village.id)).seq
        log.warning("refused up batch from village %s: %s (%s)", village.id, exc.detail, exc.code)
        raise up_feed.UpRefused(413 if exc.code == "too_large" else 400, exc.code, exc.detail, have) from None
    head = await up_feed.receive_up_batch(hub.store, village, plain, hub.down)
    ack = make_ack(hub.keys.signing, feed_name("up", village.id), head.seq, head.hash)
    return web.json_response({"have": head.seq, "hash": head.hash.hex(),
                              "ack": base64.urlsafe_b64encode(ack).decode("ascii")})


@routes.get("/content/{sha256}/chunks")
async def content_chunks(request: web.Request) -> web.Response:
    """Per-chunk SHA-256 of a blob (protocol/blob_chunks.py): a hint for resuming past a corrupted chunk."""
    hub = request.app[HUB]
    sha = request.match_info["sha256"]
    if not is_sha256_hex(sha):
        raise ApiError(400, "bad_sha256", "a content name must be 64 lowercase hex digits")
    path = hub.blobs.path_for(sha)
    if not path.is_file():
        raise ApiError(404, "not_found", f"no blob {sha} is stored at the hub")
    data = await hub.chunk_hints.hints_for(path, sha)
    return web.Response(body=data, content_type="application/octet-stream",
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})


@routes.get("/content/{sha256}")
async def content(request: web.Request) -> web.StreamResponse:
    """A blob by its SHA-256, with a strong ETag, one byte range and a long cache life (it never changes)."""
    hub = request.app[HUB]
    sha = request.match_info["sha256"]
    if not is_sha256_hex(sha):
        raise ApiError(400, "bad_sha256", "a content name must be 64 lowercase hex digits")
    path = hub.blobs.path_for(sha)
    try:
        size = (await asyncio.to_thread(path.stat)).st_size
    except FileNotFoundError:
        raise ApiError(404, "not_found", f"no blob {sha} is stored at the hub") from None
    meta = await hub.store.blob_meta(sha)
    return blob_response(request, path, sha, size, meta[1] if meta else "application/octet-stream")
