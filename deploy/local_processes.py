"""Starting the real `village-hub` and `village-edge` commands as child processes on 127.0.0.1.

Used by `make demo` and by the crash tests (which need a real process to kill -9).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_command(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run one of our console scripts to completion; raises with its stderr when it fails."""
    proc = subprocess.run([str(BIN / args[0]), *args[1:]], input=stdin, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


@dataclass
class Service:
    """One long-running server process and the URL it answers on."""

    name: str
    argv: list[str]
    url: str
    log_path: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, ready_path: str = "/api/v1/info", timeout_s: float = 30.0) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self  # it answers, whatever it says
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer at {self.url} within {timeout_s} s; see {self.log_path}")

    def kill_hard(self) -> None:
        """kill -9: no cleanup, no flush, as a power cut would leave it."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill_hard()


def hub_service(data: Path, port: int) -> Service:
    return Service(
        "hub",
        [str(BIN / "village-hub"), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}"],
        f"http://127.0.0.1:{port}",
        data / "hub.log",
    )


def edge_service(data: Path, port: int) -> Service:
    return Service(
        f"edge {data.name}",
        [str(BIN / "village-edge"), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}"],
        f"http://127.0.0.1:{port}",
        data / "edge.log",
    )
