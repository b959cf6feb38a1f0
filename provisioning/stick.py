"""A technician's stick as a small, path-safe file store: FAT read and written in user space, or a plain folder.

FAT goes through pyfatfs, so no kernel filesystem driver ever parses a stranger's stick; a folder (an ext4 stick
mounted read-only, a mounted stick on a laptop, a test directory) is read without following symlinks. Callers
name files by tuples of checked names, never by raw paths, so a `..` or `/` from the stick cannot escape it.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

ROOT = "VILLAGENET"
# What a name on a stick may look like: our own layout never needs more, so anything else is refused.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$")
MAX_ENTRIES = 20_000
MAX_DEPTH = 4

StickPath = tuple[str, ...]


class StickError(Exception):
    """The stick cannot be used as it is; `code` and `detail` go into the receipt and the status."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class StickGone(StickError):
    """The stick went away (pulled out) in the middle of the work."""

    def __init__(self, detail: str = "the stick was pulled out during the work") -> None:
        super().__init__("stick_pulled", detail)


class ReadOnlyStick(StickError):
    def __init__(self) -> None:
        super().__init__("read_only", "this stick is read-only here (write-protected, or ext4, which is"
                         " mounted read-only)")


@dataclass(frozen=True)
class StickEntry:
    name: str
    is_dir: bool
    size: int
    is_symlink: bool = False


def check_name(name: str) -> str:
    if name in (".", "..") or not _SAFE_NAME.match(name) or ".." in name:
        raise StickError("unsafe_path", f"the stick holds a name that is not allowed: {name!r}")
    return name


class StickFS(Protocol):
    """What the watcher, the edge's jobs and the hub's commands need from a stick."""

    writable: bool

    def scandir(self, path: StickPath) -> list[StickEntry]: ...
    def open_read(self, path: StickPath) -> BinaryIO: ...
    def write_bytes(self, path: StickPath, data: bytes) -> None: ...
    def open_write(self, path: StickPath) -> BinaryIO: ...
    def makedirs(self, path: StickPath) -> None: ...
    def remove(self, path: StickPath) -> None: ...
    def close(self) -> None: ...


