"""Durable submissions per second at the edge, and bytes on the line per submission in the up feed.

Baselines in the same run: bare SQLite commits with synchronous=FULL on the same disk (the fsync ceiling), and the
same submissions sent as one JSON POST each through the same counting line.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.devices import CONFIG_LINE, register_all
from deploy.local_processes import edge_service, free_port, hub_service, run_command

N_RATE = 2000
N_WIRE = 2000
LINE = Path(__file__).resolve().parents[1].parent / "shared" / "anchors" / "pouchdb" / "line.py"


# Residents write different things; identical bodies would let compression flatter the wire figure.
_PHRASES = [
    "村口的路灯坏了三天了", "晚上老人出门不方便", "请尽快派人修理", "垃圾桶满了没人清", "下水道有异味",
    "希望增加公交班次", "医保缴费在哪里办", "孩子上学的补助什么时候发", "桥边的护栏松了", "自来水发黄",
    "广场舞声音太大", "建议在卫生室多放些常用药", "网络信号不好", "村道上有大坑", "想咨询宅基地审批",
    "老人体检能不能上门", "电视上的通知字太小", "谢谢村委会的帮助", "小卖部门口乱停车", "河边需要安全警示牌",
]


def _submission(i: int) -> dict[str, Any]:
    rng = random.Random(i)
    text = "，".join(rng.sample(_PHRASES, 3)) + f"。{rng.randint(1, 99)}号{rng.choice('东南西北')}边。"
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "kind": "feedback",
        "device_id": f"stb-{rng.randint(0, 499):03d}",
        "body": {"text": text, "choice": rng.randint(1, 5)},
    }


async def _post_all(base: str, subs: list[dict[str, Any]], concurrency: int, as_tvs: bool = True) -> float:
    """POST every submission; `as_tvs` registers their devices first (the edge needs each one's token)."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for s in subs:
        queue.put_nowait(s)
    async with aiohttp.ClientSession() as session:
        tvs = await register_all(session, base, (s["device_id"] for s in subs)) if as_tvs else {}

        async def worker() -> None:
            while not queue.empty():
                sub = queue.get_nowait()
                async with session.post(f"{base}/api/v1/submissions", json=sub, headers=tvs.get(sub["device_id"])) as resp:
                    if resp.status not in (200, 201):
                        raise RuntimeError(f"edge answered {resp.status}: {await resp.text()}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def _bare_sqlite_rate(path: Path, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, body TEXT)")
    body = json.dumps(_submission(0), ensure_ascii=False)
    started = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?)", (str(i), body))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return n / elapsed


class _Line:
    """The anchors' line simulator, uncapped, as a byte counter between two endpoints."""

    def __init__(self, target_port: int, listen_port: int, stats: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(LINE), "--target", f"127.0.0.1:{target_port}", "--listen-port", str(listen_port),
             "--no-handshake", "--stats-file", str(stats)],
            stdout=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        json.loads(self.proc.stdout.readline())  # {"event": "listening"}
        self.stats = stats

    def close(self) -> dict[str, Any]:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        return json.loads(self.stats.read_text())


def _prepare(work: Path, line_port: int) -> tuple[Path, Path, int]:
    hub_dir, edge_dir = work / "hub", work / "edge"
    hub_port = free_port()
    run_command("village-hub", "init", "--data", str(hub_dir))
    run_command("village-hub", "village", "add", "--data", str(hub_dir), "--id", "v1", "--name", "一村")
    run_command("village-provision", "make", "--hub-data", str(hub_dir), "--village", "v1",
                "--hub-url", f"http://127.0.0.1:{line_port}", "--out", str(work / "v1.vnb"))
    run_command("village-edge", "provision", "--data", str(edge_dir), str(work / "v1.vnb"))
    (edge_dir / "config.toml").write_text("mdns = false\nbackoff_max_s = 1.0\nlongpoll_s = 1.0\n" + CONFIG_LINE)
    return hub_dir, edge_dir, hub_port


async def _hub_count(hub_url: str, token: str) -> int:
    async with aiohttp.ClientSession() as s, s.get(
        f"{hub_url}/api/v1/submissions?village=v1", headers={"Authorization": f"Bearer {token}"}
    ) as resp:
        count = 0
        answer = await resp.json()
        count += len(answer["submissions"])
        while answer.get("next"):
            async with s.get(f"{hub_url}/api/v1/submissions?village=v1&cursor={answer['next']}",
                             headers={"Authorization": f"Bearer {token}"}) as more:
                answer = await more.json()
            count += len(answer["submissions"])
        return count


async def _json_posts_bytes(work: Path, subs: list[dict[str, Any]]) -> dict[str, Any]:
    """The naive alternative: each submission as its own JSON POST over a kept-alive connection."""

    async def accept(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"id": body["id"], "state": "queued"}, status=201)

    app = web.Application()
    app.router.add_post("/api/v1/submissions", accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    line = _Line(port, free_port(), work / "json-line.json")
    try:
        await _post_all(f"http://127.0.0.1:{_listen_port(line)}", subs, 1, as_tvs=False)  # a plain server
    finally:
        stats = line.close()
        await runner.cleanup()
    return stats


def _listen_port(line: _Line) -> int:
    args = line.proc.args
    assert isinstance(args, list)
    return int(args[args.index("--listen-port") + 1])


def run(work: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    line_port = free_port()
    hub_dir, edge_dir, hub_port = _prepare(work, line_port)
    token = (hub_dir / "admin.token").read_text().strip()
    edge = edge_service(edge_dir, free_port()).start()
    hub = None
    try:
        # 1. Durable submissions per second, with the hub unreachable (nothing but the edge's own work).
        subs = [_submission(i) for i in range(N_RATE)]
        elapsed = asyncio.run(_post_all(edge.url, subs, 16))
        edge_rate = N_RATE / elapsed
        bare = _bare_sqlite_rate(work / "bare.db", N_RATE)
        rows.append({"metric": "durable submissions/s at the edge (HTTP, synchronous=FULL)", "value": edge_rate,
                     "unit": "per s", "baseline": bare, "ratio": edge_rate / bare,
                     "note": "baseline: bare SQLite INSERT+COMMIT, WAL, synchronous=FULL, same disk"})

        # 2. Bytes on the line for the up feed carrying those submissions.
        hub = hub_service(hub_dir, hub_port).start(ready_path="/api/v1/trust")
        line = _Line(hub_port, line_port, work / "feed-line.json")
        deadline = time.monotonic() + 120
        while asyncio.run(_hub_count(hub.url, token)) < N_WIRE and time.monotonic() < deadline:
            time.sleep(0.5)
        stats = line.close()
        feed_bytes = stats["up_bytes"] + stats["down_bytes"]
        naive = asyncio.run(_json_posts_bytes(work, subs[:N_WIRE]))
        naive_bytes = naive["up_bytes"] + naive["down_bytes"]
        rows.append({"metric": "bytes on the line per submission, up feed", "value": feed_bytes / N_WIRE,
                     "unit": "bytes", "baseline": naive_bytes / N_WIRE, "ratio": feed_bytes / naive_bytes,
                     "note": "baseline: one JSON POST per submission, keep-alive, through the same line; texts mix 3 of 20 "
                             "phrases, so batch compression finds repeats real texts would have less of"})
    finally:
        edge.stop()
        if hub:
            hub.stop()
    return rows


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    for r in run(Path(sys.argv[1])):
        print(r)
