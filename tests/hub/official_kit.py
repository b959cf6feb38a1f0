"""Test helpers for named officials: accounts made as the CLI makes them, logins through the real API."""

from __future__ import annotations

from typing import Any

from hub.actors import CLI
from hub.officials import put_account

from .kit import HubKit

PASSWORD = "correct-horse-42"


async def make_official(kit: HubKit, user: str, roles: str, scope: str, name: str | None = None,
                        password: str = PASSWORD) -> None:
    await put_account(kit.hub.store, CLI, user, roles, scope, name or user, password)


async def login(kit: HubKit, user: str, password: str = PASSWORD) -> dict[str, str]:
    """Bearer headers for the official, from POST /api/v1/login."""
    resp = await kit.client.post("/api/v1/login", json={"user": user, "password": password})
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def official(kit: HubKit, user: str, roles: str, scope: str, name: str | None = None) -> dict[str, str]:
    await make_official(kit, user, roles, scope, name)
    return await login(kit, user)


async def two_towns(kit: HubKit) -> None:
    """城关镇 (east: e1, e2, e3) and 河西镇 (west: w1), with names, as an org would be set up."""
    async with kit.hub.store.transaction() as tx:
        await tx.put_town("east", "城关镇")
        await tx.put_town("west", "河西镇")
    for vid, name, town in (("e1", "东庄村", "east"), ("e2", "南庄村", "east"), ("e3", "北庄村", "east"),
                            ("w1", "西庄村", "west")):
        await kit.add_village(vid, name=name, town=town)


async def body_of(resp: Any) -> dict[str, Any]:
    data: dict[str, Any] = await resp.json()
    return data
