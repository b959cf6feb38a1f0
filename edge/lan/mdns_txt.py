"""The TXT record rules for VillageNet's mDNS adverts: what we may send, and how an STB's record is read.
An STB's TXT is outside input, so it is checked and bounded here before anything else sees it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Keys of 9 characters or fewer and a record under 200 bytes (RFC 6763 6.2, 6.1): anything bigger belongs
# behind GET /api/v1/info, and small records fit in one packet with the rest of the answer.
TXT_MAX_KEY = 9
TXT_MAX_BYTES = 200

# Bounds on what an STB may tell us: TXT values are outside input that ends up in logs, status and pages.
DEVICE_ID_MAX = 64
TXT_VALUE_MAX = 64
_DEVICE_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")


@dataclass(frozen=True)
class StbAdvert:
    """What an STB's TXT record says about it, already checked and bounded."""

    device_id: str
    model: str
    firmware: str
    middleware: str


def normalize_device_id(value: object) -> str | None:
    """The device id if it is one we accept (it goes into headers, logs and file names), else None."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    value = value.strip()
    if len(value) > DEVICE_ID_MAX or not _DEVICE_ID_RE.fullmatch(value):
        return None
    return value


def clean_text(raw: bytes | str | None, limit: int = TXT_VALUE_MAX) -> str:
    if raw is None:
        return ""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    # Control characters would let a hostile record forge log lines or break the staff page layout.
    return "".join(ch for ch in text if ch.isprintable()).strip()[:limit]


def parse_stb_txt(properties: Mapping[bytes, bytes | None]) -> StbAdvert | None:
    """Read an STB's TXT (`id`, `model`, `fw`, `mw`); None when it has no acceptable `id`."""
    values: dict[str, bytes | None] = {}
    for key, value in properties.items():
        # RFC 6763 6.4: keys are case-insensitive and the first occurrence wins.
        name = key.decode("ascii", errors="replace").lower()
        values.setdefault(name, value)
    device_id = normalize_device_id(values.get("id"))
    if device_id is None:
        return None
    return StbAdvert(
        device_id=device_id,
        model=clean_text(values.get("model")),
        firmware=clean_text(values.get("fw")),
        middleware=clean_text(values.get("mw")),
    )


def check_txt(txt: Mapping[str, str]) -> None:
    """Raise ValueError unless the record keeps our TXT limits (short keys, under 200 bytes in all)."""
    size = 0
    for key, value in txt.items():
        if not key or len(key) > TXT_MAX_KEY or not key.isascii():
            raise ValueError(f"TXT key {key!r} must be 1 to {TXT_MAX_KEY} ASCII characters")
        # Each string on the wire is a length byte followed by key=value.
        size += 1 + len(key.encode()) + 1 + len(value.encode())
    if size >= TXT_MAX_BYTES:
        raise ValueError(f"TXT record is {size} bytes; it must stay under {TXT_MAX_BYTES}")
