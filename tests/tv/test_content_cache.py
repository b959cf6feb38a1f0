"""Acceptance 7: the edge's content cache stays within its disk quota while serving, never evicts a pinned item
(an emergency's media, a current notice's picture or document), evicts the least recently used video first, and
serves Range requests for video; an evicted video comes back when a resident asks for it."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.integration.system import System, http, wait_for

from .conftest import QUOTA, edge_url, publish_and_wait, withdraw_and_wait
from .media import upload

KB = 1024


def _disk_bytes(root: Path) -> int:
    """Everything the cache holds on disk, partial downloads included."""
    total = 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            try:
                total += (Path(dirpath) / name).stat().st_size
            except FileNotFoundError:
                pass  # evicted between the listing and the stat
    return total


def _present(root: Path, sha: str) -> bool:
    return (root / sha[:2] / sha).is_file()


def _get(system: System, sha: str, headers: dict[str, str] | None = None):
    return http("GET", f"{edge_url(system)}/content/{sha}", headers=headers)


def test_the_cache_keeps_within_its_quota_keeps_pins_evicts_the_least_recently_used_and_serves_ranges(
        tv_system: System, request: pytest.FixtureRequest):
    root = tv_system.edge_dir("v1") / "content"
    samples: list[int] = []

    def sample() -> int:
        samples.append(_disk_bytes(root))
        return samples[-1]

    emergency_picture = os.urandom(400 * KB)
    notice_document = os.urandom(300 * KB)
    pins = [upload(tv_system, emergency_picture), upload(tv_system, notice_document)]
    emergency = publish_and_wait(tv_system, "暴雨红色预警", area="safety", priority="emergency",
                                 attachments=[{"sha256": pins[0], "mime": "image/jpeg"}])
    request.addfinalizer(lambda: withdraw_and_wait(tv_system, emergency))  # other TV tests must not see it
    publish_and_wait(tv_system, "低保申请材料清单", area="services",
                     attachments=[{"sha256": pins[1], "mime": "application/pdf"}])
    wait_for("the pinned media", lambda: sample() is not None and all(_present(root, p) for p in pins))

    videos = {}
    for i in range(4):  # 4 × 400 KB of video with 700 KB pinned: only two videos fit in the quota
        data = os.urandom(400 * KB)
        sha = upload(tv_system, data)
        videos[sha] = data
        publish_and_wait(tv_system, f"党课录像第{i + 1}讲", area="party", attachments=[{"sha256": sha, "mime": "video/mp4"}])
        for _ in range(10):
            sample()

    def settled() -> bool:
        sample()
        with sqlite3.connect(f"file:{tv_system.edge_dir('v1') / 'edge.db'}?mode=ro", uri=True) as conn:
            pending = conn.execute("SELECT COUNT(*) FROM blobs WHERE present = 0").fetchone()[0]
        return pending == 0 and sum(_present(root, v) for v in videos) == 2

    wait_for("the cache to settle with two videos", settled, timeout_s=20)
    cached = [v for v in videos if _present(root, v)]
    evicted = [v for v in videos if not _present(root, v)]

    # A video is served with Range while the cache is full; using it makes it the most recently used.
    recent, older = cached
    status, body, headers = _get(tv_system, recent, {"Range": "bytes=1000-1999"})
    assert status == 206 and body == videos[recent][1000:2000]
    assert headers["Content-Range"] == f"bytes 1000-1999/{400 * KB}"

    # An evicted video asked for by a resident: "on its way", then fetched, evicting the least recently used.
    status, body, _ = _get(tv_system, evicted[0])
    assert status == 404 and body["error"] == "not_here_yet"
    wait_for("the evicted video back", lambda: sample() is not None and _get(tv_system, evicted[0])[0] == 200,
             timeout_s=20)
    status, body, _ = _get(tv_system, evicted[0], {"Range": f"bytes={400 * KB - 10}-"})
    assert status == 206 and body == videos[evicted[0]][-10:]
    assert _present(root, recent) and not _present(root, older), "the least recently used video went, not the one in use"

    assert all(_present(root, p) for p in pins), "a pinned item was evicted"
    assert _get(tv_system, pins[0])[1] == emergency_picture
    assert max(samples) <= QUOTA, f"the cache held {max(samples)} bytes, over its quota of {QUOTA}"
    print(f"cache: {len(samples)} samples, at most {max(samples)} of {QUOTA} bytes on disk")



def test_content_refuses_a_malformed_hash_and_says_what_is_missing(tv_system: System):
    status, body, _ = http("GET", f"{edge_url(tv_system)}/content/not-a-hash")
    assert status == 400 and body["error"] == "bad_hash"
    status, body, _ = http("GET", f"{edge_url(tv_system)}/content/{'ab' * 32}")
    assert status == 404 and body["error"] == "not_here_yet"
