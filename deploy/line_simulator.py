"""A simulated dedicated line: a TCP proxy with a bandwidth cap, latency, cuts at random offsets and byte flips.

Modelled on the anchors' line.py (shared token bucket per direction, 1460-byte chunks, one-way latency, a round
trip per new connection) so figures compare; adds the faults a village line has. Use `LineSimulator` in-process
(tests) or `python -m deploy.line_simulator` (benchmarks; same options as line.py, plus the faults).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class Bucket:
    """Token bucket for one direction, shared by every connection (it is one line); the debt is slept off."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = float(burst)
        self.t_last = time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self, n: int) -> None:
        if self.rate <= 0:
            return
        async with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.t_last) * self.rate)
            self.t_last = now
            self.tokens -= n
            if self.tokens < 0:
                await asyncio.sleep(-self.tokens / self.rate)


@dataclass
class Faults:
    """What goes wrong, per direction ("up" = towards the target, "down" = back to the client).

    `cut_every`: cut every connection when the direction's byte count crosses a multiple of it (a fixed schedule).
    `cut_mean`: cut after a random number of bytes with this mean (exponential), drawn again after each cut.
    `flip_mean`: flip one random bit after a random number of bytes with this mean.
    """

    cut_every: int = 0
    cut_mean: float = 0.0
    flip_mean: float = 0.0
    directions: tuple[str, ...] = ("up", "down")
    seed: int | None = None
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def draw(self, mean: float) -> int:
        return max(1, int(self.rng.expovariate(1.0 / mean))) if mean > 0 else 0


@dataclass
class Stats:
    up_bytes: int = 0
    down_bytes: int = 0
    connections: int = 0
    open_connections: int = 0
    cuts: int = 0
    flips: int = 0
    refused: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"event": "stats", "up_bytes": self.up_bytes, "down_bytes": self.down_bytes,
                "total_bytes": self.up_bytes + self.down_bytes, "connections": self.connections,
                "open_connections": self.open_connections, "cuts": self.cuts, "flips": self.flips,
                "refused": self.refused}


