"""kill -9 of the whole box (supervisor, server, hooks) in each lifecycle state: after the restart the box runs the
old or the new version, the state file and the running server agree, and no update is left half-way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.local_processes import Service, run_command
from tests.integration.system import wait_for

from .conftest import Releases
from .kit import BASE_VERSION, block_hook, get_json, new_box, newer, power_cut, wait_for_outcome

# state -> (the hook to hang in, which release, the version and outcome the box must end on)
TARGET = {"good": newer(1), "cannot_start": newer(2)}
CUTS = {
    "Download": ("Download_Enter_01_hang", "good", newer(1), "committed"),  # the download starts again
    "ArtifactInstall": ("ArtifactInstall_Leave_01_hang", "good", newer(1), "committed"),  # installed again
    "ArtifactReboot": ("ArtifactReboot_Leave_01_hang", "good", BASE_VERSION, "rolled_back"),  # not committed
    "ArtifactCommit": ("ArtifactCommit_Leave_01_hang", "good", newer(1), "committed"),  # committed on disk
    "ArtifactRollback": ("ArtifactRollback_Enter_01_hang", "cannot_start", BASE_VERSION, "rolled_back"),
    "ArtifactFailure": ("ArtifactFailure_Enter_01_hang", "cannot_start", BASE_VERSION, "rolled_back"),
}
# The two sides of the commit run in `make test` (rolled back before it, kept after it); all six with -m slow.
QUICK = ("ArtifactReboot", "ArtifactCommit")


@pytest.mark.parametrize("state", [s if s in QUICK else pytest.param(s, marks=pytest.mark.slow) for s in CUTS])
def test_a_power_cut_in_each_lifecycle_state_ends_on_the_old_or_the_new_version_never_between(
        state: str, releases: Releases, boxes: list[Service], tmp_path: Path) -> None:
    hook, which, version, outcome = CUTS[state]
    box_dir = tmp_path / "box"
    box = new_box(releases.provisioned, box_dir)
    started = block_hook(box_dir, hook)
    boxes.append(box.start())
    run_command("village-edge", "update", "add", "--data", str(box_dir), str(getattr(releases, which)))
    wait_for(f"the {state} hook to start", started.exists, timeout_s=60)

    power_cut(box)
    (box_dir / "hooks" / hook).unlink()
    box.start()
    update = wait_for_outcome(box, TARGET[which])

    assert (update["version"], update["state"]) == (version, outcome), update
    assert get_json(box.url + "/api/v1/info")["version"] == version
    saved = json.loads((box_dir / "updates" / "state.json").read_text())
    assert saved["phase"] == "idle" and not saved["switched"]
    assert (saved["active_version"] or BASE_VERSION) == version, "the slot on disk is the slot that serves"
    if outcome == "rolled_back":
        assert update["last_error"], "a rollback says why"
