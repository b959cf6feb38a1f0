"""The hub's storage behind a narrow async interface: reads here, writes through `transaction()` (see store_tx).

SQLite with one writer (protocol.database); a city that outgrows one machine can put PostgreSQL behind the same
methods without touching the sync logic.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from protocol.database import Database
from protocol.feed import GENESIS

from .models import (
    VILLAGE_COLUMNS,
    VILLAGE_FROM,
    Head,
    Notice,
    Recording,
    Reply,
    StatusRow,
    Stream,
    Submission,
    Village,
)
from .rollout_store import ROLLOUT_SCHEMA, RolloutsReads
from .schema import SCHEMA
from .schema_migrations import migrate
from .store_audit import AuditReads
from .store_bundles import BUNDLES_SCHEMA, BundlesReads
from .store_cases import CasesReads
from .store_officials import OfficialsReads, within_scope_sql
from .store_stats_cases import CASE_STATS_SCHEMA, CaseStatsReads
from .store_tx import Tx
from .store_usage import USAGE_SCHEMA, UsageReads
from .validate import now


class HubStore(OfficialsReads, AuditReads, CasesReads, UsageReads, CaseStatsReads, BundlesReads, RolloutsReads):
    def __init__(self, path: Path) -> None:
        self._db = Database(path)
        # Where write transactions get their time: tests of deadlines set a day in a holiday week here.
        self.clock: Callable[[], float] = now

    async def open(self) -> None:
        await self._db.open(SCHEMA + USAGE_SCHEMA + CASE_STATS_SCHEMA + BUNDLES_SCHEMA + ROLLOUT_SCHEMA)
        async with self._db.write() as conn:
            await migrate(conn)

    async def close(self) -> None:
        await self._db.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One write transaction; its after-commit hooks run once it is durably committed."""
        async with self._db.write() as conn:
            tx = Tx(conn, self.clock())
            yield tx
        tx.committed()

    # villages

    async def get_village(self, village_id: str) -> Village | None:
        row = await self._db.fetchone(f"SELECT {VILLAGE_COLUMNS} FROM {VILLAGE_FROM} WHERE v.id = ?", (village_id,))
        return Village.from_row(row) if row else None

    async def list_villages(self, after_id: str = "", limit: int = 1000) -> list[Village]:
        rows = await self._db.fetchall(
            f"SELECT {VILLAGE_COLUMNS} FROM {VILLAGE_FROM} WHERE v.id > ? ORDER BY v.id LIMIT ?", (after_id, limit)
        )
        return [Village.from_row(r) for r in rows]

    async def villages_to_poll(self) -> list[Village]:
        rows = await self._db.fetchall(
            f"SELECT {VILLAGE_COLUMNS} FROM {VILLAGE_FROM} WHERE v.edge_url IS NOT NULL ORDER BY v.id"
        )
        return [Village.from_row(r) for r in rows]

    async def count_villages(self) -> int:
        return int(await self._db.fetchvalue("SELECT count(*) FROM villages", default=0))

    # feeds

    async def down_head(self, village_id: str) -> Head:
        row = await self._db.fetchone(
            "SELECT seq, hash FROM down_entries WHERE village_id = ? ORDER BY seq DESC LIMIT 1", (village_id,)
        )
        return Head(row["seq"], row["hash"]) if row else Head(0, GENESIS)

    async def down_entries_after(
        self, village_id: str, after: int, limit: int
    ) -> list[tuple[int, bytes, bytes, bytes]]:
        """(seq, prev, op msgpack, hash) of the entries after `after`, in order."""
        rows = await self._db.fetchall(
            "SELECT seq, prev, op, hash FROM down_entries WHERE village_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (village_id, after, limit),
        )
        return [(r["seq"], r["prev"], r["op"], r["hash"]) for r in rows]

    async def down_heads(self) -> dict[str, int]:
        rows = await self._db.fetchall(
            "SELECT v.id AS id, coalesce(max(d.seq), 0) AS seq FROM villages v "
            "LEFT JOIN down_entries d ON d.village_id = v.id GROUP BY v.id ORDER BY v.id"
        )
        return {r["id"]: r["seq"] for r in rows}

    async def down_bytes_after(self, village_id: str, after: int) -> int:
        """Bytes of ops in the down feed after `after` (what an edge at `after` still has to fetch)."""
        value = await self._db.fetchvalue(
            "SELECT COALESCE(SUM(length(op)), 0) FROM down_entries WHERE village_id = ? AND seq > ?",
            (village_id, after),
            default=0,
        )
        return int(value)

    async def up_head(self, village_id: str) -> Head:
        row = await self._db.fetchone("SELECT seq, hash FROM up_heads WHERE village_id = ?", (village_id,))
        return Head(row["seq"], row["hash"]) if row else Head(0, GENESIS)

    async def is_edge_key_revoked(self, key: bytes) -> bool:
        return await self._db.fetchone("SELECT 1 FROM revoked_edge_keys WHERE key = ?", (key,)) is not None

    # notices

    async def get_notice(self, notice_id: str) -> Notice | None:
        row = await self._db.fetchone("SELECT * FROM notices WHERE id = ?", (notice_id,))
        return Notice.from_row(row) if row else None

    async def list_notices(
        self, state: str | None, before_n: int | None, limit: int, within: str = "city", viewer: str = "",
        author: str | None = None,
    ) -> list[Notice]:
        """Newest first; `before_n` is the cursor of the previous page; `within` keeps notices with a target inside
        that scope, and the `viewer`'s own; `author` keeps that official's notices only."""
        sql = "SELECT * FROM notices WHERE 1 = 1"
        params: list[Any] = []
        if within != "city":
            condition, scope_params = within_scope_sql("t.scope", within)
            sql += f" AND (id IN (SELECT t.notice_id FROM notice_targets t WHERE {condition}) OR author = ?)"
            params.extend([*scope_params, viewer])
        if author is not None:
            sql += " AND author = ?"
            params.append(author)
        if state is not None:
            sql += " AND state = ?"
            params.append(state)
        if before_n is not None:
            sql += " AND n < ?"
            params.append(before_n)
        rows = await self._db.fetchall(sql + " ORDER BY n DESC LIMIT ?", [*params, limit])
        return [Notice.from_row(r) for r in rows]

    async def due_scheduled_notices(self, at: float) -> list[str]:
        """Ids of approved notices whose publish_at has come by `at`, the earliest first."""
        rows = await self._db.fetchall(
            "SELECT id FROM notices WHERE state = 'scheduled' AND publish_at <= ? ORDER BY publish_at, n", (at,)
        )
        return [r["id"] for r in rows]

    # submissions and replies

    async def get_submission(self, submission_id: str, village_id: str | None = None) -> Submission | None:
        """The village's submission with this id; without a village, the first one received under the id."""
        if village_id is None:
            row = await self._db.fetchone("SELECT * FROM submissions WHERE id = ? ORDER BY n LIMIT 1", (submission_id,))
        else:
            row = await self._db.fetchone(
                "SELECT * FROM submissions WHERE village_id = ? AND id = ?", (village_id, submission_id)
            )
        return Submission.from_row(row) if row else None

    async def villages_with_submission(self, submission_id: str) -> list[str]:
        """Every village that sent a submission with this id (ids are unique per village only)."""
        rows = await self._db.fetchall(
            "SELECT village_id FROM submissions WHERE id = ? ORDER BY n", (submission_id,)
        )
        return [r["village_id"] for r in rows]

    async def list_submissions(self, village_id: str | None, before_n: int | None, limit: int) -> list[Submission]:
        """Newest first; `before_n` is the cursor of the previous page."""
        sql = "SELECT * FROM submissions WHERE 1 = 1"
        params: list[Any] = []
        if village_id is not None:
            sql += " AND village_id = ?"
            params.append(village_id)
        if before_n is not None:
            sql += " AND n < ?"
            params.append(before_n)
        rows = await self._db.fetchall(sql + " ORDER BY n DESC LIMIT ?", [*params, limit])
        return [Submission.from_row(r) for r in rows]

    async def replies_for(self, subs: list[Submission]) -> dict[tuple[str, str], list[Reply]]:
        """The replies of each submission, keyed by (village id, submission id)."""
        out: dict[tuple[str, str], list[Reply]] = {(s.village_id, s.id): [] for s in subs}
        if not subs:
            return out
        marks = ",".join("?" * len(subs))
        rows = await self._db.fetchall(
            f"SELECT * FROM replies WHERE submission_id IN ({marks}) ORDER BY n", [s.id for s in subs]
        )
        for r in rows:
            out.get((r["village_id"], r["submission_id"]), []).append(Reply.from_row(r))
        return out

    async def count_submissions(self) -> int:
        return int(await self._db.fetchvalue("SELECT count(*) FROM submissions", default=0))

    async def edge_record_body(self, village_id: str, kind: str, record_id: str) -> dict[str, Any] | None:
        """The latest body an edge sent for one of its own records (a final vote tally, a device status...)."""
        row = await self._db.fetchone(
            "SELECT body FROM edge_records WHERE village_id = ? AND kind = ? AND id = ?", (village_id, kind, record_id)
        )
        return json.loads(row["body"]) if row else None

    async def vote_choices(self, village_id: str, question_id: str) -> list[tuple[int, str, Any]]:
        """(up seq, voter, choice) of every vote the village sent on a question, as the hub holds them.

        The voter is the household the edge named (two TVs of one house count once, as at the edge), or the device
        for a vote sent before households travelled up; the prefixes keep the two kinds of id apart."""
        rows = await self._db.fetchall(
            "SELECT up_seq, coalesce('household:' || household_id, 'device:' || device_id) AS voter,"
            " json_extract(body, '$.choice') AS choice FROM submissions"
            " WHERE village_id = ? AND kind = 'vote' AND json_extract(body, '$.question_id') = ?",
            (village_id, question_id),
        )
        return [(r["up_seq"], r["voter"], r["choice"]) for r in rows]

    # streams and recordings

    async def get_stream(self, stream_id: str) -> Stream | None:
        row = await self._db.fetchone("SELECT * FROM streams WHERE id = ?", (stream_id,))
        return Stream.from_row(row) if row else None

    async def list_streams(self, limit: int = 1000) -> list[Stream]:
        """Newest first."""
        rows = await self._db.fetchall("SELECT * FROM streams ORDER BY created_at DESC LIMIT ?", (limit,))
        return [Stream.from_row(r) for r in rows]

    async def get_recording(self, village_id: str, recording_id: str) -> Recording | None:
        row = await self._db.fetchone(
            "SELECT size, sha256, completed_at FROM recordings WHERE village_id = ? AND id = ?",
            (village_id, recording_id),
        )
        return Recording(row["size"], row["sha256"], row["completed_at"]) if row else None

    # blobs and status

    async def blob_meta(self, sha256: str) -> tuple[int, str] | None:
        row = await self._db.fetchone("SELECT size, mime FROM blobs WHERE sha256 = ?", (sha256,))
        return (row["size"], row["mime"]) if row else None

    async def status_rows(self) -> dict[str, StatusRow]:
        rows = await self._db.fetchall("SELECT * FROM status")
        return {r["village_id"]: StatusRow.from_row(r) for r in rows}

    async def status_history(self, village_id: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self._db.fetchall(
            "SELECT at, ok, error, latency_ms, summary FROM status_history WHERE village_id = ? "
            "ORDER BY n DESC LIMIT ?",
            (village_id, limit),
        )
        return [
            {
                "at": r["at"],
                "ok": bool(r["ok"]),
                "error": r["error"],
                "latency_ms": r["latency_ms"],
                "summary": json.loads(r["summary"]) if r["summary"] else None,
            }
            for r in rows
        ]
