"""Fixtures for the live video tests: a guard against blocking the event loop, as in the hub and edge tests."""

from __future__ import annotations

import asyncio
import logging
import shutil
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
    slow = [r.getMessage() for r in caplog.records if r.name == "asyncio" and "took" in r.getMessage()]
    assert not slow, f"the event loop was blocked: {slow}"


@pytest.fixture(autouse=True)
def needs_ffmpeg() -> None:
    assert shutil.which("ffmpeg"), "these tests make real HLS with ffmpeg (Debian package ffmpeg)"
