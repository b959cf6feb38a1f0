"""One stick, start to finish: check `VILLAGENET/`, apply the bundle, import packs, exchange sync batches, write
diagnostics, then sign a receipt onto the stick (and keep a copy on the box) and record the outcome for the status.

Any refusal leaves the box as it was: the bundle is applied in one rename, packs batch by batch in transactions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.box.provisioned import apply_bundle
from edge.updates.stick_releases import releases_from_stick
from protocol.atomic_file import write_atomically
from protocol.errors import ProtocolError
from protocol.keys import fingerprint
from provisioning.bundle import BUNDLE_LIMITS, STICK_PATH
from provisioning.diagnostics import REQUEST_PATH
from provisioning.receipts import enroll_proof, make_receipt, receipt_path, token_hash
from provisioning.stick import ROOT, Inventory, StickError, StickFS, StickGone, read_capped, take_inventory

from ..runtime import EdgeRuntime
from ..status import VERSION
from .activity import UsbActivity, save_last_operation
from .diag_export import export_diagnostics
from .hardware import hardware_facts
from .pack_import import import_packs
from .sentences import in_chinese
from .sync_exchange import exchange_sync

log = logging.getLogger(__name__)
RECEIPTS_KEPT = ("usb", "receipts")
# A stick refused for what it holds still gets a receipt saying why; other stick errors end the work at once.
_BAD_CONTENT = ("symlink", "unsafe_path", "too_many_files", "too_deep")


def _refusal(what: str, exc: StickError | ProtocolError) -> dict[str, Any]:
    return {"what": what, "result": "refused", "code": exc.code, "detail": exc.detail}


async def _provision(rt: EdgeRuntime, stick: StickFS, inventory: Inventory) -> dict[str, Any] | None:
    found = inventory.find(*STICK_PATH)
    if found is None:
        return None
    path, entry = found
    try:
        data = await asyncio.to_thread(read_capped, stick, path, entry.size, BUNDLE_LIMITS.max_bytes,
                                       "the bundle (provision.vnb)")
        state = await asyncio.to_thread(apply_bundle, rt.config.data_dir, data)
    except (StickError, ProtocolError) as exc:
        if isinstance(exc, StickGone):
            raise
        log.warning("bundle on the stick refused: %s", exc.detail)
        return _refusal("provision", exc)
    rt.holder.refresh()
    log.info("provisioned from a stick for village %s (hub root %s)", state.village_id, state.root_fingerprint)
    return {"what": "provision", "result": "applied", "village_id": state.village_id,
            "village_name": state.village_name, "hub_url": state.hub_url,
            "hub_root_fingerprint": state.root_fingerprint}


async def service_stick(rt: EdgeRuntime, stick: StickFS, device: str, activity: UsbActivity,
                        present: Callable[[], bool]) -> dict[str, Any] | None:
    """Do what the stick asks; returns the summary recorded as the last operation (None: not our stick)."""
    actions: list[dict[str, Any]] = []
    try:
        inventory = await asyncio.to_thread(take_inventory, stick)
    except StickError as exc:
        if exc.code not in _BAD_CONTENT:
            raise  # unreadable or pulled: nothing to write a receipt onto
        actions.append(_refusal("stick", exc))
        inventory = None
    if inventory is None and not actions:
        log.info("stick %s holds no %s/ folder; left alone", device, ROOT)
        return None
    if inventory is not None:
        activity.step("provision")
        done = await _provision(rt, stick, inventory)
        if done is not None:
            actions.append(done)
        refused = done is not None and done["result"] == "refused"
        wants_feeds = bool(inventory.under(ROOT, "packs")) or inventory.has_dir(ROOT, "sync") is not None
        if not refused and rt.holder.current is not None:
            actions.extend(await import_packs(rt, stick, inventory, activity, present))
            if inventory.has_dir(ROOT, "sync"):
                activity.step("sync")
                actions.append(await exchange_sync(rt, stick, inventory, present))
            if inventory.has_dir(ROOT, "firmware"):  # signed releases: checked as from the line (docs/updates.md)
                activity.step("firmware")
                actions.extend(await releases_from_stick(rt.config.data_dir, rt.db, rt.holder.trust(), stick,
                                                         inventory))
        elif not refused and wants_feeds:
            actions.append({"what": "pack", "result": "refused", "code": "not_provisioned",
                            "detail": "this box is not set up yet; put provision.vnb on the stick with the pack"})
        if not refused and inventory.find(*REQUEST_PATH) is not None:
            activity.step("diag")
            actions.append(await export_diagnostics(rt, stick))
    activity.step("receipt")
    return await _finish(rt, stick, device, actions)


def _outcome(actions: list[dict[str, Any]]) -> tuple[str, dict[str, Any] | None]:
    refused = [a for a in actions if a["result"] == "refused"]
    if not actions:
        return "nothing", None
    if refused and len(refused) == len(actions):
        return "refused", refused[0]
    return ("partial", refused[0]) if refused else ("applied", None)


async def _finish(rt: EdgeRuntime, stick: StickFS, device: str, actions: list[dict[str, Any]]) -> dict[str, Any]:
    state = rt.holder.current
    outcome, first_refusal = _outcome(actions)
    now = int(time.time())
    body: dict[str, Any] = {
        "outcome": outcome,
        "code": first_refusal["code"] if first_refusal else None,
        "reason": first_refusal["detail"] if first_refusal else None,
        "reason_zh": in_chinese(first_refusal["code"]) if first_refusal else None,
        "actions": actions,
        "village_id": state.village_id if state else None,
        "hub_root_fingerprint": state.root_fingerprint if state else None,
        "enrolled": bool(state and state.enrolled),
        "enroll_proof": enroll_proof(token_hash(state.enroll_token), rt.holder.key.public) if state else None,
        "hardware": hardware_facts(rt.config.data_dir),
        "software": VERSION,
        "at": now,
    }
    receipt = make_receipt(rt.holder.key, body)
    kept = rt.config.data_dir.joinpath(*RECEIPTS_KEPT, f"{time.time_ns()}-{rt.holder.key.node_id}.vnr")
    await asyncio.to_thread(write_atomically, kept, receipt, 0o644)
    on_stick: str | None = "/".join(receipt_path(rt.holder.key.node_id))
    try:
        await asyncio.to_thread(stick.write_bytes, receipt_path(rt.holder.key.node_id), receipt)
    except StickGone:
        raise
    except (StickError, OSError) as exc:
        log.warning("receipt not written to the stick (%s); kept at %s", exc, kept)
        on_stick = None
    summary = {
        "at": now,
        "device": device,
        "outcome": outcome,
        "code": body["code"],
        "reason": body["reason"],
        "reason_zh": body["reason_zh"],
        "actions": actions,
        "receipt_on_stick": on_stick,
        "receipt_kept": str(kept),
        "node_id": rt.holder.key.node_id,
        "public_key_fingerprint": fingerprint(rt.holder.key.public),
    }
    save_last_operation(rt.config.data_dir, summary)
    return summary


def record_interrupted(data_dir: Path, device: str, detail: str) -> dict[str, Any]:
    summary = {"at": int(time.time()), "device": device, "outcome": "interrupted", "code": "stick_pulled",
               "reason": detail, "reason_zh": in_chinese("stick_pulled"), "actions": [], "receipt_on_stick": None}
    save_last_operation(data_dir, summary)
    return summary


def record_unusable(data_dir: Path, device: str, exc: StickError) -> dict[str, Any]:
    summary = {"at": int(time.time()), "device": device, "outcome": "refused", "code": exc.code,
               "reason": exc.detail, "reason_zh": in_chinese(exc.code), "actions": [], "receipt_on_stick": None}
    save_last_operation(data_dir, summary)
    return summary
