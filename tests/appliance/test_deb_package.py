"""`make deb`'s package, installed by dpkg into a fresh root the test makes, as an image builder would.

The root's base is what the package depends on, taken from this (Debian) machine's own packages: python3.11 and
systemd's units, registered in the root's dpkg database. The maintainer scripts run outside a chroot with
DPKG_ROOT set (dpkg --force-script-chrootless), which is why they must honour it.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from deploy.deb.build import CONFIG, PACKAGE, build_deb
from deploy.local_processes import free_port
from edge.config import SETTINGS, load_config
from tests.integration.system import wait_for

UNITS = ("village-edge.service", "village-stick-helper.service", "village-stick-helper.socket")
BASE_PACKAGES = ("python3.11", "systemd")


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("deb")
    return build_deb(work / "dist", work / "build")


def _fresh_root(root: Path) -> Path:
    dpkg = root / "var" / "lib" / "dpkg"
    for folder in ("info", "updates", "triggers"):
        (dpkg / folder).mkdir(parents=True)
    status = subprocess.run(["dpkg-query", "-s", *BASE_PACKAGES], check=True, capture_output=True, text=True)
    (dpkg / "status").write_text(status.stdout)
    (dpkg / "available").touch()
    (root / "usr" / "bin").mkdir(parents=True)
    shutil.copy2("/usr/bin/python3.11", root / "usr" / "bin" / "python3.11")
    shutil.copytree("/usr/lib/systemd/system", root / "usr" / "lib" / "systemd" / "system", symlinks=True)
    return root


def _dpkg_install(root: Path, deb: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["dpkg", f"--root={root}", "--force-script-chrootless", "-i", str(deb)],
                          capture_output=True, text=True, timeout=120)


def test_make_deb_names_the_package_by_version_and_architecture_and_lists_its_parts(deb: Path) -> None:
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    assert deb.name == f"{PACKAGE}_{importlib.metadata.version('villagenet')}_{arch}.deb"
    contents = subprocess.run(["dpkg-deb", "--contents", str(deb)], check=True, capture_output=True,
                              text=True).stdout
    for path in ("./opt/villagenet/.venv/bin/village-edge", "./usr/lib/sysusers.d/villagenet.conf",
                 "./usr/bin/village-edge -> /opt/villagenet/.venv/bin/village-edge",
                 "./usr/lib/udev/rules.d/90-villagenet-usb.rules", f"./{CONFIG}",
                 *(f"./usr/lib/systemd/system/{unit}" for unit in UNITS)):
        assert re.search(rf" {re.escape(path)}$", contents, re.M), f"{path} missing from the package"
    assert all(" root/root " in line for line in contents.splitlines()), "files owned by the builder's user"
    conffiles = subprocess.run(["dpkg-deb", "--info", str(deb), "conffiles"], check=True, capture_output=True,
                               text=True).stdout
    assert conffiles.strip() == f"/{CONFIG}"


def test_the_package_installs_into_a_fresh_root_twice_and_its_units_pass_systemd_analyze_verify(
        deb: Path, tmp_path: Path) -> None:
    root = _fresh_root(tmp_path / "root")
    first = _dpkg_install(root, deb)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "villagenet:x:" in (root / "etc" / "passwd").read_text()
    assert (root / "etc/systemd/system/multi-user.target.wants/village-edge.service").is_symlink()
    assert (root / "etc/systemd/system/sockets.target.wants/village-stick-helper.socket").is_symlink()
    again = _dpkg_install(root, deb)  # an upgrade to the same version: every maintainer script runs again
    assert again.returncode == 0, again.stdout + again.stderr
    assert (root / "etc" / "passwd").read_text().count("villagenet:x:") == 1

    verify = subprocess.run(["systemd-analyze", "verify", f"--root={root}",
                             *(str(root / "usr/lib/systemd/system" / unit) for unit in UNITS)],
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and not verify.stderr.strip(), verify.stderr

    # The installed virtualenv runs on the root's python3.11 with only its own packages (-I: nothing of ours leaks).
    venv = root / "opt" / "villagenet" / ".venv"
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-I", "-c",
         "import sys, importlib.metadata, edge.app, edge.cli, hub.app, edge.usb.stick_helper;"
         "print(sys.prefix); print(importlib.metadata.version('villagenet')); print(edge.app.__file__)"],
        capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    prefix, version, app_file = probe.stdout.split()
    assert (prefix, version) == (str(venv), importlib.metadata.version("villagenet"))
    assert app_file.startswith(str(venv / "lib" / "python3.11" / "site-packages"))
    # The technician's first command works from the package, on a box not provisioned yet.
    doctor = subprocess.run([str(venv / "bin" / "python"), "-I", str(venv / "bin" / "village-edge"), "doctor",
                             "--data", str(tmp_path / "box"), "--lang", "en"], capture_output=True, text=True,
                            timeout=60)
    assert doctor.returncode == 1 and "[attention] line: not provisioned yet" in doctor.stdout, doctor.stdout

    # And the box serves from it: its API and the TV app's page (templates and scripts are package data).
    port = free_port()
    box = subprocess.Popen([str(venv / "bin" / "python"), "-I", str(venv / "bin" / "village-edge"), "run",
                            "--data", str(tmp_path / "box"), "--listen", f"127.0.0.1:{port}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        info = wait_for("the packaged box", lambda: _get(f"http://127.0.0.1:{port}/api/v1/info"), timeout_s=30)
        assert json.loads(info)["version"] == version
        page = _get(f"http://127.0.0.1:{port}/tv/")
        assert page is not None and b"<html" in page.lower()
    finally:
        box.terminate()
        box.wait(timeout=20)


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return bytes(resp.read())
    except OSError:
        return None


def test_the_default_config_is_every_setting_at_its_default_but_https_staff_and_each_line_can_be_uncommented(
        deb: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path / "x")], check=True)
    text = (tmp_path / "x" / CONFIG).read_text()
    config = tmp_path / "edge.toml"
    config.write_text(text)
    appliance = dataclasses.replace(load_config(tmp_path), staff_tls_listen="0.0.0.0:8443")
    assert load_config(tmp_path, config) == appliance, "the packaged box serves its staff page over HTTPS"
    uncommented = re.sub(r"^# (\w+ = (?!\"\"  # not set).*)$", r"\1", text, flags=re.M)
    config.write_text(uncommented)
    assert load_config(tmp_path, config) == appliance, "a default written wrong"
    named = set(re.findall(r"^(\w+) = ", uncommented, re.M)) | set(re.findall(r"^# (\w+) = \"\"", text, re.M))
    assert named == {s.name for s in SETTINGS.settings}
