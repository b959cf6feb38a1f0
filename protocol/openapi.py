"""OpenAPI 3.1 documents built from a table of the routes an app serves, and the list of what the app really serves.

The edge and the hub each keep a table (edge/web/openapi.py, hub/openapi.py) and serve the document at
`GET /api/v1/openapi.json`; tests/fuzz compares the table with `served_routes(app)` and drives schemathesis from it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PATH = "/api/v1/openapi.json"
Schema = dict[str, Any]
TEXT: Schema = {"type": "string"}
HTML = "text/html"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
BYTES = "application/octet-stream"


@dataclass(frozen=True)
class Op:
    """One route: method and aiohttp-style path (`/api/v1/submissions/{id}`), what it is for, what it takes."""

    method: str
    path: str
    summary: str
    answers: Mapping[int, str]
    query: Mapping[str, Schema] = field(default_factory=dict)
    headers: Mapping[str, Schema] = field(default_factory=dict)
    path_params: Mapping[str, Schema] = field(default_factory=dict)  # a {name} not listed here is any text
    body: Schema | None = None
    body_type: str = JSON
    security: tuple[str, ...] = ()  # any one of these schemes is enough; empty: anyone on the network
    produces: str = JSON

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path


_PATH_NAME = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


def _path_names(path: str) -> list[str]:
    return _PATH_NAME.findall(path)


def _operation(op: Op) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": op.path_params.get(name, TEXT)}
        for name in _path_names(op.path)
    ]
    params += [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in op.query.items()]
    params += [{"name": name, "in": "header", "required": False, "schema": schema}
               for name, schema in op.headers.items()]
    out: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{op.method.lower()} {op.path}",
        "responses": {
            str(status): {"description": text, **({"content": {op.produces: {}}} if status < 300 else {})}
            for status, text in sorted(op.answers.items())
        },
    }
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {op.body_type: {"schema": op.body}}}
    if op.security:
        out["security"] = [{name: []} for name in op.security]
    return out


def document(title: str, description: str, ops: Iterable[Op], schemes: Mapping[str, Schema]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `ops`; refuses a table that names a route twice or an unknown scheme."""
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        entry = paths.setdefault(op.path, {})
        if op.method.lower() in entry:
            raise ValueError(f"{op.method} {op.path} is in the table twice")
        unknown = set(op.security) - set(schemes)
        if unknown:
            raise ValueError(f"{op.method} {op.path} names unknown security schemes {sorted(unknown)}")
        entry[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1", "description": description},
        "paths": paths,
        "components": {"securitySchemes": dict(schemes)},
    }


def served_routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every route `app` answers, sub-applications included.

    HEAD beside a GET is aiohttp's own doing and left out; a static folder is `{prefix}/{filename}`.
    """
    found: set[tuple[str, str]] = set()
    for route in app.router.routes():
        resource = route.resource
        if resource is None:
            continue
        path = resource.canonical
        if isinstance(resource, web.StaticResource):
            path = f"{path}/{{filename}}"
        found.add((route.method, path))
    return {(m, p) for m, p in found if not (m == "HEAD" and ("GET", p) in found)}


def add_document_route(app: web.Application, build: Callable[[], dict[str, Any]]) -> None:
    """Serve `build()`'s document at PATH; built on the first request, so importing the app stays cheap."""
    cached: list[bytes] = []

    async def openapi_json(request: web.Request) -> web.Response:
        if not cached:
            cached.append(json.dumps(build(), ensure_ascii=False, indent=1).encode())
        return web.Response(body=cached[0], content_type=JSON, charset="utf-8")

    app.router.add_get(PATH, openapi_json)


def document_op() -> Op:
    """The route serving the document itself, for each table."""
    return Op("GET", PATH, "this document: every route of this server, its parameters and bodies",
              {200: "the OpenAPI 3.1 document"})
