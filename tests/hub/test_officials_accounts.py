"""Accounts and the org tree through the API: an admin manages them only inside its scope, names come with ids."""

from __future__ import annotations

from .kit import HubKit
from .official_kit import PASSWORD, body_of, official, two_towns

EDITOR = {"user": "wang", "name": "王五", "roles": "editor", "password": PASSWORD}


async def test_a_town_admin_makes_accounts_in_its_town_only(kit: HubKit) -> None:
    await two_towns(kit)
    admin = await official(kit, "zhao", "admin", "town:east")
    made = await kit.client.post("/api/v1/users", headers=admin, json={**EDITOR, "scope": "village:e1"})
    assert made.status == 201
    answer = await body_of(made)
    assert answer["id"] == "wang" and answer["scope_name"] == "东庄村" and answer["roles"] == ["editor"]
    for scope in ("village:w1", "town:west", "city"):
        resp = await kit.client.post("/api/v1/users", headers=admin, json={**EDITOR, "user": "other", "scope": scope})
        assert resp.status == 403 and (await body_of(resp))["error"] == "out_of_scope", scope
    listed = await body_of(await kit.client.get("/api/v1/users", headers=admin))
    assert sorted(u["user"] for u in listed["users"]) == ["wang", "zhao"]
    assert await kit.hub.store.get_official("other") is None


async def test_a_town_admin_cannot_take_over_or_disable_an_account_of_another_town(kit: HubKit) -> None:
    await two_towns(kit)
    admin = await official(kit, "zhao", "admin", "town:east")
    west = await official(kit, "qian", "editor", "town:west")
    reset = await kit.client.post("/api/v1/users", headers=admin, json={**EDITOR, "user": "qian", "scope": "town:east"})
    assert reset.status == 403
    disable = await kit.client.post("/api/v1/users/qian/disable", headers=admin)
    assert disable.status == 403 and (await body_of(disable))["error"] == "out_of_scope"
    assert (await kit.client.get("/api/v1/me", headers=west)).status == 200
    account = await kit.hub.store.get_official("qian")
    assert account is not None and account.scope == "town:west" and account.disabled_at is None


async def test_an_editor_cannot_manage_accounts(kit: HubKit) -> None:
    await two_towns(kit)
    editor = await official(kit, "wang", "editor", "town:east")
    resp = await kit.client.post("/api/v1/users", headers=editor, json={**EDITOR, "user": "x1", "scope": "village:e1"})
    assert resp.status == 403 and (await body_of(resp))["error"] == "forbidden"
    assert (await kit.client.get("/api/v1/users", headers=editor)).status == 403


async def test_the_org_tree_shows_names_and_only_the_town_in_scope(kit: HubKit) -> None:
    await two_towns(kit)
    admin = await official(kit, "zhao", "admin", "town:east")
    unit = await kit.client.post("/api/v1/units", headers=admin, json={"id": "mzb-east", "name": "城关镇民政办",
                                                                       "parent": "town:east"})
    assert unit.status == 201
    city_unit = await kit.client.post("/api/v1/units", headers=admin, json={"id": "mzj", "name": "民政局",
                                                                            "parent": "city"})
    assert city_unit.status == 403
    tree = await body_of(await kit.client.get("/api/v1/org", headers=admin))
    assert tree["units"] == []
    (town,) = tree["towns"]
    assert town["id"] == "east" and town["name"] == "城关镇"
    assert town["villages"] == [{"id": "e1", "name": "东庄村"}, {"id": "e2", "name": "南庄村"},
                                {"id": "e3", "name": "北庄村"}]
    assert town["units"] == [{"id": "mzb-east", "name": "城关镇民政办"}]


async def test_a_town_admin_registers_a_village_in_its_town_and_not_elsewhere(kit: HubKit) -> None:
    await two_towns(kit)
    admin = await official(kit, "zhao", "admin", "town:east")
    resp = await kit.client.post("/api/v1/villages", headers=admin, json={"id": "e4", "name": "新村", "town": "east"})
    assert resp.status == 201
    assert await body_of(resp) == {"id": "e4", "name": "新村", "town": "east", "town_name": "城关镇"}
    other = await kit.client.post("/api/v1/villages", headers=admin, json={"id": "w9", "name": "外村", "town": "west"})
    assert other.status == 403
    assert await kit.hub.store.get_village("w9") is None


async def test_bad_account_input_is_a_4xx_and_changes_nothing(kit: HubKit) -> None:
    await two_towns(kit)
    bad = [
        {**EDITOR, "scope": "town:east", "roles": "mayor"},
        {**EDITOR, "scope": "town:east", "roles": ""},
        {**EDITOR, "scope": "province"},
        {**EDITOR, "scope": "town:nowhere"},
        {**EDITOR, "scope": "town:east", "password": "short"},
        {**EDITOR, "scope": "town:east", "user": "no spaces"},
        {**EDITOR, "scope": "town:east", "password": None},
    ]
    for body in bad:
        resp = await kit.client.post("/api/v1/users", headers=kit.admin, json=body)
        assert 400 <= resp.status < 500, body
        assert set(await body_of(resp)) == {"error", "detail"}
    assert await kit.hub.store.list_officials() == []
