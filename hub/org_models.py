"""Plain records of the organisation and its officials (towns, units, accounts, sessions, audit entries).

Rows become these at the store boundary, as in hub/models.py; the JSON forms carry names beside ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Row
from .validate import rfc3339

ROLES = ("admin", "editor", "reviewer", "dispatcher", "handler", "viewer")


@dataclass(frozen=True)
class Town:
    id: str
    name: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    parent: str  # 'city' or 'town:ID'

    @classmethod
    def from_row(cls, row: Row) -> Unit:
        return cls(row["id"], row["name"], row["parent"])


@dataclass(frozen=True)
class Official:
    username: str
    name: str
    roles: tuple[str, ...]
    scope: str
    pw_hash: str
    failed_logins: int
    locked_until: float | None
    disabled_at: float | None
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: Row) -> Official:
        values = {k: row[k] for k in cls.__dataclass_fields__ if k != "roles"}
        return cls(roles=tuple(r for r in row["roles"].split(",") if r), **values)

    def to_json(self, scope_name: str) -> dict[str, object]:
        """The contract's `{user, name, roles, scope}`, plus the scope's name and the account's state."""
        return {
            "user": self.username,
            "name": self.name,
            "roles": list(self.roles),
            "scope": self.scope,
            "scope_name": scope_name,
            "disabled": self.disabled_at is not None,
            "locked_until": rfc3339(self.locked_until),
        }


@dataclass(frozen=True)
class Session:
    token_hash: str
    username: str
    kind: str  # 'bearer' or 'cookie'
    csrf: str
    created_at: float
    expires_at: float

    @classmethod
    def from_row(cls, row: Row) -> Session:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: float
    username: str
    action: str
    target: str
    scope: str
    detail: str
    prev: bytes
    hash: bytes

    @classmethod
    def from_row(cls, row: Row) -> AuditEntry:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})

    def to_json(self) -> dict[str, object]:
        return {"seq": self.seq, "at": rfc3339(self.at), "user": self.username, "action": self.action,
                "target": self.target, "scope": self.scope, "detail": self.detail, "hash": self.hash.hex()}
