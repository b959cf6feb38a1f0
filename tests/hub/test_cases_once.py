"""Acceptance 4: the same submission arriving twice (a replayed batch, by line and by USB stick, sent again in a
later entry) is one case at the hub.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from hub.sneakernet import import_from
from protocol import compression
from protocol.feed import GENESIS
from protocol.stick_sync import batch_name, make_position, position_name, write_file

from .case_kit import case_world
from .kit import HubKit, TestEdge


def _stick(tmp_path: Path, edge: TestEdge, batch: bytes, first_seq: int) -> Path:
    """A stick's VILLAGENET/sync folder as the village's box writes it."""
    sync_dir = tmp_path / "stick" / "VILLAGENET" / "sync"
    sync_dir.mkdir(parents=True, exist_ok=True)
    write_file(sync_dir, position_name(edge.village_id), make_position(edge.key, edge.village_id, 0, GENESIS, 0))
    write_file(sync_dir, batch_name("up", edge.village_id, first_seq), compression.compress(batch))
    return sync_dir


async def _cases_of(kit: HubKit, headers: dict[str, str], submission_id: str) -> list[str]:
    cases = (await (await kit.client.get("/api/v1/cases", headers=headers)).json())["cases"]
    return [c["id"] for c in cases if c["submission_id"] == submission_id]


async def test_the_same_submission_by_line_and_by_stick_is_one_case(kit: HubKit, tmp_path: Path) -> None:
    world = await case_world(kit)
    sub_id = str(uuid.uuid4())
    edge = world.edge
    batch = edge.batch(edge.next_entries([world.op("consultation", None, sub_id)]))
    assert (await edge.push(batch))[0] == 200
    assert (await edge.push(batch))[0] == 200  # the line drops the answer and the edge sends it again

    report = await import_from(kit.data_dir, _stick(tmp_path, edge, batch, 1))
    assert report["refused"] == []
    # The edge queued it again after a restart: a later entry with the same submission, carried by the stick.
    again = edge.batch(edge.next_entries([world.op("consultation", None, sub_id)]))
    report = await import_from(kit.data_dir, _stick(tmp_path / "second", edge, again, 2))
    assert report["refused"] == [] and report["villages"]["e1"]["up_seq"] == 2

    assert len(await _cases_of(kit, world.city_dispatcher, sub_id)) == 1
    entries = (await (await kit.client.get("/api/v1/audit", headers=kit.admin)).json())["entries"]
    assert [e["action"] for e in entries].count("case_open") == 1


async def test_a_submission_first_carried_by_stick_opens_its_case_there(kit: HubKit, tmp_path: Path) -> None:
    world = await case_world(kit)
    sub_id = str(uuid.uuid4())
    edge = world.edge
    batch = edge.batch(edge.next_entries([world.op("incident", {"category": "火情"}, sub_id)]))
    await import_from(kit.data_dir, _stick(tmp_path, edge, batch, 1))
    assert (await edge.push(batch))[0] == 200  # the line comes back and sends what the stick carried
    (case_id,) = await _cases_of(kit, world.city_dispatcher, sub_id)
    case = (await (await kit.client.get(f"/api/v1/cases/{case_id}", headers=world.town_dispatcher)).json())
    assert (case["kind"], case["category"], case["state"]) == ("incident", "火情", "new")


async def test_votes_check_ins_and_ratings_open_no_case(kit: HubKit) -> None:
    world = await case_world(kit)
    await world.submit("checkin", {"status": "ok"})
    await world.submit("vote", {"question_id": "q1", "choice": 1})
    await world.rate(str(uuid.uuid4()), 5)
    assert (await (await kit.client.get("/api/v1/cases", headers=world.city_dispatcher)).json())["cases"] == []
