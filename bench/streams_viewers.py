"""How many 2 Mbit/s viewers one edge serves on one core before a download is late, and its CPU per GB served.

Two kinds of viewer, each measured against nginx (worker_processes 1, sendfile) on the same core in the same run:
- live: a set-top box on a relayed broadcast (`/streams/`): the playlist every second, then each new segment. The
  edge relays from that nginx (as it would from the hub).
- video notice: a resident playing a cached blob (`/content/`): the next second of video (a 2 Mbit/s Range request)
  every second. nginx serves the very same blob files from the edge's content folder.
Viewers run on the other core and count a download late when it takes longer than the second it covers.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from deploy.local_processes import BIN, Service, free_port
from edge.box.provisioned import apply_bundle
from edge.schema import SCHEMA
from edge.streams.catalog import apply_stream_op
from protocol.database import Database
from protocol.keys import NodeKey
from protocol.records import put
from protocol.trust import make_trust
from provisioning.bundle import make_bundle

SEGMENT_S = 1.0
WINDOW = 6  # segments in the live playlist
STEPS = (100, 200, 400, 700, 1000, 1400, 2000, 2800, 4000, 5600)
PHASE_BUDGET_S = 200.0  # per kind of viewer, both servers: the whole benchmark ends on its own in minutes
STEP_S = 5.0
REFINE = 2  # halvings between the last good step and the late one
STREAM = "bench"
BLOBS = 4
BLOB_BYTES = 16 * 1024**2
SECOND_OF_VIDEO = 250_000  # bytes: one second at 2 Mbit/s
NGINX_CONF = """
user root;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 8192; }}
http {{
    access_log {work}/nginx-access.log;
    client_body_temp_path {work}/nginx-tmp;
    proxy_temp_path {work}/nginx-tmp;
    fastcgi_temp_path {work}/nginx-tmp;
    uwsgi_temp_path {work}/nginx-tmp;
    scgi_temp_path {work}/nginx-tmp;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 60;
    types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
    server {{
        listen 127.0.0.1:{port};
        root {work}/www;
        location ~ \\.m3u8$ {{ add_header Cache-Control "max-age=1"; }}
        location ~ "^/content/([0-9a-f]{{2}})([0-9a-f]{{62}})$" {{
            default_type application/octet-stream;
            alias {work}/edge/content/$1/$1$2;
        }}
    }}
}}
"""


@dataclass
class Step:
    viewers: int
    fetches: int = 0
    late: int = 0
    errors: int = 0
    bytes: int = 0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    worst_s: float = 0.0
    load: float = 0.0  # the machine's 1-minute load average as the step ended


@dataclass
class Load:
    step: Step
    stop: asyncio.Event = field(default_factory=asyncio.Event)


def _generate(work: Path) -> list[bytes]:
    """Twelve 1-second segments at 2 Mbit/s (constant bit rate), as a city encoder sends them."""
    out = work / "gen"
    out.mkdir()
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
         "-t", "12", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "2M", "-minrate", "2M", "-maxrate", "2M",
         "-bufsize", "1M", "-x264-params", "nal-hrd=cbr", "-g", "25", "-f", "hls", "-hls_time", "1",
         "-hls_playlist_type", "vod", "-hls_segment_filename", str(out / "s%03d.ts"), str(out / "vod.m3u8")],
        check=True, timeout=120,
    )
    return [p.read_bytes() for p in sorted(out.glob("s*.ts"))]


async def _live_clock(folder: Path, segments: list[bytes], stop: asyncio.Event) -> None:
    """Publish a new segment every second with a sliding playlist, written atomically as an encoder's origin."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    k = 0
    started = time.monotonic()
    while not stop.is_set():
        await asyncio.to_thread(_publish, folder, segments, k)
        k += 1
        await asyncio.sleep(max(0.0, started + k * SEGMENT_S - time.monotonic()))


