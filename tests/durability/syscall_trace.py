"""Watching a real process's file system calls with strace, to check the order in which data reaches the disk.

A power cut cannot be staged on a test machine's disk, but the order of fsync, rename and the database write that
announces a file can be read off the process itself: attach strace to every thread (the test process or an edge),
do the work, detach, and compare line numbers.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.process_tree import process_tree

needs_strace = pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace (Debian package strace)")
CALLS = ("fsync", "fdatasync", "rename", "renameat", "renameat2", "pwrite64")


@contextmanager
def syscalls_of(pid: int | None = None) -> Iterator[list[str]]:
    """Every call in CALLS made by process `pid` (default: this one), its threads and its descendants (those
    already running and those started while the block runs), one strace line each with file descriptors shown as
    paths (`fsync(7</data/x>) = 0`)."""
    target = pid or os.getpid()
    processes = process_tree(target)  # a server started by a supervisor (the edge) is a child already running
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "trace"
        # -p takes every thread of a process at once; -f follows the threads and children started later.
        argv = ["strace", "-f", "-y", "-e", "trace=" + ",".join(CALLS), "-o", str(out)]
        for each in processes:
            argv += ["-p", str(each)]
        tracer = subprocess.Popen(argv, stderr=subprocess.PIPE)
        assert tracer.stderr is not None
        for _ in processes:  # "Process N attached" for each: from here on every call is seen
            said = tracer.stderr.readline()
            if b"No such process" in said:
                continue  # it ended between the listing and the attach
            if b"attached" not in said:
                tracer.kill()
                raise RuntimeError(f"strace could not attach to {target}: {said.decode(errors='replace')}")
        lines: list[str] = []
        try:
            yield lines
        finally:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=30)
            lines.extend(out.read_text(errors="replace").splitlines())


def first(lines: list[str], *parts: str, after: int = -1) -> int:
    """The index of the first line after `after` that holds every one of `parts`; -1 when there is none."""
    for i in range(after + 1, len(lines)):
        if all(p in lines[i] for p in parts):
            return i
    return -1
