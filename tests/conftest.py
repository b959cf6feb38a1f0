"""Fixtures shared by every test area."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from selenium import webdriver

from .browser import chromium
from .worker_network import NoNetworkOfItsOwn, enter_own_network


def pytest_configure(config: pytest.Config) -> None:
    # Runs in every xdist worker before its first test: each worker gets its own loopback (tests/worker_network.py).
    if os.environ.get("PYTEST_XDIST_WORKER"):
        try:
            enter_own_network()
        except NoNetworkOfItsOwn as err:
            raise pytest.UsageError(str(err)) from None


# Live video happens in real time (ffmpeg -re, a relay that must keep up within a segment or two). Beside other
# workers' browsers and servers on a small machine, a starved encoder looks like a relay falling behind; `make test`
# runs these after the parallel phase, one at a time, with nothing else competing (their assertions unchanged).
REAL_TIME = ("tests/streams/", "tests/staff/test_staff_meetings.py", "tests/tv/test_tv_meeting_vote.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.relative_to(config.rootpath).as_posix().startswith(REAL_TIME):
            item.add_marker(pytest.mark.realtime)


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """A fresh headless chromium at 1280×720 (TV resolution)."""
    with chromium() as driver:
        yield driver


@pytest.fixture
def phone_browser() -> Iterator[webdriver.Chrome]:
    """A fresh headless chromium at a phone's size."""
    with chromium(390, 844) as driver:
        yield driver
