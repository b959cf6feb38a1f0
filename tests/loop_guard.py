"""A guard against blocking the event loop, for the hub's and the live video's tests (their conftests use it).

asyncio's debug mode logs every step that holds the loop longer than a limit; a test during which one did fails.
The limit is SLOW_CALLBACK_S on an idle machine. asyncio measures wall time, and in a full run (four workers,
chromiums and ffmpeg on two cores) a step gets only a share of a core, so there the limit grows with the load per
core; a step that blocks for seconds still fails. The test's setup and its body count, not its teardown: there
pytest-asyncio runs the fixtures' finalizers (closing the test server and its sessions) as one task.

(Until this session the guard read `caplog.records` at teardown, which holds the teardown's records only, so in
effect it checked nothing but the teardown.)
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator

import pytest

SLOW_CALLBACK_S = 0.5


def slow_step_s() -> float:
    """SLOW_CALLBACK_S, times the recent load per core when that is above 1."""
    per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    return SLOW_CALLBACK_S * max(1.0, per_core)


@pytest.fixture(autouse=True)
async def no_blocking_the_loop(caplog: pytest.LogCaptureFixture) -> AsyncIterator[None]:
    """Fail a test during which one step held the event loop longer than the limit (asyncio debug)."""
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = slow_step_s()
    caplog.set_level(logging.WARNING, logger="asyncio")
    yield
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    slow = [r.getMessage() for r in records if r.name == "asyncio" and "took" in r.getMessage()]
    assert not slow, f"the event loop was blocked: {slow}"
