"""The lean serving path: cached `/content/` blobs and `/streams/` segments answered by the kernel's sendfile.

`serve(app, host, port)` puts a small HTTP/1.1 front door on the edge's port. It answers GET and HEAD for media
already here (a present blob, a cached relay segment, a fresh playlist, a live meeting's files) without aiohttp;
every other request, and every miss, goes to the aiohttp app unchanged. Why: docs/serving.md.
"""

from __future__ import annotations

from .run import serve

__all__ = ["serve"]
