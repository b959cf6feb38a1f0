"""Catching up after a 30-day outage over a 2 Mbit/s line with 200 ms round trips, against PouchDB on the same line.

Backlog: 10,000 submissions at the edge (the anchors' documents, seed 42), 1,000 notices and media at the hub
(200 MB; 20 MB with VILLAGENET_BENCH_QUICK=1). Time to converge is reported as a ratio to the line's own limit
(uncompressed JSON payload bytes / bandwidth, per direction); records first, then media. Baseline in the same run:
PouchDB replicating the same 10,000 documents through the same line simulator (the anchors' harness, its best
configuration: gzip, keep-alive, batches of 500; and the CouchDB-like wire without gzip).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.devices import CONFIG_LINE, register_all
from deploy.local_processes import edge_service, free_port, hub_service, run_command

RATE = 250_000  # bytes/s each way: 2 Mbit/s
LATENCY_MS = 100  # one way: 200 ms round trips
N_SUBMISSIONS = 10_000
N_NOTICES = 1_000
ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT.parent / "shared" / "anchors" / "pouchdb"
LINE_SHIM = """import os, sys
# The harness's line, replaced by deploy/line_simulator.py (same options), so both protocols share one line model.
os.execv(sys.executable, [sys.executable, "-m", "deploy.line_simulator", *sys.argv[1:]])
"""


def _quick() -> bool:
    return os.environ.get("VILLAGENET_BENCH_QUICK") == "1"


def _harness(work: Path) -> Path:
    """The PouchDB harness copied out of the read-only shared folder, installed with `npm ci`."""
    cached = Path(os.environ.get("VILLAGENET_POUCH_HARNESS", "/tmp/villagenet-pouch-harness"))
    if not (cached / "node_modules" / "pouchdb").is_dir():
        if cached.exists():
            shutil.rmtree(cached)
        shutil.copytree(HARNESS, cached, ignore=shutil.ignore_patterns("node_modules", "results"))
        for p in cached.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        cached.chmod(0o755)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=cached, check=True, timeout=600,
                       capture_output=True)
    (cached / "line.py").write_text(LINE_SHIM)
    (cached / "results").mkdir(exist_ok=True)
    return cached


def _docs(harness: Path) -> list[dict[str, Any]]:
    out = subprocess.run(["node", "-e", f"console.log(JSON.stringify(require('./docs').makeDocs({N_SUBMISSIONS})))"],
                         cwd=harness, check=True, capture_output=True, text=True, timeout=120)
    docs: list[dict[str, Any]] = json.loads(out.stdout)
    return docs


def _pouchdb(harness: Path, gzip: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        ["node", "bench.js", "--n", str(N_SUBMISSIONS), "--rate-mbit", "2", "--latency-ms", str(LATENCY_MS),
         "--batch", "500", "--gzip", gzip, "--keepalive", "--timeout-s", "600", "--out", "results/sync_outage.jsonl"],
        cwd=harness, env=env, check=True, capture_output=True, text=True, timeout=900)
    line = [x for x in out.stdout.splitlines() if x.startswith("{")][-1]
    result: dict[str, Any] = json.loads(line)
    if not result.get("verified"):
        raise RuntimeError(f"PouchDB run did not verify: {line[:300]}")
    return result


class _Line:
    def __init__(self, target_port: int, listen_port: int, *options: str) -> None:
        self.argv = [sys.executable, "-m", "deploy.line_simulator", "--target", f"127.0.0.1:{target_port}",
                     "--listen-port", str(listen_port), *options]
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> _Line:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        json.loads(self.proc.stdout.readline())
        return self

    def stop(self) -> dict[str, Any]:
        assert self.proc is not None
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=30)
        stats: dict[str, Any] = json.loads([x for x in out.splitlines() if '"stats"' in x][-1])
        return stats


async def _each(items: list[Any], fn: Any, concurrency: int = 16) -> list[Any]:
    queue: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()
    for i, item in enumerate(items):
        queue.put_nowait((i, item))
    results: list[Any] = [None] * len(items)

    async def worker() -> None:
        while not queue.empty():
            i, item = queue.get_nowait()
            results[i] = await fn(item)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


async def _load_backlog(edge_url: str, hub_url: str, token: str, docs: list[dict[str, Any]],
                        media: list[tuple[bytes, str, str]]) -> int:
    """The outage: residents submit at the edge; the city publishes notices and media at the hub."""
    admin = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as s:
        tvs = await register_all(s, edge_url, (doc["device_id"] for doc in docs))

        async def submit(doc: dict[str, Any]) -> None:
            sub = {"id": doc["_id"], "kind": doc["kind"], "device_id": doc["device_id"], "body": doc["body"]}
            async with s.post(f"{edge_url}/api/v1/submissions", json=sub, headers=tvs[doc["device_id"]]) as r:
                assert r.status in (200, 201), await r.text()

        await _each(docs, submit)
        shas = []
        for data, _mime, _priority in media:
            async with s.post(f"{hub_url}/api/v1/blobs", data=data, headers=admin) as r:
                shas.append((await r.json())["sha256"])

        async def publish(i: int) -> int:
            body: dict[str, Any] = {"title": f"通知 {i}：村委会关于第{i}项工作的安排", "area": "community",
                                    "body": "各位村民：" + "请按时参加村民大会，讨论道路修缮与垃圾分类。" * 3,
                                    "scope": "city", "priority": "normal"}
            if i < len(media):
                body["attachments"] = [{"sha256": shas[i], "mime": media[i][1]}]
                body["priority"] = media[i][2]
            async with s.post(f"{hub_url}/api/v1/notices", json=body, headers=admin) as r:
                created = await r.json()
            async with s.post(f"{hub_url}/api/v1/notices/{created['id']}/publish", headers=admin) as r:
                published = await r.json()
            return len(json.dumps(_notice_json(published), ensure_ascii=False, separators=(",", ":")).encode())

        sizes = await _each(list(range(N_NOTICES)), publish, 8)
    return int(sum(sizes))


def _notice_json(n: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "title", "body", "area", "priority", "scope", "published_at", "expires_at", "attachments")
    return {k: n.get(k) for k in keep}


def _media() -> list[tuple[bytes, str, str]]:
    """(bytes, mime, priority): an emergency notice's small image first, then images, video and recordings last."""
    total = 20 * 1024 * 1024 if _quick() else 200 * 1024 * 1024
    each = (total - 64 * 1024) // 19
    out = [(os.urandom(64 * 1024), "image/jpeg", "emergency")]
    for i in range(19):
        out.append((os.urandom(each), "video/mp4" if i >= 14 else "image/jpeg", "normal"))
    return out


