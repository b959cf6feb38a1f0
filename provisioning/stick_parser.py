"""A FAT stick read and written by a child process with a memory cap and a wall-clock limit on every call.

pyfatfs is pure Python parsing a stranger's bytes; a damaged or hostile stick (a folder whose cluster chain points
back to itself) made it allocate without end inside the edge. So the FAT is parsed here, in a process of its own:
it gets the stick as an already open file descriptor, caps its address space (RLIMIT_AS), drops root when it has
it, refuses looping cluster chains before pyfatfs sees the volume (`fat_chains.py`), and answers one request at a
time over a pipe. The caller waits at most a set time for each answer; past it, or when the child runs out of
memory and dies, the child is killed and the stick is refused with a sentence saying why. The box keeps serving.
"""

from __future__ import annotations

import errno
import fcntl
import importlib
import io
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO, cast

import msgpack

from .stick import StickEntry, StickError, StickGone, StickPath

# pyfatfs keeps the whole FAT as a Python list: 159 MB at the peak for 2.2 million clusters (a 64 GB stick formatted
# with 32 KiB clusters has 2 million). At the measured ~55 bytes a cluster, 8 million (32 GB in 4 KiB clusters) come
# near the cap (estimated, not measured); past it the stick is refused with a sentence, never the box harmed.
MEMORY_LIMIT_MB = 512
OPEN_TIMEOUT_S = 120.0  # loop check and pyfatfs's own parse of the FAT, slowest on a big stick and a slow box
CALL_TIMEOUT_S = 30.0  # one directory listing or one chunk of a file
ORPHAN_CPU_S = 3600
CHUNK = 1024 * 1024
_MAX_FRAME = CHUNK + 64 * 1024
# How the child ends when it hits its memory cap: abort() needs no memory (a clean exit would unwind and finalise
# with the runaway data still referenced), and the cores it would leave are switched off (RLIMIT_CORE 0).
_OUT_OF_MEMORY = -signal.SIGABRT
_NOBODY = 65534
# What the child imports before dropping root; pyfatfs's short names are "ibm437" and its long names UTF-16, codecs
# that Python looks up on first use.
_PRELOADED = ("array", "resource", "warnings", "encodings.cp437", "encodings.utf_16_le", "pyfatfs.PyFatFS",
              "provisioning.fat_chains")


class ParserLimit(StickError):
    """The stick needed more memory or time than any sound stick does; it is refused and the parser killed."""

    def __init__(self, detail: str) -> None:
        super().__init__("parser_limit", detail)


def _frame(value: Any) -> bytes:
    body = msgpack.packb(value, use_bin_type=True)
    return struct.pack(">I", len(body)) + body


