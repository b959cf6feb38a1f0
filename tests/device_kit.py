"""A TV or phone as the edge knows it: registered at `POST /api/v1/devices`, acting with its token.

Tests that submit, read their submissions or acknowledge alerts register first, through these helpers, exactly as
the TV app and the simulated STB do; `wanted` is the STB portal's id hint, honoured for an id the box never saw.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from edge.residents.households import create_household, pair_by_code, pairing_code_for
from protocol.database import Database
from tests.integration.system import http

TOKEN_HEADER = "X-Device-Token"


@dataclass(frozen=True)
class Registered:
    device_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {TOKEN_HEADER: self.token}

    def submission(self, kind: str, body: dict[str, Any], sid: str | None = None) -> dict[str, Any]:
        return {"id": sid or str(uuid.uuid4()), "kind": kind, "device_id": self.device_id, "body": body}


def _registered(status: int, body: Any, wanted: str | None) -> Registered:
    assert status == 201, body
    if wanted is not None:
        assert body["device_id"] == wanted, f"the box gave {body['device_id']} for the hint {wanted}"
    return Registered(body["device_id"], body["token"])


def _request(wanted: str | None) -> dict[str, str]:
    return {"model": "test-stb", "mw": "ipanel", **({"device_id": wanted} if wanted else {})}


def register(edge_url: str, wanted: str | None = None) -> Registered:
    """Register with an edge running in its own process (blocking HTTP)."""
    status, body, _ = http("POST", edge_url + "/api/v1/devices", _request(wanted))
    return _registered(status, body, wanted)


async def register_with(client: Any, wanted: str | None = None, url: str = "/api/v1/devices") -> Registered:
    """Register through an aiohttp test client (a path) or a ClientSession (a full `url`)."""
    async with client.post(url, json=_request(wanted)) as resp:
        return _registered(resp.status, await resp.json(), wanted)


async def pair_with_new_household(db: Database, device_id: str, name: str, elderly_alone: bool = False) -> str:
    """What staff do on the staff page: make a household and type the code the TV shows; returns its id."""
    household = await create_household(db, name, "", elderly_alone)
    code, _ = await pairing_code_for(db, device_id)
    await pair_by_code(db, household, code)
    return household


def use_device(driver: Any, edge_url: str, token: str) -> None:
    """Make the TV app in this (selenium) browser the device that holds `token`, as if it had registered itself."""
    driver.get(edge_url + "/tv/static/tv.css")  # a cookie can only be set for the site the browser is on
    driver.add_cookie({"name": "device_token", "value": token, "path": "/"})


class Residents:
    """The TVs of one edge as a test drives them: a submission's device registers (its id as the hint) on first
    use, and a submission is read back with the token of the device that sent it."""

    def __init__(self, edge_url: str) -> None:
        self.edge_url = edge_url
        self._tvs: dict[str, Registered] = {}
        self._sent_by: dict[str, Registered] = {}

    def tv(self, device_id: str) -> Registered:
        if device_id not in self._tvs:
            self._tvs[device_id] = register(self.edge_url, device_id)
        return self._tvs[device_id]

    def post(self, sub: dict[str, Any]) -> tuple[int, Any, Any]:
        tv = self.tv(sub["device_id"])
        self._sent_by[sub["id"]] = tv
        return http("POST", self.edge_url + "/api/v1/submissions", sub, headers=tv.headers)

    def get(self, submission_id: str) -> tuple[int, Any, Any]:
        tv = self._sent_by[submission_id]
        return http("GET", f"{self.edge_url}/api/v1/submissions/{submission_id}", headers=tv.headers)
