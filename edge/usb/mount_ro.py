"""An ext4 stick mounted read-only, nosuid, nodev, noexec (and noload: no journal replay writes to it).

FAT never goes through the kernel (see provisioning/stick.py); ext4 may, as the kernel's own driver is the one the
box already trusts for its own disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
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
