"""Residents' submissions at the edge: durable, idempotent, and bad input refused without a trace."""

from __future__ import annotations

import sqlite3
import uuid

import pytest


def feedback(sid: str | None = None, text: str = "路灯坏了") -> dict:
    return {"id": sid or str(uuid.uuid4()), "kind": "feedback", "device_id": "stb-1", "body": {"text": text}}


def count_rows(edge_dir, table: str) -> int:
    with sqlite3.connect(edge_dir / "edge.db") as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


async def test_a_submission_is_queued_with_201_and_kept_on_disk(edge_client, edge_dir, stb):
    resp = await edge_client.post("/api/v1/submissions", json=feedback(), headers=stb.headers)
    assert resp.status == 201
    answer = await resp.json()
    assert answer["state"] == "queued"
    # Read back through a separate connection: the commit is on disk before the answer.
    assert count_rows(edge_dir, "submissions") == 1
    assert count_rows(edge_dir, "up_entries") == 1


async def test_the_same_id_and_body_again_gets_200_and_no_second_entry(edge_client, edge_dir, stb):
    sub = feedback()
    assert (await edge_client.post("/api/v1/submissions", json=sub, headers=stb.headers)).status == 201
    again = await edge_client.post("/api/v1/submissions", json=sub, headers=stb.headers)
    assert again.status == 200
    assert (await again.json())["id"] == sub["id"]
    assert count_rows(edge_dir, "up_entries") == 1


async def test_the_same_id_with_another_body_gets_409(edge_client, edge_dir, stb):
    sub = feedback()
    await edge_client.post("/api/v1/submissions", json=sub, headers=stb.headers)
    resp = await edge_client.post("/api/v1/submissions", json=feedback(sub["id"], text="别的内容"), headers=stb.headers)
    assert resp.status == 409
    assert (await resp.json())["error"] == "conflict"
    assert count_rows(edge_dir, "up_entries") == 1


async def test_a_queued_submission_can_be_read_back_with_its_state(edge_client, stb):
    sub = feedback()
    await edge_client.post("/api/v1/submissions", json=sub, headers=stb.headers)
    resp = await edge_client.get(f"/api/v1/submissions/{sub['id']}", headers=stb.headers)
    assert resp.status == 200
    view = await resp.json()
    assert view["state"] == "queued" and view["kind"] == "feedback" and view["replies"] == []


BAD_SUBMISSIONS = [
    ("not json", b"{not json", 400, "not_json"),
    ("a list", b"[1, 2]", 400, "wrong_type"),
    ("missing kind", b'{"id": "9b2f9c4e-6a53-4a4e-9a1c-1b7d0c0d7e11", "device_id": "d", "body": {}}', 400, "missing_field"),
    ("bad uuid", b'{"id": "nope", "kind": "feedback", "device_id": "d", "body": {"text": "x"}}', 422, "bad_uuid"),
    ("unknown kind", b'{"id": "9b2f9c4e-6a53-4a4e-9a1c-1b7d0c0d7e11", "kind": "hack", "device_id": "d", "body": {}}', 422, "unknown_kind"),
    ("body not an object", b'{"id": "9b2f9c4e-6a53-4a4e-9a1c-1b7d0c0d7e11", "kind": "feedback", "device_id": "d", "body": "x"}', 400, "wrong_type"),
    ("device id a number", b'{"id": "9b2f9c4e-6a53-4a4e-9a1c-1b7d0c0d7e11", "kind": "feedback", "device_id": 5, "body": {"text": "x"}}', 400, "wrong_type"),
    ("rating out of range", b'{"id": "9b2f9c4e-6a53-4a4e-9a1c-1b7d0c0d7e11", "kind": "rating", "device_id": "d", "body": {"submission_id": "9b2f9c4e-6a53-4a4e-9a1c-1b7d0c0d7e12", "score": 9}}', 422, "wrong_type"),
    ("feedback with neither text nor choice", b'{"id": "9b2f9c4e-6a53-4a4e-9a1c-1b7d0c0d7e11", "kind": "feedback", "device_id": "d", "body": {}}', 422, "missing_field"),
    ("unknown field", b'{"id": "9b2f9c4e-6a53-4a4e-9a1c-1b7d0c0d7e11", "kind": "checkin", "device_id": "d", "body": {}, "admin": true}', 400, "unknown_field"),
    ("2 MB body", b'{"id": "9b2f9c4e-6a53-4a4e-9a1c-1b7d0c0d7e11", "kind": "feedback", "device_id": "d", "body": {"text": "' + b"x" * 2_000_000 + b'"}}', 413, "too_large"),
]


@pytest.mark.parametrize("name,raw,status,code", BAD_SUBMISSIONS, ids=[b[0] for b in BAD_SUBMISSIONS])
async def test_bad_submissions_are_refused_with_a_reason_and_change_nothing(edge_client, edge_dir, name, raw, status, code):
    resp = await edge_client.post("/api/v1/submissions", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status == status
    answer = await resp.json()
    assert answer["error"] == code and answer["detail"]
    assert count_rows(edge_dir, "submissions") == 0
    assert count_rows(edge_dir, "up_entries") == 0


async def test_reading_a_submission_with_a_bad_or_unknown_id_is_a_clear_4xx(edge_client, stb):
    bad = await edge_client.get("/api/v1/submissions/not-a-uuid", headers=stb.headers)
    assert bad.status == 400 and (await bad.json())["error"] == "bad_uuid"
    unknown = await edge_client.get(f"/api/v1/submissions/{uuid.uuid4()}", headers=stb.headers)
    assert unknown.status == 404 and (await unknown.json())["error"] == "not_found"


async def test_notices_with_an_unknown_area_are_refused(edge_client):
    resp = await edge_client.get("/api/v1/notices?area=casino")
    assert resp.status == 400 and (await resp.json())["error"] == "unknown_area"


async def test_content_with_a_malformed_hash_is_refused_and_a_missing_one_is_404(edge_client):
    assert (await edge_client.get("/content/../../etc/passwd")).status in (400, 404)
    assert (await edge_client.get("/content/xyz")).status == 400
    assert (await edge_client.get("/content/" + "a" * 64)).status == 404


async def test_an_unknown_route_answers_with_the_error_shape(edge_client):
    resp = await edge_client.get("/api/v1/nothing-here")
    assert resp.status == 404
    assert set(await resp.json()) >= {"error", "detail"}


async def test_many_residents_submitting_at_once_each_get_one_answer_and_duplicates_count_once(edge_client, edge_dir,
                                                                                              stb):
    import asyncio

    subs = [feedback() for _ in range(40)]
    # Each submission sent twice at the same moment: they land in the same group commit.
    answers = await asyncio.gather(*(edge_client.post("/api/v1/submissions", json=s, headers=stb.headers) for s in subs + subs))
    statuses = sorted(a.status for a in answers)
    assert statuses.count(201) == 40 and statuses.count(200) == 40
    assert count_rows(edge_dir, "submissions") == 40
    assert count_rows(edge_dir, "up_entries") == 40
