"""What officials do to a case: a dispatcher assigns, rules on extensions and closes; a handler of the case's unit
signs for it (accept), returns it with a reason, replies and asks for more time.

Every action checks role, then scope, then state, before it changes anything (403 `forbidden`, 403
`out_of_scope`, 409), goes through `cases.step` (history, audit, the resident's TV) in one transaction, and
answers the case as it is when replayed.
"""

from __future__ import annotations

from typing import Any

from .actors import Actor, require_role, require_scope
from .case_models import OPEN_STATES, Case
from .case_resident import reply_to_duplicates
from .cases import assigned_fields, step
from .down_feed import DownFeed
from .errors import Conflict, Forbidden, NotFound, Unprocessable
from .replies import send_reply
from .scopes import covers, require_unit_id
from .store import HubStore
from .store_tx import Tx
from .validate import require_object, text_field
from .working_days import MAX_DAYS, extend

MAX_REASON = 500
MAX_REPLY = 2000


def unknown(case_id: str) -> NotFound:
    return NotFound(f"没有编号为 {case_id} 的工单。There is no case {case_id}.", "unknown_case")


async def held(tx: Tx, case_id: str) -> Case:
    case = await tx.get_case(case_id)
    if case is None:
        raise unknown(case_id)
    return case


async def can_read(org: Any, actor: Actor, case: Case) -> bool:
    """Officials read cases in a village of their scope, and cases at a unit of their scope."""
    if await covers(org, actor.scope, case.place):
        return True
    return case.unit is not None and await covers(org, actor.scope, f"unit:{case.unit}")


async def require_readable(org: Any, actor: Actor, case: Case) -> None:
    require_role(actor, "dispatcher", "handler", "viewer")
    if not await can_read(org, actor, case):
        await require_scope(org, actor, [case.place])


async def _as_dispatcher(tx: Tx, actor: Actor, case: Case) -> None:
    require_role(actor, "dispatcher")
    await require_scope(tx, actor, [case.place])


async def _as_handler(tx: Tx, actor: Actor, case: Case) -> str:
    """The handler of the case's unit; returns the unit."""
    require_role(actor, "handler")
    if case.unit is None:
        await require_scope(tx, actor, [case.place])
        raise Conflict("这件工单还没有派给单位。The case is with its dispatcher, not assigned to a unit.",
                       "not_assigned")
    await require_scope(tx, actor, [f"unit:{case.unit}"])
    return case.unit


def _state_is(case: Case, *states: str) -> None:
    if case.state not in states:
        raise Conflict(f"工单当前状态为 {case.state}，不能这样操作。The case is {case.state}; this needs"
                       f" {' or '.join(states)}.", "wrong_state")


async def assign(store: HubStore, down: DownFeed, actor: Actor, case_id: str, raw: Any) -> Case:
    unit = require_unit_id(require_object(raw).get("unit"), "unit")
    async with store.transaction() as tx:
        case = await held(tx, case_id)
        await _as_dispatcher(tx, actor, case)
        await require_scope(tx, actor, [f"unit:{unit}"])
        if await tx.get_unit(unit) is None:
            raise Unprocessable(f"没有单位 {unit}。There is no unit {unit}.", "unknown_unit")
        if case.state == "assigned" and case.unit == unit:
            return case
        _state_is(case, *OPEN_STATES)
        fields = await assigned_fields(tx, unit)
        action = "reassign" if case.unit else "assign"  # moved from one unit to another
        return await step(tx, down, case, actor.user, action, f"to unit:{unit}", **fields)


async def accept(store: HubStore, down: DownFeed, actor: Actor, case_id: str) -> Case:
    async with store.transaction() as tx:
        case = await held(tx, case_id)
        unit = await _as_handler(tx, actor, case)
        if case.state == "in_progress":
            return case
        _state_is(case, "assigned")
        late = case.accept_by is not None and tx.now > case.accept_by
        return await step(tx, down, case, actor.user, "accept", f"unit:{unit}" + (" (late)" if late else ""),
                          state="in_progress", accepted_at=tx.now)


