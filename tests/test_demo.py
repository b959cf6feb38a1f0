"""`make demo` brings up a hub for a whole city, two edges and five simulated STBs; every URL it prints answers and
the officials' logins it prints open the officials' page."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


# Keeps the officials' page session cookie across requests, as a browser would.
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

        # The printed login of the town reviewer opens the officials' page: the editor's sample notice waits in
        # its queue, and the two villages running edges show online within the poller's first rounds.
        hub = next(u for u in urls if u.endswith("/admin/login")).removesuffix("/admin/login")
        form = urllib.parse.urlencode({"user": "qingxi-shenhe", "password": "demo-2026"}).encode()
        with _browser_like.open(hub + "/admin/login", data=form, timeout=10) as resp:
            assert resp.status == 200 and "陈刚" in resp.read().decode()
        assert "青溪镇秋冬季道路维修通知" in get(hub + "/admin/review")[1].decode()
        deadline = time.monotonic() + 30
        while (online := re.findall(r'class="village online" data-id="(\w+)"', get(hub + "/admin/villages")[1].decode())
               ) != ["dongshan", "xishan"] and time.monotonic() < deadline:
            time.sleep(0.5)
        assert online == ["dongshan", "xishan"]
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
    assert demo.returncode == 0
