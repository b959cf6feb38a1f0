"""Where a resident's request stands at the hub (`case_status`, hub-owned), in a closed shape both sides check.

The hub writes one per submission (the record's id is the submission's UUID) and replaces it at each change; the
edge shows `label` and `due_date` beside the resident's submission (docs/cases.md).
"""

from __future__ import annotations

from typing import Any

from .errors import DecodeError

STATES = ("new", "assigned", "in_progress", "answered", "closed")
LABELS = {"new": "已受理", "assigned": "已受理", "in_progress": "办理中", "answered": "已答复", "closed": "已办结"}
FIELDS = frozenset({"submission_id", "case_id", "state", "label", "due_at", "due_date", "unit_name", "at"})


def validate_case_status(record_id: str, body: dict[str, Any]) -> None:
    """Refuse a body that is not exactly a case status for the submission it is named by."""
    extra = set(body) - FIELDS
    if extra:
        raise DecodeError(f"case_status has unknown field(s) {sorted(extra)}")
    if body.get("submission_id") != record_id:
        raise DecodeError("a case_status is named by its submission's id")
    state = body.get("state")
    if state not in STATES or body.get("label") != LABELS[str(state)]:
        raise DecodeError("case_status state must be one of new, assigned, in_progress, answered, closed, with"
                          " its label")
    for name in ("case_id", "at"):
        if not isinstance(body.get(name), str):
            raise DecodeError(f"case_status {name} must be text")
    for name in ("due_at", "due_date", "unit_name"):
        if body.get(name) is not None and not isinstance(body.get(name), str):
            raise DecodeError(f"case_status {name} must be text or null")
