"""Plain records the store hands out (villages, notices, submissions, replies, status, streams), and their JSON forms.

Rows become these dataclasses at the store boundary, so no caller depends on SQLite rows (a later PostgreSQL store
returns the same objects).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from protocol.keys import node_id

from .validate import rfc3339

# sqlite3.Row (and a future driver's row) indexed by column name.
Row = Any

VILLAGE_COLUMNS = "v.*, t.name AS town_name"
VILLAGE_FROM = "villages v JOIN towns t ON t.id = v.town_id"


@dataclass(frozen=True)
class Village:
    id: str
    name: str
    town_id: str
    town_name: str
    edge_url: str | None
    edge_key: bytes | None
    enrolled_at: float | None
    enroll_token_hash: str | None
    token_expires_at: float | None
    token_used_by: bytes | None
    created_at: float
    last_sync_at: float | None

    @classmethod
    def from_row(cls, row: Row) -> Village:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})

    @property
    def node_id(self) -> str | None:
        return node_id(self.edge_key) if self.edge_key else None


@dataclass(frozen=True)
class Notice:
    id: str
    title: str
    body: str
    area: str
    priority: str
    scope: str
    state: str
    created_at: float
    published_at: float | None
    expires_at: float | None
    withdrawn_at: float | None
    attachments: list[dict[str, Any]]
    n: int = 0
    author: str | None = None  # the official who drafted it; None for the admin token
    publish_at: float | None = None
    submitted_at: float | None = None
    reviewed_by: str | None = None
    reviewed_at: float | None = None
    reject_reason: str | None = None
    updated_at: float | None = None

    @property
    def targets(self) -> list[str]:
        """The places it goes to: one scope, or several (a comma list in `scope`)."""
        return self.scope.split(",")

    @classmethod
    def from_row(cls, row: Row) -> Notice:
        values = {k: row[k] for k in cls.__dataclass_fields__ if k != "attachments"}
        return cls(attachments=json.loads(row["attachments"]), **values)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "area": self.area,
            "priority": self.priority,
            "scope": self.scope,
            "state": self.state,
            "created_at": rfc3339(self.created_at),
            "published_at": rfc3339(self.published_at),
            "expires_at": rfc3339(self.expires_at),
            "withdrawn_at": rfc3339(self.withdrawn_at),
            "attachments": self.attachments,
            "targets": self.targets,
            "author": self.author,
            "publish_at": rfc3339(self.publish_at),
            "submitted_at": rfc3339(self.submitted_at),
            "reviewed_by": self.reviewed_by,
            "reviewed_at": rfc3339(self.reviewed_at),
            "reject_reason": self.reject_reason,
        }


@dataclass(frozen=True)
class Reply:
    id: str
    submission_id: str
    village_id: str
    text: str
    by: str
    at: float
    down_seq: int

    @classmethod
    def from_row(cls, row: Row) -> Reply:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "by": self.by, "at": rfc3339(self.at)}


@dataclass(frozen=True)
class Submission:
    id: str
    village_id: str
    kind: str
    device_id: str
    body: dict[str, Any]
    created_at: str
    received_at: float
    up_seq: int
    n: int = 0
    household_id: str | None = None  # the edge's opaque id of a paired device's household

    @classmethod
    def from_row(cls, row: Row) -> Submission:
        values = {k: row[k] for k in cls.__dataclass_fields__ if k != "body"}
        return cls(body=json.loads(row["body"]), **values)

    def to_json(self, replies: list[Reply]) -> dict[str, Any]:
        return {
            "id": self.id,
            "village_id": self.village_id,
            "kind": self.kind,
            "device_id": self.device_id,
            "body": self.body,
            "created_at": self.created_at,
            "received_at": rfc3339(self.received_at),
            "replies": [r.to_json() for r in replies],
        }


@dataclass(frozen=True)
class StatusRow:
    village_id: str
    last_status_at: float | None
    last_attempt_at: float | None
    consecutive_failures: int
    last_error: str | None
    document: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: Row) -> StatusRow:
        doc = row["document"]
        values = {k: row[k] for k in cls.__dataclass_fields__ if k != "document"}
        return cls(document=json.loads(doc) if doc else None, **values)


@dataclass(frozen=True)
class Stream:
    """A live stream the hub relays (hub/streams.py); `ended_at` is set once staff end it."""

    id: str
    title: str
    area: str
    scope: str
    source_url: str
    created_at: float
    ended_at: float | None

    @classmethod
    def from_row(cls, row: Row) -> Stream:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "area": self.area, "scope": self.scope,
                "source_url": self.source_url, "created_at": rfc3339(self.created_at),
                "ended_at": rfc3339(self.ended_at), "state": "ended" if self.ended_at else "live",
                "url": f"/streams/{self.id}/index.m3u8"}


@dataclass(frozen=True)
class Recording:
    """A meeting recording an edge is uploading (hub/recordings.py): what it declared, and whether it is whole."""

    size: int
    sha256: str
    completed_at: float | None


@dataclass(frozen=True)
class Head:
    """How far a feed goes: the last entry's seq and hash (0 and 32 zero bytes for an empty feed)."""

    seq: int
    hash: bytes
