"""The sneakernet folder `VILLAGENET/sync/`: file names, the edge's signed position, and safe reading of files.

Files on a stick are outside bytes: only regular files with known names are read (no symlinks, no subfolders,
nothing outside the folder), each under a size cap, and at most MAX_FILES of them.
"""

from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from . import codec
from .codec import Limits
from .envelope import open_sealed, seal
from .errors import DecodeError, TooLarge
from .feed import BATCH_LIMITS
from .keys import NodeKey

MAX_FILE_BYTES = BATCH_LIMITS.max_bytes
MAX_FILES = 2000
POSITION_PURPOSE = "sync-position"
POSITION_LIMITS = Limits(max_bytes=4096, max_str=256, max_bin=256, max_array=16, max_map=16, max_depth=4)
_VILLAGE = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
NAME = re.compile(rf"^(?P<kind>up|down)-(?P<village>{_VILLAGE})-(?P<first>\d{{10}})\.vnb$"
                  rf"|^(?P<pkind>position|ack)-(?P<pvillage>{_VILLAGE})\.(?:vnp|vna)$")


def batch_name(kind: str, village_id: str, first_seq: int) -> str:
    return f"{kind}-{village_id}-{first_seq:010d}.vnb"


def position_name(village_id: str) -> str:
    return f"position-{village_id}.vnp"


def ack_name(village_id: str) -> str:
    return f"ack-{village_id}.vna"


# The hub's current trust document, so a box whose line is down still learns of a rotated or revoked signing key.
TRUST_NAME = "trust.vnt"
TRUST_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class StickFile:
    kind: str  # up, down, position, ack
    village_id: str
    first_seq: int
    path: Path


def list_files(sync_dir: Path) -> list[StickFile]:
    """The recognised files of the folder, in (kind, village, first seq) order; others are ignored."""
    if not sync_dir.is_dir() or sync_dir.is_symlink():
        return []
    out: list[StickFile] = []
    with os.scandir(sync_dir) as it:
        for n, entry in enumerate(it):
            if n >= MAX_FILES * 2:
                raise TooLarge(f"{sync_dir} holds more than {MAX_FILES * 2} entries; refusing to read it")
            m = NAME.match(entry.name)
            if m is None:
                continue
            if m.group("kind"):
                out.append(StickFile(m.group("kind"), m.group("village"), int(m.group("first")), Path(entry.path)))
            else:
                out.append(StickFile(m.group("pkind"), m.group("pvillage"), 0, Path(entry.path)))
    if len(out) > MAX_FILES:
        raise TooLarge(f"{sync_dir} holds more than {MAX_FILES} sync files")
    return sorted(out, key=lambda f: (f.kind, f.village_id, f.first_seq))


def read_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, refusing symlinks, devices and anything over `max_bytes`."""
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        raise DecodeError(f"{path.name} is not a regular file (a link or a device); refused")
    if st.st_size > max_bytes:
        raise TooLarge(f"{path.name} is {st.st_size} bytes, more than {max_bytes}; refused")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge(f"{path.name} grew past {max_bytes} bytes while being read; refused")
    return data


def write_file(sync_dir: Path, name: str, data: bytes) -> None:
    sync_dir.mkdir(parents=True, exist_ok=True)
    tmp = sync_dir / f".{name}.tmp"
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, sync_dir / name)


def remove_files(sync_dir: Path, kind: str, village_id: str) -> None:
    for f in list_files(sync_dir):
        if f.kind == kind and f.village_id == village_id:
            f.path.unlink()


@dataclass(frozen=True)
class Position:
    village_id: str
    signer: bytes
    down_seq: int
    down_hash: bytes
    up_seq: int
    written_at: int


def make_position(key: NodeKey, village_id: str, down_seq: int, down_hash: bytes, up_seq: int) -> bytes:
    return seal(key, POSITION_PURPOSE, {"village_id": village_id, "down_seq": down_seq, "down_hash": down_hash,
                                        "up_seq": up_seq, "written_at": int(time.time())})


def open_position(data: bytes) -> Position:
    """Form and signature; the hub then checks the signer is the village's enrolled, unrevoked key."""
    opened = open_sealed(data, POSITION_PURPOSE, POSITION_LIMITS)
    b = opened.body
    what = "sync position"
    return Position(codec.field(b, "village_id", str, what), opened.signer, codec.field(b, "down_seq", int, what),
                    codec.field(b, "down_hash", bytes, what), codec.field(b, "up_seq", int, what),
                    codec.field(b, "written_at", int, what))
