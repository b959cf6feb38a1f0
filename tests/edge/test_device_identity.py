"""Who is who on the village LAN (issue 14, acceptance 1): a device acts only for itself, with the token the edge
issued it; votes count once per household; each refusal leaves the database exactly as it was."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from deploy.simulated_stb import SimulatedStb
from edge.api_devices import DEVICE_REGISTRY
from edge.app import create_app
from edge.config import load_config
from edge.residents.households import missing_checkins, pair_by_code
from edge.runtime import RUNTIME
from edge.streams import open_vote, tally
from tests.device_kit import Registered, pair_with_new_household, register_with

# Everything a device's request could change: what residents sent, the up feed, who saw which alert, pairings.
WATCHED = ("submissions", "up_entries", "submission_households", "alert_log", "devices", "pairing_codes",
           "household_devices", "households")


def dump(edge_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(edge_dir / "edge.db") as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in WATCHED}


async def refused(resp: Any, status: int, error: str) -> None:
    body = await resp.json()
    assert resp.status == status and body["error"] == error and body["detail"], (resp.status, body)


async def _emergency(client: Any, nid: str) -> None:
    async with client.app[RUNTIME].db.write() as conn:
        await conn.execute(
            "INSERT INTO notices (id, title, body, area, priority, scope, published_at, expires_at, attachments)"
            " VALUES (?, '山洪预警', '请立即转移', 'safety', 'emergency', 'city', '2026-01-01T00:00:00Z', NULL, '[]')",
            (nid,))


async def test_registering_gives_a_random_id_and_a_token_of_which_only_a_hash_is_kept(edge_client: Any,
                                                                                    edge_dir: Path) -> None:
    resp = await edge_client.post("/api/v1/devices", json={"model": "HG680-J", "mw": "huawei"})
    assert resp.status == 201
    first = await resp.json()
    second = await (await edge_client.post("/api/v1/devices")).json()  # the body is optional
    assert first["device_id"] != second["device_id"] and first["token"] != second["token"]
    assert len(first["token"]) >= 40
    with sqlite3.connect(edge_dir / "edge.db") as conn:
        rows = conn.execute("SELECT id, token_hash, model, middleware FROM devices ORDER BY created_at").fetchall()
    assert rows[0] == (first["device_id"], hashlib.sha256(first["token"].encode()).hexdigest(), "HG680-J", "huawei")
    assert first["token"] not in json.dumps(rows)
    resp = await edge_client.post("/api/v1/devices", json={"model": "x", "admin": True})
    await refused(resp, 400, "unknown_field")


async def test_device_a_cannot_read_submit_acknowledge_pair_or_vote_for_device_b_and_changes_nothing(
        edge_client: Any, edge_dir: Path) -> None:
    db = edge_client.app[RUNTIME].db
    a = await register_with(edge_client, "stb-a")
    b = await register_with(edge_client, "stb-b")
    await pair_with_new_household(db, a.device_id, "张家")
    await pair_with_new_household(db, b.device_id, "李家")
    secret = b.submission("consultation", {"text": "低保怎么申请？", "phone": "13800000000"})
    assert (await edge_client.post("/api/v1/submissions", json=secret, headers=b.headers)).status == 201
    await _emergency(edge_client, "n-flood")
    question = await open_vote(edge_client.app[RUNTIME].streams, "mtg-1", "是否同意修路？", ["同意", "反对"])
    before = dump(edge_dir)

    # Reading B's submissions: the list, and the one by id.
    await refused(await edge_client.get("/api/v1/submissions?device_id=stb-b", headers=a.headers), 403, "not_your_device")
    await refused(await edge_client.get("/api/v1/submissions?device_id=stb-b"), 401, "device_token_required")
    await refused(await edge_client.get(f"/api/v1/submissions/{secret['id']}", headers=a.headers), 403,
                  "not_your_submission")
    await refused(await edge_client.get(f"/api/v1/submissions/{secret['id']}"), 401, "device_token_required")
    await refused(await edge_client.get(f"/api/v1/submissions/{secret['id']}",
                                        headers={"X-Device-Token": "made-up"}), 401, "unknown_device_token")
    # Submitting as B, a check-in included, and voting as B.
    as_b = b.submission("feedback", {"text": "冒名的意见"})
    await refused(await edge_client.post("/api/v1/submissions", json=as_b, headers=a.headers), 403, "not_your_device")
    await refused(await edge_client.post("/api/v1/submissions", json=as_b), 401, "device_token_required")
    checkin = b.submission("checkin", {"status": "well"})
    await refused(await edge_client.post("/api/v1/submissions", json=checkin, headers=a.headers), 403,
                  "not_your_device")
    vote_b = b.submission("vote", {"question_id": question["id"], "choice": 2})
    await refused(await edge_client.post("/api/v1/submissions", json=vote_b, headers=a.headers), 403, "not_your_device")
    # Acknowledging (or marking shown) the emergency for B, so that B's TV would not show it.
    for action in ("ack", "shown"):
        resp = await edge_client.post(f"/api/v1/alerts/n-flood/{action}", json={"device_id": "stb-b"}, headers=a.headers)
        await refused(resp, 403, "not_your_device")
        await refused(await edge_client.post(f"/api/v1/alerts/n-flood/{action}", json={"device_id": "stb-b"}), 401,
                      "device_token_required")
    # Reading B's pending alerts, or asking for B's pairing code.
    await refused(await edge_client.get("/api/v1/alerts?device=stb-b", headers=a.headers), 403, "not_your_device")
    await refused(await edge_client.get("/api/v1/pairing?device_id=stb-b", headers=a.headers), 403, "not_your_device")
    await refused(await edge_client.get("/api/v1/pairing?device_id=stb-b"), 401, "device_token_required")
    assert dump(edge_dir) == before

    # A's own list holds none of B's; A voting twice counts once, its last vote.
    mine = await (await edge_client.get("/api/v1/submissions", headers=a.headers)).json()
    assert mine["submissions"] == []
    for choice in (1, 2):
        vote = a.submission("vote", {"question_id": question["id"], "choice": choice})
        assert (await edge_client.post("/api/v1/submissions", json=vote, headers=a.headers)).status == 201
    counted = await tally(db, question["id"])
    assert counted["voters"] == 1 and counted["counts"] == {"同意": 0, "反对": 1}


async def test_fifty_votes_from_fifty_new_unpaired_devices_count_as_none(edge_client: Any, edge_dir: Path) -> None:
    question = await open_vote(edge_client.app[RUNTIME].streams, "mtg-2", "是否同意修路？", ["同意", "反对"])
    devices = [await register_with(edge_client) for _ in range(50)]
    before = dump(edge_dir)

    async def vote(device: Registered) -> Any:
        sub = device.submission("vote", {"question_id": question["id"], "choice": 1})
        return await edge_client.post("/api/v1/submissions", json=sub, headers=device.headers)

    for resp in await asyncio.gather(*(vote(d) for d in devices)):
        await refused(resp, 403, "not_paired")
    assert dump(edge_dir) == before
    counted = await tally(edge_client.app[RUNTIME].db, question["id"])
    assert counted["voters"] == 0 and counted["counts"] == {"同意": 0, "反对": 0}


async def test_two_tvs_of_one_household_vote_once_and_the_later_vote_counts(edge_client: Any) -> None:
    db = edge_client.app[RUNTIME].db
    question = await open_vote(edge_client.app[RUNTIME].streams, "mtg-3", "是否同意修路？", ["同意", "反对"])
    living_room, bedroom, neighbour = [await register_with(edge_client) for _ in range(3)]
    household = await pair_with_new_household(db, living_room.device_id, "王家")
    await pair_with_new_household(db, neighbour.device_id, "赵家")
    code = await (await edge_client.get("/api/v1/pairing", headers=bedroom.headers)).json()
    await pair_by_code(db, household, code["code"])
    for device, choice in ((living_room, 1), (bedroom, 2), (neighbour, 1)):
        sub = device.submission("vote", {"question_id": question["id"], "choice": choice})
        assert (await edge_client.post("/api/v1/submissions", json=sub, headers=device.headers)).status == 201
    counted = await tally(db, question["id"])
    assert counted["voters"] == 2 and counted["counts"] == {"同意": 1, "反对": 1}


async def test_only_a_check_in_from_a_paired_device_clears_the_missing_check_in_alarm(edge_client: Any) -> None:
    db = edge_client.app[RUNTIME].db
    grandma, stranger = await register_with(edge_client), await register_with(edge_client)
    await pair_with_new_household(db, grandma.device_id, "孙奶奶", elderly_alone=True)
    assert [h["name"] for h in await missing_checkins(db)] == ["孙奶奶"]
    resp = await edge_client.post("/api/v1/submissions", json=stranger.submission("checkin", {"status": "well"}),
                                  headers=stranger.headers)
    assert resp.status == 201
    assert [h["name"] for h in await missing_checkins(db)] == ["孙奶奶"]
    resp = await edge_client.post("/api/v1/submissions", json=grandma.submission("checkin", {"status": "well"}),
                                  headers=grandma.headers)
    assert resp.status == 201
    assert await missing_checkins(db) == []


async def test_check_in_ids_are_secret_to_each_device_and_not_the_old_uuid5(edge_client: Any) -> None:
    devices = edge_client.app[DEVICE_REGISTRY]
    a, b = await register_with(edge_client, "stb-c"), await register_with(edge_client)
    day = date(2026, 12, 7)
    a_device, b_device = devices.identify(a.token), devices.identify(b.token)
    assert a_device is not None and b_device is not None
    old = uuid.uuid5(uuid.UUID("6f0b1c2e-9d7a-4e55-8a51-3c1f6a7b2d90"), f"checkin:stb-c:{day.isoformat()}")
    assert a_device.checkin_id(day) != str(old)
    assert a_device.checkin_id(day) == a_device.checkin_id(day) != b_device.checkin_id(day)
    assert uuid.UUID(a_device.checkin_id(day)).version == 4


async def test_an_acknowledgement_hides_the_alert_only_on_the_device_that_sent_it(edge_client: Any) -> None:
    a, b = await register_with(edge_client), await register_with(edge_client)
    await _emergency(edge_client, "n-fire")
    resp = await edge_client.post("/api/v1/alerts/n-fire/ack", json={"device_id": a.device_id}, headers=a.headers)
    assert resp.status == 200

    async def pending(headers: dict[str, str], query: str = "") -> list[str]:
        body = await (await edge_client.get("/api/v1/alerts" + query, headers=headers)).json()
        return [x["id"] for x in body["alerts"]]

    assert await pending(a.headers) == [] and await pending(a.headers, f"?device={a.device_id}") == []
    assert await pending(b.headers) == ["n-fire"]
    # Without a token nobody is proven: every current alert shows, whatever ?device= says.
    assert await pending({}, f"?device={a.device_id}") == ["n-fire"]


async def test_a_portal_hint_names_only_a_first_registration(edge_client: Any) -> None:
    first = await register_with(edge_client, "stb-portal-7")
    sub = first.submission("feedback", {"text": "第一台"})
    assert (await edge_client.post("/api/v1/submissions", json=sub, headers=first.headers)).status == 201
    again = await (await edge_client.post("/api/v1/devices", json={"device_id": "stb-portal-7"})).json()
    assert again["device_id"] != "stb-portal-7"
    await refused(await edge_client.get("/api/v1/submissions?device_id=stb-portal-7",
                                        headers={"X-Device-Token": again["token"]}), 403, "not_your_device")


async def test_one_address_may_register_only_so_many_devices(aiohttp_client: Any, edge_dir: Path) -> None:
    client = await aiohttp_client(create_app(load_config(edge_dir, mdns=False, backoff_max_s=1.0,
                                                         device_registrations_per_hour=3)))
    for _ in range(3):
        assert (await client.post("/api/v1/devices", json={})).status == 201
    before = dump(edge_dir)
    resp = await client.post("/api/v1/devices", json={})
    await refused(resp, 429, "too_many_registrations")
    assert dump(edge_dir) == before


async def test_two_registrations_with_the_same_hint_at_once_give_it_to_one_of_them(edge_client: Any) -> None:
    answers = await asyncio.gather(*(edge_client.post("/api/v1/devices", json={"device_id": "stb-twin"})
                                     for _ in range(2)))
    assert [a.status for a in answers] == [201, 201]
    ids = sorted([(await a.json())["device_id"] for a in answers])
    assert ids.count("stb-twin") == 1 and len(set(ids)) == 2


async def test_a_tv_whose_token_the_box_forgot_still_gets_every_emergency(edge_client: Any) -> None:
    await _emergency(edge_client, "n-storm")
    for path in ("/api/v1/alerts", "/api/v1/alerts?device=stb-lost"):
        resp = await edge_client.get(path, headers={"X-Device-Token": "issued-by-a-box-since-reset"})
        assert resp.status == 200 and [a["id"] for a in (await resp.json())["alerts"]] == ["n-storm"]


async def test_the_simulated_stb_registers_and_its_feedback_is_accepted_under_its_token(edge_client: Any) -> None:
    stb = SimulatedStb("sim-stb-01")
    stats = await stb.run_resident(str(edge_client.make_url("")).rstrip("/"), asyncio.Event(),
                                   feedback_every_s=0.3, poll_every_s=0.1, max_feedback=2, max_duration_s=3.0)
    assert stats.errors == 0 and stats.feedback_sent == 2
    assert stb.device_id == "sim-stb-01" and stb.token
    mine = await (await edge_client.get("/api/v1/submissions", headers={"X-Device-Token": stb.token})).json()
    assert [s["kind"] for s in mine["submissions"]] == ["feedback", "feedback"]
