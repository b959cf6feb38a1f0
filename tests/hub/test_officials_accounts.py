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


def _sheet_bytes(rows: list[list[str]]) -> bytes:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out).writerows([["类型", "编号", "名称", "上级"], *rows])
    return out.getvalue().encode("utf-8")


async def test_a_city_admin_imports_a_sheet_through_the_api_and_a_bad_one_changes_nothing(kit: HubKit) -> None:
    admin = await official(kit, "boss", "admin", "city")
    good = _sheet_bytes([["镇街", "cg", "城关镇", ""], ["村", "v1", "小庄村", "cg"], ["单位", "pcs", "派出所", "cg"]])
    resp = await kit.client.post("/api/v1/org/import?name=城关镇.csv", data=good, headers=admin)
    assert resp.status == 200 and await body_of(resp) == {"towns": 1, "villages": 1, "units": 1}
    bad = _sheet_bytes([["村", "v2", "大庄村", "nowhere"], ["镇街", "hx", "河西镇", ""]])
    refused = await kit.client.post("/api/v1/org/import?name=more.csv", data=bad, headers=admin)
    answer = await body_of(refused)
    assert refused.status == 400 and answer["error"] == "bad_rows"
    assert len(answer["rows"]) == 1 and answer["rows"][0].startswith("第 2 行 row 2")
    assert [t.id for t in await kit.hub.store.list_towns()] == ["cg"]


async def test_a_town_admin_cannot_import_the_citys_org(kit: HubKit) -> None:
    await two_towns(kit)
    admin = await official(kit, "zhao", "admin", "town:east")
    sheet = _sheet_bytes([["村", "e9", "新村", "east"]])
    resp = await kit.client.post("/api/v1/org/import?name=east.csv", data=sheet, headers=admin)
    assert resp.status == 403 and (await body_of(resp))["error"] == "out_of_scope"
    assert await kit.hub.store.get_village("e9") is None


async def test_audit_entries_and_notices_carry_the_names_of_people_and_places(kit: HubKit) -> None:
    await two_towns(kit)
    admin = await official(kit, "boss", "admin", "city", name="市管理员")
    editor = await official(kit, "ed", "editor", "town:east", name="编辑小王")
    made = await kit.client.post("/api/v1/notices", headers=editor, json={
        "title": "通知", "body": "正文", "area": "community", "scope": "town:east"})
    notice = await body_of(made)
    assert notice["author_name"] == "编辑小王" and notice["target_names"] == ["城关镇"]
    entries = (await body_of(await kit.client.get("/api/v1/audit", headers=admin)))["entries"]
    login = next(e for e in entries if e["action"] == "login" and e["user"] == "ed")
    assert login["user_name"] == "编辑小王" and login["target_name"] == "编辑小王"
