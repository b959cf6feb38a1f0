"""Staff routes: the admin token guards them; the villages list, metrics and the Chinese admin page."""

from __future__ import annotations

import pytest

from .kit import HubKit

# A fixed id, not uuid4() at import: it is part of the test ids, which every xdist worker must collect alike.
NOTICE = "3f2c9d4e-8a71-4b0f-9c65-1d2e7a4b5c60"
ADMIN_ROUTES = [
    ("POST", "/api/v1/notices"),
    ("GET", "/api/v1/notices"),
    ("GET", f"/api/v1/notices/{NOTICE}"),
    ("POST", f"/api/v1/notices/{NOTICE}/publish"),
    ("POST", f"/api/v1/notices/{NOTICE}/withdraw"),
    ("POST", "/api/v1/blobs"),
    ("GET", "/api/v1/villages"),
    ("GET", "/api/v1/submissions"),
    ("POST", f"/api/v1/submissions/{NOTICE}/replies"),
    ("GET", "/metrics"),
    ("GET", "/admin/"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
@pytest.mark.parametrize("auth", [None, "Bearer wrong-token-0123456789", "Basic abc", "Bearer "])
async def test_admin_routes_are_401_without_the_token(kit: HubKit, method: str, path: str, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    resp = await kit.client.request(method, path, headers=headers, json={"title": "x"})
    assert resp.status == 401
    body = await resp.json()
    assert set(body) == {"error", "detail"}
    assert (await kit.client.get("/api/v1/notices", headers=kit.admin)).status == 200


async def test_the_villages_list_shows_town_and_enrollment(kit: HubKit) -> None:
    await kit.add_village("v1", name="小庄村", town="城关镇", edge_url="http://127.0.0.1:9/")
    await kit.enroll("v1")
    resp = await kit.client.get("/api/v1/villages", headers=kit.admin)
    answer = await resp.json()
    (v,) = answer["villages"]
    assert answer["next"] is None
    assert {k: v[k] for k in ("id", "name", "town", "online", "enrolled", "edge_url")} == {
        "id": "v1", "name": "小庄村", "town": "城关镇", "online": False, "enrolled": True,
        "edge_url": "http://127.0.0.1:9",
    }
    for key in ("last_status_at", "last_sync_at", "queue_depth", "stb_count", "version"):
        assert key in v


async def test_the_admin_page_is_in_chinese_and_escapes_resident_text(kit: HubKit) -> None:
    await kit.add_village("v1", name="小庄村")
    edge = await kit.enroll("v1")
    await edge.push(edge.batch(edge.next_entries([edge.submission_op(text="<script>alert(1)</script>")])))
    resp = await kit.client.get("/admin/", headers=kit.admin)
    assert resp.status == 200
    html = await resp.text()
    assert "小庄村" in html and "离线" in html and "意见反馈" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


async def test_a_browser_logs_in_to_the_admin_page_with_the_token_once(kit: HubKit) -> None:
    login = await kit.client.get("/admin/", headers={"Accept": "text/html"})
    assert login.status == 401 and "管理令牌" in await login.text()
    wrong = await kit.client.get("/admin/?token=nope", headers={"Accept": "text/html"})
    assert wrong.status == 401
    resp = await kit.client.get(f"/admin/?token={kit.token}", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/admin/"
    page = await kit.client.get("/admin/")  # the cookie jar now holds the session cookie
    assert page.status == 200 and "管理页面" in await page.text()
    # the cookie opens the page only, never the API
    assert (await kit.client.get("/api/v1/villages")).status == 401


async def test_metrics_are_prometheus_text(kit: HubKit) -> None:
    await kit.add_village("v1")
    await kit.add_village("v2")
    await kit.notice()
    edge = await kit.enroll("v1")
    await edge.push(edge.batch(edge.next_entries([edge.submission_op()])))
    resp = await kit.client.get("/metrics", headers=kit.admin)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await resp.text()
    lines = set(text.splitlines())
    assert "villagenet_hub_villages 2" in lines
    assert "villagenet_hub_villages_online 0" in lines
    assert "villagenet_hub_submissions_received_total 1" in lines
    # v1: the notice, then the feedback's case status (已受理); v2: the notice.
    assert 'villagenet_hub_down_feed_head{village="v1"} 2' in lines
    assert 'villagenet_hub_down_feed_head{village="v2"} 1' in lines
    assert "villagenet_hub_status_poll_failures_total 0" in lines
    assert "# TYPE villagenet_hub_submissions_received_total counter" in lines


async def test_unknown_routes_and_methods_answer_the_error_shape(kit: HubKit) -> None:
    resp = await kit.client.get("/api/v1/nothing-here")
    assert resp.status == 404 and set(await resp.json()) == {"error", "detail"}
    resp = await kit.client.delete("/api/v1/notices", headers=kit.admin)
    assert resp.status == 405 and set(await resp.json()) == {"error", "detail"}
