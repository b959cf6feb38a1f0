"""Serving a stored blob over HTTP: aiohttp's FileResponse (sendfile, one byte range, HEAD), named by its SHA-256.

FileResponse tags a file by its change time and size; a blob's name is its content, so its ETag is the SHA-256,
the same on every hub and after a restore from backup. If-None-Match is compared with that name here, and a range
FileResponse would refuse is refused here first, so the 416 carries the hub's `{error, detail}` like every error.
If-Range: the bytes under one name never change, so any copy a client holds is current and its range is served.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from protocol.http_errors import ApiError

IMMUTABLE = "public, max-age=31536000, immutable"


class BlobResponse(web.FileResponse):
    """A FileResponse that knows which blob it sends, so `name_blob_etag` can tag it by content."""

    def __init__(self, path: Path, sha256: str, mime: str) -> None:
        super().__init__(path, headers={"Content-Type": mime, "Cache-Control": IMMUTABLE})
        self.sha256 = sha256


async def name_blob_etag(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: the blob's SHA-256 replaces FileResponse's time-and-size tag before headers go out."""
    if isinstance(response, BlobResponse):
        response.etag = response.sha256


def blob_response(request: web.Request, path: Path, sha256: str, size: int, mime: str) -> web.StreamResponse:
    """The answer to GET or HEAD of a blob held at `path`: 200, 206, 304, or a 416 that says why."""
    tags = request.if_none_match
    if tags is not None and any(t.value in (sha256, "*") for t in tags):
        return web.Response(status=304, headers={"ETag": f'"{sha256}"', "Cache-Control": IMMUTABLE,
                                                 "Accept-Ranges": "bytes"})
    try:
        wanted = request.http_range
    except ValueError:
        raise _unsatisfiable(size, "one byte range, bytes=FIRST-LAST, bytes=FIRST- or bytes=-N, is served") from None
    if wanted.start is not None and wanted.start >= size:
        raise _unsatisfiable(size, f"the blob has {size} bytes")
    return BlobResponse(path, sha256, mime)


def _unsatisfiable(size: int, detail: str) -> ApiError:
    err = ApiError(416, "range_not_satisfiable", detail)
    err.headers["Content-Range"] = f"bytes */{size}"
    return err
