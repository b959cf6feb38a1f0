"""Staff accounts on the edge: roles, local accounts made with `village-edge staff add`, and the login check.

Five wrong passwords in a row lock an account for a while; the CLI's reset unlocks it. Unknown names and wrong
passwords answer the same sentence, after the same scrypt work, so a guesser learns nothing from either.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import aiosqlite

from edge.web.per_address import PerAddressLimit
from protocol.database import Database
from protocol.passwords import DUMMY_HASH, check_new_password, hash_password, verify_password

log = logging.getLogger(__name__)

ROLES = ("admin", "staff", "technician")
MAX_FAILURES = 5
LOCK_S = 15 * 60.0
_USERNAME = re.compile(r"^[\w.@-]{1,64}$")


@dataclass(frozen=True)
class Account:
    username: str
    role: str


class LoginRefused(Exception):
    """`code` for logs and tests, `message` (Chinese, then English) for the person at the login form."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise ValueError("用户名只能用 1 到 64 个字母、数字或 ._@- 。A user name is 1-64 letters, digits or ._@-")
    return username


async def add_or_reset(db: Database, username: str, role: str, password: str) -> str:
    """Create a local account, or set a new password and role on an existing one; returns 'created' or 'reset'.

    A reset also unlocks the account and ends its sessions, as a person resetting a password would expect.
    """
    check_username(username)
    if role not in ROLES:
        raise ValueError(f"角色必须是 {' / '.join(ROLES)} 之一。role must be one of {', '.join(ROLES)}")
    check_new_password(password)
    pw_hash = await asyncio.to_thread(hash_password, password)
    async with db.write() as conn:
        async with conn.execute("SELECT 1 FROM staff_accounts WHERE username = ?", (username,)) as cur:
            exists = await cur.fetchone() is not None
        await conn.execute(
            "INSERT INTO staff_accounts (username, role, pw_hash, source, created_at) VALUES (?, ?, ?, 'local', ?)"
            " ON CONFLICT (username) DO UPDATE SET role = excluded.role, pw_hash = excluded.pw_hash,"
            " failures = 0, locked_until = 0",
            (username, role, pw_hash, time.time()),
        )
        await conn.execute("DELETE FROM staff_sessions WHERE username = ?", (username,))
    return "reset" if exists else "created"


async def authenticate(db: Database, username: str, password: str, now: float | None = None, *,
                       per_address: PerAddressLimit | None = None, address: str | None = None) -> Account:
    """The account if the password is right; LoginRefused otherwise (wrong, locked, or too many from `address`).

    The attempt is counted before scrypt runs, in the same write transaction that checks the lock: attempts sent
    together are counted one after another, so the fifth reserved attempt locks the account and the sixth is
    refused before any password is looked at, however many are in flight. A right password then clears the
    count (and the lock its own attempt set, for a resident of the form who got it right the fifth time).
    `per_address` is spent the same way, by checks that will run scrypt; a right password gives its use back.
    """
    now = time.time() if now is None else now
    name = username[:64]
    async with db.write() as conn:
        async with conn.execute(
            "SELECT username, role, pw_hash, failures, locked_until FROM staff_accounts WHERE username = ?", (name,)
        ) as cur:
            row = await cur.fetchone()
        locked_by_this_attempt = 0.0
        if row is not None:
            if row["locked_until"] > now:
                raise _locked(row["locked_until"] - now)
        if per_address is not None and not per_address.take(address):
            raise _too_many(per_address.retry_after_s(address))
        if row is not None:
            if row["failures"] + 1 >= MAX_FAILURES:
                locked_by_this_attempt = now + LOCK_S
                await conn.execute("UPDATE staff_accounts SET failures = 0, locked_until = ? WHERE username = ?",
                                   (locked_by_this_attempt, name))
            else:
                await conn.execute("UPDATE staff_accounts SET failures = failures + 1 WHERE username = ?", (name,))
    ok = await asyncio.to_thread(verify_password, password, row["pw_hash"] if row else DUMMY_HASH)
    if row is None or not ok:
        raise LoginRefused("wrong", _WRONG)
    if per_address is not None:
        per_address.give_back(address)
    async with db.write() as conn:
        await conn.execute(
            "UPDATE staff_accounts SET failures = 0,"
            " locked_until = CASE WHEN locked_until = ? THEN 0 ELSE locked_until END WHERE username = ?",
            (locked_by_this_attempt, name),
        )
    return Account(row["username"], row["role"])


def _too_many(retry_s: int) -> LoginRefused:
    minutes = max(1, round(retry_s / 60))
    return LoginRefused("too_many", f"这台电脑输错密码的次数太多了，请 {minutes} 分钟后再试。"
                        f" Too many wrong passwords from this computer; try again in {minutes} min.")


def _locked(remaining_s: float) -> LoginRefused:
    minutes = max(1, round(remaining_s / 60))
    return LoginRefused(
        "locked",
        f"这个账户连续输错密码，已被锁定，请 {minutes} 分钟后再试，或请村管理员重设密码。"
        f" This account is locked after repeated wrong passwords; try again in {minutes} min"
        " or ask the village admin to reset it.",
    )


_WRONG = "用户名或密码不对，请再输入一次。The user name or password is wrong; please try again."


async def count_accounts(db: Database) -> int:
    return int(await db.fetchvalue("SELECT COUNT(*) FROM staff_accounts", default=0))


async def apply_staff_account(conn: aiosqlite.Connection, op: dict[str, Any]) -> bool:
    """Apply a hub-owned `staff_account` down-feed op inside the down-apply transaction; True if it changed one.

    Body `{username, role, pw_hash}` with the hub's scrypt string (the password never travels). A local account of
    the same name is left alone (the village made it, the village keeps it); a delete removes only a hub account.
    A malformed op is logged and skipped so that it cannot stall the down feed.
    """
    username = op.get("id")
    if not isinstance(username, str) or not _USERNAME.match(username):
        log.warning("staff_account op with a bad user name %r skipped", username)
        return False
    async with conn.execute("SELECT source, role, pw_hash FROM staff_accounts WHERE username = ?", (username,)) as cur:
        row = await cur.fetchone()
    if row is not None and row[0] != "hub":
        log.warning("hub account %s not applied: a local account of that name exists", username)
        return False
    if op.get("op") == "delete":
        await conn.execute("DELETE FROM staff_accounts WHERE username = ? AND source = 'hub'", (username,))
        await conn.execute("DELETE FROM staff_sessions WHERE username = ?", (username,))
        return row is not None
    body = op.get("body") or {}
    role, pw_hash = body.get("role"), body.get("pw_hash")
    if role not in ROLES or not isinstance(pw_hash, str) or not pw_hash.startswith("scrypt$") or len(pw_hash) > 300:
        log.warning("hub account %s has no usable role or scrypt hash; skipped", username)
        return False
    await conn.execute(
        "INSERT INTO staff_accounts (username, role, pw_hash, source, created_at) VALUES (?, ?, ?, 'hub', ?)"
        " ON CONFLICT (username) DO UPDATE SET role = excluded.role, pw_hash = excluded.pw_hash",
        (username, role, pw_hash, time.time()),
    )
    if row is not None and (row[1], row[2]) != (role, pw_hash):
        # A new password or role from the city ends the sessions made under the old one (a leaked password).
        await conn.execute("DELETE FROM staff_sessions WHERE username = ?", (username,))
    return True
