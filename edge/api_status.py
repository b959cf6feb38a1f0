"""Routes for the hub and for operators: the signed status document and Prometheus metrics."""

from __future__ import annotations

from aiohttp import web

from edge.residents.outbox import queue_depth

from .errors import Refused
from .runtime import RUNTIME
from .status import sign_status, status_body

routes = web.RouteTableDef()


@routes.get("/api/v1/status")
async def status(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    body = await status_body(rt)
    if request.query.get("format") == "json":
        return web.json_response(body)
    # The hub's poller sends a fresh nonce and wants it back inside the signature: a recorded status (of a box
    # that has since died) cannot be replayed to show the village online.
    nonce = request.query.get("nonce", "")
    if nonce:
        if len(nonce) > 64 or not nonce.isascii() or not nonce.isalnum():
            raise Refused(400, "bad_nonce", "nonce must be 1 to 64 letters and digits")
        body["nonce"] = nonce
    return web.Response(body=sign_status(rt, body), content_type="application/x-msgpack")


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    body = await status_body(rt)
    lines = [
        "# HELP villagenet_edge_queue_depth Submissions not yet acknowledged by the hub.",
        "# TYPE villagenet_edge_queue_depth gauge",
        f"villagenet_edge_queue_depth {await queue_depth(rt.db)}",
        "# HELP villagenet_edge_stb_count Set-top boxes alive on the LAN.",
        "# TYPE villagenet_edge_stb_count gauge",
        f"villagenet_edge_stb_count {body['stb_count']}",
        "# HELP villagenet_edge_up_seq Entries written to the up feed.",
        "# TYPE villagenet_edge_up_seq counter",
        f"villagenet_edge_up_seq {body['up']['seq']}",
        "# HELP villagenet_edge_up_acked Up feed entries the hub holds.",
        "# TYPE villagenet_edge_up_acked gauge",
        f"villagenet_edge_up_acked {body['up']['acked']}",
        "# HELP villagenet_edge_down_seq Down feed entries applied here.",
        "# TYPE villagenet_edge_down_seq gauge",
        f"villagenet_edge_down_seq {body['down']['seq']}",
        "# HELP villagenet_edge_blobs_missing Blobs named by notices and not yet fetched.",
        "# TYPE villagenet_edge_blobs_missing gauge",
        f"villagenet_edge_blobs_missing {body['down']['blobs_missing']}",
        "# HELP villagenet_edge_last_sync_timestamp_seconds Last successful exchange with the hub.",
        "# TYPE villagenet_edge_last_sync_timestamp_seconds gauge",
        f"villagenet_edge_last_sync_timestamp_seconds {body['last_sync_at'] or 0}",
    ]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain", charset="utf-8",
                        headers={"X-Exposition-Format": "0.0.4"})