class IsolatedFatStick:
    """The StickFS of a FAT stick whose parsing happens in a limited child process (see the module docstring).

    `fd` is the open stick (a block device or an image file); the child gets its own copy, the caller may close
    theirs at once. Calls are serialised: the watcher's threads and the hub's commands use one stick at a time.
    """

    def __init__(self, fd: int, writable: bool, memory_mb: int = MEMORY_LIMIT_MB,
                 open_timeout_s: float = OPEN_TIMEOUT_S, call_timeout_s: float = CALL_TIMEOUT_S) -> None:
        access = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
        self.writable = writable and access == os.O_RDWR
        self.memory_mb = memory_mb
        self.call_timeout_s = call_timeout_s
        self._lock = threading.Lock()
        self._buffer = b""
        self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-m", "provisioning.stick_parser", str(fd), "rw" if self.writable else "ro",
             str(memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=(fd,), close_fds=True)
        try:
            self._call("hello", timeout_s=open_timeout_s)
        except BaseException:
            self._stop(kill=True)  # a refused stick: nothing on it is written
            raise

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # --- the StickFS protocol -------------------------------------------------------------------------------------

    def scandir(self, path: StickPath) -> list[StickEntry]:
        return [StickEntry(str(n), bool(d), int(s)) for n, d, s in self._call("scandir", list(path))]

    def open_read(self, path: StickPath) -> BinaryIO:
        handle = int(self._call("open_read", list(path)))
        return cast(BinaryIO, io.BufferedReader(_RemoteFile(self, handle, "r"), CHUNK))

    def write_bytes(self, path: StickPath, data: bytes) -> None:
        with self.open_write(path) as f:
            f.write(data)

    def open_write(self, path: StickPath) -> BinaryIO:
        handle = int(self._call("open_write", list(path)))
        return cast(BinaryIO, io.BufferedWriter(_RemoteFile(self, handle, "w"), CHUNK))

    def makedirs(self, path: StickPath) -> None:
        self._call("makedirs", list(path))

    def remove(self, path: StickPath) -> None:
        self._call("remove", list(path))

    def close(self) -> None:
        """Flush the stick and end the child; a child already gone (killed, or the stick pulled) is fine."""
        if self._proc is None:
            return
        try:
            self._call("close")
        finally:
            self._stop()

    # --- the pipe -------------------------------------------------------------------------------------------------

    def call(self, op: str, *args: Any) -> Any:
        """One request to the child (for the remote file objects)."""
        return self._call(op, *args)

    def _call(self, op: str, *args: Any, timeout_s: float | None = None) -> Any:
        with self._lock:
            proc = self._proc
            if proc is None or proc.stdin is None:
                raise StickError("unreadable", "the stick reader has already stopped; take the stick out")
            try:
                proc.stdin.write(_frame([op, *args]))
                proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                raise self._died() from None
            reply = self._read_reply(time.monotonic() + (timeout_s or self.call_timeout_s),
                                     timeout_s or self.call_timeout_s)
        kind = reply[0]
        if kind == "ok":
            return reply[1]
        if kind == "gone":
            raise StickGone()
        if kind == "missing":
            raise FileNotFoundError(errno.ENOENT, str(reply[1]))
        if kind == "oserror":
            raise OSError(int(reply[1]), str(reply[2]))
        raise StickError(str(reply[1]), str(reply[2]))

    def _read_reply(self, deadline: float, limit_s: float) -> list[Any]:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        while True:
            if len(self._buffer) >= 4:
                size = struct.unpack(">I", self._buffer[:4])[0]
                if size > _MAX_FRAME:
                    self._stop(kill=True)
                    raise StickError("unreadable", "the stick reader sent an answer larger than allowed")
                if len(self._buffer) >= 4 + size:
                    body, self._buffer = self._buffer[4 : 4 + size], self._buffer[4 + size :]
                    value = msgpack.unpackb(body, raw=False)
                    return cast(list[Any], value)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self._stop(kill=True)
                raise ParserLimit(f"reading the stick took longer than {limit_s:g} s, so the box stopped reading"
                                  " it; check the stick on a computer (chkdsk or fsck.fat), or format it as FAT32"
                                  " and copy the files again")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise self._died()
            self._buffer += chunk

    def _died(self) -> StickError:
        proc = self._proc
        code = proc.wait(timeout=10) if proc is not None else None
        self._stop()
        if code == _OUT_OF_MEMORY:
            return ParserLimit(f"reading the stick's FAT filesystem needed more than {self.memory_mb} MiB of"
                               " memory, so the box stopped reading it; check the stick on a computer (chkdsk or"
                               " fsck.fat), or format it as FAT32 and copy the files again")
        return StickError("unreadable", f"the stick reader stopped unexpectedly (exit status {code}); take the"
                          " stick out and check it on a computer")

    def _stop(self, kill: bool = False) -> None:
        proc, self._proc = self._proc, None
        self._buffer = b""
        if proc is None:
            return
        if kill:
            proc.kill()  # past its time: it gets none more, whatever it is doing
        for pipe in (proc.stdin, proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=self.call_timeout_s)
        except subprocess.TimeoutExpired:
            pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class _RemoteFile(io.RawIOBase):
    """A file on the stick, as the child holds it: reads and writes cross the pipe a chunk at a time."""

    def __init__(self, stick: IsolatedFatStick, handle: int, mode: str) -> None:
        super().__init__()
        self._stick = stick
        self._handle = handle
        self._mode = mode

    def readable(self) -> bool:
        return self._mode == "r"

    def writable(self) -> bool:
        return self._mode == "w"

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stick.call("read", self._handle, min(len(view), CHUNK))
        view[: len(data)] = data
        return len(data)

    def write(self, data: Any) -> int:
        piece = bytes(memoryview(data)[:CHUNK])
        self._stick.call("write", self._handle, piece)
        return len(piece)

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self._stick.call("seek", self._handle, offset, whence))

    def close(self) -> None:
        if not self.closed:
            try:
                self._stick.call("close_file", self._handle)
            finally:
                super().close()


# --- the child ------------------------------------------------------------------------------------------------------

def _limit_self(memory_mb: int) -> None:
    import resource

    cap = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # The parent's wall clock governs each call; this only ends a child orphaned by a parent killed mid-call
    # (an hour of CPU reads tens of gigabytes through pyfatfs).
    resource.setrlimit(resource.RLIMIT_CPU, (ORPHAN_CPU_S, ORPHAN_CPU_S + 10))
    if os.getuid() == 0:
        # It needs nothing but the descriptor it was given; a parser bug must not run as root.
        os.setgroups([])
        os.setgid(_NOBODY)
        os.setuid(_NOBODY)


