"""The SQL of cases, their history, routing rules and Open311 keys: reads for `HubStore`, writes for `Tx`.

Kept apart from store.py and store_tx.py so each file holds one idea; a PostgreSQL store would mirror this file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from protocol.database import Database

from .case_models import Case, CaseEvent, RouteRule
from .case_search import CaseSearch
from .store_officials import within_scope_sql
from .store_tx_base import SqlTx

_COLUMNS = tuple(f for f in Case.__dataclass_fields__ if f != "n")
# Fields an action may change; the rest are fixed when the case is opened.
_CHANGEABLE = frozenset({"town_id", "state", "unit", "handled_by", "time_limit_days", "accept_by", "due_at",
                         "calendar_fallback", "overdue", "escalated_to", "reopened", "rating", "extension_request",
                         "accepted_at", "answered_at", "closed_at"})


# Duplicates (hub/case_merge.py): which case one was merged into, and the cases merged into one, oldest first.
_MERGED_INTO = "SELECT into_id FROM case_merges WHERE case_id = ?"
_DUPLICATES = "SELECT c.* FROM case_merges m JOIN cases c ON c.id = m.case_id WHERE m.into_id = ? ORDER BY c.n"
# Both at once, in one round trip: what telling a resident about a change needs.
_RELATIVES = (
    "SELECT 'root' AS relation, c.* FROM case_merges m JOIN cases c ON c.id = m.into_id WHERE m.case_id = ?"
    " UNION ALL SELECT 'duplicate', c.* FROM case_merges m JOIN cases c ON c.id = m.case_id WHERE m.into_id = ?"
)


@dataclass(frozen=True)
class CaseFilter:
    within: str = "city"  # the reader's scope: cases in a village, or at a unit, inside it
    state: str | None = None
    unit: str | None = None
    village: str | None = None
    overdue: bool | None = None
    before_n: int | None = None
    limit: int = 1000
    ids: tuple[str, ...] = ()
    search: CaseSearch | None = None


def _row_values(case: Case) -> list[Any]:
    values = []
    for name in _COLUMNS:
        value = getattr(case, name)
        if name == "extension_request":
            value = json.dumps(value, ensure_ascii=False) if value is not None else None
        values.append(int(value) if isinstance(value, bool) else value)
    return values


def _search_sql(search: CaseSearch) -> tuple[str, list[Any]]:
    if search.n is None:
        return "instr(text, ?) > 0", [search.text]
    if not search.words_too:
        start, end = search.day_span()
        return "(n = ? AND received_at >= ? AND received_at < ?)", [search.n, start, end]
    return "(n = ? OR instr(text, ?) > 0)", [search.n, search.text]


def _list_sql(f: CaseFilter) -> tuple[str, list[Any]]:
    sql = "SELECT * FROM cases WHERE 1 = 1"
    params: list[Any] = []
    if f.within != "city":
        at_village, p1 = within_scope_sql("('village:' || village_id)", f.within)
        at_unit, p2 = within_scope_sql("('unit:' || unit)", f.within)
        sql += f" AND ({at_village} OR {at_unit})"
        params += [*p1, *p2]
    for column, value in (("state", f.state), ("unit", f.unit), ("village_id", f.village)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    if f.overdue is not None:
        sql += " AND overdue = ?"
        params.append(int(f.overdue))
    if f.ids:
        sql += f" AND id IN ({','.join('?' * len(f.ids))})"
        params += list(f.ids)
    if f.search is not None:
        clause, values = _search_sql(f.search)
        sql += f" AND {clause}"
        params += values
    if f.before_n is not None:
        sql += " AND n < ?"
        params.append(f.before_n)
    return sql + " ORDER BY n DESC LIMIT ?", [*params, f.limit]


class CasesReads:
    _db: Database

    async def get_case(self, case_id: str) -> Case | None:
        row = await self._db.fetchone("SELECT * FROM cases WHERE id = ?", (case_id,))
        return Case.from_row(row) if row else None

    async def list_cases(self, f: CaseFilter) -> list[Case]:
        """Newest first."""
        sql, params = _list_sql(f)
        return [Case.from_row(r) for r in await self._db.fetchall(sql, params)]

    async def case_history(self, case_id: str) -> list[CaseEvent]:
        rows = await self._db.fetchall(
            "SELECT at, username, action, detail FROM case_history WHERE case_id = ? ORDER BY n", (case_id,)
        )
        return [CaseEvent(r["at"], r["username"], r["action"], r["detail"]) for r in rows]

    async def merged_into(self, case_id: str) -> str | None:
        value = await self._db.fetchvalue(_MERGED_INTO, (case_id,))
        return str(value) if value is not None else None

    async def duplicates_of(self, case_id: str) -> list[Case]:
        return [Case.from_row(r) for r in await self._db.fetchall(_DUPLICATES, (case_id,))]

    async def list_routes(self) -> list[RouteRule]:
        rows = await self._db.fetchall("SELECT kind, category, unit, days FROM case_routes ORDER BY kind, category")
        return [RouteRule(r["kind"], r["category"], r["unit"], r["days"]) for r in rows]

    async def cases_due_for_sweep(self, at: float, answered_before: float) -> list[str]:
        """Open cases past a deadline not yet marked overdue, and answered cases waiting since `answered_before`."""
        rows = await self._db.fetchall(
            "SELECT id FROM cases WHERE (overdue = 0 AND ((state = 'assigned' AND accept_by < ?)"
            " OR (state IN ('new', 'assigned', 'in_progress') AND due_at < ?)))"
            " OR (state = 'answered' AND answered_at < ?) ORDER BY n",
            (at, at, answered_before),
        )
        return [r["id"] for r in rows]

    async def open311_key_name(self, key_hash: str) -> str | None:
        value = await self._db.fetchvalue("SELECT name FROM open311_keys WHERE key_hash = ?", (key_hash,))
        return str(value) if value is not None else None


class CasesTx(SqlTx):
    async def get_case(self, case_id: str) -> Case | None:
        row = await self._one("SELECT * FROM cases WHERE id = ?", (case_id,))
        return Case.from_row(row) if row else None

    async def case_of_submission(self, village_id: str, submission_id: str) -> Case | None:
        row = await self._one(
            "SELECT * FROM cases WHERE village_id = ? AND submission_id = ?", (village_id, submission_id)
        )
        return Case.from_row(row) if row else None

    async def insert_case(self, case: Case) -> bool:
        """Open a case unless its submission already has one; True if it was new."""
        marks = ",".join("?" * len(_COLUMNS))
        n = await self._exec(
            f"INSERT INTO cases ({','.join(_COLUMNS)}) VALUES ({marks}) ON CONFLICT DO NOTHING", _row_values(case)
        )
        return n > 0

    async def update_case(self, case_id: str, **fields: Any) -> None:
        unknown = set(fields) - _CHANGEABLE
        if unknown:
            raise ValueError(f"case fields {sorted(unknown)} cannot be changed")
        if "extension_request" in fields and fields["extension_request"] is not None:
            fields["extension_request"] = json.dumps(fields["extension_request"], ensure_ascii=False)
        sets = ", ".join(f"{name} = ?" for name in fields)
        values = [int(v) if isinstance(v, bool) else v for v in fields.values()]
        await self._exec(f"UPDATE cases SET {sets}, updated_at = ? WHERE id = ?", [*values, self.now, case_id])

    async def add_case_event(self, case_id: str, username: str, action: str, detail: str) -> None:
        await self._exec(
            "INSERT INTO case_history (case_id, at, username, action, detail) VALUES (?, ?, ?, ?, ?)",
            (case_id, self.now, username, action, detail),
        )

    async def merged_into(self, case_id: str) -> str | None:
        row = await self._one(_MERGED_INTO, (case_id,))
        return str(row["into_id"]) if row else None

    async def duplicates_of(self, case_id: str) -> list[Case]:
        return [Case.from_row(r) for r in await self._all(_DUPLICATES, (case_id,))]

    async def merge_relatives(self, case_id: str) -> tuple[Case | None, list[Case]]:
        """The case this one was merged into (or None), and the cases merged into this one, oldest first."""
        rows = await self._all(_RELATIVES, (case_id, case_id))
        root = next((Case.from_row(r) for r in rows if r["relation"] == "root"), None)
        duplicates = sorted((Case.from_row(r) for r in rows if r["relation"] == "duplicate"), key=lambda c: c.n)
        return root, duplicates

    async def merge_case(self, case_id: str, into_id: str, username: str) -> list[str]:
        """Record `case_id` as a duplicate of `into_id`; the cases merged into `case_id` before move to `into_id`
        too, so a resident is always one step from the case that answers. Returns the ids of those moved."""
        moved = [r["case_id"] for r in await self._all("SELECT case_id FROM case_merges WHERE into_id = ?", (case_id,))]
        await self._exec("UPDATE case_merges SET into_id = ? WHERE into_id = ?", (into_id, case_id))
        await self._exec("INSERT INTO case_merges (case_id, into_id, at, username) VALUES (?, ?, ?, ?)",
                         (case_id, into_id, self.now, username))
        return moved

    async def routes_for_kind(self, kind: str) -> list[RouteRule]:
        rows = await self._all("SELECT kind, category, unit, days FROM case_routes WHERE kind = ?", (kind,))
        return [RouteRule(r["kind"], r["category"], r["unit"], r["days"]) for r in rows]

    async def put_route(self, rule: RouteRule) -> bool:
        """Create or replace the rule for (kind, category); True if it was new."""
        created = await self._exec(
            "INSERT OR IGNORE INTO case_routes (kind, category, unit, days, created_at) VALUES (?, ?, ?, ?, ?)",
            (rule.kind, rule.category, rule.unit, rule.days, self.now),
        )
        if not created:
            await self._exec("UPDATE case_routes SET unit = ?, days = ? WHERE kind = ? AND category = ?",
                             (rule.unit, rule.days, rule.kind, rule.category))
        return created > 0

    async def delete_route(self, kind: str, category: str) -> bool:
        n = await self._exec("DELETE FROM case_routes WHERE kind = ? AND category = ?", (kind, category))
        return n > 0

    async def put_open311_key(self, key_hash: str, name: str) -> None:
        await self._exec("INSERT INTO open311_keys (key_hash, name, created_at) VALUES (?, ?, ?)",
                         (key_hash, name, self.now))