def _publish(folder: Path, segments: list[bytes], k: int) -> None:
    (folder / f"live{k}.ts").write_bytes(segments[k % len(segments)])
    first = max(0, k - WINDOW + 1)
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:1", f"#EXT-X-MEDIA-SEQUENCE:{first}"]
    for i in range(first, k + 1):
        lines += [f"#EXTINF:{SEGMENT_S:.3f},", f"live{i}.ts"]
    tmp = folder / "index.m3u8.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(folder / "index.m3u8")
    old = folder / f"live{k - 3 * WINDOW}.ts"
    old.unlink(missing_ok=True)


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = task / "children"
        if children.exists():
            found += [int(c) for c in children.read_text().split()]
    return found


class _Conn(asyncio.Protocol):
    """One set-top box's kept-alive HTTP/1.1 connection, as lean as a client can be, so the viewers' core
    measures the server and not the client (aiohttp's client would saturate long before nginx does)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[tuple[int, bytes, int]] | None = None
        self.head = b""
        self.status = 0
        self.left = -1
        self.size = 0
        self.keep = False
        self.body: list[bytes] = []
        self.server_closes = False  # the answer said `Connection: close`: the next request needs a new connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionError("connection lost"))

    def get(self, path: str, device: str, keep_body: bool, extra: str = "") -> asyncio.Future[tuple[int, bytes, int]]:
        assert self.transport is not None
        self.done = asyncio.get_running_loop().create_future()
        self.head, self.status, self.left, self.size, self.keep, self.body = b"", 0, -1, 0, keep_body, []
        self.transport.write(f"GET {path} HTTP/1.1\r\nHost: edge\r\nX-Device-Id: {device}\r\n{extra}\r\n".encode())
        return self.done

    def data_received(self, data: bytes) -> None:
        if self.left < 0:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.head[:end].split(b"\r\n")
            self.status = int(lines[0].split()[1])
            self.left = next(int(ln.split(b":", 1)[1]) for ln in lines[1:] if ln.lower().startswith(b"content-length:"))
            self.server_closes = any(ln.lower().replace(b" ", b"") == b"connection:close" for ln in lines[1:])
            data = self.head[end + 4:]
        self.left -= len(data)
        self.size += len(data)
        if self.keep:
            self.body.append(data)
        if self.left <= 0 and self.done is not None and not self.done.done():
            self.done.set_result((self.status, b"".join(self.body), self.size))


def viewer_address(i: int) -> str:
    """Viewer i's own loopback address (all of 127/8 is this machine): a village's set-top boxes each have their
    own LAN address, and the edge allows only a few device ids per address."""
    return f"127.1.{i // 250}.{i % 250 + 1}"


class _Client:
    """One viewer's HTTP client: one kept-alive connection, a new one after `Connection: close` or an error."""

    def __init__(self, host: str, port: int, device: str, address: str) -> None:
        self.host, self.port, self.device, self.address = host, port, device, address
        self.conn: _Conn | None = None

    async def get(self, path: str, keep_body: bool, extra: str = "") -> tuple[int, bytes, int]:
        conn = self.conn
        if conn is None or conn.server_closes or conn.transport is None or conn.transport.is_closing():
            self.close()
            _, conn = await asyncio.get_running_loop().create_connection(
                _Conn, self.host, self.port, local_addr=(self.address, 0))
            self.conn = conn
        return await asyncio.wait_for(conn.get(path, self.device, keep_body, extra), 30)

    def close(self) -> None:
        if self.conn is not None and self.conn.transport is not None:
            self.conn.transport.close()
        self.conn = None


class _Viewer(Protocol):
    async def __call__(self, client: _Client, load: Load) -> None: ...


def _count(load: Load, took: float, size: int, ok: bool) -> None:
    step = load.step
    step.fetches += 1
    step.bytes += size
    step.worst_s = max(step.worst_s, took)
    if took > SEGMENT_S or not ok:
        step.late += 1


def _failed(load: Load, client: _Client) -> None:
    load.step.errors += 1
    load.step.late += 1
    client.close()