async def return_case(store: HubStore, down: DownFeed, actor: Actor, case_id: str, raw: Any) -> Case:
    reason = text_field(require_object(raw), "reason", MAX_REASON)
    async with store.transaction() as tx:
        case = await held(tx, case_id)
        unit = await _as_handler(tx, actor, case)
        _state_is(case, "assigned", "in_progress")
        return await step(tx, down, case, actor.user, "return", f"unit:{unit}: {reason}", state="new", unit=None,
                          accept_by=None, accepted_at=None)


async def reply(store: HubStore, down: DownFeed, actor: Actor, case_id: str, raw: Any) -> Case:
    """The handler's answer: it reaches the resident's TV as a reply, and the case is answered."""
    text = text_field(require_object(raw), "text", MAX_REPLY)
    assert text is not None
    async with store.transaction() as tx:
        case = await held(tx, case_id)
        unit = await _as_handler(tx, actor, case)
        if case.state == "answered" and case.handled_by == f"unit:{unit}":
            return case
        if case.state == "assigned":
            raise Conflict("请先签收再答复。Accept (签收) the case before replying.", "not_accepted")
        _state_is(case, "in_progress")
        sub = (await tx.get_submission(case.village_id, case.submission_id)
               if case.submission_id and case.village_id else None)
        unit_row = await tx.get_unit(unit)
        by = unit_row.name if unit_row else unit
        if sub is not None:
            await send_reply(tx, down, sub, text, by)
        await reply_to_duplicates(tx, down, case, text, by, actor.user)
        return await step(tx, down, case, actor.user, "reply", text, state="answered", answered_at=tx.now,
                          handled_by=f"unit:{unit}")


def _working_days(body: dict[str, Any]) -> int:
    days = body.get("working_days")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise Unprocessable(f"working_days must be a whole number from 1 to {MAX_DAYS}", "bad_days")
    return days


async def extend_case(store: HubStore, down: DownFeed, actor: Actor, case_id: str, raw: Any) -> Case:
    """A handler asks `{working_days, reason}`; a dispatcher whose scope holds the case (the town's or the city's)
    grants it, `{grant: true}` (optionally other working_days), or refuses it, `{grant: false}`."""
    body = require_object(raw)
    async with store.transaction() as tx:
        case = await held(tx, case_id)
        _state_is(case, "assigned", "in_progress")
        pending = case.extension_request
        if pending is not None and "dispatcher" in actor.roles and await covers(tx, actor.scope, case.place):
            return await _decide(tx, down, actor, case, pending, body)
        unit = await _as_handler(tx, actor, case)
        days = _working_days(body)
        reason = text_field(body, "reason", MAX_REASON)
        request = {"working_days": days, "reason": reason, "by": actor.user, "unit": unit}
        if pending == request:
            return case
        return await step(tx, down, case, actor.user, "extend_request", f"{days} working day(s): {reason}",
                          extension_request=request)


async def _decide(tx: Tx, down: DownFeed, actor: Actor, case: Case, pending: dict[str, Any],
                  body: dict[str, Any]) -> Case:
    if pending.get("by") == actor.user:
        raise Forbidden("不能批准自己的延期申请。Another dispatcher must grant your own request.", "forbidden")
    grant = body.get("grant", True)
    if not isinstance(grant, bool):
        raise Unprocessable("grant must be true or false", "wrong_type")
    if not grant:
        return await step(tx, down, case, actor.user, "extend_refuse", f"request of {pending.get('by')} refused",
                          extension_request=None)
    days = _working_days(body) if "working_days" in body else int(pending["working_days"])
    due = extend(case.due_at or tx.now, days)
    return await step(tx, down, case, actor.user, "extend_grant", f"+{days} working day(s): {pending.get('reason')}",
                      extension_request=None, due_at=due.at, calendar_fallback=due.fallback or case.calendar_fallback,
                      overdue=case.overdue and due.at < tx.now)


async def close(store: HubStore, down: DownFeed, actor: Actor, case_id: str, raw: Any) -> Case:
    reason = text_field(require_object(raw), "reason", MAX_REASON, required=False)
    async with store.transaction() as tx:
        case = await held(tx, case_id)
        await _as_dispatcher(tx, actor, case)
        if case.state == "closed":
            return case
        return await step(tx, down, case, actor.user, "close", reason or f"closed by the dispatcher ({case.state})",
                          state="closed", closed_at=tx.now)
