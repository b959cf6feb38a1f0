"""Set-top-box firmware through a real hub, the simulated line and a real box, to twenty simulated STBs of two models
on real mDNS (loopback): the line carries each model's image once, every STB takes its model's release from the box
over the LAN and comes back advertising the new fw, and the box's status counts them; a bad image leaves each STB on
its old version and the status says why."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from deploy.line_simulator import LineSimulator
from deploy.local_processes import free_port, run_command
from deploy.simulated_stb import SimulatedStb, make_firmware_image
from tests.integration.system import FAST_HUB, System, build_system

from .kit import get_json

MODELS = {"HG680": "1.0.0", "ZXV10": "2.0.0"}
PER_MODEL = 10
IMAGE_BYTES = 300 * 1024
EDGE = ("longpoll_s = 2.0\nbackoff_base_s = 0.2\nbackoff_max_s = 1.0\nupdate_check_s = 0.3\n"
        "device_registrations_per_hour = 200\n")  # mDNS on: on 127.0.0.1 only, as without a `lan` setting


async def _until(what: str, check: Any, timeout_s: float = 60.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    last = None
    while loop.time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.3)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")


class Village:
    def __init__(self, system: System, line: LineSimulator) -> None:
        self.system, self.line = system, line
        self.edge = system.edges["v1"]

    async def stb_block(self) -> dict[str, Any]:
        status = await asyncio.to_thread(get_json, self.edge.url + "/api/v1/status?format=json")
        return dict((status or {}).get("stb") or {})

    async def release(self, tmp: Path, model: str, version: str, image: bytes) -> None:
        path = tmp / f"{model}-{version}.img"
        path.write_bytes(image)
        await asyncio.to_thread(run_command, "village-hub", "release", "add", "--data", str(self.system.hub_dir),
                                "--file", str(path), "--version", version, "--target", f"stb:{model}",
                                "--scope", "village:v1")


@pytest.fixture
async def village(tmp_path: Path) -> AsyncIterator[Village]:
    line_port, ports = free_port(), {}

    def through_the_line(hub_port: int) -> str:
        ports["hub"] = hub_port
        return f"http://127.0.0.1:{line_port}"

    system = await asyncio.to_thread(build_system, tmp_path, ["v1"], through_the_line)
    (system.hub_dir / "config.toml").write_text(FAST_HUB)
    (system.edge_dir("v1") / "config.toml").write_text(EDGE)
    line = await LineSimulator(("127.0.0.1", ports["hub"]), listen_port=line_port).start()
    try:
        await asyncio.to_thread(system.hub.start)
        await asyncio.to_thread(system.edges["v1"].start)
        yield Village(system, line)
    finally:
        await asyncio.to_thread(system.stop_all)
        await line.stop()


@pytest.fixture
async def stbs() -> AsyncIterator[list[SimulatedStb]]:
    # One process hosts them all on the loopback interface, each naming an address of its own, as on a LAN.
    made = [SimulatedStb(f"stb-{model.lower()}-{i:02d}", model, fw, address=f"127.0.{m + 1}.{i + 1}")
            for m, (model, fw) in enumerate(MODELS.items()) for i in range(PER_MODEL)]
    await asyncio.gather(*(stb.advertise() for stb in made))
    try:
        yield made
    finally:
        await asyncio.gather(*(stb.goodbye() for stb in made), return_exceptions=True)


async def test_twenty_stbs_take_their_models_release_over_the_lan_and_the_line_carries_one_copy_per_model(
        village: Village, stbs: list[SimulatedStb], tmp_path: Path) -> None:
    async def seen_all() -> bool:
        block = await village.stb_block()
        return all(block.get(m, {}).get("count") == PER_MODEL for m in MODELS)

    await _until("the box sees all twenty STBs over mDNS", seen_all)
    before = village.line.stats.down_bytes
    images = {"HG680": make_firmware_image("HG680", "1.1.0", IMAGE_BYTES),
              "ZXV10": make_firmware_image("ZXV10", "2.1.0", IMAGE_BYTES)}
    await village.release(tmp_path, "HG680", "1.1.0", images["HG680"])
    await village.release(tmp_path, "ZXV10", "2.1.0", images["ZXV10"])

    async def cached() -> bool:
        block = await village.stb_block()
        return block["HG680"]["target_version"] == "1.1.0" and block["ZXV10"]["target_version"] == "2.1.0"

    await _until("both images cached at the box", cached)
    outcomes = await asyncio.gather(*(stb.take_update(village.edge.url) for stb in stbs))
    assert outcomes == ["updated"] * 2 * PER_MODEL

    async def all_updated() -> dict[str, Any] | None:
        block = await village.stb_block()
        done = all(block[m]["updated"] == block[m]["count"] == PER_MODEL for m in MODELS)
        return block if done else None

    block = await _until("the box counts every STB back with its new fw", all_updated)
    carried = village.line.stats.down_bytes - before
    one_copy_each = sum(len(i) for i in images.values())
    print(f"line carried {carried} bytes for two {IMAGE_BYTES}-byte images taken by {2 * PER_MODEL} STBs "
          f"({carried / one_copy_each:.2f} copies)")
    assert one_copy_each <= carried < 1.5 * one_copy_each, "one copy per model over the line"
    assert block["HG680"]["versions"] == {"1.1.0": PER_MODEL} and block["ZXV10"]["versions"] == {"2.1.0": PER_MODEL}
    assert {stb.firmware for stb in stbs} == {"1.1.0", "2.1.0"}
    assert await asyncio.gather(*(stb.take_update(village.edge.url) for stb in stbs[:2])) == ["up_to_date"] * 2

    bad = make_firmware_image("ZXV10", "1.2.0", IMAGE_BYTES)  # signed as HG680's, but the image is another model's
    assert hashlib.sha256(bad).hexdigest() != hashlib.sha256(images["HG680"]).hexdigest()
    await village.release(tmp_path, "HG680", "1.2.0", bad)

    async def bad_cached() -> bool:
        return (await village.stb_block())["HG680"]["target_version"] == "1.2.0"

    await _until("the bad image cached at the box", bad_cached)
    hg680 = [stb for stb in stbs if stb.model == "HG680"]
    assert await asyncio.gather(*(stb.take_update(village.edge.url) for stb in hg680)) == ["refused"] * PER_MODEL

    async def refusals_counted() -> dict[str, Any] | None:
        model = (await village.stb_block())["HG680"]
        return model if model["failed"] == PER_MODEL else None

    model = await _until("the status says the STBs refused the image", refusals_counted)
    assert (model["updated"], model["versions"]) == (0, {"1.1.0": PER_MODEL}), model
    assert "not HG680" in model["last_error"]
    assert {stb.firmware for stb in hg680} == {"1.1.0"}
