"""systemd's notify protocol seen from systemd's side: a real `village-edge serve` and a datagram socket in the test.

The test plays systemd: it binds NOTIFY_SOCKET, starts the box with WATCHDOG_USEC and WATCHDOG_PID naming the
unit's main process (the supervisor), and reads who sends what, by the sender's credentials as systemd does.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local_processes import BIN, free_port

WATCHDOG_USEC = 400_000  # a ping every 0.2 s


class FakeSystemd:
    """The receiving end of NOTIFY_SOCKET: each message with the pid that sent it (SO_PASSCRED)."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.address = address

    def receive(self, timeout_s: float) -> tuple[str, int] | None:
        self.sock.settimeout(timeout_s)
        try:
            data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        except TimeoutError:
            return None
        pid = next(struct.unpack("3i", d)[0] for level, kind, d in ancillary
                   if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS)
        return data.decode(), pid

    def messages_within(self, seconds: float) -> list[tuple[str, int]]:
        got, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            message = self.receive(left)
            if message is not None:
                got.append(message)
        return got

    def wait_for(self, text: str, timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            message = self.receive(left)
            if message is not None and message[0] == text:
                return message[1]
        raise AssertionError(f"no {text} within {timeout_s} s")


def _start_box(tmp_path: Path, notify_socket: str) -> subprocess.Popen[bytes]:
    # `exec` keeps the shell's pid, so WATCHDOG_PID names the supervisor as systemd names a unit's main process.
    port = free_port()
    env = {**os.environ, "NOTIFY_SOCKET": notify_socket, "WATCHDOG_USEC": str(WATCHDOG_USEC)}
    command = (f'WATCHDOG_PID=$$ exec "{BIN / "village-edge"}" serve --data "{tmp_path / "box"}"'
               f' --listen 127.0.0.1:{port}')
    return subprocess.Popen(["sh", "-c", command], env=env, start_new_session=True,
                            stdout=(tmp_path / "edge.log").open("wb"), stderr=subprocess.STDOUT)


@pytest.fixture(params=["path", "abstract"])
def systemd(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FakeSystemd]:
    address = str(tmp_path / "notify.sock") if request.param == "path" else f"@villagenet-test-{os.getpid()}"
    fake = FakeSystemd(address)
    yield fake
    fake.sock.close()


def test_the_server_says_ready_then_feeds_the_watchdog_from_its_loop_until_the_loop_stalls(
        systemd: FakeSystemd, tmp_path: Path) -> None:
    box = _start_box(tmp_path, systemd.address)
    try:
        server = systemd.wait_for("READY=1", timeout_s=30)
        assert server != box.pid, "the serving process says READY, not the supervisor"
        pings = systemd.messages_within(1.0)
        assert [m for m in pings if m == ("WATCHDOG=1", server)], f"no pings from the server: {pings}"
        assert len(pings) >= 3, f"WATCHDOG_USEC={WATCHDOG_USEC} asks for a ping every 0.2 s, got {pings}"

        os.kill(server, signal.SIGSTOP)  # a stalled loop: nothing on it runs any more
        try:
            systemd.messages_within(0.3)  # a ping already in flight
            assert systemd.messages_within(1.5) == [], "pings went on while the server's loop was stalled"
        finally:
            os.kill(server, signal.SIGCONT)
        assert systemd.wait_for("WATCHDOG=1", timeout_s=5) == server, "the pings come back with the loop"
    finally:
        os.killpg(box.pid, signal.SIGTERM)
        box.wait(timeout=20)