class _Direction:
    """Byte accounting and fault schedule of one direction of the line."""

    def __init__(self, name: str, faults: Faults) -> None:
        self.name = name
        self.faults = faults
        self.active = name in faults.directions
        self.count = 0
        self.next_cut = self._next_cut(0)
        self.next_flip = faults.draw(faults.flip_mean) if self.active else 0

    def _next_cut(self, now: int) -> int:
        f = self.faults
        if not self.active:
            return 0
        if f.cut_every:
            return (now // f.cut_every + 1) * f.cut_every
        return now + f.draw(f.cut_mean) if f.cut_mean else 0

    def pass_through(self, data: bytes, stats: Stats) -> tuple[bytes, bool]:
        """The bytes that get through, flipped where due, and whether the line is cut after them."""
        start, end = self.count, self.count + len(data)
        cut = bool(self.next_cut) and self.next_cut <= end
        if cut:
            data = data[: self.next_cut - start]
            end = self.next_cut
            self.next_cut = self._next_cut(end)
        if self.next_flip and self.next_flip <= end:
            buf = bytearray(data)
            while self.next_flip and self.next_flip <= end:
                i = self.next_flip - start - 1
                if 0 <= i < len(buf):
                    buf[i] ^= 1 << self.faults.rng.randrange(8)
                    stats.flips += 1
                self.next_flip += self.faults.draw(self.faults.flip_mean)
            data = bytes(buf)
        self.count = end
        return data, cut


class LineSimulator:
    """The line between a village and the city, on 127.0.0.1 in front of `target`."""

    def __init__(self, target: tuple[str, int], rate: float = 0.0, latency_ms: float = 0.0,
                 handshake: bool = True, faults: Faults | None = None, chunk: int | None = None,
                 burst: int | None = None, listen_port: int = 0) -> None:
        self.target = target
        self.latency = latency_ms / 1000.0
        self.handshake = handshake
        self.chunk = chunk or (1460 if rate > 0 else 65536)
        self.faults = faults or Faults()
        self.stats = Stats()
        self.buckets = {d: Bucket(rate, burst or self.chunk) for d in ("up", "down")}
        self.dirs = {d: _Direction(d, self.faults) for d in ("up", "down")}
        self.listen_port = listen_port
        self.port = 0
        self.is_down = False
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> LineSimulator:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.listen_port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut_all()
        for task in list(self._conns):
            task.cancel()
        for task in list(self._conns):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def down(self) -> None:
        """The line drops: every connection is cut and new ones are refused until `up()`."""
        self.is_down = True
        self.cut_all()

    def up(self) -> None:
        self.is_down = False

    def cut_all(self) -> None:
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_down:
            self.stats.refused += 1
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        self.stats.connections += 1
        self.stats.open_connections += 1
        upstream: asyncio.StreamWriter | None = None
        try:
            if self.handshake and self.latency > 0:
                await asyncio.sleep(2 * self.latency)  # SYN / SYN-ACK before the first byte
            up_reader, upstream = await asyncio.open_connection(*self.target)
            self._writers.update((writer, upstream))
            await asyncio.gather(self._pump("up", reader, upstream, writer),
                                 self._pump("down", up_reader, writer, upstream), return_exceptions=True)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self.stats.open_connections -= 1
            self._conns.discard(task)
            for w in (writer, upstream):
                if w is not None:
                    self._writers.discard(w)
                    w.transport.abort()

    async def _pump(self, name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    other: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes | None, bool]] = asyncio.Queue()
        direction = self.dirs[name]

        async def deliver() -> None:
            while True:
                due, data, cut = await queue.get()
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if data is None:
                    with contextlib.suppress(OSError, RuntimeError):
                        if writer.can_write_eof():
                            writer.write_eof()
                    return
                writer.write(data)
                if cut:
                    # What crossed the line before the cut reaches the receiver, which then sees the connection
                    # end (FIN); the sender's side is reset. So "bytes on the line" counts only delivered bytes.
                    self.stats.cuts += 1
                    other.transport.abort()
                    with contextlib.suppress(OSError, RuntimeError, ConnectionError):
                        await writer.drain()
                        writer.close()
                    return
                await writer.drain()

        deliverer = asyncio.ensure_future(deliver())
        try:
            while True:
                data = await reader.read(self.chunk)
                if not data:
                    queue.put_nowait((loop.time() + self.latency, None, False))
                    break
                await self.buckets[name].take(len(data))
                data, cut = direction.pass_through(data, self.stats)
                if name == "up":
                    self.stats.up_bytes += len(data)
                else:
                    self.stats.down_bytes += len(data)
                queue.put_nowait((loop.time() + self.latency, data, cut))
                if cut:
                    break
        except (ConnectionError, OSError):
            queue.put_nowait((loop.time() + self.latency, None, False))
        except asyncio.CancelledError:
            deliverer.cancel()
            raise
        with contextlib.suppress(ConnectionError, OSError):
            await deliverer


def _target(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


async def _main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen-port", type=int, default=0)
    p.add_argument("--target", type=_target, required=True, help="HOST:PORT to forward to")
    p.add_argument("--rate", type=float, default=0, help="bytes/s per direction (0 = no cap)")
    p.add_argument("--latency-ms", type=float, default=0, help="one-way latency, ms")
    p.add_argument("--burst", type=int, default=None)
    p.add_argument("--chunk", type=int, default=None)
    p.add_argument("--no-handshake", action="store_true")
    p.add_argument("--stats-file", default=None)
    p.add_argument("--cut-every", type=int, default=0, help="cut when a direction crosses a multiple of N bytes")
    p.add_argument("--cut-mean", type=float, default=0, help="cut after a random number of bytes (mean)")
    p.add_argument("--flip-mean", type=float, default=0, help="flip a bit after a random number of bytes (mean)")
    p.add_argument("--fault-directions", default="up,down")
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args(argv)
    faults = Faults(cut_every=args.cut_every, cut_mean=args.cut_mean, flip_mean=args.flip_mean,
                    directions=tuple(args.fault_directions.split(",")), seed=args.seed)
    line = LineSimulator(args.target, args.rate, args.latency_ms, not args.no_handshake, faults, args.chunk,
                         args.burst, args.listen_port)
    await line.start()
    print(json.dumps({"event": "listening", "port": line.port, "target": f"{args.target[0]}:{args.target[1]}"}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        text = json.dumps(line.stats.as_dict())
        print(text, flush=True)
        if args.stats_file:
            Path(args.stats_file).write_text(text + "\n")  # noqa: ASYNC240 - once, at exit
        await line.stop()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main())
    sys.exit(0)
