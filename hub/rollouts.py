"""Rollouts in waves (as hawkBit's rollout groups): a release reaches the canary villages first, then growing shares
of the rest, each wave starting only when enough of the one before committed; failures pause it.

A village's down feed gets the release record only when its wave starts, so a bad release stopped in the canary
wave never reaches the next wave's boxes. A rollout needs a city administrator's approval, and the approver must
not be its author. Villages registered in scope after the rollout was created join its last wave. `advance` is the
hub's scheduled step (safe to run twice, and from any process: every change re-reads the rollout in its write
transaction); the CLI and the JSON API share the actions below.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from protocol import records

from . import audit
from .actors import Actor, require_role
from .down_feed import DownFeed
from .errors import BadInput, Conflict, Forbidden, NotFound, Unprocessable
from .rollout_models import Rollout, RolloutVillage
from .rollout_plan import canaries, parse_waves, place_villages
from .rollout_progress import WaveProgress, progress
from .rollout_release import load_release, release_id_of, release_op
from .scopes import parse_official_scope
from .store import HubStore
from .store_tx import Tx

log = logging.getLogger(__name__)
DEFAULT_WAVES = "10%,100%"
DEFAULT_SUCCESS_PCT = 80


def require_rollout_rights(actor: Actor) -> None:
    """Software reaches every box in scope: only an administrator of the whole city handles rollouts."""
    require_role(actor, "admin")
    if actor.scope != "city":
        raise Forbidden("只有市级管理员可以管理升级批次。Only an administrator of the whole city handles rollouts.",
                        "forbidden")


def _percent(value: object, what: str, default: int | None) -> int | None:
    if value is None:
        return default
    if isinstance(value, str) and value.endswith("%"):
        value = value[:-1]
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise BadInput(f"{what} must be a whole percentage, 1 to 100", "bad_threshold") from None
    if not 1 <= number <= 100:
        raise BadInput(f"{what} must be 1 to 100", "bad_threshold")
    return number


def _count(value: object, what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise BadInput(f"{what} must be a whole number, 0 or more", "bad_threshold")
    return int(value)


async def create(store: HubStore, data_dir: Path, trust: Any, actor: Actor, body: dict[str, Any]) -> Rollout:
    """A rollout awaiting approval; nothing is sent before it is approved."""
    require_rollout_rights(actor)
    release_id = release_id_of(body.get("release"))
    scope_text = body.get("scope", "city")
    if not isinstance(scope_text, str) or not scope_text:
        raise BadInput("scope must be city, town:ID or village:ID (several comma-separated)", "unknown_scope")
    scope = ",".join(parse_official_scope(part.strip()) for part in scope_text.split(","))
    waves = parse_waves(body.get("waves", DEFAULT_WAVES))
    success = _percent(body.get("success_threshold"), "success_threshold", DEFAULT_SUCCESS_PCT)
    error = _percent(body.get("error_threshold"), "error_threshold", None)
    max_failures = _count(body.get("max_failures"), "max_failures")
    release, signed = load_release(data_dir, release_id, trust)
    assert success is not None
    async with store.transaction() as tx:
        villages = await tx.villages_in_scope(scope)
        if not villages:
            raise Unprocessable(f"范围 {scope} 内没有登记的村。No registered village in scope {scope}.",
                                "empty_scope")
        outside = [v for v in canaries(waves) if v not in villages]
        if outside:
            raise Unprocessable(f"试点村 {', '.join(outside)} 不在范围 {scope} 内。Canary village(s)"
                                f" {', '.join(outside)} lie outside scope {scope}.", "canary_outside_scope")
        draft = Rollout(0, release_id, release.version, release.target, scope, waves, success, error, max_failures,
                        release_op(release, signed), "awaiting_approval", 0, 0, actor.user, None, None, tx.now,
                        tx.now)
        rollout_id = await tx.insert_rollout(draft)
        await tx.put_rollout_villages(rollout_id, place_villages(waves, villages, release_id))
        await audit.record(tx, actor.user, "rollout_create", f"rollout:{rollout_id}", scope,
                           f"release={release_id} waves={body.get('waves', DEFAULT_WAVES)}")
    return replace(draft, id=rollout_id)


async def _locked(tx: Tx, rollout_id: int, *states: str) -> Rollout:
    rollout = await tx.rollout_for_update(rollout_id)
    if rollout is None:
        raise NotFound(f"没有升级批次 {rollout_id}。No rollout {rollout_id}.", "unknown_rollout")
    if rollout.state not in states:
        raise Conflict(f"升级批次 {rollout_id} 当前为 {rollout.state}，不能这样操作。Rollout {rollout_id} is"
                       f" {rollout.state}; this needs it {' or '.join(states)}.", "wrong_state")
    return rollout


async def approve(store: HubStore, down: DownFeed, actor: Actor, rollout_id: int) -> None:
    """A reviewer who is not the author approves; the first wave's villages get the release at once."""
    require_rollout_rights(actor)
    async with store.transaction() as tx:
        rollout = await _locked(tx, rollout_id, "awaiting_approval")
        if rollout.author == actor.user:
            raise Forbidden("升级批次须由作者以外的人审批。A rollout is approved by someone other than its author"
                            f" ({rollout.author}).", "own_rollout")
        await tx.set_rollout_state(rollout_id, "running", None, approver=actor.user)
        await audit.record(tx, actor.user, "rollout_approve", f"rollout:{rollout_id}", rollout.scope,
                           rollout.release_id)
        await _start_wave(tx, down, rollout, 1)


