"""Fixtures for the sync tests: a test hub, and an edge syncing with it through a man in the middle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.hub.kit import HubKit, start_hub

from .rig import Rig, build_rig


@pytest.fixture
async def kit(aiohttp_client: Any, tmp_path: Path) -> HubKit:
    return await start_hub(aiohttp_client, tmp_path / "hub", longpoll_max_s=1.0)


@pytest.fixture
async def rig(aiohttp_client: Any, kit: HubKit, tmp_path: Path) -> AsyncIterator[Rig]:
    r = await build_rig(aiohttp_client, kit, tmp_path)
    yield r
    await r.mitm.stop()
