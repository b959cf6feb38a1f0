"""Fixtures for the hub tests: a running hub on a temp data dir, and a guard against blocking the event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from .kit import HubKit, start_hub

SLOW_CALLBACK_S = 0.5


@pytest.fixture
async def kit(aiohttp_client: Any, tmp_path: Path) -> HubKit:
    return await start_hub(aiohttp_client, tmp_path / "hub")


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
