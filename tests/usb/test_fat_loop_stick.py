"""Security review, High: a FAT stick whose folder's cluster chain points back to itself made pyfatfs loop forever,
allocating memory inside the edge (0.9 GiB in 10 s), and a box restarted with it still in read it again.

Now the FAT is parsed in a child process with a memory cap and a time limit per call, looping chains are refused
before any folder is walked, and a stick refused so stays refused across a restart while it is still in.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from provisioning.fat_chains import check_cluster_chains
from provisioning.stick import StickError, take_inventory
from provisioning.stick_parser import IsolatedFatStick
from provisioning.stick_probe import open_stick_path
from tests.integration.system import http, wait_for
from tests.process_tree import command_line, process_tree

from .conftest import Field, needs_loop
from .sticks import attached, loop_cluster_chain, make_fat_image, read_file

LOOPING = {"root": None, "VILLAGENET folder": b"VILLAG~1"}


def looping_stick(tmp_path: Path, where: bytes | None, name: str = "looping.img") -> Path:
    image = make_fat_image(tmp_path / name, {"VILLAGENET/provision.vnb": b"bundle", "VILLAGENET/diag/REQUEST": b""})
    loop_cluster_chain(image, where)
    return image


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.parametrize("where", LOOPING.values(), ids=LOOPING.keys())
def test_a_self_looping_cluster_chain_is_refused_before_any_folder_is_walked(tmp_path: Path,
                                                                              where: bytes | None):
    image = looping_stick(tmp_path, where)
    with open(image, "rb") as f, pytest.raises(StickError) as refused:
        check_cluster_chains(f)
    assert refused.value.code == "fat_loop"
    assert "loop" in refused.value.detail and refused.value.detail.endswith("copy the files again")

    started = time.monotonic()
    with pytest.raises(StickError) as by_command:  # the hub's stick commands open sticks the same way
        open_stick_path(image, writable=False)
    assert by_command.value.code == "fat_loop"
    assert time.monotonic() - started < 10


def test_a_sound_stick_passes_the_loop_check_and_reads_and_writes_through_the_parser_process(tmp_path: Path):
    image = make_fat_image(tmp_path / "sound.img", {"VILLAGENET/provision.vnb": b"b" * 5000,
                                                    "VILLAGENET/packs/v1/blobs/x": os.urandom(3_000_000)})
    with open(image, "rb") as f:
        check_cluster_chains(f)
    stick = open_stick_path(image, writable=True)
    try:
        inventory = take_inventory(stick)
        assert inventory is not None and inventory.find("VILLAGENET", "provision.vnb") is not None
        with stick.open_read(("VILLAGENET", "packs", "v1", "blobs", "x")) as blob:
            blob.seek(1_000_000)
            assert len(blob.read(2_500_000)) == 2_000_000
        stick.write_bytes(("VILLAGENET", "receipts", "box.vnr"), b"r" * 70_000)
    finally:
        stick.close()
    assert read_file(image, "VILLAGENET/receipts/box.vnr") == b"r" * 70_000


def test_a_stick_parser_over_its_memory_cap_or_its_time_is_killed_and_the_stick_refused(tmp_path: Path):
    image = make_fat_image(tmp_path / "sound.img", {"VILLAGENET/provision.vnb": b"b"})
    fd = os.open(image, os.O_RDONLY)
    try:
        with pytest.raises(StickError) as memory:
            IsolatedFatStick(fd, writable=False, memory_mb=30)  # less than Python and pyfatfs need to start
        assert memory.value.code == "parser_limit" and "30 MiB" in memory.value.detail

        with pytest.raises(StickError) as slow:
            IsolatedFatStick(fd, writable=False, open_timeout_s=0.05)
        assert slow.value.code == "parser_limit" and "longer than 0.05 s" in slow.value.detail
        assert parsers_of(os.getpid()) == [], "the parser past its time was killed and reaped, not left running"
    finally:
        os.close(fd)


def parsers_of(parent: int) -> list[int]:
    """Stick parser processes this process started (other tests' edges may run parsers of their own)."""
    return [p for p in process_tree(parent)[1:] if b"stick_parser" in command_line(p)]


def edge_processes(pid: int) -> list[int]:
    """The edge's own processes (its supervisor and the server it runs), stick parsers left out."""
    return [p for p in process_tree(pid) if b"stick_parser" not in command_line(p)]


class InfoPoller(threading.Thread):
    """Asks the edge for /api/v1/info every 0.1 s and notes every failure and the slowest answer."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.failures: list[str] = []
        self.slowest = 0.0
        self.answers = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                code, _, _ = http("GET", self.url + "/api/v1/info")
                if code != 200:
                    self.failures.append(f"status {code}")
                self.answers += 1
            except Exception as exc:
                self.failures.append(repr(exc))
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.stop.wait(0.1)


def last_usb(url: str) -> dict[str, Any] | None:
    last: dict[str, Any] | None = http("GET", url + "/api/v1/status?format=json")[1]["usb"]["last"]
    return last


@needs_loop
def test_the_self_looping_fat_stick_is_refused_while_the_edge_keeps_serving_and_a_restart_does_not_read_it_again(
        field: Field, tmp_path: Path):
    image = looping_stick(tmp_path, b"VILLAG~1")
    edge = field.new_edge("edge")
    edge.start()
    assert edge.proc is not None
    serving = edge_processes(edge.proc.pid)
    poller = InfoPoller(edge.url)
    poller.start()
    with attached(image):
        try:
            last = wait_for("the looping stick refused", lambda: (x := last_usb(edge.url)) and x, timeout_s=60)
            assert edge.proc.poll() is None
            assert edge_processes(edge.proc.pid) == serving, "the server never died and was never restarted"
            assert max(rss_mb(p) for p in serving) < 400, "the edge itself never parsed the stick"
        finally:
            poller.stop.set()
            poller.join()
        assert last["outcome"] == "refused" and last["code"] == "fat_loop"
        assert "loop" in last["reason"] and "format it as FAT32" in last["reason"], last["reason"]
        assert "簇链" in last["reason_zh"]
        assert poller.answers > 0 and poller.failures == [] and poller.slowest < 2.0

        # Restarted with the stick still in: it comes up, serves, and leaves the refused stick alone.
        edge.stop()
        log_before = edge.log_path.read_text(errors="replace")
        edge.start()
        wait_for("the watcher running", lambda: http("GET", edge.url + "/api/v1/status?format=json")[1]["usb"][
            "watcher"] == "running", timeout_s=30)
        wait_for("the refusal remembered", lambda: "not read again" in edge.log_path.read_text(errors="replace")[
            len(log_before):], timeout_s=30)
        time.sleep(1.0)
        assert http("GET", edge.url + "/api/v1/info")[0] == 200
        assert last_usb(edge.url) == last, "the stick was not read again"
        assert edge.proc.poll() is None
