"""An ext4 stick mounted read-only, nosuid, nodev, noexec (and noload: no journal replay writes to it).

FAT never goes through the kernel (see provisioning/stick.py); ext4 may, as the kernel's own driver is the one the
box already trusts for its own disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from provisioning.stick import StickError

log = logging.getLogger(__name__)
MOUNT_OPTIONS = "ro,nosuid,nodev,noexec,noload"
_TIMEOUT_S = 20.0


async def _run(*argv: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), _TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return 124, f"{argv[0]} timed out"
    return int(proc.returncode or 0), out.decode(errors="replace").strip()


@contextlib.asynccontextmanager
async def mounted_read_only(device: str) -> AsyncIterator[Path]:
    where = Path(tempfile.mkdtemp(prefix="villagenet-stick-"))
    rc, out = await _run("mount", "-t", "ext4", "-o", MOUNT_OPTIONS, device, str(where))
    if rc != 0:
        os.rmdir(where)
        raise StickError("unreadable", f"the ext4 stick could not be mounted read-only: {out}")
    try:
        yield where
    finally:
        rc, out = await _run("umount", str(where))
        if rc != 0:
            rc, out = await _run("umount", "-l", str(where))  # a pulled stick: detach the mount anyway
            log.warning("stick at %s needed a lazy unmount: %s", device, out)
        with contextlib.suppress(OSError):
            os.rmdir(where)


def mount_detached(device: str) -> int:
    """Mount an ext4 stick with the same options, open its top folder and detach the mount at once (umount -l).

    The folder's descriptor keeps the filesystem alive until it is closed, and nothing stays mounted anywhere for
    anyone else to find. For the stick helper, which hands that descriptor to the unprivileged edge; the options
    can be read back from the descriptor itself (os.fstatvfs: ST_RDONLY, ST_NOSUID, ST_NODEV, ST_NOEXEC).
    """
    where = tempfile.mkdtemp(prefix="villagenet-stick-")
    try:
        done = subprocess.run(["mount", "-t", "ext4", "-o", MOUNT_OPTIONS, device, where], capture_output=True,
                              text=True, timeout=_TIMEOUT_S)
        if done.returncode != 0:
            raise StickError("unreadable", f"the ext4 stick could not be mounted read-only: {done.stdout}{done.stderr}"
                             .strip())
        try:
            return os.open(where, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        finally:
            subprocess.run(["umount", "-l", where], capture_output=True, timeout=_TIMEOUT_S)
    finally:
        with contextlib.suppress(OSError):
            os.rmdir(where)