def live_viewer(prefix: str) -> _Viewer:
    async def watch(client: _Client, load: Load) -> None:
        """A set-top box joining at the live edge: reload every segment duration, fetch each new segment once."""
        loop = asyncio.get_running_loop()
        seen: set[str] = set()
        first = True
        while not load.stop.is_set():
            began = loop.time()
            try:
                status, body, _ = await client.get(f"{prefix}/index.m3u8", True)
                names = [ln for ln in body.decode().splitlines() if ln and not ln.startswith("#")] if status == 200 else []
                if first and names:
                    seen.update(names[:-1])
                    first = False
                for name in names:
                    if name in seen:
                        continue
                    seen.add(name)
                    status, _, size = await client.get(f"{prefix}/{name}", False)
                    _count(load, loop.time() - began, size, status == 200)
            except (ConnectionError, TimeoutError, OSError):
                _failed(load, client)
            await asyncio.sleep(max(0.0, began + SEGMENT_S - loop.time()))
    return watch


def video_viewer(blobs: list[tuple[str, int]]) -> _Viewer:
    async def play(client: _Client, load: Load) -> None:
        """A resident playing a video notice from a random point: the next second of video, every second."""
        loop = asyncio.get_running_loop()
        sha, size = random.choice(blobs)
        pos = random.randrange(0, size // SECOND_OF_VIDEO) * SECOND_OF_VIDEO
        while not load.stop.is_set():
            began = loop.time()
            last = min(pos + SECOND_OF_VIDEO, size) - 1
            try:
                status, _, got = await client.get(f"/content/{sha}", False, f"Range: bytes={pos}-{last}\r\n")
                _count(load, loop.time() - began, got, status == 206 and got == last - pos + 1)
            except (ConnectionError, TimeoutError, OSError):
                _failed(load, client)
            pos = last + 1 if last + 1 < size else 0
            await asyncio.sleep(max(0.0, began + SEGMENT_S - loop.time()))
    return play


async def _run_viewer(host: str, port: int, i: int, viewer: _Viewer, load: Load) -> None:
    await asyncio.sleep(random.random() * SEGMENT_S)
    client = _Client(host, port, f"stb-{i}", viewer_address(i))
    try:
        await viewer(client, load)
    finally:
        client.close()


async def _measure(load: Load, n: int, server_pids: list[int]) -> Step:
    step = Step(n)
    load.step = step
    cpu0, client0 = _cpu_seconds(server_pids), time.process_time()
    await asyncio.sleep(STEP_S)
    step.server_cpu_s = _cpu_seconds(server_pids) - cpu0
    step.client_cpu_s = time.process_time() - client0
    step.load = os.getloadavg()[0]
    load.step = Step(n)  # fetches finishing after the window count nowhere
    return step


async def _step(label: str, load: Load, n: int, server_pids: list[int]) -> Step:
    """One step measured; a late step is measured once more: on a shared machine a neighbour's burst should not
    decide."""
    for _attempt in range(2):
        step = await _measure(load, n, server_pids)
        print(f"  {label:>12} {n:5} viewers: {step.fetches:6} downloads, {step.late:4} late,"
              f" {step.errors} errors, worst {step.worst_s:5.2f} s,"
              f" server CPU {step.server_cpu_s / STEP_S:4.0%}, client CPU {step.client_cpu_s / STEP_S:4.0%}",
              flush=True)
        if not step.late:
            break
    return step


async def _at(label: str, url: str, server_pids: list[int], viewer: _Viewer, n: int) -> Step:
    """n viewers of one server: connected, settled, measured, then gone (the other server is measured next)."""
    load = Load(Step(0))
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    tasks = [asyncio.create_task(_run_viewer(host, port, i, viewer, load)) for i in range(n)]
    try:
        await asyncio.sleep(2 * SEGMENT_S)  # let them connect and settle in
        return await _step(label, load, n, server_pids)
    finally:
        load.stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _side_by_side(servers: list[tuple[str, str, list[int]]], viewer: _Viewer) -> dict[str, list[Step]]:
    """Each step measured on every server in turn, so a neighbour's load on this shared machine falls on both
    alike; a server drops out at its first late step (or when the viewers' core is the limit). Then the gap between
    a server's last good step and its late one is halved REFINE times, so two servers a step apart are not reported
    a whole step apart."""
    results: dict[str, list[Step]] = {label: [] for label, _, _ in servers}
    active = {label for label, _, _ in servers}
    started = time.monotonic()
    for n in STEPS:
        if not active or time.monotonic() - started > PHASE_BUDGET_S:
            break
        for label, url, pids in servers:
            if label in active:
                step = await _at(label, url, pids, viewer, n)
                results[label].append(step)
                if step.late or step.client_cpu_s / STEP_S > 0.9:
                    active.discard(label)
    for label, url, pids in servers:
        steps = results[label]
        if len(steps) < 2 or not steps[-1].late:
            continue
        good, late = steps[-2].viewers, steps[-1].viewers
        for _ in range(REFINE):
            n = (good + late) // 2 // 50 * 50
            if n <= good:
                break
            steps.append(await _at(label, url, pids, viewer, n))
            good, late = (good, n) if steps[-1].late else (n, late)
    return results


def _pinned(argv: list[str]) -> list[str]:
    return ["taskset", "-c", "0", *argv] if (os.cpu_count() or 1) > 1 and shutil.which("taskset") else argv


def _start_nginx(work: Path, port: int) -> subprocess.Popen[bytes]:
    (work / "nginx-tmp").mkdir()
    conf = work / "nginx.conf"
    conf.write_text(NGINX_CONF.format(work=work, port=port))
    proc = subprocess.Popen(_pinned(["nginx", "-c", str(conf), "-g", "daemon off;"]), start_new_session=True)
    for _ in range(100):
        try:
            with open(work / "nginx.pid") as f:
                if f.read().strip():
                    return proc
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"nginx did not start; see {work}/nginx-error.log")


