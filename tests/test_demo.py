"""`make demo` brings up a hub, two edges and five simulated STBs, and every URL it prints answers."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


# The admin URL logs in with its token and redirects with a cookie, as a browser would follow it.
_browser_like = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())


def get(url: str) -> tuple[int, bytes]:
    with _browser_like.open(url, timeout=10) as resp:
        return resp.status, resp.read()


def test_the_demo_serves_every_url_it_prints_and_its_stbs_are_seen(tmp_path: Path):
    demo = subprocess.Popen([sys.executable, "-m", "deploy.demo", "--dir", str(tmp_path / "demo")], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert demo.stdout is not None
        urls: list[str] = []
        deadline = time.monotonic() + 90
        for line in demo.stdout:
            urls += re.findall(r"https?://\S+", line)
            if "logs in" in line or time.monotonic() > deadline:
                break
        assert len(urls) >= 5, urls  # admin page, and a TV app and a status page per edge
        for url in urls:
            status, _ = get(url)
            assert status == 200, url

        status_urls = [u for u in urls if "/api/v1/status" in u]
        assert len(status_urls) == 2

        def stb_counts() -> list[int]:
            return [json.loads(get(u)[1])["stb_count"] for u in status_urls]

        deadline = time.monotonic() + 30
        # Both edges share loopback as their "LAN", so each sees all five STBs over mDNS.
        while stb_counts() != [5, 5] and time.monotonic() < deadline:
            time.sleep(0.5)
        assert stb_counts() == [5, 5]
        tv_pages = [get(u)[1].decode() for u in urls if u.endswith("/tv/")]
        assert all("<html" in page for page in tv_pages)
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
    assert demo.returncode == 0
