"""JSON answers as the officials' routes give them (Chinese left readable), and the bodies of action routes.

Action routes (submit, approve, disable...) take an empty body, `{}`, or an object of a few named fields.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from aiohttp import web

from protocol.http_errors import decode_json, read_body

from .errors import BadInput

MAX_JSON = 64 * 1024
_dumps = partial(json.dumps, ensure_ascii=False)


def json_answer(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


async def action_body(request: web.Request) -> dict[str, Any]:
    """The body of an action route: nothing, or a JSON object (anything else, or too much, is refused)."""
    raw = await read_body(request, MAX_JSON)
    if raw.strip() == b"":
        return {}
    try:
        body = decode_json(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadInput("the body must be empty or a JSON object", "not_json") from None
    if not isinstance(body, dict):
        raise BadInput("the body must be empty or a JSON object", "not_json")
    return body
