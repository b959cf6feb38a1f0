"""Diagnostics on request: a stick holding `VILLAGENET/diag/REQUEST` receives an archive of the box's logs,
status and config without secrets, encrypted to the hub's diagnostics key (see provisioning/diagnostics.py)."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from provisioning.diagnostics import archive_path, seal_diagnostics
from provisioning.stick import StickError, StickFS, StickGone

from ..runtime import EdgeRuntime
from ..status import status_body

_LOG_TAIL = 512 * 1024
# Fields of the provisioned state that are secrets (or useless to a reader) and never leave the box.
_SECRET_STATE = {"enroll_token", "trust_b64"}


def _tail(path: Path) -> bytes:
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - _LOG_TAIL))
        return f.read(_LOG_TAIL)


def _journal() -> bytes | None:
    """The service's journal on a box run by systemd (deploy/systemd/village-edge.service), when there is one."""
    if shutil.which("journalctl") is None:
        return None
    try:
        out = subprocess.run(["journalctl", "-u", "village-edge", "-n", "5000", "--no-pager", "-o", "short-iso"],
                             capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout[-_LOG_TAIL:] if out.returncode == 0 and out.stdout else None


def _collect_files(data_dir: Path, status: dict[str, Any]) -> dict[str, bytes]:
    files = {"status.json": json.dumps(status, ensure_ascii=False, indent=1, default=str).encode()}
    for log in sorted(data_dir.glob("*.log"))[:8]:
        files[log.name] = _tail(log)
    journal = _journal()
    if journal:
        files["journal.txt"] = journal
    config = data_dir / "config.toml"
    if config.is_file():
        files["config.toml"] = config.read_bytes()[:64 * 1024]
    state = data_dir / "provision.json"
    if state.is_file():
        try:
            values = json.loads(state.read_text("utf-8"))
            public = {k: v for k, v in values.items() if k not in _SECRET_STATE}
            files["provision.json"] = json.dumps(public, ensure_ascii=False, indent=1).encode()
        except ValueError:
            files["provision.json"] = b"(unreadable)"
    return files


async def export_diagnostics(rt: EdgeRuntime, stick: StickFS) -> dict[str, Any]:
    state = rt.holder.current
    if state is None or not state.diag_key_b64:
        return {"what": "diag", "result": "refused", "code": "no_hub_key",
                "detail": "this box holds no hub diagnostics key yet; provision it with a current bundle first"}
    hub_key = base64.urlsafe_b64decode(state.diag_key_b64)
    status = await status_body(rt)
    files = await asyncio.to_thread(_collect_files, rt.config.data_dir, status)
    sealed = await asyncio.to_thread(seal_diagnostics, rt.holder.key, hub_key, state.village_id, files)
    target = archive_path(rt.holder.key.node_id, int(time.time()))
    try:
        await asyncio.to_thread(stick.write_bytes, target, sealed)
    except StickGone:
        raise
    except (StickError, OSError) as exc:
        code = exc.code if isinstance(exc, StickError) else "write_failed"
        return {"what": "diag", "result": "refused", "code": code, "detail": f"diagnostics not written: {exc}"}
    return {"what": "diag", "result": "applied", "file": "/".join(target), "bytes": len(sealed),
            "files": sorted(files)}
