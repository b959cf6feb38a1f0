"""`village-edge serve` without systemd: a small parent process that runs the active slot's server and updates it.

It starts `python -m edge.cli run` from the active slot and otherwise stays out of the way: signals are passed on,
and when the server exits by itself the supervisor exits with its code (a box that moves village stops so that it
is started again). When the server hands over a downloaded release (`ArtifactInstall` in the state file), the
supervisor installs it into the inactive slot, backs the database up, stops the old server, starts the new one,
waits for its health check, and commits; a failure anywhere rolls back to the old slot and says why. Every step is
in the state file first, and `recover()` finishes or undoes whatever a kill -9 or a power cut interrupted. The
supervisor itself is never updated by a release: it is the box's fixed part, like RAUC's bootloader.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from edge.config import EdgeConfig

from .database_backup import back_up, restore_if_changed
from .hooks import HookFailed, RetryLater, box_hooks
from .slots import BadArtifact, child_env, inactive_slot, install_wheel, slot_dir
from .state import BASE_SLOT, UpdateState, load_state, save_state

log = logging.getLogger(__name__)
STOP_WAIT_S = 15.0
MAX_RETRIES = 100  # of one update's states together, each after update_retry_s
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)


class HealthFailed(Exception):
    """The new version did not show itself healthy in time."""


class Interrupted(Exception):
    """The supervisor was told to stop in the middle of an update; the next start recovers."""


def _die_with_parent() -> None:
    # In the child between fork and exec: a kill -9 of the supervisor takes the server with it, as a power cut
    # would, instead of leaving it holding the port.
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Supervisor:
    def __init__(self, config: EdgeConfig, child_args: list[str]) -> None:
        self.config = config
        self.data_dir = config.data_dir
        self.child_args = child_args
        self.hooks = box_hooks(config)
        self.child: subprocess.Popen[bytes] | None = None
        self.child_slot: str | None = None
        self.stopping = False
        host, port = config.listen_host_port
        host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
        self.health_url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/api/v1/update/health"

    # -- running the server ------------------------------------------------------------------------------------
    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        st = self.recover(load_state(self.data_dir))
        self.ensure_running(st.active_slot)
        while True:
            assert self.child is not None
            code = self.child.poll()
            if code is not None:
                return code if code >= 0 else 128 - code
            if not self.stopping:
                st = load_state(self.data_dir)
                if st.phase in ("ArtifactInstall", "ArtifactReboot", "ArtifactCommit") and self._due(st):
                    self.update(st)
            time.sleep(0.25)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def start(self, slot: str) -> None:
        env = child_env(self.data_dir, slot, dict(os.environ))
        # The server, not this process, feeds systemd's watchdog from its event loop (docs/appliance.md); systemd
        # names the supervisor (the unit's main process) in WATCHDOG_PID, so the server is told it is the one.
        env.pop("WATCHDOG_PID", None)
        # -P: the current folder never shadows the slot's code (a checkout's `edge/` would otherwise win).
        self.child = subprocess.Popen([sys.executable, "-P", "-m", "edge.cli", "run", *self.child_args], env=env,
                                      preexec_fn=_die_with_parent)
        self.child_slot = slot
        log.info("supervisor: started the server from slot %s (pid %d)", slot, self.child.pid)

    def stop_child(self) -> None:
        if self.child is None or self.child.poll() is not None:
            return
        self.child.send_signal(signal.SIGTERM)
        try:
            self.child.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()

    def ensure_running(self, slot: str) -> None:
        if slot != BASE_SLOT and not slot_dir(self.data_dir, slot).is_dir():
            log.error("supervisor: slot %s is missing; running the base installation", slot)
            slot = BASE_SLOT
        if self.child is not None and self.child.poll() is None and self.child_slot == slot:
            return
        self.stop_child()
        self.start(slot)

    def _due(self, st: UpdateState) -> bool:
        return st.retry_at is None or time.time() >= st.retry_at

    # -- the lifecycle -----------------------------------------------------------------------------------------
    def update(self, st: UpdateState) -> None:
        """Carry a handed-over release from the state it stands in to committed or rolled back."""
        target = st.target_version or "?"
        slot = st.candidate_slot or inactive_slot(st.active_slot)
        st.candidate_slot, st.retry_at = slot, None
        extra = {"VILLAGENET_TARGET_VERSION": target, "VILLAGENET_SLOT_DIR": str(slot_dir(self.data_dir, slot))}
        try:
            if st.phase == "ArtifactInstall":
                self._step(st, "ArtifactInstall", "installing", lambda: self._install(st, slot), extra)
            if st.phase in ("ArtifactInstall", "ArtifactReboot"):
                self._step(st, "ArtifactReboot", "verifying", lambda: self._switch(st, slot), extra)
            self._commit(st, slot, extra)
        except RetryLater as exc:
            st.retry_at, st.last_error = time.time() + self.config.update_retry_s, str(exc)
            st.attempts += 1
            if st.attempts > MAX_RETRIES:  # as Mender's retry timeout: a hook cannot hold an update forever
                self.roll_back(st, f"update to {target} gave up in {st.phase} after {MAX_RETRIES} retries: {exc}")
                self.ensure_running(st.active_slot)
                return
            save_state(self.data_dir, st)
            log.warning("supervisor: %s; %s tried again in %.0f s", exc, st.phase, self.config.update_retry_s)
        except Interrupted:
            self.stop_child()
        except Exception as exc:  # HookFailed, BadArtifact, HealthFailed, a full disk, or a bug: all roll back
            log.error("supervisor: update to %s failed: %s", target, exc, exc_info=not isinstance(
                exc, (HookFailed, BadArtifact, HealthFailed)))
            self.roll_back(st, f"update to {target} failed in {st.phase}: {exc}")
            self.ensure_running(st.active_slot)

    def _step(self, st: UpdateState, phase: str, word: str, work: object, extra: dict[str, str]) -> None:
        st.phase, st.state = phase, word
        save_state(self.data_dir, st)
        assert callable(work)
        self.hooks.state(phase, work, **extra)

    def _install(self, st: UpdateState, slot: str) -> None:
        if not st.artifact:
            raise BadArtifact("no artifact was handed over")
        version = install_wheel(Path(st.artifact), slot_dir(self.data_dir, slot))
        if version != st.target_version:
            raise BadArtifact(f"the wheel holds version {version}, the signed release says {st.target_version}")

    def _switch(self, st: UpdateState, slot: str) -> None:
        self.stop_child()
        if not st.switched:  # retried after the switch: the backup already holds the old version's database
            st.backup = str(back_up(self.data_dir, st.target_version or "next"))
        st.switched = True  # from here a restart rolls back unless the commit below is on disk
        save_state(self.data_dir, st)
        self.start(slot)
        self._wait_healthy(st.target_version or "")

    def _commit(self, st: UpdateState, slot: str, extra: dict[str, str]) -> None:
        st.phase, st.state = "ArtifactCommit", "verifying"
        save_state(self.data_dir, st)
        self.hooks.run("ArtifactCommit", "Enter", **extra)
        # The commit is this one write: active_slot names the new slot from now on.
        st.active_slot, st.active_version, st.state, st.switched = slot, st.target_version, "committed", False
        st.last_error = None
        save_state(self.data_dir, st)
        self.hooks.run_quietly("ArtifactCommit", "Leave", **extra)  # too late to roll back: logged only
        self._finish(st, "committed")
        log.info("supervisor: version %s committed in slot %s", st.active_version, slot)

    def _finish(self, st: UpdateState, outcome: str) -> None:
        st.phase, st.state, st.candidate_slot, st.artifact, st.retry_at, st.attempts = \
            "idle", outcome, None, None, None, 0
        save_state(self.data_dir, st)

    def _wait_healthy(self, target: str) -> None:
        deadline = time.monotonic() + self.config.update_health_timeout_s
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.stopping:
                raise Interrupted()
            assert self.child is not None
            code = self.child.poll()
            if code is not None:
                raise HealthFailed(f"version {target} exited with code {code} before its health check passed")
            try:
                with urllib.request.urlopen(self.health_url, timeout=2) as resp:
                    checks = json.loads(resp.read())
                if checks.get("version") == target:
                    return
                last = f"it reports version {checks.get('version')}"
            except urllib.error.HTTPError as exc:
                last = f"health check answered {exc.code}: {exc.read()[:200].decode(errors='replace')}"
            except (OSError, ValueError) as exc:
                last = f"not answering ({exc})"
            time.sleep(0.25)
        raise HealthFailed(f"version {target} did not pass its health check within "
                           f"{self.config.update_health_timeout_s:g} s: {last}")

    def roll_back(self, st: UpdateState, reason: str) -> None:
        """Back to the active slot and its database; idempotent, because a power cut may run it twice."""
        st.last_error = reason
        extra = {"VILLAGENET_TARGET_VERSION": st.target_version or "", "VILLAGENET_REASON": reason}
        if st.switched:
            st.phase, st.state = "ArtifactRollback", "verifying"
            save_state(self.data_dir, st)
            self.hooks.run_quietly("ArtifactRollback", "Enter", **extra)
            if self.child_slot != st.active_slot:
                self.stop_child()
            if st.backup:
                restore_if_changed(self.data_dir, Path(st.backup))
            self.hooks.run_quietly("ArtifactRollback", "Leave", **extra)
        st.phase = "ArtifactFailure"
        save_state(self.data_dir, st)
        self.hooks.run_quietly("ArtifactFailure", "Enter", **extra)
        self.hooks.run_quietly("ArtifactFailure", "Leave", **extra)
        if st.target_version and st.target_version not in st.failed_versions:
            st.failed_versions.append(st.target_version)
        outcome = "rolled_back" if st.switched else "failed"
        st.switched = False
        self._finish(st, outcome)
        log.error("supervisor: %s; %s, running %s", reason, outcome, st.active_version or "the base installation")

    def recover(self, st: UpdateState) -> UpdateState:
        """Finish or undo what a kill -9 or power cut interrupted, before any server starts."""
        if st.phase == "ArtifactCommit" and st.state == "committed":
            self._finish(st, "committed")  # the commit was on disk; only its Leave hooks were lost
        elif st.phase in ("ArtifactReboot", "ArtifactCommit"):
            self.roll_back(st, f"the box stopped before {st.target_version} was committed (power cut or kill)")
        elif st.phase in ("ArtifactRollback", "ArtifactFailure"):
            self.roll_back(st, st.last_error or f"update to {st.target_version} failed")
        elif st.phase == "ArtifactInstall":
            st.attempts += 1  # installing again is safe (a slot is whole or absent), but not forever
            if st.attempts > 3:
                self.roll_back(st, f"installing {st.target_version} was interrupted {st.attempts} times")
            else:
                save_state(self.data_dir, st)
        return st


def supervise(config: EdgeConfig, child_args: list[str]) -> int:
    return Supervisor(config, child_args).run()
