"""Bad input on every hub route is a 4xx with `{error, detail}`, and changes nothing at the hub."""

from __future__ import annotations

import json
import uuid
from typing import Any

from .kit import HubKit, TestEdge

BIG = b"{" + b" " * (2 * 1024 * 1024) + b"}"
NOTICE_OK = {"title": "停水", "body": "明天停水", "area": "community", "scope": "city"}
UNKNOWN = str(uuid.uuid4())


def _notice(**changes: Any) -> bytes:
    body = {**NOTICE_OK, **changes}
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


# (method, path, body, expected status); paths with {n} / {s} get a real notice / submission id.
CASES: list[tuple[str, str, bytes, int]] = [
    # enrollment
    ("POST", "/api/v1/enroll", b"not json", 400),
    ("POST", "/api/v1/enroll", b"[1, 2]", 400),
    ("POST", "/api/v1/enroll", b'{"token": "t", "public_key": "AAAA"}', 400),
    ("POST", "/api/v1/enroll", b'{"village_id": "v1", "token": 5, "public_key": "AAAA"}', 400),
    ("POST", "/api/v1/enroll", b'{"village_id": "v1", "token": "t", "public_key": "%%%"}', 400),
    ("POST", "/api/v1/enroll", b'{"village_id": "v1", "token": "t", "public_key": "AAAA"}', 400),
    ("POST", "/api/v1/enroll", b'{"village_id": "../v1", "token": "t", "public_key": "AAAA"}', 400),
    ("POST", "/api/v1/enroll", BIG, 413),
    # notices
    ("POST", "/api/v1/notices", b"not json", 400),
    ("POST", "/api/v1/notices", b'"a string"', 400),
    ("POST", "/api/v1/notices", _notice(title=...), 400),
    ("POST", "/api/v1/notices", _notice(title=12), 400),
    ("POST", "/api/v1/notices", _notice(title=""), 400),
    ("POST", "/api/v1/notices", _notice(title="长" * 201), 400),
    ("POST", "/api/v1/notices", _notice(body="长" * 10001), 400),
    ("POST", "/api/v1/notices", _notice(area="weather"), 400),
    ("POST", "/api/v1/notices", _notice(area=None), 400),
    ("POST", "/api/v1/notices", _notice(priority="panic"), 400),
    ("POST", "/api/v1/notices", _notice(scope="planet"), 400),
    ("POST", "/api/v1/notices", _notice(scope=["city"]), 400),
    ("POST", "/api/v1/notices", _notice(scope="village:a b"), 400),
    ("POST", "/api/v1/notices", _notice(expires_at="tomorrow"), 400),
    ("POST", "/api/v1/notices", _notice(expires_at="2099-01-01T00:00:00"), 400),
    ("POST", "/api/v1/notices", _notice(expires_at="2001-01-01T00:00:00Z"), 422),
    ("POST", "/api/v1/notices", _notice(attachments="x"), 400),
    ("POST", "/api/v1/notices", _notice(attachments=[{"sha256": "XYZ"}]), 400),
    ("POST", "/api/v1/notices", _notice(attachments=[{"sha256": "a" * 64}] * 33), 400),
    ("POST", "/api/v1/notices", BIG, 413),
    ("POST", "/api/v1/notices/not-a-uuid/publish", b"", 400),
    ("POST", f"/api/v1/notices/{UNKNOWN}/publish", b"", 404),
    ("POST", "/api/v1/notices/{n}/publish", BIG, 413),
    ("POST", "/api/v1/notices/{n}/publish", b"garbage", 400),
    ("POST", "/api/v1/notices/not-a-uuid/withdraw", b"", 400),
    ("POST", f"/api/v1/notices/{UNKNOWN}/withdraw", b"", 404),
    ("POST", "/api/v1/notices/{n}/withdraw", BIG, 413),
    ("GET", "/api/v1/notices/not-a-uuid", b"", 400),
    ("GET", "/api/v1/notices?state=lost", b"", 400),
    ("GET", "/api/v1/notices?cursor=abc", b"", 400),
    ("GET", "/api/v1/notices?limit=0", b"", 400),
    ("GET", "/api/v1/notices?limit=5000", b"", 400),
    # villages and submissions
    ("GET", "/api/v1/villages?limit=many", b"", 400),
    ("GET", "/api/v1/villages?cursor=a%20b", b"", 400),
    ("GET", "/api/v1/submissions?village=a%20b", b"", 400),
    ("GET", "/api/v1/submissions?cursor=-1", b"", 400),
    ("POST", "/api/v1/submissions/not-a-uuid/replies", b'{"text": "hi"}', 400),
    ("POST", f"/api/v1/submissions/{UNKNOWN}/replies", b'{"text": "hi"}', 404),
    ("POST", "/api/v1/submissions/{s}/replies", b"not json", 400),
    ("POST", "/api/v1/submissions/{s}/replies", b"{}", 400),
    ("POST", "/api/v1/submissions/{s}/replies", b'{"text": 5}', 400),
    ("POST", "/api/v1/submissions/{s}/replies", b'{"text": "   "}', 400),
    ("POST", "/api/v1/submissions/{s}/replies", b'{"text": "ok", "by": ["x"]}', 400),
    ("POST", "/api/v1/submissions/{s}/replies", BIG, 413),
    # content
    ("GET", "/content/not-hex", b"", 400),
    ("GET", "/content/" + "A" * 64, b"", 400),
]

