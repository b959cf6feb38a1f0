"""Staff sessions: a random cookie (only its SHA-256 is stored) and a CSRF token that every form must carry.

A session lasts a working day; the account's current role is read with it, so a changed role applies at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from protocol.database import Database

SESSION_S = 12 * 3600.0
COOKIE = "vn_staff"


@dataclass(frozen=True)
class Session:
    username: str
    role: str
    csrf: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(db: Database, username: str) -> str:
    """A new session for a logged-in account; returns the cookie value."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    async with db.write() as conn:
        await conn.execute("DELETE FROM staff_sessions WHERE expires_at < ?", (now,))
        await conn.execute(
            "INSERT INTO staff_sessions (token_hash, username, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (_hash(token), username, secrets.token_urlsafe(24), now, now + SESSION_S),
        )
    return token


async def session_for(db: Database, token: str | None) -> Session | None:
    if not token or len(token) > 100:
        return None
    row = await db.fetchone(
        "SELECT s.username, s.csrf, a.role FROM staff_sessions s JOIN staff_accounts a ON a.username = s.username"
        " WHERE s.token_hash = ? AND s.expires_at > ?",
        (_hash(token), time.time()),
    )
    return Session(row["username"], row["role"], row["csrf"]) if row else None


async def end_session(db: Database, token: str | None) -> None:
    if token:
        async with db.write() as conn:
            await conn.execute("DELETE FROM staff_sessions WHERE token_hash = ?", (_hash(token),))


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())
