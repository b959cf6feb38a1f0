"""Fixtures for the live video tests: a guard against blocking the event loop, as in the hub and edge tests."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncIterator, Iterator

import pytest

SLOW_CALLBACK_S = 0.5
# Live video happens in real time (ffmpeg -re, viewers watching for a few seconds). `make test` runs the suite on
# more workers than cores, so the other workers' browsers and servers compete for the CPU; a starved encoder or
# event loop then looks like a relay that falls behind. These tests get the CPU first instead (nice -10); their
# assertions are unchanged. Without the right to raise priority (not root) they run at the usual priority.
REAL_TIME_NICE = -10


@pytest.fixture(autouse=True)
async def no_blocking_the_loop(caplog: pytest.LogCaptureFixture) -> AsyncIterator[None]:
    """Fail a test during which one step held the event loop longer than SLOW_CALLBACK_S (asyncio debug)."""
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW_CALLBACK_S
    caplog.set_level(logging.WARNING, logger="asyncio")
    yield
    slow = [r.getMessage() for r in caplog.records if r.name == "asyncio" and "took" in r.getMessage()]
    assert not slow, f"the event loop was blocked: {slow}"


@pytest.fixture(autouse=True)
def real_time_first() -> Iterator[None]:
    """Raise this thread's CPU priority for the test; ffmpeg and the event loop's worker threads, started from
    it, inherit it. Restored afterwards, so the worker's next tests compete as usual."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, REAL_TIME_NICE)
    except PermissionError:
        pass
    try:
        yield
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, before)


@pytest.fixture(autouse=True)
def needs_ffmpeg() -> None:
    assert shutil.which("ffmpeg"), "these tests make real HLS with ffmpeg (Debian package ffmpeg)"
