"""Real media made with ffmpeg for the TV tests: a picture for a notice and a short MP4 for video on demand."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from tests.integration.system import System


def make_picture(path: Path) -> bytes:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=480x270:rate=1",
                    "-frames:v", "1", str(path)], check=True, timeout=60)
    return path.read_bytes()


def make_video(path: Path, seconds: int = 2, size: str = "320x180") -> bytes:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=25",
                    "-t", str(seconds), "-pix_fmt", "yuv420p", "-c:v", "libx264", "-movflags", "+faststart",
                    str(path)], check=True, timeout=60)
    return path.read_bytes()


def upload(system: System, data: bytes) -> str:
    status, body = system.admin("POST", "/api/v1/blobs", raw=data, headers={"Content-Type": "application/octet-stream"})
    assert status in (200, 201), body
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    return str(body["sha256"])
