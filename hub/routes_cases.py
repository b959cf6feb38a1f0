"""HTTP routes for cases and routing rules (contract v2). Handlers parse and answer; hub/case_actions.py,
cases.py and case_routing.py decide.
"""

from __future__ import annotations

from aiohttp import web

from protocol.case_status import STATES
from protocol.http_errors import read_json

from . import case_actions, case_merge, case_routing
from .actors import require_role
from .case_models import Case
from .case_search import read_search
from .errors import BadInput
from .json_answers import MAX_JSON, action_body, json_answer
from .services import HUB
from .session_auth import require_actor
from .store_cases import CaseFilter
from .validate import int_param, require_object, require_village_id

routes = web.RouteTableDef()
MAX_PAGE = 1000


def _flag(raw: str | None, name: str) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw not in ("true", "false"):
        raise BadInput(f"the parameter {name!r} must be true or false", "bad_parameter")
    return raw == "true"


def _choice(raw: str | None, name: str, choices: tuple[str, ...]) -> str | None:
    if raw is not None and raw not in choices:
        raise BadInput(f"{name} {raw!r} is unknown; use one of {', '.join(choices)}", "bad_parameter")
    return raw


async def _answer(request: web.Request, case: Case, history: bool = True) -> web.Response:
    store = request.app[HUB].store
    names = await store.place_names()
    data = case.to_json(names)
    if history:
        data["history"] = [e.to_json() for e in await store.case_history(case.id)]
        data["merged_into"] = await store.merged_into(case.id)
        data["duplicates"] = [d.id for d in await store.duplicates_of(case.id)]
    return json_answer(data)


@routes.get("/api/v1/cases")
async def list_cases(request: web.Request) -> web.Response:
    """Cases in the caller's scope, newest first; `state`, `unit`, `village`, `overdue=true` and `q` (a case number or
    some of the resident's words, hub/case_search.py) filter them."""
    actor = require_actor(request)
    require_role(actor, "dispatcher", "handler", "viewer")
    q = request.query
    village = q.get("village")
    if village is not None:
        require_village_id(village, "village")
    cursor = q.get("cursor")
    limit = int_param(q.get("limit"), "limit", MAX_PAGE, 1, MAX_PAGE)
    f = CaseFilter(within=actor.scope, state=_choice(q.get("state"), "state", STATES), unit=q.get("unit"),
                   village=village, overdue=_flag(q.get("overdue"), "overdue"), search=read_search(q.get("q")),
                   before_n=int_param(cursor, "cursor", 0, 1, 2**62) if cursor else None, limit=limit + 1)
    store = request.app[HUB].store
    found = await store.list_cases(f)
    more = len(found) > limit
    found = found[:limit]
    names = await store.place_names()
    return json_answer({"cases": [c.to_json(names) for c in found], "next": str(found[-1].n) if more else None})


@routes.get("/api/v1/cases/{id}")
async def get_case(request: web.Request) -> web.Response:
    actor = require_actor(request)
    store = request.app[HUB].store
    case = await store.get_case(request.match_info["id"])
    if case is None:
        raise case_actions.unknown(request.match_info["id"])
    await case_actions.require_readable(store, actor, case)
    return await _answer(request, case)


@routes.post("/api/v1/cases/{id}/{action:assign|accept|return|reply|extend|close|merge}")
async def act(request: web.Request) -> web.Response:
    actor = require_actor(request)
    body = await action_body(request)
    hub = request.app[HUB]
    case_id, action = request.match_info["id"], request.match_info["action"]
    store, down = hub.store, hub.down
    if action == "assign":
        case = await case_actions.assign(store, down, actor, case_id, body)
    elif action == "accept":
        case = await case_actions.accept(store, down, actor, case_id)
    elif action == "return":
        case = await case_actions.return_case(store, down, actor, case_id, body)
    elif action == "reply":
        case = await case_actions.reply(store, down, actor, case_id, body)
    elif action == "extend":
        case = await case_actions.extend_case(store, down, actor, case_id, body)
    elif action == "merge":
        case = await case_merge.merge(store, down, actor, case_id, body)
    else:
        case = await case_actions.close(store, down, actor, case_id, body)
    return await _answer(request, case)


# routing rules


@routes.get("/api/v1/routes")
async def list_routes(request: web.Request) -> web.Response:
    actor = require_actor(request)
    require_role(actor, "dispatcher", "handler", "viewer", "admin")
    store = request.app[HUB].store
    names = await store.place_names()
    return json_answer({"routes": [r.to_json(names) for r in await store.list_routes()]})


@routes.post("/api/v1/routes")
async def put_route(request: web.Request) -> web.Response:
    """`{kind, category?, unit, days}`: 201 created, 200 changed (a dispatcher or admin of scope city)."""
    actor = require_actor(request)
    body = require_object(await read_json(request, MAX_JSON))
    rule = case_routing.parse_rule(body.get("kind"), body.get("category"), body.get("unit"), body.get("days"))
    created = await case_routing.add_route(request.app[HUB].store, actor, rule)
    return json_answer({"id": f"{rule.kind}:{rule.category}", **rule.to_json()}, status=201 if created else 200)


@routes.delete("/api/v1/routes")
async def delete_route(request: web.Request) -> web.Response:
    actor = require_actor(request)
    removed = await case_routing.remove_route(request.app[HUB].store, actor, request.query.get("kind"),
                                              request.query.get("category"))
    return json_answer({"removed": removed})
