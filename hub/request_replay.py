"""Each signed edge request is taken once: the hub remembers every one it took for as long as its time is inside the
freshness window (protocol/request_auth.py), in bounded memory.

Kept in memory only. A restart forgets, so requests signed before this process started are refused (the edge's
retry signs afresh): a recorded request cannot be replayed across a restart either.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from protocol.request_auth import REQUEST_WINDOW_S

# One box makes a long poll every 20 s, pushes, and uploads recordings in chunks: a few requests a second at most.
PER_KEY_LIMIT = 10_000  # requests remembered per edge key (about 8 a second held over two windows)
TOTAL_LIMIT = 200_000  # about 40 MB at most, whatever the number of villages


class Replayed(Exception):
    code = "replayed_request"


class SignedBeforeStart(Replayed):
    code = "stale_request"


class TooManyRequests(Exception):
    code = "too_many_requests"


class SeenRequests:
    def __init__(self, clock: Callable[[], float] = time.time, per_key: int = PER_KEY_LIMIT,
                 total: int = TOTAL_LIMIT) -> None:
        self.clock = clock
        self.started_at = int(clock())
        self.per_key = per_key
        self.total = total
        self._seen: set[tuple[bytes, bytes]] = set()
        self._order: deque[tuple[float, bytes, bytes]] = deque()  # (forget at, key, once), in insertion order
        self._per_key: dict[bytes, int] = {}

    def __len__(self) -> int:
        return len(self._seen)

    def _forget_expired(self, now: float) -> None:
        while self._order and self._order[0][0] <= now:
            _, key, once = self._order.popleft()
            self._seen.discard((key, once))
            left = self._per_key[key] - 1
            if left:
                self._per_key[key] = left
            else:
                del self._per_key[key]

    def take(self, key: bytes, once: bytes, signed_at: int) -> None:
        """Remember the request, or refuse it: seen already, signed before this process started, or over a bound."""
        now = self.clock()
        self._forget_expired(now)
        if signed_at < self.started_at:
            raise SignedBeforeStart("the request was signed before the hub (re)started, which remembers no request "
                                    "from before: sign it again")
        if (key, once) in self._seen:
            raise Replayed("this signed request was already taken: a replay, refused (a real edge signs each request "
                           "afresh)")
        if self._per_key.get(key, 0) >= self.per_key or len(self._seen) >= self.total:
            raise TooManyRequests("too many signed requests in the last minutes; try again shortly")
        # A request is fresh for REQUEST_WINDOW_S either side of its time, and its time is at most that far ahead
        # of now: remembered for two windows, it is never forgotten while it could still be taken.
        self._order.append((now + 2 * REQUEST_WINDOW_S, key, once))
        self._seen.add((key, once))
        self._per_key[key] = self._per_key.get(key, 0) + 1
