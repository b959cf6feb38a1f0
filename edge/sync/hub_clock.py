"""The freeze defence: the freshest signed hub time this edge has seen, kept on disk, and what it refuses.

An answer signed before that time is a replay; a hub whose signed time stops moving while ours does is frozen (a
man in the middle serving an old state, or a hub stuck on old data). Both are refused and shown in the status.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from edge.sync.health import freshest_hub_time, record_hub_time
from protocol.database import Database
from protocol.errors import ProtocolError


class ReplayedAnswer(ProtocolError):
    code = "replayed"


class StaleHub(ProtocolError):
    code = "stale_hub"


class RolledBack(ProtocolError):
    code = "rolled_back"


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class HubClock:
    def __init__(self, db: Database, tolerance_s: float = 5.0, stale_after_s: float = 600.0) -> None:
        self.db = db
        self.tolerance_s = tolerance_s
        self.stale_after_s = stale_after_s
        self.freshest = 0
        self._since: float | None = None  # monotonic time when `freshest` was first seen in this process
        self.stale = False

    async def load(self) -> None:
        self.freshest = await freshest_hub_time(self.db)

    def now_at_least(self) -> int:
        """A time to judge expiries by: our clock, but never before a time the hub has signed (no RTC here)."""
        return max(int(time.time()), self.freshest)

    def check(self, signed_at: int, what: str = "answer") -> None:
        """Refuse a replayed or frozen answer; call before applying anything it carries."""
        if signed_at + self.tolerance_s < self.freshest:
            raise ReplayedAnswer(
                f"the hub's {what} was signed at {_iso(signed_at)}, before the hub time {_iso(self.freshest)} this "
                "edge has already seen: a replayed or stale answer, refused"
            )
        if signed_at > self.freshest:
            self.stale = False
            return
        now = time.monotonic()
        if self._since is None:
            self._since = now
        elif now - self._since > self.stale_after_s:
            self.stale = True
            raise StaleHub(
                f"the hub's signed time has stayed at {_iso(self.freshest)} for {now - self._since:.0f} s: the hub, "
                "or something on the line, serves a frozen state; refused until fresh signed answers come"
            )

    async def advance(self, signed_at: int) -> None:
        if signed_at <= self.freshest:
            return
        self.freshest = signed_at
        self._since = time.monotonic()
        self.stale = False
        await record_hub_time(self.db, signed_at)