async def pause(store: HubStore, actor: Actor, rollout_id: int) -> None:
    require_rollout_rights(actor)
    async with store.transaction() as tx:
        rollout = await _locked(tx, rollout_id, "running")
        await tx.set_rollout_state(rollout_id, "paused", f"paused by {actor.user}")
        await audit.record(tx, actor.user, "rollout_pause", f"rollout:{rollout_id}", rollout.scope)


async def resume(store: HubStore, actor: Actor, rollout_id: int) -> None:
    """Go on; the failures seen so far in the current wave are accepted, so only new ones pause it again."""
    require_rollout_rights(actor)
    waves = await view_waves(store, rollout_id)
    async with store.transaction() as tx:
        rollout = await _locked(tx, rollout_id, "paused")
        failed = waves[rollout.current_wave - 1].failed if rollout.current_wave else 0
        await tx.set_rollout_state(rollout_id, "running", None, forgiven=failed)
        await audit.record(tx, actor.user, "rollout_resume", f"rollout:{rollout_id}", rollout.scope,
                           f"{failed} failure(s) of wave {rollout.current_wave} accepted")


async def abort(store: HubStore, down: DownFeed, actor: Actor, rollout_id: int) -> None:
    """Stop for good. Boxes that have not taken the release yet drop its offer (a delete of the record)."""
    require_rollout_rights(actor)
    async with store.transaction() as tx:
        rollout = await _locked(tx, rollout_id, "awaiting_approval", "running", "paused")
        await tx.set_rollout_state(rollout_id, "aborted", f"aborted by {actor.user}")
        sent = [v.village_id for v in await tx.rollout_villages_tx(rollout_id) if v.sent_at is not None]
        await down.append(tx, {v: [records.delete("release", rollout.release_id)] for v in sent})
        await audit.record(tx, actor.user, "rollout_abort", f"rollout:{rollout_id}", rollout.scope,
                           f"offer withdrawn from {len(sent)} village(s)")


async def _start_wave(tx: Tx, down: DownFeed, rollout: Rollout, number: int) -> None:
    await _place_late_villages(tx, rollout)
    due = [v.village_id for v in await tx.rollout_villages_tx(rollout.id) if v.wave == number and v.sent_at is None]
    await down.append(tx, {v: [rollout.op] for v in due})
    await tx.mark_rollout_sent(rollout.id, due)
    await tx.set_rollout_state(rollout.id, "running", None, current_wave=number, forgiven=0)
    log.info("rollout %d of %s: wave %d started, %d village(s)", rollout.id, rollout.release_id, number, len(due))


async def _place_late_villages(tx: Tx, rollout: Rollout) -> list[str]:
    """Villages registered in scope since the rollout was made join its last wave."""
    placed = {v.village_id for v in await tx.rollout_villages_tx(rollout.id)}
    late = [v for v in await tx.villages_in_scope(rollout.scope) if v not in placed]
    await tx.put_rollout_villages(rollout.id, {v: rollout.last_wave for v in late})
    return late


