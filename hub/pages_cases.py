"""The officials' case pages: the worklist (/admin/cases) by role, with filters in the query string so a link can
be shared, and one case (/admin/cases/{id}) with the resident's words, the history and the actions allowed there.

Actions are plain forms that POST to /admin/cases/{id}/{action} (CSRF checked by the session middleware) and go
back to the case. They call the same functions as the JSON API (hub/case_actions.py, hub/case_merge.py), so the
page cannot allow what the API refuses; a refusal comes back as a sentence on the case page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from protocol.case_status import STATES
from protocol.http_errors import read_form

from . import case_actions, case_merge
from .actors import Actor
from .case_models import OPEN_STATES, Case
from .case_resident import local_day
from .case_search import CaseSearch, read_search
from .down_feed import DownFeed
from .errors import BadInput, HubError, Unprocessable
from .org import org_tree
from .page_render import (
    LOGIN_PATH,
    refuse_page,
    render_page,
    require_page_actor,
    with_refusals_as_pages,
)
from .scopes import covers, require_unit_id
from .services import HUB
from .session_auth import optional_actor
from .store import HubStore
from .store_cases import CaseFilter
from .validate import require_uuid, require_village_id

CASE_ROLES = frozenset({"dispatcher", "handler", "viewer"})
SECTION_ROWS = 200  # a worklist section shows this many; filters narrow a longer list
MERGE_CHOICES = 100  # open cases offered as the target of a merge

Act = Callable[[HubStore, DownFeed, Actor, str, Any], Awaitable[Case]]


async def _accept(store: HubStore, down: DownFeed, actor: Actor, case_id: str, _body: Any) -> Case:
    return await case_actions.accept(store, down, actor, case_id)


async def _merge(store: HubStore, down: DownFeed, actor: Actor, case_id: str, body: dict[str, Any]) -> Case:
    """The merge form: a case picked from the list, or a whole case number typed in (the list offers only the
    latest open cases); the number is looked up inside the official's scope, so it names nothing outside it."""
    number = body.pop("into_number", None)
    if number is None and "into" not in body:
        raise BadInput("请从列表中选择主工单，或者填写它的工单号。Choose the main case from the list or type its number.",
                       "no_merge_target")
    if number is not None and "into" in body:
        raise BadInput("请只用一种方式：从列表中选择，或者填写工单号。Choose from the list or type a number, not both.",
                       "two_merge_targets")
    if number is not None:
        search = read_search(number)
        if search is None or search.day is None:
            raise BadInput(f"请填写完整的工单号，如 20261102-00001（{number}）。Type the whole case number, such as"
                           " 20261102-00001.", "bad_case_number")
        found = await store.list_cases(CaseFilter(within=actor.scope, search=search, limit=1))
        if not found:
            raise Unprocessable(f"您的范围内没有编号为 {search.text} 的工单。There is no case {search.text} in your"
                                " scope.", "unknown_case")
        body["into"] = found[0].id
    return await case_merge.merge(store, down, actor, case_id, body)


ACTIONS: dict[str, Act] = {
    "assign": case_actions.assign, "accept": _accept, "return": case_actions.return_case,
    "reply": case_actions.reply, "extend": case_actions.extend_case, "close": case_actions.close,
    "merge": _merge,
}


@dataclass(frozen=True)
class CaseRow:
    """A case as the page shows it: the record and the names and dates a person reads."""

    case: Case
    number: str
    village: str
    town: str
    unit: str
    due_day: str
    accept_day: str

    @property
    def c(self) -> Case:
        return self.case


def _row(case: Case, names: dict[str, str]) -> CaseRow:
    return CaseRow(case, case.number, names.get(case.place, case.place), names.get(f"town:{case.town_id}", ""),
                   names.get(f"unit:{case.unit}", case.unit or ""), _day(case.due_at), _day(case.accept_by))


def _day(deadline: float | None) -> str:
    """A deadline is the end of its day, 24:00 Shanghai: show that day, as the TV does."""
    return local_day(deadline - 1) or "—" if deadline is not None else "—"


async def _rows(store: HubStore, cases: list[Case]) -> list[CaseRow]:
    names = await store.place_names()
    return [_row(c, names) for c in cases]


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    unit: str | None = None
    village: str | None = None
    overdue: bool | None = None
    search: CaseSearch | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.state, self.unit, self.village, self.overdue, self.search))

    def case_filter(self, actor: Actor) -> CaseFilter:
        return CaseFilter(within=actor.scope, state=self.state, unit=self.unit, village=self.village,
                          overdue=self.overdue, search=self.search, limit=SECTION_ROWS)


