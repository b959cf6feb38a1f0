"""The stick helper: the box's one privileged piece, so that `village-edge serve` itself runs unprivileged.

It listens on a unix socket that only the edge's user may use (systemd socket activation, or `--socket PATH`),
and does two things, each for a device that sysfs shows is a USB stick or partition (the udev rule's test; loop
devices only with VILLAGENET_USB_ACCEPT_LOOP=1 in the helper's own environment): open it and hand the edge the open
descriptor, or mount an ext4 stick read-only, nosuid, nodev, noexec, detach the mount and hand the edge the top
folder's descriptor. It parses nothing on the stick: FAT is parsed by the edge's limited child process.

    python -m edge.usb.stick_helper [--socket PATH] [--client-user villagenet]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pwd
import re
import socket
import struct
from typing import Any

from provisioning.stick import StickError

from . import devices
from .mount_ro import mount_detached

log = logging.getLogger("villagenet.stick_helper")
_DEVICE_NAME = re.compile(r"^[a-z][a-z0-9]{0,31}$")
_SYSTEMD_FIRST_FD = 3
REQUEST_MAX = 512


def answer(request: Any, loop_ok: bool) -> tuple[dict[str, Any], int | None]:
    """What the helper says to one request, and the descriptor it hands over with it (None for a refusal)."""
    op = request.get("op") if isinstance(request, dict) else None
    name = request.get("device") if isinstance(request, dict) else None
    if op not in ("open", "mount") or not isinstance(name, str) or not _DEVICE_NAME.fullmatch(name):
        return {"ok": False, "code": "bad_request", "detail": "ask {op: open|mount, device: NAME}"}, None
    try:
        if op == "open":
            return {"ok": True}, devices.open_stick_device(name, loop_ok)
        fd = devices.open_stick_device(name, loop_ok)  # the same checks before anything is mounted
        os.close(fd)
        return {"ok": True}, mount_detached(f"/dev/{name}")
    except PermissionError as exc:
        return {"ok": False, "code": "not_a_stick", "detail": str(exc)}, None
    except StickError as exc:
        return {"ok": False, "code": exc.code, "detail": exc.detail}, None
    except OSError as exc:
        return {"ok": False, "code": "unreadable", "detail": f"/dev/{name} cannot be opened: {exc.strerror}"}, None


def _peer_uid(conn: socket.socket) -> int:
    raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", raw)[1])


def serve_one(conn: socket.socket, client_uid: int, loop_ok: bool) -> None:
    conn.settimeout(10.0)
    peer = _peer_uid(conn)
    if peer not in (client_uid, 0):
        # The socket's mode already keeps others out; this holds even if someone loosens it.
        reply: dict[str, Any] = {"ok": False, "code": "not_allowed", "detail": f"uid {peer} may not ask"}
        fd = None
    else:
        try:
            request = json.loads(conn.recv(REQUEST_MAX).split(b"\n", 1)[0] or b"null")
        except (ValueError, OSError):
            request = None
        reply, fd = answer(request, loop_ok)
    log.info("uid %s asked; answered %s", peer, reply.get("code", "ok"))
    try:
        socket.send_fds(conn, [json.dumps(reply).encode()], [fd] if fd is not None else [])
    finally:
        if fd is not None:
            os.close(fd)


def serve(listener: socket.socket, client_uid: int, loop_ok: bool) -> None:
    while True:
        conn, _ = listener.accept()
        with conn:
            try:
                serve_one(conn, client_uid, loop_ok)
            except OSError as exc:  # the edge went away mid-answer: the next one is served all the same
                log.warning("answer not delivered: %s", exc)


def listening_socket(path: str | None, client_uid: int) -> socket.socket:
    """systemd's socket when activated by it, else one at `path` that only `client_uid` (and root) may use."""
    if path is None:
        if os.environ.get("LISTEN_PID") != str(os.getpid()) or int(os.environ.get("LISTEN_FDS", "0")) < 1:
            raise SystemExit("no --socket and not started by systemd's village-stick-helper.socket")
        return socket.socket(fileno=_SYSTEMD_FIRST_FD)
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    os.chown(path, client_uid, -1)
    listener.listen(4)
    return listener


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m edge.usb.stick_helper", description=__doc__.split("\n\n")[0])
    p.add_argument("--socket", help="listen here (default: the socket systemd passes)")
    p.add_argument("--client-user", default="villagenet", help="the user the edge runs as (default villagenet)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    client_uid = pwd.getpwnam(args.client_user).pw_uid
    listener = listening_socket(args.socket, client_uid)
    log.info("stick helper serving the edge's user %s (loop devices %s)", args.client_user,
             "accepted" if devices.accept_loop() else "refused")
    serve(listener, client_uid, devices.accept_loop())


if __name__ == "__main__":
    main()
