"""The edge's routes as an OpenAPI document, served at GET /api/v1/openapi.json.

The table below is the source; tests/fuzz/test_openapi_documents.py fails when it and the app's router disagree,
and the fuzzers read it to know what each route takes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from protocol.openapi import BYTES, FORM, HTML, TEXT, Op, Schema, add_document_route, document, document_op

DEVICE = "device_token"  # X-Device-Token from POST /api/v1/devices (or the TV app's cookie)
STAFF = "staff_session"  # the staff page's session cookie; unsafe methods also need X-CSRF-Token or form csrf
INGEST = "ingest_key"  # the stream's key, for the village-hall encoder
SCHEMES: dict[str, Schema] = {
    DEVICE: {"type": "apiKey", "in": "header", "name": "X-Device-Token"},
    STAFF: {"type": "apiKey", "in": "cookie", "name": "vn_staff"},
    INGEST: {"type": "apiKey", "in": "header", "name": "X-Ingest-Key"},
}

SHA256: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
UUID: Schema = {"type": "string", "format": "uuid"}
KINDS = ["feedback", "consultation", "service_request", "checkin", "incident", "vote", "rating"]
AREAS = ["party", "services", "community", "safety", "elderly", "live", "interaction", "meetings"]
OK = {200: "the answer"}
PAGE = {200: "the page", 302: "to where this goes next", 404: "no such thing"}
MINE = {200: "the answer", 401: "no device token", 403: "another device's", 404: "no such thing"}
STAFF_PAGE = {200: "the page", 302: "to the login form", 403: "the role does not allow it", 404: "no such thing"}
STAFF_POST = {303: "done; to the page", 400: "bad form", 401: "not logged in", 403: "no CSRF token or role",
              404: "no such thing", 409: "not now"}
STAFF_API = {200: "the answer", 401: "not logged in", 403: "the role does not allow it", 404: "no such thing"}
VIEWER_QUERY: dict[str, Schema] = {"lang": TEXT, "big": {"enum": ["0", "1"]}, "mw": TEXT, "device": TEXT,
                                   "alerts": TEXT}


def _form(**fields: Schema) -> Schema:
    return {"type": "object", "properties": {"csrf": TEXT, **fields}}


# What each kind's body may hold (edge/residents/rules.py says which of them each kind needs).
SUBMISSION_BODY: Schema = {"type": "object", "properties": {
    "text": TEXT, "category": TEXT, "choice": {"type": ["integer", "string"]}, "service": TEXT, "status": TEXT,
    "question_id": TEXT, "submission_id": UUID, "score": {"type": "integer", "minimum": 1, "maximum": 5},
}}
SUBMISSION: Schema = {
    "type": "object",
    "required": ["id", "kind", "device_id", "body"],
    "properties": {"id": UUID, "kind": {"enum": KINDS}, "device_id": TEXT, "body": SUBMISSION_BODY},
    "additionalProperties": False,
}
ALERT_LOG: Schema = {"type": "object", "required": ["device_id"], "properties": {"device_id": TEXT}}

RESIDENT = [
    Op("POST", "/api/v1/devices", "register this TV or phone: its id and secret token",
       {201: "{device_id, token}", 400: "bad body", 413: "body too large", 429: "too many from this address"},
       body={"type": "object", "properties": {"model": TEXT, "mw": TEXT, "device_id": TEXT},
             "additionalProperties": False}),
    Op("GET", "/api/v1/info", "what this box is", OK),
    Op("GET", "/api/v1/notices", "notices in force, newest first", {200: "{notices: [...]}", 400: "unknown area"},
       query={"area": {"enum": AREAS}}),
    Op("POST", "/api/v1/submissions", "a resident's submission, queued durably for the hub",
       {201: "queued", 200: "an identical replay", 400: "bad JSON", 401: "no device token", 403: "another device",
        409: "same id, other body", 413: "over 64 KiB", 422: "a field is wrong", 429: "too many"},
       body=SUBMISSION, security=(DEVICE,)),
    Op("GET", "/api/v1/submissions", "this device's submissions, newest first", MINE,
       query={"device_id": TEXT, "cursor": TEXT}, security=(DEVICE,)),
    Op("GET", "/api/v1/submissions/{id}", "one of this device's submissions with its replies", MINE,
       path_params={"id": UUID}, security=(DEVICE,)),
    Op("GET", "/content/{sha256}", "a blob by its SHA-256 (Range, If-None-Match)",
       {200: "the blob", 206: "a range", 304: "unchanged", 404: "not here", 416: "bad range"},
       path_params={"sha256": SHA256}, headers={"Range": TEXT, "If-None-Match": TEXT}, produces=BYTES),
    Op("GET", "/api/v1/status", "the signed status document (msgpack), or ?format=json",
       {200: "the status", 400: "bad nonce"}, query={"format": {"enum": ["json"]}, "nonce": TEXT}, produces=BYTES),
    Op("GET", "/metrics", "Prometheus text exposition 0.0.4", OK, produces="text/plain"),
    Op("GET", "/api/v1/update", "this box's update state and the releases it refused", OK),
    Op("GET", "/api/v1/update/health", "the health check an update passes before it is committed",
       {200: "healthy", 503: "unhealthy: the update will be rolled back"}),
    Op("GET", "/api/v1/stb/firmware", "the newest firmware for an STB's model above its fw (docs/updates.md)",
       {200: "{release, version, sha256, size, url, signed}", 204: "up to date", 400: "bad model or fw"},
       query={"model": TEXT, "fw": TEXT}),
    Op("POST", "/api/v1/stb/firmware/result", "an STB's word on a firmware image: installed, or refused and why",
       {204: "noted", 400: "bad body", 401: "no device token", 403: "another device"},
       body={"type": "object", "properties": {"device_id": TEXT, "model": TEXT, "version": TEXT,
                                              "outcome": {"enum": ["installed", "refused"]}, "reason": TEXT}},
       security=(DEVICE,)),
    Op("GET", "/api/v1/pairing", "the pairing code this device shows for staff to type", MINE,
       query={"device_id": TEXT}, security=(DEVICE,)),
]

ALERTS = [
    Op("GET", "/api/v1/alerts", "emergency alerts this device has not acknowledged", OK, query={"device": TEXT}),
    Op("GET", "/api/v1/alerts/wait", "long poll: answers when the alerts change or after a while",
       {200: "the alerts", 400: "bad version"}, query={"device": TEXT, "version": {"type": "integer"}}),
    Op("GET", "/api/v1/alerts/events", "the alerts as server-sent events (an endless stream)",
       {200: "text/event-stream"}, query={"device": TEXT}, produces="text/event-stream"),
    Op("POST", "/api/v1/alerts/{id}/shown", "this device showed the alert",
       {200: "logged", 400: "bad body", 401: "no token", 403: "another device", 404: "no such alert"},
       body=ALERT_LOG, security=(DEVICE,)),
    Op("POST", "/api/v1/alerts/{id}/ack", "this device's viewer acknowledged the alert",
       {200: "logged", 400: "bad body", 401: "no token", 403: "another device", 404: "no such alert"},
       body=ALERT_LOG, security=(DEVICE,)),
]

STREAMS = [
    Op("GET", "/api/v1/streams", "live streams and meetings now", OK),
    Op("GET", "/api/v1/streams/{stream_id}/vote", "the open vote of a meeting, if any", {200: "the question",
                                                                                          404: "none"}),
    Op("GET", "/streams/{stream_id}/{file}", "HLS playlist or segment, relayed or local",
       {200: "the file", 404: "unknown", 503: "the upstream is unreachable"}, query={"device": TEXT},
       produces=BYTES),
    Op("PUT", "/ingest/{stream_id}/{file}", "the village-hall encoder pushes HLS",
       {201: "stored", 204: "stored", 400: "bad name", 403: "wrong key", 404: "no such meeting", 413: "too large"},
       query={"key": TEXT}, body={"type": "string", "format": "binary"}, body_type=BYTES, security=(INGEST,)),
    Op("DELETE", "/ingest/{stream_id}/{file}", "the encoder removes an old segment",
       {204: "removed", 403: "wrong key", 404: "no such meeting"}, query={"key": TEXT}, security=(INGEST,)),
]

TV = [
    Op("GET", "/", "to the TV app", {302: "to /tv/"}, produces=HTML),
    Op("GET", "/tv", "to the TV app", {302: "to /tv/"}, produces=HTML),
    Op("GET", "/tv/", "the TV app's home", PAGE, query=VIEWER_QUERY, produces=HTML),
    Op("GET", "/tv/area/{area}", "one area's notices", PAGE, query=VIEWER_QUERY, produces=HTML),
    Op("GET", "/tv/notice/{id}", "one notice", PAGE, query=VIEWER_QUERY, produces=HTML),
    Op("GET", "/tv/play/{sha256}", "a video player", PAGE, query={**VIEWER_QUERY, "notice": TEXT}, produces=HTML),
    Op("GET", "/tv/live/{stream_id}", "a live stream", PAGE, query={**VIEWER_QUERY, "area": TEXT, "title": TEXT},
       produces=HTML),
    Op("GET", "/tv/form/{name}", "a form: feedback, check-in, request, ...", PAGE, query=VIEWER_QUERY,
       produces=HTML),
    Op("GET", "/tv/mine", "this TV's submissions", PAGE, query=VIEWER_QUERY, produces=HTML),
    Op("GET", "/tv/mine/{id}", "one of this TV's submissions", PAGE, query=VIEWER_QUERY, produces=HTML),
    Op("GET", "/tv/settings", "language, text size", PAGE, query=VIEWER_QUERY, produces=HTML),
    Op("GET", "/tv/settings/set", "change a setting by a plain link", {302: "back to the settings"},
       query=VIEWER_QUERY, produces=HTML),
    Op("GET", "/tv/static/{filename}", "the TV app's scripts and styles", {200: "the file", 404: "none"},
       produces=BYTES),
    Op("GET", "/tv/pinyin.json", "the pinyin keyboard's candidates for each syllable", {200: "the table",
                                                                                        304: "unchanged"},
       headers={"If-None-Match": TEXT}),
]

STAFF_PAGES = [
    Op("GET", "/staff", "to the staff page", {302: "to /staff/"}, produces=HTML),
    Op("GET", "/staff/login", "the login form", {200: "the form"}, query={"next": TEXT}, produces=HTML),
    Op("POST", "/staff/login", "log in", {303: "logged in", 400: "bad form", 401: "wrong password",
                                          403: "no CSRF token", 429: "locked or too many"},
       body=_form(username=TEXT, password=TEXT, next=TEXT), body_type=FORM, produces=HTML),
    Op("POST", "/staff/logout", "log out", STAFF_POST, security=(STAFF,), produces=HTML),
    Op("GET", "/staff/lang", "switch the page language", {303: "back"}, query={"to": TEXT, "next": TEXT},
       produces=HTML),
    Op("GET", "/staff/", "the dashboard", STAFF_PAGE, security=(STAFF,), produces=HTML),
    Op("GET", "/staff/api/dashboard", "the dashboard's figures", STAFF_API, security=(STAFF,)),
    Op("GET", "/staff/inbox", "submissions to handle", STAFF_PAGE, query={"kind": TEXT, "state": TEXT},
       security=(STAFF,), produces=HTML),
    Op("GET", "/staff/inbox/{id}", "one submission", STAFF_PAGE, security=(STAFF,), produces=HTML),
    Op("POST", "/staff/inbox/{id}/reply", "answer a submission locally", STAFF_POST,
       body=_form(text=TEXT), body_type=FORM, security=(STAFF,), produces=HTML),
    Op("POST", "/staff/inbox/{id}/handover", "hand a submission over to the city", STAFF_POST,
       body=_form(note=TEXT), body_type=FORM, security=(STAFF,), produces=HTML),
    Op("GET", "/staff/api/inbox", "submissions to handle", STAFF_API, query={"kind": TEXT, "state": TEXT},
       security=(STAFF,)),
    Op("GET", "/staff/api/checkins/missing", "households whose check-in is missing", STAFF_API,
       security=(STAFF,)),
    Op("GET", "/staff/api/inbox/{id}", "one submission", STAFF_API, security=(STAFF,)),
    Op("GET", "/staff/notices", "the village's own notices", STAFF_PAGE, query={"done": TEXT},
       security=(STAFF,), produces=HTML),
    Op("POST", "/staff/notices", "publish a village notice", STAFF_POST,
       body=_form(title=TEXT, body=TEXT, area=TEXT, priority=TEXT, expires_at=TEXT), body_type=FORM,
       security=(STAFF,), produces=HTML),
    Op("POST", "/staff/notices/{id}/withdraw", "withdraw a village notice", STAFF_POST, body=_form(),
       body_type=FORM, security=(STAFF,), produces=HTML),
    Op("GET", "/staff/households", "households and their devices", STAFF_PAGE, query={"done": TEXT},
       security=(STAFF,), produces=HTML),
    Op("POST", "/staff/households", "add a household", STAFF_POST,
       body=_form(name=TEXT, address=TEXT, elderly_alone={"enum": ["0", "1"]}), body_type=FORM,
       security=(STAFF,), produces=HTML),
    Op("POST", "/staff/households/{id}/pair", "pair the device showing this code", STAFF_POST,
       body=_form(code=TEXT), body_type=FORM, security=(STAFF,), produces=HTML),
    Op("POST", "/staff/households/{id}/elderly", "mark an elderly person living alone", STAFF_POST,
       body=_form(elderly_alone={"enum": ["0", "1"]}), body_type=FORM, security=(STAFF,), produces=HTML),
    Op("POST", "/staff/devices/{device_id}/unpair", "untie a device from its household", STAFF_POST,
       body=_form(), body_type=FORM, security=(STAFF,), produces=HTML),
    Op("GET", "/staff/meetings", "meetings, their streams and votes", STAFF_PAGE, query={"question": TEXT},
       security=(STAFF,), produces=HTML),
    Op("POST", "/staff/meetings", "schedule a meeting", STAFF_POST, body=_form(title=TEXT, agenda=TEXT),
       body_type=FORM, security=(STAFF,), produces=HTML),
    Op("POST", "/staff/meetings/{id}/start", "start a meeting's stream", STAFF_POST, body=_form(),
       body_type=FORM, security=(STAFF,), produces=HTML),
    Op("POST", "/staff/meetings/{id}/stop", "stop a meeting's stream", STAFF_POST, body=_form(),
       body_type=FORM, security=(STAFF,), produces=HTML),
    Op("POST", "/staff/meetings/{id}/vote", "open a vote", STAFF_POST, body=_form(text=TEXT, choices=TEXT),
       body_type=FORM, security=(STAFF,), produces=HTML),
    Op("POST", "/staff/meetings/{id}/vote/{question}/close", "close a vote", STAFF_POST, body=_form(),
       body_type=FORM, security=(STAFF,), produces=HTML),
    Op("GET", "/staff/api/meetings", "meetings and the tally of a question", STAFF_API,
       query={"question": TEXT}, security=(STAFF,)),
]

OPERATIONS: list[Op] = [document_op(), *RESIDENT, *ALERTS, *STREAMS, *TV, *STAFF_PAGES]


def build() -> dict[str, Any]:
    return document("VillageNet edge", "A village box: resident API, TV app, staff page, streams (CONTRACT.md).",
                    OPERATIONS, SCHEMES)


def setup(app: web.Application) -> None:
    add_document_route(app, build)
