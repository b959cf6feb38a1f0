"""The edge's one error middleware: JSON for scripts and set-top boxes, a readable page for people.

Refusals (`edge.errors.Refused`) and any other failure of a handler are answered here, once: API routes with the
contract's `{error, detail}`, the pages of the TV app and the staff page (the path prefixes registered in
`ErrorPages`) in their own frame, Chinese first. A bug answers 500 in the same two shapes; its traceback goes to
the log only.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from protocol.http_errors import ApiError, name_too_long

from ..errors import Refused

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ErrorPage(Protocol):
    """How a UI shows a refusal in its own frame, given the status and the sentence (its title: `title_key`)."""

    def __call__(self, request: web.Request, status: int, detail: str) -> web.StreamResponse: ...


class ErrorPages:
    """The page-serving path prefixes ("/tv", "/staff") and how each shows an error; everything else is API."""

    def __init__(self) -> None:
        self.by_prefix: dict[str, ErrorPage] = {}

    def register(self, prefix: str, page: ErrorPage) -> None:
        self.by_prefix[prefix.rstrip("/")] = page

    def for_path(self, path: str) -> ErrorPage | None:
        if "/api/" in path:
            return None
        for prefix, page in self.by_prefix.items():
            if path == prefix or path.startswith(prefix + "/"):
                return page
        return None


ERROR_PAGES = web.AppKey("error_pages", ErrorPages)


def _plain_page(status: int, detail: str) -> web.Response:
    """The page of last resort, when a UI's own frame cannot be drawn (it failed too)."""
    text = (f'<!DOCTYPE html><html lang="zh-CN"><meta charset="utf-8"><title>{status}</title>'
            f"<h1>出错了 · Something went wrong ({status})</h1><p>{html.escape(detail)}</p>"
            '<p><a href="/tv/" autofocus>回首页 · Home</a></p></html>')
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


def _answer(request: web.Request, status: int, code: str, detail: str, extra: dict[str, Any],
            json_only: bool = False) -> web.StreamResponse:
    pages = request.config_dict.get(ERROR_PAGES)
    page = None if json_only or pages is None else pages.for_path(request.path)
    if page is None:
        err = ApiError(status, code, detail, **extra)
        if "retry_after_s" in extra:  # a limit's refusal says when to come back, as HTTP would have it
            err.headers["Retry-After"] = str(extra["retry_after_s"])
        raise err
    try:
        return page(request, status, detail)
    except Exception:
        log.exception("the error page for %s %s could not be drawn", request.method, request.path)
        return _plain_page(status, detail)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal and every failure of a handler, answered once, in the shape the caller reads."""
    try:
        return await handler(request)
    except Refused as exc:
        if exc.status >= 500:
            log.warning("%s %s refused: %s (%s)", request.method, request.path, exc.detail, exc.code)
        return _answer(request, exc.status, exc.code, exc.detail, exc.extra, exc.json_only)
    except ApiError:
        raise  # already the contract's answer (protocol.http_errors.read_json refuses bodies this way)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and "see other" after a form
        return _answer(request, exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason, {})
    except Exception as exc:
        if name_too_long(exc):
            return _answer(request, 404, "not_found", "没有这个文件。No such file.", {})
        # A bug: the traceback goes to the log; the caller learns only that it failed and where to look.
        log.exception("%s %s failed", request.method, request.path)
        return _answer(request, 500, "internal_error", "这台设备处理请求时出错了，请稍后再试。"
                       "The box failed to handle this request; its log says why.", {})
