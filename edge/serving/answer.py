"""What the front door sends for one request: a parsed request head in, a status line, headers and a body out.

The body is bytes (playlists) or a byte span of an open file descriptor (blobs, segments) for sendfile.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from email.utils import formatdate

_REASONS = {200: "OK", 206: "Partial Content", 304: "Not Modified"}


@dataclass(slots=True)
class Request:
    """A GET or HEAD whose head parsed cleanly; header names are lower case."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    remote: str | None


@dataclass(slots=True)
class Answer:
    head: bytes
    body: bytes = b""
    fd: int = -1  # a file to send with sendfile, from `offset`, `count` bytes
    offset: int = 0
    count: int = 0
    owns_fd: bool = False  # closed once sent; a shared descriptor (a memory file) is left open

    def release(self) -> None:
        if self.owns_fd and self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class _Heads:
    """Response heads as bytes. The Date value changes once a second; within that second, the heads of shared
    answers (a segment, a playlist: the same for thousands of viewers) are made once and reused."""

    def __init__(self) -> None:
        self.second = -1
        self.date = ""
        self.shared: dict[tuple[int, str, int | None], bytes] = {}

    def _now(self) -> str:
        second = int(time.time())
        if second != self.second:
            self.second, self.date = second, formatdate(second, usegmt=True)
            self.shared.clear()
        return self.date

    def make(self, status: int, headers: str, length: int | None) -> bytes:
        size = "" if length is None else f"Content-Length: {length}\r\n"
        return (f"HTTP/1.1 {status} {_REASONS[status]}\r\nDate: {self._now()}\r\nServer: villagenet-edge\r\n"
                f"{size}{headers}\r\n").encode("latin-1")

    def shared_head(self, status: int, headers: str, length: int | None) -> bytes:
        self._now()
        key = (status, headers, length)
        made = self.shared.get(key)
        if made is None:
            if len(self.shared) >= MAX_SHARED_HEADS:
                self.shared.clear()
            made = self.shared[key] = self.make(status, headers, length)
        return made


MAX_SHARED_HEADS = 1024
_HEADS = _Heads()


def head(status: int, headers: str, length: int | None) -> bytes:
    """A response head; `headers` are complete `Name: value\\r\\n` lines; no length for a 304."""
    return _HEADS.make(status, headers, length)


def bytes_answer(request: Request, data: bytes, headers: str) -> Answer:
    """All of `data` (a playlist): the same for every viewer within a second, head included."""
    return Answer(_HEADS.shared_head(200, headers, len(data)), b"" if request.method == "HEAD" else data)


def shared_file_answer(request: Request, fd: int, size: int, headers: str) -> Answer:
    """All of a file whose descriptor stays open after the answer (a memory file others are served from too)."""
    if request.method == "HEAD":
        return Answer(_HEADS.shared_head(200, headers, size))
    return Answer(_HEADS.shared_head(200, headers, size), fd=fd, count=size)