async def _watch(edge_url: str, want_up: int, deadline_s: float) -> dict[str, float]:
    """Times (from the line's return) at which each part had converged, read from the edge's status."""
    marks: dict[str, float] = {}
    t0 = time.monotonic()
    async with aiohttp.ClientSession() as s:
        while time.monotonic() - t0 < deadline_s:
            async with s.get(f"{edge_url}/api/v1/status?format=json") as r:
                st = await r.json()
            now = time.monotonic() - t0
            backlog = st["sync"]["backlog"]
            if "submissions" not in marks and st["up"]["acked"] >= want_up:
                marks["submissions"] = now
            if "notices" not in marks and st["sync"]["hub_time"] and backlog["down_records"] == 0 and \
                    st["down"]["seq"] >= N_NOTICES:
                marks["notices"] = now
            if "submissions" in marks and "notices" in marks and "records" not in marks:
                marks["records"] = now
            if "records" in marks and backlog["blobs"] == 0:
                marks["media"] = now
                return marks
            await asyncio.sleep(0.1)
    raise RuntimeError(f"no convergence within {deadline_s} s: {marks}")


def _ours(work: Path, docs: list[dict[str, Any]]) -> dict[str, Any]:
    hub_dir, edge_dir = work / "hub", work / "edge"
    hub_port, line_port = free_port(), free_port()
    run_command("village-hub", "init", "--data", str(hub_dir))
    run_command("village-hub", "village", "add", "--data", str(hub_dir), "--id", "v1", "--name", "一村")
    run_command("village-provision", "make", "--hub-data", str(hub_dir), "--village", "v1",
                "--hub-url", f"http://127.0.0.1:{line_port}", "--out", str(work / "v1.vnb"))
    run_command("village-edge", "provision", "--data", str(edge_dir), str(work / "v1.vnb"))
    # A box that has waited out a month-long outage retries every backoff_max_s; 1 s here so the figure is the
    # protocol's, not the backoff's.
    (edge_dir / "config.toml").write_text("mdns = false\nbackoff_base_s = 0.5\nbackoff_max_s = 1.0\n" + CONFIG_LINE)
    hub = hub_service(hub_dir, hub_port).start(ready_path="/api/v1/trust")
    edge = edge_service(edge_dir, free_port()).start()
    token = (hub_dir / "admin.token").read_text().strip()
    try:
        enroll_line = _Line(hub_port, line_port, "--no-handshake").start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with urlopen_json(edge.url + "/api/v1/status?format=json") as st:
                if st["enrolled"]:
                    break
            time.sleep(0.2)
        enroll_line.stop()  # the line goes down for 30 days
        media = _media()
        notice_payload = asyncio.run(_load_backlog(edge.url, hub.url, token, docs, media))
        time.sleep(2.0)
        line = _Line(hub_port, line_port, "--rate", str(RATE), "--latency-ms", str(LATENCY_MS)).start()
        marks = asyncio.run(_watch(edge.url, N_SUBMISSIONS, 3600))
        stats = line.stop()
    finally:
        edge.stop()
        hub.stop()
    return {"marks": marks, "stats": stats, "notice_payload": notice_payload,
            "media_bytes": sum(len(m[0]) for m in media)}