async def _prepare_edge(edge_dir: Path, upstream: str) -> None:
    """A provisioned edge whose 'hub' is the nginx origin, with the broadcast already announced."""
    root = NodeKey.generate()
    trust = make_trust(root, "bench", [NodeKey.generate().public], version=1)
    apply_bundle(edge_dir, make_bundle(root, trust, "v1", "一村", "t1", upstream, "token"))
    (edge_dir / "config.toml").write_text("mdns = false\nbackoff_base_s = 5.0\n")
    db = Database(edge_dir / "edge.db")
    await db.open(SCHEMA)
    async with db.write() as conn:
        await apply_stream_op(conn, put("stream", STREAM, {"title": "基准测试直播", "area": "live", "scope": "city"}))
    await db.close()


def _add_blobs(edge_dir: Path) -> list[tuple[str, int]]:
    """Video notices already in the edge's content cache: random bytes (nothing to gain from compression)."""
    blobs = []
    for _ in range(BLOBS):
        data = os.urandom(BLOB_BYTES)
        sha = hashlib.sha256(data).hexdigest()
        (edge_dir / "content" / sha[:2]).mkdir(parents=True, exist_ok=True)
        (edge_dir / "content" / sha[:2] / sha).write_bytes(data)
        blobs.append((sha, len(data)))
    return blobs


def _nginx_pids(work: Path) -> list[int]:
    master = int((work / "nginx.pid").read_text().strip())
    return _children(master)


def _upstream_fetches_per_segment(work: Path) -> float:
    counts: dict[str, int] = {}
    for line in (work / "nginx-access.log").read_text().splitlines():
        if f"/streams/{STREAM}/live" in line and "aiohttp" in line:
            path = line.split('"')[1].split()[1]
            counts[path] = counts.get(path, 0) + 1
    return sum(counts.values()) / len(counts) if counts else float("nan")


def _capacity(steps: list[Step]) -> int:
    ok = [s.viewers for s in steps if not s.late]
    return max(ok) if ok else 0


def _common(a: list[Step], b: list[Step]) -> int:
    """The most viewers both servers were measured at without a late download (a refined count may be one's only)."""
    both = {s.viewers for s in a if not s.late} & {s.viewers for s in b if not s.late}
    return max(both) if both else STEPS[0]


def _cpu_per_gb(steps: list[Step], viewers: int) -> float:
    step = next((s for s in steps if s.viewers == viewers and not s.late), None)
    return step.server_cpu_s / (step.bytes / 1e9) if step is not None and step.bytes else float("nan")


