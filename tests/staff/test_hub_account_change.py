"""A new password or role from the city ends the sessions opened under the old one.

Security review finding (low): a password or role change sent from the hub did not end that account's sessions, so
a session opened with a leaked password outlived the change that was meant to shut it out.
"""

from __future__ import annotations

from typing import Any

from edge.runtime import RUNTIME
from edge.staff.accounts import apply_staff_account
from protocol.passwords import hash_password
from protocol.records import put

from .staff_http import login


async def apply(staff_client: Any, role: str, pw_hash: str) -> None:
    async with staff_client.app[RUNTIME].db.write() as conn:
        assert await apply_staff_account(conn, put("staff_account", "zhen-li", {"role": role, "pw_hash": pw_hash}))


async def test_a_password_changed_at_the_city_ends_the_session_opened_with_the_old_one(staff_client: Any) -> None:
    old = hash_password("leaked-password-1")
    await apply(staff_client, "staff", old)
    assert (await login(staff_client, "zhen-li", "leaked-password-1")).status == 200
    assert (await staff_client.get("/staff/api/dashboard")).status == 200

    await apply(staff_client, "staff", old)  # the same account again (a replayed entry): the session stays
    assert (await staff_client.get("/staff/api/dashboard")).status == 200

    await apply(staff_client, "staff", hash_password("new-password-22"))
    assert (await staff_client.get("/staff/api/dashboard")).status == 401
    assert (await login(staff_client, "zhen-li", "leaked-password-1")).status == 401


async def test_a_role_changed_at_the_city_ends_the_sessions_of_that_account(staff_client: Any) -> None:
    pw_hash = hash_password("town-officer-pass")
    await apply(staff_client, "staff", pw_hash)
    assert (await login(staff_client, "zhen-li", "town-officer-pass")).status == 200
    await apply(staff_client, "technician", pw_hash)
    assert (await staff_client.get("/staff/api/dashboard")).status == 401
