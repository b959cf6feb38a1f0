"""A real hub and a real edge (their own processes) shared by the TV tests, and helpers to publish and withdraw."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from tests.device_kit import TOKEN_HEADER
from tests.integration.system import System, build_system, http, wait_for

QUOTA = 1_600_000  # small, so the cache test fills it: 700 KiB pinned and room for two 400 KiB videos


@pytest.fixture(scope="session")
def tv_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """One hub and edge for all TV tests (starting them is the slow part); tests use their own device ids and
    withdraw the emergencies they publish, so they do not see each other's alerts."""
    base: Path = tmp_path_factory.mktemp("tv")
    system = build_system(base, ["v1"])
    config = system.edge_dir("v1") / "config.toml"
    # Every test's fresh browser registers a TV from 127.0.0.1: more than one address may in production.
    config.write_text(config.read_text() + f"content_quota_bytes = {QUOTA}\nalert_check_s = 0.2\n"
                      "device_registrations_per_hour = 1000\n")
    try:
        system.hub.start(ready_path="/api/v1/trust")
        system.edges["v1"].start()
        yield system
    finally:
        system.stop_all()


def edge_url(system: System) -> str:
    return system.edges["v1"].url


def publish_and_wait(system: System, title: str, area: str = "community", priority: str = "normal",
                     attachments: list[dict[str, str]] | None = None) -> str:
    """Publish a notice for the whole city and wait until the village edge has applied it."""
    nid = system.publish(title, "city", area=area, priority=priority, attachments=attachments)

    def arrived() -> bool:
        status, body, _ = http("GET", edge_url(system) + "/api/v1/notices")
        return status == 200 and any(n["id"] == nid for n in body["notices"])

    wait_for(f"notice {title} at the edge", arrived, timeout_s=20)
    return nid


def withdraw_and_wait(system: System, notice_id: str) -> None:
    """Withdraw a notice at the hub and wait until the edge no longer shows it."""
    status, body = system.admin("POST", f"/api/v1/notices/{notice_id}/withdraw", {})
    assert status == 200, body

    def gone() -> bool:
        status, body, _ = http("GET", edge_url(system) + "/api/v1/notices")
        return status == 200 and all(n["id"] != notice_id for n in body["notices"])

    wait_for(f"notice {notice_id} withdrawn at the edge", gone, timeout_s=20)


def device_headers(driver: webdriver.Chrome) -> dict[str, str]:
    """The token the TV app in this browser keeps in its cookie, as a header for the test's own requests."""
    cookie = driver.get_cookie("device_token")
    assert cookie, "the TV app has not registered in this browser"
    return {TOKEN_HEADER: cookie["value"]}

