"""The two installation slots (DATA/slots/a, DATA/slots/b), RAUC's A/B: a wheel of the project unpacked into one.

A slot is the wheel's files as pip would install them with `--target`; the supervisor runs it with the box's own
interpreter and dependencies and the slot first on PYTHONPATH. Installing writes `<slot>.new` and renames it into
place, so a slot is whole or absent; the running slot is never touched.
"""

from __future__ import annotations

import ctypes
import email.parser
import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from .state import BASE_SLOT

SLOTS = ("a", "b")
MAX_FILES = 20_000
MAX_UNPACKED = 512 * 1024**2
PROJECT = "villagenet"
_LIBC = ctypes.CDLL(None, use_errno=True)


class BadArtifact(Exception):
    """The artifact is not a wheel of this project that can be installed."""


def slot_dir(data_dir: Path, slot: str) -> Path:
    assert slot in SLOTS, slot
    return data_dir / "slots" / slot


def inactive_slot(active: str) -> str:
    return "b" if active == "a" else "a"


def child_env(data_dir: Path, slot: str, base: dict[str, str]) -> dict[str, str]:
    """The environment that makes `python -m edge.cli` run the code of `slot`."""
    env = dict(base)
    if slot != BASE_SLOT:
        env["PYTHONPATH"] = os.pathsep.join([str(slot_dir(data_dir, slot))]
                                            + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def install_wheel(wheel: Path, target: Path) -> str:
    """Unpack `wheel` into `target` (replacing what was there); returns the installed version."""
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        version = _unpack(wheel, staging)
        _sync_tree(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return version


def installed_version(target: Path) -> str | None:
    for info in target.glob(f"{PROJECT}-*.dist-info/METADATA"):
        return _metadata_version(info.read_bytes())
    return None


def _unpack(wheel: Path, staging: Path) -> str:
    try:
        archive = zipfile.ZipFile(wheel)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadArtifact(f"the artifact is not a wheel: {exc}") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_FILES or sum(m.file_size for m in members) > MAX_UNPACKED:
            raise BadArtifact("the wheel unpacks to too many files or bytes")
        version = None
        for m in members:
            name = PurePosixPath(m.filename)
            if name.is_absolute() or ".." in name.parts or not name.parts or "\\" in m.filename:
                raise BadArtifact(f"the wheel holds a path outside its folder: {m.filename!r}")
            if stat.S_ISLNK(m.external_attr >> 16):
                raise BadArtifact(f"the wheel holds a symbolic link: {m.filename!r}")
            if len(name.parts) == 2 and name.parts[0].endswith(".dist-info") and name.name == "METADATA":
                if not name.parts[0].startswith(f"{PROJECT}-"):
                    raise BadArtifact(f"the wheel is {name.parts[0]}, not {PROJECT}")
                version = _metadata_version(archive.read(m))
        if version is None:
            raise BadArtifact(f"the wheel has no {PROJECT} metadata")
        if not any(PurePosixPath(m.filename).parts[0] == "edge" for m in members):
            raise BadArtifact("the wheel holds no edge package")
        for m in members:
            if m.is_dir():
                continue
            dest = staging / m.filename
            dest.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(m) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
            if (m.external_attr >> 16) & 0o111:
                dest.chmod(0o755)  # hooks and scripts keep their execute bit, as pip does
    return version


def _metadata_version(raw: bytes) -> str:
    msg = email.parser.BytesParser().parsebytes(raw, headersonly=True)
    version = msg.get("Version")
    if not version:
        raise BadArtifact("the wheel's metadata has no version")
    return str(version).strip()


def _sync_tree(root: Path) -> None:
    """Every unpacked file on disk before the rename makes the slot count as installed.

    One syncfs(2) of the slot's file system instead of an fsync per file: a wheel is hundreds of files.
    """
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _LIBC.syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)
