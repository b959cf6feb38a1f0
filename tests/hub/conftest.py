"""Fixtures for the hub tests: a running hub on a temp data dir, and a guard against blocking the event loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.loop_guard import no_blocking_the_loop  # noqa: F401 (an autouse fixture)

from .kit import HubKit, start_hub


@pytest.fixture
async def kit(aiohttp_client: Any, tmp_path: Path) -> HubKit:
    return await start_hub(aiohttp_client, tmp_path / "hub")


