"""The freeze defence: the freshest signed hub time this edge has seen, kept on disk, and what it refuses.

An answer signed before that time is a replay; a hub whose signed time stops moving while ours does is frozen (a
man in the middle serving an old state, or a hub stuck on old data). Both are refused and shown in the status.

A hub time far ahead of this box's clock (a glitch of the hub's clock) is taken as the floor only up to
`max_ahead_s` past the box's own time, so one such answer cannot make every later one look replayed. A box whose
clock was never set (no RTC, no NTP yet: before CLOCK_SET_AFTER) has only the hub's time, and takes it whole.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from edge.sync.health import freshest_hub_time, record_hub_time
from protocol.database import Database
from protocol.errors import ProtocolError

log = logging.getLogger(__name__)
CLOCK_SET_AFTER = 1_767_225_600  # 2026-01-01 UTC: a box clock before this was never set


class ReplayedAnswer(ProtocolError):
    code = "replayed"


class StaleHub(ProtocolError):
    code = "stale_hub"


class RolledBack(ProtocolError):
    code = "rolled_back"


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class HubClock:
    def __init__(self, db: Database, tolerance_s: float = 5.0, stale_after_s: float = 600.0,
                 max_ahead_s: float = 60.0, wall: Callable[[], float] = time.time) -> None:
        self.db = db
        self.tolerance_s = tolerance_s
        self.stale_after_s = stale_after_s
        self.max_ahead_s = max_ahead_s
        self.wall = wall
        self.freshest = 0
        self._since: float | None = None  # monotonic time when `freshest` was first seen in this process
        self.stale = False

    async def load(self) -> None:
        # A floor recorded before the bound existed (or under a wrong box clock since fixed) is bounded here too.
        self.freshest = self._bounded(await freshest_hub_time(self.db))

    def now_at_least(self) -> int:
        """A time to judge expiries by: our clock, but never before a time the hub has signed (no RTC here)."""
        return max(int(self.wall()), self.freshest)

    def _bounded(self, signed_at: int) -> int:
        now = self.wall()
        if now < CLOCK_SET_AFTER or signed_at <= now + self.max_ahead_s:
            return signed_at
        log.warning("the hub's signed time %s is %.0f s ahead of this box's clock; taken as %s (a hub clock glitch?)",
                    _iso(signed_at), signed_at - now, _iso(int(now + self.max_ahead_s)))
        return int(now + self.max_ahead_s)

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
        signed_at = self._bounded(signed_at)
        if signed_at <= self.freshest:
            return
        self.freshest = signed_at
        self._since = time.monotonic()
        self.stale = False
        await record_hub_time(self.db, signed_at)
