"""The sync's share of the line: a token bucket every sync transfer draws from, so a live stream keeps the rest.

Shared by batches and blobs in both directions; a rate of 0 means no cap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class LineBudget:
    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(64 * 1024, rate / 4))
        self._clock = clock
        self._tokens = self.burst
        self._last = clock()
        self._lock = asyncio.Lock()

    def debt_after(self, n: int) -> float:
        """Charge `n` bytes; returns how long the caller must wait to stay under the rate."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        self._tokens -= n
        return -self._tokens / self.rate if self._tokens < 0 else 0.0

    async def take(self, n: int) -> None:
        if self.rate <= 0 or n <= 0:
            return
        async with self._lock:  # first come, first served among the sync's transfers
            wait = self.debt_after(n)
            if wait > 0:
                await asyncio.sleep(wait)
