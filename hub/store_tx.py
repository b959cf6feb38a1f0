"""Everything the hub writes, as methods of one open write transaction (`Tx`).

Domain modules do their logic between these calls, so a publish, an up batch or a village add commits whole or
not at all. A PostgreSQL store would offer the same methods over its own transaction.
"""

from __future__ import annotations

import json
from typing import Any

from protocol import codec
from protocol.feed import GENESIS, Entry

from .models import VILLAGE_COLUMNS, VILLAGE_FROM, Head, Notice, Stream, Submission, Village
from .rollout_store import RolloutsTx
from .store_audit import AuditTx
from .store_bundles import BundlesTx
from .store_cases import CasesTx
from .store_officials import OfficialsTx
from .store_usage import UsageTx

STATUS_HISTORY_KEEP = 200


class Tx(OfficialsTx, AuditTx, CasesTx, UsageTx, BundlesTx, RolloutsTx):
    # registry

    async def get_village(self, village_id: str) -> Village | None:
        row = await self._one(f"SELECT {VILLAGE_COLUMNS} FROM {VILLAGE_FROM} WHERE v.id = ?", (village_id,))
        return Village.from_row(row) if row else None

    async def ensure_town(self, town_id: str, name: str) -> bool:
        """Create the town when new; True if it was created."""
        n = await self._exec(
            "INSERT OR IGNORE INTO towns (id, name, created_at) VALUES (?, ?, ?)", (town_id, name, self.now)
        )
        return n > 0

    async def insert_village(self, village_id: str, name: str, town_id: str, edge_url: str | None) -> None:
        await self._exec(
            "INSERT INTO villages (id, name, town_id, edge_url, created_at) VALUES (?, ?, ?, ?, ?)",
            (village_id, name, town_id, edge_url, self.now),
        )

    async def update_village(self, village_id: str, name: str, edge_url: str | None) -> None:
        await self._exec("UPDATE villages SET name = ?, edge_url = ? WHERE id = ?", (name, edge_url, village_id))

    async def set_enrolled(self, village_id: str, key: bytes) -> None:
        """Bind the key; a key other than the enrolled one is a new box, whose up feed starts at seq 1 again."""
        row = await self._one("SELECT edge_key FROM villages WHERE id = ?", (village_id,))
        if row is not None and row["edge_key"] is not None and row["edge_key"] != key:
            await self._exec("UPDATE villages SET up_epoch = up_epoch + 1 WHERE id = ?", (village_id,))
            await self._exec("DELETE FROM up_heads WHERE village_id = ?", (village_id,))
        await self._exec(
            "UPDATE villages SET edge_key = ?, token_used_by = ?, enrolled_at = ? WHERE id = ?",
            (key, key, self.now, village_id),
        )

    async def revoke_edge_key(self, key: bytes, village_id: str, reason: str) -> None:
        """Refuse this key for good (its requests, its batches, a later enrollment); revoking twice changes nothing."""
        await self._exec(
            "INSERT OR IGNORE INTO revoked_edge_keys (key, village_id, revoked_at, reason) VALUES (?, ?, ?, ?)",
            (key, village_id, self.now, reason),
        )

    async def touch_last_sync(self, village_id: str) -> None:
        await self._exec("UPDATE villages SET last_sync_at = ? WHERE id = ?", (self.now, village_id))

    async def villages_in_scope(self, scope: str) -> list[str]:
        """Ids of the villages a scope covers now: `city`, `town:ID`, `village:ID`, or several comma-separated."""
        found: set[str] = set()
        for part in scope.split(","):
            kind, _, ident = part.partition(":")
            if kind == "city":
                rows = await self._all("SELECT id FROM villages ORDER BY id")
            elif kind == "town":
                rows = await self._all("SELECT id FROM villages WHERE town_id = ? ORDER BY id", (ident,))
            elif kind == "village":
                rows = await self._all("SELECT id FROM villages WHERE id = ?", (ident,))
            else:
                raise ValueError(f"unknown scope {scope!r}")
            found.update(r["id"] for r in rows)
        return sorted(found)

    async def scope_target_exists(self, scope: str) -> bool:
        """Does every place the scope names (one, or several comma-separated) exist?"""
        for part in scope.split(","):
            kind, _, ident = part.partition(":")
            if kind == "city":
                continue
            table = {"town": "towns", "village": "villages", "unit": "units"}.get(kind)
            if table is None or await self._one(f"SELECT 1 FROM {table} WHERE id = ?", (ident,)) is None:
                return False
        return True

    # down feed

    async def down_head(self, village_id: str) -> Head:
        row = await self._one(
            "SELECT seq, hash FROM down_entries WHERE village_id = ? ORDER BY seq DESC LIMIT 1", (village_id,)
        )
        return Head(row["seq"], row["hash"]) if row else Head(0, GENESIS)

    async def insert_down_entries(self, village_id: str, entries: list[Entry]) -> None:
        await self._conn.executemany(
            "INSERT INTO down_entries (village_id, seq, prev, hash, op, appended_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(village_id, e.seq, e.prev, e.hash, codec.encode(e.op), self.now) for e in entries],
        )

    # up feed

    async def up_head(self, village_id: str) -> Head:
        row = await self._one("SELECT seq, hash FROM up_heads WHERE village_id = ?", (village_id,))
        return Head(row["seq"], row["hash"]) if row else Head(0, GENESIS)

    async def set_up_head(self, village_id: str, head: Head) -> None:
        await self._exec(
            "INSERT INTO up_heads (village_id, seq, hash) VALUES (?, ?, ?) "
            "ON CONFLICT (village_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            (village_id, head.seq, head.hash),
        )

    async def insert_up_entries(self, village_id: str, entries: list[Entry]) -> None:
        await self._conn.executemany(
            "INSERT INTO up_entries (village_id, epoch, seq, prev, hash, op, received_at)"
            " VALUES (?, (SELECT up_epoch FROM villages WHERE id = ?), ?, ?, ?, ?, ?)",
            [(village_id, village_id, e.seq, e.prev, e.hash, codec.encode(e.op), self.now) for e in entries],
        )

    async def insert_submission(self, sub: Submission) -> bool:
        """Store a submission unless its village already sent one with its id; True if it was new.

        Ids are the clients' UUIDs and unique per village only: another village sending the same id gets its own
        submission (issue 14), so no village can claim another's ids first."""
        n = await self._exec(
            "INSERT INTO submissions (id, village_id, kind, device_id, body, created_at, received_at, up_seq,"
            " household_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (village_id, id) DO NOTHING",
            (
                sub.id,
                sub.village_id,
                sub.kind,
                sub.device_id,
                json.dumps(sub.body, ensure_ascii=False),
                sub.created_at,
                sub.received_at,
                sub.up_seq,
                sub.household_id,
            ),
        )
        return n > 0

    async def put_edge_record(self, village_id: str, op: dict[str, Any]) -> None:
        await self._exec(
            "INSERT INTO edge_records (village_id, kind, id, body, blobs, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (village_id, kind, id) DO UPDATE SET body = excluded.body, blobs = excluded.blobs, "
            "updated_at = excluded.updated_at",
            (village_id, op["kind"], op["id"], _json(op["body"]), _json(op["blobs"]), self.now),
        )

    async def delete_edge_record(self, village_id: str, kind: str, record_id: str) -> None:
        await self._exec(
            "DELETE FROM edge_records WHERE village_id = ? AND kind = ? AND id = ?", (village_id, kind, record_id)
        )

    # notices

    async def insert_notice(self, notice: Notice) -> None:
        await self._exec(
            "INSERT INTO notices (id, title, body, area, priority, scope, state, created_at, expires_at, attachments,"
            " author, publish_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                notice.id,
                notice.title,
                notice.body,
                notice.area,
                notice.priority,
                notice.scope,
                notice.state,
                notice.created_at,
                notice.expires_at,
                json.dumps(notice.attachments),
                notice.author,
                notice.publish_at,
                notice.created_at,
            ),
        )
        await self._set_notice_targets(notice.id, notice.scope)

    async def _set_notice_targets(self, notice_id: str, scope: str) -> None:
        await self._exec("DELETE FROM notice_targets WHERE notice_id = ?", (notice_id,))
        await self._conn.executemany(
            "INSERT OR IGNORE INTO notice_targets (notice_id, scope) VALUES (?, ?)",
            [(notice_id, part) for part in scope.split(",")],
        )

    async def update_notice_content(self, notice: Notice) -> None:
        """An edit of a draft or rejected notice: its fields and targets, back to draft."""
        await self._exec(
            "UPDATE notices SET title = ?, body = ?, area = ?, priority = ?, scope = ?, expires_at = ?,"
            " publish_at = ?, attachments = ?, state = 'draft', updated_at = ? WHERE id = ?",
            (notice.title, notice.body, notice.area, notice.priority, notice.scope, notice.expires_at,
             notice.publish_at, json.dumps(notice.attachments), self.now, notice.id),
        )
        await self._set_notice_targets(notice.id, notice.scope)

    async def set_notice_review(self, notice_id: str, state: str, reviewer: str | None, reason: str | None) -> None:
        """A step of review: submitted (in_review), rejected with a reason, or approved (scheduled)."""
        if state == "in_review":
            await self._exec(
                "UPDATE notices SET state = ?, submitted_at = ?, updated_at = ? WHERE id = ?",
                (state, self.now, self.now, notice_id),
            )
        else:
            await self._exec(
                "UPDATE notices SET state = ?, reviewed_by = ?, reviewed_at = ?, reject_reason = ?, updated_at = ?"
                " WHERE id = ?",
                (state, reviewer, self.now, reason, self.now, notice_id),
            )

    async def get_notice(self, notice_id: str) -> Notice | None:
        row = await self._one("SELECT * FROM notices WHERE id = ?", (notice_id,))
        return Notice.from_row(row) if row else None

    async def set_notice_state(self, notice_id: str, state: str, reviewer: str | None = None) -> None:
        """Published or withdrawn, now; `reviewer` is whoever approved or published it, when anyone did."""
        column = {"published": "published_at", "withdrawn": "withdrawn_at"}[state]
        await self._exec(
            f"UPDATE notices SET state = ?, {column} = ?, updated_at = ?,"
            " reviewed_by = coalesce(?, reviewed_by), reviewed_at = coalesce(?, reviewed_at) WHERE id = ?",
            (state, self.now, self.now, reviewer, self.now if reviewer else None, notice_id),
        )

    async def live_notices(self) -> list[Notice]:
        """Published notices that have not expired, oldest publication first."""
        rows = await self._all(
            "SELECT * FROM notices WHERE state = 'published' AND (expires_at IS NULL OR expires_at > ?) "
            "ORDER BY published_at, n",
            (self.now,),
        )
        return [Notice.from_row(r) for r in rows]

    # replies, blobs

    async def get_submission(self, village_id: str, submission_id: str) -> Submission | None:
        row = await self._one(
            "SELECT * FROM submissions WHERE village_id = ? AND id = ?", (village_id, submission_id)
        )
        return Submission.from_row(row) if row else None

    async def insert_reply(
        self, reply_id: str, submission_id: str, village_id: str, text: str, by: str, down_seq: int
    ) -> None:
        await self._exec(
            "INSERT INTO replies (id, submission_id, village_id, text, by, at, down_seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (reply_id, submission_id, village_id, text, by, self.now, down_seq),
        )

    async def put_blob(self, sha256: str, size: int, mime: str) -> None:
        await self._exec(
            "INSERT OR IGNORE INTO blobs (sha256, size, mime, created_at) VALUES (?, ?, ?, ?)",
            (sha256, size, mime, self.now),
        )

    # streams and recordings

    async def get_stream(self, stream_id: str) -> Stream | None:
        row = await self._one("SELECT * FROM streams WHERE id = ?", (stream_id,))
        return Stream.from_row(row) if row else None

    async def insert_stream(self, stream: Stream) -> None:
        await self._exec(
            "INSERT INTO streams (id, title, area, scope, source_url, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (stream.id, stream.title, stream.area, stream.scope, stream.source_url, stream.created_at),
        )

    async def end_stream(self, stream_id: str) -> None:
        await self._exec("UPDATE streams SET ended_at = ? WHERE id = ?", (self.now, stream_id))

    async def live_streams(self) -> list[Stream]:
        """Streams not yet ended, oldest first."""
        rows = await self._all("SELECT * FROM streams WHERE ended_at IS NULL ORDER BY created_at")
        return [Stream.from_row(r) for r in rows]

    async def start_recording(self, village_id: str, recording_id: str, size: int, sha256: str) -> None:
        """Expect a recording of this size and hash from the start (a new size or hash replaces the old upload)."""
        await self._exec(
            "INSERT INTO recordings (village_id, id, size, sha256, started_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (village_id, id) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256,"
            " started_at = excluded.started_at, completed_at = NULL",
            (village_id, recording_id, size, sha256, self.now),
        )

    async def complete_recording(self, village_id: str, recording_id: str) -> None:
        await self._exec(
            "UPDATE recordings SET completed_at = ? WHERE village_id = ? AND id = ?", (self.now, village_id, recording_id)
        )

    # status

    async def record_status(
        self,
        village_id: str,
        ok: bool,
        error: str | None,
        latency_ms: int | None,
        document: dict[str, Any] | None,
        summary: dict[str, Any] | None,
    ) -> None:
        if ok:
            await self._exec(
                "INSERT INTO status (village_id, last_status_at, last_attempt_at, consecutive_failures, last_error,"
                " document) VALUES (?, ?, ?, 0, NULL, ?) ON CONFLICT (village_id) DO UPDATE SET"
                " last_status_at = excluded.last_status_at, last_attempt_at = excluded.last_attempt_at,"
                " consecutive_failures = 0, last_error = NULL, document = excluded.document",
                (village_id, self.now, self.now, _json(document)),
            )
        else:
            await self._exec(
                "INSERT INTO status (village_id, last_attempt_at, consecutive_failures, last_error)"
                " VALUES (?, ?, 1, ?) ON CONFLICT (village_id) DO UPDATE SET"
                " last_attempt_at = excluded.last_attempt_at,"
                " consecutive_failures = status.consecutive_failures + 1, last_error = excluded.last_error",
                (village_id, self.now, error),
            )
        await self._exec(
            "INSERT INTO status_history (village_id, at, ok, error, latency_ms, summary) VALUES (?, ?, ?, ?, ?, ?)",
            (village_id, self.now, int(ok), error, latency_ms, _json(summary) if summary else None),
        )
        # Bounded history: keep the newest rows of this village only.
        await self._exec(
            "DELETE FROM status_history WHERE village_id = ? AND n <= (SELECT n FROM status_history"
            " WHERE village_id = ? ORDER BY n DESC LIMIT 1 OFFSET ?)",
            (village_id, village_id, STATUS_HISTORY_KEEP),
        )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
