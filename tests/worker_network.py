"""Each pytest-xdist worker gets a network of its own: a fresh network namespace holding only a loopback.

The suite runs real servers on 127.0.0.1 and real mDNS (zeroconf) on loopback. Workers sharing the machine's
loopback would hear each other's STB adverts, and the discovery, dashboard and demo tests count the STBs an edge
sees. With a namespace per worker, each worker has its own loopback, so its own mDNS "LAN" and its own ports; the
hub, edge, chromium and ffmpeg processes a test starts inherit it. Kernel uevents, which the USB tests' edges
listen for, reach every namespace made by root, and loop devices are not namespaced, so nothing else changes.

A run without workers (`pytest` without -n) stays in the machine's network, as before.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import subprocess

CLONE_NEWNET = 0x40000000  # <sched.h>; os.unshare arrives only in Python 3.12


class NoNetworkOfItsOwn(RuntimeError):
    pass


def enter_own_network() -> None:
    """Move this process (its calling thread and everything started from it later) into a new network
    namespace and bring its loopback up. Call it before any test opens a socket or starts a thread."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise NoNetworkOfItsOwn(
            f"a test worker could not get a network namespace of its own ({errno.errorcode.get(code, code)}: "
            f"{os.strerror(code)}). Parallel runs need root (CAP_SYS_ADMIN) so that workers do not hear each "
            "other's mDNS on loopback; otherwise run the suite in one process (pytest without -n, or "
            "`make test TEST_WORKERS=0`)."
        )
    ip = shutil.which("ip") or "/usr/sbin/ip"
    done = subprocess.run([ip, "link", "set", "lo", "up"], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise NoNetworkOfItsOwn(f"could not bring up the worker's loopback with `ip` (iproute2): {done.stderr}")
