"""Security review, Medium: the whole edge ran as root with raw access to every disk.

Now `village-edge serve` runs as an unprivileged user and a small privileged helper (edge/usb/stick_helper.py)
opens sticks for it: only devices that sysfs shows are USB sticks or partitions, handed back as open descriptors
(FAT) or as the descriptor of a detached read-only mount (ext4). Here the edge runs as `nobody` and the helper as
root on a socket only `nobody` may use, as the systemd units in deploy/systemd set them up on the box.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from deploy.local_processes import Service, edge_service, free_port
from edge.usb.stick_access import HelperAccess
from provisioning.stick import DirStick, StickError, take_inventory
from provisioning.stick_probe import probe_descriptor
from tests.integration.system import FAST_EDGE, http, wait_for

from .conftest import Field, needs_loop
from .sticks import attached, make_ext4_image, make_fat_image

NOBODY = 65534
UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="starts the helper as root and the edge as nobody")


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder `nobody` can reach (pytest's own tmp folders are root's alone)."""
    base = Path(tempfile.mkdtemp(prefix="villagenet-unpriv-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def running_helper(folder: Path) -> Iterator[str]:
    """The stick helper as root, serving `nobody`, with the environment the test set (loop devices or not)."""
    path = str(folder / "stick.sock")
    log = (folder / "helper.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "edge.usb.stick_helper", "--socket", path, "--client-user",
                             "nobody"], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        wait_for("the helper's socket", lambda: os.path.exists(path) and os.stat(path).st_uid == NOBODY, timeout_s=20)
        yield path
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def as_nobody(*argv: str) -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--", *argv]


def python_for_nobody(monkeypatch: pytest.MonkeyPatch) -> str:
    """An interpreter `nobody` can start again from inside (the edge starts its stick parser with its own).

    The box's virtualenv lives in /opt; a developer's may be built on a Python under /root, which nobody may not
    enter: then the system's Python of the same version runs this checkout with the virtualenv's packages."""
    probe = "import subprocess, sys; subprocess.run([sys.executable, '-c', '0'], check=True)"
    if subprocess.run(as_nobody(sys.executable, "-c", probe), capture_output=True).returncode == 0:
        return sys.executable
    system = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    if not os.path.exists(system):
        pytest.skip(f"{sys.executable} cannot be started by nobody and there is no {system}")
    checkout = Path(__file__).resolve().parents[2]
    if subprocess.run(as_nobody("test", "-r", str(checkout / "edge" / "cli.py"))).returncode != 0:
        pytest.fail(f"nobody cannot read this checkout ({checkout}): a folder above it is private (mktemp -d makes"
                    " 0700 ones); clone it where other users may enter")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(checkout), *[p for p in sys.path if "site-packages" in p]]))
    return system


