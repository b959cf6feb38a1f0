"""Which kernel block devices count as a technician's stick, read from sysfs (works with or without udevd).

A removable USB disk or partition counts; a loop device counts only with VILLAGENET_USB_ACCEPT_LOOP=1 (tests, a
technician's laptop) and only while it is attached to a backing file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from provisioning.stick_probe import open_for_stick

ACCEPT_LOOP_ENV = "VILLAGENET_USB_ACCEPT_LOOP"
# Optional: only loop devices backed by an image under this folder (several test runs or edges on one machine
# would otherwise all take every loop device attached).
LOOP_DIR_ENV = "VILLAGENET_USB_LOOP_DIR"
SYS_BLOCK = Path("/sys/class/block")


def accept_loop() -> bool:
    return os.environ.get(ACCEPT_LOOP_ENV, "") == "1"


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _disk_dir(name: str) -> Path:
    """The sysfs folder of the whole disk a block device (disk or partition) belongs to."""
    here = (SYS_BLOCK / name).resolve()
    return here.parent if (here / "partition").exists() else here


def loop_attached(name: str) -> bool:
    base = SYS_BLOCK / name
    backing = _read(base / "loop" / "backing_file")
    size = _read(base / "size")
    # A `losetup -d` while we hold the device open only sets autoclear; treat that as the stick going away.
    autoclear = _read(base / "loop" / "autoclear")
    return bool(backing) and size not in (None, "0") and autoclear != "1"


def loop_in_allowed_dir(name: str) -> bool:
    folder = os.environ.get(LOOP_DIR_ENV, "")
    if not folder:
        return True
    backing = _read(SYS_BLOCK / name / "loop" / "backing_file") or ""
    return backing.startswith(os.path.join(os.path.realpath(folder), ""))


def is_candidate(name: str, loop_ok: bool) -> bool:
    """Whether /dev/<name> may be a technician's stick now."""
    if "/" in name or name.startswith("."):
        return False
    if name.startswith("loop"):
        return loop_ok and loop_attached(name) and loop_in_allowed_dir(name)
    disk = _disk_dir(name)
    if _read(disk / "removable") != "1":
        return False
    return "/usb" in str(disk) and _read(SYS_BLOCK / name / "size") not in (None, "0")


def still_present(name: str) -> bool:
    """Checked between chunks of long work: the stick may be pulled at any moment."""
    if name.startswith("loop"):
        return loop_attached(name)
    return (SYS_BLOCK / name).exists() and _read(SYS_BLOCK / name / "size") not in (None, "0")


def disk_seq(name: str) -> str | None:
    """The kernel's per-attachment sequence number: a re-inserted stick is a new job even under the same name."""
    return _read(_disk_dir(name) / "diskseq")


def existing_devices() -> list[str]:
    try:
        return sorted(p.name for p in SYS_BLOCK.iterdir())
    except OSError:
        return []


def open_stick_device(name: str, loop_ok: bool) -> int:
    """Open /dev/<name> for reading and writing (read-only when write-protected), only if it is a stick now.

    The stick helper runs this as root for the unprivileged edge, so it checks everything itself: the name is a
    stick by sysfs (the udev rule's test), and the node opened is that very device (no symlink or node swapped
    in under /dev). Raises PermissionError for anything else.
    """
    if not is_candidate(name, loop_ok):
        raise PermissionError(f"/dev/{name} is not a USB stick or partition")
    want = _read(SYS_BLOCK / name / "dev")
    fd = open_for_stick(f"/dev/{name}", writable=True)
    try:
        st = os.fstat(fd)
        if not stat.S_ISBLK(st.st_mode) or f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}" != want:
            raise PermissionError(f"/dev/{name} is not the block device sysfs names")
    except BaseException:
        os.close(fd)
        raise
    return fd


def attachment_id(name: str) -> str:
    """This insertion of this stick: the boot, the device name and the kernel's per-attachment sequence number."""
    boot = _read(Path("/proc/sys/kernel/random/boot_id")) or "?"
    return f"{boot}/{name}/{disk_seq(name) or '?'}"
