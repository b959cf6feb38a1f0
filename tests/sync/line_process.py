"""The line simulator as its own process (deploy/line_simulator.py), for tests that run real hub and edge processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from typing import Any


class LineProcess:
    def __init__(self, target_port: int, listen_port: int, *options: str) -> None:
        self.argv = [sys.executable, "-m", "deploy.line_simulator", "--target", f"127.0.0.1:{target_port}",
                     "--listen-port", str(listen_port), "--no-handshake", *options]
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> LineProcess:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        json.loads(self.proc.stdout.readline())  # {"event": "listening", ...}
        return self

    def stop(self) -> dict[str, Any]:
        """The line goes down; returns its counters."""
        assert self.proc is not None and self.proc.stdout is not None
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=10)
        lines = [json.loads(x) for x in out.splitlines() if x.strip()]
        return next((x for x in lines if x.get("event") == "stats"), {})