def ask(path: str, op: str, device: str) -> tuple[dict[str, object], list[int]]:
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(path)
        conn.sendall(json.dumps({"op": op, "device": device}).encode() + b"\n")
        message, fds, _, _ = socket.recv_fds(conn, 4096, 1)
    return json.loads(message), fds


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("needs systemd-analyze (Debian package systemd)")
    for unit in UNITS.iterdir():  # as installed, but pointing at this checkout's virtualenv
        text = unit.read_text().replace("/opt/villagenet/.venv", str(Path(sys.executable).parent.parent))
        (tmp_path / unit.name).write_text(text)
    names = sorted(str(p) for p in tmp_path.iterdir())
    done = subprocess.run(["systemd-analyze", "verify", *names], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr.strip() == "" and done.stdout.strip() == "", done.stderr
    edge = (UNITS / "village-edge.service").read_text()
    for line in ("User=villagenet", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateDevices=yes",
                 "ReadWritePaths=/var/lib/villagenet/edge", "PrivateTmp=yes", "CapabilityBoundingSet=\n"):
        assert line in edge + "\n"
    assert "DeviceAllow" not in edge, "the edge itself has no disk at all"


@needs_root
@needs_loop
def test_the_stick_helper_refuses_every_device_that_is_not_a_usb_stick_or_partition(
        open_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("VILLAGENET_USB_ACCEPT_LOOP", raising=False)  # as on the box: loop devices are no sticks
    with running_helper(open_dir) as path:
        refuses_what_is_not_a_stick(path, tmp_path)


def refuses_what_is_not_a_stick(path: str, tmp_path: Path) -> None:
    disks = [d for d in os.listdir("/sys/class/block") if not d.startswith("loop")]
    image = make_fat_image(tmp_path / "stick.img", {"VILLAGENET/provision.vnb": b"b"})
    with attached(image) as device:
        loop = Path(device).name
        for name in [*disks, loop, "sdz", "null"]:
            for op in ("open", "mount"):
                reply, fds = ask(path, op, name)
                assert fds == [] and reply["ok"] is False and reply["code"] == "not_a_stick", (name, reply)
        for bad in ("../vda", "/dev/vda", "vda\n", "", "a" * 40):
            reply, fds = ask(path, "open", bad)
            assert fds == [] and reply["code"] == "bad_request", (bad, reply)
        reply, fds = ask(path, "format", loop)
        assert fds == [] and reply["code"] == "bad_request"

    with pytest.raises(PermissionError, match="not a USB stick"):  # what the edge's side makes of it
        HelperAccess(path).open_device(disks[0])
    with pytest.raises(StickError) as gone:
        HelperAccess(str(tmp_path / "no.sock")).open_device("sdb1")
    assert gone.value.code == "no_helper"


@needs_root
@needs_loop
def test_the_stick_helper_hands_over_a_stick_as_a_descriptor_and_an_ext4_stick_as_a_detached_read_only_mount(
        open_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VILLAGENET_USB_ACCEPT_LOOP", "1")  # this helper takes the test's loop devices
    monkeypatch.setenv("VILLAGENET_USB_LOOP_DIR", str(tmp_path.resolve()))
    fat = make_fat_image(tmp_path / "fat.img", {"VILLAGENET/provision.vnb": b"bundle"})
    tree = tmp_path / "tree"
    (tree / "VILLAGENET").mkdir(parents=True)
    (tree / "VILLAGENET" / "provision.vnb").write_bytes(b"bundle")
    ext4 = make_ext4_image(tmp_path / "e.img", tree)
    with running_helper(open_dir) as path:
        access = HelperAccess(path)
        with attached(fat) as device:
            fd = access.open_device(Path(device).name)
            try:
                assert probe_descriptor(fd) == "vfat"
            finally:
                os.close(fd)
        with attached(ext4) as device:
            fd = access.ask("mount", Path(device).name)
            try:
                flags = os.fstatvfs(fd).f_flag
                for flag in (os.ST_RDONLY, os.ST_NOSUID, os.ST_NODEV, os.ST_NOEXEC):
                    assert flags & flag
                assert device not in Path("/proc/mounts").read_text(), "mounted for no one but the descriptor"
                inventory = take_inventory(DirStick(Path(f"/proc/self/fd/{fd}"), writable=False))
                assert inventory is not None and inventory.find("VILLAGENET", "provision.vnb") is not None
            finally:
                os.close(fd)


@needs_root
@needs_loop
def test_an_edge_running_as_nobody_serves_and_provisions_itself_from_a_stick_through_the_helper(
        field: Field, open_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # The field fixture set VILLAGENET_USB_ACCEPT_LOOP and the loop folder: the helper started now inherits them.
    with running_helper(open_dir) as path:
        edge_as_nobody_through(path, field, open_dir, tmp_path, monkeypatch)


@contextmanager
def edge_as_nobody(folder: Path, helper_socket: str | None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    """An unprovisioned edge started as `nobody` in a data folder of its own, asking `helper_socket` for sticks."""
    data = folder / "edge"
    data.mkdir()
    (data / "config.toml").write_text(FAST_EDGE)
    os.chown(data, NOBODY, NOBODY)
    os.chown(data / "config.toml", NOBODY, NOBODY)
    if helper_socket is None:
        monkeypatch.delenv("VILLAGENET_STICK_HELPER", raising=False)
    else:
        monkeypatch.setenv("VILLAGENET_STICK_HELPER", helper_socket)
    edge = edge_service(data, free_port())
    edge.argv = as_nobody(python_for_nobody(monkeypatch), "-c", "import sys; from edge.cli import main; sys.exit(main())",
                          *edge.argv[1:])
    try:
        edge.start()
        assert edge.proc is not None
        uid_line = next(x for x in Path(f"/proc/{edge.proc.pid}/status").read_text().splitlines()
                        if x.startswith("Uid:"))
        assert uid_line.split()[1:] == [str(NOBODY)] * 4, uid_line
        yield edge
    finally:
        edge.stop()


def usb_last(edge: Service) -> dict[str, Any] | None:
    last: dict[str, Any] | None = http("GET", edge.url + "/api/v1/status?format=json")[1]["usb"]["last"]
    return last


def edge_as_nobody_through(path: str, field: Field, open_dir: Path, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    image = make_fat_image(tmp_path / "stick.img", {"VILLAGENET/provision.vnb": field.bundle("v1")})
    with edge_as_nobody(open_dir, path, monkeypatch) as edge:
        assert edge.proc is not None
        assert http("GET", edge.url + "/api/v1/info")[1]["provisioned"] is False
        with attached(image) as device:
            denied = subprocess.run(as_nobody(sys.executable, "-c", f"open({device!r}, 'rb')"), capture_output=True)
            assert denied.returncode != 0 and b"PermissionError" in denied.stderr, "nobody cannot read the disk"
            last = wait_for("the stick serviced", lambda: usb_last(edge), timeout_s=60)
        assert last["outcome"] == "applied", last["reason"]
        info = http("GET", edge.url + "/api/v1/info")[1]
        assert info["provisioned"] is True and info["village_id"] == "v1"
        helper_log = (open_dir / "helper.log").read_text()
        assert f"uid {NOBODY} asked; answered ok" in helper_log
        data = open_dir / "edge"
        assert all(p.stat().st_uid == NOBODY for p in data.iterdir() if p.name != "edge.log")
        time.sleep(0.2)
        assert edge.proc.poll() is None


@needs_root
@needs_loop
def test_an_unprivileged_edge_without_its_helper_refuses_the_stick_with_a_reason_and_keeps_serving(
        field: Field, open_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    image = make_fat_image(tmp_path / "stick.img", {"VILLAGENET/provision.vnb": field.bundle("v1")})
    with edge_as_nobody(open_dir, None, monkeypatch) as edge, attached(image):
        last = wait_for("the stick refused", lambda: usb_last(edge), timeout_s=60)
        assert (last["outcome"], last["code"]) == ("refused", "no_helper"), last
        assert "stick helper" in last["reason"] and "服务" in last["reason_zh"]
        assert http("GET", edge.url + "/api/v1/info")[1]["provisioned"] is False
