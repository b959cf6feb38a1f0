"""Domain errors of the hub, each with the HTTP status and machine code the API answers with.

Domain modules raise these; the HTTP layer turns them into `{error, detail}` and the CLI into exit code 2.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    status = 400
    code = "bad_input"

    def __init__(self, detail: str, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra = extra


class BadInput(HubError):
    status = 400
    code = "bad_input"


class Forbidden(HubError):
    status = 403
    code = "forbidden"


class NotFound(HubError):
    status = 404
    code = "not_found"


class Conflict(HubError):
    status = 409
    code = "conflict"


class Unprocessable(HubError):
    status = 422
    code = "unprocessable"


class Unauthorized(HubError):
    status = 401
    code = "unauthorized"