class DirStick:
    """A folder as a stick. Symlinks are reported, never followed; files are opened with O_NOFOLLOW."""

    def __init__(self, root: Path, writable: bool = True) -> None:
        self.root = root
        self.writable = writable

    def _real(self, path: StickPath) -> Path:
        return self.root.joinpath(*(check_name(p) for p in path))

    def scandir(self, path: StickPath) -> list[StickEntry]:
        out = []
        try:
            with os.scandir(self._real(path)) as it:
                for e in it:
                    st = e.stat(follow_symlinks=False)
                    out.append(StickEntry(e.name, stat.S_ISDIR(st.st_mode), st.st_size, stat.S_ISLNK(st.st_mode)))
        except FileNotFoundError:
            return []
        return out

    def open_read(self, path: StickPath) -> BinaryIO:
        fd = os.open(self._real(path), os.O_RDONLY | os.O_NOFOLLOW)
        return os.fdopen(fd, "rb")

    def write_bytes(self, path: StickPath, data: bytes) -> None:
        with self.open_write(path) as f:
            f.write(data)

    def open_write(self, path: StickPath) -> BinaryIO:
        if not self.writable:
            raise ReadOnlyStick()
        target = self._real(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        return _AtomicWriter(target)  # type: ignore[return-value]

    def makedirs(self, path: StickPath) -> None:
        if not self.writable:
            raise ReadOnlyStick()
        self._real(path).mkdir(parents=True, exist_ok=True)

    def remove(self, path: StickPath) -> None:
        if not self.writable:
            raise ReadOnlyStick()
        self._real(path).unlink(missing_ok=True)

    def close(self) -> None:
        return None


class _AtomicWriter:
    """A file written beside its name and renamed over it when closed without error."""

    def __init__(self, target: Path) -> None:
        self._target = target
        self._tmp = target.with_name(f".{target.name}.tmp")
        self._f = self._tmp.open("wb")

    def write(self, data: bytes) -> int:
        return self._f.write(data)

    def __enter__(self) -> _AtomicWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is not None:
            self._f.close()
            self._tmp.unlink(missing_ok=True)
            return
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
        os.replace(self._tmp, self._target)


class FatStick:
    """A FAT12/16/32 filesystem (a block device or an image file) through pyfatfs, in user space.

    The edge and the hub's commands use it only inside the limited parser process (`stick_parser.py`), on a
    volume whose cluster chains were checked first (`fat_chains.py`).

    FAT compares names without case, while pyfatfs compares them exactly and shows 8.3 names in capitals, so
    every lookup here goes through the directory listing and matches case-insensitively.
    """

    def __init__(self, device: str, writable: bool = True, fd: int | None = None) -> None:
        from pyfatfs.PyFatFS import PyFatBytesIOFS, PyFatFS

        self.device = device
        self.writable = writable
        self._fd = fd  # the stick as an open descriptor (the parser process gets no path to open)
        try:
            if fd is None:
                self._fs = PyFatFS(device, read_only=not writable, lazy_load=True)
            else:
                own = os.fdopen(os.dup(fd), "r+b" if writable else "rb")  # pyfatfs closes it with the volume
                self._fs = PyFatBytesIOFS(own, lazy_load=True)
        except OSError as exc:
            raise _gone_or(exc, "unreadable", f"the stick's FAT filesystem cannot be opened: {exc}") from exc
        except Exception as exc:  # pyfatfs raises its own types for a damaged boot sector or FAT
            raise StickError("unreadable", f"the stick's FAT filesystem is damaged: {exc}") from exc

    @classmethod
    def from_descriptor(cls, fd: int, writable: bool) -> FatStick:
        return cls(f"/proc/self/fd/{fd}", writable, fd=fd)

    def _resolve(self, path: StickPath, create_dirs: bool = False, last_may_be_new: bool = False) -> str:
        here = "/"
        for i, part in enumerate(path):
            check_name(part)
            names = {n.casefold(): n for n in self._listdir(here)}
            found = names.get(part.casefold())
            last = i == len(path) - 1
            if found is None:
                if last and last_may_be_new:
                    found = part
                elif create_dirs:
                    self._fs.makedir(here + part)
                    found = part
                else:
                    raise FileNotFoundError(errno.ENOENT, "not on the stick", "/".join(path))
            here = here + found + ("" if last else "/")
        return here

    def _listdir(self, where: str) -> list[str]:
        try:
            return list(self._fs.listdir(where))
        except OSError as exc:
            raise _gone_or(exc, "unreadable", str(exc)) from exc

    def scandir(self, path: StickPath) -> list[StickEntry]:
        try:
            where = self._resolve(path)
        except FileNotFoundError:
            return []
        out = []
        for name in self._listdir(where):
            if not _SAFE_NAME.match(name) or ".." in name:
                # Reported as it is, never looked up: pyfatfs would normalise '../x' into another file's path.
                out.append(StickEntry(name, False, 0))
                continue
            info = self._fs.getinfo(where.rstrip("/") + "/" + name, namespaces=["details"])
            out.append(StickEntry(name, info.is_dir, 0 if info.is_dir else int(info.size)))
        return out

    def open_read(self, path: StickPath) -> BinaryIO:
        f: BinaryIO = self._fs.openbin(self._resolve(path), "rb")
        return f

    def write_bytes(self, path: StickPath, data: bytes) -> None:
        with self.open_write(path) as f:
            f.write(data)

    def open_write(self, path: StickPath) -> BinaryIO:
        if not self.writable:
            raise ReadOnlyStick()
        target = self._resolve(path, create_dirs=True, last_may_be_new=True)
        if self._fs.exists(target):
            # pyfatfs 1.1 corrupts its view of a file truncated in place ("FREE_CLUSTER mark found in FAT cluster
            # chain" on the next write), so an old receipt or batch is removed and written anew instead.
            self._fs.remove(target)
        f: BinaryIO = self._fs.openbin(target, "wb")
        return f

    def makedirs(self, path: StickPath) -> None:
        if not self.writable:
            raise ReadOnlyStick()
        self._resolve(path, create_dirs=True)

    def remove(self, path: StickPath) -> None:
        if not self.writable:
            raise ReadOnlyStick()
        try:
            self._fs.remove(self._resolve(path))
        except FileNotFoundError:
            return

    def close(self) -> None:
        self._fs.close()
        if self.writable:
            try:
                fd = os.dup(self._fd) if self._fd is not None else os.open(self.device, os.O_RDWR)
            except OSError:
                return
            try:
                _forget_free_count(fd)
                # pyfatfs writes through Python's buffered file; the blocks must reach the stick before it goes.
                os.fsync(fd)
            except OSError:
                pass
            finally:
                os.close(fd)


def _forget_free_count(fd: int) -> None:
    """Mark FAT32's FSInfo free-cluster count and hint as unknown, since pyfatfs does not keep them up to date.

    "Unknown" (0xFFFFFFFF) is what the FAT specification allows; readers then count, and fsck stays quiet.
    """
    boot = os.pread(fd, 512, 0)
    if len(boot) < 512 or boot[82:87] != b"FAT32":
        return
    bytes_per_sector = int.from_bytes(boot[11:13], "little")
    sector = int.from_bytes(boot[48:50], "little")
    if sector in (0, 0xFFFF):
        return
    at = sector * bytes_per_sector
    info = os.pread(fd, 512, at)
    if info[0:4] == b"RRaA" and info[484:488] == b"rrAa":
        os.pwrite(fd, b"\xff" * 8, at + 488)


def _gone_or(exc: OSError, code: str, detail: str) -> StickError:
    if exc.errno in (errno.ENXIO, errno.ENODEV, errno.EIO, errno.ENOMEDIUM):
        return StickGone()
    return StickError(code, detail)


class Inventory:
    """Every file and folder under VILLAGENET/, checked once: the jobs look things up here, case-insensitively."""

    def __init__(self, files: dict[StickPath, StickEntry], dirs: set[StickPath]) -> None:
        self.files = files
        self.dirs = dirs
        # One fold per name up front: a pack of thousands of blobs looks each one up.
        self._files_folded = {_fold(k): k for k in files}
        self._dirs_folded = {_fold(k): k for k in dirs}

    def find(self, *path: str) -> tuple[StickPath, StickEntry] | None:
        key = self._files_folded.get(_fold(path))
        return (key, self.files[key]) if key is not None else None

    def has_dir(self, *path: str) -> StickPath | None:
        return self._dirs_folded.get(_fold(path))

    def under(self, *path: str) -> dict[StickPath, StickEntry]:
        want = _fold(path)
        n = len(want)
        return {k: e for k, e in self.files.items() if _fold(k[:n]) == want}


def _fold(path: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p.casefold() for p in path)


def take_inventory(stick: StickFS) -> Inventory | None:
    """Walk VILLAGENET/ (bounded); None when the stick has none. A symlink or a bad name refuses the stick."""
    top = [e for e in stick.scandir(()) if e.name.casefold() == ROOT.casefold()]
    if not top:
        return None
    if top[0].is_symlink:
        raise StickError("symlink", f"{ROOT}/ is a symbolic link; a stick must hold plain files only")
    if not top[0].is_dir:
        return None
    files: dict[StickPath, StickEntry] = {}
    dirs: set[StickPath] = {(top[0].name,)}
    pending: list[StickPath] = [(top[0].name,)]
    while pending:
        here = pending.pop()
        for e in stick.scandir(here):
            if e.name in (".", ".."):
                continue
            path = (*here, e.name)
            shown = "/".join(here) + "/" + e.name
            if e.is_symlink:
                raise StickError("symlink", f"{shown} is a symbolic link; a stick must hold plain files only")
            if e.name in (".", "..") or not _SAFE_NAME.match(e.name) or ".." in e.name:
                raise StickError("unsafe_path", f"{shown!r} is not an allowed name on a stick (no '..' or '/')")
            if len(files) + len(dirs) >= MAX_ENTRIES:
                raise StickError("too_many_files", f"{ROOT}/ holds more than {MAX_ENTRIES} entries")
            if e.is_dir:
                if len(path) > MAX_DEPTH:
                    raise StickError("too_deep", f"{shown} is nested deeper than {MAX_DEPTH} folders")
                dirs.add(path)
                pending.append(path)
            else:
                files[path] = e
    return Inventory(files, dirs)


def read_capped(stick: StickFS, path: StickPath, size: int, cap: int, what: str) -> bytes:
    """Read a whole small file, refusing by its size before reading a byte when it is over `cap`."""
    if size > cap:
        raise StickError("too_large", f"{what} is {size} bytes; at most {cap} are allowed")
    with stick.open_read(path) as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise StickError("too_large", f"{what} is larger than {cap} bytes")
    return data
