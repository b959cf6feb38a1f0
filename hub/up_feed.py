"""Receiving a village's up feed: verify the batch, then apply what is new and the new head in one transaction.

A refused batch changes nothing; a replayed one applies nothing; a submission is stored once by its client UUID,
whatever the number of times its entry arrives (by line or by USB stick), and its case is opened in the same
transaction only when the submission is new: one submission, one case.
"""

from __future__ import annotations

import asyncio
import logging

from protocol.errors import (
    ChainError,
    OwnershipError,
    ProtocolError,
    SequenceError,
    SignatureError,
    TooLarge,
    UnknownKey,
    WrongVillage,
)
from protocol.feed import Batch, Entry, feed_name, new_entries, open_batch
from protocol.records import SUBMISSION_KINDS

from . import cases
from .down_feed import DownFeed
from .errors import BadInput, HubError
from .local_replies import keep_local_reply
from .models import Head, Submission, Village
from .store import HubStore
from .store_tx import Tx
from .usage import keep_usage_day
from .validate import is_uuid, jsonable, parse_rfc3339

log = logging.getLogger(__name__)

MAX_DEVICE_ID = 200

# How each refusal reads to the edge (docs/sync-protocol.md): 400 malformed or broken chain, 403 a key or
# village that does not belong, 409 a batch that does not start where the hub stands.
_STATUS: list[tuple[type[ProtocolError], int]] = [
    (TooLarge, 413),
    (SequenceError, 409),
    (UnknownKey, 403),
    (SignatureError, 403),
    (WrongVillage, 403),
    (OwnershipError, 403),
    (ChainError, 400),
]


class UpRefused(HubError):
    def __init__(self, status: int, code: str, detail: str, have: int) -> None:
        super().__init__(detail, code, have=have)
        self.status = status


def _refusal(exc: ProtocolError, have: int) -> UpRefused:
    status = next((s for t, s in _STATUS if isinstance(exc, t)), 400)
    return UpRefused(status, exc.code, exc.detail, have)


def submission_from_op(village_id: str, entry: Entry, received_at: float) -> Submission:
    """The submission carried by a put op, checked field by field (refusing the batch if one is bad)."""
    op = entry.op
    body = op["body"]
    where = f"entry {entry.seq}"
    if not is_uuid(op["id"]):
        raise BadInput(f"{where}: a submission id must be the client's UUID", "malformed")
    kind = body.get("kind")
    if kind not in SUBMISSION_KINDS:
        raise BadInput(f"{where}: submission kind {kind!r} is unknown", "malformed")
    device_id = body.get("device_id")
    if not isinstance(device_id, str) or not 1 <= len(device_id) <= MAX_DEVICE_ID:
        raise BadInput(f"{where}: device_id must be a string of 1 to {MAX_DEVICE_ID} characters", "malformed")
    inner = body.get("body")
    if not isinstance(inner, dict):
        raise BadInput(f"{where}: a submission's body must be a map", "malformed")
    created_at = body.get("created_at")
    try:
        parse_rfc3339(created_at, "created_at")
    except BadInput:
        raise BadInput(f"{where}: created_at must be an RFC 3339 time", "malformed") from None
    assert isinstance(created_at, str)
    household = body.get("household_id")
    if household is not None and (not isinstance(household, str) or not 1 <= len(household) <= MAX_DEVICE_ID):
        raise BadInput(f"{where}: household_id must be a string of 1 to {MAX_DEVICE_ID} characters", "malformed")
    return Submission(
        id=op["id"],
        village_id=village_id,
        kind=kind,
        device_id=device_id,
        body=jsonable(inner),
        created_at=created_at,
        received_at=received_at,
        up_seq=entry.seq,
        household_id=household,
    )


async def _apply(tx: Tx, down: DownFeed, village_id: str, fresh: list[Entry]) -> int:
    """Validate every op first, then write: a bad op anywhere refuses the whole batch."""
    subs = [
        submission_from_op(village_id, e, tx.now)
        for e in fresh
        if e.op["kind"] == "submission" and e.op["op"] == "put"
    ]
    await tx.insert_up_entries(village_id, fresh)
    stored = 0
    for sub in subs:
        if await tx.insert_submission(sub):
            stored += 1
            if sub.kind == "rating":
                await cases.rate(tx, down, sub)
            else:
                await cases.open_for_submission(tx, down, sub)
    for e in fresh:
        if e.op["kind"] == "submission":
            continue  # submissions are immutable once sent; a delete of one changes nothing here
        if e.op["kind"] == "usage_day":
            await keep_usage_day(tx, village_id, e.op)  # its own table, one final row per village and day
            continue
        if e.op["op"] == "put":
            await tx.put_edge_record(village_id, e.op)
            if e.op["kind"] == "local_reply" and await keep_local_reply(tx, village_id, e.op):
                await cases.answered_locally(tx, down, village_id, e.op)
            elif e.op["kind"] == "submission_handover":
                await cases.handed_to_town(tx, down, village_id, e.op)
        else:
            await tx.delete_edge_record(village_id, e.op["kind"], e.op["id"])
    return stored


async def receive_up_batch(store: HubStore, village: Village, data: bytes, down: DownFeed | None = None) -> Head:
    """Verify and apply an up batch from the village's enrolled edge; returns what the hub now holds.

    `down` is the hub's down feed, whose long polls learn of the cases' `case_status` records at once; without
    it (a one-shot command) they are found by the polls' own re-read within seconds.
    """
    down = down or DownFeed(store)
    enrolled = village.edge_key

    def trusted(key: bytes) -> bool:
        return enrolled is not None and key == enrolled

    try:
        # Hashing every entry of a batch of up to 8 MiB is CPU work: keep it off the event loop.
        batch: Batch = await asyncio.to_thread(open_batch, data, feed_name("up", village.id), "edge", trusted)
    except ProtocolError as exc:
        have = (await store.up_head(village.id)).seq
        log.warning("refused up batch from village %s: %s (%s)", village.id, exc.detail, exc.code)
        raise _refusal(exc, have) from None
    async with store.transaction() as tx:
        head = await tx.up_head(village.id)
        try:
            fresh = new_entries(batch, head.seq, head.hash)
        except ProtocolError as exc:
            log.warning("refused up batch from village %s: %s (%s)", village.id, exc.detail, exc.code)
            raise _refusal(exc, head.seq) from None
        if not fresh:
            return head
        try:
            stored = await _apply(tx, down, village.id, fresh)
        except BadInput as exc:
            log.warning("refused up batch from village %s: %s", village.id, exc.detail)
            raise UpRefused(400, "malformed", exc.detail, head.seq) from None
        new_head = Head(fresh[-1].seq, fresh[-1].hash)
        await tx.set_up_head(village.id, new_head)
    log.info(
        "village %s up feed %d -> %d (%d new submissions)", village.id, head.seq, new_head.seq, stored
    )
    return new_head
