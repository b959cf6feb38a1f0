"""What the status says of the set-top boxes' firmware, per model: how many STBs, which `fw` each advertises, the
release offered, how many run it, and the ones that refused its image with their reason.

An STB counts as updated only when mDNS shows it back with the new `fw` in its TXT (the device table), never from
its own report; a report only says why an STB stayed on its old version (a bad image). Reports are kept in
DATA/updates/stb_results.json (replaced atomically, one line per STB, bounded), so they survive a restart.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from edge.runtime import EdgeRuntime
from protocol.atomic_file import write_atomically

from .stb_firmware import newest_for, offered

RESULTS_FILE = Path("updates") / "stb_results.json"
MAX_RESULTS = 4096  # as many STBs as the device table holds
_results_lock = threading.Lock()  # reports arrive concurrently; each is a read-modify-write of one small file


def _read(data_dir: Path) -> dict[str, dict[str, Any]]:
    try:
        loaded = json.loads((data_dir / RESULTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def record_result(data_dir: Path, device_id: str, model: str, version: str, outcome: str, reason: str) -> None:
    """An STB's word on a release: `installed`, or `refused` with why (it stays on its old version)."""
    with _results_lock:
        results = _read(data_dir)
        results.pop(device_id, None)
        results[device_id] = {"model": model, "version": version, "outcome": outcome, "reason": reason,
                              "at": int(time.time())}
        while len(results) > MAX_RESULTS:
            results.pop(next(iter(results)))  # the oldest report goes first
        write_atomically(data_dir / RESULTS_FILE, json.dumps(results, ensure_ascii=False).encode(), 0o644)


def read_results(data_dir: Path) -> dict[str, dict[str, Any]]:
    with _results_lock:
        return _read(data_dir)


async def stb_versions(rt: EdgeRuntime, results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The status's `stb` block: {MODEL: {count, versions, target_version, updated, failed, last_error}}."""
    releases = await offered(rt) if rt.holder.current is not None else []
    devices = [d for d in rt.devices.alive() if d.model]
    models = sorted({d.model for d in devices} | {r.model for r in releases})
    block: dict[str, dict[str, Any]] = {}
    for model in models:
        mine = [d for d in devices if d.model == model]
        newest = newest_for(releases, model, None)
        target = newest.release.version if newest else None
        said = [results.get(d.device_id) for d in mine if target is not None and d.firmware != target]
        refused = [r for r in said if r and r.get("version") == target and r.get("outcome") == "refused"]
        block[model] = {
            "count": len(mine),
            "versions": dict(Counter(d.firmware for d in mine)),
            "target_version": target,
            "updated": sum(1 for d in mine if target is not None and d.firmware == target),
            "failed": len(refused),
            "last_error": refused[-1]["reason"] if refused else None,
        }
    return block
