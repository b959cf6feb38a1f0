"""Which filesystem a stick holds, read from its first sectors (no udev properties needed, no mounting).

Without udevd a stick arrives as a bare kernel uevent with no ID_FS_TYPE, so the edge and the hub's commands look
at the boot sector and the ext superblock themselves.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .stick import DirStick, StickError, StickFS
from .stick_parser import IsolatedFatStick

_PROBE_BYTES = 2048


def probe_bytes(head: bytes) -> str | None:
    """"vfat", "exfat", "ext4" (any ext2/3/4) or None for the first 2 KiB of a filesystem."""
    if len(head) >= 1024 + 58 and head[1024 + 56 : 1024 + 58] == b"\x53\xef":
        return "ext4"
    if len(head) < 512 or head[510:512] != b"\x55\xaa":
        return None
    if head[3:11] == b"EXFAT   ":
        return "exfat"
    bytes_per_sector = int.from_bytes(head[11:13], "little")
    sectors_per_cluster = head[13]
    fat_label = head[82:87] == b"FAT32" or head[54:57] == b"FAT"
    sane_bpb = bytes_per_sector in (512, 1024, 2048, 4096) and sectors_per_cluster in (1, 2, 4, 8, 16, 32, 64, 128)
    if fat_label and sane_bpb:
        return "vfat"
    return None


def probe_descriptor(fd: int) -> str | None:
    """The filesystem on an open block device or image; None when unreadable or not a filesystem we know."""
    try:
        head = os.pread(fd, _PROBE_BYTES, 0)
    except OSError:
        return None
    return probe_bytes(head)


def probe_filesystem(device: str) -> str | None:
    """Read the first sectors of a block device or image; None when unreadable or not a filesystem we know."""
    try:
        fd = os.open(device, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return probe_descriptor(fd)
    finally:
        os.close(fd)


def open_for_stick(path: str, writable: bool) -> int:
    """The stick's device or image, opened for reading and writing when asked and possible (a write-protected
    stick is still read); the caller closes the descriptor."""
    if writable:
        try:
            return os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
    return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


def open_stick_path(path: Path, writable: bool) -> StickFS:
    """For the technician's commands: a folder (a mounted stick), or a FAT image file or block device."""
    if path.is_dir():
        return DirStick(path, writable=writable)
    if not path.exists():
        raise StickError("not_found", f"{path} does not exist; give the stick's folder, device or image file")
    mode = path.stat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISBLK(mode)):
        raise StickError("not_a_stick", f"{path} is neither a folder, a device nor an image file")
    kind = probe_filesystem(str(path))
    if kind != "vfat":
        shown = kind or "no known filesystem"
        raise StickError("unsupported_fs",
                         f"{path} holds {shown}; give a FAT32 stick, or mount it and give the folder")
    try:
        fd = open_for_stick(str(path), writable)
    except OSError as exc:
        raise StickError("unreadable", f"{path} cannot be opened: {exc.strerror}") from exc
    try:
        return IsolatedFatStick(fd, writable)  # parsed in a child with memory and time limits
    finally:
        os.close(fd)
