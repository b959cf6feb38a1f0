"""At the hub: a village's local reply is kept as a reply of its submission; a bad or stray one never stalls the
village's up feed, and it is never sent back down."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from protocol.records import put
from tests.hub.kit import HubKit, start_hub


@pytest.fixture
async def kit(aiohttp_client: Any, tmp_path: Path) -> HubKit:
    return await start_hub(aiohttp_client, tmp_path / "hub")


def local_reply(sub_id: str, text: Any = "村里已经处理了。") -> dict[str, Any]:
    return put("local_reply", str(uuid.uuid4()),
               {"submission_id": sub_id, "text": text, "by": "村委会", "staff": "admin1", "at": "2030-01-01T09:00:00Z"})


async def hub_submissions(kit: HubKit) -> dict[str, Any]:
    resp = await kit.client.get("/api/v1/submissions?village=v1", headers=kit.admin)
    return {s["id"]: s for s in (await resp.json())["submissions"]}


async def test_a_local_reply_is_listed_with_its_submission_and_not_sent_down(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    sub_id = str(uuid.uuid4())
    ops = [edge.submission_op(sub_id), local_reply(sub_id)]
    status, _ = await edge.push(edge.batch(edge.next_entries(ops)))
    assert status == 200
    (reply,) = (await hub_submissions(kit))[sub_id]["replies"]
    assert reply["text"] == "村里已经处理了。" and reply["by"] == "村委会"
    assert all(op["kind"] != "reply" for op in await kit.down_ops("v1"))


async def test_a_stray_or_malformed_local_reply_is_kept_as_a_record_and_the_feed_goes_on(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    sub_id = str(uuid.uuid4())
    ops = [local_reply(str(uuid.uuid4())), local_reply(sub_id, text=""), local_reply(sub_id, text=["x"]),
           edge.submission_op(sub_id)]
    status, answer = await edge.push(edge.batch(edge.next_entries(ops)))
    assert (status, answer["have"]) == (200, 4)
    assert (await hub_submissions(kit))[sub_id]["replies"] == []
