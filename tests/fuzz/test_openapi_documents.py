"""The OpenAPI documents served at /api/v1/openapi.json are true: every route the app serves is in its document and
every route in the document is served. (That the running servers serve these same documents, and that schemathesis
reads every operation of them, is checked by test_routes_fuzzed.py, which fuzzes from what they serve.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web

from edge.app import create_app as create_edge
from edge.box.provisioned import apply_bundle
from edge.config import load_config
from edge.web import openapi as edge_openapi
from hub import openapi as hub_openapi
from hub.app import create_app as create_hub
from hub.config import HubConfig
from hub.keys_store import init_hub
from protocol.keys import NodeKey
from protocol.openapi import Op, document, served_routes
from protocol.trust import make_trust
from provisioning.bundle import make_bundle


def _edge_app(data: Path) -> web.Application:
    root = NodeKey.generate()
    trust = make_trust(root, "测试平台", [NodeKey.generate().public], version=1)
    apply_bundle(data, make_bundle(root, trust, "v1", "测试村", "t1", "http://127.0.0.1:9", "token"))
    return create_edge(load_config(data, mdns=False))


def _hub_app(data: Path) -> web.Application:
    init_hub(data)
    return create_hub(HubConfig(data_dir=data))


def _disagreement(app: web.Application, table: list[Op]) -> str:
    served, documented = served_routes(app), {op.key for op in table}
    return (f"served but not in the document: {sorted(served - documented)}; "
            f"in the document but not served: {sorted(documented - served)}")


def test_the_edge_document_names_exactly_the_routes_the_edge_serves(tmp_path: Path) -> None:
    app = _edge_app(tmp_path)
    assert served_routes(app) == {op.key for op in edge_openapi.OPERATIONS}, _disagreement(app, edge_openapi.OPERATIONS)


def test_the_hub_document_names_exactly_the_routes_the_hub_serves(tmp_path: Path) -> None:
    app = _hub_app(tmp_path)
    assert served_routes(app) == {op.key for op in hub_openapi.OPERATIONS}, _disagreement(app, hub_openapi.OPERATIONS)


def test_a_route_added_without_its_document_entry_is_noticed(tmp_path: Path) -> None:
    app = _edge_app(tmp_path)

    async def undocumented(request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_post("/api/v1/undocumented", undocumented)
    assert ("POST", "/api/v1/undocumented") in served_routes(app) - {op.key for op in edge_openapi.OPERATIONS}


def test_a_table_naming_a_route_twice_is_refused() -> None:
    twice = [Op("GET", "/x", "one", {200: "ok"}), Op("GET", "/x", "again", {200: "ok"})]
    with pytest.raises(ValueError, match="twice"):
        document("t", "d", twice, {})
