"""A file on disk as HTTP answers it: ETag and If-None-Match (304), one Range (206), HEAD.

The ETag and headers are the ones aiohttp's FileResponse gives the same file, so a client sees one server whichever
path answered. Anything rarer (several ranges, an unsatisfiable range, If-Range, If-Match, dates) returns None and
the aiohttp route answers it: the front door only takes the common case.
"""

from __future__ import annotations

import functools
import math
import os
from email.utils import formatdate

from .answer import Answer, Request, head

_RARE_CONDITIONS = ("if-match", "if-range", "if-modified-since", "if-unmodified-since")


@functools.lru_cache(maxsize=4096)
def _http_date(second: int) -> str:
    return formatdate(second, usegmt=True)


def etag_of(st: os.stat_result) -> str:
    """aiohttp's FileResponse ETag: the file's change time and size."""
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison, as for If-None-Match (RFC 9110 13.1.2): `*`, or any listed tag, W/ or not."""
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def single_range(value: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of one satisfiable `bytes=` range; None for anything else."""
    unit, _, spec = value.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()) \
            or (last and not last.isdigit()):
        return None
    if not first:  # the last N bytes
        n = int(last)
        return (max(0, size - n), size - 1) if n > 0 and size > 0 else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end and start < size else None


def file_answer(request: Request, fd: int, content_type: str, headers: str) -> Answer | None:
    """The answer for an open file, which it then owns; None (the file closed) for a case aiohttp should take."""
    st = os.fstat(fd)
    h = request.headers
    if any(name in h for name in _RARE_CONDITIONS):
        os.close(fd)
        return None
    etag = etag_of(st)
    lines = f"ETag: {etag}\r\nLast-Modified: {_http_date(math.ceil(st.st_mtime))}\r\n{headers}"  # as aiohttp rounds
    inm = h.get("if-none-match")
    if inm is not None and etag_matches(inm, etag):
        os.close(fd)
        return Answer(head(304, lines, None))
    lines = f"Accept-Ranges: bytes\r\nContent-Type: {content_type}\r\n{lines}"
    size, status, offset, count = st.st_size, 200, 0, st.st_size
    wanted = h.get("range")
    if wanted is not None:
        span = single_range(wanted, size)
        if span is None:
            os.close(fd)
            return None
        status, offset, count = 206, span[0], span[1] - span[0] + 1
        lines = f"Content-Range: bytes {span[0]}-{span[1]}/{size}\r\n{lines}"
    if request.method == "HEAD" or count == 0:
        os.close(fd)
        return Answer(head(status, lines, count))
    return Answer(head(status, lines, count), fd=fd, offset=offset, count=count, owns_fd=True)
