"""Only the hub's signed acknowledgement marks a resident's submission delivered.

Security review finding (medium): submissions were marked delivered from the unsigned `GET …/up` answer or from a
push answer without an ack, though the docs promise only the signed ack does that. A man in the middle who strips
the acks (or writes his own `seq` and `hash`) must leave the submissions queued.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from edge.residents.outbox import queue_depth
from protocol.feed import GENESIS

from .rig import Rig


def submission() -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "kind": "feedback", "device_id": "stb-ack-test",
            "created_at": "2026-12-07T08:00:00Z", "body": {"text": "路灯坏了"}}


async def strip_acks(request: web.Request, status: int, body: bytes) -> bytes | None:
    if not request.path.endswith("/up") or status != 200:
        return None
    answer = json.loads(body)
    answer.pop("ack", None)
    return json.dumps(answer).encode()


async def test_answers_without_the_signed_ack_leave_submissions_queued_until_a_signed_ack_comes(rig: Rig) -> None:
    rig.mitm.tamper = strip_acks
    sub = submission()
    village = rig.rt.holder.current.village_id  # type: ignore[union-attr]
    await rig.rt.outbox.submit(village, sub)
    await rig.until("the submission at the hub", lambda: rig.kit.hub.store.get_submission(sub["id"]))
    await rig.error_contains("no signed acknowledgement")
    assert await queue_depth(rig.rt.db) == 1  # the hub holds it, but nobody signed that: still queued here

    rig.mitm.tamper = None
    await rig.until("delivered", lambda: _delivered(rig))


async def test_a_forged_position_of_the_hub_marks_nothing_delivered(rig: Rig) -> None:
    sub = submission()
    village = rig.rt.holder.current.village_id  # type: ignore[union-attr]

    async def forge(request: web.Request, status: int, body: bytes) -> bytes | None:
        if request.path.endswith("/up") and request.method == "GET":
            # "The hub holds nothing" would make the edge resend; "it holds entry 1" must not mark it delivered.
            entry = await rig.rt.db.fetchone("SELECT hash FROM up_entries WHERE seq = 1")
            return json.dumps({"seq": 1, "hash": bytes(entry["hash"] if entry else GENESIS).hex()}).encode()
        if request.path.endswith("/up") and request.method == "POST":
            return web.Response(status=503, text="the line is cut")
        return None

    rig.mitm.tamper = forge
    await rig.rt.outbox.submit(village, sub)
    await rig.error_contains("no signed acknowledgement")
    assert await queue_depth(rig.rt.db) == 1


async def _delivered(rig: Rig) -> bool:
    return await queue_depth(rig.rt.db) == 0
