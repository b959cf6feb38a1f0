"""Strict parsing of HLS media playlists from outside (a city source, the hub, a village-hall encoder).

Only plain segment names, known tags and bounded sizes pass; low-latency tags are dropped so that a relay never
advertises blocking playlist reload it does not support. Anything else is refused with a sentence.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .errors import DecodeError, TooLarge

MAX_PLAYLIST_BYTES = 1024 * 1024
MAX_SEGMENTS = 20_000
MAX_LINE = 1024
MAX_TARGET_DURATION = 60
# A segment name is one path component: no `/`, no `..`, no query; it becomes a file name and a route part.
SEGMENT_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")
PLAYLIST_NAME = "index.m3u8"

# Segment-level tags kept verbatim (after a character check); everything else at that level is dropped.
_SEGMENT_TAGS = ("#EXT-X-DISCONTINUITY", "#EXT-X-PROGRAM-DATE-TIME:")
_MAP_URI = re.compile(r'^#EXT-X-MAP:URI="([^"]*)"$')


@dataclass(frozen=True)
class Segment:
    name: str
    duration: float
    tags: tuple[str, ...] = ()  # discontinuity / program date time lines that precede it


@dataclass
class MediaPlaylist:
    target_duration: int
    media_sequence: int = 0
    discontinuity_sequence: int = 0
    segments: list[Segment] = field(default_factory=list)
    ended: bool = False
    vod: bool = False
    init_name: str | None = None  # fMP4 initialisation section (#EXT-X-MAP)
    version: int = 3

    def names(self) -> list[str]:
        return ([self.init_name] if self.init_name else []) + [s.name for s in self.segments]

    def render(self) -> bytes:
        """The playlist as this side serves it: known tags only, never a low-latency server control."""
        lines = ["#EXTM3U", f"#EXT-X-VERSION:{self.version}", f"#EXT-X-TARGETDURATION:{self.target_duration}",
                 f"#EXT-X-MEDIA-SEQUENCE:{self.media_sequence}"]
        if self.discontinuity_sequence:
            lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{self.discontinuity_sequence}")
        if self.vod:
            lines.append("#EXT-X-PLAYLIST-TYPE:VOD")
        if self.init_name:
            lines.append(f'#EXT-X-MAP:URI="{self.init_name}"')
        for seg in self.segments:
            lines.extend(seg.tags)
            lines.append(f"#EXTINF:{seg.duration:.3f},")
            lines.append(seg.name)
        if self.ended:
            lines.append("#EXT-X-ENDLIST")
        return ("\n".join(lines) + "\n").encode("ascii")


def is_segment_name(name: str) -> bool:
    return bool(SEGMENT_NAME.match(name)) and ".." not in name and name != PLAYLIST_NAME


def _int_value(line: str, what: str, high: int) -> int:
    raw = line.split(":", 1)[1].strip()
    if not raw.isdigit() or len(raw) > 18 or int(raw) > high:
        raise DecodeError(f"{what} must be a whole number up to {high}")
    return int(raw)


def parse_media_playlist(data: bytes) -> MediaPlaylist:
    """Parse an HLS media playlist, refusing master playlists, odd names, absent durations and oversize input."""
    if len(data) > MAX_PLAYLIST_BYTES:
        raise TooLarge(f"a playlist may be at most {MAX_PLAYLIST_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("the playlist is not UTF-8 text") from None
    text = text.removeprefix("\ufeff")
    lines = [ln.strip() for ln in text.splitlines()]
    if not lines or lines[0] != "#EXTM3U":
        raise DecodeError("not an HLS playlist: the first line must be #EXTM3U")
    target: int | None = None
    pl = MediaPlaylist(target_duration=0)
    pending_duration: float | None = None
    pending_tags: list[str] = []
    seen: set[str] = set()
    for line in lines[1:]:
        if not line:
            continue
        if len(line) > MAX_LINE or any(ord(c) < 32 or ord(c) > 126 for c in line):
            raise DecodeError("a playlist line is too long or holds characters other than printable ASCII")
        if line.startswith("#EXT-X-STREAM-INF") or line.startswith("#EXT-X-MEDIA:"):
            raise DecodeError("this is a master playlist; give the URL of one media playlist (one quality)")
        if line.startswith(("#EXT-X-KEY:", "#EXT-X-BYTERANGE:")) and "METHOD=NONE" not in line:
            raise DecodeError("encrypted or byte-range playlists are not relayed; send plain segments")
        if line.startswith("#EXT-X-TARGETDURATION:"):
            target = _int_value(line, "EXT-X-TARGETDURATION", MAX_TARGET_DURATION)
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            pl.media_sequence = _int_value(line, "EXT-X-MEDIA-SEQUENCE", 2**62)
        elif line.startswith("#EXT-X-DISCONTINUITY-SEQUENCE:"):
            pl.discontinuity_sequence = _int_value(line, "EXT-X-DISCONTINUITY-SEQUENCE", 2**62)
        elif line.startswith("#EXT-X-VERSION:"):
            pl.version = max(3, min(_int_value(line, "EXT-X-VERSION", 12), 7))
        elif line == "#EXT-X-ENDLIST":
            pl.ended = True
        elif line.startswith("#EXT-X-PLAYLIST-TYPE:"):
            pl.vod = line.endswith(":VOD")
        elif line.startswith("#EXT-X-MAP:"):
            m = _MAP_URI.match(line)
            if m is None or not is_segment_name(m.group(1)):
                raise DecodeError("EXT-X-MAP must name a plain file (letters, digits, '_', '-', '.') beside the playlist")
            pl.init_name = m.group(1)
        elif line.startswith("#EXTINF:"):
            raw = line[8:].split(",", 1)[0]
            try:
                duration = float(raw)
            except ValueError:
                raise DecodeError(f"EXTINF duration {raw!r} is not a number") from None
            if not math.isfinite(duration) or not 0 < duration <= MAX_TARGET_DURATION:
                raise DecodeError(f"a segment may last from 0 to {MAX_TARGET_DURATION} seconds")
            pending_duration = duration
        elif line.startswith(_SEGMENT_TAGS) or line == "#EXT-X-DISCONTINUITY":
            pending_tags.append(line)
        elif line.startswith("#"):
            # Comments, unknown tags and the low-latency ones (EXT-X-SERVER-CONTROL with CAN-BLOCK-RELOAD,
            # EXT-X-PART, EXT-X-PRELOAD-HINT ...) are dropped: the relay answers every reload at once.
            continue
        else:
            if pending_duration is None:
                raise DecodeError(f"segment {line[:60]!r} has no #EXTINF duration before it")
            if not is_segment_name(line):
                raise DecodeError(
                    f"segment name {line[:60]!r} is refused: use a plain file name beside the playlist"
                    " (letters, digits, '_', '-', '.'; no '/', '..' or query)"
                )
            if line in seen:
                raise DecodeError(f"segment {line} is listed twice")
            seen.add(line)
            pl.segments.append(Segment(line, pending_duration, tuple(pending_tags)))
            if len(pl.segments) > MAX_SEGMENTS:
                raise TooLarge(f"a playlist may list at most {MAX_SEGMENTS} segments")
            pending_duration, pending_tags = None, []
    if target is None:
        raise DecodeError("not a media playlist: #EXT-X-TARGETDURATION is missing")
    if pending_duration is not None:
        raise DecodeError("the playlist ends with an #EXTINF that names no segment")
    pl.target_duration = target
    return pl
