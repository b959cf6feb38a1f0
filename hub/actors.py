"""Who is acting: a named official (by bearer token or page session), the admin token, or the hub's own CLI, and
the checks of roles and scope every action makes against it.

Refusals are the contract's 403 `forbidden` (wrong role) and 403 `out_of_scope` (a place outside the actor's
scope), raised before anything is changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from .audit import ADMIN_TOKEN_USER, CLI_USER, SCHEDULER_USER
from .errors import Forbidden
from .org_models import ROLES, Official
from .scopes import OrgLookup, covers_all


@dataclass(frozen=True)
class Actor:
    user: str
    name: str
    roles: frozenset[str]
    scope: str
    via: str  # 'admin_token', 'bearer', 'cookie', 'cli' or 'scheduler'
    session: str | None = None  # the session's token hash, for a named official
    csrf: str | None = None  # the page session's CSRF token

    @classmethod
    def of(cls, official: Official, via: str, session: str | None = None, csrf: str | None = None) -> Actor:
        return cls(official.username, official.name, frozenset(official.roles), official.scope, via, session, csrf)

    @property
    def is_official(self) -> bool:
        """A named account (not the admin token, the CLI or the scheduler): goes through review."""
        return self.via in ("bearer", "cookie")

    def who(self) -> dict[str, object]:
        return {"user": self.user, "name": self.name, "roles": sorted(self.roles), "scope": self.scope}


# The admin token and the hub's console are the operator: every role, the whole city.
ADMIN_TOKEN = Actor(ADMIN_TOKEN_USER, "管理令牌", frozenset(ROLES), "city", "admin_token")
CLI = Actor(CLI_USER, "命令行", frozenset(ROLES), "city", "cli")
SCHEDULER = Actor(SCHEDULER_USER, "定时发布", frozenset(), "city", "scheduler")

ROLE_NAMES = {"admin": "管理员", "editor": "编辑", "reviewer": "审核员", "dispatcher": "派单员", "handler": "承办人",
              "viewer": "查看"}


def require_role(actor: Actor, *roles: str) -> None:
    if not actor.roles.intersection(roles):
        wanted = "、".join(ROLE_NAMES[r] for r in roles)
        raise Forbidden(f"此操作需要{wanted}角色。This needs the role {' or '.join(roles)}.", "forbidden")


async def require_scope(org: OrgLookup, actor: Actor, places: list[str]) -> None:
    if not await covers_all(org, actor.scope, places):
        raise Forbidden(
            f"{', '.join(places)} 不在您的权限范围（{actor.scope}）内。"
            f" {', '.join(places)} lies outside your scope {actor.scope}.",
            "out_of_scope",
        )
