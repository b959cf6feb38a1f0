"""Relayed live segments copied once into memory files (memfd), so the kernel's sendfile serves every viewer.

The relay keeps a segment as bytes; writing those bytes to each of a thousand viewers costs a copy per viewer in
Python's transport. A memory file is written once per segment and never touches the SD card. An entry is valid while
the relay still holds the very same bytes object, so a segment the relay dropped or fetched again is never served
stale; the oldest entries go first past the byte cap.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass

DEFAULT_MAX_BYTES = 64 * 1024**2  # several minutes of a 2 Mbit/s stream; viewers ask for the last few segments


@dataclass(slots=True)
class MemoryFile:
    source: bytes  # the relay's object: identity says the entry is still the relay's current segment
    fd: int


class MemoryFiles:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.available = hasattr(os, "memfd_create")
        self._files: OrderedDict[tuple[str, str], MemoryFile] = OrderedDict()
        self._bytes = 0

    def fd_for(self, stream_id: str, name: str, data: bytes) -> int | None:
        """A descriptor holding `data`, made on first use; None where memory files do not exist (not Linux)."""
        key = (stream_id, name)
        found = self._files.get(key)
        if found is not None and found.source is data:
            return found.fd
        if not self.available:
            return None
        if found is not None:
            self._drop(key)
        fd = os.memfd_create(f"{stream_id}-{name}", os.MFD_CLOEXEC)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        self._files[key] = MemoryFile(data, fd)
        self._bytes += len(data)
        while self._bytes > self.max_bytes and len(self._files) > 1:
            self._drop(next(iter(self._files)))
        return fd

    def _drop(self, key: tuple[str, str]) -> None:
        # Safe while a send is under way: a send that outlives one call works on its own dup() of the descriptor.
        entry = self._files.pop(key)
        self._bytes -= len(entry.source)
        os.close(entry.fd)

    def close(self) -> None:
        for key in list(self._files):
            self._drop(key)

    def __len__(self) -> int:
        return len(self._files)
