"""Plain records of cases: the case, a step of its history, a routing rule; rows become these at the store.

The JSON forms are the contract's (`GET /api/v1/cases`), with names beside ids where a person reads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .models import Row
from .validate import rfc3339
from .working_days import SHANGHAI

STATE_NAMES = {"new": "待派单", "assigned": "待签收", "in_progress": "办理中", "answered": "已答复", "closed": "已办结"}
OPEN_STATES = ("new", "assigned", "in_progress")


@dataclass(frozen=True)
class Case:
    id: str
    submission_id: str | None
    village_id: str | None
    town_id: str | None
    source: str
    kind: str
    category: str
    text: str
    state: str
    unit: str | None
    handled_by: str | None
    time_limit_days: int
    received_at: float
    accept_by: float | None
    due_at: float | None
    calendar_fallback: bool
    overdue: bool
    escalated_to: str | None
    reopened: bool
    rating: int | None
    extension_request: dict[str, Any] | None
    accepted_at: float | None
    answered_at: float | None
    closed_at: float | None
    updated_at: float
    n: int = 0

    @classmethod
    def from_row(cls, row: Row) -> Case:
        values = {k: row[k] for k in cls.__dataclass_fields__}
        for flag in ("calendar_fallback", "overdue", "reopened"):
            values[flag] = bool(values[flag])
        raw = values["extension_request"]
        values["extension_request"] = json.loads(raw) if raw else None
        return cls(**values)

    @property
    def place(self) -> str:
        """The place whose officials see the case: its village, or the city for one filed through Open311."""
        return f"village:{self.village_id}" if self.village_id else "city"

    @property
    def dispatch_level(self) -> str:
        """Whose dispatchers own it: its village's town, or the city."""
        return f"town:{self.town_id}" if self.town_id else "city"

    @property
    def number(self) -> str:
        """What officials and residents read out on the phone: the day it arrived in Shanghai and the hub's running
        number (`20261207-00042`); the running number alone finds it too (hub/case_search.py)."""
        return datetime.fromtimestamp(self.received_at, SHANGHAI).strftime("%Y%m%d") + f"-{self.n:05d}"

    def to_json(self, names: dict[str, str] | None = None) -> dict[str, Any]:
        names = names or {}
        return {
            "id": self.id,
            "number": self.number,
            "submission_id": self.submission_id,
            "village_id": self.village_id,
            "village_name": names.get(self.place) if self.village_id else None,
            "town_id": self.town_id,
            "source": self.source,
            "kind": self.kind,
            "category": self.category,
            "text": self.text,
            "state": self.state,
            "state_name": STATE_NAMES[self.state],
            "unit": self.unit,
            "unit_name": names.get(f"unit:{self.unit}") if self.unit else None,
            "handled_by": self.handled_by,
            "received_at": rfc3339(self.received_at),
            "accept_by": rfc3339(self.accept_by),
            "due_at": rfc3339(self.due_at),
            "time_limit_days": self.time_limit_days,
            "calendar_fallback": self.calendar_fallback,
            "overdue": self.overdue,
            "escalated_to": self.escalated_to,
            "reopened": self.reopened,
            "rating": self.rating,
            "extension_request": self.extension_request,
            "answered_at": rfc3339(self.answered_at),
            "closed_at": rfc3339(self.closed_at),
        }


@dataclass(frozen=True)
class CaseEvent:
    at: float
    username: str
    action: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"at": rfc3339(self.at), "user": self.username, "action": self.action, "detail": self.detail}


@dataclass(frozen=True)
class RouteRule:
    kind: str
    category: str  # '' matches any category
    unit: str
    days: int

    def to_json(self, names: dict[str, str] | None = None) -> dict[str, Any]:
        return {"kind": self.kind, "category": self.category or None, "unit": self.unit,
                "unit_name": (names or {}).get(f"unit:{self.unit}"), "days": self.days}
