"""Record operations carried by feed entries, and the owner rule (一数一源: one data, one source).

Every kind of record has one owning side; an entry in a feed may only put or delete records its sender owns, so
there are no concurrent edits to merge. A non-owner who wants a change sends a record of its own (a reply, a rating).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from . import codec
from .case_status import validate_case_status
from .errors import DecodeError, OwnershipError
from .usage_day import validate_usage_day

Side = Literal["hub", "edge"]

KIND_OWNER: dict[str, Side] = {
    # owned by the hub, travel down
    "notice": "hub",
    "reply": "hub",
    "staff_account": "hub",
    "setting": "hub",
    "stream": "hub",
    "release": "hub",
    # {submission_id, case_id, state, label, due_at, due_date, unit_name, at}: where a resident's request stands,
    # keyed by the submission's id; label is what the TV shows (已受理, 办理中, 已答复, 已办结), see docs/cases.md
    "case_status": "hub",
    # owned by the village edge, travel up
    "submission": "edge",
    "device_status": "edge",
    "recording": "edge",  # {title, agenda, sha256, size, duration_s, started_at, ended_at}: a meeting's recording
    "vote_tally": "edge",  # {stream_id, text, choices, counts, voters, cutoff_up_seq, closed_at}: a vote's final tally
    "village_info": "edge",
    # written by village staff on the edge's staff page (edge/staff/)
    "local_reply": "edge",  # {submission_id, text, by, at}: the hub keeps it as a reply of that submission
    "submission_handover": "edge",  # {submission_id, by, note, at}: staff handed it to the town
    "village_notice": "edge",  # {title, body, area, priority, scope: village:ID, published_at, expires_at, by}
    "usage_day": "edge",  # a finished day's usage, counts only (protocol/usage_day.py); final once sent
}

SUBMISSION_KINDS = ("feedback", "consultation", "service_request", "checkin", "incident", "vote", "rating")
AREAS = ("party", "services", "community", "safety", "elderly", "live", "interaction", "meetings")
PRIORITIES = ("normal", "urgent", "emergency")

MAX_RECORD_BODY = 64 * 1024
MAX_BLOBS_PER_RECORD = 32
MAX_BLOB_SIZE = 8 * 1024**3
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_RECORD_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def is_sha256_hex(value: object) -> bool:
    return isinstance(value, str) and bool(_SHA256_HEX.match(value))


def put(kind: str, record_id: str, body: dict[str, Any], blobs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"op": "put", "kind": kind, "id": record_id, "body": body, "blobs": blobs or []}


def delete(kind: str, record_id: str) -> dict[str, Any]:
    return {"op": "delete", "kind": kind, "id": record_id, "body": {}, "blobs": []}


def is_emergency_notice(op: dict[str, Any]) -> bool:
    """An emergency notice's put: the one kind of entry a down batch may send ahead of its turn (protocol/feed.py)."""
    body = op.get("body")
    return (op.get("op") == "put" and op.get("kind") == "notice" and isinstance(body, dict)
            and body.get("priority") == "emergency")


def validate_op(op: Any, sender: Side) -> dict[str, Any]:
    """Check an op's form and that its sender owns the record's kind; return it unchanged."""
    m = codec.require_map(op, "op")
    action = codec.field(m, "op", str, "op")
    if action not in ("put", "delete"):
        raise DecodeError(f"unknown op {action!r}")
    kind = codec.field(m, "kind", str, "op")
    owner = KIND_OWNER.get(kind)
    if owner is None:
        raise DecodeError(f"unknown record kind {kind!r}")
    if owner != sender:
        raise OwnershipError(f"records of kind {kind!r} belong to the {owner}, not the {sender}")
    rid = codec.field(m, "id", str, "op")
    if not _RECORD_ID.match(rid):
        raise DecodeError("record id must be 1-100 letters, digits or ._:-")
    body = codec.field(m, "body", dict, "op")
    if len(codec.encode(body)) > MAX_RECORD_BODY:
        raise DecodeError(f"record body is larger than {MAX_RECORD_BODY} bytes")
    blobs = codec.field(m, "blobs", list, "op")
    if len(blobs) > MAX_BLOBS_PER_RECORD:
        raise DecodeError(f"more than {MAX_BLOBS_PER_RECORD} blobs on one record")
    for ref in blobs:
        r = codec.require_map(ref, "blob ref")
        if not is_sha256_hex(r.get("sha256")):
            raise DecodeError("blob ref sha256 must be 64 lowercase hex digits")
        size = codec.field(r, "size", int, "blob ref")
        if not 0 <= size <= MAX_BLOB_SIZE:
            raise DecodeError("blob ref size is out of range")
        codec.field(r, "mime", str, "blob ref")
    if kind == "usage_day" and action == "put":
        validate_usage_day(rid, body, AREAS)
    if kind == "case_status" and action == "put":
        validate_case_status(rid, body)
    return m
