"""Fixtures shared by every test area."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver

from .browser import chromium


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
