"""Lifecycle hooks as Mender runs state scripts: by name and NN order across the project's and the site's folders;
exit 0 goes on, 1 fails, 21 asks for a retry; a hook past its time fails; a failed state runs its Error hooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.updates.hooks import HookFailed, Hooks, RetryLater


def hook(folder: Path, name: str, body: str, executable: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755 if executable else 0o644)


def ran(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def test_hooks_of_a_state_run_in_nn_order_across_folders_and_others_are_left_alone(tmp_path: Path) -> None:
    project, site, log = tmp_path / "project", tmp_path / "site", tmp_path / "log"
    hook(project, "ArtifactInstall_Enter_50_project", f"echo project >> {log}")
    hook(site, "ArtifactInstall_Enter_10_site", f"echo site >> {log}")
    hook(site, "ArtifactInstall_Enter_99_not_executable", f"echo never >> {log}", executable=False)
    hook(site, "ArtifactInstall_Leave_10_leave", f"echo leave >> {log}")
    hook(site, "Download_Enter_10_other_state", f"echo other >> {log}")
    hook(site, "ArtifactInstall_Enter_1_badly_named", f"echo bad >> {log}")

    Hooks([project, site], {}, 5.0).run("ArtifactInstall", "Enter")

    assert ran(log) == ["site", "project"]


def test_exit_21_asks_for_a_retry_and_exit_1_fails_with_the_hooks_last_words(tmp_path: Path) -> None:
    hook(tmp_path, "Download_Enter_10_later", "exit 21")
    hook(tmp_path, "Download_Leave_10_no", "echo 'disk full' >&2; exit 1")
    hooks = Hooks([tmp_path], {}, 5.0)
    with pytest.raises(RetryLater):
        hooks.run("Download", "Enter")
    with pytest.raises(HookFailed, match="Download_Leave_10_no exited 1: disk full"):
        hooks.run("Download", "Leave")


def test_a_hook_past_its_time_fails(tmp_path: Path) -> None:
    hook(tmp_path, "ArtifactCommit_Enter_10_slow", "exec sleep 5")
    with pytest.raises(HookFailed, match="longer than 0.2 s"):
        Hooks([tmp_path], {}, 0.2).run("ArtifactCommit", "Enter")


def test_a_failed_state_runs_its_error_hooks_and_a_retry_does_not(tmp_path: Path) -> None:
    log = tmp_path / "log"
    hook(tmp_path / "h", "ArtifactInstall_Error_10_clean", f"echo error-$VILLAGENET_TARGET_VERSION >> {log}")
    hooks = Hooks([tmp_path / "h"], {}, 5.0)

    def broken() -> None:
        raise OSError("no space left")

    with pytest.raises(OSError):
        hooks.state("ArtifactInstall", broken, VILLAGENET_TARGET_VERSION="2.0")
    assert ran(log) == ["error-2.0"]

    hook(tmp_path / "h", "ArtifactInstall_Enter_10_later", "exit 21")
    with pytest.raises(RetryLater):
        hooks.state("ArtifactInstall", lambda: None)
    assert ran(log) == ["error-2.0"], "a retry is not a failure"