def read_filters(query: Any) -> Filters:
    """The worklist's query string; a wrong value is refused with a sentence (400), not silently ignored."""
    state = query.get("state") or None
    if state is not None and state not in STATES:
        raise BadInput(f"状态 {state!r} 不存在。Unknown state {state!r}; use one of {', '.join(STATES)}.",
                       "bad_parameter")
    unit = require_unit_id(query["unit"], "unit") if query.get("unit") else None
    village = require_village_id(query["village"], "village") if query.get("village") else None
    overdue = query.get("overdue") or None  # `done` (after an action) is no filter
    if overdue not in (None, "true"):
        raise BadInput("overdue 只能是 true。The parameter overdue must be true or left out.", "bad_parameter")
    return Filters(state, unit, village, True if overdue else None, read_search(query.get("q")))


async def _sections(store: HubStore, actor: Actor) -> list[tuple[str, list[Case]]]:
    """What each role works on, without filters: a dispatcher what waits for dispatch (new, returned) and what ran
    overdue (escalated to the city too); a handler its unit's cases to sign for and to answer; the city and
    viewers also the latest of everything."""
    sections: list[tuple[str, list[Case]]] = []
    mine = CaseFilter(within=actor.scope, limit=SECTION_ROWS)
    if "dispatcher" in actor.roles:
        sections.append(("dispatch", await store.list_cases(replace(mine, state="new"))))
        late: list[Case] = []
        for state in OPEN_STATES:  # the overdue mark stays on a case once answered or closed: leave those out
            late += await store.list_cases(replace(mine, state=state, overdue=True))
        sections.append(("overdue", sorted(late, key=lambda c: -c.n)[:SECTION_ROWS]))
    if "handler" in actor.roles:
        sections.append(("to_accept", await store.list_cases(replace(mine, state="assigned"))))
        sections.append(("to_answer", await store.list_cases(replace(mine, state="in_progress"))))
    if "viewer" in actor.roles or ("dispatcher" in actor.roles and actor.scope == "city"):
        sections.append(("recent", await store.list_cases(replace(mine, limit=50))))
    return sections


async def _choices(store: HubStore, actor: Actor) -> dict[str, Any]:
    """The villages and units in the official's scope, by name, for the filters and for assigning."""
    tree = await org_tree(store, actor)
    towns = [{"name": t["name"], "villages": t["villages"], "units": t["units"]} for t in tree["towns"]]
    units = [u for t in towns for u in t["units"]] + list(tree["units"])
    return {"towns": towns, "units": units, "city_units": tree["units"]}


async def worklist(request: web.Request) -> web.Response:
    actor = require_page_actor(request)
    if not actor.roles & CASE_ROLES:
        return await refuse_page(request, actor, "refused.cases")
    store = request.app[HUB].store
    filters = read_filters(request.query)
    if filters.any:
        sections = [("filtered", await store.list_cases(filters.case_filter(actor)))]
    else:
        sections = await _sections(store, actor)
    shown = [(key, await _rows(store, cases)) for key, cases in sections]
    done = request.query.get("done", "")
    return await render_page(request, actor, "cases.html", "cases", sections=shown, filters=filters,
                             choices=await _choices(store, actor), states=STATES, limit=SECTION_ROWS,
                             done=done if done in ACTIONS else "")


@dataclass(frozen=True)
class Allowed:
    """Which forms the case page offers this official: what hub/case_actions.py would let it do now."""

    assign: bool = False
    accept: bool = False
    give_back: bool = False  # return, a Python keyword
    reply: bool = False
    ask_extension: bool = False
    decide_extension: bool = False
    close: bool = False
    merge: bool = False

    @property
    def any(self) -> bool:
        return any(self.__dict__.values())


async def allowed(store: HubStore, actor: Actor, case: Case, merged: bool) -> Allowed:
    if not actor.is_official:
        return Allowed()
    dispatcher = "dispatcher" in actor.roles and await covers(store, actor.scope, case.place)
    handler = ("handler" in actor.roles and case.unit is not None
               and await covers(store, actor.scope, f"unit:{case.unit}"))
    is_open = case.state in OPEN_STATES and not merged
    working = case.state in ("assigned", "in_progress")
    pending = case.extension_request
    return Allowed(
        assign=dispatcher and is_open, accept=handler and case.state == "assigned",
        give_back=handler and working, reply=handler and case.state == "in_progress",
        ask_extension=handler and working and pending is None,
        decide_extension=dispatcher and working and pending is not None and pending.get("by") != actor.user,
        close=dispatcher and case.state != "closed", merge=dispatcher and is_open,
    )


