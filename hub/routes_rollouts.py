"""HTTP routes of rollouts in waves: the JSON API (`GET /api/v1/rollouts` as the contract has it, create, approve,
pause, resume, abort) and the same actions posted as forms from the officials' page, which go back to the page.
Handlers parse and answer; hub/rollouts.py decides.
"""

from __future__ import annotations

from aiohttp import web

from protocol.http_errors import read_json

from . import rollouts
from .actors import Actor
from .json_answers import MAX_JSON, action_body, json_answer
from .page_render import with_refusals_as_pages
from .services import HUB
from .session_auth import require_actor
from .validate import int_param, require_object

routes = web.RouteTableDef()
ACTIONS = ("approve", "pause", "resume", "abort")
MAX_ID = 2**53


def _rollout_id(request: web.Request) -> int:
    return int_param(request.match_info["id"], "id", 0, 1, MAX_ID)


async def _act(request: web.Request, actor: Actor, action: str) -> None:
    hub = request.app[HUB]
    rollout_id = _rollout_id(request)
    if action == "approve":
        await rollouts.approve(hub.store, hub.down, actor, rollout_id)
    elif action == "pause":
        await rollouts.pause(hub.store, actor, rollout_id)
    elif action == "resume":
        await rollouts.resume(hub.store, actor, rollout_id)
    else:
        await rollouts.abort(hub.store, hub.down, actor, rollout_id)
    # The first wave may already be decided (all canaries up to date): look now rather than at the next tick.
    await rollouts.advance(hub.store, hub.down)


@routes.get("/api/v1/rollouts")
async def list_rollouts(request: web.Request) -> web.Response:
    actor = require_actor(request)
    return json_answer({"rollouts": await rollouts.list_json(request.app[HUB].store, actor)})


@routes.post("/api/v1/rollouts")
async def create_rollout(request: web.Request) -> web.Response:
    actor = require_actor(request)
    body = require_object(await read_json(request, MAX_JSON))
    hub = request.app[HUB]
    hub.refresh_keys()  # a release key made by `release add` since the hub started is in a newer trust document
    made = await rollouts.create(hub.store, hub.config.data_dir, hub.keys.trust, actor, body)
    return json_answer(rollouts.rollout_json(made, await rollouts.view_waves(hub.store, made.id)), status=201)


@routes.get("/api/v1/rollouts/{id}")
async def one_rollout(request: web.Request) -> web.Response:
    actor = require_actor(request)
    rollouts.require_rollout_rights(actor)
    store = request.app[HUB].store
    rollout_id = _rollout_id(request)
    waves = await rollouts.view_waves(store, rollout_id)
    rollout = await store.get_rollout(rollout_id)
    assert rollout is not None
    return json_answer(rollouts.rollout_json(rollout, waves))


@routes.post("/api/v1/rollouts/{id}/{action:approve|pause|resume|abort}")
async def rollout_action(request: web.Request) -> web.Response:
    actor = require_actor(request)
    await action_body(request)
    await _act(request, actor, request.match_info["action"])
    store = request.app[HUB].store
    rollout = await store.get_rollout(_rollout_id(request))
    assert rollout is not None
    return json_answer(rollouts.rollout_json(rollout, await rollouts.view_waves(store, rollout.id)))


async def rollout_form(request: web.Request) -> web.Response:
    """A button of the page (a form with the session's CSRF token, checked by the middleware): act, then back."""
    actor = require_actor(request)
    await _act(request, actor, request.match_info["action"])
    raise web.HTTPSeeOther(f"/admin/rollouts?done={request.match_info['action']}#rollout-{_rollout_id(request)}")


# A refusal (the author approving, a rollout no longer paused) comes back as a page with the sentence, not JSON.
routes.post("/admin/rollouts/{id}/{action:approve|pause|resume|abort}")(with_refusals_as_pages(rollout_form))
