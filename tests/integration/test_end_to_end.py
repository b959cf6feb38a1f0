"""The spine end to end, each part its own real process: notices down, submissions up, replies back, status pulled."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import uuid

from tests.device_kit import Residents

from .system import System, http, wait_for


def notice_titles(edge_url: str) -> set[str]:
    status, body, _ = http("GET", edge_url + "/api/v1/notices")
    assert status == 200
    return {n["title"] for n in body["notices"]}


def test_a_city_notice_reaches_the_edge_and_one_for_another_village_does_not(two_villages: System):
    s = two_villages
    s.hub.start(ready_path="/api/v1/trust")
    edge = s.edges["v1"].start()
    s.publish("全市停水通知", "city")
    s.publish("二村内部通知", "village:v2")
    s.publish("一村内部通知", "village:v1")
    titles = wait_for("both notices for v1", lambda: {"全市停水通知", "一村内部通知"} <= notice_titles(edge.url) and notice_titles(edge.url))
    assert "二村内部通知" not in titles


def feedback(i: int) -> dict:
    return {"id": str(uuid.uuid4()), "kind": "feedback", "device_id": f"stb-{i % 7}", "body": {"text": f"意见{i}"}}


def test_submissions_made_offline_survive_kill_9_and_reach_the_hub_exactly_once(two_villages: System):
    s = two_villages
    edge = s.edges["v1"].start()  # the hub is not running: the line is down
    db_path = s.edge_dir("v1") / "edge.db"
    subs = [feedback(i) for i in range(100)]
    residents = Residents(edge.url)
    for i, sub in enumerate(subs):
        status, body, _ = residents.post(sub)
        assert status == 201 and body["state"] == "queued"
        # Another connection sees it at once: the 201 came after the commit.
        with sqlite3.connect(db_path) as conn:
            assert conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == i + 1
    edge.kill_hard()

    s.hub.start(ready_path="/api/v1/trust")
    edge.start()
    held = wait_for("100 submissions at the hub", lambda: len(s.hub_submissions("v1")) >= 100 and s.hub_submissions("v1"), timeout_s=30)
    assert sorted(h["id"] for h in held) == sorted(sub["id"] for sub in subs)

    status, body, _ = residents.post(subs[0])
    assert status == 200 and body["state"] == "delivered"
    status, body, _ = residents.post({**subs[0], "body": {"text": "改过的"}})
    assert status == 409 and body["error"] == "conflict"
    assert len(s.hub_submissions("v1")) == 100


def test_a_reply_at_the_hub_shows_as_answered_at_the_edge(two_villages: System):
    s = two_villages
    s.hub.start(ready_path="/api/v1/trust")
    edge = s.edges["v1"].start()
    sub = feedback(1)
    residents = Residents(edge.url)
    assert residents.post(sub)[0] == 201
    wait_for("the submission at the hub", lambda: s.hub_submissions("v1"))
    wait_for("delivered", lambda: residents.get(sub["id"])[1]["state"] == "delivered")
    status, _ = s.admin("POST", f"/api/v1/submissions/{sub['id']}/replies", {"text": "已安排电工明天维修。"})
    assert status == 201
    view = wait_for("the reply at the edge", lambda: (v := residents.get(sub["id"])[1])["state"] == "answered" and v)
    assert view["replies"][0]["text"] == "已安排电工明天维修。"


def test_a_notice_attachment_is_fetched_verified_and_served_with_range(two_villages: System):
    s = two_villages
    s.hub.start(ready_path="/api/v1/trust")
    edge = s.edges["v1"].start()
    blob = os.urandom(300_000)
    sha = hashlib.sha256(blob).hexdigest()
    status, uploaded = s.admin("POST", "/api/v1/blobs", raw=blob, headers={"Content-Type": "application/octet-stream"})
    assert status in (200, 201) and uploaded == {"sha256": sha, "size": len(blob)}
    s.publish("带图片的通知", "city", attachments=[{"sha256": sha, "mime": "image/jpeg"}])

    def served() -> bool:
        return http("GET", f"{edge.url}/content/{sha}")[0] == 200

    wait_for("the blob at the edge", served)
    status, body, headers = http("GET", f"{edge.url}/content/{sha}", headers={"Range": "bytes=1000-1999"})
    assert status == 206 and body == blob[1000:2000]
    assert headers["Content-Range"] == f"bytes 1000-1999/{len(blob)}"
    etag = headers["ETag"]
    assert http("GET", f"{edge.url}/content/{sha}", headers={"If-None-Match": etag})[0] == 304
    notices = http("GET", edge.url + "/api/v1/notices")[1]["notices"]
    assert notices[0]["attachments"][0]["url"] == f"/content/{sha}"


def test_the_hub_shows_an_edge_online_from_its_signed_status_and_offline_after_it_stops(two_villages: System):
    s = two_villages
    s.hub.start(ready_path="/api/v1/trust")
    edge = s.edges["v1"].start()

    def village(vid: str) -> dict:
        status, body = s.admin("GET", "/api/v1/villages")
        assert status == 200
        return next(v for v in body["villages"] if v["id"] == vid)

    online = wait_for("v1 online", lambda: village("v1")["online"] and village("v1"))
    assert online["last_status_at"] and online["version"]
    assert village("v2")["online"] is False  # never started
    edge.stop()
    wait_for("v1 offline", lambda: village("v1")["online"] is False)
