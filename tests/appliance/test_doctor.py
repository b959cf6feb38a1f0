"""`village-edge doctor` on a real box's data folder: stopped, running and synced, cut off from the hub, rolled back."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local_processes import BIN
from deploy.simulated_stb import SimulatedStb
from edge.updates.state import UpdateState, save_state
from tests.integration.system import System, build_system, http, wait_for


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    built = build_system(tmp_path, ["v1"])
    box = built.edges["v1"]
    port = box.url.rsplit(":", 1)[1]
    config = built.edge_dir("v1") / "config.toml"
    # mDNS on (on 127.0.0.1 only, without a `lan` setting) to see set-top boxes; the listen address is where the
    # doctor finds the running box.
    config.write_text(config.read_text().replace("mdns = false", "mdns = true") + f'listen = "127.0.0.1:{port}"\n')
    yield built
    built.stop_all()


def doctor(system: System, *extra: str) -> tuple[int, str]:
    done = subprocess.run([str(BIN / "village-edge"), "doctor", "--data", str(system.edge_dir("v1")), *extra],
                          capture_output=True, text=True, timeout=60)
    assert not done.stderr.strip(), done.stderr
    return done.returncode, done.stdout


async def _with_set_top_boxes(system: System, models: list[tuple[str, str]]) -> str:
    """The doctor's answer once the box sees these set-top boxes advertise (on their own event loop meanwhile)."""
    stbs = [SimulatedStb(f"stb-{i}", model, fw, address=f"127.0.9.{i + 1}") for i, (model, fw) in enumerate(models)]
    await asyncio.gather(*(stb.advertise() for stb in stbs))

    def seen() -> int:
        status = http("GET", system.edges["v1"].url + "/api/v1/status?format=json")[1] or {}
        return sum(int(block["count"]) for block in (status.get("stb") or {}).values())

    try:
        for _ in range(60):
            if await asyncio.to_thread(seen) == len(stbs):
                break
            await asyncio.sleep(0.5)
        return (await asyncio.to_thread(doctor, system))[1]
    finally:
        await asyncio.gather(*(stb.goodbye() for stb in stbs), return_exceptions=True)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_the_doctor_tells_a_stopped_box_from_a_healthy_one_and_says_what_needs_attention(system: System) -> None:
    folder = system.edge_dir("v1")
    before = _snapshot(folder)
    code, text = doctor(system)
    assert code == 1, text
    assert "[注意] 运行: 服务没有在" in text and "连不上" in text and "尚未注册" in text, text
    assert "v1村（v1）" in text and "版本: 运行 0.1.0" in text and "结论：有 3 项需要处理。" in text, text
    assert _snapshot(folder) == before, "the doctor wrote into a stopped box's data folder"

    system.hub.start()
    system.edges["v1"].start()
    wait_for("the first sync", lambda: (http("GET", system.edges["v1"].url + "/api/v1/status?format=json")[1]
                                        or {}).get("last_sync_at"), timeout_s=60)
    code, text = doctor(system)
    assert code == 0, text
    assert "[正常] 运行: 正在服务" in text and "可以连通" in text and "结论：一切正常。" in text, text
    assert "机顶盒: 局域网里没有看到机顶盒" in text, text

    text = asyncio.run(_with_set_top_boxes(system, [("HG680", "1.0.0"), ("HG680", "1.0.0"), ("ZXV10", "2.0.0")]))
    assert "[正常] 机顶盒: HG680 共 2 台（固件 1.0.0 ×2）；ZXV10 共 1 台（固件 2.0.0 ×1）" in text, text
    code, text = doctor(system, "--lang", "en")
    assert code == 0 and "[ok] line: v1 -> hub" in text and "All is well." in text, text

    system.hub.stop()
    code, text = doctor(system, "--lang", "en")
    assert code == 1 and "[attention] line:" in text and "unreachable" in text, text
    assert "[ok] running: serving" in text, text

    system.edges["v1"].stop()
    save_state(folder, UpdateState(state="rolled_back", target_version="0.1.0.1",
                                   last_error="version 0.1.0.1 exited with code 1 before its health check passed"))
    before = _snapshot(folder)
    assert "edge.db" in before
    code, text = doctor(system)
    assert _snapshot(folder) == before, "the doctor wrote into a stopped box's data folder"
    assert code == 1, text
    assert "[注意] 升级: 已回滚到旧版本（目标版本 0.1.0.1，阶段 idle）：version 0.1.0.1 exited with code 1" in text, \
        text
    assert re.search(r"\[正常\] 同步: 上次同步 \d+ 秒前；待上传 0 条，待下载文件 0 个", text), text  # from the folder
