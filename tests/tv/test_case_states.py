"""The hub's `case_status` records applied at the edge (edge/residents/case_states.py through the down feed) and
shown in "my submissions": the API's state and due_at, the TV's words, the expected date and the unit."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from edge.app import create_app
from edge.config import load_config
from edge.feeds.down_apply import apply_down
from edge.runtime import RUNTIME
from protocol.feed import GENESIS, chain, feed_name
from protocol.records import put, validate_op
from tests.device_kit import register_with
from tests.edge.conftest import provision


@pytest.fixture
async def edge(aiohttp_client, tmp_path: Path):
    data = tmp_path / "edge"
    provision(data)
    return await aiohttp_client(create_app(load_config(data, mdns=False, backoff_max_s=1.0)))


def _status(sid: str, state: str, label: str, due_date: str | None, unit: str | None) -> dict:
    return {"submission_id": sid, "case_id": "c-" + sid[:8], "state": state, "label": label,
            "due_at": f"{due_date}T16:00:00Z" if due_date else None, "due_date": due_date, "unit_name": unit,
            "at": "2026-12-07T02:00:00Z"}


async def _down(edge, ops: list[dict]) -> None:
    """The hub's records as the sync client applies them: checked by the protocol, chained, applied in one go."""
    db = edge.server.app[RUNTIME].db
    have = await db.fetchone("SELECT seq, hash FROM feed_positions WHERE name = 'down'")
    seq, head = (have["seq"], have["hash"]) if have else (0, GENESIS)
    await apply_down(db, chain(feed_name("down", "v1"), seq, head, [validate_op(op, "hub") for op in ops]))


async def test_the_cases_state_replaces_the_boxs_own_and_the_tv_says_it_in_words_with_the_expected_date(edge):
    tv = await register_with(edge)
    sid = str(uuid.uuid4())
    sent = tv.submission("consultation", {"category": "社会保障", "text": "低保怎么申请"}, sid)
    assert (await edge.post("/api/v1/submissions", json=sent, headers=tv.headers)).status == 201

    await _down(edge, [put("case_status", sid, _status(sid, "in_progress", "办理中", "2026-12-10", "镇民政办"))])
    resp = await edge.get(f"/api/v1/submissions/{sid}", headers=tv.headers)
    view = await resp.json()
    assert view["state"] == "in_progress" and view["due_at"] == "2026-12-10T16:00:00Z"
    assert view["case"]["due_date"] == "2026-12-10" and view["case"]["unit_name"] == "镇民政办"
    page = await (await edge.get(f"/tv/mine/{sid}", headers={"Cookie": f"device_token={tv.token}"})).text()
    assert "办理中" in page and "预计 2026-12-10 前办结" in page and "承办单位：镇民政办" in page
    listed = await (await edge.get("/tv/mine?lang=en", headers={"Cookie": f"device_token={tv.token}"})).text()
    assert "Being handled" in listed and "Expected by 2026-12-10" in listed

    # Each put replaces the last: closed, no expected date any more.
    await _down(edge, [put("case_status", sid, _status(sid, "closed", "已办结", None, "镇民政办"))])
    view = await (await edge.get(f"/api/v1/submissions/{sid}", headers=tv.headers)).json()
    assert view["state"] == "closed" and view["due_at"] is None
    page = await (await edge.get(f"/tv/mine/{sid}?lang=zh-CN",
                                 headers={"Cookie": f"device_token={tv.token}"})).text()
    assert "已办结" in page and "预计" not in page


async def test_a_case_status_for_a_submission_this_box_does_not_hold_is_kept_and_shown_to_nobody(edge):
    tv = await register_with(edge)
    other = str(uuid.uuid4())
    await _down(edge, [put("case_status", other, _status(other, "new", "已受理", "2026-12-09", None))])
    resp = await edge.get("/api/v1/submissions", params={"device_id": tv.device_id}, headers=tv.headers)
    assert (await resp.json())["submissions"] == []
    assert (await edge.get(f"/api/v1/submissions/{other}", headers=tv.headers)).status in (403, 404)
