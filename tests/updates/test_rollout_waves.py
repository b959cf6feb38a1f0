"""Rollouts in waves at the hub, through its JSON API, with the boxes' reports stored as the status poller stores
them: the author cannot approve; a wave starts only when the one before reached its success threshold; a village
registered after the rollout started gets the release in the last wave; failures pause it, a resume accepts them,
an abort withdraws the offer; bad input changes nothing. (Real boxes taking real releases: test_rollout_boxes.py.)
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hub.actors import CLI
from hub.officials import put_account
from hub.release_keys import rotate_release_key
from hub.rollouts import advance
from tests.hub.kit import HubKit, start_hub

from .rollout_kit import box_reports, keep_release, villages_offered

PASSWORD = "correct-horse-42"
V = ("v1", "v2", "v3", "v4", "v5")


@pytest.fixture
async def kit(aiohttp_client: Any, tmp_path: Path) -> HubKit:
    kit = await start_hub(aiohttp_client, tmp_path / "hub", rollout_check_s=3600.0)  # the test moves it on
    for vid in V:
        await kit.add_village(vid)
    for user, roles, scope in (("zhang", "admin", "city"), ("li", "admin", "city"), ("town-admin", "admin",
                                                                                    "town:town1")):
        await put_account(kit.hub.store, CLI, user, roles, scope, user, PASSWORD)
    return kit


async def _as(kit: HubKit, user: str) -> dict[str, str]:
    resp = await kit.client.post("/api/v1/login", json={"user": user, "password": PASSWORD})
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def _call(kit: HubKit, who: dict[str, str], method: str, path: str, body: Any = None,
                status: int = 200) -> Any:
    resp = await kit.client.request(method, path, json=body, headers=who)
    answer = await resp.json()
    assert resp.status == status, answer
    return answer


async def _waves(kit: HubKit, who: dict[str, str], rid: int) -> list[tuple[str, int, int]]:
    answer = await _call(kit, who, "GET", f"/api/v1/rollouts/{rid}")
    return [(w["state"], w["succeeded"], w["failed"]) for w in answer["waves"]]


async def test_the_author_cannot_approve_a_rollout_and_nothing_is_sent_before_another_admin_does(kit: HubKit) -> None:
    release = keep_release(kit.data_dir, "9.1")
    zhang, li = await _as(kit, "zhang"), await _as(kit, "li")
    made = await _call(kit, zhang, "POST", "/api/v1/rollouts", {"release": "9.1", "waves": "v1,50%,100%"}, 201)
    assert made["state"] == "awaiting_approval" and made["author"] == "zhang"

    refused = await _call(kit, zhang, "POST", f"/api/v1/rollouts/{made['id']}/approve", None, 403)
    assert refused["error"] == "own_rollout" and "作者以外" in refused["detail"]
    town_admin = await _as(kit, "town-admin")
    await _call(kit, town_admin, "POST", f"/api/v1/rollouts/{made['id']}/approve", None, 403)
    assert await villages_offered(kit.hub.store, release, list(V)) == []

    approved = await _call(kit, li, "POST", f"/api/v1/rollouts/{made['id']}/approve")
    assert (approved["state"], approved["approver"]) == ("running", "li")
    assert await villages_offered(kit.hub.store, release, list(V)) == ["v1"]
    listed = await _call(kit, li, "GET", "/api/v1/rollouts")
    assert [(r["id"], r["release"], r["state"]) for r in listed["rollouts"]] == [(made["id"], release, "running")]
    assert [len(w["villages"]) for w in listed["rollouts"][0]["waves"]] == [1, 2, 2]


async def test_a_wave_starts_only_at_its_success_threshold_and_a_late_village_gets_the_last_wave(
        kit: HubKit) -> None:
    release = keep_release(kit.data_dir, "9.2")
    zhang, li = await _as(kit, "zhang"), await _as(kit, "li")
    made = await _call(kit, zhang, "POST", "/api/v1/rollouts",
                       {"release": release, "waves": "v1,50%,100%", "success_threshold": 100}, 201)
    rid = made["id"]
    await _call(kit, li, "POST", f"/api/v1/rollouts/{rid}/approve")
    store, down = kit.hub.store, kit.hub.down
    second = made["waves"][1]["villages"]

    await box_reports(store, "v1", "9.0", "downloading", target="9.2")
    await advance(store, down)
    assert await villages_offered(store, release, list(V)) == ["v1"], "the canary has not committed yet"
    await kit.add_village("v6")  # registered while the canary wave runs: joins the last wave
    await box_reports(store, "v1", "9.2")
    await advance(store, down)
    assert sorted(await villages_offered(store, release, list(V) + ["v6"])) == sorted(["v1", *second])
    assert await _waves(kit, li, rid) == [("done", 1, 0), ("running", 0, 0), ("waiting", 0, 0)]

    await box_reports(store, second[0], "9.2")
    await advance(store, down)
    assert await _waves(kit, li, rid) == [("done", 1, 0), ("running", 1, 0), ("waiting", 0, 0)]
    await box_reports(store, second[1], "9.2")
    await advance(store, down)
    last = await _call(kit, li, "GET", f"/api/v1/rollouts/{rid}")
    assert "v6" in last["waves"][2]["villages"] and last["waves"][2]["state"] == "running"
    assert sorted(await villages_offered(store, release, list(V) + ["v6"])) == [*V, "v6"]

    await kit.add_village("v7")  # registered while the last wave runs: gets it at once
    await advance(store, down)
    assert "v7" in await villages_offered(store, release, ["v7"])
    for vid in last["waves"][2]["villages"] + ["v7"]:
        await box_reports(store, vid, "9.2")
    await advance(store, down)
    done = await _call(kit, li, "GET", f"/api/v1/rollouts/{rid}")
    assert done["state"] == "finished" and done["waves"][2]["succeeded"] == 4  # v7 too


async def test_a_failure_pauses_the_rollout_with_the_boxs_reason_resume_accepts_it_and_abort_withdraws_the_offer(
        kit: HubKit) -> None:
    release = keep_release(kit.data_dir, "9.3")
    zhang, li = await _as(kit, "zhang"), await _as(kit, "li")
    made = await _call(kit, zhang, "POST", "/api/v1/rollouts", {"release": release, "waves": "v1,v2,100%"}, 201)
    rid = made["id"]
    await _call(kit, li, "POST", f"/api/v1/rollouts/{rid}/approve")
    store, down = kit.hub.store, kit.hub.down
    await box_reports(store, "v1", "9.0", "rolled_back", target="9.3",
                      last_error="version 9.3 exited with code 1 before its health check passed")
    await advance(store, down)
    paused = await _call(kit, li, "GET", f"/api/v1/rollouts/{rid}")
    assert paused["state"] == "paused" and "health check" in paused["reason"]
    assert paused["waves"][0]["failures"] == [
        {"village": "v1", "reason": "version 9.3 exited with code 1 before its health check passed"}]
    assert await villages_offered(store, release, list(V)) == ["v1", "v2"]

    await _call(kit, zhang, "POST", f"/api/v1/rollouts/{rid}/resume")
    await box_reports(store, "v2", "9.0", "downloading", target="9.3")
    await advance(store, down)
    assert (await _call(kit, li, "GET", f"/api/v1/rollouts/{rid}"))["state"] == "running", "v1 was accepted"
    await _call(kit, li, "POST", f"/api/v1/rollouts/{rid}/abort")
    await _call(kit, li, "POST", f"/api/v1/rollouts/{rid}/resume", None, 409)
    assert await villages_offered(store, release, list(V)) == [], "the offer is withdrawn where not taken"


async def test_a_rollout_with_bad_input_is_refused_with_a_reason_and_nothing_is_made(kit: HubKit) -> None:
    keep_release(kit.data_dir, "9.4")
    zhang = await _as(kit, "zhang")
    for body, code in (({"release": "9.9"}, "unknown_release"), ({"release": "../x"}, "bad_release"),
                       ({"release": "9.4", "waves": "10%,50%"}, "bad_waves"),
                       ({"release": "9.4", "waves": "50%,10%,100%"}, "bad_waves"),
                       ({"release": "9.4", "waves": "nowhere,100%"}, "canary_outside_scope"),
                       ({"release": "9.4", "scope": "town:elsewhere"}, "empty_scope"),
                       ({"release": "9.4", "success_threshold": 0}, "bad_threshold"),
                       ({"release": "9.4", "max_failures": -1}, "bad_threshold")):
        refused = await _call(kit, zhang, "POST", "/api/v1/rollouts", body, 422 if code in (
            "bad_release", "canary_outside_scope", "empty_scope") else 404 if code == "unknown_release" else 400)
        assert refused["error"] == code, (body, refused)
    assert (await _call(kit, zhang, "GET", "/api/v1/rollouts"))["rollouts"] == []


async def test_a_set_top_box_release_counts_a_village_once_all_its_stbs_of_the_model_advertise_it(
        kit: HubKit) -> None:
    release = keep_release(kit.data_dir, "3.1", target="stb:HG680")
    zhang, li = await _as(kit, "zhang"), await _as(kit, "li")
    made = await _call(kit, zhang, "POST", "/api/v1/rollouts", {"release": release, "waves": "v1,v2,100%"}, 201)
    await _call(kit, li, "POST", f"/api/v1/rollouts/{made['id']}/approve")
    store = kit.hub.store

    async def stbs_report(village: str, updated: int, failed: int = 0, count: int = 3) -> None:
        doc = {"version": "0.1.0", "stb": {"HG680": {"count": count, "versions": {}, "target_version": "3.1",
                                                     "updated": updated, "failed": failed,
                                                     "last_error": "image is for model ZXV10" if failed else None}}}
        async with store.transaction() as tx:
            await tx.record_status(village, True, None, 5, doc, {"version": "0.1.0"})

    await stbs_report("v1", 0, count=0)  # no HG680 there: the image is cached and nothing is left to update
    await stbs_report("v2", 2)
    await advance(store, kit.hub.down)
    assert await _waves(kit, li, made["id"]) == [("running", 1, 0), ("waiting", 0, 0)], "v2 has one STB to go"
    await stbs_report("v2", 2, failed=1)
    await advance(store, kit.hub.down)
    paused = await _call(kit, li, "GET", f"/api/v1/rollouts/{made['id']}")
    assert paused["state"] == "paused" and paused["waves"][0]["failures"] == [
        {"village": "v2", "reason": "image is for model ZXV10"}]


async def test_a_release_signed_by_a_key_rotated_while_the_hub_runs_can_be_rolled_out(kit: HubKit) -> None:
    await asyncio.to_thread(rotate_release_key, kit.data_dir)  # a new trust version, written by the CLI
    release = keep_release(kit.data_dir, "9.6")
    made = await _call(kit, await _as(kit, "zhang"), "POST", "/api/v1/rollouts", {"release": release}, 201)
    assert made["version"] == "9.6"
