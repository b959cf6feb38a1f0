"""Fixtures for the live video tests: a guard against blocking the event loop (tests/loop_guard.py), as in the hub tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.loop_guard import no_blocking_the_loop  # noqa: F401 (an autouse fixture)

# Live video happens in real time (ffmpeg -re, viewers watching for a few seconds). `make test` runs the suite on
# more workers than cores, so the other workers' browsers and servers compete for the CPU; a starved encoder or
# event loop then looks like a relay that falls behind. These tests get the CPU first instead (nice -10); their
# assertions are unchanged. Without the right to raise priority (not root) they run at the usual priority.
REAL_TIME_NICE = -10


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
