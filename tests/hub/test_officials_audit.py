"""The audit log: every action with the acting user, read by admins in their scope, and a hash chain that
`village-hub audit verify` checks (an edited byte, a removed entry: exit 1 naming the entry)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from hub.audit import record

from .kit import HubKit
from .official_kit import PASSWORD, body_of, official, two_towns
from .test_hub_cli import run

NOTICE = {"title": "防汛通知", "body": "今晚有暴雨。", "area": "safety"}


async def _post(kit: HubKit, path: str, headers: dict[str, str], body: Any = None) -> dict[str, Any]:
    return await body_of(await kit.client.post(path, headers=headers, json=body))


async def _review_and_emergency(kit: HubKit) -> tuple[str, str]:
    """The actions of acceptance tests 1-3: a reviewed town notice, refusals, an emergency published at once."""
    await two_towns(kit)
    editor = await official(kit, "ed", "editor", "town:east")
    reviewer = await official(kit, "rv", "reviewer", "town:east")
    west = await official(kit, "wr", "reviewer", "town:west")
    duty = await official(kit, "duty", "editor,reviewer", "town:east")
    await kit.client.post("/api/v1/login", json={"user": "ed", "password": "wrong-password"})
    notice = await _post(kit, "/api/v1/notices", editor, {**NOTICE, "scope": "village:e1,village:e2"})
    await _post(kit, f"/api/v1/notices/{notice['id']}/submit", editor)
    await _post(kit, f"/api/v1/notices/{notice['id']}/approve", editor)  # refused: changes nothing
    await _post(kit, f"/api/v1/notices/{notice['id']}/approve", west)  # refused: changes nothing
    await _post(kit, f"/api/v1/notices/{notice['id']}/approve", reviewer)
    emergency = await _post(kit, "/api/v1/notices", duty, {**NOTICE, "scope": "town:east", "priority": "emergency"})
    await _post(kit, f"/api/v1/notices/{emergency['id']}/publish", duty)
    return notice["id"], emergency["id"]


async def test_the_audit_log_lists_every_action_with_the_acting_user(kit: HubKit) -> None:
    notice, emergency = await _review_and_emergency(kit)
    admin = await official(kit, "boss", "admin", "city")
    entries = (await body_of(await kit.client.get("/api/v1/audit", headers=admin)))["entries"]
    assert all(set(e) >= {"seq", "at", "user", "action", "target", "detail", "hash"} for e in entries)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    actions = [(e["user"], e["action"], e["target"]) for e in entries]
    for expected in [
        ("cli", "user_add", "user:ed"),
        ("ed", "login", "user:ed"),
        ("ed", "login_failed", "user:ed"),
        ("ed", "notice_create", f"notice:{notice}"),
        ("ed", "notice_submit", f"notice:{notice}"),
        ("rv", "notice_approve", f"notice:{notice}"),
        ("duty", "notice_create", f"notice:{emergency}"),
        ("duty", "notice_publish", f"notice:{emergency}"),
        ("boss", "login", "user:boss"),
    ]:
        assert expected in actions, expected
    assert ("ed", "notice_approve", f"notice:{notice}") not in actions
    assert ("wr", "notice_approve", f"notice:{notice}") not in actions
    approve = next(e for e in entries if e["action"] == "notice_approve")
    assert approve["scope"] == "town:east" and "2 village" in approve["detail"]


async def test_a_town_admin_reads_only_its_towns_entries_and_an_editor_none(kit: HubKit) -> None:
    await _review_and_emergency(kit)
    town_admin = await official(kit, "zhao", "admin", "town:west")
    entries = (await body_of(await kit.client.get("/api/v1/audit", headers=town_admin)))["entries"]
    assert {e["user"] for e in entries} <= {"cli", "wr", "zhao"}
    assert any(e["action"] == "login" and e["user"] == "zhao" for e in entries)
    last = entries[-1]["seq"]
    later = await body_of(await kit.client.get(f"/api/v1/audit?since={last}", headers=town_admin))
    assert later["entries"] == []
    editor = await official(kit, "ed2", "editor", "town:west")
    resp = await kit.client.get("/api/v1/audit", headers=editor)
    assert resp.status == 403 and (await body_of(resp))["error"] == "forbidden"
    assert (await kit.client.get("/api/v1/audit?since=-1", headers=kit.admin)).status == 400


async def _verify(data: Path) -> subprocess.CompletedProcess[str]:
    """`village-hub audit verify`, in a thread: an async test must not hold its event loop for a process."""
    return await asyncio.to_thread(run, "audit", "verify", "--data", str(data))


async def test_changing_one_byte_of_an_entry_breaks_the_chain_at_that_entry(kit: HubKit) -> None:
    notice, _ = await _review_and_emergency(kit)
    entries = await kit.hub.store.audit_entries(0, 1000)
    submit = next(e for e in entries if e.action == "notice_submit")
    await kit.client.close()  # the hub stops; its database is whole in hub.db
    data = kit.data_dir
    intact = await _verify(data)
    assert intact.returncode == 0 and f"{len(entries)} entries" in intact.stdout

    db_file = data / "hub.db"
    raw = bytearray(db_file.read_bytes())
    where = raw.find(b"notice_submit" + f"notice:{notice}".encode())
    assert where > 0 and raw.find(b"notice_submit", where + 1) == -1
    raw[where] = ord("N")  # notice_submit -> Notice_submit, in the file itself
    db_file.write_bytes(bytes(raw))
    broken = await _verify(data)
    assert broken.returncode == 1
    assert f"entry {submit.seq} " in broken.stderr and "changed" in broken.stderr


def _remove_entry(db_file: Path, seq: int) -> None:
    with sqlite3.connect(db_file) as db:
        db.execute("DROP TRIGGER audit_log_no_delete")  # what someone covering their tracks would do
        db.execute("DELETE FROM audit_log WHERE seq = ?", (seq,))


async def test_a_removed_entry_is_found_and_the_log_refuses_edits_by_sql(kit: HubKit) -> None:
    await _review_and_emergency(kit)
    await kit.client.close()
    db_file = kit.data_dir / "hub.db"
    with sqlite3.connect(db_file) as db:
        for sql in ("UPDATE audit_log SET username = 'x' WHERE seq = 3", "DELETE FROM audit_log WHERE seq = 3"):
            try:
                db.execute(sql)
                raise AssertionError(f"{sql} was allowed")
            except sqlite3.IntegrityError as exc:
                assert "append-only" in str(exc)
    _remove_entry(db_file, 5)
    result = await _verify(kit.data_dir)
    assert result.returncode == 1 and "entry 5 is missing" in result.stderr


def test_audit_verify_on_a_fresh_hub_is_intact(tmp_path: Path) -> None:
    data = tmp_path / "hub"
    run("init", "--data", str(data))
    result = run("audit", "verify", "--data", str(data))
    assert result.returncode == 0 and "0 entries" in result.stdout
    assert run("audit", "verify", "--data", str(tmp_path / "nothing")).returncode == 2


async def test_the_login_of_a_named_official_is_audited_with_the_kind_of_session(kit: HubKit) -> None:
    await official(kit, "li", "viewer", "city")
    await kit.client.post("/admin/login", data={"user": "li", "password": PASSWORD}, allow_redirects=False)
    details = [(e.action, e.detail) for e in await kit.hub.store.audit_entries(0, 100) if e.username == "li"]
    assert details == [("login", "bearer session"), ("login", "cookie session")]


async def test_the_audit_page_shows_a_town_admin_the_newest_200_entries_of_its_town_newest_first(
        kit: HubKit) -> None:
    """A year's log is long; the page reads it from its end, so the newest entries are the ones shown."""
    await two_towns(kit)
    admin = await official(kit, "east-admin", "admin", "town:east")
    async with kit.hub.store.transaction() as tx:  # the same append every action uses
        for i in range(1, 1501):
            town = "east" if i % 3 else "west"
            await record(tx, "cli", "test_step", f"village:{town[0]}1", f"village:{town[0]}1", f"step {i:04d}")
    resp = await kit.client.get("/admin/audit", headers=admin)
    assert resp.status == 200
    page = await resp.text()
    shown = re.findall(r"step (\d{4})", page)
    east_newest = [f"{i:04d}" for i in range(1500, 0, -1) if i % 3][:200]
    assert shown == east_newest  # 河西镇's entries are not the town admin's to read
