"""Checks for values arriving from outside (JSON bodies, query strings, path parts) and RFC 3339 times.

Each check raises BadInput with a sentence naming the field, so every route refuses bad input the same way.
"""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime
from typing import Any

from .errors import BadInput

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Village ids appear in URL paths that edges sign byte for byte, so they stay plain ASCII.
_VILLAGE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Town ids only appear in scopes and JSON, so Chinese names such as 城关镇 may be used as ids.
_TOWN_ID = re.compile(r"^[\w.-]{1,64}$")
_MIME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$")


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and bool(_UUID.match(value))


def require_uuid(value: object, what: str) -> str:
    if not is_uuid(value):
        raise BadInput(f"{what} must be a UUID such as 0f8fad5b-d9cb-469f-a165-70867728950e", "bad_id")
    assert isinstance(value, str)
    return value


def require_village_id(value: object, what: str = "village id") -> str:
    if not isinstance(value, str) or not _VILLAGE_ID.match(value):
        raise BadInput(f"{what} must be 1-64 ASCII letters, digits, '.', '_' or '-'", "bad_id")
    return value


def require_town_id(value: object, what: str = "town id") -> str:
    if not isinstance(value, str) or not _TOWN_ID.match(value):
        raise BadInput(f"{what} must be 1-64 letters, digits, '.', '_' or '-'", "bad_id")
    return value


def require_object(value: object, what: str = "the body") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadInput(f"{what} must be a JSON object", "bad_input")
    return value


def text_field(body: dict[str, Any], name: str, max_len: int, required: bool = True, min_len: int = 1) -> str | None:
    """A string field, stripped of surrounding space, within [min_len, max_len] characters."""
    if name not in body or body[name] is None:
        if required:
            raise BadInput(f"the field {name!r} is missing", "missing_field")
        return None
    value = body[name]
    if not isinstance(value, str):
        raise BadInput(f"the field {name!r} must be a string", "wrong_type")
    value = value.strip()
    if not min_len <= len(value) <= max_len:
        raise BadInput(f"the field {name!r} must have {min_len} to {max_len} characters", "bad_length")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise BadInput(f"the field {name!r} contains control characters", "bad_input")
    return value


def choice_field(body: dict[str, Any], name: str, choices: tuple[str, ...], default: str | None = None) -> str:
    value = body.get(name, default)
    if value is None:
        raise BadInput(f"the field {name!r} is missing", "missing_field")
    if not isinstance(value, str):
        raise BadInput(f"the field {name!r} must be a string", "wrong_type")
    if value not in choices:
        raise BadInput(f"{name} {value!r} is unknown; use one of {', '.join(choices)}", f"unknown_{name}")
    return value


def is_mime(value: object) -> bool:
    return isinstance(value, str) and bool(_MIME.match(value))


def int_param(raw: str | None, name: str, default: int, lo: int, hi: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(f"the parameter {name!r} must be an integer", "bad_parameter") from None
    if not lo <= value <= hi:
        raise BadInput(f"the parameter {name!r} must be between {lo} and {hi}", "bad_parameter")
    return value


def float_param(raw: str | None, name: str, default: float, lo: float, hi: float) -> float:
    """A float query parameter; values above `hi` are clamped, since a long wait is a wish, not an error."""
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadInput(f"the parameter {name!r} must be a number", "bad_parameter") from None
    if value != value or value < lo:  # NaN compares unequal to itself
        raise BadInput(f"the parameter {name!r} must be at least {lo}", "bad_parameter")
    return min(value, hi)


def parse_rfc3339(value: object, what: str) -> float:
    """Seconds since the epoch of an RFC 3339 time with a zone (Z or an offset)."""
    if not isinstance(value, str) or len(value) > 40 or "T" not in value.upper():
        raise BadInput(f"{what} must be an RFC 3339 time such as 2030-01-31T08:00:00Z", "bad_time")
    try:
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{what} must be an RFC 3339 time such as 2030-01-31T08:00:00Z", "bad_time") from None
    if parsed.tzinfo is None:
        raise BadInput(f"{what} must carry a time zone (Z or +08:00)", "bad_time")
    return parsed.timestamp()


def rfc3339(ts: float | None) -> str | None:
    """Unix seconds as an RFC 3339 UTC string, whole seconds (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def jsonable(value: Any) -> Any:
    """A decoded msgpack value made fit for JSON: bytes become hex, non-finite floats null."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def now() -> float:
    return time.time()
