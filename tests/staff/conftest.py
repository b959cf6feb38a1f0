"""A provisioned edge served from a background thread on 127.0.0.1, so a blocking browser can talk to it.

The edge's hub URL points at a closed port: the line is down unless a test starts a real hub (tests/integration).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from selenium import webdriver
from selenium.webdriver.common.by import By

from deploy.local_processes import free_port, run_command
from edge.app import create_app
from edge.config import load_config
from edge.runtime import RUNTIME, EdgeRuntime

from ..device_kit import Residents
from ..edge.conftest import provision

T = TypeVar("T")
PASSWORD = "村里的密码-2024"


class ThreadedEdge:
    """One real edge app on its own event loop thread; `run` executes a coroutine there and waits for it."""

    def __init__(self, data_dir: Path, **overrides: Any) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.residents = Residents(self.url)  # the village's TVs, registered as each first sends something
        self._config = load_config(data_dir, listen=f"127.0.0.1:{self.port}", **overrides)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="staff-test-edge", daemon=True)
        self._runner: web.AppRunner | None = None

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    @property
    def rt(self) -> EdgeRuntime:
        assert self._runner is not None
        return self._runner.app[RUNTIME]

    def start(self) -> ThreadedEdge:
        self._thread.start()

        async def up() -> None:
            self._runner = web.AppRunner(create_app(self._config), access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

        self.run(up())
        return self

    def stop(self) -> None:
        if self._runner is not None:
            self.run(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


def add_account(data_dir: Path, user: str, role: str, password: str = PASSWORD) -> None:
    """Through the real command, as a technician would on the box."""
    run_command("village-edge", "staff", "add", "--data", str(data_dir), "--user", user, "--role", role,
                stdin=password + "\n")


@pytest.fixture
def staff_edge(tmp_path: Path) -> Iterator[ThreadedEdge]:
    data = tmp_path / "edge"
    provision(data)
    add_account(data, "admin1", "admin")
    edge = ThreadedEdge(data, mdns=False, backoff_max_s=1.0).start()
    try:
        yield edge
    finally:
        edge.stop()


def log_in(driver: webdriver.Chrome, base: str, user: str = "admin1", password: str = PASSWORD) -> None:
    driver.get(base + "/staff/login")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-button").click()


@pytest.fixture
async def staff_client(aiohttp_client: Any, tmp_path: Path) -> Any:
    """An in-process edge (line down) with accounts admin1, staff1 and tech1, for HTTP-level tests."""
    from edge.staff.accounts import add_or_reset

    data = tmp_path / "edge"
    provision(data)
    client = await aiohttp_client(create_app(load_config(data, mdns=False, backoff_max_s=1.0)))
    db = client.app[RUNTIME].db
    for user, role in (("admin1", "admin"), ("staff1", "staff"), ("tech1", "technician")):
        await add_or_reset(db, user, role, PASSWORD)
    return client
