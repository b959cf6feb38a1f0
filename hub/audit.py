"""The audit log: who did what to which place, append-only and hash-chained, written in the action's transaction.

Entry n's hash is SHA-256 over a domain tag, entry n-1's hash and entry n's canonical bytes (a compact JSON array
of seq, time, user, action, target, scope and detail), so an edited, removed or reordered entry breaks the chain at
that entry. `verify` names the first entry that does not fit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from .org_models import AuditEntry
from .store import HubStore
from .store_tx import Tx

GENESIS = bytes(32)
_TAG = b"villagenet-audit-v1\n"
MAX_DETAIL = 1000
VERIFY_PAGE = 1000

# Who acted when no named official did.
ADMIN_TOKEN_USER = "admin-token"
CLI_USER = "cli"
SCHEDULER_USER = "scheduler"


def canonical_bytes(seq: int, at: float, username: str, action: str, target: str, scope: str, detail: str) -> bytes:
    fields = [seq, at, username, action, target, scope, detail]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(prev: bytes, seq: int, at: float, username: str, action: str, target: str, scope: str,
               detail: str) -> bytes:
    return hashlib.sha256(_TAG + prev + canonical_bytes(seq, at, username, action, target, scope, detail)).digest()


async def record(tx: Tx, username: str, action: str, target: str, scope: str, detail: str = "") -> AuditEntry:
    """Append one entry inside `tx`: it commits with the action it records, or neither does."""
    head = await tx.audit_head()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    detail = detail[:MAX_DETAIL]
    digest = entry_hash(prev, seq, tx.now, username, action, target, scope, detail)
    entry = AuditEntry(seq, tx.now, username, action, target, scope, detail, prev, digest)
    await tx.insert_audit(entry)
    return entry


@dataclass(frozen=True)
class Break:
    """The first entry that does not fit the chain, and why."""

    seq: int
    reason: str


async def _all_entries(store: HubStore) -> AsyncIterator[AuditEntry]:
    after = 0
    while True:
        page = await store.audit_entries(after, VERIFY_PAGE)
        for entry in page:
            yield entry
        if len(page) < VERIFY_PAGE:
            return
        after = page[-1].seq


async def verify(store: HubStore) -> tuple[int, Break | None]:
    """(entries checked, the first break or None)."""
    expected_seq, prev, count = 1, GENESIS, 0
    async for e in _all_entries(store):
        if e.seq != expected_seq:
            return count, Break(expected_seq, f"entry {expected_seq} is missing (the next entry is {e.seq})")
        if e.prev != prev:
            return count, Break(e.seq, f"entry {e.seq} does not follow entry {e.seq - 1} (removed or reordered)")
        if entry_hash(prev, e.seq, e.at, e.username, e.action, e.target, e.scope, e.detail) != e.hash:
            return count, Break(e.seq, f"entry {e.seq} ({e.action} by {e.username}) was changed after it was written")
        expected_seq, prev, count = e.seq + 1, e.hash, count + 1
    return count, None
