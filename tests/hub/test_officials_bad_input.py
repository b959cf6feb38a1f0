"""Bad input on the officials' routes is a 4xx with `{error, detail}` and changes nothing at the hub."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .kit import HubKit
from .official_kit import body_of, official, two_towns

BIG = b"{" + b" " * (128 * 1024) + b"}"


def _json(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


# (method, path, body, expected status); {n} is a notice of the editor's in review.
CASES: list[tuple[str, str, bytes, int]] = [
    ("POST", "/api/v1/users", b"not json", 400),
    ("POST", "/api/v1/users", b"[]", 400),
    ("POST", "/api/v1/users", _json(user="x1", roles=["editor"], scope="town:east"), 400),  # no password
    ("POST", "/api/v1/users", _json(user="x1", roles=[5], scope="town:east", password="good-password"), 400),
    ("POST", "/api/v1/users", _json(user="x1", roles="editor", scope=7, password="good-password"), 400),
    ("POST", "/api/v1/users", _json(user="x1", roles="editor", scope="unit:nowhere", password="good-password"), 422),
    ("POST", "/api/v1/users", BIG, 413),
    ("POST", "/api/v1/users/nobody/disable", b"", 404),
    ("POST", "/api/v1/users/ed/disable", b"garbage", 400),
    ("POST", "/api/v1/towns", _json(id="a b", name="镇"), 400),
    ("POST", "/api/v1/towns", _json(id="t9", name=""), 400),
    ("POST", "/api/v1/units", _json(id="u1", name="所", parent="village:e1"), 400),
    ("POST", "/api/v1/units", _json(id="u1", name="所", parent="town:nowhere"), 422),
    ("POST", "/api/v1/villages", _json(id="v9", name="村"), 400),  # no town
    ("POST", "/api/v1/villages", _json(id="../v9", name="村", town="east"), 400),
    ("POST", "/api/v1/villages", _json(id="e1", name="村", town="west"), 409),  # e1 is in east
    ("PATCH", "/api/v1/notices/{n}", _json(title="改"), 409),  # in review
    ("PATCH", "/api/v1/notices/not-a-uuid", _json(title="改"), 400),
    ("POST", "/api/v1/notices/{n}/reject", _json(reason=""), 400),
    ("POST", "/api/v1/notices/{n}/reject", _json(reason="长" * 501), 400),
    ("POST", "/api/v1/notices/{n}/reject", b"[1]", 400),
    ("POST", "/api/v1/notices/{n}/submit", BIG, 413),
    ("POST", "/api/v1/notices", _json(title="t", body="b", area="party", scope="city", publish_at="soon"), 400),
    ("POST", "/api/v1/notices", _json(title="t", body="b", area="party", scope="city", id="mine"), 400),
    ("POST", "/api/v1/notices", _json(title="t", body="b", area="party", scope="city",
                                      publish_at="2099-01-02T00:00:00Z", expires_at="2099-01-01T00:00:00Z"), 422),
    ("GET", "/api/v1/audit?since=abc", b"", 400),
    ("GET", "/api/v1/notices?state=lost", b"", 400),
]


def _snapshot(kit: HubKit) -> tuple[Any, ...]:
    with sqlite3.connect(kit.data_dir / "hub.db") as db:
        return tuple(db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                     for t in ("towns", "villages", "units", "officials", "notices", "notice_targets", "audit_log",
                               "down_entries"))


async def test_bad_input_on_the_officials_routes_is_a_4xx_and_changes_nothing(kit: HubKit) -> None:
    await two_towns(kit)
    await official(kit, "ed", "editor", "town:east")
    notice = await body_of(await kit.client.post("/api/v1/notices", headers=kit.admin, json={
        "title": "t", "body": "b", "area": "party", "scope": "village:e1"}))
    await kit.client.post(f"/api/v1/notices/{notice['id']}/submit", headers=kit.admin)
    before = _snapshot(kit)
    failures = []
    for method, raw_path, body, expected in CASES:
        path = raw_path.replace("{n}", notice["id"])
        headers = {**kit.admin, "Content-Type": "application/json"}
        resp = await kit.client.request(method, path, data=body, headers=headers)
        answer = await resp.json(content_type=None)
        ok = resp.status == expected and isinstance(answer, dict) and set(answer) >= {"error", "detail"}
        if not ok or not answer["detail"]:
            failures.append((method, path, body[:60], expected, resp.status, answer))
    assert failures == []
    assert _snapshot(kit) == before
