"""The `{error, detail}` answer shape of the contract, shared by the hub and the edge servers."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from .errors import ProtocolError

log = logging.getLogger(__name__)

_STATUS_FOR_PROTOCOL = {"too_large": 413}


class ApiError(web.HTTPException):
    """Raise from a handler to answer with the contract's error shape."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        self.status_code = status
        super().__init__(
            text=json.dumps({"error": code, "detail": detail, **extra}, ensure_ascii=False),
            content_type="application/json",
        )


def bad_input(code: str, detail: str) -> ApiError:
    return ApiError(400, code, detail)


async def read_json(request: web.Request, max_bytes: int) -> Any:
    """The request body as JSON, refusing oversized (413) and malformed (400) bodies with a clear sentence."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise ApiError(413, "too_large", f"the body is larger than {max_bytes} bytes")
    raw = await read_body(request, max_bytes)
    try:
        return decode_json(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_input("not_json", f"the body is not valid JSON: {exc}") from exc


def decode_json(raw: bytes) -> Any:
    """JSON from outside bytes. Python's decoder recurses per nesting level, so `[[[[…` a few thousand deep (4 KB)
    raises RecursionError: that is malformed input like any other (ValueError), not a failure of the server."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("nested too deeply") from None


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    if request.content_length is not None and request.content_length > max_bytes:
        raise ApiError(413, "too_large", f"the body is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise ApiError(413, "too_large", f"the body is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every failure becomes `{error, detail}`; refused outside bytes are 4xx and logged with the reason."""
    try:
        return await handler(request)
    except ApiError:
        raise
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        raise ApiError(exc.status, code, exc.text or exc.reason) from None
    except ProtocolError as exc:
        log.warning("refused %s %s: %s (%s)", request.method, request.path, exc.detail, exc.code)
        raise ApiError(_STATUS_FOR_PROTOCOL.get(exc.code, 400), exc.code, exc.detail) from None
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if name_too_long(exc):
            raise ApiError(404, "not_found", "no such file: its name is longer than any file's can be") from None
        # A bug still answers in the contract's shape; the traceback goes to the log, not to the client.
        log.exception("%s %s failed", request.method, request.path)
        raise ApiError(500, "internal_error", "the server failed to handle this request; see its log") from None


def name_too_long(exc: BaseException) -> bool:
    """A path no file can have: aiohttp's static handler stats the name it is given, and a name longer than the file
    system allows raises OSError(ENAMETOOLONG) rather than FileNotFoundError. That is a 404, not a failure."""
    return isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG


async def read_form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The request's form fields. aiohttp's parser raises ValueError (or UnicodeDecodeError) on a multipart body
    without its boundary or with a broken one, and on a form that is not UTF-8: a 400 like any malformed body."""
    try:
        return await request.post()
    except ValueError as exc:
        raise bad_input("not_form", f"the body is not a valid form: {exc}") from None
