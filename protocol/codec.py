"""Canonical msgpack encoding and strict, size-limited decoding of outside bytes.

Signatures and hashes are taken over the canonical form (maps with sorted keys), so both sides agree on the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack

from .errors import DecodeError, TooLarge


@dataclass(frozen=True)
class Limits:
    """Caps for one decoder of outside bytes; anything larger is refused before or while decoding."""

    max_bytes: int = 4 * 1024 * 1024
    max_str: int = 1024 * 1024
    max_bin: int = 1024 * 1024
    max_array: int = 10_000
    max_map: int = 1_000
    max_depth: int = 12


DEFAULT_LIMITS = Limits()


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def encode(value: Any) -> bytes:
    """Canonical msgpack: sorted map keys, bin for bytes, str for text."""
    return msgpack.packb(_canonical(value), use_bin_type=True)


def _check_depth(value: Any, limit: int, depth: int = 0) -> None:
    if depth > limit:
        raise DecodeError(f"nested deeper than {limit} levels")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise DecodeError("map keys must be strings")
            _check_depth(v, limit, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_depth(v, limit, depth + 1)


def decode(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Decode one msgpack value from outside, refusing oversized, truncated, trailing or deep input."""
    if len(data) > limits.max_bytes:
        raise TooLarge(f"{len(data)} bytes is more than the limit of {limits.max_bytes}")
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            use_list=True,
            max_str_len=limits.max_str,
            max_bin_len=limits.max_bin,
            max_array_len=limits.max_array,
            max_map_len=limits.max_map,
            max_ext_len=0,
        )
    except msgpack.ExtraData as exc:
        raise DecodeError("trailing bytes after the message") from exc
    except (ValueError, msgpack.UnpackException, TypeError) as exc:
        # ValueError covers truncated input, limits exceeded and bad UTF-8.
        raise DecodeError(f"not valid msgpack: {exc}") from exc
    except RecursionError as exc:
        raise DecodeError("nested too deeply") from exc
    _check_depth(value, limits.max_depth)
    return value


def require_map(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DecodeError(f"{what} must be a map")
    return value


def field(m: dict[str, Any], name: str, typ: type | tuple[type, ...], what: str) -> Any:
    """A required field of a decoded map, with its type checked (bool is not accepted as int)."""
    if name not in m:
        raise DecodeError(f"{what} lacks the field {name!r}")
    v = m[name]
    if isinstance(v, bool) and typ is int:
        raise DecodeError(f"{what}.{name} must be {typ.__name__}")
    if not isinstance(v, typ):
        names = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
        raise DecodeError(f"{what}.{name} must be {names}")
    return v