def _failure_reached(rollout: Rollout, wave: WaveProgress) -> bool:
    counted = wave.failed - rollout.forgiven
    if counted <= 0:
        return False
    too_many = counted > rollout.max_failures
    too_large_share = rollout.error_pct is not None and wave.failed * 100 >= rollout.error_pct * len(wave.villages)
    return too_many or too_large_share


async def advance(store: HubStore, down: DownFeed) -> None:
    """One step of every rollout: pause at the failure threshold, start the next wave at the success threshold,
    and send the release to villages registered late when their wave is already under way."""
    documents = {vid: row.document for vid, row in (await store.status_rows()).items()}
    for rollout in [r for r in await store.list_rollouts(limit=1000) if r.state in ("running", "paused", "finished")]:
        waves = progress(rollout, await store.rollout_villages(rollout.id), documents)
        try:
            await _step(store, down, rollout, waves)
        except Conflict:
            continue  # changed by someone else meanwhile; the next step sees it as it is now


async def _step(store: HubStore, down: DownFeed, seen: Rollout, waves: list[WaveProgress]) -> None:
    async with store.transaction() as tx:
        rollout = await _locked(tx, seen.id, seen.state)
        if rollout.current_wave != seen.current_wave:
            return
        late = await _place_late_villages(tx, rollout)
        last_under_way = rollout.state == "finished" or (
            rollout.state == "running" and rollout.current_wave == rollout.last_wave)
        if late and last_under_way:
            await down.append(tx, {v: [rollout.op] for v in late})
            await tx.mark_rollout_sent(rollout.id, late)
            log.info("rollout %d of %s: sent to %s, registered since it began", rollout.id, rollout.release_id,
                     ", ".join(late))
        if rollout.state != "running":
            return
        wave = waves[rollout.current_wave - 1]
        if _failure_reached(rollout, wave):
            reasons = "; ".join(f"{f['village']}: {f['reason']}" for f in wave.failures[:5])
            reason = f"wave {wave.number}: {wave.failed} of {len(wave.villages)} failed ({reasons})"
            await tx.set_rollout_state(rollout.id, "paused", reason)
            await audit.record(tx, audit.SCHEDULER_USER, "rollout_pause", f"rollout:{rollout.id}", rollout.scope, reason)
            log.warning("rollout %d of %s paused: %s", rollout.id, rollout.release_id, reason)
            return
        if wave.sent < len(wave.villages) or wave.succeeded * 100 < rollout.success_pct * len(wave.villages):
            return
        if rollout.current_wave == rollout.last_wave:
            await tx.set_rollout_state(rollout.id, "finished", None)
            await audit.record(tx, audit.SCHEDULER_USER, "rollout_finish", f"rollout:{rollout.id}", rollout.scope,
                               rollout.release_id)
            return
        await _start_wave(tx, down, rollout, rollout.current_wave + 1)


async def view_waves(store: HubStore, rollout_id: int) -> list[WaveProgress]:
    rollout = await store.get_rollout(rollout_id)
    if rollout is None:
        raise NotFound(f"没有升级批次 {rollout_id}。No rollout {rollout_id}.", "unknown_rollout")
    documents = {vid: row.document for vid, row in (await store.status_rows()).items()}
    return progress(rollout, await store.rollout_villages(rollout_id), documents)


def rollout_json(rollout: Rollout, waves: list[WaveProgress]) -> dict[str, Any]:
    """The contract's `{id, release, state, waves: [{villages, state, succeeded, failed}]}`, and the rest."""
    return {"id": rollout.id, "release": rollout.release_id, "version": rollout.version, "target": rollout.target,
            "scope": rollout.scope, "state": rollout.state, "current_wave": rollout.current_wave,
            "success_threshold": rollout.success_pct, "error_threshold": rollout.error_pct,
            "max_failures": rollout.max_failures, "author": rollout.author, "approver": rollout.approver,
            "reason": rollout.reason, "created_at": rollout.created_at, "changed_at": rollout.changed_at,
            "waves": [w.to_json() for w in waves]}


async def list_json(store: HubStore, actor: Actor) -> list[dict[str, Any]]:
    require_role(actor, "admin")
    documents = {vid: row.document for vid, row in (await store.status_rows()).items()}
    out = []
    for rollout in await store.list_rollouts():
        placed: list[RolloutVillage] = await store.rollout_villages(rollout.id)
        out.append(rollout_json(rollout, progress(rollout, placed, documents)))
    return out
