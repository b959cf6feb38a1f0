"""Where a rollout stands, from what the boxes report: each village's outcome read from its last signed status.

A village counts as `committed` once its box runs the release (or newer): the box commits only after its health
check, and says so by the version it serves. It counts as `failed` when its box reports the release rolled back,
failed or refused (`update.target_version` is the release's, with `last_error` as the reason). A set-top-box release
counts per village from the status's `stb` block: committed when the box has cached it and every STB of the model
it sees runs it (a village without such STBs has none left to update), failed when one refused it. Anything else
is `pending` (not sent yet, downloading, or the box not heard from).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from protocol.errors import ProtocolError
from protocol.releases import parse_version

from .rollout_models import Rollout, RolloutVillage

FAILED_STATES = ("rolled_back", "failed")


@dataclass
class WaveProgress:
    number: int
    state: str  # waiting, running or done
    villages: list[str] = field(default_factory=list)
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)  # [{village, reason}]

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "villages": self.villages, "state": self.state, "sent": self.sent,
                "succeeded": self.succeeded, "failed": self.failed, "failures": self.failures}


def _at_least(version: object, wanted: str) -> bool:
    try:
        return isinstance(version, str) and parse_version(version) >= parse_version(wanted)
    except ProtocolError:
        return False


def _block(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """A part of a status document, or nothing when the box sent none or something else (older boxes)."""
    value = doc.get(name)
    return value if isinstance(value, dict) else {}


def village_outcome(doc: dict[str, Any] | None, rollout: Rollout) -> tuple[str, str | None]:
    """(`committed` | `failed` | `pending`, the box's reason for a failure)."""
    if not doc:
        return "pending", None
    if rollout.target.startswith("stb:"):
        return _stb_outcome(doc, rollout.target.partition(":")[2], rollout.version)
    if _at_least(doc.get("version"), rollout.version):
        return "committed", None
    update = _block(doc, "update")
    if update.get("target_version") == rollout.version and update.get("state") in FAILED_STATES:
        return "failed", str(update.get("last_error") or update.get("state"))
    return "pending", None


def _stb_outcome(doc: dict[str, Any], model: str, version: str) -> tuple[str, str | None]:
    block = _block(_block(doc, "stb"), model)
    if not block:
        return "pending", None
    if block.get("failed") and block.get("target_version") == version:
        return "failed", str(block.get("last_error") or "refused by the set-top boxes")
    count, updated = block.get("count"), block.get("updated")
    # The box holds the image; every STB of the model it sees runs it (none there: none left to update).
    if block.get("target_version") == version and isinstance(count, int) and updated == count:
        return "committed", None
    return "pending", None


def wave_state(rollout: Rollout, number: int) -> str:
    if rollout.state == "finished" or number < rollout.current_wave:
        return "done"
    if number == rollout.current_wave and rollout.state in ("running", "paused"):
        return "running"
    return "waiting"


def progress(rollout: Rollout, placed: list[RolloutVillage],
             documents: dict[str, dict[str, Any] | None]) -> list[WaveProgress]:
    waves = [WaveProgress(n, wave_state(rollout, n)) for n in range(1, rollout.last_wave + 1)]
    for village in placed:
        wave = waves[village.wave - 1]
        wave.villages.append(village.village_id)
        if village.sent_at is None:
            continue
        wave.sent += 1
        outcome, reason = village_outcome(documents.get(village.village_id), rollout)
        if outcome == "committed":
            wave.succeeded += 1
        elif outcome == "failed":
            wave.failed += 1
            wave.failures.append({"village": village.village_id, "reason": reason})
    return waves
