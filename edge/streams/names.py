"""Names that come from outside in the streams area: stream ids (in URLs and records) and segment file names."""

from __future__ import annotations

import re

from protocol.hls_playlist import PLAYLIST_NAME, is_segment_name

_STREAM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

__all__ = ["PLAYLIST_NAME", "is_segment_name", "is_stream_id"]


def is_stream_id(value: object) -> bool:
    return isinstance(value, str) and bool(_STREAM_ID.match(value))
