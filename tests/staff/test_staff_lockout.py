"""The staff login's lockout holds against guesses sent together, and one address cannot try passwords forever."""

from __future__ import annotations

import asyncio
from typing import Any

from edge.runtime import RUNTIME
from edge.staff.accounts import MAX_FAILURES
from edge.staff.pages_auth import LOGIN_CHECKS_PER_ADDRESS

from .conftest import PASSWORD
from .staff_http import csrf_of

WRONG = "用户名或密码不对"
LOCKED = "已被锁定"


async def _login_form(client: Any) -> str:
    return csrf_of(await (await client.get("/staff/login")).text())


async def _post_login(client: Any, csrf: str, user: str, password: str) -> tuple[int, str]:
    resp = await client.post("/staff/login", data={"username": user, "password": password, "csrf": csrf})
    return resp.status, await resp.text()


async def test_twenty_five_wrong_passwords_sent_together_lock_the_account_and_the_right_one_is_refused(
        staff_client: Any) -> None:
    csrf = await _login_form(staff_client)
    answers = await asyncio.gather(*(_post_login(staff_client, csrf, "staff1", f"guess-{i:02d}") for i in range(25)))
    assert all(status == 401 for status, _ in answers)
    wrong = [text for _, text in answers if WRONG in text]
    locked = [text for _, text in answers if LOCKED in text]
    # Only the attempts reserved before the lock had their password looked at; every other one was refused unread.
    assert len(wrong) == MAX_FAILURES and len(locked) == 25 - MAX_FAILURES

    status, text = await _post_login(staff_client, await _login_form(staff_client), "staff1", PASSWORD)
    assert status == 401 and LOCKED in text
    assert (await staff_client.get("/staff/api/dashboard")).status == 401
    row = await staff_client.app[RUNTIME].db.fetchone(
        "SELECT locked_until FROM staff_accounts WHERE username = 'staff1'")
    assert row["locked_until"] > 0


async def test_the_right_password_sent_with_a_burst_of_wrong_ones_is_refused_once_the_burst_locks(
        staff_client: Any) -> None:
    """The review's case: 24 guesses and the right one together used to give 24 "wrong" and then a login."""
    csrf = await _login_form(staff_client)
    guesses = [_post_login(staff_client, csrf, "staff1", f"guess-{i:02d}") for i in range(24)]
    answers = await asyncio.gather(*guesses, _post_login(staff_client, csrf, "staff1", PASSWORD))
    *_, (status, text) = answers
    assert status == 401 and LOCKED in text
    assert sum(WRONG in t for _, t in answers) == MAX_FAILURES


async def test_a_right_password_on_the_fifth_try_logs_in_and_leaves_the_account_open(staff_client: Any) -> None:
    for i in range(MAX_FAILURES - 1):
        status, text = await _post_login(staff_client, await _login_form(staff_client), "staff1", f"typo-{i}")
        assert status == 401 and WRONG in text
    status, _ = await _post_login(staff_client, await _login_form(staff_client), "staff1", PASSWORD)
    assert status == 200
    row = await staff_client.app[RUNTIME].db.fetchone(
        "SELECT failures, locked_until FROM staff_accounts WHERE username = 'staff1'")
    assert (row["failures"], row["locked_until"]) == (0, 0)


async def test_one_address_may_check_only_so_many_passwords_across_all_accounts(staff_client: Any) -> None:
    # Names that do not exist cost a full scrypt check too, and lock nothing: only the address's budget stops them.
    for i in range(LOGIN_CHECKS_PER_ADDRESS):
        status, text = await _post_login(staff_client, await _login_form(staff_client), f"nobody-{i}", "whatever-1")
        assert status == 401 and WRONG in text
    status, text = await _post_login(staff_client, await _login_form(staff_client), "admin1", PASSWORD)
    assert status == 429 and "次数太多" in text and "Too many wrong passwords" in text
    assert (await staff_client.get("/staff/api/dashboard")).status == 401
