"""What a rollout is, as the store hands it over: its plan, thresholds and state, and where each village stands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# awaiting_approval -> running <-> paused -> finished; any of the first three -> aborted.
ROLLOUT_STATES = ("awaiting_approval", "running", "paused", "finished", "aborted")


@dataclass(frozen=True)
class Rollout:
    id: int
    release_id: str
    version: str
    target: str
    scope: str
    waves: list[dict[str, Any]]  # [{"villages": [ids]}] for a canary wave, [{"percent": N}] for the others
    success_pct: int
    error_pct: int | None
    max_failures: int
    op: dict[str, Any]
    state: str
    current_wave: int
    forgiven: int
    author: str
    approver: str | None
    reason: str | None
    created_at: float
    changed_at: float

    @property
    def last_wave(self) -> int:
        return len(self.waves)


@dataclass(frozen=True)
class RolloutVillage:
    village_id: str
    wave: int
    sent_at: float | None
