"""Issue 14 (Medium): submission ids were unique across all villages and a duplicate was silently ignored, so a
compromised village could claim another village's ids first. Now a submission is keyed by (village, id) at the hub.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import replace
from pathlib import Path

from hub.schema import SCHEMA, SCHEMA_VERSION
from hub.store import HubStore
from protocol.records import put

from .case_kit import case_world, ops_of_kind
from .kit import HubKit


async def test_two_villages_send_the_same_submission_id_and_each_gets_its_own_case_and_reply(kit: HubKit) -> None:
    world = await case_world(kit)
    e2 = await kit.enroll("e2")
    sub_id = str(uuid.uuid4())
    # e2 (the compromised box) sends the id first, with its own words; e1's resident sends hers after.
    claim = put("submission", sub_id, {"kind": "consultation", "device_id": "stb-9", "created_at":
                                       "2026-09-30T01:00:00Z", "body": {"text": "抢先占用", "category": "其他"}})
    assert (await e2.push(e2.batch(e2.next_entries([claim]))))[0] == 200
    await world.submit("consultation", {"text": "低保怎么申请？", "category": "社会救助"}, sub_id=sub_id)

    resp = await kit.client.get("/api/v1/submissions", headers=kit.admin)
    held = [s for s in (await resp.json())["submissions"] if s["id"] == sub_id]
    assert sorted((s["village_id"], s["body"]["text"]) for s in held) == [("e1", "低保怎么申请？"), ("e2", "抢先占用")]
    cases = [c for c in (await (await kit.client.get("/api/v1/cases", headers=world.city_dispatcher)).json())["cases"]
             if c["submission_id"] == sub_id]
    assert sorted(c["village_id"] for c in cases) == ["e1", "e2"]
    for village in ("e1", "e2"):
        assert ops_of_kind(await kit.down_ops(village), "case_status"), village

    # A reply by id alone is ambiguous now: refused, nothing sent anywhere.
    before = {v: len(await kit.down_ops(v)) for v in ("e1", "e2")}
    resp = await kit.client.post(f"/api/v1/submissions/{sub_id}/replies", json={"text": "请到村委会办理。"},
                                 headers=kit.admin)
    assert resp.status == 409 and (await resp.json())["error"] == "ambiguous_submission"
    assert {v: len(await kit.down_ops(v)) for v in ("e1", "e2")} == before

    resp = await kit.client.post(f"/api/v1/submissions/{sub_id}/replies?village=e1", json={"text": "请到村委会办理。"},
                                 headers=kit.admin)
    assert resp.status == 201, await resp.text()
    assert [op["body"]["text"] for op in ops_of_kind(await kit.down_ops("e1"), "reply")] == ["请到村委会办理。"]
    assert ops_of_kind(await kit.down_ops("e2"), "reply") == []
    states = {c["village_id"]: c["state"] for c in
              (await (await kit.client.get("/api/v1/cases", headers=world.city_dispatcher)).json())["cases"]
              if c["submission_id"] == sub_id}
    assert states == {"e1": "answered", "e2": "new"}


async def test_a_village_rating_or_replying_locally_to_an_id_another_village_also_used_touches_only_its_own_case(
    kit: HubKit,
) -> None:
    world = await case_world(kit)
    e2 = await kit.enroll("e2")
    sub_id = await world.submit("consultation")
    theirs = put("submission", sub_id, {"kind": "consultation", "device_id": "stb-9", "created_at":
                                        "2026-09-30T01:00:00Z", "body": {"text": "同一个编号", "category": "其他"}})
    assert (await e2.push(e2.batch(e2.next_entries([theirs]))))[0] == 200
    local = put("local_reply", str(uuid.uuid4()), {"submission_id": sub_id, "text": "已处理", "by": "村委会"})
    assert (await e2.push(e2.batch(e2.next_entries([local]))))[0] == 200

    cases = {c["village_id"]: c["state"] for c in
             (await (await kit.client.get("/api/v1/cases", headers=world.city_dispatcher)).json())["cases"]
             if c["submission_id"] == sub_id}
    assert cases == {"e1": "new", "e2": "answered"}


async def test_a_replay_from_the_same_village_stays_one_submission_with_its_first_body(kit: HubKit) -> None:
    world = await case_world(kit)
    sub_id = await world.submit("consultation", {"text": "第一次", "category": "其他"})
    await world.submit("consultation", {"text": "换了内容", "category": "其他"}, sub_id=sub_id)
    resp = await kit.client.get("/api/v1/submissions?village=e1", headers=kit.admin)
    assert [s["body"]["text"] for s in (await resp.json())["submissions"] if s["id"] == sub_id] == ["第一次"]
    assert (await world.case_of(sub_id))["state"] == "new"


def _v2_schema() -> str:
    """The hub's schema as v2 made it: submission ids, and cases' submission ids, unique across all villages."""
    v2 = SCHEMA
    for new, old in (
        ("    up_seq INTEGER NOT NULL,\n    household_id TEXT,", "    up_seq INTEGER NOT NULL\n    --"),
        ("\n    UNIQUE (village_id, id)\n", "\n"),
        ("    id TEXT NOT NULL,  ", "    id TEXT NOT NULL UNIQUE,  "),
        ("    submission_id TEXT NOT NULL,   --", "    submission_id TEXT NOT NULL REFERENCES submissions(id), --"),
        ("    updated_at REAL NOT NULL,\n    UNIQUE (village_id, submission_id)\n", "    updated_at REAL NOT NULL\n"),
        ("    submission_id TEXT,            --", "    submission_id TEXT UNIQUE,     --"),
    ):
        assert new in v2, new
        v2 = v2.replace(new, old, 1)
    return v2


async def test_a_v2_hub_database_keeps_its_submissions_replies_and_cases_when_ids_become_per_village(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hub.db"
    sub_id, case_id = str(uuid.uuid4()), str(uuid.uuid4())
    with sqlite3.connect(path) as db:
        db.executescript(_v2_schema())
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("INSERT INTO towns VALUES ('east', '城关镇', 1.0)")
        db.execute("INSERT INTO villages (id, name, town_id, created_at) VALUES ('e1', '东庄村', 'east', 1.0)")
        db.execute("INSERT INTO villages (id, name, town_id, created_at) VALUES ('e2', '南庄村', 'east', 1.0)")
        db.execute("INSERT INTO submissions (id, village_id, kind, device_id, body, created_at, received_at, up_seq)"
                   " VALUES (?, 'e1', 'consultation', 'stb-1', '{\"text\": \"旧的\"}', '2026-09-30T02:00:00Z', 5.0, 1)",
                   (sub_id,))
        db.execute("INSERT INTO replies (id, submission_id, village_id, text, by, at, down_seq)"
                   " VALUES ('r1', ?, 'e1', '答复', '市级平台', 6.0, 3)", (sub_id,))
        db.execute("INSERT INTO cases (id, submission_id, village_id, town_id, source, kind, category, text, state,"
                   " time_limit_days, received_at, updated_at) VALUES (?, ?, 'e1', 'east', 'village', 'consultation',"
                   " '', '旧的', 'answered', 5, 5.0, 6.0)", (case_id, sub_id))
        db.execute("INSERT INTO case_history (case_id, at, username, action, detail) VALUES (?, 5.0, 'x', 'open', '')",
                   (case_id,))
        db.execute("PRAGMA user_version = 2")
    for opening in range(2):  # opening twice migrates once
        store = HubStore(path)
        await store.open()
        try:
            sub = await store.get_submission(sub_id, "e1")
            assert sub is not None and sub.body == {"text": "旧的"}
            assert [r.text for r in (await store.replies_for([sub]))[("e1", sub_id)]] == ["答复"]
            case = await store.get_case(case_id)
            assert case is not None and case.state == "answered"
            assert [e.action for e in await store.case_history(case_id)] == ["open"]
            async with store.transaction() as tx:  # the same id from another village is its own now
                assert await tx.insert_submission(replace(sub, village_id="e2")) == (opening == 0)
        finally:
            await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("SELECT village_id FROM submissions WHERE id = ? ORDER BY n", (sub_id,)).fetchall() == [
            ("e1",), ("e2",)]
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"submissions_village", "submissions_id", "cases_state", "case_history_case"} <= indexes
