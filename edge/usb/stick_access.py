"""How the USB watcher gets hold of a stick: from the privileged stick helper over its unix socket when the edge
runs unprivileged (the appliance; `VILLAGENET_STICK_HELPER` names the socket), or straight from /dev when the edge
itself runs as root (tests, a technician's laptop).

Either way the edge gets an open descriptor, never a path to open: a FAT stick's descriptor goes on to the limited
parser process (provisioning/stick_parser.py), an ext4 stick comes as the descriptor of its read-only top folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

from provisioning.stick import StickError

from . import devices
from .mount_ro import mounted_read_only

HELPER_ENV = "VILLAGENET_STICK_HELPER"
ASK_TIMEOUT_S = 60.0  # an ext4 mount of a slow stick included


class StickAccess(Protocol):
    def open_device(self, name: str) -> int:
        """/dev/<name> opened (read-write, or read-only when write-protected); PermissionError if not a stick."""
        ...

    def ext4_folder(self, name: str) -> AbstractAsyncContextManager[Path]:
        """The ext4 stick's top folder, mounted read-only, nosuid, nodev, noexec, for the time of the block."""
        ...


class DirectAccess:
    """The edge runs as root: it opens and mounts sticks itself, with the same checks the helper makes."""

    def __init__(self, loop_ok: bool) -> None:
        self.loop_ok = loop_ok

    def open_device(self, name: str) -> int:
        try:
            return devices.open_stick_device(name, self.loop_ok)
        except PermissionError as exc:
            if exc.errno is None:
                raise  # not a stick
            # The device node itself refused: an unprivileged edge started without its helper.
            raise StickError("no_helper", f"the box cannot open sticks ({exc.strerror}): it runs without root and"
                             f" without a stick helper ({HELPER_ENV}); restart the box, and call the city's support"
                             " if it happens again") from exc

    def ext4_folder(self, name: str) -> AbstractAsyncContextManager[Path]:
        return mounted_read_only(f"/dev/{name}")


class HelperAccess:
    """The edge runs unprivileged and asks the stick helper (edge/usb/stick_helper.py), which answers with a file
    descriptor over the socket (SCM_RIGHTS) or a refusal."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path

    def ask(self, op: str, name: str) -> int:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(ASK_TIMEOUT_S)
            try:
                conn.connect(self.socket_path)
                conn.sendall(json.dumps({"op": op, "device": name}).encode() + b"\n")
                message, fds, _, _ = socket.recv_fds(conn, 4096, 1)
            except OSError as exc:
                raise StickError("no_helper", f"the box's stick helper does not answer at {self.socket_path}"
                                 f" ({exc}); restart the box, and call the city's support if it happens again") from exc
        try:
            answer: dict[str, Any] = json.loads(message or b"{}")
        except ValueError:
            answer = {}
        if answer.get("ok") and len(fds) == 1:
            return fds[0]
        for fd in fds:
            os.close(fd)
        if answer.get("code") == "not_a_stick":
            raise PermissionError(str(answer.get("detail")))
        raise StickError(str(answer.get("code") or "unreadable"), str(answer.get("detail") or "the stick helper"
                                                                      " refused without a reason"))

    def open_device(self, name: str) -> int:
        return self.ask("open", name)

    @contextlib.asynccontextmanager
    async def ext4_folder(self, name: str) -> AsyncIterator[Path]:
        fd = await asyncio.to_thread(self.ask, "mount", name)
        try:
            yield Path(f"/proc/self/fd/{fd}")  # the detached mount, reachable only through this descriptor
        finally:
            os.close(fd)


def stick_access(loop_ok: bool) -> StickAccess:
    helper = os.environ.get(HELPER_ENV, "")
    return HelperAccess(helper) if helper else DirectAccess(loop_ok)
