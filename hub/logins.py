"""Officials' logins: password checks with a lockout that holds under concurrent guesses, sessions (bearer tokens
for scripts, cookies with a CSRF token for the page), logout and password change.

The lockout: every attempt is counted in one write transaction BEFORE the scrypt check (the attempt reserves its
place), so however many guesses arrive at once, at most MAX_FAILURES of them are ever checked; the others, and
the right password too, are refused until LOCK_S has passed. A correct password resets the count.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass

from protocol.passwords import DUMMY_HASH, check_new_password, hash_password, verify_password

from . import audit
from .actors import Actor
from .errors import BadInput, Forbidden, Unauthorized
from .org_models import Official, Session
from .store import HubStore
from .store_tx import Tx
from .validate import now, rfc3339

MAX_FAILURES = 5
LOCK_S = 15 * 60
SESSION_LIFETIME_S = 8 * 3600
KINDS = ("bearer", "cookie")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Login:
    token: str
    session: Session
    official: Official


def _locked(until: float) -> Forbidden:
    return Forbidden(
        f"密码错误次数过多，账户已锁定到 {rfc3339(until)}，请稍后再试。"
        f" Too many wrong passwords: the account is locked until {rfc3339(until)}.",
        "locked",
        locked_until=rfc3339(until),
    )


_BAD_CREDENTIALS = "用户名或密码不正确。The user name or password is wrong."


async def _reserve(tx: Tx, official: Official) -> float | None:
    """Count this attempt before its check; the lock's end if the account is locked (then nothing is counted)."""
    failed, until = official.failed_logins, official.locked_until
    if until is not None and until <= tx.now:  # an old lock has run out: start afresh
        failed, until = 0, None
    if until is None and failed >= MAX_FAILURES:  # the guesses in flight already used every try
        until = tx.now + LOCK_S
    if until is not None:
        await tx.set_login_counters(official.username, failed, until)
        return until
    await tx.set_login_counters(official.username, failed + 1, None)
    return None


async def _check(store: HubStore, username: str, password: str, action: str) -> Official:
    """The account if `password` is its password; else a refusal, recorded (as `action`_failed) and counted."""
    async with store.transaction() as tx:
        official = await tx.get_official(username)
        until = await _reserve(tx, official) if official else None
        if official is not None and until is not None:
            await audit.record(tx, username, f"{action}_locked", f"user:{username}", official.scope,
                               f"refused unchecked: locked until {rfc3339(until)}")
    if until is not None:
        raise _locked(until)
    ok = await asyncio.to_thread(verify_password, password, official.pw_hash if official else DUMMY_HASH)
    async with store.transaction() as tx:
        fresh = await tx.get_official(username) if official else None
        refusal: Exception | None = None
        if fresh is None or not ok:
            scope = fresh.scope if fresh else "city"
            if fresh is not None and fresh.failed_logins >= MAX_FAILURES and fresh.locked_until is None:
                await tx.set_login_counters(username, fresh.failed_logins, tx.now + LOCK_S)
            await audit.record(tx, username, f"{action}_failed", f"user:{username}", scope,
                               "wrong password" if fresh else "no such account")
            refusal = Unauthorized(_BAD_CREDENTIALS, "bad_credentials")
        elif fresh.locked_until is not None and fresh.locked_until > tx.now:
            # Other guesses, checked while this one was, locked the account: the right password waits too.
            await audit.record(tx, username, f"{action}_locked", f"user:{username}", fresh.scope,
                               "right password refused: locked meanwhile")
            refusal = _locked(fresh.locked_until)
        elif fresh.disabled_at is not None:
            await audit.record(tx, username, f"{action}_failed", f"user:{username}", fresh.scope, "account disabled")
            refusal = Forbidden("此账户已停用，请联系管理员。This account is disabled.", "account_disabled")
        else:
            await tx.set_login_counters(username, 0, None)
    if refusal is not None:
        raise refusal
    assert fresh is not None
    return fresh


async def login(store: HubStore, username: str, password: str, kind: str) -> Login:
    """Check the password and open a session of `kind` ('bearer' or 'cookie'); recorded in the audit log."""
    official = await _check(store, username, password, "login")
    token = secrets.token_urlsafe(32)
    async with store.transaction() as tx:
        session = Session(token_hash(token), username, kind, secrets.token_urlsafe(24), tx.now,
                          tx.now + SESSION_LIFETIME_S)
        await tx.insert_session(session)
        await tx.delete_expired_sessions()
        await audit.record(tx, username, "login", f"user:{username}", official.scope, f"{kind} session")
    return Login(token, session, official)


async def resolve(store: HubStore, token: str, kind: str) -> Actor:
    """The official a session token stands for, checked on every request (a disabled account stops at once)."""
    found = await store.session_with_official(token_hash(token))
    if found is None or found[0].kind != kind:
        raise Unauthorized("登录已失效，请重新登录。The session is unknown or has ended; log in again.")
    session, official = found
    if session.expires_at <= now():
        raise Unauthorized("登录已过期，请重新登录。The session has expired; log in again.", "session_expired")
    if official.disabled_at is not None:
        raise Unauthorized("此账户已停用。This account is disabled.", "account_disabled")
    return Actor.of(official, kind, session.token_hash, session.csrf)


async def logout(store: HubStore, actor: Actor) -> None:
    if actor.session is None:
        return
    async with store.transaction() as tx:
        await tx.delete_session(actor.session)
        await audit.record(tx, actor.user, "logout", f"user:{actor.user}", actor.scope)


def require_new_password(password: object, field: str = "new_password") -> str:
    """A password good enough to set, or BadInput with a sentence the official can act on."""
    if not isinstance(password, str):
        raise BadInput(f"the field {field!r} must be a string", "wrong_type")
    try:
        check_new_password(password)
    except ValueError as exc:
        raise BadInput(str(exc), "weak_password") from None
    return password


async def change_password(store: HubStore, actor: Actor, old: str, new: object) -> None:
    """The official's own password: the old one is checked (and counted) like a login; other sessions end."""
    password = require_new_password(new)
    await _check(store, actor.user, old, "password_change")
    pw_hash = await asyncio.to_thread(hash_password, password)
    async with store.transaction() as tx:
        await tx.set_password_hash(actor.user, pw_hash)
        ended = await tx.delete_sessions_of(actor.user, keep=actor.session)
        await audit.record(tx, actor.user, "password_change", f"user:{actor.user}", actor.scope,
                           f"{ended} other session(s) ended")
