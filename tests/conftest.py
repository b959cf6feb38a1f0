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
