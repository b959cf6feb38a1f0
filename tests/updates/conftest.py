from __future__ import annotations

import contextlib
import hashlib
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.local_processes import Service, run_command
from protocol.keys import NodeKey
from protocol.releases import make_release

from .kit import CANNOT_START, build_wheel, newer


@dataclass(frozen=True)
class Releases:
    hub_dir: Path
    provisioned: Path  # a box's data folder provisioned for village v1, whose hub is never started here
    good: Path  # a stick folder with a release of newer(1)
    cannot_start: Path  # a stick folder with a release of newer(2) that fails its health check


def _release_stick(hub_dir: Path, wheel: Path, version: str, stick: Path) -> Path:
    """What `village-hub release add --out STICK` writes (tested on its own), signed here to save two processes."""
    data = wheel.read_bytes()
    signed = make_release(NodeKey.load(hub_dir / "release.key"), version=version, target="edge",
                          sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    folder = stick / "VILLAGENET" / "firmware"
    folder.mkdir(parents=True)
    (folder / f"edge-{version}.vnr").write_bytes(signed)
    (folder / f"edge-{version}.whl").write_bytes(data)
    return stick


@pytest.fixture(scope="session")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Releases:
    """Built once per test session (per worker): a hub's keys, a village's bundle, two releases on sticks."""
    base = tmp_path_factory.mktemp("releases")
    hub_dir = base / "hub"
    run_command("village-hub", "init", "--data", str(hub_dir))
    run_command("village-hub", "village", "add", "--data", str(hub_dir), "--id", "v1", "--name", "一村")
    bundle = base / "v1.vnb"
    run_command("village-provision", "make", "--hub-data", str(hub_dir), "--village", "v1",
                "--hub-url", "http://127.0.0.1:9", "--out", str(bundle))
    run_command("village-edge", "provision", "--data", str(base / "provisioned"), str(bundle))
    good = build_wheel(base / "wheels", newer(1))
    bad = build_wheel(base / "wheels", newer(2), {"edge/serving/run.py": CANNOT_START})
    return Releases(hub_dir, base / "provisioned", _release_stick(hub_dir, good, newer(1), base / "stick-good"),
                    _release_stick(hub_dir, bad, newer(2), base / "stick-bad"))


@pytest.fixture
def boxes() -> Iterator[list[Service]]:
    """Boxes a test started; all stopped afterwards, their process groups included."""
    started: list[Service] = []
    yield started
    for box in started:
        box.stop()
        if box.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(box.proc.pid, signal.SIGKILL)  # a hook left hanging by a test
