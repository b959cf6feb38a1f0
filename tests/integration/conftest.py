from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .system import System, build_system


@pytest.fixture
def two_villages(tmp_path: Path) -> Iterator[System]:
    """A hub with villages v1 and v2 in town t1, their edges provisioned; every process stopped afterwards."""
    system = build_system(tmp_path, ["v1", "v2"])
    try:
        yield system
    finally:
        system.stop_all()
