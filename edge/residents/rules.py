"""What a resident's submission must look like, per kind, before the edge accepts it.

These checks protect the queue: anything accepted here is kept durably and sent to the city, so it must be sane.
"""

from __future__ import annotations

import uuid
from typing import Any

from edge.errors import Refused
from protocol import codec
from protocol.records import SUBMISSION_KINDS

MAX_SUBMISSION_BYTES = 64 * 1024
# The resident's own words (typed on the TV's pinyin keyboard or a phone's keyboard): room for a full account of a
# matter, as a 12345 hotline ticket takes it, and far inside the 64 KiB body (2,000 characters are 6 KB in UTF-8).
MAX_TEXT = 2000
# A chosen label (category, service, status) is a short name the hub routes by; it keeps 100 characters of it.
MAX_LABEL = 100
TEXT_LIMITS = {"text": MAX_TEXT, "category": MAX_LABEL, "service": MAX_LABEL, "status": MAX_LABEL}


class Invalid(Refused):
    """A submission the edge will not queue; `code` and `detail` go back to the device as they are."""


def _text(body: dict[str, Any], name: str, required: bool) -> None:
    if name not in body:
        if required:
            raise Invalid(422, "missing_field", f"body.{name} is required")
        return
    value = body[name]
    if not isinstance(value, str) or not value.strip():
        raise Invalid(422, "wrong_type", f"body.{name} must be non-empty text")
    limit = TEXT_LIMITS.get(name, MAX_TEXT)
    if len(value) > limit:
        raise Invalid(422, "too_long", f"body.{name} is longer than {limit} characters")


def _int(body: dict[str, Any], name: str, low: int, high: int, required: bool) -> None:
    if name not in body:
        if required:
            raise Invalid(422, "missing_field", f"body.{name} is required")
        return
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(422, "wrong_type", f"body.{name} must be a whole number from {low} to {high}")


def _check_body(kind: str, body: dict[str, Any]) -> None:
    if kind == "feedback":
        if "text" not in body and "choice" not in body:
            raise Invalid(422, "missing_field", "feedback needs body.text or body.choice")
        _text(body, "text", False)
        _text(body, "category", False)  # the chosen label when body.text holds the resident's own words
        _int(body, "choice", 0, 99, False)
    elif kind in ("consultation", "incident"):
        _text(body, "text", kind == "consultation")
        _text(body, "category", kind == "incident" and "text" not in body)
    elif kind == "service_request":
        _text(body, "service", True)
        _text(body, "text", False)
    elif kind == "checkin":
        _text(body, "status", False)
    elif kind == "vote":
        _text(body, "question_id", True)
        if not isinstance(body.get("choice"), str | int) or isinstance(body.get("choice"), bool):
            raise Invalid(422, "missing_field", "vote needs body.choice (text or number)")
    elif kind == "rating":
        parse_uuid(body.get("submission_id"), "body.submission_id")
        _int(body, "score", 1, 5, True)


def parse_uuid(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise Invalid(422, "bad_uuid", f"{what} must be a UUID string")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise Invalid(422, "bad_uuid", f"{what} is not a valid UUID") from None


def parse_submission(payload: Any) -> dict[str, Any]:
    """Return {id, kind, device_id, body} normalised, or raise Invalid with a sentence saying what is wrong."""
    if not isinstance(payload, dict):
        raise Invalid(400, "wrong_type", "the body must be a JSON object")
    for name in ("id", "kind", "device_id", "body"):
        if name not in payload:
            raise Invalid(400, "missing_field", f"the field {name!r} is required")
    extra = sorted(set(payload) - {"id", "kind", "device_id", "body"})
    if extra:
        raise Invalid(400, "unknown_field", f"unknown field(s): {', '.join(extra)}")
    sid = parse_uuid(payload["id"], "id")
    kind = payload["kind"]
    if not isinstance(kind, str) or kind not in SUBMISSION_KINDS:
        raise Invalid(422, "unknown_kind", f"kind must be one of {', '.join(SUBMISSION_KINDS)}")
    device_id = payload["device_id"]
    if not isinstance(device_id, str) or not 1 <= len(device_id) <= 64:
        raise Invalid(400, "wrong_type", "device_id must be text of 1 to 64 characters")
    body = payload["body"]
    if not isinstance(body, dict):
        raise Invalid(400, "wrong_type", "body must be a JSON object")
    try:
        size = len(codec.encode(body))
    except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON integer msgpack cannot hold (over 64 bits)
        raise Invalid(400, "wrong_type", "body holds values that cannot be stored") from None
    if size > MAX_SUBMISSION_BYTES:
        raise Invalid(413, "too_large", f"body is larger than {MAX_SUBMISSION_BYTES} bytes")
    _check_body(kind, body)
    return {"id": sid, "kind": kind, "device_id": device_id, "body": body}
