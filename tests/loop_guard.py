"""A guard against blocking the event loop, for the hub's and the live video's tests (their conftests use it).

asyncio's debug mode logs every step that holds the loop longer than SLOW_CALLBACK_S; a test during which one did
fails. Only the test's own steps count, not its teardown: there pytest-asyncio runs the fixtures' finalizers
(closing the test server and its sessions) as one task, which a full run's load once stretched to 0.9 s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

SLOW_CALLBACK_S = 0.5


@pytest.fixture(autouse=True)
async def no_blocking_the_loop(caplog: pytest.LogCaptureFixture) -> AsyncIterator[None]:
    """Fail a test during which one step held the event loop longer than SLOW_CALLBACK_S (asyncio debug)."""
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW_CALLBACK_S
    caplog.set_level(logging.WARNING, logger="asyncio")
    yield
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    slow = [r.getMessage() for r in records if r.name == "asyncio" and "took" in r.getMessage()]
    assert not slow, f"the event loop was blocked: {slow}"
