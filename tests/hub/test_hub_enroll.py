"""Enrollment: a bundle's token binds one box's key to its village, idempotently, and only once."""

from __future__ import annotations

import asyncio
import base64

from hub.registry import issue_enrollment_token
from protocol.keys import NodeKey
from protocol.trust import open_trust

from .kit import HubKit, enroll_body


async def test_enroll_answers_the_trust_document_and_binds_the_key(kit: HubKit) -> None:
    await kit.add_village("v1")
    key = NodeKey.generate()
    token = await kit.token_for("v1")
    resp = await kit.client.post("/api/v1/enroll", json=enroll_body("v1", token, key))
    assert resp.status == 200
    answer = await resp.json()
    assert answer["village_id"] == "v1"
    trust = open_trust(base64.urlsafe_b64decode(answer["trust"]), kit.hub.keys.root.public)
    assert trust.can_sign(kit.hub.keys.signing.public)
    village = await kit.hub.store.get_village("v1")
    assert village is not None and village.edge_key == key.public


async def test_enroll_twice_with_the_same_key_gives_the_same_answer(kit: HubKit) -> None:
    await kit.add_village("v1")
    key = NodeKey.generate()
    token = await kit.token_for("v1")
    first = await kit.client.post("/api/v1/enroll", json=enroll_body("v1", token, key))
    second = await kit.client.post("/api/v1/enroll", json=enroll_body("v1", token, key))
    assert first.status == second.status == 200
    assert await first.json() == await second.json()


async def test_a_token_used_by_one_box_is_refused_to_another_key(kit: HubKit) -> None:
    await kit.add_village("v1")
    token = await kit.token_for("v1")
    first_key = NodeKey.generate()
    assert (await kit.client.post("/api/v1/enroll", json=enroll_body("v1", token, first_key))).status == 200
    resp = await kit.client.post("/api/v1/enroll", json=enroll_body("v1", token, NodeKey.generate()))
    assert resp.status == 409
    assert (await resp.json())["error"] == "token_used"
    village = await kit.hub.store.get_village("v1")
    assert village is not None and village.edge_key == first_key.public


async def test_a_wrong_token_or_an_unknown_village_is_forbidden(kit: HubKit) -> None:
    await kit.add_village("v1")
    await kit.token_for("v1")
    key = NodeKey.generate()
    wrong = await kit.client.post("/api/v1/enroll", json=enroll_body("v1", "not-the-token", key))
    assert wrong.status == 403
    assert (await wrong.json())["error"] == "bad_token"
    unknown = await kit.client.post("/api/v1/enroll", json=enroll_body("nowhere", "x", key))
    assert unknown.status == 403
    village = await kit.hub.store.get_village("v1")
    assert village is not None and village.edge_key is None


async def test_a_token_for_another_village_does_not_enroll_this_one(kit: HubKit) -> None:
    await kit.add_village("v1")
    await kit.add_village("v2")
    token_v1 = await kit.token_for("v1")
    resp = await kit.client.post("/api/v1/enroll", json=enroll_body("v2", token_v1, NodeKey.generate()))
    assert resp.status == 403


async def test_an_expired_token_is_forbidden(kit: HubKit) -> None:
    await kit.add_village("v1")
    token = await kit.token_for("v1", lifetime_s=1)
    async with kit.hub.store.transaction() as tx:  # age the token instead of sleeping
        await tx._exec("UPDATE enroll_bundles SET expires_at = ? WHERE village_id = 'v1'", (tx.now - 10,))
    resp = await kit.client.post("/api/v1/enroll", json=enroll_body("v1", token, NodeKey.generate()))
    assert resp.status == 403
    assert (await resp.json())["error"] == "token_expired"


async def test_a_new_bundle_lets_a_replacement_box_enroll_and_retires_the_old_key(kit: HubKit) -> None:
    await kit.add_village("v1")
    old = await kit.enroll("v1")
    new = await kit.enroll("v1")  # a fresh token, a new key
    assert (await new.position())["seq"] == 0
    path = "/api/v1/sync/v1/up"
    resp = await kit.client.get(path, headers=old.signed("GET", path))
    assert resp.status == 403


async def test_issue_enrollment_token_works_synchronously_on_the_data_dir(kit: HubKit) -> None:
    await kit.add_village("v1", name="小庄村", town="城关镇")
    token, village = await asyncio.to_thread(issue_enrollment_token, kit.data_dir, "v1", 600)
    assert village.name == "小庄村" and village.town_id == "城关镇"
    resp = await kit.client.post("/api/v1/enroll", json=enroll_body("v1", token, NodeKey.generate()))
    assert resp.status == 200
