"""Review before publishing: a town editor drafts and submits, a town reviewer approves, and the notice reaches
exactly the villages it targets; refusals (self-approval, another town, out-of-scope targets, edits in review)
change nothing; replays publish nothing twice; emergencies go out at once; scheduled notices wait for their time."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from .kit import HubKit
from .official_kit import body_of, official, two_towns

NOTICE = {"title": "防汛通知", "body": "今晚有暴雨，请注意安全。", "area": "safety"}


async def _post(kit: HubKit, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, dict[str, Any]]:
    resp = await kit.client.post(path, headers=headers, json=body)
    return resp.status, await body_of(resp)


async def _state(kit: HubKit, notice_id: str) -> str:
    notice = await kit.hub.store.get_notice(notice_id)
    assert notice is not None
    return notice.state


async def _ids(kit: HubKit, village: str) -> list[tuple[str, str]]:
    return [(o["op"], o["id"]) for o in await kit.down_ops(village)]


async def _draft(kit: HubKit, editor: dict[str, str], **fields: Any) -> dict[str, Any]:
    status, notice = await _post(kit, "/api/v1/notices", editor, {**NOTICE, **fields})
    assert status == 201, notice
    return notice


async def test_a_town_notice_is_reviewed_and_reaches_exactly_the_two_villages_it_names(kit: HubKit) -> None:
    await two_towns(kit)
    editor = await official(kit, "ed", "editor", "town:east", name="编辑小王")
    reviewer = await official(kit, "rv", "reviewer", "town:east")
    west_reviewer = await official(kit, "wr", "reviewer", "town:west")
    edge_e1 = await kit.enroll("e1")
    edge_w1 = await kit.enroll("w1")

    notice = await _draft(kit, editor, scope="village:e1,village:e2")
    assert notice["state"] == "draft" and notice["author"] == "ed"
    assert notice["targets"] == ["village:e1", "village:e2"] and notice["target_names"] == ["东庄村", "南庄村"]
    assert (await _post(kit, f"/api/v1/notices/{notice['id']}/submit", editor))[1]["state"] == "in_review"

    status, refusal = await _post(kit, f"/api/v1/notices/{notice['id']}/approve", editor)
    assert (status, refusal["error"]) == (403, "forbidden")
    status, refusal = await _post(kit, f"/api/v1/notices/{notice['id']}/approve", west_reviewer)
    assert (status, refusal["error"]) == (403, "out_of_scope")
    assert await _state(kit, notice["id"]) == "in_review"
    assert all([await kit.down_ops(v) == [] for v in ("e1", "e2", "e3", "w1")])

    # The edges of e1 and w1 are waiting on their down feeds when the reviewer approves.
    started = time.monotonic()
    waiting_e1 = asyncio.create_task(edge_e1.get_down(after=0, wait=20))
    waiting_w1 = asyncio.create_task(edge_w1.get_down(after=0, wait=3))
    await asyncio.sleep(0.3)
    status, approved = await _post(kit, f"/api/v1/notices/{notice['id']}/approve", reviewer)
    assert status == 200 and approved["state"] == "published" and approved["reviewed_by"] == "rv"
    batch = await waiting_e1
    assert time.monotonic() - started < 10
    assert [e.op["id"] for e in batch.entries] == [notice["id"]]
    assert (await waiting_w1).entries == []
    assert await _ids(kit, "e1") == await _ids(kit, "e2") == [("put", notice["id"])]
    assert await _ids(kit, "e3") == [] and await _ids(kit, "w1") == []


async def test_an_editor_who_is_also_a_reviewer_cannot_approve_its_own_notice(kit: HubKit) -> None:
    await two_towns(kit)
    both = await official(kit, "both", "editor,reviewer", "town:east")
    notice = await _draft(kit, both, scope="town:east")
    await _post(kit, f"/api/v1/notices/{notice['id']}/submit", both)
    status, refusal = await _post(kit, f"/api/v1/notices/{notice['id']}/approve", both)
    assert status == 403 and refusal["error"] == "forbidden" and refusal["detail"]
    status, _ = await _post(kit, f"/api/v1/notices/{notice['id']}/reject", both, {"reason": "自己退回"})
    assert status == 403
    assert await _state(kit, notice["id"]) == "in_review"


async def test_a_town_editor_targeting_another_towns_village_or_the_city_is_out_of_scope(kit: HubKit) -> None:
    await two_towns(kit)
    editor = await official(kit, "ed", "editor", "town:east")
    for scope in ("village:w1", "city", "town:west", "village:e1,village:w1", "village:nowhere"):
        status, refusal = await _post(kit, "/api/v1/notices", editor, {**NOTICE, "scope": scope})
        assert (status, refusal["error"]) == (403, "out_of_scope"), scope
    assert await kit.hub.store.list_notices(None, None, 100) == []


async def test_a_village_editor_may_target_only_its_village(kit: HubKit) -> None:
    await two_towns(kit)
    editor = await official(kit, "ved", "editor", "village:e1")
    assert (await _post(kit, "/api/v1/notices", editor, {**NOTICE, "scope": "village:e1"}))[0] == 201
    assert (await _post(kit, "/api/v1/notices", editor, {**NOTICE, "scope": "town:east"}))[0] == 403


async def test_a_viewer_cannot_draft(kit: HubKit) -> None:
    await two_towns(kit)
    viewer = await official(kit, "vw", "viewer", "town:east")
    status, refusal = await _post(kit, "/api/v1/notices", viewer, {**NOTICE, "scope": "town:east"})
    assert (status, refusal["error"]) == (403, "forbidden")


async def test_an_emergency_notice_is_published_at_once_by_a_reviewer_in_scope(kit: HubKit) -> None:
    await two_towns(kit)
    duty = await official(kit, "duty", "editor,reviewer", "town:east")
    west_reviewer = await official(kit, "wr", "reviewer", "town:west")
    edge = await kit.enroll("e3")
    notice = await _draft(kit, duty, scope="town:east", priority="emergency", title="山洪预警")
    status, refusal = await _post(kit, f"/api/v1/notices/{notice['id']}/publish", west_reviewer)
    assert (status, refusal["error"]) == (403, "out_of_scope")
    started = time.monotonic()
    waiting = asyncio.create_task(edge.get_down(after=0, wait=20))
    await asyncio.sleep(0.3)
    status, published = await _post(kit, f"/api/v1/notices/{notice['id']}/publish", duty)
    assert status == 200 and published["state"] == "published"
    batch = await waiting
    assert time.monotonic() - started < 10
    assert [(e.op["id"], e.op["body"]["priority"]) for e in batch.entries] == [(notice["id"], "emergency")]
    for village in ("e1", "e2", "e3"):
        assert await _ids(kit, village) == [("put", notice["id"])]
    assert await _ids(kit, "w1") == []


async def test_a_reviewer_cannot_skip_review_for_a_notice_that_is_not_an_emergency(kit: HubKit) -> None:
    await two_towns(kit)
    duty = await official(kit, "duty", "editor,reviewer", "town:east")
    notice = await _draft(kit, duty, scope="town:east", priority="urgent")
    status, refusal = await _post(kit, f"/api/v1/notices/{notice['id']}/publish", duty)
    assert (status, refusal["error"]) == (403, "forbidden")
    assert await _state(kit, notice["id"]) == "draft" and await kit.down_ops("e1") == []


async def test_a_notice_in_review_cannot_be_edited_but_a_rejected_one_can_and_goes_round_again(kit: HubKit) -> None:
    await two_towns(kit)
    editor = await official(kit, "ed", "editor", "town:east")
    reviewer = await official(kit, "rv", "reviewer", "town:east")
    notice = await _draft(kit, editor, scope="village:e1")
    edited = await kit.client.patch(f"/api/v1/notices/{notice['id']}", headers=editor, json={"title": "防汛通知（更正）"})
    assert edited.status == 200 and (await body_of(edited))["title"] == "防汛通知（更正）"
    await _post(kit, f"/api/v1/notices/{notice['id']}/submit", editor)
    refused = await kit.client.patch(f"/api/v1/notices/{notice['id']}", headers=editor, json={"title": "再改"})
    assert refused.status == 409
    refusal = await body_of(refused)
    assert refusal["error"] == "in_review" and "审核" in refusal["detail"]
    still = await kit.hub.store.get_notice(notice["id"])
    assert still is not None and still.title == "防汛通知（更正）" and still.state == "in_review"

    status, missing = await _post(kit, f"/api/v1/notices/{notice['id']}/reject", reviewer, {})
    assert (status, missing["error"]) == (400, "missing_field")
    status, rejected = await _post(kit, f"/api/v1/notices/{notice['id']}/reject", reviewer, {"reason": "时间写错了"})
    assert status == 200 and rejected["state"] == "rejected" and rejected["reject_reason"] == "时间写错了"
    mine = await body_of(await kit.client.get("/api/v1/notices?mine=true&state=rejected", headers=editor))
    assert [(n["id"], n["reject_reason"]) for n in mine["notices"]] == [(notice["id"], "时间写错了")]

    fixed = await kit.client.patch(f"/api/v1/notices/{notice['id']}", headers=editor, json={"body": "明晚有暴雨。"})
    assert (await body_of(fixed))["state"] == "draft"
    assert (await _post(kit, f"/api/v1/notices/{notice['id']}/submit", editor))[1]["state"] == "in_review"
    assert (await _post(kit, f"/api/v1/notices/{notice['id']}/approve", reviewer))[1]["state"] == "published"
    (op,) = await kit.down_ops("e1")
    assert op["body"]["body"] == "明晚有暴雨。"


async def test_another_editor_cannot_submit_or_edit_someone_elses_draft(kit: HubKit) -> None:
    await two_towns(kit)
    editor = await official(kit, "ed", "editor", "town:east")
    colleague = await official(kit, "ed2", "editor", "town:east")
    notice = await _draft(kit, editor, scope="village:e1")
    assert (await _post(kit, f"/api/v1/notices/{notice['id']}/submit", colleague))[0] == 403
    resp = await kit.client.patch(f"/api/v1/notices/{notice['id']}", headers=colleague, json={"title": "x"})
    assert resp.status == 403
    assert await _state(kit, notice["id"]) == "draft"


async def test_replayed_posts_publish_nothing_twice(kit: HubKit) -> None:
    await two_towns(kit)
    editor = await official(kit, "ed", "editor", "town:east")
    reviewer = await official(kit, "rv", "reviewer", "town:east")
    client_id = str(uuid.uuid4())
    first = await _post(kit, "/api/v1/notices", editor, {**NOTICE, "scope": "village:e1", "id": client_id})
    again = await _post(kit, "/api/v1/notices", editor, {**NOTICE, "scope": "village:e1", "id": client_id})
    assert (first[0], again[0]) == (201, 200) and first[1]["id"] == again[1]["id"] == client_id
    other = await _post(kit, "/api/v1/notices", editor, {**NOTICE, "title": "别的", "scope": "village:e1",
                                                         "id": client_id})
    assert (other[0], other[1]["error"]) == (409, "id_taken")
    assert len(await kit.hub.store.list_notices(None, None, 100)) == 1
    for _ in range(2):
        assert (await _post(kit, f"/api/v1/notices/{client_id}/submit", editor))[0] == 200
    for _ in range(2):
        status, approved = await _post(kit, f"/api/v1/notices/{client_id}/approve", reviewer)
        assert status == 200 and approved["state"] == "published"
    assert await _ids(kit, "e1") == [("put", client_id)]


async def test_a_scheduled_notice_goes_out_when_its_time_comes(kit: HubKit) -> None:
    await two_towns(kit)
    editor = await official(kit, "ed", "editor", "town:east")
    reviewer = await official(kit, "rv", "reviewer", "town:east")
    at = (datetime.now(UTC) + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    notice = await _draft(kit, editor, scope="village:e2", publish_at=at)
    await _post(kit, f"/api/v1/notices/{notice['id']}/submit", editor)
    status, approved = await _post(kit, f"/api/v1/notices/{notice['id']}/approve", reviewer)
    assert status == 200 and approved["state"] == "scheduled"
    assert await kit.down_ops("e2") == []
    deadline = time.monotonic() + 12
    while await _state(kit, notice["id"]) != "published":
        assert time.monotonic() < deadline, "the scheduled notice was not published in time"
        await asyncio.sleep(0.2)
    assert await _ids(kit, "e2") == [("put", notice["id"])]


async def test_a_withdrawn_notice_leaves_the_tvs_of_its_villages(kit: HubKit) -> None:
    await two_towns(kit)
    editor = await official(kit, "ed", "editor", "town:east")
    reviewer = await official(kit, "rv", "reviewer", "town:east")
    west_reviewer = await official(kit, "wr", "reviewer", "town:west")
    notice = await _draft(kit, editor, scope="village:e1,village:e2")
    await _post(kit, f"/api/v1/notices/{notice['id']}/submit", editor)
    await _post(kit, f"/api/v1/notices/{notice['id']}/approve", reviewer)
    assert (await _post(kit, f"/api/v1/notices/{notice['id']}/withdraw", west_reviewer))[0] == 403
    assert (await _post(kit, f"/api/v1/notices/{notice['id']}/withdraw", editor))[0] == 403
    status, withdrawn = await _post(kit, f"/api/v1/notices/{notice['id']}/withdraw", reviewer)
    assert status == 200 and withdrawn["state"] == "withdrawn"
    for village in ("e1", "e2"):
        assert await _ids(kit, village) == [("put", notice["id"]), ("delete", notice["id"])]


async def test_officials_list_and_read_only_notices_in_their_scope(kit: HubKit) -> None:
    await two_towns(kit)
    east = await official(kit, "ed", "editor", "town:east")
    west = await official(kit, "we", "editor", "town:west")
    mine = await _draft(kit, east, scope="village:e1")
    theirs = await _draft(kit, west, scope="village:w1")
    listed = await body_of(await kit.client.get("/api/v1/notices", headers=east))
    assert [n["id"] for n in listed["notices"]] == [mine["id"]]
    resp = await kit.client.get(f"/api/v1/notices/{theirs['id']}", headers=east)
    assert resp.status == 403 and (await body_of(resp))["error"] == "out_of_scope"
    everything = await body_of(await kit.client.get("/api/v1/notices", headers=kit.admin))
    assert {n["id"] for n in everything["notices"]} == {mine["id"], theirs["id"]}