class urlopen_json:  # noqa: N801 - a tiny context manager used like urlopen
    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> dict[str, Any]:
        import urllib.request

        with urllib.request.urlopen(self.url, timeout=10) as r:
            result: dict[str, Any] = json.loads(r.read())
        return result

    def __exit__(self, *exc: object) -> None:
        return None


def run(work: Path) -> list[dict[str, Any]]:
    harness = _harness(work)
    docs = _docs(harness)
    sub_payload = sum(len(json.dumps(d, ensure_ascii=False, separators=(",", ":")).encode()) for d in docs)
    digest = hashlib.sha256(b"".join(d["_id"].encode() for d in docs)).hexdigest()[:12]
    ours = _ours(work, docs)
    best = _pouchdb(harness, "on")
    plain = _pouchdb(harness, "off")
    marks, stats = ours["marks"], ours["stats"]
    up_limit = sub_payload / RATE
    down_limit = ours["notice_payload"] / RATE
    records_limit = max(up_limit, down_limit)
    media_limit = (ours["notice_payload"] + ours["media_bytes"]) / RATE
    pouch_best = float(best["seconds"])
    rows = [
        {"metric": "records converge after 30-day outage, time / line limit", "value": marks["records"] / records_limit,
         "unit": "x limit", "baseline": pouch_best / up_limit, "ratio": marks["records"] / pouch_best,
         "note": f"limit {records_limit:.2f} s (max of up {sub_payload} B and down {ours['notice_payload']} B of JSON"
                 f" at {RATE} B/s); records took {marks['records']:.2f} s; baseline PouchDB best (gzip, keep-alive,"
                 f" batch 500) over the same line, {pouch_best:.2f} s, as x limit; docs {digest}"},
        {"metric": "10,000 submissions up, seconds (PouchDB best = baseline)", "value": marks["submissions"],
         "unit": "s", "baseline": pouch_best, "ratio": marks["submissions"] / pouch_best,
         "note": f"ours {marks['submissions'] / up_limit:.2f}x limit; PouchDB gzip {pouch_best / up_limit:.2f}x,"
                 f" no gzip {float(plain['seconds']) / up_limit:.2f}x; {pouch_best / marks['submissions']:.1f}x faster"},
        {"metric": "10,000 submissions up, seconds (PouchDB CouchDB-like wire)", "value": marks["submissions"],
         "unit": "s", "baseline": float(plain["seconds"]), "ratio": marks["submissions"] / float(plain["seconds"])},
        {"metric": "1,000 notices down, time / line limit", "value": marks["notices"] / down_limit, "unit": "x limit",
         "baseline": 1.0, "ratio": marks["notices"] / down_limit},
        {"metric": f"records + {ours['media_bytes'] // 2**20} MB media down, time / line limit",
         "value": marks["media"] / media_limit, "unit": "x limit", "baseline": 1.0,
         "ratio": marks["media"] / media_limit, "note": f"{marks['media']:.1f} s; quick mode: {_quick()}"},
        {"metric": "bytes on the line (both ways) / JSON payload, records and media", "value":
         stats["total_bytes"] / (sub_payload + ours["notice_payload"] + ours["media_bytes"]), "unit": "ratio",
         "baseline": float(best["bytes_ratio"]), "ratio": stats["total_bytes"] / (
             sub_payload + ours["notice_payload"] + ours["media_bytes"]) / float(best["bytes_ratio"]),
         "note": "baseline: PouchDB best's bytes / payload (records only)"},
    ]
    return rows


if __name__ == "__main__":
    for r in run(Path(sys.argv[1])):
        print(r)