class _Child:
    """What the child process does with each request, against one FatStick built on the inherited descriptor."""

    def __init__(self, fd: int, writable: bool) -> None:
        from .fat_chains import check_cluster_chains
        from .stick import FatStick

        self.fd = fd
        self.writable = writable
        raw = os.fdopen(os.dup(fd), "r+b" if writable else "rb", buffering=0)
        try:
            check_cluster_chains(cast(BinaryIO, raw))
        finally:
            raw.close()
        self.stick = FatStick.from_descriptor(fd, writable)
        self.files: dict[int, BinaryIO] = {}
        self.next_handle = 1

    def _file(self, handle: int) -> BinaryIO:
        if handle not in self.files:
            raise StickError("unreadable", "no such open file on the stick")
        return self.files[handle]

    def _keep(self, f: BinaryIO) -> int:
        if len(self.files) >= 16:
            raise StickError("unreadable", "too many files open on the stick at once")
        handle, self.next_handle = self.next_handle, self.next_handle + 1
        self.files[handle] = f
        return handle

    def handle(self, op: str, args: list[Any]) -> Any:
        if op == "hello":
            return True
        if op == "scandir":
            return [[e.name, e.is_dir, e.size] for e in self.stick.scandir(tuple(args[0]))]
        if op == "open_read":
            return self._keep(self.stick.open_read(tuple(args[0])))
        if op == "open_write":
            return self._keep(self.stick.open_write(tuple(args[0])))
        if op == "read":
            return self._file(int(args[0])).read(min(int(args[1]), CHUNK))
        if op == "write":
            return self._file(int(args[0])).write(bytes(args[1]))
        if op == "seek":
            return self._file(int(args[0])).seek(int(args[1]), int(args[2]))
        if op == "close_file":
            self._file(int(args[0])).close()
            del self.files[int(args[0])]
            return True
        if op == "makedirs":
            self.stick.makedirs(tuple(args[0]))
            return True
        if op == "remove":
            self.stick.remove(tuple(args[0]))
            return True
        if op == "close":
            for f in self.files.values():
                f.close()
            self.stick.close()
            return True
        raise StickError("unreadable", f"unknown request {op!r}")


def _reply(op: str, run: Any) -> list[Any]:
    try:
        return ["ok", run()]
    except MemoryError:
        raise
    except StickGone:
        return ["gone"]
    except StickError as exc:
        return ["err", exc.code, exc.detail]
    except FileNotFoundError as exc:
        return ["missing", str(exc)]
    except OSError as exc:
        if exc.errno in (errno.ENXIO, errno.ENODEV, errno.EIO, errno.ENOMEDIUM):
            return ["gone"]
        return ["oserror", exc.errno or errno.EIO, str(exc)]
    except Exception as exc:  # pyfatfs raises its own types for damage it meets on the way
        if _ran_out_of_memory(exc):
            raise MemoryError from None
        return ["err", "unreadable", f"the stick's FAT filesystem is damaged ({op}: {exc})"]


def _ran_out_of_memory(exc: BaseException) -> bool:
    """A MemoryError deep in a C call can surface as another error (SystemError "returned NULL", or wrapped by a
    library); the cap was hit all the same."""
    seen: BaseException | None = exc
    for _ in range(16):
        if seen is None:
            return False
        if isinstance(seen, MemoryError) or (isinstance(seen, SystemError) and "NULL" in str(seen)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextmanager
def _memory_guard() -> Iterator[None]:
    try:
        yield
    except MemoryError:
        os.abort()  # nothing may be allocated now; the parent reads the status


def _serve(fd: int, writable: bool) -> None:
    import warnings

    warnings.simplefilter("ignore")  # pyfatfs warns of an unclean unmount on stderr; the result says enough
    read, write = sys.stdin.buffer, sys.stdout.buffer
    child: _Child | None = None
    error: list[Any] | None = None
    while True:
        head = read.read(4)
        if len(head) < 4:
            return
        size = struct.unpack(">I", head)[0]
        if size > _MAX_FRAME:
            return
        op, *args = msgpack.unpackb(read.read(size), raw=False)
        if child is None and error is None:
            def start() -> bool:
                nonlocal child
                child = _Child(fd, writable)
                return True
            first = _reply("open", start)
            error = None if first[0] == "ok" else first
        if error is not None:
            answer = error
        else:
            assert child is not None
            answer = _reply(op, lambda: child.handle(op, args))  # noqa: B023 (called at once)
        try:
            write.write(_frame(answer))
            write.flush()
        except BrokenPipeError:
            return  # the parent gave up on this stick (its time ran out) and is not listening
        if op == "close":
            return


def main() -> None:
    fd, mode, memory_mb = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    # Everything is imported while the files are still readable: root's own Python may not be, to `nobody`.
    for module in _PRELOADED:
        importlib.import_module(module)
    with _memory_guard():
        _limit_self(memory_mb)
        _serve(fd, mode == "rw")


if __name__ == "__main__":
    main()
