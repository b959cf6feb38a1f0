"""The update's progress on disk (DATA/updates/state.json), replaced atomically at every step.

This file, not memory, decides which slot runs: `active_slot` changes in one atomic write at commit, so a kill -9
or a power cut anywhere leaves either the old slot active (the update is then rolled back or retried) or the new
one committed. The serving process writes it only while the supervisor is idle and hands over by writing the
`ArtifactInstall` phase; from then until the outcome only the supervisor writes it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from protocol.atomic_file import write_atomically

log = logging.getLogger(__name__)
STATE_FILE = Path("updates") / "state.json"
# The contract's words for the status (`update.state`), and the lifecycle phases the supervisor works through.
STATES = ("idle", "downloading", "installing", "verifying", "committed", "rolled_back", "failed")
PHASES = ("idle", "Download", "ArtifactInstall", "ArtifactReboot", "ArtifactCommit", "ArtifactRollback",
          "ArtifactFailure")
BASE_SLOT = "base"  # the installation the box came with (the .deb's venv, or the checkout)


@dataclass
class UpdateState:
    active_slot: str = BASE_SLOT
    active_version: str | None = None  # None: whatever the base installation is
    phase: str = "idle"
    state: str = "idle"
    target_version: str | None = None
    offer_id: str | None = None
    artifact: str | None = None  # the verified artifact's path, once downloaded
    sha256: str | None = None
    candidate_slot: str | None = None
    switched: bool = False  # the candidate has been started in place of the active slot
    backup: str | None = None  # the database as it was before the switch
    last_error: str | None = None
    retry_at: float | None = None
    attempts: int = 0
    failed_versions: list[str] = field(default_factory=list)  # never offered again after a rollback
    changed_at: float = 0.0

    @property
    def busy(self) -> bool:
        """The supervisor owns the update from the hand-over until the outcome."""
        return self.phase not in ("idle", "Download")

    def public(self, running: str) -> dict[str, Any]:
        """The status's `update` block (contract v2)."""
        return {"version": running, "state": self.state, "target_version": self.target_version,
                "last_error": self.last_error, "phase": self.phase, "slot": self.active_slot}


def state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


def load_state(data_dir: Path) -> UpdateState:
    path = state_path(data_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UpdateState()
    except (OSError, ValueError) as exc:
        # Cannot happen through write_atomically; if the disk damaged it, the base installation is the safe choice.
        log.error("update state %s unreadable (%s); running the base installation", path, exc)
        return UpdateState(last_error=f"update state unreadable: {exc}")
    known = {f.name for f in fields(UpdateState)}
    return UpdateState(**{k: v for k, v in raw.items() if k in known})


def save_state(data_dir: Path, state: UpdateState, now: float | None = None) -> None:
    state.changed_at = time.time() if now is None else now
    write_atomically(state_path(data_dir), json.dumps(asdict(state), indent=1).encode(), 0o600)
