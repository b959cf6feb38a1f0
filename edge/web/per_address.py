"""How much one address on the village LAN may ask of the box in a while: a sliding window per address.

Used where a request costs the box something lasting or expensive (a device registration, a password check), so
one host on the Wi-Fi cannot fill a table or spend the CPU. Memory is bounded too: a host inventing addresses
gets the oldest ones forgotten, never an unbounded dictionary.
"""

from __future__ import annotations

import time
from collections import deque


class PerAddressLimit:
    """At most `limit` uses per address within `window_s` seconds, counting only what `take` granted.

    `take` reserves at once (no await between the check and the count), so requests sent together cannot all
    slip through on the same look; `give_back` returns a use that turned out to cost nothing (a right password).
    """

    def __init__(self, limit: int, window_s: float, max_addresses: int = 4096) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_addresses = max_addresses
        self._uses: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float]:
        uses = self._uses.get(address)
        if uses is None:
            if len(self._uses) >= self.max_addresses:
                self._forget_idle(now)
            uses = self._uses[address] = deque()
        while uses and uses[0] <= now - self.window_s:
            uses.popleft()
        return uses

    def _forget_idle(self, now: float) -> None:
        for address in [a for a, u in self._uses.items() if not u or u[-1] <= now - self.window_s]:
            del self._uses[address]
        while len(self._uses) >= self.max_addresses:  # still full: forget the address first seen
            del self._uses[next(iter(self._uses))]

    def take(self, address: str | None, now: float | None = None) -> bool:
        """Count one use for `address` and say yes, or say no (and count nothing) when its budget is spent."""
        now = time.monotonic() if now is None else now
        uses = self._recent(address or "?", now)
        if len(uses) >= self.limit:
            return False
        uses.append(now)
        return True

    def give_back(self, address: str | None) -> None:
        uses = self._uses.get(address or "?")
        if uses:
            uses.pop()

    def retry_after_s(self, address: str | None, now: float | None = None) -> int:
        """Whole seconds until `address` may ask again (at least 1)."""
        now = time.monotonic() if now is None else now
        uses = self._uses.get(address or "?")
        if not uses or len(uses) < self.limit:
            return 1
        return max(1, int(uses[0] + self.window_s - now) + 1)
