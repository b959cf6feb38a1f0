"""Fixtures for the USB tests: a hub data dir with a village, and unprovisioned edge processes that take loop
devices as sticks (VILLAGENET_USB_ACCEPT_LOOP=1)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.local_processes import Service, edge_service, free_port, run_command
from tests.integration.system import FAST_EDGE, System, build_system

needs_loop = pytest.mark.skipif(
    shutil.which("losetup") is None or not Path("/dev/loop-control").exists(),
    reason="needs loop devices (losetup, /dev/loop-control) and root",
)


@dataclass
class Field:
    """A hub (not started) with villages v1 and v2, and what a technician makes for them."""

    system: System
    base: Path

    @property
    def hub_dir(self) -> Path:
        return self.system.hub_dir

    def bundle(self, village: str = "v1", *extra: str) -> bytes:
        out = self.base / f"bundle-{village}-{len(list(self.base.glob('bundle-*')))}.vnb"
        run_command("village-provision", "make", "--hub-data", str(self.hub_dir), "--village", village,
                    "--hub-url", self.system.hub.url, "--out", str(out), *extra)
        return out.read_bytes()

    def new_edge(self, name: str, config: str = FAST_EDGE) -> Service:
        data = self.base / name
        data.mkdir(parents=True, exist_ok=True)
        (data / "config.toml").write_text(config)
        return edge_service(data, free_port())


@pytest.fixture
def field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Field]:
    monkeypatch.setenv("VILLAGENET_USB_ACCEPT_LOOP", "1")  # inherited by the edge processes started here
    # Only this test's images: another test run on the same machine attaches loop devices too.
    monkeypatch.setenv("VILLAGENET_USB_LOOP_DIR", str(tmp_path.resolve()))
    system = build_system(tmp_path, [])
    for vid in ("v1", "v2"):
        run_command("village-hub", "village", "add", "--data", str(system.hub_dir), "--id", vid, "--name",
                    f"{vid}村", "--town", "t1")
    f = Field(system, tmp_path)
    services: list[Service] = []
    original = f.new_edge

    def tracked(name: str, config: str = FAST_EDGE) -> Service:
        svc = original(name, config)
        services.append(svc)
        return svc

    f.new_edge = tracked  # type: ignore[method-assign]
    try:
        yield f
    finally:
        for svc in services:
            svc.stop()
        system.stop_all()
