"""The `case_status` record the TV learns a case's state from: its shape is checked by the same code on both sides,
and a reply through the older submissions route answers the case too.
"""

from __future__ import annotations

import pytest

from protocol.errors import DecodeError, OwnershipError
from protocol.records import put, validate_op

from .case_kit import case_world, ops_of_kind
from .kit import HubKit

SUB = "0f8fad5b-d9cb-469f-a165-70867728950e"
GOOD = {"submission_id": SUB, "case_id": "c1", "state": "in_progress", "label": "办理中",
        "due_at": "2026-10-10T16:00:00Z", "due_date": "2026-10-10", "unit_name": "城关镇民政办",
        "at": "2026-10-08T01:00:00Z"}


def test_a_case_status_in_its_closed_shape_passes_and_anything_else_is_refused() -> None:
    assert validate_op(put("case_status", SUB, GOOD), "hub")["body"] == GOOD
    for wrong in ({**GOOD, "label": "已办结"}, {**GOOD, "state": "lost"}, {**GOOD, "submission_id": "other"},
                  {**GOOD, "phone": "13800000000"}, {**GOOD, "due_date": 20261010}):
        with pytest.raises(DecodeError):
            validate_op(put("case_status", SUB, wrong), "hub")
    with pytest.raises(OwnershipError):
        validate_op(put("case_status", SUB, GOOD), "edge")  # only the hub writes it


async def test_the_first_case_status_tells_the_tv_it_was_received_with_the_expected_date(kit: HubKit) -> None:
    world = await case_world(kit)
    await world.route("incident", "east-mz", 1)
    sub_id = await world.submit("incident", {"category": "道路", "text": "路灯坏了"})
    case = await world.case_of(sub_id)
    (status,) = ops_of_kind(await kit.down_ops("e1"), "case_status")
    assert status["id"] == sub_id
    body = status["body"]
    assert (body["state"], body["label"], body["case_id"], body["unit_name"]) == ("assigned", "已受理", case["id"],
                                                                                  "城关镇民政办")
    assert body["due_at"] == case["due_at"] and body["due_date"] is not None
    assert await kit.down_ops("w1") == []


async def test_a_reply_by_the_admin_token_on_the_submissions_route_answers_the_case(kit: HubKit) -> None:
    world = await case_world(kit)
    sub_id = await world.submit("consultation")
    resp = await kit.client.post(f"/api/v1/submissions/{sub_id}/replies", json={"text": "请到便民服务中心办理。"},
                                 headers=kit.admin)
    assert resp.status == 201
    case = await world.case_of(sub_id)
    assert (case["state"], case["handled_by"]) == ("answered", "city")
    assert ops_of_kind(await kit.down_ops("e1"), "case_status")[-1]["body"]["label"] == "已答复"
