"""Rollouts with a real hub and two real boxes, each its own process: a release that cannot start rolls back in the
canary village, the rollout pauses at its failure threshold with the box's reason, and the next wave's village
never gets the release; then a good release goes from the canary to the next wave and both boxes commit it."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy.local_processes import Service, run_command
from hub.store import HubStore
from tests.integration.system import FAST_HUB, System, build_system, wait_for

from .conftest import Releases
from .kit import FAST_EDGE, get_json, newer, wait_for_outcome
from .rollout_kit import villages_offered


@pytest.fixture
def two_villages(tmp_path: Path) -> Iterator[System]:
    system = build_system(tmp_path, ["v1", "v2"])
    (system.hub_dir / "config.toml").write_text(FAST_HUB + "rollout_check_s = 0.3\n")
    for vid in ("v1", "v2"):
        (system.edge_dir(vid) / "config.toml").write_text(FAST_EDGE)
    try:
        yield system
    finally:
        system.stop_all()


def _offered(hub_dir: Path, release: str) -> list[str]:
    async def read() -> list[str]:
        store = HubStore(hub_dir / "hub.db")
        await store.open()
        try:
            return await villages_offered(store, release, ["v1", "v2"])
        finally:
            await store.close()

    return asyncio.run(read())


def _enrolled(box: Service) -> bool:
    return bool((get_json(box.url + "/api/v1/status?format=json") or {}).get("enrolled"))


def _rollout(system: System, version: str) -> int:
    """`rollout start` at the console (author `cli`), approved through the API by the admin token (another person)."""
    out = run_command("village-hub", "rollout", "start", "--data", str(system.hub_dir), "--release", version,
                      "--waves", "v1,100%", "--max-failures", "0", "--success-threshold", "100")
    rollout_id = int(out.stdout.split("rollout ")[1].split()[0])
    status, approved = system.admin("POST", f"/api/v1/rollouts/{rollout_id}/approve")
    assert status == 200 and approved["state"] == "running", approved
    return rollout_id


def _state(system: System, rollout_id: int, *states: str) -> dict[str, Any] | None:
    status, shown = system.admin("GET", f"/api/v1/rollouts/{rollout_id}")
    return shown if status == 200 and shown["state"] in states else None


def test_a_release_that_fails_in_the_canary_pauses_the_rollout_and_a_good_one_goes_on_to_the_next_wave(
        two_villages: System, releases: Releases) -> None:
    system = two_villages
    system.hub.start()
    boxes = {vid: system.edges[vid].start() for vid in ("v1", "v2")}
    for box in boxes.values():
        wait_for("the box enrolled", functools.partial(_enrolled, box), timeout_s=30)
    wheels = {folder: next((folder / "VILLAGENET" / "firmware").glob("*.whl"))
              for folder in (releases.good, releases.cannot_start)}
    for folder, version in ((releases.cannot_start, newer(2)), (releases.good, newer(1))):
        run_command("village-hub", "release", "add", "--data", str(system.hub_dir), "--file", str(wheels[folder]),
                    "--version", version, "--target", "edge", "--hold")

    bad = _rollout(system, newer(2))
    outcome = wait_for_outcome(boxes["v1"], newer(2), timeout_s=90)
    paused = wait_for("the rollout paused", lambda: _state(system, bad, "paused"), timeout_s=30)

    assert outcome["state"] == "rolled_back", outcome
    assert "exited with code" in paused["reason"], paused
    assert [(w["state"], w["succeeded"], w["failed"]) for w in paused["waves"]] == [
        ("running", 0, 1), ("waiting", 0, 0)]
    assert "exited with code" in paused["waves"][0]["failures"][0]["reason"]
    assert _offered(system.hub_dir, f"edge-{newer(2)}") == ["v1"], "the next wave's village never got it"
    assert get_json(boxes["v2"].url + "/api/v1/update")["update"]["target_version"] is None
    assert system.admin("POST", f"/api/v1/rollouts/{bad}/abort")[0] == 200

    good = _rollout(system, newer(1))
    for vid in ("v1", "v2"):
        committed = wait_for_outcome(boxes[vid], newer(1), timeout_s=90)
        assert (committed["state"], committed["version"]) == ("committed", newer(1)), (vid, committed)
    finished = wait_for("the rollout finished", lambda: _state(system, good, "finished"), timeout_s=30)
    assert [(w["villages"], w["succeeded"], w["failed"]) for w in finished["waves"]] == [
        (["v1"], 1, 0), (["v2"], 1, 0)]
