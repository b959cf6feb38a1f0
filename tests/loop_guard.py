"""A guard against blocking the event loop, for the hub's and the live video's tests (their conftests use it).

asyncio's debug mode logs every step that holds the loop longer than SLOW_CALLBACK_S; a test during which one did
fails. asyncio measures wall time, and in a full run (four workers, chromiums and ffmpeg on two cores) a step gets
only a share of a core, so there the limit grows with how busy the machine was: the load per core, or the share of
the last 10 s in which a runnable task waited for a CPU (/proc/pressure/cpu), whichever says busier. On an idle
machine the limit is SLOW_CALLBACK_S; a step that blocks for seconds fails either way.

The test's setup and its body count, not its teardown: there pytest-asyncio runs the fixtures' finalizers (closing
the test server and its sessions) as one task. (Until this session the guard read `caplog.records` at teardown,
which holds the teardown's records only, so in effect it checked nothing but the teardown.)
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

SLOW_CALLBACK_S = 0.5
_TOOK = re.compile(r"took (\d+(?:\.\d+)?) seconds")
_AVG10 = re.compile(r"avg10=(\d+(?:\.\d+)?)")


def _cpu_waiting_share() -> float:
    """The share of the last 10 s in which some runnable task waited for a CPU; 0 where the kernel does not say."""
    try:
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return 0.0
    found = _AVG10.search(some)
    return float(found[1]) / 100 if found else 0.0


def busy_factor() -> float:
    """How many times longer than on an idle machine a step may take now: at least 1, at most 10."""
    per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    return min(10.0, max(1.0, per_core, 1.0 / (1.0 - min(_cpu_waiting_share(), 0.9))))


def _took(message: str) -> float:
    found = _TOOK.search(message)
    return float(found[1]) if found else 0.0


@pytest.fixture(autouse=True)
async def no_blocking_the_loop(caplog: pytest.LogCaptureFixture) -> AsyncIterator[None]:
    """Fail a test during which one step held the event loop longer than the limit (asyncio debug)."""
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW_CALLBACK_S  # log every candidate; judged against the load below
    caplog.set_level(logging.WARNING, logger="asyncio")
    busy_before = busy_factor()
    yield
    limit = SLOW_CALLBACK_S * max(busy_before, busy_factor())
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    slow = [r.getMessage() for r in records if r.name == "asyncio" and _took(r.getMessage()) >= limit]
    assert not slow, f"the event loop was blocked (limit {limit:.2f} s at this load): {slow}"
