"""The edge's refusals: what a request asked for that the edge will not do, each with its HTTP status and code.

Handlers and domain modules raise `Refused` (the streams' and the submission rules' refusals are ones) and never
turn an error into an answer themselves: the one error middleware (`edge/web/errors.py`) answers API routes with
the contract's `{error, detail}` and the TV and staff pages with a readable page, Chinese first.
"""

from __future__ import annotations

from typing import Any, ClassVar


class Refused(Exception):
    """A request the edge will not do: the HTTP status, a short machine code and a sentence saying what to do."""

    # Scripts that post without a session (or a form older than its session) are told in JSON even on a page path.
    json_only: ClassVar[bool] = False

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra


class NotProvisioned(Refused):
    def __init__(self, detail: str = "这台设备尚未开通，请联系村里的工作人员。This box is not provisioned yet.") -> None:
        super().__init__(503, "not_provisioned", detail)


class LoginRequired(Refused):
    json_only = True

    def __init__(self) -> None:
        super().__init__(401, "login_required", "请先登录村务管理页面。Log in to the staff page first.")


# The title of an error page, by status: a catalog key every UI that registers an error page must have.
_TITLE_KEYS = {400: "error.bad_request", 401: "error.login", 403: "error.forbidden", 404: "error.not_found",
               409: "error.conflict", 413: "error.too_large", 503: "error.unavailable"}
TITLE_KEYS = frozenset({*_TITLE_KEYS.values(), "error.failed"})


def title_key(status: int) -> str:
    return _TITLE_KEYS.get(status, "error.failed")


