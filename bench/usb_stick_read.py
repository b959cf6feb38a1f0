"""How fast a stick is read and written in user space (pyfatfs), against plain file I/O on the same disk.

A content pack is mostly blobs copied off a FAT stick, so this is the ceiling of a pack import before the stick's
own speed; the baseline is the same bytes read from (and written to) a plain file in the same run.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from provisioning.stick import FatStick

SIZE_MB = 96
_CHUNK = 1024 * 1024


def _mb_per_s(nbytes: int, seconds: float) -> float:
    return nbytes / 1e6 / seconds if seconds > 0 else float("inf")


def _read_plain(path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as f:
        while f.read(_CHUNK):
            pass
    return time.perf_counter() - started


def _read_fat(image: Path) -> float:
    started = time.perf_counter()
    stick = FatStick(str(image), writable=False)
    try:
        with stick.open_read(("blob.bin",)) as f:
            while f.read(_CHUNK):
                pass
    finally:
        stick.close()
    return time.perf_counter() - started


def _write_plain(path: Path, data: bytes) -> float:
    started = time.perf_counter()
    with path.open("wb") as f:
        for i in range(0, len(data), _CHUNK):
            f.write(data[i : i + _CHUNK])
        f.flush()
        os.fsync(f.fileno())
    return time.perf_counter() - started


def _write_fat(image: Path, data: bytes) -> float:
    started = time.perf_counter()
    stick = FatStick(str(image), writable=True)
    try:
        with stick.open_write(("copy.bin",)) as f:
            for i in range(0, len(data), _CHUNK):
                f.write(data[i : i + _CHUNK])
    finally:
        stick.close()  # flushes and fsyncs, as the watcher does before letting go
    return time.perf_counter() - started


def run(tmp: Path) -> Iterator[dict[str, Any]]:
    data = os.urandom(SIZE_MB * 1024 * 1024)
    source = tmp / "blob.bin"
    source.write_bytes(data)
    image = tmp / "stick.img"
    with image.open("wb") as f:
        f.truncate((3 * SIZE_MB + 64) * 1024 * 1024)
    subprocess.run(["mkfs.vfat", "-F", "32", str(image)], check=True, capture_output=True)
    subprocess.run(["mcopy", "-i", str(image), str(source), "::blob.bin"], check=True, capture_output=True)
    _read_plain(source)  # warm the page cache for both
    _read_fat(image)
    plain = min(_read_plain(source) for _ in range(3))
    fat = min(_read_fat(image) for _ in range(3))
    base, value = _mb_per_s(len(data), plain), _mb_per_s(len(data), fat)
    yield {"metric": f"read {SIZE_MB} MiB off a FAT32 image in user space", "value": value, "unit": "MB/s",
           "baseline": base, "ratio": value / base}
    plain_w = _write_plain(tmp / "plain-copy.bin", data)
    fat_w = _write_fat(image, data)
    base, value = _mb_per_s(len(data), plain_w), _mb_per_s(len(data), fat_w)
    yield {"metric": f"write {SIZE_MB} MiB onto a FAT32 image in user space", "value": value, "unit": "MB/s",
           "baseline": base, "ratio": value / base}
