"""The hub's routes as an OpenAPI document, served at GET /api/v1/openapi.json.

The table below is the source; tests/fuzz/test_openapi_documents.py fails when it and the app's router disagree,
and the fuzzers read it to know what each route takes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from protocol.openapi import BYTES, FORM, HTML, TEXT, Op, Schema, add_document_route, document, document_op

BEARER = "bearer"  # the admin token, or an official's token from POST /api/v1/login
SESSION = "page_session"  # an official's page session cookie; unsafe methods also need X-CSRF-Token
EDGE = "edge_signature"  # an enrolled edge's request signature (protocol/request_auth.py)
SCHEMES: dict[str, Schema] = {
    BEARER: {"type": "http", "scheme": "bearer"},
    SESSION: {"type": "apiKey", "in": "cookie", "name": "vn_session"},
    EDGE: {"type": "apiKey", "in": "header", "name": "X-VillageNet-Signature"},
}
OFFICIAL = (BEARER, SESSION)

SHA256: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
UUID: Schema = {"type": "string", "format": "uuid"}
AREAS = ["party", "services", "community", "safety", "elderly", "live", "interaction", "meetings"]
SCOPE: Schema = {"type": "string", "pattern": "^(city|town:[a-z0-9_-]+|village:[a-z0-9_-]+|unit:[a-z0-9_-]+)$"}
# Where the hub itself would connect to (a village's status, a stream's source): loopback only, so a fuzzer's
# invented address never makes the hub under test reach out of this machine.
LOOPBACK_URL: Schema = {"type": "string", "pattern": "^http://127\\.0\\.0\\.1:[0-9]{2,5}/[a-z0-9/._-]{0,40}$"}
ANSWERS = {200: "the answer", 400: "bad input", 401: "no or bad token", 403: "outside the caller's roles or scope",
           404: "no such thing", 409: "not in a state for this", 413: "too large", 422: "a field is wrong"}
CREATED = {201: "created", **ANSWERS}
SIGNED = {200: "the answer", 400: "bad input", 401: "bad signature", 403: "revoked or another village's",
          404: "unknown village", 409: "out of order", 413: "too large"}
PAGE = {200: "the page", 302: "elsewhere", 303: "elsewhere", 401: "to log in", 403: "not allowed",
        404: "no such thing"}
LIST_QUERY: dict[str, Schema] = {"cursor": TEXT, "limit": {"type": "integer"}}

NOTICE: Schema = {
    "type": "object",
    "required": ["title", "body", "area", "scope"],
    "properties": {
        "title": TEXT, "body": TEXT, "area": {"enum": AREAS}, "priority": {"enum": ["normal", "urgent", "emergency"]},
        "scope": SCOPE, "expires_at": {"type": "string", "format": "date-time"},
        "publish_at": {"type": "string", "format": "date-time"},
        "attachments": {"type": "array", "items": {"type": "object", "properties": {"sha256": SHA256,
                                                                                      "mime": TEXT}}},
    },
}


def _object(*required: str, **properties: Schema) -> Schema:
    return {"type": "object", "required": list(required), "properties": properties}


SYNC = [
    Op("GET", "/api/v1/trust", "the signed trust document (msgpack)", {200: "the document"}, produces=BYTES),
    Op("POST", "/api/v1/enroll", "a provisioned edge enrolls with its bundle's token",
       {200: "enrolled (with the staff page's certificate for a csr, when the hub has a city CA)",
        400: "bad input", 401: "bad token", 403: "bundle revoked, superseded or expired", 404: "unknown village",
        409: "already enrolled"},
       body=_object("village_id", "token", "public_key", village_id=TEXT, token=TEXT, public_key=TEXT, csr=TEXT)),
    Op("GET", "/api/v1/sync/{village}/down", "the next signed down batch (long poll with ?wait=)", SIGNED,
       query={"after": {"type": "integer"}, "max_bytes": {"type": "integer"},
              "wait": {"type": "number", "minimum": 0, "maximum": 1}, "enc": TEXT},
       security=(EDGE,), produces=BYTES),
    Op("GET", "/api/v1/sync/{village}/up", "where the hub's copy of the up feed ends, signed", SIGNED,
       security=(EDGE,)),
    Op("POST", "/api/v1/sync/{village}/up", "a signed up batch from the village", SIGNED,
       body={"type": "string", "format": "binary"}, body_type=BYTES, security=(EDGE,)),
    Op("GET", "/content/{sha256}/chunks", "per-chunk hashes of a blob, to resume past a bad chunk",
       {200: "the hashes", 400: "not a SHA-256", 404: "not here"}, path_params={"sha256": SHA256},
       produces=BYTES),
    Op("GET", "/content/{sha256}/index", "a blob's content-defined chunks, to fetch only those a box lacks",
       {200: "(length, SHA-256) pairs", 400: "not a SHA-256", 404: "not here, or too large"},
       path_params={"sha256": SHA256}, produces=BYTES),
    Op("GET", "/content/{sha256}", "a blob by its SHA-256 (Range, If-None-Match)",
       {200: "the blob", 206: "a range", 304: "unchanged", 400: "not a SHA-256", 404: "not here",
        416: "bad range"}, path_params={"sha256": SHA256}, headers={"Range": TEXT, "If-None-Match": TEXT},
       produces=BYTES),
]

ADMIN = [
    Op("POST", "/api/v1/blobs", "upload a blob", {200: "{sha256, size}", 201: "{sha256, size}", **ANSWERS},
       body={"type": "string", "format": "binary"}, body_type=BYTES, security=OFFICIAL),
    Op("GET", "/api/v1/villages", "villages in the caller's scope with their pulled status", ANSWERS,
       query=LIST_QUERY, security=OFFICIAL),
    Op("GET", "/api/v1/submissions", "submissions received from villages, each once", ANSWERS,
       query={"village": TEXT, **LIST_QUERY}, security=(BEARER,)),
    Op("POST", "/api/v1/submissions/{id}/replies", "a reply that goes down to the resident", CREATED,
       path_params={"id": UUID}, query={"village": TEXT}, body=_object("text", text=TEXT), security=(BEARER,)),
    Op("GET", "/metrics", "Prometheus text exposition 0.0.4", ANSWERS, security=(BEARER,), produces="text/plain"),
    Op("GET", "/admin/", "the officials' web page", PAGE, query={"token": TEXT}, security=OFFICIAL, produces=HTML),
    Op("GET", "/admin", "to the web page", {301: "to /admin/"}, produces=HTML),
]

NOTICES = [
    Op("POST", "/api/v1/notices", "draft a notice (the admin token: ready to publish)", CREATED, body=NOTICE,
       security=OFFICIAL),
    Op("PATCH", "/api/v1/notices/{id}", "edit a draft or rejected notice", ANSWERS, path_params={"id": UUID},
       body={**NOTICE, "required": []}, security=OFFICIAL),
    Op("POST", "/api/v1/notices/{id}/submit", "the editor sends it to review", ANSWERS, path_params={"id": UUID},
       security=OFFICIAL),
    Op("POST", "/api/v1/notices/{id}/approve", "a reviewer in scope approves", ANSWERS, path_params={"id": UUID},
       security=OFFICIAL),
    Op("POST", "/api/v1/notices/{id}/reject", "a reviewer in scope rejects, with a reason", ANSWERS,
       path_params={"id": UUID}, body=_object("reason", reason=TEXT), security=OFFICIAL),
    Op("POST", "/api/v1/notices/{id}/publish", "publish at once", ANSWERS, path_params={"id": UUID},
       security=OFFICIAL),
    Op("POST", "/api/v1/notices/{id}/withdraw", "withdraw a published notice", ANSWERS, path_params={"id": UUID},
       security=OFFICIAL),
    Op("GET", "/api/v1/notices", "notices in the caller's scope", ANSWERS,
       query={**LIST_QUERY, "state": TEXT, "mine": {"enum": ["true", "false"]}}, security=OFFICIAL),
    Op("GET", "/api/v1/notices/{id}", "one notice", ANSWERS, path_params={"id": UUID}, security=OFFICIAL),
]

OFFICIALS = [
    Op("POST", "/api/v1/login", "an official logs in: a bearer token", {**ANSWERS, 429: "locked"},
       body=_object("user", "password", user=TEXT, password=TEXT)),
    Op("POST", "/api/v1/logout", "end this token", ANSWERS, security=OFFICIAL),
    Op("GET", "/api/v1/me", "who this token is", ANSWERS, security=OFFICIAL),
    Op("POST", "/api/v1/password", "change one's own password", ANSWERS,
       body=_object("old_password", "new_password", old_password=TEXT, new_password=TEXT), security=OFFICIAL),
    Op("GET", "/admin/login", "the login form", PAGE, query={"next": TEXT}, produces=HTML),
    Op("POST", "/admin/login", "log in from the form: a page session", {**PAGE, 400: "bad form", 429: "locked"},
       body=_object(user=TEXT, password=TEXT, csrf=TEXT), body_type=FORM, produces=HTML),
    Op("POST", "/admin/logout", "end the page session", PAGE, body=_object(csrf=TEXT), body_type=FORM,
       security=(SESSION,), produces=HTML),
    Op("GET", "/api/v1/users", "accounts in the caller's scope", ANSWERS, security=OFFICIAL),
    Op("POST", "/api/v1/users", "create or reset an account", CREATED,
       body=_object("user", "roles", "scope", user=TEXT, name=TEXT, scope=SCOPE, password=TEXT,
                    roles={"type": "array", "items": {"enum": ["admin", "editor", "reviewer", "dispatcher",
                                                                 "handler", "viewer"]}}),
       security=OFFICIAL),
    Op("POST", "/api/v1/users/{user}/disable", "disable an account", ANSWERS, security=OFFICIAL),
    Op("POST", "/api/v1/users/{user}/enable", "enable an account", ANSWERS, security=OFFICIAL),
    Op("GET", "/api/v1/org", "towns, villages and units in the caller's scope", ANSWERS, security=OFFICIAL),
    Op("POST", "/api/v1/towns", "create or rename a town", CREATED, body=_object("id", "name", id=TEXT, name=TEXT),
       security=OFFICIAL),
    Op("POST", "/api/v1/units", "create or rename a department", CREATED,
       body=_object("id", "name", "parent", id=TEXT, name=TEXT, parent=TEXT), security=OFFICIAL),
    Op("POST", "/api/v1/villages", "register a village in a town", CREATED,
       body=_object("id", "name", "town", id=TEXT, name=TEXT, town=TEXT, edge_url=LOOPBACK_URL),
       security=OFFICIAL),
    Op("POST", "/api/v1/org/import", "towns, villages and units from a sheet: all or nothing", ANSWERS,
       query={"name": TEXT}, body={"type": "string", "format": "binary"}, body_type=BYTES, security=OFFICIAL),
    Op("GET", "/api/v1/audit", "the audit log", ANSWERS, query={"since": {"type": "integer"},
                                                                 "limit": {"type": "integer"}},
       security=OFFICIAL),
]

PAGES = [
    Op("GET", "/admin/notices/new", "the notice editor", PAGE, security=(SESSION,), produces=HTML),
    Op("GET", "/admin/notices/{id}/edit", "the notice editor on a draft", PAGE, security=(SESSION,), produces=HTML),
    Op("GET", "/admin/review", "notices waiting for review", PAGE, security=(SESSION,), produces=HTML),
    Op("GET", "/admin/review/{id}", "one notice to review", PAGE, security=(SESSION,), produces=HTML),
    Op("GET", "/admin/preview/{id}", "a notice as a TV shows it", PAGE, security=(SESSION,), produces=HTML),
    Op("GET", "/admin/villages", "villages and their status", PAGE, security=(SESSION,), produces=HTML),
    Op("GET", "/admin/accounts", "accounts", PAGE, security=(SESSION,), produces=HTML),
    Op("GET", "/admin/streams", "live streams", PAGE, security=(SESSION,), produces=HTML),
    Op("GET", "/admin/password", "change one's password", PAGE, security=(SESSION,), produces=HTML),
    Op("GET", "/admin/static/{filename}", "the page's scripts and styles", {200: "the file", 404: "none"},
       produces=BYTES),
    Op("GET", "/admin/lang", "switch the page language", PAGE, query={"to": TEXT, "back": TEXT}, produces=HTML),
    Op("GET", "/admin/cases", "the case worklist by role; filters in the query string", {**PAGE, 400: "bad filter"},
       query={"state": TEXT, "unit": TEXT, "village": TEXT, "overdue": {"enum": ["true"]}}, security=(SESSION,),
       produces=HTML),
    Op("GET", "/admin/cases/{id}", "one case with its history and the official's actions", {**PAGE, 400: "bad id"},
       query={"done": TEXT}, security=(SESSION,), produces=HTML),
    Op("POST", "/admin/cases/{id}/{action}", "a step of a case from the case page's form; back to the case",
       {**PAGE, 400: "bad input", 409: "not in a state for this", 422: "a field is wrong"},
       path_params={"action": {"enum": ["assign", "accept", "return", "reply", "extend", "close", "merge"]}},
       body=_object(csrf=TEXT, unit=TEXT, reason=TEXT, text=TEXT, working_days=TEXT, grant=TEXT, into=TEXT),
       body_type=FORM, security=(SESSION,), produces=HTML),
]

STREAMS = [
    Op("POST", "/api/v1/streams", "an HLS source the hub relays to the villages in scope", CREATED,
       body=_object("id", "title", "area", "scope", "source_url", id=TEXT, title=TEXT, area={"enum": AREAS},
                    scope=SCOPE, source_url=LOOPBACK_URL),
       security=(BEARER,)),
    Op("GET", "/api/v1/streams", "live streams", ANSWERS, security=(BEARER,)),
    Op("DELETE", "/api/v1/streams/{id}", "end a stream", ANSWERS, security=(BEARER,)),
    Op("GET", "/streams/{id}/{file}", "a relayed HLS playlist or segment",
       {200: "the file", 400: "bad name", 404: "unknown", 502: "the source cannot be reached"}, produces=BYTES),
    Op("GET", "/api/v1/recordings/{village}/{id}", "how much of a recording the hub has", SIGNED,
       query={"size": {"type": "integer"}, "sha256": SHA256}, security=(EDGE,)),
    Op("PUT", "/api/v1/recordings/{village}/{id}", "one chunk of a recording", SIGNED,
       query={"size": {"type": "integer"}, "sha256": SHA256, "offset": {"type": "integer"}},
       body={"type": "string", "format": "binary"}, body_type=BYTES, security=(EDGE,)),
    Op("GET", "/api/v1/votes/{village}/{question}", "a meeting vote's tally, counted once per household", ANSWERS,
       security=(BEARER,)),
]

CASE_ACTIONS = ["assign", "accept", "return", "reply", "extend", "close", "merge"]
CASES = [
    Op("GET", "/api/v1/cases", "cases in the caller's scope, newest first", ANSWERS,
       query={**LIST_QUERY, "state": TEXT, "unit": TEXT, "village": TEXT, "overdue": {"enum": ["true", "false"]},
              "q": {"type": "string", "maxLength": 50}},
       security=OFFICIAL),
    Op("GET", "/api/v1/cases/{id}", "one case with its history", ANSWERS, security=OFFICIAL),
    Op("POST", "/api/v1/cases/{id}/{action}",
       "a step of a case: assign, accept, return, reply, extend, close, merge (into another case)",
       ANSWERS, path_params={"action": {"enum": CASE_ACTIONS}},
       body=_object(unit=TEXT, reason=TEXT, text=TEXT, working_days={"type": "integer"}, into=UUID),
       security=OFFICIAL),
    Op("GET", "/api/v1/routes", "which unit gets cases of each kind and category", ANSWERS, security=OFFICIAL),
    Op("POST", "/api/v1/routes", "route cases of a kind (and category) to a unit", CREATED,
       body=_object("kind", "unit", "days", kind=TEXT, category=TEXT, unit=TEXT, days={"type": "integer"}),
       security=OFFICIAL),
    Op("DELETE", "/api/v1/routes", "remove a routing rule", ANSWERS, query={"kind": TEXT, "category": TEXT},
       security=OFFICIAL),
    Op("GET", "/api/v1/stats", "case and usage figures of a scope over a period", ANSWERS,
       query={"scope": SCOPE, "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"}},
       security=OFFICIAL),
    Op("GET", "/api/v1/stats.xlsx", "the same figures as a workbook, a sheet per table", ANSWERS,
       query={"scope": SCOPE, "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"}},
       security=OFFICIAL, produces="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    Op("GET", "/api/v1/reports/monthly.pdf", "the monthly report (月报) of a scope as a printable PDF", ANSWERS,
       query={"scope": SCOPE, "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}, security=OFFICIAL,
       produces="application/pdf"),
    Op("GET", "/api/v1/stats/dashboard", "the figures with headline changes, weekly trend and villages' map", ANSWERS,
       query={"scope": SCOPE, "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"}},
       security=OFFICIAL),
    Op("GET", "/admin/audit", "the audit log page", PAGE, query={"since": TEXT}, security=(SESSION,), produces=HTML),
    Op("GET", "/admin/dashboard", "the statistics dashboard page", PAGE,
       query={"scope": SCOPE, "period": TEXT}, security=(SESSION,),
       produces=HTML),
]

OPEN311 = [
    Op("GET", "/open311/v2/services.json", "Open311 GeoReport v2: the kinds of request", ANSWERS),
    Op("GET", "/open311/v2/requests.json", "Open311: service requests the key may read", ANSWERS,
       query={"api_key": TEXT, "service_request_id": TEXT, "status": TEXT, "start_date": TEXT, "end_date": TEXT}),
    Op("GET", "/open311/v2/requests/{id}.json", "Open311: one service request", ANSWERS, query={"api_key": TEXT}),
    Op("POST", "/open311/v2/requests.json", "Open311: file a service request", CREATED,
       body=_object(api_key=TEXT, service_code=TEXT, description=TEXT, address_string=TEXT), body_type=FORM),
]

ROLLOUT_ACTION = {"enum": ["approve", "pause", "resume", "abort"]}
ROLLOUTS = [
    Op("GET", "/api/v1/rollouts", "rollouts in waves with each wave's progress (admin)", ANSWERS, security=OFFICIAL),
    Op("POST", "/api/v1/rollouts", "a rollout of a release, waiting for approval (city admin)", CREATED,
       body=_object("release", release=TEXT, scope=TEXT, waves=TEXT, success_threshold={"type": "integer"},
                    error_threshold={"type": "integer"}, max_failures={"type": "integer"}),
       security=OFFICIAL),
    Op("GET", "/api/v1/rollouts/{id}", "one rollout (city admin)", ANSWERS, path_params={"id": {"type": "integer"}},
       security=OFFICIAL),
    Op("POST", "/api/v1/rollouts/{id}/{action}", "approve (not by the author), pause, resume or abort", ANSWERS,
       path_params={"id": {"type": "integer"}, "action": ROLLOUT_ACTION}, body=_object(), security=OFFICIAL),
    Op("GET", "/admin/rollouts", "the rollouts page", PAGE, query={"done": TEXT}, security=(SESSION,),
       produces=HTML),
    Op("POST", "/admin/rollouts/{id}/{action}", "a rollout's button on the page", PAGE,
       path_params={"id": {"type": "integer"}, "action": ROLLOUT_ACTION}, body=_object(csrf=TEXT),
       body_type=FORM, security=(SESSION,), produces=HTML),
]

OPERATIONS: list[Op] = [document_op(), *SYNC, *ADMIN, *NOTICES, *OFFICIALS, *PAGES, *STREAMS, *CASES, *OPEN311,
                        *ROLLOUTS]


def build() -> dict[str, Any]:
    return document("VillageNet hub", "The city hub: sync with villages, officials, notices, streams (CONTRACT.md).",
                    OPERATIONS, SCHEMES)


def setup(app: web.Application) -> None:
    add_document_route(app, build)