# Signed by the enrolled edge of v1, so only the input itself is wrong.
SIGNED_CASES: list[tuple[str, str, bytes, int]] = [
    ("GET", "/api/v1/sync/v1/down?after=-1", b"", 400),
    ("GET", "/api/v1/sync/v1/down?after=abc", b"", 400),
    ("GET", "/api/v1/sync/v1/down?max_bytes=0", b"", 400),
    ("GET", "/api/v1/sync/v1/down?wait=-1", b"", 400),
    ("GET", "/api/v1/sync/v1/down?wait=nan", b"", 400),
    ("POST", "/api/v1/sync/v1/up", b"not msgpack", 400),
    ("POST", "/api/v1/sync/v1/up", BIG, 400),
    ("POST", "/api/v1/sync/v1/up", b"\x81\xa1v\x02", 400),  # {"v": 2}
    ("POST", "/api/v1/sync/v1/up", b"\x00" * (9 * 1024 * 1024), 413),
]

UNSIGNED_CASES: list[tuple[str, str, bytes, int]] = [
    ("GET", "/api/v1/sync/v1/down", b"", 401),
    ("GET", "/api/v1/sync/v1/up", b"", 401),
    ("POST", "/api/v1/sync/v1/up", b"x", 401),
    ("GET", "/api/v1/sync/nowhere/down", b"", 404),
    ("GET", "/api/v1/sync/a%20b/down", b"", 400),
]


async def _snapshot(kit: HubKit) -> tuple[Any, ...]:
    store = kit.hub.store
    notices = [(n.id, n.state) for n in await store.list_notices(None, None, 1000)]
    held = await store.list_submissions(None, None, 1000)
    subs = [s.id for s in held]
    villages = [(v.id, v.edge_key, v.enroll_token_hash) for v in await store.list_villages()]
    replies = await store.replies_for(held)
    return notices, subs, villages, await store.down_heads(), await store.up_head("v1"), replies


async def test_bad_input_on_every_route_is_a_4xx_with_error_and_detail_and_changes_nothing(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge: TestEdge = await kit.enroll("v1")
    draft = await kit.notice(publish=False)
    sub_id = str(uuid.uuid4())
    await edge.push(edge.batch(edge.next_entries([edge.submission_op(sub_id)])))
    before = await _snapshot(kit)

    failures = []
    for method, raw_path, body, expected in CASES + SIGNED_CASES + UNSIGNED_CASES:
        path = raw_path.replace("{n}", draft["id"]).replace("{s}", sub_id)
        headers = {"Content-Type": "application/json"}
        if (method, raw_path, body, expected) in CASES:
            headers.update(kit.admin)
        elif (method, raw_path, body, expected) in SIGNED_CASES:
            headers.update(edge.signed(method, path, body))
        resp = await kit.client.request(method, path, data=body, headers=headers)
        try:
            answer = await resp.json(content_type=None)
        except ValueError:
            answer = None
        ok = resp.status == expected and isinstance(answer, dict) and set(answer) >= {"error", "detail"}
        ok = ok and isinstance(answer, dict) and isinstance(answer["detail"], str) and answer["detail"] != ""
        if not ok:
            failures.append((method, path[:80], len(body), expected, resp.status, answer))
    assert failures == []
    assert await _snapshot(kit) == before
