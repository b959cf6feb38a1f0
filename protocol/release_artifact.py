"""An edge release's artifact: a wheel of this project built byte for byte the same from the same files.

Members sorted, one fixed time stamp, modes 0644/0755 only, and stored (not deflated): compression would spread a
one-line change over the rest of its member and scramble the bytes content-defined chunking needs to find again
(protocol/content_chunks.py). The project's metadata comes last, so a version bump changes only the archive's
tail. A box rebuilds the artifact of the code it runs with the same function and so already holds nearly every
chunk of the next release (edge/updates/delta_fetch.py). `python -m protocol.release_artifact` builds one.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import os
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

PROJECT = "villagenet"
PACKAGES = ("edge", "hub", "protocol", "provisioning", "firmware_hooks")
_STAMP = (2020, 1, 1, 0, 0, 0)
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".tmp")


def source_root() -> Path:
    """The folder holding the running code's packages: a checkout, a slot, or the .deb venv's site-packages."""
    return Path(__file__).resolve().parents[1]


def package_files(root: Path) -> dict[str, Path]:
    """The project's files under `root` by their name in the wheel (no caches, no hidden files)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*"):
            rel = path.relative_to(root)
            if any(p.startswith(".") or p == "__pycache__" for p in rel.parts) or path.suffix in _SKIPPED_SUFFIXES:
                continue
            if path.is_file() and not path.is_symlink():
                found[rel.as_posix()] = path
    return found


def build_artifact(root: Path, version: str, changed: Mapping[str, bytes] | None = None) -> bytes:
    """The wheel of the packages under `root` at `version`; `changed` replaces (or adds) some files' bytes."""
    files = package_files(root)
    contents = {name: path.read_bytes() for name, path in files.items()}
    contents.update(changed or {})
    executable = {name for name, path in files.items() if os.access(path, os.X_OK)}
    out = io.BytesIO()
    record: list[str] = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        def add(name: str, data: bytes, mode: int = 0o644) -> None:
            info = zipfile.ZipInfo(name, date_time=_STAMP)
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3  # unix, so the mode above is read back on every machine
            zf.writestr(info, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")

        for name in sorted(contents):
            add(name, contents[name], 0o755 if name in executable else 0o644)
        dist = f"{PROJECT}-{version}.dist-info"
        add(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {PROJECT}\nVersion: {version}\n".encode())
        add(f"{dist}/WHEEL", b"Wheel-Version: 1.0\nGenerator: protocol/release_artifact.py\n"
                             b"Root-Is-Purelib: true\nTag: py3-none-any\n")
        record.append(f"{dist}/RECORD,,")
        add(f"{dist}/RECORD", ("\n".join(record) + "\n").encode())
    return out.getvalue()


def artifact_name(version: str) -> str:
    return f"{PROJECT}-{version}-py3-none-any.whl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m protocol.release_artifact",
                                     description="build the edge release artifact of this checkout")
    parser.add_argument("--version", required=True)
    parser.add_argument("--out", type=Path, required=True, help="a folder; the wheel gets its standard name")
    parser.add_argument("--root", type=Path, default=source_root(), help="the folder holding the packages")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / artifact_name(args.version)
    path.write_bytes(build_artifact(args.root, args.version))
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
