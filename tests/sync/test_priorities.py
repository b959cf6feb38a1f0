"""Emergency notices before everything: one published after a long backlog reaches the TV ahead of its turn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from protocol import codec, compression, records
from tests.hub.kit import start_hub

from .rig import build_rig


async def test_an_emergency_notice_behind_a_backlog_is_shown_before_the_backlog_is_through(
        aiohttp_client: Any, tmp_path: Path) -> None:
    kit = await start_hub(aiohttp_client, tmp_path / "hub", longpoll_max_s=1.0, down_batch_max_bytes=2048)
    rig = await build_rig(aiohttp_client, kit, tmp_path)
    try:
        async def line_down(request: web.Request, status: int, body: bytes) -> web.Response | None:
            return web.Response(status=503, text="line down") if request.path.endswith("/down") else None

        rig.mitm.tamper = line_down
        for i in range(40):
            await kit.notice(title=f"普通通知{i}", body="村里的一般事务。" * 20)
        await kit.notice(title="紧急：山洪预警", priority="emergency", area="safety")
        rig.mitm.tamper = None  # the line returns

        async def seen() -> int | None:
            # Titles first, then the position: a position read after the notice was visible cannot be too low.
            if "紧急：山洪预警" not in await rig.notice_titles():
                return None
            return int((await rig.status())["down"]["seq"]) + 1

        seq_when_seen = await rig.until("the emergency notice", seen) - 1
        assert seq_when_seen < 41  # shown while ordinary notices were still on their way
        await rig.until("the whole backlog", lambda: _at(rig, 41))
        assert len(await rig.notice_titles()) == 41
    finally:
        await rig.mitm.stop()


async def test_an_emergency_notice_slipped_into_a_batch_on_the_line_is_refused_and_never_shown(
        aiohttp_client: Any, tmp_path: Path) -> None:
    kit = await start_hub(aiohttp_client, tmp_path / "hub", longpoll_max_s=1.0)
    rig = await build_rig(aiohttp_client, kit, tmp_path)
    try:
        async def forge(request: web.Request, status: int, body: bytes) -> bytes | None:
            if not request.path.endswith("/down") or status != 200:
                return None
            m = codec.decode(compression.decompress(body, 8 << 20))
            fake = records.put("notice", "fake", {"title": "紧急：请立即转账", "body": "", "area": "safety",
                                                  "priority": "emergency", "scope": "city"})
            m["urgent"] = [[m["head_seq"] + 1, m["head_hash"], fake]]
            return compression.compress(codec.encode(m))

        rig.mitm.tamper = forge
        await kit.notice(title="真通知")
        st = await rig.error_contains("signature does not match")
        assert st["down"]["seq"] == 0
        assert await rig.notice_titles() == set()

        rig.mitm.tamper = None
        await rig.until("the genuine notice", lambda: _at(rig, 1))
        assert await rig.notice_titles() == {"真通知"}
    finally:
        await rig.mitm.stop()


async def _at(rig: Any, seq: int) -> bool:
    return bool((await rig.status())["down"]["seq"] >= seq)