def _compare(kind: str, edge_steps: list[Step], nginx_steps: list[Step], baseline: str) -> list[dict[str, Any]]:
    edge_n, nginx_n = _capacity(edge_steps), _capacity(nginx_steps)
    common = _common(edge_steps, nginx_steps)
    edge_cpu, nginx_cpu = _cpu_per_gb(edge_steps, common), _cpu_per_gb(nginx_steps, common)
    client_bound = max(s.client_cpu_s for s in edge_steps + nginx_steps) / STEP_S > 0.9
    note = " (viewer core was saturated: the figure is a lower bound)" if client_bound else ""
    for who, steps in (("edge", edge_steps), ("nginx", nginx_steps)):
        if steps and not any(s.late for s in steps):
            note += f"; {who} was never late (at least {steps[-1].viewers} viewers)"
    loads = [s.load for s in edge_steps + nginx_steps]
    note += (f"; load average {min(loads):.1f} to {max(loads):.1f} during the steps on {os.cpu_count()} cores"
             " (other work shares this machine)")
    return [
        {"metric": f"{kind}: 2 Mbit/s viewers on one core before a late download", "value": float(edge_n),
         "unit": "viewers", "baseline": float(nginx_n), "ratio": edge_n / nginx_n if nginx_n else float("nan"),
         "note": f"baseline: nginx sendfile, 1 worker, same core, {baseline}{note}"},
        {"metric": f"{kind}: server CPU seconds per GB served ({common} viewers)", "value": edge_cpu, "unit": "s/GB",
         "baseline": nginx_cpu, "ratio": edge_cpu / nginx_cpu, "note": f"baseline: nginx serving {baseline}"},
    ]


async def _run(work: Path) -> list[dict[str, Any]]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    segments = await asyncio.to_thread(_generate, work)
    nginx_port, edge_port = free_port(), free_port()
    nginx = _start_nginx(work, nginx_port)
    stop_clock = asyncio.Event()
    clock = asyncio.create_task(_live_clock(work / "www" / "streams" / STREAM, segments, stop_clock))
    edge_dir = work / "edge"
    await _prepare_edge(edge_dir, f"http://127.0.0.1:{nginx_port}")
    blobs = await asyncio.to_thread(_add_blobs, edge_dir)
    edge = Service("edge", _pinned([str(BIN / "village-edge"), "serve", "--data", str(edge_dir), "--listen",
                                    f"127.0.0.1:{edge_port}"]), f"http://127.0.0.1:{edge_port}", edge_dir / "edge.log")
    nginx_url = f"http://127.0.0.1:{nginx_port}"
    live, video = live_viewer(f"/streams/{STREAM}"), video_viewer(blobs)
    try:
        await asyncio.to_thread(edge.start)
        assert edge.proc is not None
        await asyncio.sleep(2 * SEGMENT_S)
        servers = [("edge", edge.url, _children(edge.proc.pid)), ("nginx", nginx_url, _nginx_pids(work))]
        live_steps = await _side_by_side([(f"{who} live", url, pids) for who, url, pids in servers], live)
        video_steps = await _side_by_side([(f"{who} video", url, pids) for who, url, pids in servers], video)
        await asyncio.to_thread(edge.stop)
        fetches = _upstream_fetches_per_segment(work)
    finally:
        stop_clock.set()
        await clock
        await asyncio.to_thread(edge.stop)
        nginx.send_signal(signal.SIGQUIT)
        try:
            nginx.wait(10)
        except subprocess.TimeoutExpired:
            nginx.kill()
    return [
        *_compare("/streams/ live segments", live_steps["edge live"], live_steps["nginx live"], "the same segments"),
        *_compare("/content/ video blobs (Range)", video_steps["edge video"], video_steps["nginx video"],
                  "the same blob files"),
        {"metric": "upstream fetches per segment, however many watch", "value": fetches, "unit": "fetches",
         "baseline": 1.0, "ratio": fetches, "note": "counted in the origin's access log"},
    ]


def run(work: Path) -> list[dict[str, Any]]:
    """Viewers on core 1 (this process), the edge and nginx pinned to core 0."""
    before = os.sched_getaffinity(0)
    if len(before) > 1:
        os.sched_setaffinity(0, {max(before)})
    try:
        return asyncio.run(_run(work))
    finally:
        os.sched_setaffinity(0, before)


if __name__ == "__main__":
    for row in run(Path(sys.argv[1])):
        print(row)
