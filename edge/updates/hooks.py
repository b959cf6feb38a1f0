"""Lifecycle hooks, Mender's state scripts: `<State>_<Enter|Leave|Error>_<NN>[_name]`, run in NN order.

The project's own hooks live in `firmware_hooks/scripts/` (found as data, never imported: they are programs), a
site's extra ones in the box's hooks folder (DATA/hooks unless the settings say otherwise). A hook exits 0 to go on,
1 (or anything else, or a timeout) to fail and roll back, 21 to be retried later. Failure hooks (`_Error`,
ArtifactRollback, ArtifactFailure) must be idempotent: after a power cut they run again.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from edge.config import EdgeConfig

log = logging.getLogger(__name__)
LIFECYCLE = ("Download", "ArtifactInstall", "ArtifactReboot", "ArtifactCommit", "ArtifactRollback", "ArtifactFailure")
ACTIONS = ("Enter", "Leave", "Error")
RETRY_LATER = 21
_NAME = re.compile(r"^(?P<state>[A-Za-z]+)_(?P<action>Enter|Leave|Error)_(?P<nn>\d\d)(?:_[A-Za-z0-9_.-]{1,64})?$")
T = TypeVar("T")


class HookFailed(Exception):
    """A hook refused the step (exit 1, another code, a timeout); the update rolls back."""


class RetryLater(Exception):
    """A hook asked for the step to be tried again later (exit 21)."""


def project_hooks() -> Path | None:
    """The installed `firmware_hooks/scripts/` folder, located without importing anything from it."""
    spec = importlib.util.find_spec("firmware_hooks")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "scripts"


class Hooks:
    def __init__(self, folders: list[Path], env: dict[str, str], timeout_s: float) -> None:
        self.folders = folders
        self.env = env
        self.timeout_s = timeout_s

    def scripts(self, state: str, action: str) -> list[Path]:
        found: list[tuple[str, str, Path]] = []
        for folder in self.folders:
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                m = _NAME.match(path.name)
                if m and m["state"] == state and m["action"] == action and path.is_file():
                    found.append((m["nn"], path.name, path))
        return [p for _, _, p in sorted(found)]

    def run(self, state: str, action: str, **extra: str) -> None:
        """Run the hooks of one state and action in order; the first that does not exit 0 decides."""
        env = {**os.environ, **self.env, "VILLAGENET_STATE": state, "VILLAGENET_ACTION": action, **extra}
        for script in self.scripts(state, action):
            if not os.access(script, os.X_OK):
                log.warning("update hook %s is not executable; skipped (chmod +x it)", script)
                continue
            try:
                done = subprocess.run([str(script)], env=env, timeout=self.timeout_s, stdin=subprocess.DEVNULL,
                                      capture_output=True, text=True, errors="replace")
            except subprocess.TimeoutExpired:
                raise HookFailed(f"hook {script.name} took longer than {self.timeout_s:g} s") from None
            except OSError as exc:
                raise HookFailed(f"hook {script.name} could not run: {exc}") from None
            if done.returncode == 0:
                log.info("update hook %s done", script.name)
                continue
            said = (done.stderr or done.stdout).strip().splitlines()
            reason = f"hook {script.name} exited {done.returncode}" + (f": {said[-1][:200]}" if said else "")
            if done.returncode == RETRY_LATER:
                raise RetryLater(reason)
            raise HookFailed(reason)

    def state(self, state: str, work: Callable[[], T], **extra: str) -> T:
        """One lifecycle state: Enter hooks, the work, Leave hooks; on a failure its Error hooks, then re-raise."""
        try:
            self.run(state, "Enter", **extra)
            result = work()
            self.run(state, "Leave", **extra)
            return result
        except RetryLater:
            raise
        except Exception:
            self.run_quietly(state, "Error", **extra)
            raise

    def run_quietly(self, state: str, action: str, **extra: str) -> None:
        """Hooks whose failure cannot change the outcome (error and failure hooks): logged, never raised."""
        try:
            self.run(state, action, **extra)
        except (HookFailed, RetryLater) as exc:
            log.error("update hook of %s_%s failed (%s); going on", state, action, exc)


def box_hooks(config: EdgeConfig) -> Hooks:
    """The project's hooks and the site's, with what a hook needs to know in its environment."""
    site = Path(config.update_hooks_dir) if config.update_hooks_dir else config.data_dir / "hooks"
    folders = [p for p in (project_hooks(), site) if p is not None]
    env = {"VILLAGENET_DATA": str(config.data_dir), "VILLAGENET_PYTHON": sys.executable}
    return Hooks(folders, env, config.update_hook_timeout_s)
