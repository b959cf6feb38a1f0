"""Named officials' accounts: made or reset by the CLI or by an admin in scope, disabled (ending every session at
once), listed with their scopes' names.

An admin acts only on accounts whose scope lies inside its own, and can grant no scope wider than its own.
"""

from __future__ import annotations

import asyncio
import re

from protocol.passwords import hash_password

from . import audit
from .actors import Actor, require_role, require_scope
from .errors import BadInput, Conflict, NotFound, Unprocessable
from .logins import require_new_password
from .org_models import ROLES, Official
from .scopes import covers, parse_official_scope
from .store import HubStore
from .validate import text_field

USERNAME = re.compile(r"^[\w.@-]{1,64}$")
MAX_NAME = 100


def require_username(value: object, what: str = "user") -> str:
    if not isinstance(value, str) or not USERNAME.match(value):
        raise BadInput(f"{what} must be 1-64 letters, digits or ._@-", "bad_username")
    return value


def parse_roles(value: object) -> tuple[str, ...]:
    """A comma list (`editor,reviewer`) or a JSON list of roles; at least one, each known."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(r, str) for r in items):
        raise BadInput("roles must be a comma list or a list of strings", "wrong_type")
    roles = tuple(dict.fromkeys(r.strip() for r in items if r.strip()))
    unknown = [r for r in roles if r not in ROLES]
    if not roles or unknown:
        raise BadInput(f"roles must be among {', '.join(ROLES)}; got {', '.join(unknown) or 'none'}", "bad_role")
    return roles


async def put_account(
    store: HubStore, actor: Actor, username: object, roles: object, scope: object, name: object, password: object
) -> tuple[Official, bool]:
    """Create the account, or reset its password, roles, scope and name (ending its sessions); (account, created)."""
    user = require_username(username)
    role_list = parse_roles(roles)
    place = parse_official_scope(scope)
    display = text_field({"name": user if name is None else name}, "name", MAX_NAME)
    new_password = require_new_password(password, "password")
    require_role(actor, "admin")
    assert display is not None
    pw_hash = await asyncio.to_thread(hash_password, new_password)
    async with store.transaction() as tx:
        await require_scope(tx, actor, [place])
        if not await tx.scope_target_exists(place):
            raise Unprocessable(f"scope {place} names no registered town, village or unit", "unknown_scope")
        existing = await tx.get_official(user)
        if existing is not None:
            await require_scope(tx, actor, [existing.scope])
        created = await tx.put_official(user, display, role_list, place, pw_hash)
        if not created:
            await tx.delete_sessions_of(user)
        await audit.record(tx, actor.user, "user_add" if created else "user_reset", f"user:{user}", place,
                           f"roles={','.join(role_list)} scope={place} name={display}")
        official = await tx.get_official(user)
    assert official is not None
    return official, created


async def set_disabled(store: HubStore, actor: Actor, username: object, disabled: bool) -> Official:
    """Disable (every session and token of the account ends now) or enable an account."""
    user = require_username(username)
    require_role(actor, "admin")
    if disabled and user == actor.user:
        raise Conflict("您不能停用自己的账户。You cannot disable your own account.", "own_account")
    async with store.transaction() as tx:
        official = await tx.get_official(user)
        if official is None:
            raise NotFound(f"没有账户 {user}。No account {user}.", "unknown_user")
        await require_scope(tx, actor, [official.scope])
        await tx.set_official_disabled(user, disabled)
        ended = await tx.delete_sessions_of(user) if disabled else 0
        await audit.record(tx, actor.user, "user_disable" if disabled else "user_enable", f"user:{user}",
                           official.scope, f"{ended} session(s) ended" if disabled else "")
        changed = await tx.get_official(user)
    assert changed is not None
    return changed


async def accounts_in_scope(store: HubStore, actor: Actor) -> list[Official]:
    require_role(actor, "admin")
    return [o for o in await store.list_officials() if await covers(store, actor.scope, o.scope)]
