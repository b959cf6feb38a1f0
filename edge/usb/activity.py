"""What the USB service is doing now and what it did last, for the status document and the staff page.

The last operation is kept in `DATA/usb/last.json` as well, so it survives a restart of the edge.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from protocol.atomic_file import write_atomically

LAST_FILE = ("usb", "last.json")


@dataclass
class UsbActivity:
    watcher: str = "off"  # "running", "off", or "unavailable: <why>"
    device: str | None = None
    phase: str | None = None  # "reading", "provision", "pack", "sync", "diag", "receipt"
    progress: dict[str, Any] = field(default_factory=dict)
    started_at: float | None = None

    def begin(self, device: str) -> None:
        self.device, self.phase, self.progress, self.started_at = device, "reading", {}, time.time()

    def step(self, phase: str, **progress: Any) -> None:
        self.phase = phase
        self.progress = progress

    def update(self, **progress: Any) -> None:
        self.progress.update(progress)

    def end(self) -> None:
        self.device, self.phase, self.progress, self.started_at = None, None, {}, None

    def current(self) -> dict[str, Any] | None:
        if self.device is None:
            return None
        return {"device": self.device, "phase": self.phase, "progress": dict(self.progress),
                "started_at": int(self.started_at or 0)}


_BY_DATA_DIR: dict[Path, UsbActivity] = {}


def activity_for(data_dir: Path) -> UsbActivity:
    """The one activity record of the edge serving `data_dir` in this process (the watcher writes, status reads)."""
    key = data_dir.resolve()
    if key not in _BY_DATA_DIR:
        _BY_DATA_DIR[key] = UsbActivity()
    return _BY_DATA_DIR[key]


def save_last_operation(data_dir: Path, summary: dict[str, Any]) -> None:
    path = data_dir.joinpath(*LAST_FILE)
    write_atomically(path, json.dumps(summary, ensure_ascii=False, indent=1).encode(), mode=0o644)


def last_operation(data_dir: Path) -> dict[str, Any] | None:
    """The last USB operation on this box: {at, device, outcome, code, reason, actions, receipt_on_stick}.

    For the staff page ("上次 U 盘操作") and the status document; None when no stick was ever serviced.
    """
    path = data_dir.joinpath(*LAST_FILE)
    try:
        value = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def usb_status(data_dir: Path) -> dict[str, Any]:
    """The `usb` field of `GET /api/v1/status`: the watcher's state, the work under way, the last operation."""
    activity = activity_for(data_dir)
    return {"watcher": activity.watcher, "current": activity.current(), "last": last_operation(data_dir)}