async def _merge_targets(store: HubStore, actor: Actor, case: Case) -> list[CaseRow]:
    """Open cases in the official's scope that this one could be a duplicate of, the same village's first."""
    found: list[Case] = []
    for state in OPEN_STATES:
        found += await store.list_cases(CaseFilter(within=actor.scope, state=state, limit=MERGE_CHOICES))
    found = sorted((c for c in found if c.id != case.id), key=lambda c: (c.village_id != case.village_id, -c.n))
    return await _rows(store, found[:MERGE_CHOICES])


async def _who_names(store: HubStore) -> dict[str, str]:
    """Who acted, by name: officials, and `village:ID` (what a village's box sent) as the village's name."""
    places = await store.place_names()
    return {**{k: v for k, v in places.items() if k.startswith("village:")}, **await store.official_names()}


async def _case_page(request: web.Request, actor: Actor, refusal: str = "", status: int = 200) -> web.Response:
    store = request.app[HUB].store
    case_id = require_uuid(request.match_info["id"], "the case id")
    case = await store.get_case(case_id)
    if case is None:
        raise case_actions.unknown(case_id)
    await case_actions.require_readable(store, actor, case)
    merged_into = await store.merged_into(case.id)
    may = await allowed(store, actor, case, merged_into is not None)
    sub = await store.get_submission(case.submission_id, village_id=case.village_id) \
        if case.submission_id and case.village_id else None
    choices = {k: v for k, v in sub.body.items() if k != "text"} if sub else {}
    root = await store.get_case(merged_into) if merged_into else None
    done = request.query.get("done", "")
    return await render_page(
        request, actor, "cases_one.html", "cases", status=status, row=(await _rows(store, [case]))[0],
        words=sub.body.get("text") if sub and isinstance(sub.body.get("text"), str) else case.text,
        choices=choices, history=await store.case_history(case.id),
        names=await _who_names(store),
        root=(await _rows(store, [root]))[0] if root else None,
        duplicates=await _rows(store, await store.duplicates_of(case.id)), may=may,
        units=(await _choices(store, actor))["units"] if may.assign else [],
        merge_targets=await _merge_targets(store, actor, case) if may.merge else [],
        refusal=refusal, done=done if done in ACTIONS else "",
    )


async def case_page(request: web.Request) -> web.Response:
    return await _case_page(request, require_page_actor(request))


def form_body(form: Any) -> dict[str, Any]:
    """The form's fields as the JSON API's body: empty fields left out, numbers and yes/no as JSON would carry
    them; anything wrong is left for the action to refuse, in its words."""
    body: dict[str, Any] = {}
    for key, raw in form.items():
        value = str(raw).strip()
        if key == "csrf" or value == "":
            continue
        if key == "grant":
            body[key] = value == "yes"
        elif key == "working_days" and value.isdigit():
            body[key] = int(value)
        else:
            body[key] = value
    return body


async def act(request: web.Request) -> web.Response:
    """POST /admin/cases/{id}/{action} from the case page's forms: act, then back to the case (303)."""
    actor = optional_actor(request)  # the session the middleware checked, CSRF included; never the token cookie
    if actor is None:
        raise web.HTTPSeeOther(LOGIN_PATH)
    if not actor.is_official:
        return await refuse_page(request, actor, "refused.cases_token")
    case_id, action = request.match_info["id"], request.match_info["action"]
    hub = request.app[HUB]
    try:
        case = await ACTIONS[action](hub.store, hub.down, actor, case_id, form_body(await read_form(request)))
    except HubError as exc:
        return await _case_page(request, actor, refusal=exc.detail, status=exc.status)
    done = urlencode({"done": action})
    if not await case_actions.can_read(hub.store, actor, case):
        raise web.HTTPSeeOther(f"/admin/cases?{done}")  # returned by a handler: no longer its unit's to see
    raise web.HTTPSeeOther(f"/admin/cases/{case_id}?{done}")


def add_case_pages(routes: web.RouteTableDef) -> None:
    """The case pages' URLs, on the officials' page's route table (hub/routes_pages.py)."""
    routes.get("/admin/cases")(with_refusals_as_pages(worklist))
    routes.get("/admin/cases/{id}")(with_refusals_as_pages(case_page))
    routes.post(f"/admin/cases/{{id}}/{{action:{'|'.join(ACTIONS)}}}")(with_refusals_as_pages(act))
