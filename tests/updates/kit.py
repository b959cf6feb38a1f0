"""What the update tests share: wheels of this checkout with another version, boxes as real processes, waiting.

A wheel is written here with zipfile as PEP 427 lays it out (the project's packages, METADATA, WHEEL, RECORD):
the virtualenv's setuptools predates built-in wheel building, and this takes a fraction of a second.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import shutil
import signal
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from deploy.local_processes import Service, edge_service, free_port
from tests.integration.system import wait_for

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("edge", "hub", "protocol", "provisioning", "firmware_hooks")
FAST_EDGE = ("mdns = false\nlongpoll_s = 2.0\nbackoff_base_s = 0.2\nbackoff_max_s = 1.0\nupdate_check_s = 0.3\n"
             "update_retry_s = 1.0\nupdate_health_timeout_s = 20.0\n")
# Replaces how the server starts in a build that imports fine (its install hooks pass) but cannot start.
CANNOT_START = ('\n\ndef serve(app: object, host: str, port: int) -> None:\n'
                '    raise SystemExit("this build cannot start: its settings are missing")\n')
BASE_VERSION = importlib.metadata.version("villagenet")


def newer(step: int) -> str:
    """A version above the checkout's whatever it is: 0.1.0 -> 0.1.0.1, 0.1.0.2, ..."""
    return f"{BASE_VERSION}.{step}"


def build_wheel(out: Path, version: str, append: dict[str, str] | None = None) -> Path:
    """A wheel of this checkout at `version`; `append` adds text to the end of some of its files."""
    out.mkdir(parents=True, exist_ok=True)
    wheel = out / f"villagenet-{version}-py3-none-any.whl"
    record: list[str] = []

    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        def add(name: str, data: bytes, mode: int = 0o644) -> None:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")

        for package in PACKAGES:
            for path in sorted((ROOT / package).rglob("*")):
                if not path.is_file() or "__pycache__" in path.parts:
                    continue
                name = path.relative_to(ROOT).as_posix()
                data = path.read_bytes() + (append or {}).get(name, "").encode()
                add(name, data, 0o755 if os.access(path, os.X_OK) else 0o644)
        dist = f"villagenet-{version}.dist-info"
        add(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: villagenet\nVersion: {version}\n".encode())
        add(f"{dist}/WHEEL", b"Wheel-Version: 1.0\nGenerator: tests/updates/kit.py\nRoot-Is-Purelib: true\n"
                             b"Tag: py3-none-any\n")
        record.append(f"{dist}/RECORD,,")
        zf.writestr(f"{dist}/RECORD", "\n".join(record) + "\n")
    return wheel


def new_box(provisioned: Path, folder: Path, extra_config: str = "") -> Service:
    """A box (not started) with fast settings: a copy of a box provisioned once for the session."""
    shutil.copytree(provisioned, folder)
    (folder / "config.toml").write_text(FAST_EDGE + extra_config)
    return edge_service(folder, free_port())


def get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return json.loads(resp.read())
    except OSError:
        return None  # restarting


def update_of(box: Service) -> dict[str, Any] | None:
    answer = get_json(box.url + "/api/v1/update")
    return answer["update"] if answer else None


def wait_for_outcome(box: Service, target: str, timeout_s: float = 90.0) -> dict[str, Any]:
    """The box's update block once the update to `target` ended (committed, rolled back or failed), serving again."""
    def ended() -> dict[str, Any] | None:
        update = update_of(box)
        if update and update["phase"] == "idle" and update["target_version"] == target \
                and update["state"] in ("committed", "rolled_back", "failed"):
            return update
        return None

    return dict(wait_for("the update's outcome", ended, timeout_s=timeout_s))


def power_cut(box: Service) -> None:
    """kill -9 of the box's whole process group: supervisor, server and any hook, as a power cut would."""
    assert box.proc is not None
    os.killpg(box.proc.pid, signal.SIGKILL)
    box.proc.wait(timeout=10)


def block_hook(folder: Path, name: str) -> Path:
    """A site hook that says it started (a file beside it) and then hangs, so a test can cut the power there."""
    hooks = folder / "hooks"
    hooks.mkdir(exist_ok=True)
    hook = hooks / name
    hook.write_text(f"#!/bin/sh\ntouch '{hooks}/{name}.started'\nexec sleep 120\n")
    hook.chmod(0o755)
    return hooks / f"{name}.started"
