"""Open311 GeoReport v2 over the hub's cases, so a city's existing 12345 system can read and file them.

The service catalogue is the routing catalogue: one service per case kind (`consultation`...) and one per routing
rule with a category (`service_request:养老助老`). Requests are cases, `open` until closed. A city system files a
case with its API key (`village-hub open311 key`), as if the city itself had received it; without `address_id`
(a village id) it belongs to the city's dispatchers. Errors keep the hub's `{error, detail}` shape.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from . import audit
from .actors import Actor, require_role, require_scope
from .case_models import STATE_NAMES, Case
from .case_routing import CASE_KINDS
from .cases import new_case, open_case
from .down_feed import DownFeed
from .errors import BadInput, Forbidden, Unprocessable
from .store import HubStore
from .store_cases import CaseFilter
from .validate import parse_rfc3339, require_village_id, rfc3339, text_field

KIND_NAMES = {"feedback": "意见建议", "consultation": "政策咨询", "service_request": "办事申请",
              "incident": "安全隐患"}
MAX_DESCRIPTION = 2000
MAX_KEY_NAME = 100
MAX_LISTED = 1000


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def add_key(store: HubStore, actor: Actor, name: str) -> str:
    """A new API key for a city system; only its SHA-256 is kept, the key is shown once."""
    label = text_field({"name": name}, "name", MAX_KEY_NAME)
    assert label is not None
    require_role(actor, "admin")
    key = secrets.token_urlsafe(32)
    async with store.transaction() as tx:
        await require_scope(tx, actor, ["city"])
        await tx.put_open311_key(_hash(key), label)
        await audit.record(tx, actor.user, "open311_key_add", "city", "city", f"name={label}")
    return key


async def key_holder(store: HubStore, key: object) -> str:
    """The name of the system holding `key`; a missing or unknown key is refused."""
    name = await store.open311_key_name(_hash(key)) if isinstance(key, str) and key else None
    if name is None:
        raise Forbidden("a valid api_key is required (village-hub open311 key --name NAME makes one)",
                        "bad_api_key")
    return name


async def services(store: HubStore) -> list[dict[str, Any]]:
    names = await store.place_names()
    catalogue = [{"service_code": kind, "service_name": KIND_NAMES[kind], "description": KIND_NAMES[kind],
                  "metadata": False, "type": "realtime", "keywords": kind, "group": KIND_NAMES[kind]}
                 for kind in CASE_KINDS]
    for rule in await store.list_routes():
        if not rule.category:
            continue
        unit = names.get(f"unit:{rule.unit}", rule.unit)
        catalogue.append({"service_code": f"{rule.kind}:{rule.category}", "service_name": rule.category,
                          "description": f"{KIND_NAMES[rule.kind]}：{rule.category}（{unit}，{rule.days}个工作日）",
                          "metadata": False, "type": "realtime", "keywords": rule.category,
                          "group": KIND_NAMES[rule.kind]})
    return catalogue


def service_code(case: Case) -> str:
    return f"{case.kind}:{case.category}" if case.category else case.kind


def as_request(case: Case, names: dict[str, str]) -> dict[str, Any]:
    return {
        "service_request_id": case.id,
        "status": "closed" if case.state == "closed" else "open",
        "status_notes": STATE_NAMES[case.state],
        "service_name": case.category or KIND_NAMES[case.kind],
        "service_code": service_code(case),
        "description": case.text,
        "agency_responsible": names.get(f"unit:{case.unit}") if case.unit else None,
        "service_notice": None,
        "requested_datetime": rfc3339(case.received_at),
        "updated_datetime": rfc3339(case.updated_at),
        "expected_datetime": rfc3339(case.due_at),
        "address": names.get(case.place) if case.village_id else None,
        "address_id": case.village_id,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _time(query: dict[str, str], name: str) -> float | None:
    raw = query.get(name)
    return parse_rfc3339(raw, name) if raw else None


async def requests(store: HubStore, query: dict[str, str]) -> list[dict[str, Any]]:
    """Cases, newest first, filtered as GeoReport v2 allows: service_request_id (a comma list), service_code,
    status (open or closed), start_date and end_date (on the time received)."""
    status = query.get("status")
    if status not in (None, "", "open", "closed"):
        raise BadInput("status must be open or closed", "bad_parameter")
    ids = tuple(i for i in query.get("service_request_id", "").split(",") if i)
    start, end = _time(query, "start_date"), _time(query, "end_date")
    found = await store.list_cases(CaseFilter(ids=ids, limit=MAX_LISTED))
    names = await store.place_names()
    out = []
    for case in found:
        answer = as_request(case, names)
        if status and answer["status"] != status:
            continue
        if query.get("service_code") and answer["service_code"] != query["service_code"]:
            continue
        if (start is not None and case.received_at < start) or (end is not None and case.received_at > end):
            continue
        out.append(answer)
    return out


async def file_request(store: HubStore, down: DownFeed, holder: str, fields: dict[str, Any]) -> Case:
    """A case filed by a city system: `service_code`, `description`, and optionally `address_id` (a village)."""
    code = fields.get("service_code")
    if not isinstance(code, str) or not code:
        raise BadInput("service_code is required (see services.json)", "missing_field")
    kind, _, category = code.partition(":")
    if kind not in CASE_KINDS:
        raise Unprocessable(f"service_code {code!r} is not in services.json", "unknown_service")
    description = text_field(fields, "description", MAX_DESCRIPTION)
    assert description is not None
    village_id = fields.get("address_id") or None
    async with store.transaction() as tx:
        town = None
        if village_id is not None:
            village = await tx.get_village(require_village_id(village_id, "address_id"))
            if village is None:
                raise Unprocessable(f"address_id {village_id!r} is no village of this city", "unknown_village")
            town = village.town_id
        case = new_case(str(uuid.uuid4()), None, village_id, town, "open311", kind, category, description, tx.now)
        await open_case(tx, down, case, f"open311:{holder}")
        opened = await tx.get_case(case.id)
    assert opened is not None
    return opened
