"""Publishing notices: scope decides which villages' down feeds get the op, late villages catch up."""

from __future__ import annotations

from protocol import codec
from protocol.feed import GENESIS, entry_hash, feed_name

from .kit import HubKit


async def _villages(kit: HubKit) -> None:
    await kit.add_village("a1", town="east")
    await kit.add_village("a2", town="east")
    await kit.add_village("b1", town="west")


async def test_a_city_notice_goes_into_every_village_down_feed(kit: HubKit) -> None:
    await _villages(kit)
    notice = await kit.notice(scope="city")
    for v in ("a1", "a2", "b1"):
        ops = await kit.down_ops(v)
        assert [(o["op"], o["kind"], o["id"]) for o in ops] == [("put", "notice", notice["id"])]


async def test_a_village_notice_goes_only_to_that_village(kit: HubKit) -> None:
    await _villages(kit)
    notice = await kit.notice(scope="village:a2")
    assert [o["id"] for o in await kit.down_ops("a2")] == [notice["id"]]
    assert await kit.down_ops("a1") == []
    assert await kit.down_ops("b1") == []


async def test_a_town_notice_goes_to_the_villages_of_that_town(kit: HubKit) -> None:
    await _villages(kit)
    notice = await kit.notice(scope="town:east")
    assert [o["id"] for o in await kit.down_ops("a1")] == [notice["id"]]
    assert [o["id"] for o in await kit.down_ops("a2")] == [notice["id"]]
    assert await kit.down_ops("b1") == []


async def test_the_notice_op_body_is_exactly_the_protocol_body(kit: HubKit) -> None:
    await kit.add_village("a1")
    notice = await kit.notice(priority="urgent", expires_at="2099-01-01T08:00:00+08:00")
    (op,) = await kit.down_ops("a1")
    assert op["body"] == {
        "title": "停水通知",
        "body": "明天上午停水。",
        "area": "community",
        "priority": "urgent",
        "scope": "city",
        "published_at": notice["published_at"],
        "expires_at": "2099-01-01T00:00:00Z",
    }
    assert op["blobs"] == []


async def test_the_down_feed_is_a_hash_chain(kit: HubKit) -> None:
    await kit.add_village("a1")
    await kit.notice()
    await kit.notice()
    rows = await kit.hub.store.down_entries_after("a1", 0, 10)
    prev = GENESIS
    for seq, (row_seq, row_prev, op, row_hash) in enumerate(rows, start=1):
        assert (row_seq, row_prev) == (seq, prev)
        assert row_hash == entry_hash(feed_name("down", "a1"), seq, prev, codec.decode(op))
        prev = row_hash


async def test_a_village_added_after_publishing_receives_the_live_notices(kit: HubKit) -> None:
    await kit.add_village("a1", town="east")
    city = await kit.notice(scope="city")
    town = await kit.notice(scope="town:east")
    withdrawn = await kit.notice(scope="city")
    resp = await kit.client.post(f"/api/v1/notices/{withdrawn['id']}/withdraw", headers=kit.admin)
    assert resp.status == 200
    draft = await kit.notice(scope="city", publish=False)
    other_village = await kit.notice(scope="village:a1")

    await kit.add_village("a9", town="east")
    ids = [o["id"] for o in await kit.down_ops("a9")]
    assert ids == [city["id"], town["id"]]
    assert withdrawn["id"] not in ids and draft["id"] not in ids and other_village["id"] not in ids


async def test_a_late_village_of_another_town_gets_only_city_notices(kit: HubKit) -> None:
    await kit.add_village("a1", town="east")
    city = await kit.notice(scope="city")
    await kit.notice(scope="town:east")
    await kit.add_village("b9", town="west")
    assert [o["id"] for o in await kit.down_ops("b9")] == [city["id"]]


async def test_an_expired_notice_is_not_given_to_a_late_village(kit: HubKit) -> None:
    await kit.add_village("a1")
    notice = await kit.notice(expires_at="2099-01-01T00:00:00Z")
    async with kit.hub.store.transaction() as tx:  # let it expire without waiting
        await tx._exec("UPDATE notices SET expires_at = ? WHERE id = ?", (tx.now - 1, notice["id"]))
    await kit.add_village("a2")
    assert await kit.down_ops("a2") == []


async def test_withdrawing_appends_a_delete_to_every_village_that_got_the_notice(kit: HubKit) -> None:
    await _villages(kit)
    notice = await kit.notice(scope="town:east")
    resp = await kit.client.post(f"/api/v1/notices/{notice['id']}/withdraw", headers=kit.admin)
    assert (await resp.json())["state"] == "withdrawn"
    for v in ("a1", "a2"):
        assert [(o["op"], o["id"]) for o in await kit.down_ops(v)] == [("put", notice["id"]), ("delete", notice["id"])]
    assert await kit.down_ops("b1") == []


async def test_publishing_twice_appends_once_and_a_withdrawn_notice_cannot_be_published(kit: HubKit) -> None:
    await kit.add_village("a1")
    notice = await kit.notice()
    again = await kit.client.post(f"/api/v1/notices/{notice['id']}/publish", headers=kit.admin)
    assert again.status == 200
    assert len(await kit.down_ops("a1")) == 1
    await kit.client.post(f"/api/v1/notices/{notice['id']}/withdraw", headers=kit.admin)
    resp = await kit.client.post(f"/api/v1/notices/{notice['id']}/publish", headers=kit.admin)
    assert resp.status == 409
    assert len(await kit.down_ops("a1")) == 2


async def test_a_draft_is_not_sent_down(kit: HubKit) -> None:
    await kit.add_village("a1")
    draft = await kit.notice(publish=False)
    assert draft["state"] == "draft"
    assert await kit.down_ops("a1") == []


async def test_a_scope_naming_no_registered_place_is_unprocessable(kit: HubKit) -> None:
    await kit.add_village("a1", town="east")
    for scope in ("town:nowhere", "village:nobody"):
        body = {"title": "t", "body": "b", "area": "party", "scope": scope}
        resp = await kit.client.post("/api/v1/notices", json=body, headers=kit.admin)
        assert resp.status == 422
        assert (await resp.json())["error"] == "unknown_scope"
    resp = await kit.client.get("/api/v1/notices", headers=kit.admin)
    assert (await resp.json())["notices"] == []


async def test_notices_are_listed_newest_first_with_a_cursor(kit: HubKit) -> None:
    await kit.add_village("a1")
    made = [await kit.notice(publish=False, title=f"通知 {i}") for i in range(3)]
    resp = await kit.client.get("/api/v1/notices?limit=2", headers=kit.admin)
    page = await resp.json()
    assert [n["id"] for n in page["notices"]] == [made[2]["id"], made[1]["id"]]
    assert page["next"] is not None
    resp = await kit.client.get(f"/api/v1/notices?limit=2&cursor={page['next']}", headers=kit.admin)
    rest = await resp.json()
    assert [n["id"] for n in rest["notices"]] == [made[0]["id"]]
    assert rest["next"] is None


async def test_a_notice_of_ten_thousand_chinese_characters_fits_even_when_escaped(kit: HubKit) -> None:
    await kit.add_village("a1")
    body = {"title": "长" * 200, "body": "长" * 10_000, "area": "party", "scope": "city"}
    resp = await kit.client.post("/api/v1/notices", json=body, headers=kit.admin)  # json= escapes as \uXXXX
    assert resp.status == 201
