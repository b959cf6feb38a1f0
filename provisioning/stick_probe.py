"""Which filesystem a stick holds, read from its first sectors (no udev properties needed, no mounting).

Without udevd a stick arrives as a bare kernel uevent with no ID_FS_TYPE, so the edge and the hub's commands look
at the boot sector and the ext superblock themselves.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .stick import DirStick, FatStick, StickError, StickFS

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


def probe_filesystem(device: str) -> str | None:
    """Read the first sectors of a block device or image; None when unreadable or not a filesystem we know."""
    try:
        fd = os.open(device, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        head = os.pread(fd, _PROBE_BYTES, 0)
    except OSError:
        return None
    finally:
        os.close(fd)
    return probe_bytes(head)


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
    return FatStick(str(path), writable=writable)
