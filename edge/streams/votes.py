"""Votes during a meeting: a question shown on every TV watching, answered by remote as `vote` submissions.

The live tally is counted from the submissions on this box; closing the question fixes the cutoff in the up
feed and sends the final tally to the hub as a `vote_tally` record, which the hub can recount from the votes.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from edge.feeds.up_append import append_up_op, up_head_in
from edge.residents.outbox import votes_cast, votes_cast_in
from protocol.database import Database
from protocol.vote_count import count_votes

from .errors import StreamRefused
from .service import StreamsService

MAX_QUESTION = 200
MAX_CHOICE = 40
MAX_CHOICES = 9  # the digits on a remote


def _question_view(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "stream_id": row["stream_id"], "text": row["text"],
            "choices": json.loads(row["choices"]), "open": row["closed_at"] is None,
            "opened_at": row["opened_at"], "closed_at": row["closed_at"]}


async def open_vote(service: StreamsService, stream_id: str, text: str, choices: list[str]) -> dict[str, Any]:
    """Put a question on every TV watching `stream_id`; one open question per stream at a time."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_QUESTION:
        raise StreamRefused(422, "bad_question", f"请填写问题，最多 {MAX_QUESTION} 个字。The question must be 1-{MAX_QUESTION} characters.")
    if (not isinstance(choices, list) or not 2 <= len(choices) <= MAX_CHOICES
            or any(not isinstance(c, str) or not c.strip() or len(c) > MAX_CHOICE for c in choices)
            or len({c.strip() for c in choices}) != len(choices)):
        raise StreamRefused(422, "bad_choices", f"请给出 2 到 {MAX_CHOICES} 个不同的选项。Give 2 to {MAX_CHOICES} different choices.")
    question_id = f"q-{secrets.token_hex(6)}"
    async with service.db.write() as conn:
        async with conn.execute("SELECT id FROM vote_questions WHERE stream_id = ? AND closed_at IS NULL",
                                (stream_id,)) as cur:
            if await cur.fetchone() is not None:
                raise StreamRefused(409, "vote_open", "这个直播已经有一个正在进行的表决，请先结束它。"
                                    "A question is already open on this stream; close it first.")
        await conn.execute(
            "INSERT INTO vote_questions (id, stream_id, text, choices, opened_at) VALUES (?, ?, ?, ?, ?)",
            (question_id, stream_id, text.strip(), json.dumps([c.strip() for c in choices], ensure_ascii=False),
             time.time()),
        )
    question = await get_question(service.db, question_id)
    assert question is not None
    return question


async def get_question(db: Database, question_id: str) -> dict[str, Any] | None:
    row = await db.fetchone("SELECT * FROM vote_questions WHERE id = ?", (question_id,))
    return _question_view(row) if row else None


async def current_question(db: Database, stream_id: str) -> dict[str, Any] | None:
    """The open question of a stream, which every TV watching it shows."""
    row = await db.fetchone(
        "SELECT * FROM vote_questions WHERE stream_id = ? AND closed_at IS NULL ORDER BY opened_at DESC LIMIT 1",
        (stream_id,),
    )
    return _question_view(row) if row else None


async def tally(db: Database, question_id: str) -> dict[str, Any]:
    """The tally now (live while open, final once closed): {question_id, text, choices, counts, voters, open}."""
    row = await db.fetchone("SELECT * FROM vote_questions WHERE id = ?", (question_id,))
    if row is None:
        raise StreamRefused(404, "unknown_question", f"没有这个表决 {question_id}。No question {question_id}.")
    choices = json.loads(row["choices"])
    counted = count_votes(await votes_cast(db, question_id), choices, row["cutoff_up_seq"])
    return {"question_id": question_id, "stream_id": row["stream_id"], "text": row["text"], "choices": choices,
            "open": row["closed_at"] is None, **counted}


async def close_vote(service: StreamsService, question_id: str) -> dict[str, Any]:
    """Close the question: votes after this moment do not count; the final tally goes up to the hub.

    The cutoff, the tally and its up entry commit together, so a crash cannot close a vote without sending it.
    """
    async with service.db.write() as conn:
        async with conn.execute("SELECT * FROM vote_questions WHERE id = ?", (question_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise StreamRefused(404, "unknown_question", f"没有这个表决 {question_id}。No question {question_id}.")
        if row["closed_at"] is None:
            cutoff = await up_head_in(conn)
            closed_at = time.time()
            await conn.execute("UPDATE vote_questions SET closed_at = ?, cutoff_up_seq = ? WHERE id = ?",
                               (closed_at, cutoff, question_id))
            choices = json.loads(row["choices"])
            counted = count_votes(await votes_cast_in(conn, question_id), choices, cutoff)
            if service.village_id:
                body = {"stream_id": row["stream_id"], "text": row["text"], "choices": choices,
                        "counts": counted["counts"], "voters": counted["voters"], "cutoff_up_seq": cutoff,
                        "closed_at": closed_at}
                await append_up_op(conn, service.village_id,
                                   {"op": "put", "kind": "vote_tally", "id": question_id, "body": body, "blobs": []})
    return await tally(service.db, question_id)
