"""Replies: a reply to a submission the hub holds goes down to that submission's village."""

from __future__ import annotations

import uuid

from .kit import HubKit


async def test_a_reply_goes_into_the_village_down_feed_and_the_listing(kit: HubKit) -> None:
    await kit.add_village("v1")
    await kit.add_village("v2")
    edge = await kit.enroll("v1")
    sub_id = str(uuid.uuid4())
    await edge.push(edge.batch(edge.next_entries([edge.submission_op(sub_id)])))
    opened = (await edge.get_down()).head_seq  # the feedback's case status (已受理) went down first

    resp = await kit.client.post(f"/api/v1/submissions/{sub_id}/replies", json={"text": "已安排维修。"},
                                 headers=kit.admin)
    assert resp.status == 201
    reply = await resp.json()

    batch = await edge.get_down(after=opened)
    entry, status = batch.entries  # the reply, and the case it answered now 已答复
    assert (status.op["kind"], status.op["id"], status.op["body"]["label"]) == ("case_status", sub_id, "已答复")
    assert (entry.op["op"], entry.op["kind"], entry.op["id"]) == ("put", "reply", reply["id"])
    assert entry.op["body"] == {"submission_id": sub_id, "text": "已安排维修。", "by": "市级平台", "at": reply["at"]}
    assert await kit.down_ops("v2") == []

    listing = await (await kit.client.get("/api/v1/submissions?village=v1", headers=kit.admin)).json()
    (sub,) = listing["submissions"]
    assert sub["replies"] == [{"id": reply["id"], "text": "已安排维修。", "by": "市级平台", "at": reply["at"]}]


async def test_a_reply_to_a_submission_the_hub_does_not_hold_is_404(kit: HubKit) -> None:
    await kit.add_village("v1")
    resp = await kit.client.post(f"/api/v1/submissions/{uuid.uuid4()}/replies", json={"text": "hi"},
                                 headers=kit.admin)
    assert resp.status == 404
    assert (await resp.json())["error"] == "unknown_submission"
    assert await kit.down_ops("v1") == []


async def test_submissions_are_listed_by_village_with_a_cursor(kit: HubKit) -> None:
    await kit.add_village("v1")
    await kit.add_village("v2")
    e1, e2 = await kit.enroll("v1"), await kit.enroll("v2")
    ids = [str(uuid.uuid4()) for _ in range(3)]
    await e1.push(e1.batch(e1.next_entries([e1.submission_op(i) for i in ids])))
    await e2.push(e2.batch(e2.next_entries([e2.submission_op()])))

    first = await (await kit.client.get("/api/v1/submissions?village=v1&limit=2", headers=kit.admin)).json()
    assert [s["id"] for s in first["submissions"]] == [ids[2], ids[1]]
    rest = await (await kit.client.get(f"/api/v1/submissions?village=v1&limit=2&cursor={first['next']}",
                                       headers=kit.admin)).json()
    assert [s["id"] for s in rest["submissions"]] == [ids[0]] and rest["next"] is None
    everything = await (await kit.client.get("/api/v1/submissions", headers=kit.admin)).json()
    assert len(everything["submissions"]) == 4
